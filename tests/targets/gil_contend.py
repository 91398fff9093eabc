"""N pure-Python CPU-bound threads contending for the GIL.

Prints "ready TID..." (the workers' native ids) once all run; runs for
argv[2] seconds (default: until killed). argv[1]: number of threads (4).
"""
import sys
import threading
import time


def spin(stop_at):
    x = 0
    while time.monotonic() < stop_at:
        for i in range(2000):  # LOOP-SPIN
            x += i * i
    return x


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 3600.0
    stop_at = time.monotonic() + seconds
    threads = [threading.Thread(target=spin, args=(stop_at,), name="spin-%d" % i)
               for i in range(n)]
    for t in threads:
        t.start()
    print("ready", *[t.native_id for t in threads], flush=True)
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
