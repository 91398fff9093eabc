"""Extra workload (not in the default set): fixed work with many context
switches. PAIRS pairs of threads bounce one byte ROUNDS times over a
socketpair (each bounce blocks, switches and hands the GIL over): the worst
case for wall mode's per-switch cost.

    pingpong.py [PAIRS] [ROUNDS] [--gate]

Checked: every thread saw all its rounds.
"""
import socket
import threading

from gate import Run, args


def ping(sock, rounds, go, done):
    go.wait()
    n = 0
    for _ in range(rounds):
        sock.send(b"x")
        n += len(sock.recv(1))
    done.append(n)


def pong(sock, rounds, go, done):
    go.wait()
    n = 0
    for _ in range(rounds):
        n += len(sock.recv(1))
        sock.send(b"x")
    done.append(n)


def main():
    pairs, rounds = args([2, 40000])
    run = Run()
    go = threading.Event()
    done = []
    ts = []
    for _ in range(pairs):
        a, b = socket.socketpair()
        ts += [run.thread(ping, a, rounds, go, done), run.thread(pong, b, rounds, go, done)]
    run.run_threads(ts, go)
    run.finish(done == [rounds] * (2 * pairs), "rounds seen %r" % done, threads=2 * pairs + 1)


if __name__ == "__main__":
    main()
