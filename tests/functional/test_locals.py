"""gil-prof dump --locals: each Python frame's arguments and locals.

The target (tests/targets/dump_locals.py) blocks in waiter(), called by
blocked(), whose arguments and locals hold one value of every type the
repr reader knows; it prints Python's own repr() of each. The dump must
show exactly those (an object as <Type at 0x...> at its id()), the capped
ones (a 10 MB str, an int of 30 000 digits) visibly cut, the cell and the
free variable as such, on every interpreter of the matrix.
"""
import json
import re

import jsonschema

from conftest import TARGETS, line_of, run_gil_prof
from test_dump import SCHEMA, group  # noqa: F401 (fixture)

SCRIPT = TARGETS / "dump_locals.py"


def dumped(pid, *args):
    r = run_gil_prof("dump", "-p", pid, "--locals", *args, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def frames_of(doc, pid):
    proc = next(p for p in doc["processes"] if p["pid"] == pid)
    (thread,) = proc["threads"]
    return [f for f in thread["frames"] if f["kind"] == "python"]


def test_locals_json_every_type(python, group):  # noqa: F811
    g = group(python, SCRIPT)
    expect = json.loads(g.ready)
    doc = json.loads(dumped(g.pid, "--json"))
    jsonschema.validate(doc, SCHEMA)
    assert doc["paused"]  # --locals implies --pause
    waiter, blocked, module = frames_of(doc, g.pid)
    assert waiter["function"].endswith("waiter"), waiter
    assert waiter["line"] == line_of(SCRIPT, "waiter-line"), waiter
    assert blocked["function"] == "blocked", blocked
    got = {v["name"]: [v["kind"], v["repr"]] for v in blocked["locals"]}
    want = dict(expect["blocked"])
    want["obj"] = ["local", expect["obj"]]
    for name, kind_repr in want.items():
        assert got.get(name) == kind_repr, (name, got.get(name), kind_repr)
    # Parameters first, in the code object's order.
    assert [v["name"] for v in blocked["locals"][:5]] == ["n", "flag", "big", "rest", "kw"]
    kind, text = got["hugestr"]
    assert kind == "local" and text.startswith("'xxxxxxxx") and \
        text.endswith("...' (10000000 chars)") and len(text) < 200, text
    kind, text = got["enormous"]
    assert kind == "local" and re.fullmatch(
        r"<int of \d+ digits \(about \d+ decimal\) at 0x[0-9a-f]+>", text), text
    assert got["waiter"][1].startswith("<function at 0x"), got["waiter"]
    assert {v["name"]: [v["kind"], v["repr"]] for v in waiter["locals"]} == expect["waiter"]
    assert module["function"] == "<module>" and module["locals"] == [], module


def test_locals_text(python, group):  # noqa: F811
    g = group(python, SCRIPT)
    out = dumped(g.pid)
    assert "paused while read" in out, out
    assert re.search(r"\n        argument n = 7\n", out), out
    assert "\n        local    text = 'naïve café 名前 🐍'\n" in out, out
    assert "\n        cell     shared = 'in a cell'\n" in out, out
    assert "\n        free     shared = 'in a cell'\n" in out, out


def test_locals_every_thread_of_the_deadlock(python, group):  # noqa: F811
    # tests/targets/dump_threads.py: seven threads, two of them deadlocked.
    # Each thread's own frames get its own variables: Thread.run's self is
    # that thread's Thread, the selector's argument is its pipe's fd.
    script = TARGETS / "dump_threads.py"
    g = group(python, script)
    ids = json.loads(g.ready)
    doc = json.loads(dumped(g.pid, "--json"))
    jsonschema.validate(doc, SCHEMA)
    proc = next(p for p in doc["processes"] if p["pid"] == g.pid)
    threads = {t["name"]: t for t in proc["threads"]}
    selves = set()
    for name in ("sleeper", "lock-a", "lock-b", "selector", "spinner"):
        run = next(f for f in threads[name]["frames"] if f["function"].endswith("Thread.run")
                   or f["function"] == "run")
        (self,) = [v for v in run["locals"] if v["name"] == "self"]
        assert self["kind"] == "argument" and self["repr"].startswith("<Thread at 0x"), run
        selves.add(self["repr"])
    assert len(selves) == 5, selves
    sel = next(f for f in threads["selector"]["frames"] if f["function"] == "wait_select")
    assert [v["kind"] for v in sel["locals"]][:1] == ["argument"], sel
    main = next(f for f in threads["MainThread"]["frames"] if f["function"] == "main")
    got = {v["name"]: v["repr"] for v in main["locals"]}
    assert "'lock-a': %d" % ids["lock-a"] in got["ids"], got
    assert got["r"].isdigit() and got["w"].isdigit(), got
    # The selector waits on main's r: the same int in both threads' frames.
    assert sel["locals"][0] == {"name": "fd", "kind": "argument", "repr": got["r"]}, sel
    assert line_of(script, "main-line") == main["line"]
