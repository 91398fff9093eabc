"""--subprocesses on a process tree that already runs when gil-prof attaches
(py-spy's tests/scripts/subprocesses.py, plus a grandchild): every process
is profiled or dumped, not the parent alone. The tree runs in its own
session and the whole process group is killed at the end.
"""
import json
import os
import time

import pytest

from conftest import TARGETS, Target, frame_parts, line_of, parse_folded, run_gil_prof

SCRIPT = TARGETS / "subprocesses.py"


@pytest.fixture
def tree():
    started = []

    def start(python):
        t = Target(python, SCRIPT)
        started.append(t)
        return t.pid, [int(x) for x in t.ready_fields]

    yield start
    for t in started:
        t.kill()


def descendants(pid):
    """{pid: ppid} of every descendant of pid running now, from each
    process's PPid (an independent truth: gil-prof reads the children files)."""
    parents = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                stat = open("/proc/%s/stat" % d, "rb").read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            parents[int(d)] = int(stat[1])
    out, todo = {}, [pid]
    while todo:
        p = todo.pop()
        for child, parent in parents.items():
            if parent == p and child not in out:
                out[child] = parent
                todo.append(child)
    return out


def process_of(frames):
    assert frames[0].startswith("process "), frames
    return int(frames[0].split()[1].split(":")[0])


def leaves(stacks, pid):
    """{(function, line): samples} of the leaf Python frames of process pid."""
    out = {}
    for frames, count in stacks:
        if process_of(frames) != pid:
            continue
        parts = frame_parts(frames[-1])
        if parts:
            out[parts[0], parts[2]] = out.get((parts[0], parts[2]), 0) + count
    return out


def test_record_running_tree(python, tree, tmp_path):
    parent, (a, b, grandchild) = tree(python)
    folded = tmp_path / "tree.folded"
    r = run_gil_prof("record", "--subprocesses", "-p", parent, "-d", "1.5s", "-o", folded,
                     timeout=120)
    assert r.returncode == 0, r.stderr
    stacks = parse_folded(folded)
    assert {process_of(f) for f, _ in stacks} >= {parent, a, b, grandchild}, r.stderr
    child_line = line_of(SCRIPT, "child-sleep")
    for pid in (a, b, grandchild):
        got = leaves(stacks, pid)
        func, line = ("grandchild", line_of(SCRIPT, "grandchild-sleep")) if pid == grandchild \
            else ("target", child_line)
        # Each sleeps the whole recording: its main thread's time is there.
        assert got.get((func, line), 0) >= 100, (pid, got)
    # Every descendant (3.14's forkserver and resource tracker too) is noted.
    tree = descendants(parent)
    assert len(tree) >= 3
    assert "%d child processes" % len(tree) in r.stderr, (tree, r.stderr)
    assert r.stderr.count("was already running: profiled too") == len(tree), r.stderr


def test_dump_running_tree(tree):
    parent, (a, b, grandchild) = tree("/usr/bin/python3.11")
    # The parent prints "ready" just before it blocks in join(): a dump can
    # land in between, so dump again (a few times at most) until it blocks.
    for _ in range(10):
        r = run_gil_prof("dump", "--subprocesses", "--json", "-p", parent, timeout=60)
        assert r.returncode == 0, r.stderr
        procs = {p["pid"]: p for p in json.loads(r.stdout)["processes"]}
        main = next(t for t in procs[parent]["threads"] if t["tid"] == parent)
        if (main.get("waits_in") or {}).get("kind") == "child":
            break
        time.sleep(0.2)
    tree = descendants(parent)
    assert set(procs) == {parent} | set(tree), (procs.keys(), tree)
    assert procs[parent]["ppid"] is None
    for pid, ppid in tree.items():
        assert procs[pid]["ppid"] == ppid, (pid, procs[pid], tree)
    for pid in (a, b, grandchild):
        main = next(t for t in procs[pid]["threads"] if t["tid"] == pid)
        inner = next(f for f in main["frames"] if f["kind"] == "python")
        assert inner["function"] in ("target", "grandchild"), main
        assert main["waits_in"]["kind"] == "sleep", main
    main = next(t for t in procs[parent]["threads"] if t["tid"] == parent)
    assert main["waits_in"]["kind"] == "child", main
