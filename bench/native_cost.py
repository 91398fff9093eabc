#!/usr/bin/env python3
"""Cost of --native: unwinding per sample and the profiler's CPU share.

    sudo bench/native_cost.py [--python PATH] [--duration 10] [--rates 100,1000]
                              [--json FILE] [--check]

Runs tests/targets/native_app.py in its "busy2" mode (two busy threads: one
deep in Python -> C -> Python recursion, one in zlib without the GIL), then
records it with ./gil-prof at each rate twice: Python frames only (the
baseline, measured in the same run) and --native. For each run it reports

  samples, lost     from gil-prof's summary
  unwind us         user-space cost per native sample (median, p99), from -v
  frames            native frames unwound per sample
  bpf us            kernel-side cost per sample (BPF run time), from -v
  gil-prof CPU      user+system CPU of the gil-prof process / wall time
  vs baseline       that CPU share divided by the Python-only run's

--check exits 1 if any --native run lost samples. Needs root (BPF) and a C
compiler with the interpreter's headers (the extension is built here).
"""
import argparse
import glob
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
TARGETS = ROOT / "tests" / "targets"
sys.path.insert(0, str(TARGETS))
import gpnative_build  # noqa: E402


def default_python():
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    found = sorted(glob.glob(os.path.join(root, "versions", "3.11.*", "bin", "python3")))
    return found[-1] if found else "/usr/bin/python3.11"


def start_target(python, ext_dir):
    p = subprocess.Popen([python, str(TARGETS / "native_app.py"), ext_dir, "busy2", "12"],
                         stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if not line.startswith("ready"):
        p.kill()
        raise SystemExit("target did not start: %r" % line)
    return p


def cpu_seconds(pid):
    """utime + stime of a process, from /proc/PID/stat."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def record(target_pid, rate, duration, native, out):
    args = [str(ROOT / "gil-prof"), "-p", str(target_pid), "-d", "%gs" % duration,
            "-r", str(rate), "-v", "-o", out]
    if native:
        args.append("--native")
    t_cpu0 = cpu_seconds(target_pid)
    start = time.monotonic()
    p = subprocess.Popen(args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("gil-prof failed:\n" + err)
    res = {
        "rate": rate, "native": native, "wall_s": round(wall, 3),
        "gilprof_cpu_s": round(ru.ru_utime + ru.ru_stime, 3),
        "target_cpu_s": round(cpu_seconds(target_pid) - t_cpu0, 3),
    }
    res["gilprof_cpu_share"] = res["gilprof_cpu_s"] / wall
    m = re.search(r"(\d+) samples \((\d+) lost\)", err)
    res["samples"], res["lost"] = (int(m.group(1)), int(m.group(2))) if m else (0, -1)
    m = re.search(r"bpf: \d+ runs, [\d.]+ us per run, ([\d.]+) us per target sample", err)
    res["bpf_us_per_sample"] = float(m.group(1)) if m else None
    m = re.search(r"native: (\d+) samples, (\d+) unwound \((\d+) to the thread start, (\d+) frames\)",
                  err)
    if m:
        res["unwound"], res["complete"] = int(m.group(2)), int(m.group(3))
        res["frames_per_sample"] = int(m.group(4)) / max(1, int(m.group(2)))
    m = re.search(r"median ([\d.]+) us, p99 ([\d.]+) us, max ([\d.]+) us", err)
    if m:
        res["unwind_median_us"], res["unwind_p99_us"], res["unwind_max_us"] = map(float, m.groups())
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--python", default=default_python())
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--rates", default="100,1000")
    ap.add_argument("--json")
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    if not (ROOT / "gil-prof").exists():
        raise SystemExit("build gil-prof first (make)")

    results = []
    with tempfile.TemporaryDirectory() as tmp:
        ext = gpnative_build.build(a.python, tmp)
        target = start_target(a.python, ext)
        try:
            time.sleep(1.0)  # let both threads settle
            for rate in [int(r) for r in a.rates.split(",")]:
                for native in (False, True):
                    results.append(record(target.pid, rate, a.duration, native,
                                          os.path.join(tmp, "out.folded")))
        finally:
            target.kill()
            target.wait()

    print("python: %s, %g s per run, two busy threads" % (a.python, a.duration))
    print("%6s %-7s %8s %5s %16s %7s %8s %13s %9s" % (
        "rate", "mode", "samples", "lost", "unwind us p50/99", "frames", "bpf us",
        "gil-prof CPU", "vs base"))
    base = {}
    for r in results:
        mode = "native" if r["native"] else "python"
        if not r["native"]:
            base[r["rate"]] = r["gilprof_cpu_share"]
        unwind = ("%.1f/%.1f" % (r["unwind_median_us"], r["unwind_p99_us"])
                  if "unwind_median_us" in r else "-")
        frames = "%.1f" % r["frames_per_sample"] if "frames_per_sample" in r else "-"
        ratio = r["gilprof_cpu_share"] / base[r["rate"]] if base.get(r["rate"]) else float("nan")
        r["cpu_vs_baseline"] = ratio
        print("%6d %-7s %8d %5d %16s %7s %8s %12.2f%% %8.2fx" % (
            r["rate"], mode, r["samples"], r["lost"], unwind, frames,
            "%.2f" % r["bpf_us_per_sample"] if r["bpf_us_per_sample"] else "-",
            100 * r["gilprof_cpu_share"], ratio))
    if a.json:
        pathlib.Path(a.json).write_text(json.dumps(results, indent=2) + "\n")
    if a.check and any(r["native"] and r["lost"] for r in results):
        print("FAIL: samples lost with --native", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
