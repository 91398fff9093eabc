# SPDX-License-Identifier: BSD-2-Clause
"""The kernel test's target: thread "spinner" loops in spin() (holds the
GIL whenever it runs), thread "napper" sleeps 50 ms, then asks the kernel
for random bytes without the GIL and computes a little with it (contends
with the spinner), the main thread waits. With --child, a child process
(multiprocessing, fork) runs the same two threads; with --syscaller, a
third thread asks for random bytes without pause (its CPU time is mostly
the kernel's getrandom, on any machine load). Prints "ready" once all
run; runs until killed.
"""
import multiprocessing
import os
import sys
import threading
import time


def spin():
    n = 0
    while True:
        n += 1


def chunk():
    return sum(i * i for i in range(2000))


def nap():
    while True:
        time.sleep(0.05)
        os.urandom(1 << 16)  # getrandom(2), the GIL released: kernel frames
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
    if "--child" in sys.argv:
        multiprocessing.get_context("fork").Process(target=child, daemon=True).start()
    print("ready", os.getpid(), flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
