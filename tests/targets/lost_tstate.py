"""A target whose thread states the sampler cannot find: every thread
overwrites its own PyThreadState.thread_id (pthread_self(), which
gil-prof matches against the thread's fs_base) with 1, then computes.
CPython itself reads that field only for sys._current_frames() and
PyThreadState_SetAsyncExc, which this program does not use.

    lost_tstate.py SECONDS

Prints "ready" once every thread has done it.
"""
import ctypes
import sys
import threading
import time

SECONDS = float(sys.argv[1])
WORKERS = 2

get_tstate = ctypes.pythonapi.PyThreadState_Get
get_tstate.restype = ctypes.c_void_p


def hide_thread_state():
    """Overwrite the word of this thread's tstate that holds pthread_self()."""
    tstate, ident = get_tstate(), threading.get_ident()
    for off in range(0, 512, 8):
        word = ctypes.c_uint64.from_address(tstate + off)
        if word.value == ident:
            word.value = 1
            return
    raise SystemExit("thread_id not found in the thread state")


def spin(stop):
    n = 0
    while time.monotonic() < stop:  # LOOP-SPIN
        n += 1


def worker(stop, hidden):
    hide_thread_state()
    hidden.release()
    spin(stop)


def main():
    stop = time.monotonic() + SECONDS
    hidden = threading.Semaphore(0)
    threads = [threading.Thread(target=worker, args=(stop, hidden)) for _ in range(WORKERS)]
    for t in threads:
        t.start()
    for _ in threads:
        hidden.acquire()
    hide_thread_state()
    print("ready", flush=True)
    spin(stop)
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
