"""Target for the native-stack tests: Python -> C -> Python call chains.

    native_app.py EXT_DIR MODE [DEPTH]

EXT_DIR holds the gpnative extension built for this interpreter. MODE:
  all    every thread below
  busy2  the deep thread and the zlib thread only (two busy threads: bench)

Threads:
  main     py_outer -> gpnative.call_back -> py_callback (spins in Python)
  nogil    py_nogil_caller -> gpnative.spin_nogil (C, GIL released)
  cthread  a pthread started by C that later calls py_thread_body
  deep     py_deep -> call_back -> py_deep ... DEPTH times, then spins
  zlib     py_zlib -> zlib.compress on 2 MB
  hash     py_hash -> hashlib.sha256 on 8 MB

Prints "ready name=TID ..." once every thread runs; runs until killed.
"""
import functools
import hashlib
import random
import sys
import threading
import time
import zlib

sys.path.insert(0, sys.argv[1])
import gpnative  # noqa: E402

MODE = sys.argv[2] if len(sys.argv) > 2 else "all"
DEPTH = int(sys.argv[3]) if len(sys.argv) > 3 else 12
TIDS = {}
STARTED = threading.Event()


def note(name):
    TIDS[name] = threading.get_native_id()


def py_callback():
    x = 0
    for i in range(200000):  # LOOP-CALLBACK
        x += i * i
    return x


def py_outer():
    return gpnative.call_back(py_callback)


def main_thread():
    note("main")
    while True:
        py_outer()


def py_nogil_caller():
    gpnative.spin_nogil(0.05)


def nogil_thread():
    note("nogil")
    while True:
        py_nogil_caller()


def py_thread_body():
    note("cthread")
    x = 0
    while True:  # LOOP-CTHREAD
        x = (x + 1) % 1000003


def py_deep(n):
    if n == 0:
        x = 0
        while True:  # LOOP-DEEP
            x = (x + 1) % 1000003
    return gpnative.call_back(functools.partial(py_deep, n - 1))


def deep_thread():
    note("deep")
    py_deep(DEPTH)


def py_zlib(data):
    return zlib.compress(data, 6)


def zlib_thread():
    rnd = random.Random(1)
    words = [bytes(rnd.choice(b"abcdefghij") for _ in range(8)) for _ in range(512)]
    data = b" ".join([rnd.choice(words) for _ in range(2 << 20 >> 3)])
    note("zlib")
    while True:
        py_zlib(data)


def py_hash(data):
    return hashlib.sha256(data).digest()


def hash_thread():
    data = bytes(range(256)) * (8 << 20 >> 8)
    note("hash")
    while True:
        py_hash(data)


def start(fn):
    threading.Thread(target=fn, daemon=True).start()


if MODE == "all":
    start(nogil_thread)
    start(deep_thread)
    start(zlib_thread)
    start(hash_thread)
    gpnative.start_thread(py_thread_body)
    want = {"nogil", "deep", "zlib", "hash", "cthread"}
else:
    start(deep_thread)
    start(zlib_thread)
    want = {"deep", "zlib"}
while not want <= set(TIDS):
    time.sleep(0.01)
if MODE == "all":
    note("main")
    print("ready " + " ".join("%s=%d" % kv for kv in sorted(TIDS.items())), flush=True)
    main_thread()
print("ready " + " ".join("%s=%d" % kv for kv in sorted(TIDS.items())), flush=True)
while True:
    time.sleep(1)
