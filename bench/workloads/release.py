"""Fixed work: THREADS threads each release and take back the GIL CALLS
times (os.write of one byte to /dev/null: the GIL is dropped around the
system call), the
worst case for tracing GIL transitions. Prints "elapsed SECONDS cpu
SECONDS" (the process's CPU time) when all are done.

    release.py THREADS CALLS
"""
import os
import sys
import threading
import time


def work(n):
    fd = os.open(os.devnull, os.O_WRONLY)
    for _ in range(n):
        os.write(fd, b"x")
    os.close(fd)


def main():
    threads, calls = int(sys.argv[1]), int(sys.argv[2])
    start = time.perf_counter()
    ts = [threading.Thread(target=work, args=(calls,)) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print("elapsed %.6f cpu %.6f" % (time.perf_counter() - start, time.process_time()),
          flush=True)


if __name__ == "__main__":
    main()
