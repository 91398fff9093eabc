"""A process tree that exists before gil-prof attaches (py-spy's
tests/scripts/subprocesses.py, plus a grandchild): the parent starts two
multiprocessing children sleeping in target(); the second also starts a
grandchild sleeping in grandchild(). Prints "ready PID..." (the children's
and the grandchild's pids) once all of them sleep.
"""
import multiprocessing
import os
import sys
import time


def grandchild():
    while True:
        time.sleep(3600)  # grandchild-sleep


def target(ready, nested):
    if nested:
        p = multiprocessing.Process(target=grandchild, name="grandchild")
        p.start()
        ready.put(p.pid)
    ready.put(os.getpid())
    while True:
        time.sleep(3600)  # child-sleep


def main():
    # Forked children, as py-spy's script got by default before 3.14 (whose
    # default start method, forkserver, adds a server and a resource
    # tracker to the tree).
    multiprocessing.set_start_method("fork")
    ready = multiprocessing.Queue()
    children = [multiprocessing.Process(target=target, args=(ready, i == 1)) for i in range(2)]
    for p in children:
        p.start()
    pids = sorted(ready.get(timeout=60) for _ in range(3))
    time.sleep(0.3)  # each reaches its sleep
    sys.stdout.write("ready %s\n" % " ".join(map(str, pids)))
    sys.stdout.flush()
    for p in children:
        p.join()  # parent-join


if __name__ == "__main__":
    main()
