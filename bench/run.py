#!/usr/bin/env python3
"""gil-prof against py-spy, Austin and Tachyon: what each costs the target, side by side.

    sudo bench/run.py [--smoke] [--reps N] [--rates 100,1000] [--workloads calls,...]
                      [--profilers gilprof-cpu,...] [--python PATH] [--tools DIR]
                      [--out DIR] [--report-only]

Runs every workload (bench/workloads/, fixed work, self-checking) with no
profiler and under every profiler setting at every rate, interleaved
(A B C ... A B C ...) for --reps repetitions, and writes DIR/latest.json
(every run), DIR/latest.md (medians, min-max, the targets of issue 7) and
DIR/latest.png (slowdown vs rate). --report-only re-renders the table and
chart from DIR/latest.json. `make bench` installs py-spy, Austin, wrk and
gnuplot and runs this; `make bench-smoke` runs the --smoke form (tiny
workloads, one repetition, one setting per profiler) and checks its output
with bench/check_results.py.

The environment sets the defaults of the long form: BENCH_REPS,
BENCH_RATES, BENCH_WORKLOADS, BENCH_PROFILERS, BENCH_PYTHON. --python
sid-3.15 (sid-3.14, sid-3.15d, ...) runs the workloads under Debian sid's
interpreter in the cached sid root (benchlib/roots.py); on 3.15 CPython's
own sampler, Tachyon, joins the settings (`make bench-tachyon`).
"""
import argparse
import glob
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from benchlib import (bpfstats, chart, machine, profilers, report, roots, runner,  # noqa: E402
                      workloads)

SMOKE_PROFILERS = ["gilprof-native", "gilprof-timeline", "pyspy", "austin"]


def default_python():
    """The pyenv CPython 3.11 if there is one (all three profilers read it),
    else python3.11, else python3."""
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    found = sorted(glob.glob(os.path.join(root, "versions", "3.11.*", "bin", "python3")))
    return found[-1] if found else shutil.which("python3.11") or shutil.which("python3")


def python_minor(python):
    r = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise SystemExit("bench: error: cannot run %s: %s" % (python, r.stderr.strip()))
    return tuple(int(x) for x in r.stdout.split("."))


def find_tools(tools_dir, interp, minor):
    # BENCH_GIL_PROF: another build of gil-prof to measure (A/B of a change).
    tools = {"gil-prof": os.environ.get("BENCH_GIL_PROF") or str(ROOT / "gil-prof")}
    for name in ("py-spy", "austin"):
        path = os.path.join(tools_dir, name) if tools_dir else None
        tools[name] = path if path and os.access(path, os.X_OK) else shutil.which(name)
    # Tachyon is the target interpreter's own module, run where the target
    # runs (its root: profilers.py).
    tools["tachyon"] = (interp.name if interp.root != "/" else interp.python) \
        if minor >= (3, 15) else None
    return tools


def tool_version(tools, name):
    if not tools.get(name):
        return None
    r = subprocess.run([tools[name], "--version"], capture_output=True, text=True)
    out = (r.stdout or r.stderr).strip().splitlines()
    return out[0] if out else "?"


def parse_args():
    env = os.environ.get
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--smoke", action="store_true", help="tiny workloads, one setting each")
    ap.add_argument("--reps", type=int, default=int(env("BENCH_REPS") or 0) or None)
    ap.add_argument("--rates", default=env("BENCH_RATES"))
    ap.add_argument("--workloads", default=env("BENCH_WORKLOADS"))
    ap.add_argument("--profilers", default=env("BENCH_PROFILERS"))
    ap.add_argument("--python", default=env("BENCH_PYTHON") or default_python())
    ap.add_argument("--tools", default=str(ROOT / ".output" / "bench" / "venv" / "bin"),
                    help="directory holding py-spy and austin (else PATH)")
    ap.add_argument("--out", default=str(HERE / "results"))
    ap.add_argument("--timeout", type=int, default=300, help="seconds per workload run")
    ap.add_argument("--report-only", action="store_true")
    a = ap.parse_args()
    a.reps = a.reps or (1 if a.smoke else 5)
    a.rates = [int(r) for r in (a.rates or ("100" if a.smoke else "100,1000")).split(",") if r]
    a.workloads = (a.workloads.split(",") if a.workloads else workloads.DEFAULT)
    if a.report_only:
        a.interp, a.minor = None, None
        a.profilers = a.profilers.split(",") if a.profilers else []
        return a
    a.interp = roots.resolve(a.python)
    a.python = a.interp.python
    a.minor = python_minor(a.python)
    if a.profilers:
        a.profilers = a.profilers.split(",")
    else:
        a.profilers = SMOKE_PROFILERS if a.smoke else [
            s.key for s in profilers.SETTINGS[1:] if (s.min_python or (0, 0)) <= a.minor]
    for w in a.workloads:
        if w not in workloads.BY_KEY:
            ap.error("unknown workload %r (known: %s)" % (w, ", ".join(workloads.BY_KEY)))
    for p in a.profilers:
        if p not in profilers.BY_KEY or p == "none":
            ap.error("unknown profiler setting %r (known: %s)"
                     % (p, ", ".join(s.key for s in profilers.SETTINGS[1:])))
        need = profilers.BY_KEY[p].min_python
        if need and a.minor < need:
            ap.error("%s reads Python %d.%d and newer; the workloads run %d.%d (--python "
                     "sid-3.15)" % ((p,) + need + a.minor))
    return a


