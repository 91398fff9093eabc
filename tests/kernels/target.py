# SPDX-License-Identifier: BSD-2-Clause
"""The kernel test's target: thread "spinner" loops in spin() (holds the
GIL whenever it runs), thread "napper" sleeps 100 ms, then asks the
kernel for random bytes without the GIL and computes a little (contends
with the spinner), the main thread waits. With --child, a child process
(multiprocessing, fork) runs the same two threads, started on SIGUSR1
(once the profiler says it records); with --syscaller, a
third thread asks for random bytes without pause (its CPU time is mostly
the kernel's getrandom, on any machine load). Prints "ready" once all
run; runs until killed.
"""
import multiprocessing
import os
import signal
import sys
import threading
import time


def spin():
    n = 0
    while True:
        n += 1


def chunk():
    return sum(i * i for i in range(500))


def nap():
    # Mostly asleep, also under emulation (tens of times slower): idle
    # well above the checks' 50%.
    while True:
        time.sleep(0.1)
        os.urandom(1 << 14)  # getrandom(2), the GIL released
        chunk()


def syscalls():
    while True:
        os.urandom(1 << 20)


def threads(extra=()):
    for fn, name in ((spin, "spinner"), (nap, "napper")) + tuple(extra):
        threading.Thread(target=fn, name=name, daemon=True).start()


def child():
    threads()
    while True:
        time.sleep(1)


def main():
    threads([(syscalls, "syscaller")] if "--syscaller" in sys.argv else [])
    fork = threading.Event()
    signal.signal(signal.SIGUSR1, lambda *_: fork.set())
    print("ready", os.getpid(), flush=True)
    while True:
        if fork.wait(0.1) and "--child" in sys.argv:
            fork.clear()
            multiprocessing.get_context("fork").Process(target=child, daemon=True).start()


if __name__ == "__main__":
    main()
