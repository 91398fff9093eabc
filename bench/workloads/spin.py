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


def main():
    threads, iters = int(sys.argv[1]), int(sys.argv[2])
    start = time.perf_counter()
    ts = [threading.Thread(target=work, args=(iters,)) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    print("elapsed %.6f cpu %.6f" % (time.perf_counter() - start, time.process_time()),
          flush=True)


if __name__ == "__main__":
    main()
