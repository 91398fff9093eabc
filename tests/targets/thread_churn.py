"""Threads created and destroyed continuously.

    thread_churn.py SECONDS TOTAL [CONCURRENT]

Prints "ready", then for about SECONDS starts TOTAL short-lived threads,
at most CONCURRENT (default 4) alive at a time, each named "churn-K" and
computing in churn_work() for its share of the time. At the end prints one
line "threads TID:NAME ..." with every thread it started, as the kernel
numbered them (threading.get_native_id()).
"""
import sys
import threading
import time


def churn_work(seconds):
    stop_at = time.monotonic() + seconds
    x = 0
    while time.monotonic() < stop_at:
        x += 1  # CHURN
    return x


def body(seconds, seen, slots):
    try:
        seen.append("%d:%s" % (threading.get_native_id(), threading.current_thread().name))
        churn_work(seconds)
    finally:
        slots.release()


def main():
    seconds, total = float(sys.argv[1]), int(sys.argv[2])
    concurrent = int(sys.argv[3]) if len(sys.argv) > 3 else 4
    life = seconds * concurrent / total
    slots = threading.Semaphore(concurrent)
    seen = []
    # starting a thread takes the GIL a few times: hand it over quickly
    sys.setswitchinterval(0.0005)
    print("ready", flush=True)
    for k in range(total):
        slots.acquire()
        # not kept: a finished thread leaves nothing behind in the target
        threading.Thread(target=body, args=(life, seen, slots), name="churn-%d" % k).start()
    for _ in range(concurrent):
        slots.acquire()
    print("threads", *seen, flush=True)


if __name__ == "__main__":
    main()
