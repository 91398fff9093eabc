"""Threads that are off CPU: one in time.sleep, one blocked on a socket that
never receives anything (blocked before any profiler attaches), and the
main thread waiting in join. Optionally a short-lived busy thread.

    gil_idle.py SECONDS [SHORT_DELAY SHORT_SECONDS]

Prints "ready SLEEPER_TID READER_TID" once both are blocked; when the short
thread ends it prints "short TID START_NS END_NS" (CLOCK_MONOTONIC, taken
when its function starts and ends). Exits after SECONDS.
"""
import socket
import sys
import threading
import time


def sleeper(stop_at):
    while time.monotonic() < stop_at:
        time.sleep(0.02)  # SLEEP


def reader(sock):
    sock.recv(1)  # RECV


def short(delay, seconds):
    begin = time.monotonic_ns()
    time.sleep(delay)
    busy = time.monotonic_ns()
    x = 0
    while time.monotonic_ns() - busy < seconds * 1e9:
        for i in range(1000):  # SHORT-LOOP
            x += i
    end = time.monotonic_ns()
    print("short", threading.get_native_id(), begin, end, flush=True)


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3600.0
    stop_at = time.monotonic() + seconds
    a, b = socket.socketpair()
    threads = [threading.Thread(target=sleeper, args=(stop_at,), name="sleeper", daemon=True),
               threading.Thread(target=reader, args=(a,), name="reader", daemon=True)]
    if len(sys.argv) > 3:
        threads.append(threading.Thread(target=short, args=(float(sys.argv[2]),
                                                            float(sys.argv[3])),
                                        name="short", daemon=True))
    for t in threads:
        t.start()
    time.sleep(0.2)
    print("ready", threads[0].native_id, threads[1].native_id, flush=True)
    threads[0].join()
    b.close()


if __name__ == "__main__":
    main()