def plan(a):
    """The runs of one repetition of one workload: the baseline, then every
    setting at every rate."""
    cells = [("none", None)]
    for rate in a.rates:
        cells += [(p, rate) for p in a.profilers]
    return cells


def workload_env(a, tmp):
    env = dict(os.environ)
    if "native" in a.workloads:
        sys.path.insert(0, str(ROOT / "tests" / "targets"))
        import gpnative_build
        env["GPNATIVE_DIR"] = gpnative_build.build(a.python, os.path.join(tmp, "gpnative"))
    return env


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def measure(a, tools):
    missing = sorted({profilers.BY_KEY[p].tool for p in a.profilers} - {k for k, v in tools.items() if v})
    if missing:
        raise SystemExit("bench: error: %s not found (run `make bench`, which installs them, "
                         "or pass --tools DIR)" % ", ".join(missing))
    if not os.access(tools["gil-prof"], os.X_OK):
        raise SystemExit("bench: error: build gil-prof first (make)")
    # Under /tmp: an interpreter in a root sees the host's /tmp (roots.py).
    tmp = tempfile.mkdtemp(prefix="gp-bench-", dir="/tmp")
    data = {
        "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "smoke": a.smoke, "reps": a.reps, "rates": a.rates, "workloads": a.workloads,
        "profilers": a.profilers, "machine": machine.describe(a.python),
        "tools": {k: tool_version(tools, k) for k in ("gil-prof", "py-spy", "austin")},
        "load_start": machine.load1(), "runs": [],
    }
    if tools.get("tachyon"):
        data["tools"]["tachyon"] = "profiling.sampling of Python %s" % (
            data["machine"]["python_version"])
    ctx = {"tmp": tmp, "python": a.python, "smoke": a.smoke, "env": workload_env(a, tmp),
           "timeout": a.timeout, "tools": tools}
    cells = plan(a)
    total = a.reps * len(a.workloads) * len(cells)
    t0 = time.monotonic()
    n = 0
    for rep in range(a.reps):
        for wkey in a.workloads:
            wl = workloads.BY_KEY[wkey]
            # Rotate the order each repetition so no setting always runs
            # first (or right after the same neighbour).
            k = rep % len(cells)
            for skey, rate in cells[k:] + cells[:k]:
                n += 1
                run = {"workload": wkey, "setting": skey, "rate": rate, "rep": rep}
                try:
                    run.update(runner.run_one(wl, profilers.BY_KEY[skey], rate or 0, ctx))
                except runner.RunError as e:
                    run.update({"ok": False, "error": str(e)})
                data["runs"].append(trim(run))
                eta = (time.monotonic() - t0) / n * (total - n)
                log("%d/%d %s %s%s: %s  (%.0f min left)" % (
                    n, total, wkey, skey, " @%d Hz" % rate if rate else "",
                    "%.3f s" % run["elapsed"] if run["ok"] else "FAILED " + run["error"],
                    eta / 60))
    data["load_end"] = machine.load1()
    data["minutes"] = (time.monotonic() - t0) / 60
    shutil.rmtree(tmp, ignore_errors=True)
    return data


def trim(run):
    """Keep the counters that say something (non-zero ones)."""
    if "counters" in run:
        run["counters"] = {k: v for k, v in run["counters"].items() if v}
    return run


def main():
    a = parse_args()
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    raw = out / "latest.json"
    if a.report_only:
        data = json.loads(raw.read_text())
    else:
        with bpfstats.enabled():
            data = measure(a, find_tools(a.tools, a.interp, a.minor))
        tmp = raw.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(data, indent=1) + "\n")
        tmp.replace(raw)
    summary = report.summarize(data)
    md = out / "latest.md"
    tmp = md.with_suffix(".md.tmp")
    tmp.write_text(report.markdown(data, summary))
    tmp.replace(md)
    png = out / "latest.png"
    chart.plot(data, summary, str(png))
    log("wrote %s, %s, %s" % (raw, md, png))
    failed = [r for r in data["runs"] if not r["ok"]]
    if failed:
        log("%d run(s) failed; see the table" % len(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
