"""Workload 3: 2 threads hashing and compressing large buffers (the GIL
released in C) next to 2 pure-Python threads.

    mixed.py [HASHES] [COMPRESSIONS] [ITERS] [--gate]

One thread hashes a 32 MB buffer HASHES times (SHA-256), one compresses an
8 MB buffer COMPRESSIONS times (zlib level 6), two sum ITERS squares each.
Checked after the clock stops: every digest and every compressed buffer is
the same, the buffer decompresses back, the sums match the closed form.
"""
import hashlib
import random
import threading
import zlib

from gate import Run, args


def square(i):
    return i * i


def sum_squares(n):
    acc = 0
    for i in range(n):
        acc += square(i)
    return acc


def main():
    hashes, zips, iters = args([150, 18, 20000000])
    rng = random.Random(7)
    hbuf = rng.randbytes(32 << 20)
    # Compressible: words drawn from a small vocabulary.
    vocab = [rng.randbytes(rng.randint(2, 9)).hex().encode() for _ in range(2000)]
    zbuf = b" ".join(rng.choice(vocab) for _ in range(720000))[:8 << 20]
    run = Run()
    go = threading.Event()
    res = {"digests": [], "zips": [], "sums": []}

    def hasher():
        go.wait()
        for _ in range(hashes):
            res["digests"].append(hashlib.sha256(hbuf).digest())

    def compressor():
        go.wait()
        for _ in range(zips):
            res["zips"].append(zlib.compress(zbuf, 6))

    def python():
        go.wait()
        res["sums"].append(sum_squares(iters))

    ts = [run.thread(hasher, name="hasher"), run.thread(compressor, name="compressor"),
          run.thread(python, name="python-0"), run.thread(python, name="python-1")]
    run.run_threads(ts, go)
    digest = hashlib.sha256(hbuf).digest()
    ok = (len(res["digests"]) == hashes and all(d == digest for d in res["digests"])
          and len(res["zips"]) == zips and all(z == res["zips"][0] for z in res["zips"])
          and zlib.decompress(res["zips"][0]) == zbuf
          and res["sums"] == [(iters - 1) * iters * (2 * iters - 1) // 6] * 2)
    run.finish(ok, "a digest, compressed buffer or sum differs", threads=4)


if __name__ == "__main__":
    main()
