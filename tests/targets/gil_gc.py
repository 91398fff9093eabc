"""A thread that keeps running full garbage collections over a large graph of
cyclic objects, so most of its time is spent inside the collector.

Prints "ready TID"; runs for argv[1] seconds (default: until killed).
"""
import gc
import sys
import threading
import time


class Node:
    def __init__(self):
        self.other = self


def collector(stop_at):
    keep = [Node() for _ in range(300000)]
    while time.monotonic() < stop_at:
        gc.collect()  # COLLECT
    return keep


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3600.0
    stop_at = time.monotonic() + seconds
    t = threading.Thread(target=collector, args=(stop_at,), name="collector")
    t.start()
    time.sleep(0.5)
    print("ready", t.native_id, flush=True)
    t.join()


if __name__ == "__main__":
    main()
