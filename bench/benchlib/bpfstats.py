"""The kernel's own accounting of a profiler's BPF programs.

With kernel.bpf_stats_enabled set (or a BPF_ENABLE_STATS fd held, as
gil-prof holds one while it records), the kernel adds every run of a BPF
program and its run time to the program (bpf_prog_info run_cnt and
run_time_ns; /proc/PID/fdinfo of a program fd shows both). The harness reads
them from the profiler's own program fds at the go and at the target's exit,
so the costs cover the measured window, and takes the names from bpftool.
"""
import contextlib
import json
import os
import re
import subprocess

SYSCTL = "/proc/sys/kernel/bpf_stats_enabled"


@contextlib.contextmanager
def enabled():
    """kernel.bpf_stats_enabled = 1 while the bench runs, restored after.
    The kernel counts the sysctl's hold on the statistics apart from the
    BPF_ENABLE_STATS fds of running programs, so restoring it leaves theirs
    alone."""
    try:
        with open(SYSCTL) as f:
            before = f.read().strip()
        with open(SYSCTL, "w") as f:
            f.write("1")
    except OSError:
        before = None  # not root, or no such sysctl: gil-prof's own fd still counts
    try:
        yield
    finally:
        if before is not None and before != "1":
            try:
                with open(SYSCTL, "w") as f:
                    f.write(before)
            except OSError:
                pass


_FIELD = re.compile(r"^(prog_id|run_time_ns|run_cnt):\s+(\d+)$", re.M)


def read(pid):
    """{prog_id: (run_cnt, run_time_ns)} of the BPF programs process pid holds
    open; None if the process is gone."""
    out = {}
    fddir = "/proc/%d/fd" % pid
    try:
        fds = os.listdir(fddir)
    except OSError:
        return None
    for fd in fds:
        try:
            if os.readlink(os.path.join(fddir, fd)) != "anon_inode:bpf-prog":
                continue
            with open("/proc/%d/fdinfo/%s" % (pid, fd)) as f:
                fields = dict(_FIELD.findall(f.read()))
        except OSError:
            continue
        if "prog_id" in fields:
            out[int(fields["prog_id"])] = (int(fields.get("run_cnt", 0)),
                                           int(fields.get("run_time_ns", 0)))
    return out


def names(ids):
    """{prog_id: name} from `bpftool prog show --json`, for the ids given."""
    try:
        r = subprocess.run(["bpftool", "prog", "show", "--json"], capture_output=True,
                           text=True, timeout=30)
        progs = json.loads(r.stdout or "[]")
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return {}
    return {p["id"]: p.get("name", "?") for p in progs if p.get("id") in ids}


def window(before, after, prog_names):
    """{name: [runs, ns]} run between two read()s (programs of one name added)."""
    out = {}
    for pid, (cnt, ns) in (after or {}).items():
        c0, n0 = (before or {}).get(pid, (0, 0))
        name = prog_names.get(pid, "prog%d" % pid)
        acc = out.setdefault(name, [0, 0])
        acc[0] += cnt - c0
        acc[1] += ns - n0
    return out


def window_to_end(before, prog_names, totals):
    """{name: [runs, ns]} from a read() to the totals gil-prof printed at its
    end ({name: [runs, ns]}, -v), for a profiler gone before the last read."""
    out = {}
    for name, (runs, ns) in (totals or {}).items():
        r0 = sum(c for pid, (c, _) in before.items() if prog_names.get(pid) == name)
        n0 = sum(n for pid, (_, n) in before.items() if prog_names.get(pid) == name)
        out[name] = [runs - r0, ns - n0]
    return out
