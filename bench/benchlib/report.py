"""From the runs to the figures: slowdowns against the baseline of the same
repetition, medians and min-max per cell, the fidelity check, the targets
of issue 7, the per-event costs and goals of issue 18; and the Markdown
table (latest.md)."""
import statistics

from .machine import FOREIGN_CORES
from .profilers import BY_KEY as SETTINGS
from .workloads import BY_KEY as WORKLOADS

FIDELITY_WORKLOAD = "calls"
FIDELITY_REFERENCE = "pyspy"
FIDELITY_POINTS = 3.0   # top-5 shares further apart than this are flagged
TOP = 5


def _med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def _span(xs):
    xs = [x for x in xs if x is not None]
    return (statistics.median(xs), min(xs), max(xs)) if xs else None


def _prof_cpu(r):
    """The profiler's CPU share while recording; for runs measured before
    runner.py replaced an impossible reading (below the one at the go, from
    threads read as they exited), its whole run's CPU over the window."""
    v = r.get("prof_cpu")
    if v is not None and v < 0 and r.get("prof_cpu_total_s") is not None:
        window = r["record_s"] - 0.2
        return r["prof_cpu_total_s"] / window if window > 0 else None
    return v


def summarize(data):
    runs = [r for r in data["runs"]]
    base = {(r["workload"], r["rep"]): r for r in runs if r["setting"] == "none" and r["ok"]}
    base_med = {}
    for w in data["workloads"]:
        b = [r for (bw, _), r in base.items() if bw == w]
        base_med[w] = {k: _med([r.get(k) for r in b]) for k in ("elapsed", "throughput", "p99_ms")}
    cells = {}
    for r in runs:
        c = cells.setdefault((r["workload"], r["setting"], r["rate"]), {"runs": [], "errors": []})
        if r["ok"]:
            c["runs"].append(r)
        else:
            c["errors"].append(r["error"])
    for (w, s, rate), c in cells.items():
        rs = c["runs"]

        def paired(key, invert=False):
            out = []
            for r in rs:
                b = base.get((w, r["rep"]), {}).get(key) or base_med[w].get(key)
                if b and r.get(key):
                    out.append(b / r[key] if invert else r[key] / b)
            return _span(out)

        c["base_s"] = base_med[w]["elapsed"]
        c["elapsed"] = _span([r["elapsed"] for r in rs])
        c["throughput_abs"] = _span([r.get("throughput") for r in rs])
        c["p99_abs"] = _span([r.get("p99_ms") for r in rs])
        c["slowdown"] = paired("elapsed")
        c["throughput"] = paired("throughput")
        c["p99"] = paired("p99_ms")
        c["foreign"] = _med([r.get("foreign_cores") for r in rs])
        if s == "none":
            continue
        c["prof_cpu"] = _span([_prof_cpu(r) for r in rs])
        c["rss_mb"] = _span([r.get("prof_rss_mb") for r in rs])
        c["completeness"] = _span([r["samples"] / r["expected"] for r in rs
                                   if r.get("samples") is not None and r.get("expected")])
        c["samples"] = sum(r.get("samples") or 0 for r in rs)
        c["lost"] = sum(r.get("lost") or 0 for r in rs) if any("lost" in r for r in rs) else None
        c["behind_s"] = max([r.get("behind_s") or 0 for r in rs] or [0])
        bpf = [(sum(v[0] for v in r["bpf"].values()), sum(v[1] for v in r["bpf"].values()),
                r["record_s"]) for r in rs if r.get("bpf")]
        if bpf:
            c["bpf_cpu"] = _med([ns / 1e9 / t for _, ns, t in bpf])
        c["unwind_us"] = _med([r["unwind_us"][0] for r in rs if r.get("unwind_us")])
        views = [r["gil_view"] for r in rs if r.get("gil_view") and SETTINGS[s].gil_view]
        if views:
            c["gil_view"] = {k: _span([v[k] for v in views]) for k in ("holding", "waiting")}
            c["gil_view"]["threads"] = max(v["threads"] for v in views)
        costs = [event_costs(r) for r in rs if r.get("bpf_window")]
        if costs:
            c["cost"] = {k: _med([x[k] for x in costs]) for k in COST_KEYS}
            names = sorted({n for x in costs for n in x["progs"]})
            c["progs"] = {n: (_med([x["progs"][n][0] for x in costs if n in x["progs"]]),
                              _med([x["progs"][n][1] for x in costs if n in x["progs"]]))
                          for n in names}
    fid = fidelity(data, cells)
    return {"cells": cells, "fidelity": fid, "targets": targets(data, cells, fid),
            "goals": goals(data, cells)}


