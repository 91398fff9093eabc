"""Faults gil-prof survives: the target crashing, exec'ing, forking; signals to
gil-prof (checked against the kernel's view of BPF objects); thread churn;
ring buffer overflow; output paths that cannot take the profile.

Each runs pyenv's 3.11 (the behaviour is the sampler's, not the layout's).
"""
import json
import os
import re
import signal
import subprocess
import time

import pytest

import chrometrace_rules
import pprof_tool
from conftest import (
    GIL_PROF,
    INTERPRETERS,
    TARGETS,
    assert_no_sanitizer_report,
    parse_folded,
    run_gil_prof,
    thread_tid,
    wait_for,
)

EXIT_OUTPUT = 8
SIGNAL_NAMES = {signal.SIGINT: "Interrupt", signal.SIGTERM: "Terminated", signal.SIGHUP: "Hangup"}


def python311():
    return next(v for k, v in sorted(INTERPRETERS.items()) if k.startswith("pyenv-3.11"))


def leaf_counts(stacks, pid=None):
    """{leaf function: samples}, only the stacks of process pid if given."""
    out = {}
    for frames, count in stacks:
        if pid is not None and process_of(frames) != pid:
            continue
        name = frames[-1].split(" (")[0]
        out[name] = out.get(name, 0) + count
    return out


def process_of(frames):
    """PID of a --subprocesses stack ('process PID:"cmdline";thread (...)')."""
    m = re.match(r'^process (\d+):', frames[0])
    return int(m.group(1)) if m else None


def comments(pb):
    return [l[len("Comment: "):] for l in pprof_tool.run(pb, "-raw").splitlines()
            if l.startswith("Comment: ")]


# --- the target changes under gil-prof --------------------------------------


@pytest.mark.parametrize("mode", ["attach", "launch"])
def test_target_crash_keeps_profile(mode, target, tmp_path):
    folded, pb = tmp_path / "crash.folded", tmp_path / "crash.pb.gz"
    # 2 s before the crash: attaching (slower in the sanitizer build) takes part of it
    args = ["lifecycle.py", "crash", "2"]
    if mode == "attach":
        t = target(python311(), *args)
        r = run_gil_prof("-p", t.pid, "-d", "30s", "-o", folded, "-o", pb)
        pid = t.pid
    else:
        r = run_gil_prof("record", "-o", folded, "-o", pb, "--", python311(),
                         TARGETS / args[0], *args[1:])
        pid = int(re.search(r"from \d+ threads of process (\d+)", r.stderr).group(1))
    assert r.returncode == 0, r.stderr
    # the kernel's exit record (attach) or waitpid (launch) says how it ended
    assert "process %d was killed by signal 11 (Segmentation fault)" % pid in r.stderr
    assert "target was killed by signal 11 (Segmentation fault)" in comments(pb)
    # what was sampled before the crash is there: the whole recording (it
    # ends with the crash) at 100 Hz, but for the moments around the crash
    seconds = float(re.search(r"samples \(\d+ lost\) from .* in ([\d.]+) s", r.stderr).group(1))
    spin = leaf_counts(parse_folded(folded)).get("spin_until", 0)
    assert seconds >= 0.3 and spin >= 70 * seconds, (spin, seconds, r.stderr)


def test_target_exec_noted(target, tmp_path):
    # exec into a program that is not Python: noted, the profile so far kept
    out, pb = tmp_path / "exec.folded", tmp_path / "exec.pb.gz"
    t = target(python311(), "lifecycle.py", "exec", "2", "/bin/sleep", "2")
    r = run_gil_prof("-p", t.pid, "-d", "30s", "-o", out, "-o", pb)
    assert r.returncode == 0, r.stderr
    assert re.search(r"process %d:\"[^\"]*lifecycle.py exec[^\"]*\" exec'd sleep" % t.pid,
                     r.stderr), r.stderr
    assert any("exec'd sleep" in c for c in comments(pb))
    assert leaf_counts(parse_folded(out)).get("spin_until", 0) >= 20, r.stderr


def test_target_exec_python_followed(target, tmp_path):
    # exec into the same Python running another script: followed, both parts sampled
    out = tmp_path / "exec.folded"
    t = target(python311(), "lifecycle.py", "exec", "2", python311(), str(TARGETS / "split.py"),
               "1.5")
    r = run_gil_prof("-p", t.pid, "-d", "30s", "-o", out)
    assert r.returncode == 0, r.stderr
    assert "exec'd Python 3.11" in r.stderr and ": followed" in r.stderr, r.stderr
    leaves = leaf_counts(parse_folded(out))
    assert leaves.get("spin_until", 0) >= 20, leaves
    assert leaves.get("spin_three_quarters", 0) >= 40, leaves
    assert leaves.get("spin_one_quarter", 0) >= 10, leaves


