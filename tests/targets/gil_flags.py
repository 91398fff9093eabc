"""N pure-Python CPU-bound threads contending for the GIL, each telling
where its thread state is (3.14+: the test reads its holds_gil and, 3.15+,
gil_requested from outside, through /proc/PID/mem).

    gil_flags.py N SECONDS

Prints "ready TID... TSTATE..." (native ids, then PyThreadState addresses
in hex) once all run.
"""
import ctypes
import sys
import threading
import time

ctypes.pythonapi.PyThreadState_Get.restype = ctypes.c_void_p


def spin(stop_at, started, tstates, index):
    tstates[index] = ctypes.pythonapi.PyThreadState_Get()
    started.release()
    x = 0
    while time.monotonic() < stop_at:
        for i in range(2000):  # LOOP-SPIN
            x += i * i
    return x


def main():
    n, seconds = int(sys.argv[1]), float(sys.argv[2])
    stop_at = time.monotonic() + seconds
    started = threading.Semaphore(0)
    tstates = [0] * n
    threads = [threading.Thread(target=spin, args=(stop_at, started, tstates, i),
                                name="spin-%d" % i) for i in range(n)]
    for t in threads:
        t.start()
    for _ in threads:
        started.acquire()
    print("ready", *[t.native_id for t in threads], *["%x" % a for a in tstates], flush=True)
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
