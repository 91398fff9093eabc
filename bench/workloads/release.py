"""Fixed work: THREADS threads each release and take back the GIL CALLS
times (os.write of one byte to /dev/null: the GIL is dropped around the
system call), the worst case for tracing GIL transitions. Prints "elapsed
SECONDS cpu SECONDS" (the process's CPU time) when all are done.

    release.py THREADS CALLS
"""
import os
import sys

from spin import run_threads


def work(n):
    fd = os.open(os.devnull, os.O_WRONLY)
    for _ in range(n):
        os.write(fd, b"x")
    os.close(fd)


if __name__ == "__main__":
    run_threads(work, int(sys.argv[1]), int(sys.argv[2]))