def test_exec_ends_gil_timeline(target, tmp_path):
    # A watchpoint does not survive exec and the old GIL is gone with the old
    # program (the thread exec'd holding it): the timeline ends at the exec,
    # it does not show the thread holding a vanished GIL to the end.
    trace = tmp_path / "exec.trace.json"
    t = target(python311(), "lifecycle.py", "exec", "2", python311(), str(TARGETS / "split.py"),
               "1.5")
    r = run_gil_prof("-p", t.pid, "-d", "30s", "--gil-trace", "watchpoint", "-o", trace)
    assert r.returncode == 0, r.stderr
    assert "where the target exec'd" in r.stderr, r.stderr
    doc = json.loads(trace.read_text())
    assert doc["otherData"]["ended_at_exec"] is True, doc["otherData"]
    # exec'd 2 s after the target started, and gil-prof attached after that;
    # the recording itself went on through split.py's 1.5 s
    assert 300e3 <= doc["otherData"]["duration_us"] <= 2.1e6, doc["otherData"]
    totals, _ = chrometrace_rules.gil_timeline(doc)
    main = totals[t.pid]
    assert main["holding"] >= 0.8 * sum(main.values()), main


@pytest.mark.parametrize("follow", [False, True], ids=["parent-only", "subprocesses"])
def test_fork(follow, tmp_path):
    out = tmp_path / "fork.folded"
    # wall mode: every thread's lifetime is sampled, however busy the machine
    r = run_gil_prof("record", "-o", out, *(["--subprocesses"] if follow else []),
                     "--", python311(), TARGETS / "lifecycle.py", "fork", "1.2")
    assert r.returncode == 0, r.stderr
    parent = int(re.search(r"process (\d+) exited with status 0", r.stderr).group(1))
    child = int(re.search(r"^child (\d+)$", r.stdout, re.M).group(1))
    stacks = parse_folded(out)
    if not follow:
        assert "1 child process started during the recording, not profiled" in r.stderr
        leaves = leaf_counts(stacks)
        assert "child_work" not in [f.split(" (")[0] for fr, _ in stacks for f in fr]
        assert leaves.get("spin_until", 0) >= 100, leaves
        assert {thread_tid(fr[0]) for fr, _ in stacks} == {parent}
        return
    assert "1 child process started during the recording, 1 followed" in r.stderr
    assert {process_of(fr) for fr, _ in stacks} == {parent, child}
    # each side's work, under its own process label, in its own thread
    for pid, fn in ((parent, "after_fork"), (child, "child_work")):
        mine = [fr for fr, _ in stacks if process_of(fr) == pid]
        assert {thread_tid(fr[1]) for fr in mine} == {pid}
        n = sum(c for fr, c in stacks if process_of(fr) == pid and fn in ";".join(fr))
        assert n >= 80, (pid, fn, n)
    assert "child_work" not in ";".join(";".join(fr) for fr, _ in stacks
                                        if process_of(fr) == parent)


def test_pool_workers_labelled(tmp_path):
    folded, pb = tmp_path / "pool.folded", tmp_path / "pool.pb.gz"
    r = run_gil_prof("record", "--subprocesses", "-o", folded, "-o", pb, "--",
                     python311(), TARGETS / "pool.py", "3", "2.5")
    assert r.returncode == 0, r.stderr
    workers = [int(p) for p in r.stdout.split("ready", 1)[1].split("\n", 1)[0].split()]
    assert len(workers) == 3
    stacks = parse_folded(folded)
    for w in workers:
        n = sum(c for fr, c in stacks if process_of(fr) == w and fr[-1].startswith("crunch ("))
        # each worker computed for ~2.5 s (wall mode: ~250 samples)
        assert n >= 150, (w, n, r.stderr)
    # pprof: the same samples carry pid labels go tool pprof can filter on
    for w in workers:
        top = pprof_tool.run(pb, "-top", "-tagfocus=pid=%d" % w)
        assert "crunch" in top, top


# --- signals to gil-prof, and what the kernel still holds afterwards ---------


