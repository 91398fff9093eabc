"""Fixed work, many context switches: PAIRS pairs of threads bounce one
byte ROUNDS times over a socketpair (each bounce blocks, switches and
hands the GIL over). Prints "elapsed SECONDS cpu SECONDS" (the process's
CPU time) when all are done.

    pingpong.py PAIRS ROUNDS
"""
import socket
import sys
import threading
import time


def ping(sock, rounds):
    for _ in range(rounds):
        sock.send(b"x")
        sock.recv(1)


def pong(sock, rounds):
    for _ in range(rounds):
        sock.recv(1)
        sock.send(b"x")


def main():
    pairs, rounds = int(sys.argv[1]), int(sys.argv[2])
    threads = []
    for _ in range(pairs):
        a, b = socket.socketpair()
        threads += [threading.Thread(target=ping, args=(a, rounds)),
                    threading.Thread(target=pong, args=(b, rounds))]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("elapsed %.6f cpu %.6f" % (time.perf_counter() - start, time.process_time()),
          flush=True)


if __name__ == "__main__":
    main()
