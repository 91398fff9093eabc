"""A thread that keeps the GIL, known by name, and two workers that need it.

    gil_blame.py MODE [SECONDS]

MODE is who holds the GIL while the workers wait:
  usleep   holder() calls libc's usleep(50 ms) through ctypes.PyDLL, which
           keeps the GIL across the call: held off CPU, the C-extension bug;
  hog      holder() runs pure Python: it holds the GIL on CPU and hands it
           over only at the switch interval;
  release  holder() compresses large data with zlib, which releases the GIL
           while it works (the control: nothing to blame it for).
In usleep and hog mode the workers (work()) sleep 2 ms and then run a few
microseconds of Python, so nearly all their waiting is for the holder; in
release mode they spin, and wait for each other.

Prints "ready HOLDER_TID WORKER_TID WORKER_TID" once all run, and at the
end (SECONDS, default 3600) "held N TOTAL_NS P50_NS P99_NS MAX_NS": the
holder's own timing of its usleep calls (usleep mode), each a hold of the
GIL off CPU.
"""
import ctypes
import os
import sys
import threading
import time
import zlib


def holder(mode, stop_at, holds):
    libc = ctypes.PyDLL(None)  # PyDLL: the GIL stays held across the call
    data = os.urandom(4 << 20)  # incompressible: ~0.1 s per call, GIL released
    x = 0
    while time.monotonic() < stop_at:
        if mode == "usleep":
            t0 = time.monotonic_ns()
            libc.usleep(50000)  # HOLDER-CALL
            holds.append(time.monotonic_ns() - t0)
        elif mode == "hog":
            for i in range(20000):  # HOLDER-CALL
                x += i * i
        else:
            zlib.compress(data, 6)  # HOLDER-CALL
    return x


def work(mode, stop_at):
    x = 0
    while time.monotonic() < stop_at:
        if mode == "release":
            for i in range(2000):
                x += i
        else:
            time.sleep(0.002)
            for i in range(20):
                x += i
    return x


def percentile(v, q):
    return v[min(len(v) - 1, int(q * len(v)))] if v else 0


def main():
    mode = sys.argv[1]
    assert mode in ("usleep", "hog", "release"), mode
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 3600.0
    stop_at = time.monotonic() + seconds
    holds = []
    threads = [threading.Thread(target=holder, args=(mode, stop_at, holds), name="holder")]
    threads += [threading.Thread(target=work, args=(mode, stop_at), name="worker-%d" % i)
                for i in range(2)]
    for t in threads:
        t.start()
    print("ready", *[t.native_id for t in threads], flush=True)
    for t in threads:
        t.join()
    holds.sort()
    print("held", len(holds), sum(holds), percentile(holds, 0.5), percentile(holds, 0.99),
          holds[-1] if holds else 0, flush=True)


if __name__ == "__main__":
    main()