def bpf_fds(pid):
    """{'prog': ids, 'link': ids, 'map': ids} gil-prof holds, from its fdinfo."""
    out = {"prog": set(), "link": set(), "map": set()}
    fddir = "/proc/%d/fdinfo" % pid
    try:
        fds = os.listdir(fddir)
    except OSError:
        return out  # exited
    for fd in fds:
        try:
            text = open(os.path.join(fddir, fd)).read()
        except OSError:
            continue
        for kind in out:
            m = re.search(r"^%s_id:\s+(\d+)$" % kind, text, re.M)
            if m and (kind != "prog" or "link_id" not in text):
                out[kind].add(int(m.group(1)))
    return out


def kernel_ids(kind):
    """Ids of every BPF object of a kind the kernel has (bpftool)."""
    r = subprocess.run(["bpftool", "-j", kind, "show"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    return {o["id"] for o in json.loads(r.stdout or "[]")}


def kernel_perf_attachments(pid):
    r = subprocess.run(["bpftool", "-j", "perf", "show"], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    return [o for o in json.loads(r.stdout or "[]") if o["pid"] == pid]


def attached(pid):
    """What gil-prof (pid) holds in the kernel, once it has attached."""
    # Its fds and the kernel's lists are read one after the other: a link
    # gil-prof closes in between (the snapshot iterator's, run again when a
    # GIL is first found) is in the one and gone from the other. Read again
    # until the two agree; what it keeps must be in the kernel's lists.
    for _ in range(50):
        held = bpf_fds(pid)
        kernel = {"prog": kernel_ids("prog"), "link": kernel_ids("link")}
        if all(held[k] <= kernel[k] for k in kernel):
            break
        time.sleep(0.1)
    # all of its programs: sampler, context switches, snapshot, fork/exec/exit
    assert len(held["prog"]) >= 6 and len(held["link"]) >= 5, held
    assert held["prog"] <= kernel["prog"] and held["link"] <= kernel["link"], (held, kernel)
    assert kernel_perf_attachments(pid), "bpftool perf shows no attachment of gil-prof"
    return held


def assert_released(pid, held):
    """Nothing of gil-prof's is left in the kernel (freed a little after exit)."""
    def gone():
        return (not held["prog"] & kernel_ids("prog") and not held["link"] & kernel_ids("link")
                and not held["map"] & kernel_ids("map") and not kernel_perf_attachments(pid))
    assert wait_for(gone, timeout=10.0, step=0.2), (
        held, held["prog"] & kernel_ids("prog"), held["link"] & kernel_ids("link"))
    # nothing pinned either
    assert not any("gil" in n for n in os.listdir("/sys/fs/bpf")), os.listdir("/sys/fs/bpf")


def start_recording(t, *outs):
    args = [str(GIL_PROF), "-p", str(t.pid)]
    for o in outs:
        args += ["-o", str(o)]
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # attached once the sampler's programs and links are all in place
    assert wait_for(lambda: p.poll() is not None or len(bpf_fds(p.pid)["link"]) >= 5,
                    timeout=30), "gil-prof did not attach"
    assert p.poll() is None, p.communicate()
    return p


CAP_DAC_OVERRIDE, CAP_SETUID, CAP_NET_ADMIN, CAP_SYS_MODULE = 1, 7, 12, 16
CAP_SYS_PTRACE, CAP_SYS_ADMIN, CAP_PERFMON, CAP_BPF = 19, 21, 38, 39


def assert_privileges_dropped(pid):
    """Attached, gil-prof keeps only what reading the target and writing need."""
    def status():
        with open("/proc/%d/status" % pid) as f:
            return dict(l.rstrip("\n").split(":\t", 1) for l in f if ":\t" in l)
    assert wait_for(lambda: status().get("NoNewPrivs") == "1", timeout=10), status()
    st = status()
    eff, bnd = int(st["CapEff"], 16), int(st["CapBnd"], 16)
    for cap in (CAP_SYS_PTRACE, CAP_DAC_OVERRIDE, CAP_BPF):
        assert eff >> cap & 1, (cap, st["CapEff"])
    for cap in (CAP_SYS_ADMIN, CAP_PERFMON, CAP_SETUID, CAP_NET_ADMIN, CAP_SYS_MODULE):
        assert not eff >> cap & 1, (cap, st["CapEff"])
    # nothing to regain either: no capability outside the kept ones anywhere
    assert bnd == eff and int(st["CapPrm"], 16) == eff, st
    assert int(st["CapInh"], 16) == 0 and int(st["CapAmb"], 16) == 0, st


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP],
                         ids=["SIGINT", "SIGTERM", "SIGHUP"])
def test_signal_detaches_and_writes(sig, target, tmp_path):
    t = target(python311(), "split.py")
    out = tmp_path / "sig.folded"
    p = start_recording(t, out)
    held = attached(p.pid)
    assert_privileges_dropped(p.pid)
    time.sleep(1.5)
    p.send_signal(sig)
    _, err = p.communicate(timeout=30)
    assert_no_sanitizer_report(err)
    assert p.returncode == 0, err
    assert "stopped by %s" % SIGNAL_NAMES[sig] in err, err
    names = leaf_counts(parse_folded(out))
    assert names.get("spin_three_quarters", 0) + names.get("spin_one_quarter", 0) > 20, names
    assert t.proc.poll() is None  # the target keeps running
    assert_released(p.pid, held)


def test_sigkill_leaves_nothing_attached(target, tmp_path):
    t = target(python311(), "split.py")
    out = tmp_path / "killed.folded"
    p = start_recording(t, out)
    held = attached(p.pid)
    time.sleep(0.5)
    p.kill()
    p.communicate(timeout=30)
    # every program, link and map was owned by gil-prof's fds: gone with them
    assert_released(p.pid, held)
    assert os.listdir(tmp_path) == []  # no profile, no temporary file
    assert t.proc.poll() is None


# --- load ---------------------------------------------------------------------


def status_kb(pid, field):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def test_thousand_short_lived_threads(tmp_path):
    out = tmp_path / "churn.folded"
    # to files: the report of 1000 threads would fill a pipe nobody reads yet
    with open(tmp_path / "stdout", "w+") as so, open(tmp_path / "stderr", "w+") as se:
        p = subprocess.Popen([str(GIL_PROF), "record", "-o", str(out), "--", python311(),
                              str(TARGETS / "thread_churn.py"), "8", "1000"],
                             stdout=so, stderr=se, text=True)
        rss = []  # gil-prof's heap (RssAnon, kB) while the threads come and go
        while p.poll() is None:
            kb = status_kb(p.pid, "RssAnon")
            if kb:
                rss.append(kb)
            time.sleep(0.25)
        so.seek(0)
        se.seek(0)
        stdout, err = so.read(), se.read()
    assert_no_sanitizer_report(err)
    assert p.returncode == 0, err
    line = next(l for l in stdout.splitlines() if l.startswith("threads "))
    started = {int(tid): name for tid, name in (x.split(":", 1) for x in line.split()[1:])}
    assert len(started) == 1000
    main_pid = int(re.search(r"process (\d+) exited", err).group(1))

    stacks = parse_folded(out)
    seen = {}
    for frames, count in stacks:
        # a thread gone before its name could be read has its id only
        m = re.match(r"^thread \((\d+)(?: (.*))?\)$", frames[0])
        assert m, frames[0]
        seen.setdefault(int(m.group(1)), set()).add(m.group(2))
    # every thread in the profile is one the target started (or its main
    # thread), under the name it had: no mixed-up or invented thread ids
    assert set(seen) <= set(started) | {main_pid}, set(seen) - set(started)
    # (names are read from threading._active when the samples are processed,
    # every ~100 ms: most of these threads are gone by then and keep their id)
    for tid, names in seen.items():
        if tid != main_pid and names != {None}:
            assert names == {started[tid]}, (tid, names, started[tid])
    # and nearly all of them are there (each lived ~30 ms: ~3 samples)
    assert len(set(seen) & set(started)) >= 950, len(set(seen) & set(started))
    assert "from %d threads" % len(seen) in err
    churn = sum(c for fr, c in stacks if fr[-1].startswith("churn_work ("))
    assert churn >= 300, churn
    # Per-thread state does not pile up: the heap grows by the profile's own
    # entries (a thread, its stacks, and since 2026-12 its trust record,
    # blame slot and wall-mode stack cache), under 6 kB a thread (4.4 kB seen
    # once on a loaded machine, under 4 before), plus the report's estimated
    # GIL timeline, which grows with the GIL's transitions, not the threads
    # (capped at GP_TIMELINE_MAX_ESTIMATED records, ~0.8 MB, and their
    # intervals at the end); the sanitizer build's allocator
    # keeps freed memory in quarantine, so only the plain build is measured.
    if ".output-san" not in str(GIL_PROF):
        assert len(rss) >= 8, rss
        growth = rss[-1] - rss[len(rss) // 8]
        assert growth < 6 * 1000 + 1500, (growth, rss)


def test_ring_buffer_overflow_counted(target, tmp_path):
    t = target(python311(), "busy_threads.py", "8")
    folded, pb = tmp_path / "ov.folded", tmp_path / "ov.pb.gz"
    start = time.monotonic()
    r = run_gil_prof("-p", t.pid, "-d", "2s", "-r", "10000", "--native", "--ring-size", "64K",
                     "-o", folded, "-o", pb, timeout=120)
    assert r.returncode == 0, r.stderr
    assert time.monotonic() - start < 60
    m = re.search(r"(\d+) samples \((\d+) lost\)", r.stderr)
    assert m, r.stderr
    samples, lost = int(m.group(1)), int(m.group(2))
    assert lost > 0, r.stderr
    assert "warning: %d samples lost: the ring buffer was full" % lost in r.stderr
    assert "samples: %d, lost samples: %d" % (samples, lost) in comments(pb)
    # what did arrive is a profile of the busy threads
    assert sum(c for _, c in parse_folded(folded)) > 1000
    assert t.proc.poll() is None


# --- output paths ---------------------------------------------------------------


@pytest.fixture
def small_fs(tmp_path):
    """mount(size, ro=False) -> a fresh tmpfs of `size` under tmp_path."""
    mounted = []

    def mount(size, ro=False):
        d = tmp_path / ("fs%d" % len(mounted))
        d.mkdir()
        opts = "size=%s,mode=0755" % size + (",ro" if ro else "")
        subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "gil-prof-test", str(d)], check=True)
        mounted.append(d)
        return d

    yield mount
    for d in reversed(mounted):
        subprocess.run(["umount", "-l", str(d)], check=False)