# --- per-event cost (issue 18) --------------------------------------------------

GIL_PROGS = ("gil_taken", "gil_dropping", "gil_written")
COST_KEYS = ("switch_rate", "ns_sample", "ns_switch", "ns_gil", "bpf_cpu", "own_ms_per_1k",
             "own_at_5k", "blame_rate")
SWITCH_GOAL_RATE = 5000.0   # target switches a second the own-CPU goal is stated at


def event_costs(r):
    """One run's costs per event, from the kernel's accounting of gil-prof's
    programs between the go and the target's exit (bpf_window) over the
    events of the same run: the target's samples (gil-prof's counter), its
    context switches (the workload's getrusage), its GIL transitions
    (gil-prof's counters). Every program's time counts, its runs for other
    tasks included: what it costs per event of the target."""
    bw, t = r["bpf_window"], r["bpf_window_s"]
    cnt = r.get("counters") or {}
    sw = r.get("ctx_switches")
    samples = cnt.get("samples")
    gil_events = cnt.get("gil_acquired", 0) + cnt.get("gil_released", 0)
    gil = [bw[k] for k in GIL_PROGS if k in bw]
    own = r.get("prof_cpu_s")
    sample, switch = bw.get("on_cpu_sample"), bw.get("on_switch")
    return {
        "switch_rate": sw / t if sw and t > 0 else None,
        "ns_sample": sample[1] / samples if sample and samples else None,
        "ns_switch": switch[1] / sw if switch and sw else None,
        "ns_gil": sum(ns for _, ns in gil) / gil_events if gil and gil_events else None,
        "bpf_cpu": sum(ns for _, ns in bw.values()) / 1e9 / t if t > 0 else None,
        "own_ms_per_1k": own * 1e3 / (sw / 1e3) if own is not None and sw else None,
        # gil-prof's own CPU scaled to SWITCH_GOAL_RATE switches a second
        # (all of it counted as caused by switches: an upper bound).
        "own_at_5k": own / sw * SWITCH_GOAL_RATE if own is not None and sw else None,
        # Holder walks (blame): inside on_cpu_sample and on_switch, so their
        # time is in those programs' per-event costs; their rate beside it.
        "blame_rate": cnt.get("blame", 0) / r["record_s"] if r.get("record_s") else None,
        "progs": {n: (runs / t, ns / runs if runs else None)
                  for n, (runs, ns) in bw.items() if t > 0},
    }


def _cost(cells, w, s, rate, key):
    c = cells.get((w, s, rate))
    return (c.get("cost") or {}).get(key) if c else None


def own_at_goal_rate(cells):
    """gil-prof's own CPU (share of a core) on the HTTP service in wall mode
    at 100 Hz, at SWITCH_GOAL_RATE target switches a second; and how it was
    had. With cpu mode in the same run: cpu mode's share (what does not
    depend on switches: samples, polling, code re-checks) plus wall mode's
    extra per switch times the rate. Else all of wall mode's share scaled
    by switches (an upper bound when the target switched less)."""
    wall = cells.get(("http", "gilprof-wall", 100)) or {}
    cpu = cells.get(("http", "gilprof-cpu", 100)) or {}
    rate = (wall.get("cost") or {}).get("switch_rate")
    if wall.get("prof_cpu") and cpu.get("prof_cpu") and rate:
        w, c = wall["prof_cpu"][0], cpu["prof_cpu"][0]
        return (c + max(0.0, w - c) / rate * SWITCH_GOAL_RATE,
                "cpu mode's %.2f%% + wall mode's extra per switch" % (100 * c))
    own = (wall.get("cost") or {}).get("own_at_5k")
    return own, "all of it scaled by switches (an upper bound)"


