"""A target that corrupts its own frame chain and a code object while it
runs, with ctypes, so a profiler reading it meets what a racing or hostile
process shows: a chain that loops, one that points to unmapped memory, one
into garbage, a run of frames without code, one that ends early, and a code
object whose name points nowhere. Every corruption is undone before the frame returns.

    corrupt_frames.py SECONDS PREV CODE NAME TAGS

PREV, CODE: offsets of the previous-frame link and of the code reference
in the frames the profiler walks; NAME: offset of co_name in a code
object; TAGS: tag bits of the code reference (gil-prof's layout row).
Prints "ready" and cycles through the cases, 50 ms each.
"""
import contextlib
import ctypes
import gc
import sys
import time
import types

SECONDS = float(sys.argv[1])
PREV, CODE, NAME, TAGS = (int(a) for a in sys.argv[2:6])
FRAME_OBJECTS = sys.version_info < (3, 11)  # up to 3.10 the frames are PyFrameObjects
NOWHERE = 0x1000  # below mmap_min_addr: never mapped

# The collector must not follow a chain while it is corrupt.
gc.disable()
MEM = open("/proc/self/mem", "rb", buffering=0)


def peek(addr):
    """A word of our own memory; OSError (not a crash) if unmapped."""
    MEM.seek(addr)
    return int.from_bytes(MEM.read(8), "little")


def poke(addr, value):
    ctypes.c_uint64.from_address(addr).value = value


def frame_addr(frame):
    """Address of the frame the profiler walks for this frame object."""
    if FRAME_OBJECTS:
        return id(frame)
    for off in range(16, 64, 8):  # find PyFrameObject.f_frame
        try:
            p = peek(id(frame) + off)
            if p and peek(p + CODE) & ~TAGS == id(frame.f_code):
                return p
        except (OSError, ValueError, OverflowError):
            pass
    raise SystemExit("corrupt_frames: cannot find the interpreter frame")


@contextlib.contextmanager
def previous_of(frame, value):
    """The frame's link to its caller points at value until the block ends."""
    me = frame_addr(frame)
    saved = peek(me + PREV)
    poke(me + PREV, value)
    try:
        yield
    finally:
        poke(me + PREV, saved)


def healthy(until):
    while time.monotonic() < until:  # LOOP-HEALTHY
        pass


def loop_victim(until):
    # me -> caller -> me -> ...
    with previous_of(sys._getframe(1), frame_addr(sys._getframe())):
        while time.monotonic() < until:  # LOOP-LOOP
            pass


def loop_caller(until):
    loop_victim(until)  # CALL-LOOP


def unmapped_victim(until):
    with previous_of(sys._getframe(), NOWHERE):
        while time.monotonic() < until:  # LOOP-UNMAPPED
            pass


def torn_victim(until):
    # The chain ends here, as if read while the caller's frames changed:
    # 3.15 tells it from a whole stack (its base frame was not reached).
    with previous_of(sys._getframe(), 0):
        while time.monotonic() < until:  # LOOP-TORN
            pass


# A frame of zeros whose code pointer leads nowhere.
GARBAGE = ctypes.create_string_buffer(256)
poke(ctypes.addressof(GARBAGE) + CODE, NOWHERE)
# Twelve readable frames whose "code" is an int, chained.
JUNK = [ctypes.create_string_buffer(256) for _ in range(12)]
for i, junk in enumerate(JUNK):
    poke(ctypes.addressof(junk) + CODE, id(12345))
    poke(ctypes.addressof(junk) + PREV, ctypes.addressof(JUNK[i + 1]) if i + 1 < len(JUNK) else 0)


def garbage_victim(until):
    with previous_of(sys._getframe(), ctypes.addressof(GARBAGE)):
        while time.monotonic() < until:  # LOOP-GARBAGE
            pass


def junk_victim(until):
    with previous_of(sys._getframe(), ctypes.addressof(JUNK[0])):
        while time.monotonic() < until:  # LOOP-JUNK
            pass


def template(until):
    while time.monotonic() < until:  # LOOP-BADCODE
        pass


# Its own code object, whose co_name points nowhere while the program runs.
bad_code_victim = types.FunctionType(template.__code__.replace(co_name="bad"), globals())
BAD_NAME = id(bad_code_victim.__code__) + NAME
SAVED_NAME = peek(BAD_NAME)
poke(BAD_NAME, NOWHERE)


def bad_caller(until):
    bad_code_victim(until)  # CALL-BAD


def main():
    cases = [healthy, loop_caller, unmapped_victim, garbage_victim, junk_victim, bad_caller,
             torn_victim]
    stop = time.monotonic() + SECONDS
    print("ready", flush=True)
    try:
        while time.monotonic() < stop:
            for case in cases:
                case(min(stop, time.monotonic() + 0.05))  # CALL-CASE
    finally:
        poke(BAD_NAME, SAVED_NAME)


if __name__ == "__main__":
    main()