def fill(d, leave_kb):
    """Fill the file system of d until about leave_kb kB are free."""
    st = os.statvfs(d)
    free = st.f_bfree * st.f_frsize
    with open(d / "ballast", "wb") as f:
        f.write(b"\0" * max(0, free - leave_kb * 1024))


def assert_refused_before_recording(r, words, d, started):
    assert r.returncode == EXIT_OUTPUT, r.stderr
    errors = [l for l in r.stderr.splitlines() if l.startswith("gil-prof: error:")]
    assert len(errors) == 1 and words in errors[0], r.stderr
    assert "samples" not in r.stderr  # refused before recording
    assert time.monotonic() - started < 10
    assert [f for f in os.listdir(d) if f != "ballast"] == []


def test_output_read_only(target, small_fs):
    t = target(python311(), "split.py")
    d = small_fs("1M", ro=True)
    started = time.monotonic()
    r = run_gil_prof("-p", t.pid, "-d", "5", "-o", d / "x.svg")
    assert_refused_before_recording(r, "is not writable (Read-only file system)", d, started)


def test_output_disk_full_before(target, small_fs):
    t = target(python311(), "split.py")
    d = small_fs("256k")
    fill(d, 0)
    started = time.monotonic()
    r = run_gil_prof("-p", t.pid, "-d", "5", "-o", d / "x.folded")
    assert_refused_before_recording(r, "no space left on the file system", d, started)


