"""Workload 2: 4 threads contending for the GIL, pure Python.

    contend.py [THREADS] [ITERS] [--gate]

Each thread sums ITERS squares through a function call per value; every
sum is checked against the closed form.
"""
import threading

from gate import Run, args


def square(i):
    return i * i


def sum_squares(n, out, idx):
    acc = 0
    for i in range(n):
        acc += square(i)
    out[idx] = acc


def main():
    nthreads, iters = args([4, 10000000])
    run = Run()
    out = [None] * nthreads
    go = threading.Event()

    def worker(idx):
        go.wait()
        sum_squares(iters, out, idx)

    ts = [run.thread(worker, i, name="worker-%d" % i) for i in range(nthreads)]
    run.run_threads(ts, go)
    expect = (iters - 1) * iters * (2 * iters - 1) // 6
    run.finish(all(v == expect for v in out), "sums %r, expected %d" % (out, expect),
               threads=nthreads, iters=iters)


if __name__ == "__main__":
    main()
