"""A thread hashing large buffers (hashlib releases the GIL while it hashes)
next to a thread running a pure-Python loop.

Prints "ready HASHER_TID LOOPER_TID"; runs for argv[1] seconds (default:
until killed).
"""
import hashlib
import sys
import threading
import time

BUF = b"\x5a" * (128 << 20)


def hasher(stop_at):
    while time.monotonic() < stop_at:
        hashlib.sha256(BUF).digest()  # HASH


def looper(stop_at):
    x = 0
    while time.monotonic() < stop_at:
        for i in range(2000):  # LOOP
            x += i * i
    return x


def run(threads):
    """Start the threads, print "ready TID...", wait for them."""
    for t in threads:
        t.start()
    print("ready", *[t.native_id for t in threads], flush=True)
    for t in threads:
        t.join()


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3600.0
    stop_at = time.monotonic() + seconds
    run([threading.Thread(target=hasher, args=(stop_at,), name="hasher"),
         threading.Thread(target=looper, args=(stop_at,), name="looper")])


if __name__ == "__main__":
    main()
