"""Recurses argv[1] Python frames deep, then spins at the bottom.
Prints "ready"; runs argv[2] seconds (default 30).
"""
import sys
import time

DEPTH = int(sys.argv[1])
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 30.0


def bottom(stop):
    n = 0
    while time.monotonic() < stop:  # LOOP-BOTTOM
        n += 1


def recurse(depth, stop):
    if depth <= 1:
        print("ready", flush=True)
        bottom(stop)  # CALL-BOTTOM
        return
    recurse(depth - 1, stop)  # CALL-RECURSE


def main():
    sys.setrecursionlimit(DEPTH + 1000)
    recurse(DEPTH, time.monotonic() + SECONDS)  # CALL-TOP


if __name__ == "__main__":
    main()
