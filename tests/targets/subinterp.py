"""Sub-interpreters: the main thread computes in the main interpreter; a
second thread of the main interpreter enters a sub-interpreter, starts a
thread of the sub-interpreter's own there, and loops. Prints
"ready SUB_ID ENTERER_TID" once both loops run; runs argv[1] seconds.
"""
import sys
import threading
import time

try:
    import _interpreters as interpreters  # 3.13+
except ImportError:
    import _xxsubinterpreters as interpreters  # 3.9-3.12

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 30.0
STOP = time.monotonic() + SECONDS

# Runs inside the sub-interpreter, on the entering thread.
SUB_CODE = """
import threading, time
def sub_spin(stop):
    n = 0
    while time.monotonic() < stop:  # SUB-LOOP
        n += 1
        if n %% 2000 == 0:
            time.sleep(0.0005)
threading.Thread(target=sub_spin, args=(%r,), name="subworker").start()
n = 0
while time.monotonic() < %r:
    n += 1
    if n %% 2000 == 0:
        time.sleep(0.0005)
""" % (STOP, STOP)


def enter_sub(interp, started):
    started.set()
    interpreters.run_string(interp, SUB_CODE)  # ENTER-CALL


def main_spin():
    # Interpreters that share a GIL (up to 3.12) do not pass on each
    # other's switch requests: give the GIL away now and then.
    n = 0
    while time.monotonic() < STOP:  # MAIN-LOOP
        n += 1
        if n % 2000 == 0:
            time.sleep(0.0005)


def main():
    try:
        # 3.9-3.12: only a non-isolated one may start threads
        interp = interpreters.create(isolated=False)
    except TypeError:
        interp = interpreters.create()
    started = threading.Event()
    enter = threading.Thread(target=enter_sub, args=(interp, started), name="enterer")
    enter.start()
    started.wait()
    time.sleep(0.2)
    print("ready", int(interp), enter.native_id, flush=True)
    main_spin()
    enter.join()


if __name__ == "__main__":
    main()
