"""Fixed work next to many idle threads: IDLE threads blocked in sleep
while one thread runs ITERS Python loop iterations. Prints "elapsed
SECONDS cpu SECONDS" (the process's CPU time) when the busy thread is done.

    sleepers.py IDLE ITERS
"""
import sys
import threading
import time


def idle(stop):
    while not stop.wait(0.01):
        pass


def main():
    n, iters = int(sys.argv[1]), int(sys.argv[2])
    stop = threading.Event()
    ts = [threading.Thread(target=idle, args=(stop,), daemon=True) for _ in range(n)]
    for t in ts:
        t.start()
    start = time.perf_counter()
    x = 0
    for i in range(iters):
        x += i * i
    print("elapsed %.6f cpu %.6f" % (time.perf_counter() - start, time.process_time()),
          flush=True)
    stop.set()


if __name__ == "__main__":
    main()
