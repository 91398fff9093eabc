"""The profilers and settings compared, how each is started against a PID,
how it says it is sampling, and what it reports at the end.

Every profiler attaches to a running target (-p PID) and records until the
target exits. Its output is a stack file (gil-prof folded, py-spy raw,
austin's collapsed stacks) read for the fidelity check.

basis: what a complete profile's sample count is, for "samples vs expected":
  cpu   rate x the target's CPU time (on-CPU samples only)
  wall  rate x the lifetimes of all its threads (idle threads too)
  tick  rate x wall time: one thread (py-spy --gil: the GIL holder) per tick
py-spy counts one sample per active thread per tick; it counts threads
waiting for the GIL as active, so it can exceed the cpu basis.
"""
import os
import re


class Setting:
    def __init__(self, key, label, tool, args, basis):
        self.key, self.label, self.tool, self.args, self.basis = key, label, tool, args, basis

    def command(self, tools, pid, rate, out):
        """The command line that records process `pid` at `rate` Hz into `out`."""
        args = [a.replace("{out}", out) for a in self.args]
        if self.tool == "gil-prof":
            return [tools["gil-prof"], "record", "-p", str(pid), "-r", str(rate), "-v",
                    "-o", out, *args]
        if self.tool == "py-spy":
            return [tools["py-spy"], "record", "-p", str(pid), "-r", str(rate), "-f", "raw",
                    "-o", out, *args]
        if self.tool == "austin":
            # -P: the statistics go into the output as "# name: value" lines.
            return [tools["austin"], "-P", "-i", str(1000000 // rate), "-p", str(pid),
                    "-o", out, *args]
        raise ValueError(self.tool)

    def ready(self, err, out):
        """Has the profiler started sampling? (its stderr so far, its output file)"""
        if self.tool == "gil-prof":
            return "debug: sampling started" in err
        if self.tool == "py-spy":
            return "py-spy> Sampling process" in err
        # austin says nothing when it starts; its (buffered) output appears
        # once it has taken samples.
        try:
            return os.path.getsize(out) > 0
        except OSError:
            return False

    def parse(self, err, out):
        """Samples, lost samples and the tool's own figures, from its output
        (stdout and stderr together) and its stack file."""
        return PARSERS[self.tool](err, out)


def parse_gilprof(err, out):
    res = {}
    m = re.search(r"gil-prof: (\d+) samples \((\d+) lost\)", err)
    if m:
        res["samples"], res["lost"] = int(m.group(1)), int(m.group(2))
    res["counters"] = {k: int(v) for k, v in re.findall(r"debug: counter (\S+)\s+(\d+)", err)}
    res["bpf"] = {name: [int(runs), int(ns)] for name, runs, ns in
                  re.findall(r"debug: bpf prog (\S+)\s+(\d+) runs, (\d+) ns", err)}
    m = re.search(r"native: user-space cost per sample: median ([\d.]+) us, p99 ([\d.]+) us", err)
    if m:
        res["unwind_us"] = [float(m.group(1)), float(m.group(2))]
    return res


def parse_pyspy(err, out):
    res = {}
    m = re.search(r"Samples: (\d+) Errors: (\d+)", err)
    if m:
        res["samples"], res["lost"] = int(m.group(1)), int(m.group(2))
    behind = [float(x) for x in re.findall(r"([\d.]+)s behind in sampling", err)]
    res["behind_s"] = max(behind) if behind else 0.0
    return res


def parse_austin(err, out):
    res = {}
    meta = {}
    try:
        with open(out, errors="replace") as f:
            for line in f:
                if line.startswith("# ") and ":" in line:
                    k, v = line[2:].split(":", 1)
                    meta[k.strip()] = v.strip()
    except OSError:
        return res
    m = re.match(r"(\d+)/(\d+)", meta.get("errors", ""))
    if m:
        res["lost"], res["samples"] = int(m.group(1)), int(m.group(2))
    m = re.match(r"(\d+)/(\d+)", meta.get("saturation", ""))
    if m:
        res["saturated"] = int(m.group(1))
    return res


PARSERS = {"gil-prof": parse_gilprof, "py-spy": parse_pyspy, "austin": parse_austin}

NONE = Setting("none", "none (baseline)", None, [], None)
SETTINGS = [
    NONE,
    Setting("gilprof-cpu", "gil-prof --mode cpu", "gil-prof", ["--mode", "cpu"], "cpu"),
    Setting("gilprof-wall", "gil-prof --mode wall", "gil-prof", ["--mode", "wall"], "wall"),
    Setting("gilprof-native", "gil-prof --mode wall --native", "gil-prof",
            ["--mode", "wall", "--native"], "wall"),
    # A GIL timeline as well: every GIL acquisition and release traced.
    Setting("gilprof-timeline", "gil-prof --mode wall + GIL timeline", "gil-prof",
            ["--mode", "wall", "-o", "{out}.trace.json"], "wall"),
    Setting("pyspy", "py-spy", "py-spy", [], "cpu"),
    Setting("pyspy-nonblocking", "py-spy --nonblocking", "py-spy", ["--nonblocking"], "cpu"),
    Setting("pyspy-native", "py-spy --native", "py-spy", ["--native"], "cpu"),
    Setting("pyspy-gil-idle", "py-spy --gil --idle", "py-spy", ["--gil", "--idle"], "tick"),
    Setting("austin", "austin", "austin", [], "wall"),
]
BY_KEY = {s.key: s for s in SETTINGS}
