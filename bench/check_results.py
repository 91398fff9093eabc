#!/usr/bin/env python3
"""Check that a bench/run.py output directory holds a complete, sane result:
what `make bench-smoke` asserts (the harness works end to end), not the
figures themselves.

    bench/check_results.py DIR

- latest.json: every planned run (workload x setting x rate x repetition)
  is there and succeeded (the workload's own check passed, the profiler
  exited 0);
- latest.md: a targets table whose every row has a status; per workload a
  table with a row per setting and rate whose slowdown is a number and, for
  a profiler, a positive sample count, a CPU share, a peak RSS and a
  samples / expected share; HTTP throughput and p99 ratios on workload 4;
  the fidelity table with the reference's top functions (5, or as many as
  it saw) when workload 1 ran under py-spy and gil-prof;
- the goals table of issue 18, every row with a status; the per-event cost
  table with a row per gil-prof setting, rate and workload whose BPF cost
  per sample, BPF CPU share, target switch rate, own CPU per 1000 switches
  and peak RSS are positive numbers, and per context switch (wall mode)
  and per GIL event (with a timeline) too: the kernel's accounting was
  read and divided, whatever the figures;
- the GIL view table when a workload that keeps it (workload 2) ran under
  gil-prof or Tachyon's wall mode: a row per such setting and rate, its
  workers' holding and waiting shares positive percentages that add up to
  at most 100%;
- latest.png: a PNG image of plausible size.
Exits 1 with one line per problem.
"""
import json
import pathlib
import re
import struct
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from benchlib import profilers, report, workloads  # noqa: E402

PCT = re.compile(r"^[+-]?\d+\.\d%")
STATUSES = {"met", "**NOT MET**", "**not measured**"}


def tables(md):
    """{section heading: [rows as lists of cells]} (header and rule left out)."""
    out, head, rows = {}, None, None
    for line in md.splitlines():
        if line.startswith("#"):
            head = line.lstrip("# ").strip()
            rows = out.setdefault(head, [])
        elif line.startswith("|") and rows is not None:
            cells = [c.strip() for c in line.strip("|").split("|")]
            if all(set(c) <= set("-") for c in cells):
                continue
            rows.append(cells)
    return out


def check_runs(data, problems):
    got = {}
    for r in data["runs"]:
        got[(r["workload"], r["setting"], r["rate"], r["rep"])] = r
        if not r["ok"]:
            problems.append("run failed: %s %s %s: %s" % (r["workload"], r["setting"], r["rate"],
                                                         r["error"]))
    for w in data["workloads"]:
        for rep in range(data["reps"]):
            planned = [("none", None)] + [(s, rate) for rate in data["rates"]
                                          for s in data["profilers"]]
            for s, rate in planned:
                if (w, s, rate, rep) not in got:
                    problems.append("run missing: %s %s %s rep %d" % (w, s, rate, rep))


def check_workload(data, rows, w, problems):
    head = rows[0] if rows else []
    col = {name: i for i, name in enumerate(head)}
    for name in ("Profiler", "Rate", "Slowdown", "Profiler CPU", "Peak RSS MB",
                 "Samples / expected", "Samples"):
        if name not in col:
            problems.append("workload %s: no column %r" % (w, name))
            return
    seen = set()
    for row in rows[1:]:
        label, rate = row[col["Profiler"]], row[col["Rate"]]
        seen.add((label, rate))
        if label == profilers.NONE.label:
            continue
        what = "workload %s, %s at %s" % (w, label, rate)
        if not PCT.match(row[col["Slowdown"]]):
            problems.append("%s: slowdown %r is not a number" % (what, row[col["Slowdown"]]))
        if not PCT.match(row[col["Profiler CPU"]]):
            problems.append("%s: profiler CPU %r" % (what, row[col["Profiler CPU"]]))
        if not row[col["Peak RSS MB"]].isdigit() or int(row[col["Peak RSS MB"]]) <= 0:
            problems.append("%s: peak RSS %r" % (what, row[col["Peak RSS MB"]]))
        if not row[col["Samples"]].isdigit() or int(row[col["Samples"]]) <= 0:
            problems.append("%s: no samples (%r)" % (what, row[col["Samples"]]))
        if not PCT.match(row[col["Samples / expected"]]):
            problems.append("%s: samples / expected %r" % (what, row[col["Samples / expected"]]))
        if w == "http":
            for name in ("Throughput", "p99 latency"):
                if name not in col or not PCT.match(row[col[name]]):
                    problems.append("%s: no %s ratio" % (what, name))
    for s in data["profilers"]:
        for rate in data["rates"]:
            if (profilers.BY_KEY[s].label, "%d Hz" % rate) not in seen:
                problems.append("workload %s: no row for %s at %d Hz" % (w, s, rate))
    if (profilers.NONE.label, "-") not in seen:
        problems.append("workload %s: no baseline row" % w)


def _positive(text):
    try:
        return float(text.rstrip("%")) > 0
    except ValueError:
        return False


