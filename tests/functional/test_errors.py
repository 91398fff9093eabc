"""Every way gil-prof refuses: one line, its own exit code, nothing written."""
import os
import shutil
import subprocess

import pytest

from conftest import (
    GIL_PROF,
    INTERPRETERS,
    TARGETS,
    assert_no_sanitizer_report,
    find_old_interpreters,
    run_gil_prof,
    wait_for,
)

EXIT_USAGE = 2
EXIT_NO_PROCESS = 3
EXIT_NOT_PYTHON = 4
EXIT_UNSUPPORTED = 5
EXIT_PERMISSION = 6
EXIT_KERNEL = 7
EXIT_OUTPUT = 8
EXIT_LAUNCH = 9
EXIT_TARGET_GONE = 10


def python311():
    return next(v for k, v in sorted(INTERPRETERS.items()) if k.startswith("pyenv-3.11"))


def assert_refused(r, code, words, out=None):
    assert r.returncode == code, (r.returncode, r.stderr)
    lines = [l for l in r.stderr.splitlines() if l.startswith("gil-prof: error:")]
    assert len(lines) == 1, r.stderr
    assert words in lines[0], lines[0]
    if out is not None:
        assert not os.path.exists(out)
        assert not [f for f in os.listdir(os.path.dirname(out)) if f.startswith(".")]


def free_pid():
    pid = 4_000_000
    while os.path.exists("/proc/%d" % pid):
        pid += 1
    return pid


def test_no_such_process(tmp_path):
    out = tmp_path / "x.folded"
    assert_refused(run_gil_prof("-p", free_pid(), "-o", out), EXIT_NO_PROCESS, "no process", out)


def test_not_python(tmp_path):
    p = subprocess.Popen(["sleep", "30"])
    try:
        out = tmp_path / "x.folded"
        r = run_gil_prof("-p", p.pid, "-d", "1", "-o", out)
        assert_refused(r, EXIT_NOT_PYTHON, "not a CPython 3 interpreter", out)
    finally:
        p.kill()
        p.wait()


@pytest.mark.parametrize(
    "name, words",
    [
        # a program called python3.8 that is not 3.9+: refused as Python 3.8
        ("python3.8", "Python 3.8"),
        # a free-threaded build's files carry a "t": python3.13t, libpython3.13t.so
        ("python3.13t", "free-threaded builds are not supported yet"),
    ],
)
def test_unsupported_by_name(name, words, tmp_path):
    fake = tmp_path / name
    shutil.copy("/bin/sleep", fake)
    p = subprocess.Popen([str(fake), "30"])
    try:
        out = tmp_path / "x.folded"
        r = run_gil_prof("-p", p.pid, "-o", out)
        assert_refused(r, EXIT_UNSUPPORTED, words, out)
    finally:
        p.kill()
        p.wait()


@pytest.mark.parametrize("version", sorted(find_old_interpreters()))
def test_unsupported_real_interpreters(version, tmp_path):
    exe = find_old_interpreters()[version]
    out = tmp_path / "x.folded"
    r = run_gil_prof("record", "-o", out, "--", exe, "-c", "import time; time.sleep(20)")
    short = ".".join(version.split(".")[:2])
    assert_refused(r, EXIT_UNSUPPORTED, "Python %s" % short, out)


def test_target_exited_before_attach(tmp_path):
    # a Python that has exited and is not reaped yet: its pid is still there
    p = subprocess.Popen([python311(), "-c", "pass"])
    try:
        assert wait_for(lambda: open("/proc/%d/stat" % p.pid).read().rsplit(")", 1)[1].split()[0]
                        == "Z", timeout=30)
        out = tmp_path / "x.folded"
        r = run_gil_prof("-p", p.pid, "-d", "1", "-o", out)
        assert_refused(r, EXIT_TARGET_GONE, "process %d (python3) has exited" % p.pid, out)
    finally:
        p.wait()


def test_missing_privileges(tmp_path):
    t = subprocess.Popen([python311(), str(TARGETS / "split.py"), "20"], stdout=subprocess.PIPE)
    try:
        os.chmod(tmp_path, 0o777)
        out = tmp_path / "x.folded"
        r = subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
             "--inh-caps=-all", "--bounding-set=-all",
             str(GIL_PROF), "-p", str(t.pid), "-d", "1", "-o", str(out)],
            capture_output=True, text=True, timeout=60,
        )
        assert_no_sanitizer_report(r.stderr)
        assert_refused(r, EXIT_PERMISSION, "needs root", out)
    finally:
        t.kill()
        t.wait()


def test_missing_btf(tmp_path, target):
    t = target(python311(), "split.py")
    out = tmp_path / "x.folded"
    r = run_gil_prof("-p", t.pid, "-d", "1", "--btf", tmp_path / "no-btf", "-o", out)
    assert_refused(r, EXIT_KERNEL, "BTF", out)


@pytest.mark.parametrize(
    "args, words",
    [
        (["-d", "soon"], "invalid duration"),
        (["-d", "0"], "invalid duration"),
        (["-r", "0"], "invalid rate"),
        (["-r", "fast"], "invalid rate"),
        (["--format", "pdf"], "unknown output format"),
        (["-o", "OUTDIR/x.pdf"], "cannot tell the format"),
        (["-v", "-q"], "contradict"),
        (["-o", "OUTDIR/a.svg", "-o", "OUTDIR/b.txt", "--format", "pprof"], "one -o only"),
        (["-o", "OUTDIR/a.svg", "-o", "OUTDIR/a.svg"], "given twice"),
    ],
)
def test_usage_errors(args, words, tmp_path):
    args = [a.replace("OUTDIR", str(tmp_path)) for a in args]
    r = run_gil_prof("-p", "1", *args)
    assert_refused(r, EXIT_USAGE, words)
    assert os.listdir(tmp_path) == []


def test_pid_and_command_conflict():
    r = run_gil_prof("-p", "1", "--", "python3")
    assert_refused(r, EXIT_USAGE, "not both")


def test_output_directory_missing(tmp_path, target):
    t = target(python311(), "split.py")
    r = run_gil_prof("-p", t.pid, "-d", "1", "-o", tmp_path / "nope" / "x.folded")
    assert_refused(r, EXIT_OUTPUT, "does not exist")


def test_launch_failure(tmp_path):
    out = tmp_path / "x.folded"
    r = run_gil_prof("record", "-o", out, "--", str(tmp_path / "no-such-program"))
    assert_refused(r, EXIT_LAUNCH, "cannot run", out)


def test_launch_not_python(tmp_path):
    out = tmp_path / "x.folded"
    r = run_gil_prof("record", "-o", out, "--", "sleep", "20")
    assert_refused(r, EXIT_NOT_PYTHON, "not a CPython 3 interpreter", out)


def test_help_and_version():
    r = run_gil_prof("--help")
    assert r.returncode == 0
    assert "gil-prof record -o out.folded -- python3 app.py" in r.stdout
    r = run_gil_prof("--version")
    assert r.returncode == 0 and r.stdout.startswith("gil-prof ")
