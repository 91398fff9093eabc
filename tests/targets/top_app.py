"""A target for `gil-prof top`: "hot" spins in spin_hot() (on CPU, holding
the GIL), "cold" mostly sleeps in nap_cold() (idle). Prints "ready PID"
once both run; runs until killed."""
import os
import sys
import threading
import time


def spin_hot():
    x = 0
    while True:
        x += 1


def nap_cold():
    while True:
        time.sleep(0.05)


threading.Thread(target=spin_hot, name="hot", daemon=True).start()
threading.Thread(target=nap_cold, name="cold", daemon=True).start()
sys.stdout.write("ready %d\n" % os.getpid())
sys.stdout.flush()
while True:
    time.sleep(3600)
