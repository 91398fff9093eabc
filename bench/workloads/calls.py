"""Workload 1: one thread, CPU-bound pure Python, call-heavy.

    calls.py [ROUNDS] [--gate]

Every round runs the same mix of small functions (a recursive fib, a
checksum calling mix() per value, digit sums, parsing, string scoring), so
the profile has a few clearly ranked functions for the fidelity check. The
result is checked against the same round computed without calls.
"""
from gate import Run, args


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def mix(h, v):
    return (h * 31 + v) & 0xFFFFFFFF


def checksum(values):
    h = 0
    for v in values:
        h = mix(h, v)
    return h


def digit_sum(n):
    s = 0
    while n:
        s += n % 10
        n //= 10
    return s


def parse(line):
    out = []
    for field in line.split(","):
        out.append(int(field))
    return out


def score(word):
    s = 0
    for c in word:
        s = (s * 7 + ord(c)) % 1000003
    return s


VALUES = list(range(1000, 1400))
LINE = ",".join(str(v) for v in range(300))
WORDS = ["w%dx%d" % (i, i * i) for i in range(120)]


def one_round():
    total = fib(16)
    total += checksum(VALUES)
    for v in VALUES:
        total += digit_sum(v * 7919)
    total += sum(parse(LINE))
    for w in WORDS:
        total += score(w)
    return total


def round_inline():
    """One round without the function calls: the check."""
    a, b = 0, 1
    for _ in range(16):
        a, b = b, a + b
    total = a
    h = 0
    for v in VALUES:
        h = (h * 31 + v) & 0xFFFFFFFF
    total += h
    for v in VALUES:
        total += sum(int(d) for d in str(v * 7919))
    total += sum(range(300))
    for w in WORDS:
        s = 0
        for c in w:
            s = (s * 7 + ord(c)) % 1000003
        total += s
    return total


def main():
    rounds, = args([6000])
    run = Run()
    run.gate()
    total = 0
    for _ in range(rounds):
        total += one_round()
    run.done()
    expect = rounds * round_inline()
    run.finish(total == expect, "total %d, expected %d" % (total, expect), rounds=rounds)


if __name__ == "__main__":
    main()
