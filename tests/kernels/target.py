# SPDX-License-Identifier: BSD-2-Clause
"""The kernel test's target: thread "spinner" loops in spin() (holds the
GIL whenever it runs), thread "napper" sleeps 50 ms, then asks the kernel
for random bytes without the GIL and computes a little with it (contends
with the spinner), the main thread waits. With --child, a child process
(multiprocessing, fork) runs the same two threads. Prints "ready" once
all run; runs until killed.
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


def threads():
    for fn, name in ((spin, "spinner"), (nap, "napper")):
        threading.Thread(target=fn, name=name, daemon=True).start()


def child():
    threads()
    while True:
        time.sleep(1)


def main():
    threads()
    if "--child" in sys.argv:
        multiprocessing.get_context("fork").Process(target=child, daemon=True).start()
    print("ready", os.getpid(), flush=True)
    while True:
        time.sleep(1)


if __name__ == "__main__":
    main()