def check_costs(data, rows, problems):
    head = rows[0] if rows else []
    col = {name: i for i, name in enumerate(head)}
    need = ("Workload", "Setting", "Rate", "Target switches/s", "BPF ns/sample",
            "BPF ns/switch", "BPF ns/GIL event", "BPF CPU", "Own ms/1k switches", "Peak RSS MB")
    missing = [n for n in need if n not in col]
    if missing:
        problems.append("cost table: no column %s" % ", ".join(map(repr, missing)))
        return
    seen = set()
    for row in rows[1:]:
        seen.add((row[col["Workload"]], row[col["Setting"]], row[col["Rate"]]))
        setting = next((x for x in profilers.SETTINGS if x.label == row[col["Setting"]]), None)
        if setting is None:
            problems.append("cost table: unknown setting %r" % row[col["Setting"]])
            continue
        wl = next((x for x in workloads.WORKLOADS
                   if str(x.number) == row[col["Workload"]]), None)
        # The per-switch figures exist when the target switched; a workload
        # whose threads switch by design must show them, a lone CPU-bound
        # thread may legitimately not switch in a smoke-sized run.
        switched = (wl is None or wl.switches
                    or _positive(row[col["Target switches/s"]]))
        names = ["BPF ns/sample", "BPF CPU", "Peak RSS MB"]
        if switched:
            names += ["Target switches/s", "Own ms/1k switches"]
            if "wall" in setting.args:
                names.append("BPF ns/switch")
        if any(a.endswith(".trace.json") for a in setting.args):
            names.append("BPF ns/GIL event")
        for name in names:
            if not _positive(row[col[name]]):
                problems.append("cost table: workload %s, %s at %s: %s %r" % (
                    row[col["Workload"]], setting.label, row[col["Rate"]], name, row[col[name]]))
    for w in data["workloads"]:
        for s in data["profilers"]:
            if profilers.BY_KEY[s].tool != "gil-prof":
                continue
            for rate in data["rates"]:
                key = (str(workloads.BY_KEY[w].number), profilers.BY_KEY[s].label, "%d Hz" % rate)
                if key not in seen:
                    problems.append("cost table: no row for workload %s, %s at %d Hz"
                                    % (w, s, rate))


GIL_VIEW = "GIL view: gil-prof's measured states and Tachyon's sampled flags"


def check_gil_view(data, rows, problems):
    want = set()
    for w in data["workloads"]:
        if not workloads.BY_KEY[w].gil_view:
            continue
        for s in data["profilers"]:
            st = profilers.BY_KEY[s]
            if st.gil_view:
                want |= {(str(workloads.BY_KEY[w].number), st.label, "%d Hz" % r)
                         for r in data["rates"]}
    got = {(r[0], r[1], r[2]): r for r in rows[1:] if len(r) == 8}
    for key in sorted(want - set(got)):
        problems.append("GIL view table: no row for %s" % " ".join(key))
    for key, r in got.items():
        vals = [float(v.split("%")[0]) if PCT.match(v) else None for v in (r[4], r[5], r[6])]
        if None in vals or vals[0] <= 0 or vals[1] <= 0 or vals[2] > 100.5:
            problems.append("GIL view table: implausible row %r" % r)


def check_png(path, problems):
    try:
        blob = path.read_bytes()
    except OSError as e:
        problems.append("no chart: %s" % e)
        return
    if blob[:8] != b"\x89PNG\r\n\x1a\n" or blob[12:16] != b"IHDR":
        problems.append("%s is not a PNG image" % path)
        return
    width, height = struct.unpack(">II", blob[16:24])
    if width < 400 or height < 300 or len(blob) < 5000:
        problems.append("%s: implausible chart (%dx%d, %d bytes)" % (path, width, height, len(blob)))


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    out = pathlib.Path(sys.argv[1])
    problems = []
    data = json.loads((out / "latest.json").read_text())
    check_runs(data, problems)
    t = tables((out / "latest.md").read_text())
    targets = t.get("Targets (issue 7)", [])
    if len(targets) < 2:
        problems.append("no targets table")
    for row in targets[1:]:
        if len(row) != 3 or row[1] not in STATUSES:
            problems.append("target without a status: %r" % row)
    goals = t.get("Goals (issue 18)", [])
    if len(goals) < 5:
        problems.append("no goals table (issue 18)")
    for row in goals[1:]:
        if len(row) != 3 or row[1] not in STATUSES:
            problems.append("goal without a status: %r" % row)
    check_costs(data, t.get("Per-event cost (kernel accounting)", []), problems)
    for w in data["workloads"]:
        wl = workloads.BY_KEY[w]
        key = "Workload %d: %s (`%s`)" % (wl.number, wl.title, wl.script)
        if key not in t:
            problems.append("no table for workload %s" % w)
        else:
            check_workload(data, t[key], w, problems)
    gp = [s for s in data["profilers"] if profilers.BY_KEY[s].tool == "gil-prof"]
    if report.FIDELITY_WORKLOAD in data["workloads"] and gp and \
            report.FIDELITY_REFERENCE in data["profilers"]:
        fid = t.get("Fidelity: top-5 functions of workload 1", [])
        funcs = [r for r in fid if r[0].startswith("`")]
        # A short smoke run can leave the reference with fewer than 5
        # distinct functions; the table then has one row per function it saw.
        seen = report.summarize(data)["fidelity"]
        want = sum(len(f["top"]) for f in seen.values())
        if not want or len(funcs) != want:
            problems.append("fidelity table: %d function rows, expected %d"
                            % (len(funcs), want))
    check_gil_view(data, t.get(GIL_VIEW, []), problems)
    check_png(out / "latest.png", problems)
    for p in problems:
        print("bench-smoke: FAIL: " + p)
    if not problems:
        print("bench-smoke: ok: %d runs, %d workloads, tables and chart complete"
              % (len(data["runs"]), len(data["workloads"])))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
