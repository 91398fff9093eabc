"""gil-prof check: on this machine (profiling works), with a capability
dropped (capsh: it says which and exits as record would), and with -p on
every interpreter (version, build, GIL-trace method)."""
import os
import re
import subprocess

from conftest import GIL_PROF, interpreter_root, minor_of, run_gil_prof

EXIT_NO_PROCESS, EXIT_NOT_PYTHON, EXIT_PERMISSION = 3, 4, 6


def lines(out):
    return [l.strip() for l in out.splitlines() if l.startswith("  ")]


def test_check_machine():
    r = run_gil_prof("check", timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    got = lines(r.stdout)
    assert all(l.startswith(("ok", "note")) for l in got), got
    assert any(l.startswith("ok") and "sampler: loads and attaches" in l for l in got), got
    # One line per BPF feature, each saying what it is for.
    feats = [l for l in got if l.split()[1] == "feature"]
    assert len(feats) == 9, got
    for name in ("bpf_loop", "the BPF ring buffer", "task iterators", "bpf_find_vma",
                 "sched_switch's prev_state"):
        line = next(l for l in feats if name in l)
        assert line.startswith("ok") and "present (" in line, line
    assert "result: profiling works here" in r.stdout


def capsh(drop, *args):
    r = subprocess.run(["capsh", "--drop=" + drop, "--", "-c",
                        " ".join([str(GIL_PROF), *map(str, args)])],
                       capture_output=True, text=True, timeout=120)
    return r


def test_check_without_bpf_capabilities():
    r = capsh("cap_bpf,cap_perfmon,cap_sys_admin", "check")
    assert r.returncode == EXIT_PERMISSION, r.stdout + r.stderr
    priv = next(l for l in lines(r.stdout) if "privileges" in l)
    assert priv.startswith("FAIL") and "CAP_BPF" in priv and "CAP_PERFMON" in priv, priv
    assert "CAP_SYS_PTRACE " not in priv.split("lacks")[1].split("(")[0], priv
    assert any(l.startswith("FAIL") and "sampler" in l for l in lines(r.stdout)), r.stdout
    assert "result: a recording would fail (exit status 6)" in r.stdout
    # ... and record itself exits with that code.
    rec = capsh("cap_bpf,cap_perfmon,cap_sys_admin", "record", "-p", "1", "-d", "1")
    assert rec.returncode == EXIT_PERMISSION, rec.stderr


def test_check_without_ptrace():
    r = capsh("cap_sys_ptrace", "check")
    assert r.returncode == EXIT_PERMISSION, r.stdout + r.stderr
    priv = next(l for l in lines(r.stdout) if "privileges" in l)
    assert priv.startswith("FAIL") and "lacks CAP_SYS_PTRACE" in priv, priv


def test_check_target(python):
    p = subprocess.Popen([python, "-c", "import sys, time; print(sys.version.split()[0], "
                          "flush=True); time.sleep(60)"], stdout=subprocess.PIPE, text=True,
                         start_new_session=True)
    try:
        version = p.stdout.readline().strip()
        r = run_gil_prof("check", "-p", p.pid, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        got = lines(r.stdout)
        proc = next(l for l in got if l.startswith("ok") and l.split()[1] == "process")
        # The version as gil-prof read it: whole (3.11+), or major.minor.
        shown = re.search(r"CPython (\S+) ", proc).group(1)
        assert version == shown or version.startswith(shown + "."), (version, proc)
        assert "supported" in proc, proc
        assert any(l.startswith("ok") and "memory: readable" in l for l in got), got
        gil = next(l for l in got if "GIL timeline" in l)
        # uprobes where the interpreter's symbol table has take_gil and
        # drop_gil (pyenv builds, sid's debug builds), else a watchpoint
        # (stripped Debian builds). The path is the target's: inside its root.
        path = re.search(r"\((/[^)]*)\), supported", proc).group(1)
        host = os.path.join(interpreter_root(python), path.lstrip("/"))
        syms = subprocess.run(["readelf", "-Ws", host], capture_output=True, text=True).stdout
        names = {l.split()[-1] for l in syms.splitlines() if len(l.split()) >= 8}
        want = "uprobes" if {"take_gil", "drop_gil"} <= names else "watchpoint"
        assert want in gil, (python, host, gil)
        assert minor_of(python) >= (3, 9)
    finally:
        p.kill()
        p.wait()


def test_check_bad_targets():
    r = run_gil_prof("check", "-p", 4194000, timeout=120)
    assert r.returncode == EXIT_NO_PROCESS, r.stdout + r.stderr
    assert re.search(r"FAIL\s+process 4194000", r.stdout)
    p = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        r = run_gil_prof("check", "-p", p.pid, timeout=120)
        assert r.returncode == EXIT_NOT_PYTHON, r.stdout + r.stderr
    finally:
        p.kill()
        p.wait()
    r = run_gil_prof("check", "--", "python3")
    assert r.returncode == 2