def test_output_disk_full_while_writing(target, small_fs, tmp_path):
    t = target(python311(), "split.py")
    d = small_fs("512k")
    fill(d, 70)  # past the check before recording; room for ~5 flame graphs of ~13 kB, not 8
    outs = [d / ("p%d.svg" % i) for i in range(8)]
    args = [a for o in outs for a in ("-o", o)]
    rescue_dir = tmp_path / "rescue"
    rescue_dir.mkdir()
    r = run_gil_prof("-p", t.pid, "-d", "1", *args, env={**os.environ, "TMPDIR": str(rescue_dir)})
    assert r.returncode == EXIT_OUTPUT, r.stderr
    failed = re.findall(r"gil-prof: error: cannot write (\S+): No space left on device", r.stderr)
    assert failed and len(failed) < len(outs), r.stderr
    for o in outs:
        if str(o) in failed:
            assert not o.exists()  # never a truncated file
            saved = rescue_dir / ("gil-prof-rescued-%d-%s" % (r_pid(r), o.name))
            assert "saved the svg profile to %s instead" % saved in r.stderr, r.stderr
            assert saved.read_text().rstrip().endswith("</svg>")
        else:
            assert o.read_text().rstrip().endswith("</svg>")
    # no temporary file left behind either
    assert sorted(os.listdir(d)) == sorted(["ballast"] + [o.name for o in outs if o.exists()])


def r_pid(r):
    """gil-prof's own pid, from the rescued file's name in its notes."""
    return int(re.search(r"gil-prof-rescued-(\d+)-", r.stderr).group(1))
