"""Fixed work: THREADS threads each release and take back the GIL CALLS
times (os.write of one byte to /dev/null: the GIL is dropped around the
system call), the worst case for tracing GIL transitions.

    release.py [THREADS] [CALLS] [--gate]

Checked: every thread wrote all its bytes.
"""
import os
import threading

from gate import Run, args


def work(n, done):
    fd = os.open(os.devnull, os.O_WRONLY)
    written = 0
    for _ in range(n):
        written += os.write(fd, b"x")
    os.close(fd)
    done.append(written)


def main():
    threads, calls = args([2, 100000])
    run = Run()
    go = threading.Event()
    done = []

    def worker():
        go.wait()
        work(calls, done)

    run.run_threads([run.thread(worker) for _ in range(threads)], go)
    run.finish(done == [calls] * threads, "bytes written %r" % done, threads=threads + 1)


if __name__ == "__main__":
    main()
