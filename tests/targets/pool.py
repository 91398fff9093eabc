"""A multiprocessing pool (fork start method): every worker computes in Python.

argv[1] workers (default 3), argv[2] seconds (default: until killed). Prints
"ready PID..." with the workers' pids once each of them has started work,
and each worker spends its time in worker_task -> crunch.
"""
import multiprocessing
import os
import sys
import time


def crunch(n):
    total = 0
    for i in range(n):  # CRUNCH
        total += i * i % 11
    return total


def worker_task(stop_at):
    os.write(WRITE_FD, b"%d\n" % os.getpid())
    while time.monotonic() < stop_at:
        crunch(20000)
    return os.getpid()


def main():
    global WRITE_FD
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 3600.0
    read_fd, WRITE_FD = os.pipe()
    ctx = multiprocessing.get_context("fork")
    stop_at = time.monotonic() + seconds
    with ctx.Pool(n) as pool:
        result = pool.map_async(worker_task, [stop_at] * n, chunksize=1)
        pids = set()
        with os.fdopen(read_fd) as f:
            while len(pids) < n:
                pids.add(int(f.readline()))
            print("ready", *sorted(pids), flush=True)
            result.get()


if __name__ == "__main__":
    main()
