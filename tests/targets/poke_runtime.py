"""Overwrites words of its own _PyRuntime (where 3.13+ keeps the
_Py_DebugOffsets block for tools like gil-prof), then computes in spin().

    poke_runtime.py SECONDS [OFFSET=VALUE ...]

Each OFFSET=VALUE stores the 64-bit VALUE at byte OFFSET of _PyRuntime;
VALUE "cookie" stores a wrong cookie. Prints "ready" after the stores.
"""
import ctypes
import sys
import time

SECONDS = float(sys.argv[1])


def spin(stop):
    n = 0
    while time.monotonic() < stop:  # LOOP-SPIN
        n += 1


def main():
    runtime = ctypes.addressof(ctypes.c_char.in_dll(ctypes.pythonapi, "_PyRuntime"))
    for arg in sys.argv[2:]:
        offset, value = arg.split("=")
        if value == "cookie":
            ctypes.memmove(runtime + int(offset), b"notdebug", 8)
        else:
            ctypes.c_uint64.from_address(runtime + int(offset)).value = int(value)
    print("ready", flush=True)
    spin(time.monotonic() + SECONDS)


if __name__ == "__main__":
    main()