def goals(data, cells):
    """Issue 18's goals: [(goal, status, measured)]."""
    out = []
    ns = _cost(cells, "http", "gilprof-wall", 100, "ns_switch")
    out.append(("wall mode: at most 1 us of BPF per target context switch (HTTP, 100 Hz, median)",
                _status(ns is not None and ns <= 1000, ns is not None),
                "-" if ns is None else "%.0f ns per switch at %.0f switches/s" % (
                    ns, _cost(cells, "http", "gilprof-wall", 100, "switch_rate") or 0)))

    tp = {}
    for s in ("gilprof-cpu", "gilprof-wall"):
        c = cells.get(("http", s, 100))
        tp[s] = c["throughput"][0] if c and c.get("throughput") else None
    have = None not in tp.values()
    gap = 100 * (tp["gilprof-wall"] - tp["gilprof-cpu"]) if have else None
    out.append(("wall mode: HTTP throughput within 2 points of cpu mode's (100 Hz, medians)",
                _status(have and gap >= -2.0, have),
                "-" if not have else "wall %+.1f%%, cpu %+.1f%% of the baseline: %+.1f points" % (
                    100 * (tp["gilprof-wall"] - 1), 100 * (tp["gilprof-cpu"] - 1), gap)))

    own, how = own_at_goal_rate(cells)
    c = cells.get(("http", "gilprof-wall", 100)) or {}
    out.append(("gil-prof's own CPU at most 0.5% of a core at 5k target switches/s "
                "(wall, HTTP, 100 Hz)",
                _status(own is not None and own <= 0.005, own is not None),
                "-" if own is None else "%.2f%% of a core at 5k/s, %s (measured %.2f%% at %.0f "
                "switches/s)" % (100 * own, how,
                                 100 * (c["prof_cpu"][0] if c.get("prof_cpu") else 0),
                                 _cost(cells, "http", "gilprof-wall", 100, "switch_rate") or 0)))

    rss = {(w, rate): c["rss_mb"][2] for (w, s, rate), c in cells.items()
           if s == "gilprof-native" and c.get("rss_mb")}
    worst = max(rss.items(), key=lambda kv: kv[1]) if rss else None
    out.append(("--native: at most 64 MB peak RSS on every workload and rate",
                _status(bool(rss) and worst[1] <= 64, bool(rss)),
                "-" if not rss else "max %.0f MB (%s at %d Hz), min %.0f MB" % (
                    worst[1], worst[0][0], worst[0][1], min(rss.values()))))
    return out


def fidelity(data, cells):
    """Per rate: the reference's top functions on workload 1 and every
    setting's share of each (leaf counts summed over the repetitions)."""
    out = {}
    for rate in data["rates"]:
        counts = {}
        for s in data["profilers"]:
            c = cells.get((FIDELITY_WORKLOAD, s, rate))
            if not c:
                continue
            total = {}
            for r in c["runs"]:
                for k, v in (r.get("leaves") or {}).items():
                    total[k] = total.get(k, 0) + v
            if total:
                counts[s] = total
        if not counts:
            continue
        ref = FIDELITY_REFERENCE if FIDELITY_REFERENCE in counts else next(iter(counts))
        top = sorted(counts[ref], key=lambda k: -counts[ref][k])[:TOP]
        shares = {s: {f: 100.0 * cnt.get(f, 0) / sum(cnt.values()) for f in top}
                  for s, cnt in counts.items()}
        worst = {s: max(abs(shares[s][f] - shares[ref][f]) for f in top) for s in shares}
        out[rate] = {"reference": ref, "top": top, "shares": shares, "worst": worst,
                     "samples": {s: sum(cnt.values()) for s, cnt in counts.items()}}
    return out


def _status(ok, measured=True):
    if not measured:
        return "not measured"
    return "met" if ok else "NOT MET"


