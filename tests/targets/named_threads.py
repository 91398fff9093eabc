"""Threads with Python names, busy so that every one of them is sampled.

"alpha" and "beta-é" are named at creation, the third is renamed after it
started (its /proc comm stays the command's), the main thread spins too.
Prints "ready" and, per thread, NATIVE_ID=NAME once all run; runs for
argv[1] seconds (default: until killed).
"""
import sys
import threading
import time


def spin(stop_at, started):
    started.release()
    x = 0
    while time.monotonic() < stop_at:
        for i in range(2000):  # SPIN
            x += i


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3600.0
    stop_at = time.monotonic() + seconds
    started = threading.Semaphore(0)
    threads = [
        threading.Thread(target=spin, args=(stop_at, started), name="alpha"),
        threading.Thread(target=spin, args=(stop_at, started), name="beta-\u00e9"),
        threading.Thread(target=spin, args=(stop_at, started)),
    ]
    for t in threads:
        t.start()
    for _ in threads:
        started.acquire()
    threads[2].name = "renamed-later"
    me = threading.current_thread()
    pairs = ["%d=%s" % (t.native_id, t.name) for t in [me] + threads]
    print("ready", *pairs, flush=True)
    spin(stop_at, threading.Semaphore(0))
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
