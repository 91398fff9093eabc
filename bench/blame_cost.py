#!/usr/bin/env python3
"""What blame costs: BPF time per waiting record, from the kernel's accounting.

    sudo bench/blame_cost.py [--python PATH] [--duration 5] [--repeat 3] [--json FILE]

Runs tests/targets/gil_blame.py in "hog" mode (two workers waiting for a
pure-Python hog: a waiting switch-out every few ms) and in "usleep" mode,
and records each with ./gil-prof -v twice, alternating: with blame (the
default) and with --no-blame (the baseline of the same run). From -v it
reads each BPF program's run count and run time and the blame counter
(waiting records followed by their holder's record), and reports

  ns/run       BPF time per run of on_switch and on_cpu_sample (medians)
  blame/s      waiting records per second that looked up their holder
  ns/blame     the extra BPF time per such record: (time with blame -
               time without, per run, x runs) / blame records
"""
import argparse
import json
import os
import pathlib
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
TARGET = ROOT / "tests" / "targets" / "gil_blame.py"
PROG_RE = re.compile(r"bpf prog (\w+)\s+(\d+) runs, (\d+) ns")
COUNTER_RE = re.compile(r"counter (\w+)\s+(\d+)")


def default_python():
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    found = sorted(pathlib.Path(root).glob("versions/3.12.*/bin/python3"))
    return str(found[-1]) if found else "/usr/bin/python3.11"


def record(python, mode, seconds, blame):
    """(runs and ns per program, counters) of one launched recording."""
    out = tempfile.mkdtemp(prefix="gp-blame-cost-")
    args = [str(ROOT / "gil-prof"), "-v", "-o", os.path.join(out, "out.folded")]
    if not blame:
        args.append("--no-blame")
    r = subprocess.run(args + ["--", python, str(TARGET), mode, str(seconds)],
                       capture_output=True, text=True, timeout=seconds * 10 + 60,
                       start_new_session=True)
    shutil.rmtree(out, ignore_errors=True)
    if r.returncode != 0:
        raise SystemExit("gil-prof failed: %s" % r.stderr)
    progs = {m[1]: (int(m[2]), int(m[3])) for m in PROG_RE.finditer(r.stderr)}
    counters = {m[1]: int(m[2]) for m in COUNTER_RE.finditer(r.stderr)}
    return progs, counters


def measure(python, mode, seconds, repeat):
    per = {True: [], False: []}
    for _ in range(repeat):
        for blame in (True, False):
            per[blame].append(record(python, mode, seconds, blame))
    out = {"mode": mode}
    extra = []
    for progs, counters in per[True]:
        base = [p for p, _ in per[False]]
        ns = 0.0
        for name in ("on_switch", "on_cpu_sample"):
            if name not in progs:
                continue
            runs, total = progs[name]
            base_per_run = statistics.median(b[name][1] / b[name][0] for b in base if name in b)
            ns += total - base_per_run * runs
        if counters.get("blame"):
            extra.append(ns / counters["blame"])
    for name in ("on_switch", "on_cpu_sample"):
        for blame in (True, False):
            v = [p[name][1] / p[name][0] for p, _ in per[blame] if name in p and p[name][0]]
            out["%s ns/run%s" % (name, "" if blame else " (--no-blame)")] = \
                round(statistics.median(v)) if v else None
    out["blame/s"] = round(statistics.median(c.get("blame", 0) for _, c in per[True]) / seconds)
    out["ns/blame"] = round(statistics.median(extra)) if extra else None
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--python", default=default_python())
    ap.add_argument("--duration", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json")
    a = ap.parse_args()
    rows = [measure(a.python, mode, a.duration, a.repeat) for mode in ("hog", "usleep")]
    for row in rows:
        print(json.dumps(row))
    if a.json:
        pathlib.Path(a.json).write_text(json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
