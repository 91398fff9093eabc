"""One measured run: a workload, optionally with a profiler attached.

The workload starts and builds its threads and data, says "ready" and waits;
the profiler attaches (-p PID) and is given until it says it samples; after
a short settle (the same for the baseline) the workload is told to go and
runs its fixed work; the profiler records until the workload exits. The
profiler's CPU time is read from /proc at the go and at the target's exit
(its own cost while recording, not its start-up or writing the profile);
its peak RSS is the last VmHWM read (/proc/PID/status, every 50 ms) before
it exited. For
gil-prof the run time of its BPF programs is read from the kernel at the go
and at the target's exit too (bpfstats.py), for the per-event costs.
"""
import json
import os
import select
import signal
import subprocess
import threading
import time

from . import bpfstats, gilview, machine
from .profilers import NONE

SETTLE = 0.2         # seconds between "sampling" and go, for every setting
START_TIMEOUT = 60   # for the workload's "ready" and the profiler's start


class RunError(Exception):
    pass


def _wait(pid, timeout):
    """wait4() with a timeout (via a pidfd); (status, rusage) or None on timeout."""
    fd = os.pidfd_open(pid)
    try:
        if not select.select([fd], [], [], timeout)[0]:
            return None
    finally:
        os.close(fd)
    _, status, ru = os.wait4(pid, 0)
    return status, ru


def _kill(p):
    if p and p.returncode is None:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except OSError:
            pass
        try:
            os.wait4(p.pid, 0)
        except ChildProcessError:
            pass
        p.returncode = -9


class Lines(threading.Thread):
    """Collects a process's stdout lines; `ready` is set at the "ready" line."""

    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream, self.lines, self.ready = stream, [], threading.Event()
        self.start()

    def run(self):
        for line in self.stream:
            line = line.decode(errors="replace").rstrip("\n")
            self.lines.append(line)
            if line == "ready":
                self.ready.set()
        self.ready.set()


def _clip_spans(spans, lo, hi):
    total = 0.0
    for start, end in spans:
        start = lo if start is None else max(lo, start)
        end = hi if end is None else min(hi, end)
        total += max(0.0, end - start)
    return total


def expected_samples(basis, rate, res, t_ready, t_exit):
    """What a complete profile holds (see profilers.py, basis)."""
    if basis == "cpu":
        return rate * (res["cpu"] - res["cpu_ready"])
    if basis == "wall":
        return rate * _clip_spans(res["spans"], t_ready, t_exit)
    if basis == "tick":
        return rate * (t_exit - t_ready)
    return None


