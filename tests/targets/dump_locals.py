"""A thread blocked in a known function whose arguments and locals are
known, for `gil-prof dump --locals` (tests/functional/test_locals.py).

Prints "ready " and a JSON object: for each variable of blocked() and of
waiter() its kind and Python's own repr(), then sleeps in waiter().
"""
import json
import sys
import time


class Thing:
    pass


def announce(frame_vars, kinds):
    out = {}
    for name, value in frame_vars.items():
        if name in ("enormous", "hugestr"):
            continue  # capped: the test checks their form
        out[name] = [kinds.get(name, "local"), repr(value)]
    return out


def blocked(n, flag, *rest, big, **kw):
    none = None
    truth = True
    huge = -(2 ** 150)
    pi = 3.25
    text = "naïve café 名前 🐍"
    raw = b"\x00bytes\xff"
    nested = [1, (2, "two"), {"k": "v"}, {7}]
    tup = (1, 2.5, None)
    dct = {"a": 1, "b": "é"}
    st = {42}
    obj = Thing()
    enormous = 2 ** 100000
    hugestr = "x" * 10_000_000
    shared = "in a cell"

    def waiter():
        time.sleep(3600 + len(shared))  # waiter-line

    expect = {
        "blocked": announce(
            {k: v for k, v in locals().items() if k not in ("waiter",)},
            {"n": "argument", "flag": "argument", "rest": "argument", "big": "argument",
             "kw": "argument", "shared": "cell"}),
        "waiter": {"shared": ["free", repr(shared)]},
        "obj": "<Thing at 0x%x>" % id(obj),
    }
    print("ready " + json.dumps(expect), flush=True)
    waiter()


blocked(7, False, "extra", big=10 ** 30, opt=[1, 2])