def _slow(cells, w, s, rate):
    c = cells.get((w, s, rate))
    return c["slowdown"][0] if c and c.get("slowdown") else None


def targets(data, cells, fid):
    """Issue 7's targets: [(target, status, detail)]."""
    ws = data["workloads"]
    out = []

    def slowdown_target(s, rate, limit, text):
        got = {w: _slow(cells, w, s, rate) for w in ws}
        have = {w: v for w, v in got.items() if v is not None}
        worst = max(have.items(), key=lambda kv: kv[1]) if have else None
        ok = bool(have) and all(v <= 1 + limit for v in have.values())
        detail = ", ".join("%s %+.1f%%" % (w, 100 * (v - 1)) for w, v in have.items())
        if have and not ok:
            detail += "; worst %s, over by %.1f points" % (worst[0], 100 * (worst[1] - 1 - limit))
        out.append((text, _status(ok, bool(have)), detail or "-"))

    slowdown_target("gilprof-cpu", 100, 0.01, "gil-prof --mode cpu at 100 Hz: slowdown <= 1% on every workload")
    slowdown_target("gilprof-cpu", 1000, 0.03, "gil-prof --mode cpu at 1000 Hz: slowdown <= 3% on every workload")
    slowdown_target("gilprof-native", 100, 0.02,
                    "gil-prof --mode wall --native at 100 Hz: slowdown <= 2% on every workload")

    pairs = {w: (_slow(cells, w, "gilprof-native", 100), _slow(cells, w, "pyspy-native", 100)) for w in ws}
    have = {w: p for w, p in pairs.items() if None not in p}
    ok = bool(have) and all(g < p for g, p in have.values())
    out.append(("gil-prof --mode wall --native below py-spy --native at 100 Hz on every workload",
                _status(ok, bool(have)),
                ", ".join("%s %+.1f%% vs %+.1f%%" % (w, 100 * (g - 1), 100 * (p - 1))
                          for w, (g, p) in have.items()) or "-"))

    for s in ("gilprof-cpu", "gilprof-wall", "gilprof-native"):
        c = cells.get(("contend", s, 100))
        cpu = c["prof_cpu"][0] if c and c.get("prof_cpu") else None
        detail = "-"
        if cpu is not None:
            detail = "%.2f%% of a core (median, min %.2f%%, max %.2f%%)" % (
                100 * cpu, 100 * c["prof_cpu"][1], 100 * c["prof_cpu"][2])
            if c.get("bpf_cpu") is not None:
                detail += "; plus %.2f%% in BPF programs, charged to the target" % (100 * c["bpf_cpu"])
        out.append(("%s: own CPU at 100 Hz on workload 2 < 2%% of one core" % SETTINGS[s].label,
                    _status(cpu is not None and cpu < 0.02, cpu is not None), detail))

    for s in ("gilprof-cpu", "gilprof-wall", "gilprof-native"):
        lost = {w: cells[(w, s, 1000)].get("lost") for w in ("calls", "contend", "mixed")
                if (w, s, 1000) in cells and cells[(w, s, 1000)]["runs"]}
        have = {w: v for w, v in lost.items() if v is not None}
        out.append(("%s: zero lost samples at 1000 Hz on workloads 1-3" % SETTINGS[s].label,
                    _status(bool(have) and not any(have.values()), bool(have)),
                    ", ".join("%s %d lost" % kv for kv in have.items()) or "-"))

    for rate, f in sorted(fid.items()):
        bad = {s: v for s, v in f["worst"].items()
               if SETTINGS[s].tool == "gil-prof" and v > FIDELITY_POINTS}
        gp = [s for s in f["worst"] if SETTINGS[s].tool == "gil-prof"]
        out.append(("top-5 shares on workload 1 at %d Hz: gil-prof within %g points of %s"
                    % (rate, FIDELITY_POINTS, SETTINGS[f["reference"]].label),
                    _status(not bad, bool(gp) and f["reference"] == FIDELITY_REFERENCE),
                    ", ".join("%s %.1f" % (SETTINGS[s].label, f["worst"][s]) for s in gp) or "-"))
    return out


