"""A target whose process changes while it is profiled.

    lifecycle.py MODE SECONDS [ARG]

Prints "ready" and computes in before_change() for SECONDS, then:

    crash        dereferences a bad pointer (SIGSEGV)
    exec PROG..  replaces itself with PROG (os.execv), the rest of argv
    fork         forks a child that computes in child_work() for SECONDS
                 while the parent computes in after_fork(); both exit 0
    spawn PROG.. runs PROG as a subprocess (fork + exec) and waits for it,
                 computing in after_fork() meanwhile
"""
import ctypes
import os
import subprocess
import sys
import time


def spin_until(stop_at):
    x = 0
    while time.monotonic() < stop_at:
        x += 1  # SPIN
    return x


def before_change(seconds):
    spin_until(time.monotonic() + seconds)


def child_work(seconds):
    spin_until(time.monotonic() + seconds)


def after_fork(seconds):
    spin_until(time.monotonic() + seconds)


def main():
    mode, seconds = sys.argv[1], float(sys.argv[2])
    print("ready", flush=True)
    before_change(seconds)
    if mode == "crash":
        ctypes.string_at(8)  # CRASH
    elif mode == "exec":
        os.execv(sys.argv[3], sys.argv[3:])
    elif mode == "fork":
        pid = os.fork()
        if pid == 0:
            child_work(seconds)
            os._exit(0)
        print("child", pid, flush=True)
        after_fork(seconds)
        os.waitpid(pid, 0)
    elif mode == "spawn":
        child = subprocess.Popen(sys.argv[3:])
        print("child", child.pid, flush=True)
        after_fork(seconds)
        child.wait()


if __name__ == "__main__":
    main()
