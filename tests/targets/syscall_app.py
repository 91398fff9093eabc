"""Spends its time in the kernel: getrandom(2) through os.urandom."""
import os


def py_urandom():
    while True:
        os.urandom(1 << 20)  # SYSCALL


print("ready", flush=True)
py_urandom()