# --- Markdown ------------------------------------------------------------------

def _pct(span, signed=True):
    """A ratio's median (min..max) as percent change, or as a percent."""
    if not span:
        return "-"
    fmt = "%+.1f%%" if signed else "%.1f%%"
    conv = (lambda v: 100 * (v - 1)) if signed else (lambda v: 100 * v)
    if span[1] == span[2]:
        return fmt % conv(span[0])
    return (fmt + " (" + fmt + " .. " + fmt + ")") % (conv(span[0]), conv(span[1]), conv(span[2]))


def gil_view_section(add, data, cells):
    """gil-prof's measured GIL states beside Tachyon's sampled flags (issue 12)."""
    rows = [(k, c) for k, c in cells.items() if c.get("gil_view")]
    if not rows:
        return
    add("## GIL view: gil-prof's measured states and Tachyon's sampled flags\n")
    add("The worker threads of each workload that keeps it (the main thread, in join(), is "
        "left out): the share of each worker's time it held the GIL and waited for it, mean "
        "over the workers, median (min .. max) over the repetitions. gil-prof: its folded "
        "samples per state (holding from the GIL's owner, waiting from the futex the thread "
        "sleeps on), over the worker's samples that are not idle (before the go they sit "
        "idle in an Event). Tachyon: its Gecko markers \"Has GIL\" and \"Waiting for GIL\" "
        "(from the holds_gil and gil_requested flags it samples) over the worker's observed "
        "time (On CPU + Off CPU markers), clipped to the go..exit window. Truth: N workers "
        "that contend for one GIL each hold it about 1/N of the time and wait the rest.\n")
    add("| Workload | Profiler | Rate | Workers | Holding | Waiting | Holding + waiting | Truth (holding) |")
    add("|---|---|---|---|---|---|---|---|")
    for (w, s, rate), c in rows:
        v = c["gil_view"]
        both = (v["holding"][0] + v["waiting"][0]) if v["holding"] and v["waiting"] else None
        add("| %d | %s | %d Hz | %d | %s | %s | %s | %s |" % (
            WORKLOADS[w].number, SETTINGS[s].label, rate, v["threads"], _pct(v["holding"], False),
            _pct(v["waiting"], False), _num(100 * both if both is not None else None, "%.1f%%"),
            "%.1f%%" % (100.0 / v["threads"])))
    add("")


def _num(v, fmt="%.1f"):
    return "-" if v is None else fmt % v


