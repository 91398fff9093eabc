"""Interpreters that live in a Debian root of their own (tests/roots/):
BENCH_PYTHON=sid-3.15 (or --python sid-3.14, sid-3.15d, ...) runs the
workloads under Debian sid's interpreter, chrooted into the cached sid root
(tests/roots/sid.sh makes it once, about a minute), as the functional tests
do. Only there is CPython's own sampler, Tachyon (python3.15 -m
profiling.sampling), to be had on these machines.

The wrapper execs (no fork: the target's PID is the interpreter's) into a
private mount namespace with a copy-on-write view of the root and /tmp and
the clone bound at their own paths (tests/roots/in_root.sh), so workload
scripts and the profilers' output files have the same paths inside and out.
"""
import pathlib
import re
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]
SID_SCRIPT = ROOT / "tests" / "roots" / "sid.sh"
IN_ROOT = ROOT / "tests" / "roots" / "in_root.sh"
BIN = ROOT / ".output" / "bench" / "sid-bin"
SPEC = re.compile(r"^sid-(3\.\d+)(d?)$")


class Interpreter:
    """python: what to run a workload with; root: the directory it runs in
    ("/" on the host); name: the interpreter's command inside that root."""

    def __init__(self, python, root="/", name=None):
        self.python, self.root, self.name = python, root, name or pathlib.Path(python).name

    def minor(self):
        m = re.search(r"python(3\.\d+)", self.name)
        return tuple(int(x) for x in m.group(1).split(".")) if m else None


def resolve(spec):
    """An Interpreter for a path on the host or a sid-3.X[d] name."""
    m = SPEC.match(spec)
    if not m:
        return Interpreter(spec)
    r = subprocess.run([str(SID_SCRIPT)], capture_output=True, text=True, timeout=1800)
    if r.returncode != 0:
        raise SystemExit("bench: error: tests/roots/sid.sh failed: %s" % r.stderr.strip())
    root = r.stdout.strip().splitlines()[-1]
    name = "python%s%s" % (m.group(1), m.group(2))
    if not (pathlib.Path(root) / "usr" / "bin" / name).exists():
        raise SystemExit("bench: error: %s has no %s" % (root, name))
    BIN.mkdir(parents=True, exist_ok=True)
    exe = BIN / name
    text = ("#!/bin/sh\n# %s of %s (bench/benchlib/roots.py)\n"
            "export IN_ROOT_TMPFS=1 IN_ROOT_BIND='/tmp %s'\n"
            'exec %s %s %s.work %s "$@"\n' % (name, root, ROOT, IN_ROOT, root, root, name))
    if not exe.exists() or exe.read_text() != text:
        tmp = exe.with_suffix(".new")
        tmp.write_text(text)
        tmp.chmod(0o755)
        tmp.rename(exe)
    return Interpreter(str(exe), root, name)
