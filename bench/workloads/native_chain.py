"""Extra workload (not in the default set): what --native costs on deep
mixed stacks. One thread recurses DEPTH times Python -> C -> Python through
the tests' gpnative extension (tests/targets/gpnative.c) and then sums
ITERS squares at the bottom; one compresses 2 MB with zlib COMPRESSIONS
times (native frames under the GIL released).

    GPNATIVE_DIR=DIR native_chain.py [DEPTH] [ITERS] [COMPRESSIONS] [--gate]

DIR holds gpnative built for this interpreter (the harness builds it with
tests/targets/gpnative_build.py). Checked: the sum, one decompression.
"""
import functools
import os
import random
import sys
import threading
import zlib

from gate import Run, args

sys.path.insert(0, os.environ["GPNATIVE_DIR"])
import gpnative  # noqa: E402


def py_bottom(iters):
    acc = 0
    for i in range(iters):
        acc += i * i
    return acc


def py_deep(n, iters):
    if n == 0:
        return py_bottom(iters)
    return gpnative.call_back(functools.partial(py_deep, n - 1, iters))


def py_zlib(data):
    return zlib.compress(data, 6)


def main():
    depth, iters, zips = args([12, 12000000, 40])
    rnd = random.Random(1)
    words = [bytes(rnd.choice(b"abcdefghij") for _ in range(8)) for _ in range(512)]
    data = b" ".join([rnd.choice(words) for _ in range(2 << 20 >> 3)])
    run = Run()
    go = threading.Event()
    out = {}

    def deep():
        go.wait()
        out["sum"] = py_deep(depth, iters)

    def compress():
        go.wait()
        out["zips"] = [py_zlib(data) for _ in range(zips)]

    ts = [run.thread(deep, name="deep"), run.thread(compress, name="zlib")]
    run.run_threads(ts, go)
    ok = (out.get("sum") == (iters - 1) * iters * (2 * iters - 1) // 6
          and len(out.get("zips", [])) == zips and zlib.decompress(out["zips"][-1]) == data)
    run.finish(ok, "sum or compressed data wrong", threads=3)


if __name__ == "__main__":
    main()
