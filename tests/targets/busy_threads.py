"""A busy multi-threaded "service" for long recordings (tests/integrity/soak.py).

argv[1] threads (default 50), each cycling through a few kinds of work:
pure-Python arithmetic and string building (holding the GIL), hashing a
buffer in C (GIL released), JSON round trips, and short sleeps. Runs
argv[2] seconds (default: until killed). Prints "ready" once every
thread runs.
"""
import hashlib
import json
import sys
import threading
import time

BUF = b"x" * (256 * 1024)


def arithmetic(n):
    total = 0
    for i in range(n):
        total += (i * i) % 7
    return total


def strings(n):
    return len(",".join(str(i) for i in range(n)))


def hashing(rounds):
    h = hashlib.sha256()
    for _ in range(rounds):
        h.update(BUF)
    return h.hexdigest()


def round_trip(n):
    return json.loads(json.dumps({"k%d" % i: [i, str(i)] for i in range(n)}))


def nap():
    time.sleep(0.002)


def worker(k, stop_at, started):
    started.release()
    jobs = (lambda: arithmetic(3000), lambda: strings(800), lambda: hashing(2),
            lambda: round_trip(100), nap)
    i = k
    while time.monotonic() < stop_at:
        jobs[i % len(jobs)]()
        i += 1


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 1e9
    stop_at = time.monotonic() + seconds
    started = threading.Semaphore(0)
    threads = [threading.Thread(target=worker, args=(k, stop_at, started), name="busy-%d" % k)
               for k in range(n)]
    for t in threads:
        t.start()
    for _ in threads:
        started.acquire()
    print("ready", n, flush=True)
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
