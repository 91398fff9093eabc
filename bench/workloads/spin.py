"""Fixed work: THREADS pure-Python threads each run ITERS loop iterations,
contending for the GIL. Prints "elapsed SECONDS cpu SECONDS" (the process's
CPU time) when all are done.

    spin.py THREADS ITERS
"""
import sys
import threading
import time


def work(n):
    x = 0
    for i in range(n):
        x += i * i
    return x


def run_threads(target, threads, n):
    """THREADS threads each run target(n); print the times when all are done."""
    start = time.perf_counter()
    ts = [threading.Thread(target=target, args=(n,)) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print("elapsed %.6f cpu %.6f" % (time.perf_counter() - start, time.process_time()),
          flush=True)


def main():
    run_threads(work, int(sys.argv[1]), int(sys.argv[2]))


if __name__ == "__main__":
    main()
