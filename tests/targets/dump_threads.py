"""Threads whose stacks and waits are known, for `gil-prof dump`.

- "sleeper" sleeps in nap()
- "lock-a" and "lock-b" are deadlocked: each holds the lock the other wants
- "selector" waits in select() on a pipe nobody writes to
- "spinner" spins in spin() (on a CPU, holding or waiting for the GIL)
- "ünïcode-名前" sleeps too (a non-ASCII thread name)

Prints "ready" and a JSON object {name: native thread id}, then waits.
"""
import json
import os
import select
import sys
import threading
import time

a = threading.Lock()
b = threading.Lock()
both = threading.Barrier(3)


def nap():
    while True:
        time.sleep(3600)  # nap-line


def take_a_then_b():
    with a:
        both.wait()
        b.acquire()  # wants-b


def take_b_then_a():
    with b:
        both.wait()
        a.acquire()  # wants-a


def wait_select(fd):
    while True:
        select.select([fd], [], [], 3600)  # select-line


def spin():
    x = 0
    while True:
        x += 1  # spin-line


def main():
    r, w = os.pipe()
    threads = [
        threading.Thread(target=nap, name="sleeper", daemon=True),
        threading.Thread(target=take_a_then_b, name="lock-a", daemon=True),
        threading.Thread(target=take_b_then_a, name="lock-b", daemon=True),
        threading.Thread(target=wait_select, args=(r,), name="selector", daemon=True),
        threading.Thread(target=spin, name="spinner", daemon=True),
        threading.Thread(target=nap, name="ünïcode-名前", daemon=True),
    ]
    for t in threads:
        t.start()
    both.wait()
    time.sleep(0.2)  # the lock threads are in acquire() by now
    ids = {t.name: t.native_id for t in threads}
    ids["MainThread"] = threading.get_native_id()
    sys.stdout.write("ready " + json.dumps(ids) + "\n")
    sys.stdout.flush()
    while True:
        time.sleep(3600)  # main-line


if __name__ == "__main__":
    main()