def run_one(wl, setting, rate, ctx):
    """Measures one run; returns a dict (see the keys below). Raises RunError."""
    tmp = ctx["tmp"]
    out = os.path.join(tmp, "profile.txt")
    errpath = os.path.join(tmp, "profiler.err")
    for p in (out, errpath):
        if os.path.exists(p):
            os.unlink(p)
    target = prof = None
    try:
        with open(os.path.join(tmp, "target.err"), "wb") as terr:
            target = subprocess.Popen(wl.argv(ctx["python"], ctx["smoke"]), stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=terr, env=ctx["env"],
                                      start_new_session=True)
        lines = Lines(target.stdout)
        if not lines.ready.wait(START_TIMEOUT) or "ready" not in lines.lines:
            raise RunError("workload did not start: %s" % _tail(os.path.join(tmp, "target.err")))
        if setting is not NONE:
            try:
                with open(errpath, "wb") as perr:
                    prof = subprocess.Popen(setting.command(ctx["tools"], target.pid, rate, out),
                                            stdout=perr, stderr=subprocess.STDOUT,
                                            start_new_session=True)
            except OSError as e:
                raise RunError("cannot run %s: %s" % (setting.label, e))
            hwm = machine.HwmWatch(prof.pid)
            deadline = time.monotonic() + START_TIMEOUT
            while not setting.ready(_read(errpath), out):
                if prof.poll() is not None:
                    raise RunError("%s exited at start: %s" % (setting.label, _tail(errpath)))
                if time.monotonic() > deadline:
                    raise RunError("%s did not start sampling" % setting.label)
                time.sleep(0.01)
        t_ready = time.monotonic()
        time.sleep(SETTLE)

        bpf_names = bpf0 = bpf1 = None
        if prof and setting.tool == "gil-prof":
            bpf_names = bpfstats.names(set(bpfstats.read(prof.pid) or ()))
        window = machine.Window()
        targ0 = machine.proc_cpu(target.pid)
        prof0 = machine.proc_cpu(prof.pid) if prof else 0.0
        if prof0 is None:
            raise RunError("%s exited before the go: %s" % (setting.label, _tail(errpath)))
        if bpf_names is not None:
            bpf0 = bpfstats.read(prof.pid)
        t_go = time.monotonic()
        target.stdin.write(b"go\n")
        target.stdin.close()
        got = _wait(target.pid, ctx["timeout"])
        if got is None:
            raise RunError("workload did not finish within %d s" % ctx["timeout"])
        t_exit = time.monotonic()
        if bpf_names is not None:
            bpf1 = bpfstats.read(prof.pid)
        status, tru = got
        target.returncode = os.waitstatus_to_exitcode(status)
        prof1 = machine.proc_cpu(prof.pid) if prof else 0.0
        targ_cpu = tru.ru_utime + tru.ru_stime - targ0
        pru = None
        if prof:
            # The profiler has seen the exit; give it time to write the profile.
            got = _wait(prof.pid, max(120, 4 * (t_exit - t_ready)))
            if got is None:
                raise RunError("%s did not stop after the target exited" % setting.label)
            prof.returncode = os.waitstatus_to_exitcode(got[0])
            pru = got[1]
            # Gone already (its whole run then), or its threads were
            # exiting as they were read (the coarse /proc/PID/stat figure
            # then, which can fall below the reading at the go).
            if prof1 is None or prof1 < prof0:
                prof1 = pru.ru_utime + pru.ru_stime
        foreign = window.foreign_cores(targ_cpu + (prof1 - prof0))
        lines.join(10)
        res = _result(lines.lines, target.returncode, os.path.join(tmp, "target.err"))
        run = {
            "ok": True, "elapsed": res["elapsed"], "record_s": t_exit - t_ready,
            "foreign_cores": foreign, "load1": machine.load1(),
            "target_cpu": res["cpu"] - res["cpu_ready"],
        }
        for k in ("throughput", "p50_ms", "p99_ms", "ctx_switches"):
            if k in res:
                run[k] = res[k]
        if prof:
            err = _read(errpath)
            if prof.returncode != 0:
                raise RunError("%s failed (%d): %s" % (setting.label, prof.returncode,
                                                       _tail(errpath)))
            run.update(setting.parse(err, out))
            # Read once: the tick count and the GIL view both come from it.
            gecko = gilview.load_gecko(out) if setting.gecko else None
            if setting.gecko:
                run["samples"] = gilview.tachyon_ticks(gecko, (t_ready, t_exit))
            if wl.gil_view and setting.gil_view:
                run["gil_view"] = (gilview.tachyon_view(gecko, (t_go, t_exit), target.pid)
                                   if setting.gecko else gilview.gilprof_view(out, target.pid))
            window_s = t_exit - t_ready - SETTLE
            run["prof_cpu"] = (prof1 - prof0) / window_s if window_s > 0 else None
            run["prof_cpu_s"] = prof1 - prof0
            if bpf0 is not None:
                # Per program: runs and run time between the go and the exit;
                # if gil-prof was gone by then, up to its detach (its summary).
                run["bpf_window"] = (bpfstats.window(bpf0, bpf1, bpf_names) if bpf1
                                     else bpfstats.window_to_end(bpf0, bpf_names, run.get("bpf")))
                run["bpf_window_s"] = t_exit - t_go
            run["prof_cpu_total_s"] = pru.ru_utime + pru.ru_stime
            # Peak RSS: the last VmHWM read before it exited (machine.HwmWatch),
            # not ru_maxrss (see machine.proc_hwm_mb).
            hwm.join(5)
            run["prof_rss_mb"] = hwm.mb if hwm.mb is not None else pru.ru_maxrss / 1024
            run["expected"] = (rate * run["captured_s"] if setting.basis == "own"
                               and run.get("captured_s") else
                               expected_samples(setting.basis, rate, res, t_ready, t_exit))
            if wl.fidelity:
                from .stacks import leaf_counts
                counts = leaf_counts(out, setting.tool, wl.fidelity)
                run["leaves"] = dict(counts) if counts is not None else None
        return run
    finally:
        _kill(prof)
        _kill(target)


def _result(lines, code, errpath):
    for line in lines:
        if line.startswith("check failed"):
            raise RunError("workload %s" % line)
        if line.startswith("result "):
            if code != 0:
                break
            return json.loads(line[7:])
    raise RunError("workload exited with %s and no result: %s" % (code, _tail(errpath)))


def _read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def _tail(path, n=600):
    return _read(path)[-n:].strip().replace("\n", " | ")
