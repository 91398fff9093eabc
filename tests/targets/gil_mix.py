"""Threads with different GIL waiting shares, for the exact-tracer test:
three pure-Python spinners and a thread hashing large buffers.

Prints "ready TID..." (spinners first, hasher last); runs for argv[1]
seconds (default: until killed).
"""
import sys
import threading
import time

from gil_contend import spin
from gil_hash import hasher, run


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3600.0
    stop_at = time.monotonic() + seconds
    threads = [threading.Thread(target=spin, args=(stop_at,), name="spin-%d" % i)
               for i in range(3)]
    threads.append(threading.Thread(target=hasher, args=(stop_at,), name="hasher"))
    run(threads)


if __name__ == "__main__":
    main()
