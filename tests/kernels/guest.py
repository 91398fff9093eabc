# SPDX-License-Identifier: BSD-2-Clause
"""The kernel test's checks, run inside the booted guest (init.sh) or on
this machine's own kernel: tests/kernels/target.py profiled by gil-prof in
each mode, the same truths as the host's functional tests asserted on what
it wrote, one result line per mode:

    KT-RESULT {"mode": ..., "status": "ok"|"wrong"|"untrusted"|"refused"|"error", ...}

"refused": gil-prof exited non-zero (exit code, first line of stderr and
the number of its lines without -v); "untrusted": it wrote the profile
but said it is not to be trusted (exit 12); "wrong": it exited 0 but a
truth failed ("why" says which); "error": the check itself could not run (a
timeout, a target that did not start). Besides: the processed
instructions of each BPF program as the kernel verified it (read with
bpf(2) while gil-prof runs; "insns_v": as gil-prof's -v printed them),
the counters -v printed.
Only the standard library: Debian 12's python3.11 runs it.
"""
import argparse
import ctypes
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET = os.path.join(HERE, "target.py")
MODES = ("wall", "cpu", "native", "cpu-kernel", "native-kernel", "timeline-wp", "timeline-up",
         "subprocesses")

# --- BPF programs' verified instruction counts (bpf(2), no bpftool) -------

BPF_PROG_GET_NEXT_ID, BPF_PROG_GET_FD_BY_ID, BPF_OBJ_GET_INFO_BY_FD = 11, 13, 15
INFO_SIZE = 232          # struct bpf_prog_info up to attach_btf_id (6.x)
OFF_NAME, OFF_VERIFIED = 64, 216
libc = ctypes.CDLL(None, use_errno=True)
SYS_BPF = 321            # x86-64


def _bpf(cmd, attr):
    return libc.syscall(SYS_BPF, cmd, ctypes.byref(attr), ctypes.sizeof(attr))


def bpf_programs():
    """{name: verified instructions (None before 5.16)} of loaded programs."""
    out, prog_id = {}, 0
    while True:
        attr = (ctypes.c_uint32 * 36)()
        attr[0] = prog_id
        if _bpf(BPF_PROG_GET_NEXT_ID, attr) != 0:
            return out
        prog_id = attr[1]
        attr = (ctypes.c_uint32 * 36)()
        attr[0] = prog_id
        fd = _bpf(BPF_PROG_GET_FD_BY_ID, attr)
        if fd < 0:
            continue
        info = ctypes.create_string_buffer(INFO_SIZE)
        attr = (ctypes.c_uint32 * 36)()
        attr[0], attr[1] = fd, INFO_SIZE
        ctypes.c_uint64.from_buffer(attr, 8).value = ctypes.addressof(info)
        if _bpf(BPF_OBJ_GET_INFO_BY_FD, attr) == 0:
            got = attr[1]
            name = info.raw[OFF_NAME:OFF_NAME + 16].split(b"\0")[0].decode(errors="replace")
            n = int.from_bytes(info.raw[OFF_VERIFIED:OFF_VERIFIED + 4], "little") \
                if got >= OFF_VERIFIED + 4 else None
            out[name] = n
        os.close(fd)


class ProgWatcher(threading.Thread):
    """Collects bpf_programs() every 0.2 s while a recording runs."""

    def __init__(self):
        super().__init__(daemon=True)
        self.seen, self.stop = {}, threading.Event()

    def run(self):
        while not self.stop.is_set():
            try:
                for name, n in bpf_programs().items():
                    if n is not None or name not in self.seen:
                        self.seen[name] = max(n or 0, self.seen.get(name) or 0) or n
            except OSError:
                pass
            self.stop.wait(0.2)

    def result(self):
        self.stop.set()
        self.join(2)
        return dict(sorted(self.seen.items()))


# --- the target ------------------------------------------------------------

