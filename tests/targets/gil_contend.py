"""N pure-Python CPU-bound threads contending for the GIL.

    gil_contend.py [N [SECONDS [--progress]]]

Prints "ready TID..." (the workers' native ids) once all run; runs for
SECONDS (default: until killed). N defaults to 4. With --progress the
ready line goes on with "at MONOTONIC_NS COUNT...", and a reporter prints
such a line every 50 ms: the chunks of loop each worker has finished. A
worker only advances while it holds the GIL, so the counts give the
workers' true shares of the GIL.
"""
import sys
import threading
import time


def spin(stop_at, done=None, index=0):
    x = 0
    while time.monotonic() < stop_at:
        for i in range(2000):  # LOOP-SPIN
            x += i * i
        if done is not None:
            done[index] += 1
    return x


def report(stop_at, done):
    while time.monotonic() < stop_at:
        print("at", time.monotonic_ns(), *done, flush=True)
        time.sleep(0.05)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 3600.0
    progress = "--progress" in sys.argv[3:]
    stop_at = time.monotonic() + seconds
    done = [0] * n
    threads = [threading.Thread(target=spin, args=(stop_at, done, i), name="spin-%d" % i)
               for i in range(n)]
    for t in threads:
        t.start()
    if progress:
        print("ready", *[t.native_id for t in threads], "at", time.monotonic_ns(), *done,
              flush=True)
        threading.Thread(target=report, args=(stop_at, done), name="report",
                         daemon=True).start()
    else:
        print("ready", *[t.native_id for t in threads], flush=True)
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
