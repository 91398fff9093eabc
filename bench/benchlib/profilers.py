"""The profilers and settings compared, how each is started against a PID,
how it says it is sampling, and what it reports at the end.

Every profiler attaches to a running target (-p PID) and records until the
target exits. Its output is a stack file (gil-prof folded, py-spy raw,
austin's collapsed stacks) read for the fidelity check.

basis: what a complete profile's sample count is, for "samples vs expected":
  cpu   rate x the target's CPU time (on-CPU samples only)
  wall  rate x the lifetimes of all its threads (idle threads too)
  tick  rate x wall time: one thread (py-spy --gil: the GIL holder) per tick,
        or one tick of all threads (Tachyon -a)
  own   rate x the time the profiler says it sampled (Tachyon's collapsed
        output, which has no times to clip to the recorded window)
py-spy counts one sample per active thread per tick; it counts threads
waiting for the GIL as active, so it can exceed the cpu basis.

Tachyon (CPython 3.15's own sampler, python3.15 -m profiling.sampling) is
run inside the target's root with nsenter (it must see the interpreter's
files where the target does) and says nothing when it starts: it is taken
to sample TACHYON_START seconds after it was started (it attaches in about
0.2 s here, over 1 s once on a loaded machine). In wall mode it writes a Gecko profile, whose samples are
counted within the recorded window, so a late start shows as missing
samples rather than passing unseen.
"""
import os
import re
import time

TACHYON_START = 2.0


class Setting:
    def __init__(self, key, label, tool, args, basis, min_python=None):
        self.key, self.label, self.tool, self.args, self.basis = key, label, tool, args, basis
        # The oldest interpreter (major, minor) the tool reads, where it is
        # newer than every workload interpreter's.
        self.min_python = min_python
        self.started = None

    @property
    def gecko(self):
        """Does it write a Gecko profile (Tachyon's wall mode)?"""
        return self.tool == "tachyon" and "--gecko" in self.args

    @property
    def gil_view(self):
        """Does it give each thread's time holding and waiting for the GIL
        (gilview.py)? gil-prof but in cpu mode, whose samples are of threads
        on a CPU (the waiting ones are off CPU, unseen); Tachyon's Gecko."""
        return (self.tool == "gil-prof" and self.basis != "cpu") or self.gecko

    def command(self, tools, pid, rate, out):
        """The command line that records process `pid` at `rate` Hz into `out`."""
        args = [a.replace("{out}", out) for a in self.args]
        if self.tool == "gil-prof":
            return [tools["gil-prof"], "record", "-p", str(pid), "-r", str(rate), "-v",
                    "-o", out, *args]
        if self.tool == "py-spy":
            return [tools["py-spy"], "record", "-p", str(pid), "-r", str(rate), "-f", "raw",
                    "-o", out, *args]
        if self.tool == "tachyon":
            self.started = time.monotonic()
            # C.UTF-8: its CLI sets the locale from the environment, and the
            # root has no other (sudo keeps the caller's LANG).
            return ["env", "LC_ALL=C.UTF-8", "nsenter", "-t", str(pid), "-m", "-r", "-w",
                    tools["tachyon"], "-m",
                    "profiling.sampling", "attach", "-a", "-r", str(rate), *args,
                    "-o", out, str(pid)]
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
        if self.tool == "tachyon":
            return time.monotonic() - self.started >= TACHYON_START
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


def parse_tachyon(err, out):
    """Its end-of-run lines: "Captured N samples in T seconds", "Error rate:
    P" (percent of the samples it could not take), "Warning: missed K
    samples from the expected total of E". runner.py replaces "samples" by
    the ticks inside the recorded window (gilview.tachyon_ticks)."""
    res = {}
    m = re.search(r"Captured (\d+) samples in ([\d.]+) seconds", err)
    if m:
        res["captured"], res["captured_s"] = int(m.group(1)), float(m.group(2))
        res["samples"] = res["captured"]
    m = re.search(r"Error rate: ([\d.]+)", err)
    if m and "captured" in res:
        # Its count includes the attempts that failed: those are lost.
        res["lost"] = round(float(m.group(1)) / 100 * res["captured"])
        res["samples"] = res["captured"] - res["lost"]
    m = re.search(r"missed (\d+) samples from the expected total of (\d+)", err)
    if m:
        res["missed"] = int(m.group(1))
    return res


PARSERS = {"gil-prof": parse_gilprof, "py-spy": parse_pyspy, "austin": parse_austin,
           "tachyon": parse_tachyon}

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
    # CPython 3.15's own sampler: all threads (-a) per tick, in its wall
    # mode (every thread) and its gil mode (only the thread holding the GIL).
    # Its Gecko output is its wall mode only (with the GIL and CPU markers);
    # the others write collapsed stacks, whose samples are counted against
    # its own sampling time (basis "own").
    Setting("tachyon-wall", "Tachyon (wall, Gecko)", "tachyon", ["--gecko"], "tick",
            min_python=(3, 15)),
    Setting("tachyon-gil", "Tachyon --mode gil", "tachyon", ["--mode", "gil", "--collapsed"],
            "own", min_python=(3, 15)),
]
BY_KEY = {s.key: s for s in SETTINGS}
