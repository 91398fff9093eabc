"""A worker thread that spends its CPU time 3:1 in two functions.

Both functions run the same loop body, one three times as many iterations.
Prints "ready" on stdout
once the worker runs; runs for argv[1] seconds (default: until killed), then
prints "worker-cpu SECONDS", the CPU time the worker used.
"""
import sys
import threading
import time


def spin_three_quarters(n):
    x = 0
    for i in range(3 * n):  # LOOP-THREE-QUARTERS
        x += i
    return x


def spin_one_quarter(n):
    x = 0
    for i in range(n):  # LOOP-ONE-QUARTER
        x += i
    return x


WORKER_CPU = []


def worker(stop_at):
    # Work is split by iteration count, not by time slices: slices of a
    # fixed length alias with the sampling period and skew the split.
    while time.monotonic() < stop_at:
        spin_three_quarters(7919)
        spin_one_quarter(7919)
    WORKER_CPU.append(time.thread_time())


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3600.0
    stop_at = time.monotonic() + seconds
    t = threading.Thread(target=worker, args=(stop_at,), name="splitter")
    t.start()
    print("ready", t.native_id, flush=True)
    t.join()
    print("worker-cpu", WORKER_CPU[0], flush=True)


if __name__ == "__main__":
    main()
