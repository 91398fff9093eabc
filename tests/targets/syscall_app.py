"""Spends its time in the kernel: the getrandom(2) system call itself.

Through syscall(2), not os.urandom: glibc 2.41 and newer (Debian trixie,
sid) answer getrandom() from the vDSO, in user space, without entering the
kernel at all.
"""
import ctypes

SYS_getrandom = 318  # x86_64
libc = ctypes.CDLL(None, use_errno=True)
buf = ctypes.create_string_buffer(1 << 20)


def py_urandom():
    while True:
        libc.syscall(SYS_getrandom, buf, len(buf), 0)  # SYSCALL


print("ready", flush=True)
py_urandom()
