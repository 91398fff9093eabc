"""Shared helpers for the packaging tests: the self-contained binary (make
dist), the wheel (make wheel), make install, the man page and completion,
and other Debian releases (tests/packaging/).

`make packaging` (in `make test`) and `make distros` run them with:
GIL_PROF (the development build), GIL_PROF_DIST (.output/dist/gil-prof),
GIL_PROF_WHEEL (the built wheel), GIL_PROF_VERSION and GIL_PROF_DISTROS
(the Debian releases to run in).
"""
import ast
import importlib.util
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
HERE = pathlib.Path(__file__).resolve().parent
TARGETS = ROOT / "tests" / "targets"
MKROOT = ROOT / "tests" / "roots" / "mkroot.sh"
IN_ROOT = ROOT / "tests" / "roots" / "in_root.sh"

# The functional tests' helpers (folded stacks, frames, GIL states), loaded
# under another name: both directories have a conftest.py.
_spec = importlib.util.spec_from_file_location("functional_conftest",
                                               ROOT / "tests" / "functional" / "conftest.py")
functional = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(functional)
parse_folded = functional.parse_folded
frame_parts = functional.frame_parts
thread_states = functional.thread_states
shares = functional.shares


def env_path(name, what):
    value = os.environ.get(name)
    if not value:
        pytest.fail("%s is not set: run these tests with `make packaging` (%s)" % (name, what))
    path = pathlib.Path(value)
    if not path.exists():
        pytest.fail("%s=%s does not exist (%s)" % (name, value, what))
    return path


@pytest.fixture(scope="session")
def dev_bin():
    return env_path("GIL_PROF", "the development build, make")


@pytest.fixture(scope="session")
def dist_bin():
    return env_path("GIL_PROF_DIST", "the self-contained binary, make dist")


@pytest.fixture(scope="session")
def wheel():
    return env_path("GIL_PROF_WHEEL", "the wheel, make wheel")


@pytest.fixture(scope="session")
def version():
    v = os.environ.get("GIL_PROF_VERSION")
    if not v:
        pytest.fail("GIL_PROF_VERSION is not set: run these tests with `make packaging`")
    return v


def make(*args, timeout=600, **kw):
    """Run make in the repository; fail with its output."""
    # Not the calling make's jobserver: this is a make of its own.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    r = subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), *args],
                       capture_output=True, text=True, timeout=timeout, env=env, **kw)
    assert r.returncode == 0, "make %s failed:\n%s\n%s" % (" ".join(args), r.stdout, r.stderr)
    return r


def function_lines(script, name):
    """Lines of function `name` in a target script, def to end."""
    tree = ast.parse((TARGETS / script).read_text())
    node = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == name)
    return set(range(node.lineno, node.end_lineno + 1))


def thread_names(stacks):
    """{tid: name} from the thread frames of folded stacks."""
    out = {}
    for frames, _ in stacks:
        inner = frames[0][len("thread ("):-1]
        tid, _, name = inner.partition(" ")
        out[int(tid)] = name
    return out


# demo_app.py's worker threads by the function each runs (its thread's
# target), with the functions its samples may end in.
DEMO_THREADS = {
    "ranker": ("rank_orders", ("score", "rank_orders")),
    "parser": ("parse_batch", ("parse_batch", "<genexpr>", "<listcomp>")),
    "hasher": ("checksum_uploads", ("checksum_uploads",)),
    "heartbeat": ("heartbeat", ("heartbeat",)),
}


def demo_threads(stacks, script_path):
    """{thread name: tid} of demo_app.py's workers, found by the function
    each one runs: a launched program's threads may be named in the
    profile or not (see the README's Limits on thread names). The thread
    with most samples in that function: a frame symbolized after its code
    object's address was reused can put the name elsewhere once."""
    counts = {}
    for frames, count in stacks:
        funcs = {p[0] for p in map(frame_parts, frames[1:]) if p and p[1] == script_path}
        tid = int(frames[0][len("thread ("):].split(")")[0].split()[0])
        for name, (target, _) in DEMO_THREADS.items():
            if target in funcs:
                per = counts.setdefault(name, {})
                per[tid] = per.get(tid, 0) + count
    found = {name: max(per, key=per.get) for name, per in counts.items()}
    assert len(set(found.values())) == len(found), "threads share a worker: %s" % counts
    return found


def check_demo_profile(folded, script_path, who, names=True):
    """A recording of tests/targets/demo_app.py, whatever ran it: its four
    workers, each in its own function and lines and in the GIL state that
    function puts it in (with names=True, also named as Python names them).

    ranker and parser compute in Python (holding or waiting, hardly
    anything else), hasher hashes 8 MB buffers with the GIL released
    (the thread with most released time, in checksum_uploads), heartbeat
    sleeps (idle, and waits for the GIL when it wakes)."""
    stacks = parse_folded(folded)
    by_name = demo_threads(stacks, script_path)
    assert set(by_name) == set(DEMO_THREADS), "%s: threads %s in %s" % (who, by_name, stacks)
    if names:
        named = thread_names(stacks)
        for name, tid in by_name.items():
            assert named[tid] == name, "%s: thread %d is named %r" % (who, tid, named[tid])
    states = thread_states(stacks)
    for name, (_, leaves) in DEMO_THREADS.items():
        tid = by_name[name]
        seen = 0
        for frames, count in stacks:
            if not frames[0].startswith(("thread (%d)" % tid, "thread (%d " % tid)):
                continue
            leaf = frame_parts(frames[-1])
            if not leaf or leaf[1] != script_path:
                continue
            assert leaf[0] in leaves or leaf[0].endswith(leaves[1:]), \
                "%s: %s leaf %s" % (who, name, frames)
            if leaf[0] in DEMO_LINES_CHECKED:
                assert leaf[2] in function_lines("demo_app.py", leaf[0]), \
                    "%s: %s line %s outside %s" % (who, name, leaf[2], leaf[0])
            seen += count
        assert seen >= 10, "%s: %d samples of %s in demo_app.py: %s" % (who, seen, name, stacks)
    s = {name: shares(states[tid]) for name, tid in by_name.items()}
    for name in ("ranker", "parser"):
        py = s[name].get("holding", 0) + s[name].get("waiting", 0)
        assert py >= 0.85 and s[name].get("holding", 0) >= 0.15, "%s: %s %s" % (who, name, s[name])
    released = {n: v.get("released", 0) for n, v in s.items()}
    # How much of hasher's time is hashing (released) and how much getting
    # the GIL back from the two computing threads depends on the machine's
    # load: 9-24% on the 2-core development machine in one quiet hour.
    assert released["hasher"] >= 0.05 and max(released, key=released.get) == "hasher", \
        "%s: released shares %s" % (who, released)
    # Each wake-up waits for the GIL the computing threads hold: a few
    # percent on a quiet machine, more when they are preempted holding it.
    hb = s["heartbeat"]
    assert hb.get("idle", 0) >= 0.6 and hb.get("idle", 0) + hb.get("waiting", 0) >= 0.95, \
        "%s: heartbeat %s" % (who, hb)
    return stacks


DEMO_LINES_CHECKED = ("score", "rank_orders", "parse_batch", "checksum_uploads", "heartbeat")