def markdown(data, summary):
    m = data["machine"]
    cells = summary["cells"]
    L = []
    add = L.append
    add("# gil-prof benchmark: overhead and fidelity against %s\n" % (
        "py-spy and Austin" if not any(SETTINGS[s].tool == "tachyon" for s in data["profilers"])
        else "py-spy, Austin and Tachyon"))
    add("%s run, %s, %d repetition(s), rates %s Hz, %.0f minutes. Made by `%s`.\n" % (
        "Smoke" if data["smoke"] else "Full", data["started"], data["reps"],
        ", ".join(map(str, data["rates"])), data.get("minutes", 0),
        "make bench-smoke" if data["smoke"] else "make bench"))
    add("- Machine: %s, %d CPUs, Linux %s" % (m["cpu"], m["cpus"], m["kernel"]))
    add("- Target interpreter: %s (Python %s)" % (m["python"], m["python_version"]))
    add("- Profilers: %s" % "; ".join("%s (%s)" % (k, v or "missing")
                                      for k, v in data["tools"].items()))
    foreign = [r.get("foreign_cores") for r in data["runs"] if r.get("ok")]
    fmed = _med(foreign)
    add("- Load: 1-minute load average %.2f at the start, %.2f at the end; CPU used by other "
        "processes during the measured runs: median %.2f cores, max %.2f (of %d)%s" % (
            data["load_start"], data.get("load_end", 0), fmed or 0, max(foreign or [0]),
            m["cpus"], "" if not data.get("note") else ". " + data["note"]))
    if fmed and fmed > FOREIGN_CORES:
        add("- **The machine was shared during this run**: slowdowns of a few percent are within "
            "the noise (see each baseline's min..max spread below). Re-run on a quiet machine "
            "for the small targets.")
    add("")
    add("Slowdown: the workload's elapsed time for its fixed work over the baseline's (no "
        "profiler) in the same repetition; median (min .. max) over the repetitions. HTTP: "
        "throughput and p99 latency against the baseline's. Profiler CPU: the profiler "
        "process's user+system CPU while the workload ran, per second of recording (100% = "
        "one core). Samples: collected over expected (cpu basis: rate x the target's CPU "
        "time; wall: rate x the lifetimes of all its threads; tick: rate x wall time "
        "(Tachyon -a: one sample of every thread per tick); own: rate x the time the "
        "profiler says it sampled; "
        "py-spy counts threads waiting for the GIL as active, so it can pass 100%). Lost: "
        "gil-prof's lost samples, py-spy's and Austin's sampling errors, summed over the "
        "repetitions.\n")

    add("## Targets (issue 7)\n")
    add("| Target | Status | Measured |")
    add("|---|---|---|")
    for text, status, detail in summary["targets"]:
        add("| %s | %s | %s |" % (text, "**%s**" % status if status != "met" else status, detail))
    add("")

    for w in data["workloads"]:
        wl = WORKLOADS[w]
        base = cells.get((w, "none", None))
        add("## Workload %d: %s (`%s`)\n" % (wl.number, wl.title, wl.script))
        if base and base.get("elapsed"):
            b = base["elapsed"]
            add("Baseline: %.3f s (%.3f .. %.3f) for the fixed work, other processes %.2f cores "
                "(median).\n" % (b[0], b[1], b[2], base.get("foreign") or 0))
        http = w == "http"
        head = ["Profiler", "Rate", "Slowdown"]
        if http:
            head += ["Throughput", "p99 latency"]
        head += ["Profiler CPU", "Peak RSS MB", "Samples / expected", "Samples", "Lost", "Failed"]
        add("| " + " | ".join(head) + " |")
        add("|" + "---|" * len(head))
        for (cw, s, rate), c in cells.items():
            if cw != w:
                continue
            row = [SETTINGS[s].label, "%d Hz" % rate if rate else "-",
                   _pct(c.get("slowdown")) if s != "none" else "(baseline)"]
            if http and s == "none":
                row += ["%.0f/s" % base["throughput_abs"][0] if base.get("throughput_abs") else "-",
                        "%.1f ms" % base["p99_abs"][0] if base.get("p99_abs") else "-"]
            elif http:
                row += [_pct(c.get("throughput")), _pct(c.get("p99"))]
            if s == "none":
                row += ["-"] * 5
            else:
                comp = c.get("completeness")
                row += [_pct(c.get("prof_cpu"), False),
                        _num(c["rss_mb"][0] if c.get("rss_mb") else None, "%.0f"),
                        _pct(comp, False) + (" (%s)" % SETTINGS[s].basis),
                        str(c["samples"]),
                        "-" if c.get("lost") is None else str(c["lost"])
                        + (" (%.1f s behind)" % c["behind_s"] if c.get("behind_s") else "")]
            row.append(str(len(c["errors"])) if c["errors"] else "0")
            add("| " + " | ".join(row) + " |")
        add("")
        errs = sorted({e for (cw, _, _), c in cells.items() if cw == w for e in c["errors"]})
        for e in errs[:5]:
            add("- failed: %s" % e)
        if errs:
            add("")

    add("## Fidelity: top-5 functions of workload 1\n")
    add("Share of the samples inside `one_round()` whose innermost Python function is each of "
        "the reference's top 5, summed over the repetitions. Flagged (**bold**): more than %g "
        "points from %s.\n" % (FIDELITY_POINTS, SETTINGS[FIDELITY_REFERENCE].label))
    for rate, f in sorted(summary["fidelity"].items()):
        order = [f["reference"]] + [s for s in f["shares"] if s != f["reference"]]
        add("At %d Hz:\n" % rate)
        add("| Function | " + " | ".join(SETTINGS[s].label for s in order) + " |")
        add("|---|" + "---|" * len(order))
        for fn in f["top"]:
            vals = []
            for s in order:
                v = f["shares"][s][fn]
                d = abs(v - f["shares"][f["reference"]][fn])
                vals.append(("**%.1f%%**" if d > FIDELITY_POINTS else "%.1f%%") % v)
            add("| `%s` | %s |" % (fn, " | ".join(vals)))
        add("| samples | " + " | ".join(str(f["samples"][s]) for s in order) + " |")
        add("")

    gil_view_section(add, data, cells)

    add("## Goals (issue 18)\n")
    add("| Goal | Status | Measured |")
    add("|---|---|---|")
    for text, status, detail in summary["goals"]:
        add("| %s | %s | %s |" % (text, "**%s**" % status if status != "met" else status, detail))
    add("")

    add("## Per-event cost (kernel accounting)\n")
    add("From the kernel's own accounting of gil-prof's BPF programs "
        "(kernel.bpf_stats_enabled; run_cnt and run_time_ns of each program, read from "
        "gil-prof's program fds at the go and at the target's exit) over the target's events "
        "in the same run: BPF ns per sample (on_cpu_sample over the target's samples), per "
        "target context switch (on_switch over the switches of all the target's threads, "
        "getrusage in the workload: what /proc/PID/task/*/status counts), per GIL event "
        "(the GIL programs over the acquisitions and releases traced, with a timeline). "
        "Each program's time includes its runs for other tasks (what the target's events "
        "cost in all). BPF CPU: all programs, 100% = one core. Own CPU: the gil-prof "
        "process (utime + stime) per second, per 1000 target switches, and scaled to "
        "5000 switches/s as if all of it came from switches. Peak RSS: the profiler's VmHWM, read every 50 ms until it exits. "
        "Medians over the repetitions. Holder walks/s: the waiting records followed by "
        "their GIL holder's stack (blame); the kernel accounts per program, and the walk "
        "runs inside on_cpu_sample and on_switch, so its cost is in their per-sample and "
        "per-switch figures, not apart. These ratios hold on a noisy machine where "
        "slowdowns of a few percent do not.\n")
    head = ["Workload", "Setting", "Rate", "Slowdown", "Throughput", "Target switches/s",
            "BPF ns/sample", "BPF ns/switch", "BPF ns/GIL event", "Holder walks/s", "BPF CPU",
            "Own CPU",
            "Own ms/1k switches", "Own CPU at 5k switches/s", "Peak RSS MB", "Unwind us",
            "Per program: runs/s x ns/run"]
    add("| " + " | ".join(head) + " |")
    add("|" + "---|" * len(head))
    for (w, s, rate), c in cells.items():
        if s == "none" or SETTINGS[s].tool != "gil-prof" or not c["runs"]:
            continue
        k = c.get("cost") or {}
        progs = "; ".join("%s %.0f x %s" % (n, runs or 0, _num(ns, "%.0f"))
                          for n, (runs, ns) in (c.get("progs") or {}).items() if runs)
        pct = lambda v: _num(100 * v if v is not None else None, "%.2f%%")
        add("| " + " | ".join([
            str(WORKLOADS[w].number), SETTINGS[s].label, "%d Hz" % rate,
            _pct(c.get("slowdown")), _pct(c.get("throughput")) if w == "http" else "-",
            _num(k.get("switch_rate"), "%.0f"), _num(k.get("ns_sample"), "%.0f"),
            _num(k.get("ns_switch"), "%.0f"), _num(k.get("ns_gil"), "%.0f"),
            _num(k.get("blame_rate"), "%.0f"), pct(k.get("bpf_cpu")), _pct(c.get("prof_cpu"), False) if c.get("prof_cpu") else "-",
            _num(k.get("own_ms_per_1k"), "%.3f"), pct(k.get("own_at_5k")),
            _num(c["rss_mb"][0] if c.get("rss_mb") else None, "%.0f"),
            _num(c.get("unwind_us"), "%.1f"), progs or "-"]) + " |")
    add("")
    return "\n".join(L) + "\n"