class Target:
    def __init__(self, python, *args):
        self.proc = subprocess.Popen([python, TARGET, *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, start_new_session=True)
        line = self.proc.stdout.readline().split()
        if line[:1] != ["ready"]:
            self.kill()
            raise RuntimeError("target did not start with %s" % python)
        self.pid = int(line[1])

    def kill(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()


# --- gil-prof's outputs ----------------------------------------------------

PY_FRAME = re.compile(r"^(\S+) \((.+\.py):(\d+)\)$")
THREAD = re.compile(r"^thread \((\d+) (.*)\)$")
PROCESS = re.compile(r"^process (\d+)")


def parse_folded(path):
    """[{"pid", "tid", "thread", "state", "frames", "n"}] per folded line."""
    stacks = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            body, _, n = line.rpartition(" ")
            frames = body.split(";")
            pid = None
            m = PROCESS.match(frames[0])
            if m:
                pid = int(m.group(1))
                frames = frames[1:]
            m = THREAD.match(frames[0]) if frames else None
            if not m:
                continue
            state = None
            rest = frames[1:]
            if rest and rest[0].startswith("gil:"):
                state, rest = rest[0][4:], rest[1:]
            stacks.append({"pid": pid, "tid": int(m.group(1)), "thread": m.group(2),
                           "state": state, "frames": rest, "n": int(n)})
    return stacks


def innermost_python(frames):
    for fr in reversed(frames):
        m = PY_FRAME.match(fr)
        if m:
            return m.group(1)
    return None


def is_native(fr):
    return not PY_FRAME.match(fr) and not fr.startswith("[") and fr.endswith(")")


def of_thread(stacks, name, pid=None):
    return [s for s in stacks if s["thread"] == name and (pid is None or s["pid"] == pid)]


def share(stacks, pred):
    total = sum(s["n"] for s in stacks)
    return (sum(s["n"] for s in stacks if pred(s)) / total if total else 0.0), total


class Wrong(Exception):
    pass


def need(cond, what, metrics):
    if not cond:
        raise Wrong("%s (%s)" % (what, ", ".join("%s=%s" % kv for kv in sorted(metrics.items()))))


def spinner_truths(stacks, m, hold_min, pid=None):
    """The spinner thread: its samples are in spin() and hold the GIL."""
    sp = of_thread(stacks, "spinner", pid)
    m["spin"], total = share(sp, lambda s: innermost_python(s["frames"]) == "spin")
    m["spin_holding"], _ = share(sp, lambda s: s["state"] == "holding")
    m["spinner_samples"] = total
    m["spin"], m["spin_holding"] = round(m["spin"], 3), round(m["spin_holding"], 3)
    need(total >= 10, "spinner has samples", m)
    need(m["spin"] >= 0.8, "spin is the spinner's hot function", m)
    need(m["spin_holding"] >= hold_min, "spin holds the GIL", m)
    return sp


def check_wall(stacks, m, seconds, rate):
    spinner_truths(stacks, m, 0.6)
    nap = of_thread(stacks, "napper")
    m["napper_idle"], _ = share(nap, lambda s: s["state"] == "idle")
    m["napper_idle"] = round(m["napper_idle"], 3)
    need(m["napper_idle"] >= 0.5, "the napper sleeps (idle)", m)
    # wall mode: a thread's samples add up to its lifetime x rate
    need(abs(m["spinner_samples"] - seconds * rate) <= 0.1 * seconds * rate,
         "spinner samples = duration x rate", m)


def check_cpu(stacks, m):
    spinner_truths(stacks, m, 0.7)
    m["spinner_of_all"], _ = share(stacks, lambda s: s["thread"] == "spinner")
    m["spinner_of_all"] = round(m["spinner_of_all"], 3)
    need(m["spinner_of_all"] >= 0.5, "the spinner has most on-CPU samples", m)
    need(not any(s["state"] == "idle" for s in stacks), "no idle samples in cpu mode", m)


def check_native(stacks, m):
    sp = spinner_truths(stacks, m, 0.6)
    # Off-CPU intervals carry the stack of the switch, without native
    # frames: judge the samples that have some.
    nat = [s for s in sp if any(is_native(f) for f in s["frames"])]

    def whole(s):
        # unwound to the thread's start in libc (named start_thread where
        # debug symbols exist, libc.so.6+0x... in the guest's root), the
        # Python frames merged above it, nothing cut
        f = s["frames"]
        return (is_native(f[0]) and f[0].endswith("(libc.so.6)")
                and innermost_python(f) == "spin"
                and not any(x.startswith("[") for x in f))

    m["merged"], m["native_samples"] = share(nat, whole)
    m["merged"] = round(m["merged"], 3)
    need(m["native_samples"] >= 10, "the spinner has native frames", m)
    need(m["merged"] >= 0.8, "native frames merged with spin's, from the thread's start in libc", m)


def check_kernel(stacks, m):
    spinner_truths(stacks, m, 0.7)
    need(not any(s["state"] == "idle" for s in stacks), "no idle samples in cpu mode", m)
    kernel_frames(stacks, m)


def check_native_kernel(stacks, m):
    """Wall mode with both: the largest programs (the verifier's headroom)."""
    check_native(stacks, m)
    # Off-CPU intervals carry neither native nor kernel frames: judge the
    # syscaller's samples (those with native frames).
    kernel_frames(stacks, m, lambda s: any(is_native(f) for f in s["frames"]))


def kernel_frames(stacks, m, judged=lambda s: True):
    sc = [s for s in of_thread(stacks, "syscaller") if judged(s)]
    m["syscaller_kernel"], m["syscaller_samples"] = share(
        sc, lambda s: innermost_python(s["frames"]) == "syscalls"
        and any(f.endswith("([kernel])") and "random" in f for f in s["frames"]))
    m["syscaller_kernel"] = round(m["syscaller_kernel"], 3)
    need(m["syscaller_samples"] >= 10, "the syscaller has samples", m)
    need(m["syscaller_kernel"] >= 0.5, "kernel frames: getrandom under syscalls()", m)


def check_timeline(path, m, seconds):
    with open(path, encoding="utf-8") as f:
        events = json.load(f)["traceEvents"]
    names = {e["tid"]: e["args"]["name"] for e in events
             if e.get("ph") == "M" and e.get("name") == "thread_name"}
    spin_tids = [t for t, n in names.items() if n.endswith("spinner") or n == "spinner"]
    need(len(spin_tids) == 1, "the trace names the spinner thread", {"threads": len(names)})
    dur = {}
    for e in events:
        if e.get("ph") == "X" and e.get("tid") == spin_tids[0]:
            dur[e["name"]] = dur.get(e["name"], 0) + e["dur"]
    total = sum(dur.values())
    m["tl_spin_holding"] = round(dur.get("holding", 0) / total, 3) if total else 0
    m["handoffs"] = sum(1 for e in events if e.get("name") == "GIL hand-off")
    need(total >= 0.5 * seconds * 1e6, "the spinner's slices cover the recording", m)
    need(m["tl_spin_holding"] >= 0.6, "timeline: the spinner holds the GIL", m)
    need(m["handoffs"] >= 2, "timeline: GIL hand-offs to and from the napper", m)
    # recorded with --native: a hand-off's stack has the acquiring thread's
    # native frames (the napper's sleep returning through the interpreter)
    stacks = [e["args"].get("stack", []) for e in events if e.get("name") == "GIL hand-off"]
    m["handoffs_native"] = round(sum(1 for s in stacks if any(is_native(f) for f in s))
                                 / len(stacks), 3)
    need(m["handoffs_native"] >= 0.5, "timeline: hand-offs carry native frames", m)


def check_subprocesses(stacks, m, parent):
    pids = sorted({s["pid"] for s in stacks if s["pid"] is not None})
    m["processes"] = len(pids)
    need(len(pids) >= 2 and parent in pids, "the child process is profiled too", m)
    child = [p for p in pids if p != parent][0]
    spinner_truths(stacks, m, 0.5, pid=child)


# --- one mode --------------------------------------------------------------

def where(pid, errpath):
    """Where a gil-prof that did not finish was: its CPU time in user
    space and in the kernel (the verifier runs in its bpf() call), what
    it waits in, the last line it printed."""
    out = {}
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read().rsplit(")", 1)[1].split()
        tick = os.sysconf("SC_CLK_TCK")
        out.update(state=st[0], user_s=int(st[11]) / tick, sys_s=int(st[12]) / tick)
        with open("/proc/%d/wchan" % pid) as f:
            out["wchan"] = f.read()
    except (OSError, IndexError, ValueError):
        pass
    with open(errpath, errors="replace") as f:
        lines = f.read().splitlines()
    out["last_stderr"] = lines[-1][:200] if lines else ""
    return out


def start_child(p, errpath, pid, timeout):
    """Once gil-prof (run with -v) records, make the target fork its
    child: only children started during the recording are followed, and
    under emulation attaching takes seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and p.poll() is None:
        with open(errpath, errors="replace") as f:
            if "sampling started" in f.read():
                os.kill(pid, signal.SIGUSR1)
                return
        time.sleep(0.1)


COUNTER = re.compile(r"counter (\w+)\s+(\d+)")
VERIFIED = re.compile(r"bpf prog (\S+)\s+verified_insns (\d+)")
EXIT_UNTRUSTED = 12  # exitcodes.h: profile written, most samples without a Python stack


def run_mode(mode, args, work):
    seconds, rate = args.duration, 100
    python = args.uprobes_python if mode == "timeline-up" else args.python
    base = [args.gil_prof, "record", "-d", "%gs" % seconds, "-r", str(rate)]
    folded = os.path.join(work, mode + ".folded")
    trace = os.path.join(work, mode + ".trace.json")
    extra = {"wall": [], "cpu": ["--mode", "cpu"], "native": ["--native"],
             "cpu-kernel": ["--mode", "cpu", "--kernel"],
             "native-kernel": ["--native", "--kernel"],
             # --native too: the hand-off programs then copy the user
             # stack (their largest form for the verifier)
             "timeline-wp": ["--gil-trace", "watchpoint", "--native", "-o", trace],
             "timeline-up": ["--gil-trace", "uprobes", "--native", "-o", trace],
             "subprocesses": ["--subprocesses"]}[mode]
    res = {"mode": mode, "python": python}
    target, stacks = None, []
    try:
        target = Target(python, *{"cpu-kernel": ["--syscaller"], "native-kernel": ["--syscaller"],
                                  "subprocesses": ["--child"]}.get(mode, []))
        cmd = base + extra + ["-o", folded, "-v", "-p", str(target.pid)]
        if mode == "subprocesses":
            # the child is forked once the recording runs, and recorded 3 s
            cmd[cmd.index("-d") + 1] = "%gs" % (seconds + 1)
        watch = ProgWatcher()
        watch.start()
        t0 = time.monotonic()
        # Files, not pipes: a target launched under gil-prof inherits them
        # and would keep them open after gil-prof exits.
        errpath = os.path.join(work, mode + ".stderr")
        with open(errpath, "w") as errf:
            p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=errf, start_new_session=True)
            try:
                if mode == "subprocesses":
                    start_child(p, errpath, target.pid, seconds + args.timeout)
                p.wait(timeout=seconds + args.timeout)
            except subprocess.TimeoutExpired:
                res["hung"] = where(p.pid, errpath)
                raise
            finally:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
        with open(errpath, encoding="utf-8", errors="replace") as f:
            err = f.read()
        res["seconds"] = round(time.monotonic() - t0, 1)
        res["insns"] = watch.result()
        res["exit"] = p.returncode
        lines = err.splitlines()
        errors = [l for l in lines if l.startswith("gil-prof: error")]
        res["stderr"] = (errors or [l for l in lines if not l.startswith("gil-prof: debug")] or [""])[0][:300]
        res["counters"] = {k: int(v) for k, v in COUNTER.findall(err) if int(v)}
        res["insns_v"] = {k: int(v) for k, v in VERIFIED.findall(err)}
        if p.returncode == EXIT_UNTRUSTED:
            res["status"] = "untrusted"
            warn = [l for l in lines if l.startswith("gil-prof: warning")]
            res["stderr"] = (warn or [res["stderr"]])[0][:300]
            return res
        if p.returncode != 0:
            res["status"] = "refused"
            # the refusal as a user sees it: without -v
            with open(errpath, "w") as errf:
                q = subprocess.Popen([c for c in cmd if c != "-v"], stdout=subprocess.DEVNULL,
                                     stderr=errf, start_new_session=True)
                try:
                    q.wait(timeout=seconds + args.timeout)
                finally:
                    try:
                        os.killpg(q.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    q.wait()
            with open(errpath, encoding="utf-8", errors="replace") as f:
                plain = f.read().splitlines()
            res["plain_stderr_lines"] = len(plain)
            res["plain_stderr"] = plain[0][:300] if plain else ""
            return res
        m = {}
        res["metrics"] = m
        stacks = parse_folded(folded)
        if mode == "wall":
            check_wall(stacks, m, seconds, rate)
        elif mode == "cpu":
            check_cpu(stacks, m)
        elif mode == "native":
            check_native(stacks, m)
        elif mode == "cpu-kernel":
            check_kernel(stacks, m)
        elif mode == "native-kernel":
            check_native_kernel(stacks, m)
        elif mode.startswith("timeline"):
            spinner_truths(stacks, m, 0.6)
            check_timeline(trace, m, seconds)
        elif mode == "subprocesses":
            check_subprocesses(stacks, m, target.pid)
        res["status"] = "ok"
    except Wrong as e:
        res["status"], res["why"] = "wrong", str(e)
        # what was wrong with it: the heaviest stacks of the spinner
        sp = sorted(of_thread(stacks, "spinner"), key=lambda s: -s["n"])[:3] or \
            sorted(stacks, key=lambda s: -s["n"])[:3]
        res["top"] = ["%s %s: %s" % (s["state"], s["n"], ";".join(s["frames"]))[-700:] for s in sp]
    except subprocess.TimeoutExpired as e:
        h = res.get("hung", {})
        res["status"], res["why"] = "error", "did not finish in %g s (%.0f s CPU in the kernel, %.0f s in user space; last: %s)" % (
            e.timeout, h.get("sys_s", 0), h.get("user_s", 0), h.get("last_stderr", "?"))
    except (RuntimeError, OSError, ValueError, KeyError) as e:
        res["status"], res["why"] = "error", "%s: %s" % (type(e).__name__, e)
    finally:
        if target:
            target.kill()
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gil-prof", required=True)
    ap.add_argument("--python", default="/usr/bin/python3")
    ap.add_argument("--uprobes-python", help="an interpreter with take_gil/drop_gil symbols")
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--duration", type=float, default=3.0)
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds past the duration")
    ap.add_argument("--results", default="-", help="where result lines go (default stdout)")
    args = ap.parse_args()
    out = sys.stdout if args.results == "-" else open(args.results, "w", buffering=1)
    uname = os.uname().release
    with tempfile.TemporaryDirectory() as work:
        for mode in args.modes.split(","):
            if mode == "timeline-up" and not args.uprobes_python:
                res = {"mode": mode, "status": "error", "why": "no --uprobes-python"}
            else:
                res = run_mode(mode, args, work)
            res["uname"] = uname
            print("KT-RESULT " + json.dumps(res, sort_keys=True), file=out, flush=True)
            print("kernels: %s %s: %s %s" % (uname, mode, res["status"],
                                             res.get("why") or res.get("stderr", "")), file=sys.stderr)
    print("KT-DONE", file=out, flush=True)


if __name__ == "__main__":
    main()
