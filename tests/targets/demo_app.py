"""Example workload for `make demo`: a small multi-threaded "service".

Two threads compete for the GIL computing in pure Python, one hashes large
buffers in C with the GIL released, one mostly sleeps. Runs argv[1] seconds
(default 5).
"""
import hashlib
import sys
import threading
import time


def score(n):
    total = 0
    for i in range(n):
        total += (i * i) % 7
    return total


def rank_orders(stop_at):
    while time.monotonic() < stop_at:
        score(20000)


def parse_batch(stop_at):
    while time.monotonic() < stop_at:
        rows = [str(i) for i in range(5000)]
        sum(int(r) for r in rows)


def checksum_uploads(stop_at):
    blob = b"x" * (8 << 20)
    while time.monotonic() < stop_at:
        hashlib.sha256(blob).hexdigest()


def heartbeat(stop_at):
    while time.monotonic() < stop_at:
        time.sleep(0.2)


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
    stop_at = time.monotonic() + seconds
    workers = [
        threading.Thread(target=rank_orders, args=(stop_at,), name="ranker"),
        threading.Thread(target=parse_batch, args=(stop_at,), name="parser"),
        threading.Thread(target=checksum_uploads, args=(stop_at,), name="hasher"),
        threading.Thread(target=heartbeat, args=(stop_at,), name="heartbeat"),
    ]
    for t in workers:
        t.start()
    for t in workers:
        t.join()


if __name__ == "__main__":
    main()
