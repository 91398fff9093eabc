"""gil-prof dump: every thread's stack, GIL state and wait, once.

The target (tests/targets/dump_threads.py) has threads whose stacks and
waits are known: a sleeper, two deadlocked threads (each holds the lock the
other wants), a thread in select(), a spinner. Targets run in their own
session; the whole process group is killed at the end.
"""
import json
import os
import pathlib
import signal
import subprocess
import time

import jsonschema
import pytest  # noqa: F401 (fixtures)

from conftest import ROOT, TARGETS, line_of, run_gil_prof

SCRIPT = TARGETS / "dump_threads.py"
SCHEMA = json.loads((ROOT / "output" / "dump.schema.json").read_text())


class Group:
    """A target in its own session, killed with its whole process group."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, start_new_session=True)
        self.pid = self.proc.pid
        line = self.proc.stdout.readline()
        if not line.startswith("ready"):
            self.kill()
            raise AssertionError("target did not start: %r %s" % (line, self.proc.stderr.read()))
        self.ready = line[len("ready"):].strip()
        # Its main thread goes from printing to its wait.
        time.sleep(0.5)

    def kill(self):
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=10)


@pytest.fixture
def group():
    started = []

    def start(*argv):
        g = Group([str(a) for a in argv])
        started.append(g)
        return g

    yield start
    for g in started:
        g.kill()


def dump_json(pid, *args):
    r = run_gil_prof("dump", "-p", pid, "--json", *args, timeout=60)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    jsonschema.validate(doc, SCHEMA)
    return doc


def by_name(doc, pid):
    proc = next(p for p in doc["processes"] if p["pid"] == pid)
    return {t["name"]: t for t in proc["threads"]}


def innermost_python(thread):
    return next(f for f in thread["frames"] if f["kind"] == "python")


def check_known_threads(doc, g):
    ids = json.loads(g.ready)
    threads = by_name(doc, g.pid)
    assert set(ids) <= set(threads), (sorted(threads), sorted(ids))
    for name, tid in ids.items():
        assert threads[name]["tid"] == tid, name
        assert threads[name]["seen"], threads[name]
    expect = {
        "sleeper": ("nap", "nap-line", "sleep"),
        "ünïcode-名前": ("nap", "nap-line", "sleep"),
        "lock-a": ("take_a_then_b", "wants-b", "lock"),
        "lock-b": ("take_b_then_a", "wants-a", "lock"),
        "selector": ("wait_select", "select-line", "select"),
        "MainThread": ("main", "main-line", "sleep"),
    }
    for name, (func, marker, wait) in expect.items():
        t = threads[name]
        f = innermost_python(t)
        assert f["function"] == func and f["line"] == line_of(SCRIPT, marker), (name, t)
        assert f["file"].endswith("dump_threads.py"), f
        assert t["gil"] == "idle", (name, t)
        assert t["waits_in"] and t["waits_in"]["kind"] == wait, (name, t)
    # Both deadlocked threads wait in a futex: each holds the lock the other wants.
    for name in ("lock-a", "lock-b"):
        assert threads[name]["waits_in"]["syscall"] == "futex", threads[name]
    assert threads["lock-a"]["waits_in"]["futex"] != threads["lock-b"]["waits_in"]["futex"]
    spin = threads["spinner"]
    f = innermost_python(spin)
    assert f["function"] == "spin", spin
    assert f["line"] in (line_of(SCRIPT, "spin-line"), line_of(SCRIPT, "spin-line") - 1), spin
    assert spin["gil"] in ("holding", "waiting", "released"), spin
    # The frames below are threading's, outermost _bootstrap.
    assert spin["frames"][-1]["function"].endswith("_bootstrap"), spin["frames"]


def test_dump_every_thread(python, group):
    g = group(python, SCRIPT)
    doc = dump_json(g.pid)
    assert doc["pid"] == g.pid and not doc["paused"]
    check_known_threads(doc, g)


def test_dump_pause_is_consistent_and_resumes(python, group):
    g = group(python, SCRIPT)
    doc = dump_json(g.pid, "--pause")
    assert doc["paused"]
    check_known_threads(doc, g)
    threads = by_name(doc, g.pid)
    # Stopped while read, so no thread runs: the spinner is off CPU too.
    assert not threads["spinner"]["on_cpu"], threads["spinner"]
    # ... and it runs again afterwards: no thread is left traced or stopped.
    tid = threads["spinner"]["tid"]
    stat = "/proc/%d/task/%d/stat" % (g.pid, tid)

    def utime():
        return int(pathlib.Path(stat).read_text().rsplit(")", 1)[1].split()[11])

    before = utime()
    time.sleep(0.5)
    assert utime() > before
    for task in pathlib.Path("/proc/%d/task" % g.pid).iterdir():
        # The kernel cuts a thread's name (comm) to 15 bytes, mid-character too.
        status = (task / "status").read_bytes().decode("utf-8", "replace")
        assert "TracerPid:\t0\n" in status, status
        assert "(tracing stop)" not in status and "(stopped)" not in status, status


def test_dump_pause_native_deadlock(python, group):
    # Stopped threads are unwound natively too (ptrace registers, a stack
    # copy, the sampler's unwinder): each deadlocked thread waits in the
    # lock's acquire, called from its Python line.
    g = group(python, SCRIPT)
    doc = dump_json(g.pid, "--pause", "--native")
    threads = by_name(doc, g.pid)
    for name, func, marker in (("lock-a", "take_a_then_b", "wants-b"),
                               ("lock-b", "take_b_then_a", "wants-a")):
        frames = threads[name]["frames"]
        first_py = next(i for i, f in enumerate(frames) if f["kind"] == "python")
        assert frames[first_py]["function"] == func, frames
        assert frames[first_py]["line"] == line_of(SCRIPT, marker), frames
        native = frames[:first_py]
        assert native and all(f["kind"] == "native" for f in native), frames
        # PyThread_acquire_lock_timed is exported: named even in stripped builds.
        assert any("acquire" in f["function"] for f in native), native
        # ... and below the Python frames, the thread's start in C.
        assert frames[-1]["kind"] == "native", frames[-3:]


def test_dump_text_deadlock_and_kernel_frames(group):
    py = "/usr/bin/python3.11"
    g = group(py, SCRIPT)
    r = run_gil_prof("dump", "-p", g.pid, "--kernel", timeout=60)
    assert r.returncode == 0, r.stderr
    blocks = {b.split('"')[1]: b for b in r.stdout.split("\nThread ")[1:]}
    for name, func, marker in (("lock-a", "take_a_then_b", "wants-b"),
                               ("lock-b", "take_b_then_a", "wants-a")):
        block = blocks[name]
        head, *frames = block.splitlines()
        assert "idle" in head and "waits in a lock or condition (futex" in head, block
        # Kernel frames first (innermost), in the futex; then the Python line.
        assert frames[0].startswith("    [kernel] ") and "futex" in block, block
        python = [f for f in frames if not f.startswith("    [kernel]")]
        assert python[0] == "    %s (%s:%d)" % (func, SCRIPT, line_of(SCRIPT, marker)), block
    assert "Python 3.11" in r.stdout and "not paused" in r.stdout


def test_dump_gil_waiters_name_the_holder(group):
    # Three spinners: the ones waiting name the one holding.
    py = "/usr/bin/python3.11"
    extra = group(py, "-c", "import threading, time\n"
                  "def spin():\n    while True: pass\n"
                  "[threading.Thread(target=spin, daemon=True).start() for _ in range(3)]\n"
                  "print('ready', flush=True)\ntime.sleep(3600)\n")
    seen_wait = False
    for _ in range(5):
        doc = dump_json(extra.pid)
        threads = doc["processes"][0]["threads"]
        holders = {t["tid"] for t in threads if t["gil"] == "holding"}
        for t in threads:
            if t["gil"] == "waiting":
                seen_wait = True
                assert t["gil_holder"] in holders, threads
        if seen_wait:
            break
    assert seen_wait, "no thread seen waiting for the GIL among three spinners"


def test_dump_refusals(tmp_path):
    r = run_gil_prof("dump")
    assert r.returncode == 2 and "give -p PID" in r.stderr
    r = run_gil_prof("dump", "-p", "1", "-o", tmp_path / "x.svg")
    assert r.returncode == 2 and "--output does not go with dump" in r.stderr
    r = run_gil_prof("dump", "--", "python3", "-c", "pass")
    assert r.returncode == 2
    r = run_gil_prof("dump", "-p", "4194000")
    assert r.returncode == 3, r.stderr
