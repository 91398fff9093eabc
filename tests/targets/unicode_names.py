"""Functions with non-ASCII names, one per str kind: Latin-1 (wörker),
UCS-2 (計算), astral UCS-4 (𠀀𠀁), and a code object renamed to
"🐍_task" with code.replace(), which no identifier could spell. They call
each other and the innermost spins. Prints "ready"; runs argv[1] seconds.
"""
import sys
import time
import types

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 30.0


def snake(stop):
    n = 0
    while time.monotonic() < stop:  # LOOP-SNAKE
        n += 1


snake_task = types.FunctionType(snake.__code__.replace(co_name="🐍_task"), globals())


def 𠀀𠀁(stop):
    snake_task(stop)  # CALL-SNAKE


def 計算(stop):
    𠀀𠀁(stop)  # CALL-ASTRAL


def wörker(stop):
    計算(stop)  # CALL-KEISAN


def main():
    print("ready", flush=True)
    wörker(time.monotonic() + SECONDS)  # CALL-WORKER


if __name__ == "__main__":
    main()
