"""Workload 5: 200 mostly-idle threads and 2 busy ones.

    idle_threads.py [IDLE] [ITERS] [WAKE_MS] [--gate]

IDLE threads wake every WAKE_MS (default 100) ms (a timed Event.wait) and
count their wake-ups; two threads sum ITERS squares each. Elapsed ends when
both busy threads are done; checked: the sums match the closed form and
every idle thread woke up (and only at its pace: at most one wake-up per
WAKE_MS since it started, plus 2).
"""
import threading
import time

from gate import Run, args


def square(i):
    return i * i


def main():
    nidle, iters, wake_ms = args([200, 16000000, 100])
    wake = wake_ms / 1000
    run = Run()
    stop = threading.Event()
    go = threading.Event()
    wakes = [0] * nidle
    sums = []

    def idle(idx):
        while not stop.wait(wake):
            wakes[idx] += 1

    def busy():
        go.wait()
        acc = 0
        for i in range(iters):
            acc += square(i)
        sums.append(acc)

    idlers = [run.thread(idle, i, name="idle-%d" % i) for i in range(nidle)]
    busies = [run.thread(busy, name="busy-%d" % i) for i in range(2)]
    run.run_threads(idlers + busies, go, join=busies)
    stop.set()
    for t in idlers:
        t.join()
    elapsed = run.end - run.go
    most = int(elapsed / wake) + 2 + int((run.go - min(s[0] for s in run.spans[1:])) / wake)
    expect = (iters - 1) * iters * (2 * iters - 1) // 6
    ok = sums == [expect, expect] and all(0 < w <= most for w in wakes)
    run.finish(ok, "sums %r (expected %d), wake-ups %d..%d (at most %d)"
               % (sums, expect, min(wakes), max(wakes), most), threads=nidle + 3)


if __name__ == "__main__":
    main()
