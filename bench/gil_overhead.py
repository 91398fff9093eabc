#!/usr/bin/env python3
"""What gil-prof's GIL tracking costs: target slowdown and BPF run time.

Runs each workload in bench/workloads unprofiled and under gil-prof in
each variant (launch mode: the whole run is recorded), alternating the
variants so a busy machine slows them alike, and prints per workload and
variant:

  - slowdown: median elapsed time (measured by the workload itself for a
    fixed amount of work) over the unprofiled median;
  - for every BPF program: runs and mean ns per run (bpf_enable_stats);
  - gil-prof's own CPU time (user + system) per second of recording.

    sudo bench/gil_overhead.py [--python PATH] [--repeat N] [--rate HZ]
                               [--modes cpu,wall,...] [--only NAME,...]

Variants (--modes): cpu and wall (--mode, a folded output), timeline (wall
mode writing a GIL timeline: GIL transitions traced with uprobes where the
interpreter has the symbols, else the watchpoint) and timeline-watchpoint
(--gil-trace watchpoint), and both with --native (timeline-native,
timeline-watchpoint-native: a hand-off copies the user stack). The
release-2 workload is the worst case for a timeline: two threads dropping
and taking back the GIL around a cheap system call, about a million
transitions a second.

Needs root (BPF) and a built ./gil-prof. Takes about a minute with the
defaults.
"""
import argparse
import json
import os
import pathlib
import re
import resource
import statistics
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
WORKLOADS = ROOT / "bench" / "workloads"

# name, script, arguments: fixed work of about 1-2 s each on this machine kind
CASES = [
    ("contend-4", "contend.py", ["4", "3000000"]),
    ("pingpong-2", "pingpong.py", ["2", "20000"]),
    ("sleepers-50", "idle_threads.py", ["50", "3000000", "10"]),
    ("release-2", "release.py", ["2", "100000"]),
]

# variant -> gil-prof options (OUT: the output path without its extension)
VARIANTS = {
    "cpu": ["--mode", "cpu", "-o", "OUT.folded"],
    "wall": ["--mode", "wall", "-o", "OUT.folded"],
    "timeline": ["--mode", "wall", "-o", "OUT.trace.json"],
    "timeline-watchpoint": ["-o", "OUT.trace.json", "--gil-trace", "watchpoint"],
    # hand-offs also copy the acquiring thread's user stack
    "timeline-native": ["--mode", "wall", "--native", "-o", "OUT.trace.json"],
    "timeline-watchpoint-native": ["--native", "-o", "OUT.trace.json", "--gil-trace", "watchpoint"],
}

PROG_RE = re.compile(r"bpf prog (\S+)\s+(\d+) runs, (\d+) ns")


def measured(stdout):
    """(elapsed, cpu) seconds the workload reports for its fixed work (its
    "result {...}" line, see bench/workloads/gate.py): the wall time of the
    work and the process's whole CPU time."""
    m = re.search(r"^result (\{.*\})$", stdout, re.M)
    if not m:
        raise RuntimeError("workload printed no result: %r" % stdout)
    res = json.loads(m.group(1))
    return res["elapsed"], res["cpu"]


def run_plain(python, script, args):
    r = subprocess.run([python, str(WORKLOADS / script), *args], capture_output=True,
                       text=True, check=True)
    return measured(r.stdout)[0], {}, 0.0


def run_profiled(python, script, args, variant, rate, out):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    opts = [o.replace("OUT", out) for o in VARIANTS[variant]]
    r = subprocess.run([str(ROOT / "gil-prof"), "record", "-v", *opts,
                        "-r", str(rate), "--", python, str(WORKLOADS / script),
                        *args], capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode:
        raise RuntimeError("gil-prof failed: %s" % r.stderr)
    progs = {m.group(1): (int(m.group(2)), int(m.group(3))) for m in PROG_RE.finditer(r.stderr)}
    took, target_cpu = measured(r.stdout)
    lost = re.search(r"samples \((\d+) lost\)", r.stderr)
    progs["lost records"] = (int(lost.group(1)) if lost else -1, 0)
    # gil-prof and its target are both waited-for children: take the
    # target's own CPU time out to leave gil-prof's.
    both = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return took, progs, max(0.0, both - target_cpu)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--python", default=sys.executable)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--rate", type=int, default=100)
    ap.add_argument("--modes", default="cpu,wall")
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    modes = [m for m in a.modes.split(",") if m]
    only = set(a.only.split(",")) - {""}
    unknown = [m for m in modes if m not in VARIANTS]
    if unknown:
        ap.error("unknown variant %s (known: %s)" % (unknown, ", ".join(VARIANTS)))
    out = os.path.join(tempfile.mkdtemp(prefix="gp-bench-"), "out")
    print("python %s, rate %d Hz, %d runs per variant (medians)" % (a.python, a.rate, a.repeat))
    for name, script, args in CASES:
        if only and name not in only:
            continue
        times = {v: [] for v in ["none"] + modes}
        progs = {m: {} for m in modes}
        own = {m: [] for m in modes}
        for _ in range(a.repeat):
            times["none"].append(run_plain(a.python, script, args)[0])
            for m in modes:
                took, p, cpu = run_profiled(a.python, script, args, m, a.rate, out)
                times[m].append(took)
                own[m].append(cpu)
                for prog, (runs, ns) in p.items():
                    r0, n0 = progs[m].get(prog, (0, 0))
                    progs[m][prog] = (r0 + runs, n0 + ns)
        base = statistics.median(times["none"])
        print("\n%s: unprofiled %.3f s" % (name, base))
        for m in modes:
            t = statistics.median(times[m])
            line = "  %-19s %.3f s  slowdown x%.3f  gil-prof cpu %.3f s" % (
                m, t, t / base, statistics.median(own[m]))
            lost = progs[m].pop("lost records", (0, 0))[0]
            line += "  lost %d" % (lost // a.repeat)
            for prog, (runs, ns) in sorted(progs[m].items()):
                line += "  | %s %d runs/run %.2f us" % (prog, runs // a.repeat, ns / runs / 1e3)
            print(line)


if __name__ == "__main__":
    main()
