"""Shared helpers for gil-prof's functional tests.

Every test runs the real ./gil-prof (as root) against real Python programs
from tests/targets and asserts on the profile it wrote.
"""
import glob
import os
import signal
import pathlib
import re
import subprocess
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
# `make functional-san` runs the same tests against the sanitizer build.
GIL_PROF = pathlib.Path(os.environ.get("GIL_PROF", ROOT / "gil-prof"))
SANITIZER_WORDS = ("Sanitizer", "runtime error:")
TARGETS = ROOT / "tests" / "targets"
# Test tools (tests/tools/*.c) are built beside the binary under test:
# .output/tests for ./gil-prof, .output-san/tests for the sanitizer build.
TOOLS = (GIL_PROF.parent if GIL_PROF.parent != ROOT else ROOT / ".output") / "tests"

# Debian sid's interpreters: release and debug builds of 3.14 and 3.15, run
# chrooted into a root of their own (tests/roots/sid.sh, made on first use
# and cached outside the clone) through wrappers (sid_wrappers()). Debug
# builds ("...d") run only the tests marked core (see CORE_ONLY).
SID_INTERPRETERS = {
    "sid-3.14": "python3.14", "sid-3.14d": "python3.14d",
    "sid-3.15": "python3.15", "sid-3.15d": "python3.15d",
}
# The interpreters every CI machine has: a test run over the interpreter
# matrix fails (it does not skip) for each one of these that is missing.
REQUIRED_INTERPRETERS = [
    "pyenv-3.9", "pyenv-3.10", "pyenv-3.11", "pyenv-3.12", "pyenv-3.13", "debian-3.11",
    *SID_INTERPRETERS,
]
SUPPORTED_MINORS = ("3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.15")
# Debian sid's interpreters, run in a root of their own (tests/roots/sid.sh).
SID_MINORS = ("3.14", "3.15")
SID_SCRIPT = ROOT / "tests" / "roots" / "sid.sh"
_sid_root = []


def sid_root():
    """The cached Debian sid root with 3.14 and 3.15 (made once, ~1 minute)."""
    if not _sid_root:
        r = subprocess.run(["nice", "-n", "10", str(SID_SCRIPT)], capture_output=True,
                           text=True, timeout=1800)
        assert r.returncode == 0, "tests/roots/sid.sh failed: %s" % r.stderr
        _sid_root.append(pathlib.Path(r.stdout.strip().splitlines()[-1]))
    return _sid_root[0]


IN_ROOT = ROOT / "tests" / "roots" / "in_root.sh"
SID_BIN = ROOT / ".output" / "sid-bin"


def sid_wrappers(ids):
    """id -> an executable that runs that sid interpreter in the root.

    The wrapper execs (no fork: the target's PID is the interpreter's)
    into a private mount namespace, chroots into a copy-on-write view of
    the root whose writes vanish with the process (in_root.sh), with /tmp
    and the clone bound at their own paths: scripts, the files tests make
    and the paths in the profile are the same inside and out. gil-prof,
    on the host, reads the interpreter's files through /proc/PID/root.
    """
    root = sid_root()
    SID_BIN.mkdir(parents=True, exist_ok=True)
    out = {}
    for interp_id in ids:
        exe = SID_BIN / SID_INTERPRETERS[interp_id]
        text = ("#!/bin/sh\n# %s of %s (tests/functional/conftest.py)\n"
                "export IN_ROOT_TMPFS=1 IN_ROOT_BIND='/tmp %s'\n"
                'exec %s %s %s.work %s "$@"\n' % (
                    SID_INTERPRETERS[interp_id], root, ROOT, IN_ROOT, root, root,
                    SID_INTERPRETERS[interp_id]))
        if not exe.exists() or exe.read_text() != text:
            tmp = exe.with_suffix(".new")
            tmp.write_text(text)
            tmp.chmod(0o755)
            tmp.rename(exe)
        out[interp_id] = str(exe)
    return out


def interpreter_root(python):
    """The root directory python runs in: "/", or the sid root for its wrappers."""
    return str(sid_root()) if pathlib.Path(python).parent == SID_BIN else "/"


def interpreter_file(python):
    """The executable python really is, as a host path (through a wrapper)."""
    if pathlib.Path(python).parent == SID_BIN:
        return sid_root() / "usr" / "bin" / pathlib.Path(python).name
    return pathlib.Path(python).resolve()


def gil_events_expected(python):
    """uprobes where the interpreter's file has take_gil and drop_gil in its
    symbol table (pyenv's libpython, sid's debug builds), else watchpoint."""
    if pathlib.Path(python).parent != SID_BIN:
        return "watchpoint" if python.startswith("/usr/bin/") else "uprobes"
    syms = subprocess.run(["readelf", "-sW", str(interpreter_file(python))], check=True,
                          capture_output=True, text=True, timeout=60).stdout
    names = {l.split()[-1] for l in syms.splitlines() if " FUNC " in l}
    return "uprobes" if {"take_gil", "drop_gil"} <= names else "watchpoint"


def is_debug_build(interp_id):
    return interp_id.startswith("sid-") and interp_id.endswith("d")


# Interpreters that run only the tests marked core (stacks and lines, GIL
# states, thread names, debug offsets, the timeline), to keep make test in
# its budget: sid's debug builds (the full suite runs on their release
# builds), and pyenv's 3.11, whose layout is Debian's python3.11's (one row
# of offsets per minor): the full suite runs there, in its harder form
# (static, stripped: no symbols).
CORE_ONLY = ("pyenv-3.11",)


def core_only(interp_id):
    return is_debug_build(interp_id) or interp_id in CORE_ONLY


def pyenv_root():
    if os.environ.get("PYENV_ROOT"):
        return pathlib.Path(os.environ["PYENV_ROOT"])
    try:
        out = subprocess.run(["pyenv", "root"], capture_output=True, text=True, timeout=10)
        if out.returncode == 0 and out.stdout.strip():
            return pathlib.Path(out.stdout.strip())
    except (OSError, subprocess.TimeoutExpired):
        pass
    # sudo may reset HOME and PATH: look where pyenv installs by default.
    for home in [os.path.expanduser("~"), "/root"] + glob.glob("/home/*"):
        cand = pathlib.Path(home) / ".pyenv"
        if cand.is_dir():
            return cand
    return None


def version_key(version):
    return tuple(int(p) if p.isdigit() else 0 for p in re.split(r"[.]", version))


def find_interpreters():
    """Every CPython the product supports on this machine: id -> path.

    pyenv builds are named by minor version ("pyenv-3.12"), the newest
    micro release of each; 3.14 is taken when present (its row is untested).
    """
    found = {}
    root = pyenv_root()
    if root:
        exes = glob.glob(str(root / "versions" / "3.*" / "bin" / "python3"))
        for exe in sorted(exes, key=lambda e: version_key(pathlib.Path(e).parents[1].name)):
            version = pathlib.Path(exe).parents[1].name
            if not re.match(r"^\d+\.\d+\.\d+$", version):
                continue  # e.g. 3.13.0t: free-threaded, refused
            major_minor = ".".join(version.split(".")[:2])
            if major_minor in SUPPORTED_MINORS:
                found["pyenv-" + major_minor] = exe
    if os.path.exists("/usr/bin/python3.11"):
        found["debian-3.11"] = "/usr/bin/python3.11"
    sid = [i for i in SID_INTERPRETERS if i in WANTED]
    if sid:
        found.update(sid_wrappers(sid))
    return found


def find_old_interpreters():
    """Interpreters gil-prof must refuse as unsupported (2.7, 3.6–3.8)."""
    root = pyenv_root()
    if not root:
        return {}
    out = {}
    for exe in sorted(glob.glob(str(root / "versions" / "*" / "bin" / "python"))):
        version = pathlib.Path(exe).parents[1].name
        if re.match(r"^(2\.|3\.[0-8]\.)", version):
            out[version] = exe
    return out


def matrix_key(interp_id):
    kind, version = interp_id.split("-", 1)
    return kind, version_key(version.rstrip("d")), version.endswith("d")


# GIL_PROF_MATRIX=pyenv-3.9,debian-3.11 narrows a run to those interpreters
# (make functional-san does: the sanitizer pass repeats the whole suite over
# SAN_MATRIX; the plain pass keeps the whole matrix).
_wanted = [w for w in os.environ.get("GIL_PROF_MATRIX", "").split(",") if w]


def wanted(interp_id):
    return not _wanted or any(interp_id == w or interp_id.startswith(w + ".") for w in _wanted)


WANTED = [i for i in SID_INTERPRETERS if wanted(i)]
INTERPRETERS = find_interpreters()
MATRIX = sorted((i for i in set(REQUIRED_INTERPRETERS) | set(INTERPRETERS) if wanted(i)),
                key=matrix_key)
assert MATRIX, "GIL_PROF_MATRIX matches no interpreter: %s" % _wanted


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "min_python(major, minor): run only under interpreters this new or newer"
    )
    config.addinivalue_line(
        "markers", "core: the basics, run under every interpreter of the matrix, CORE_ONLY ones too"
    )
    config.addinivalue_line(
        "markers", "host_only: not under the interpreters run in a root (sid-*): the test "
        "puts the interpreter in a container itself"
    )


def id_version(interp_id):
    """(3, 11) for "debian-3.11" or "pyenv-3.11"; (3, 14) for "sid-3.14d"."""
    return version_key(interp_id.split("-", 1)[1].rstrip("d"))


def pytest_generate_tests(metafunc):
    # Every test taking `python` runs once per interpreter of the matrix,
    # including required ones that are missing (those fail in the fixture).
    if "python" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("min_python")
        core = metafunc.definition.get_closest_marker("core")
        host = metafunc.definition.get_closest_marker("host_only")
        ids = [i for i in MATRIX if (not marker or id_version(i) >= marker.args) and
               (core or not core_only(i)) and not (host and i.startswith("sid-"))]
        metafunc.parametrize("python", ids, ids=ids, indirect=True)


@pytest.fixture
def python(request):
    exe = INTERPRETERS.get(request.param)
    if not exe:
        pytest.fail(
            "interpreter %s is missing: CI machines have pyenv's CPython 3.9-3.13, "
            "Debian's /usr/bin/python3.11 and Debian sid's 3.14 and 3.15 in a root "
            "(tests/roots/sid.sh; see README, Tests)" % request.param
        )
    return exe


def minor_of(python):
    """(3, 12) for an interpreter path of the matrix."""
    out = subprocess.run(
        [python, "-c", "import sys; print(*sys.version_info[:2])"],
        capture_output=True, text=True, timeout=30, check=True,
    )
    return tuple(int(x) for x in out.stdout.split())


def layout_row(minor):
    """The generated layout row of (3, minor) as a dict of field -> int."""
    text = (ROOT / "sampler" / "target" / "layouts" / ("py%d.%d.inc" % minor)).read_text()
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"\.([\w.]+) = (-?\w+),", text)
            if not m.group(2).startswith("0x")} | {
        m.group(1): int(m.group(2), 16) for m in re.finditer(r"\.([\w.]+) = (0x[0-9a-f]+),", text)}


class Target:
    """A Python program started for a test, in a session of its own: killed at
    the end with every process it started (multiprocessing workers, children)."""

    @staticmethod
    def script_path(script):
        return script if isinstance(script, pathlib.Path) else TARGETS / script

    def __init__(self, python, script, *args, ready=True, prefix=()):
        self.proc = subprocess.Popen(
            [*prefix, python, str(self.script_path(script)), *map(str, args)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        self.pid = self.proc.pid
        self.ready_fields = []
        if ready:
            line = self.proc.stdout.readline()
            if not line.startswith("ready"):
                self.kill()
                raise AssertionError(
                    "target %s did not start: %r %s" % (script, line, self.proc.stderr.read())
                )
            self.ready_fields = line.split()[1:]

    def kill(self):
        # the group, even when its leader is gone: its children may not be
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=10)


@pytest.fixture
def target():
    started = []

    def start(python, script, *args, ready=True):
        t = Target(python, script, *args, ready=ready)
        started.append(t)
        return t

    yield start
    for t in started:
        t.kill()


def assert_no_sanitizer_report(stderr):
    for word in SANITIZER_WORDS:
        assert word not in stderr, stderr


def run_gil_prof(*args, timeout=120, **kw):
    r = subprocess.run(
        [str(GIL_PROF), *map(str, args)], capture_output=True, text=True, timeout=timeout, **kw
    )
    assert_no_sanitizer_report(r.stderr)
    return r


def parse_folded(path):
    """[(frames root first, count)] of a folded file; fails on a bad line."""
    stacks = []
    # strict UTF-8: a wrongly encoded name fails here
    for line in pathlib.Path(path).read_bytes().decode("utf-8").splitlines():
        m = re.match(r"^(.*) (\d+)$", line)
        assert m, "bad folded line: %r" % line
        stacks.append((m.group(1).split(";"), int(m.group(2))))
    return stacks


FRAME_RE = re.compile(r"^(?P<func>.*) \((?P<file>.*):(?P<line>\d+)\)$")


def frame_parts(frame):
    """'func (file.py:12)' -> ('func', 'file.py', 12), or None."""
    m = FRAME_RE.match(frame)
    if not m:
        return None
    return m.group("func"), m.group("file"), int(m.group("line"))


def thread_tid(root):
    """'thread (123 name)' -> 123."""
    assert root.startswith("thread ("), root
    return int(root[len("thread ("):].split(")")[0].split()[0])


def without_state(frames):
    """The thread frame and the Python frames: the gil:STATE frame dropped."""
    if len(frames) > 1 and frames[1].startswith("gil:"):
        return frames[:1] + frames[2:]
    return frames


def thread_states(stacks):
    """{tid: {state: count}} from folded stacks with a gil:STATE frame."""
    out = {}
    for frames, count in stacks:
        state = frames[1][len("gil:"):] if len(frames) > 1 and frames[1].startswith("gil:") else "none"
        per = out.setdefault(thread_tid(frames[0]), {})
        per[state] = per.get(state, 0) + count
    return out


def shares(counts):
    """{state: count} -> {state: share of the total}."""
    total = sum(counts.values())
    assert total > 0, counts
    return {k: v / total for k, v in counts.items()}


def leaf_shares(stacks, names):
    """Share of samples whose leaf function is each of names, among those."""
    counts = {n: 0 for n in names}
    for frames, count in stacks:
        parts = frame_parts(frames[-1])
        if parts and parts[0] in counts:
            counts[parts[0]] += count
    total = sum(counts.values())
    assert total > 0, "none of %s is a leaf" % (names,)
    return {n: c / total for n, c in counts.items()}, total


def marked_lines(script, marker):
    """Line numbers of the loop marked `# marker` and of its body."""
    lines = Target.script_path(script).read_text(encoding="utf-8").splitlines()
    for i, text in enumerate(lines, 1):
        if "# " + marker in text:
            indent = len(text) - len(text.lstrip())
            body = [i]
            for j in range(i + 1, len(lines) + 1):
                t = lines[j - 1]
                if t.strip() and len(t) - len(t.lstrip()) <= indent:
                    break
                body.append(j)
            return set(body)
    raise AssertionError("marker %s not in %s" % (marker, script))


def thread_cpu_ns(pid, tid):
    """CPU time the thread has used so far (first field of schedstat)."""
    with open("/proc/%d/task/%d/schedstat" % (pid, tid)) as f:
        return int(f.read().split()[0])


def thread_samples(stacks, tid):
    """Samples whose root frame is thread tid."""
    prefix = ("thread (%d)" % tid, "thread (%d " % tid)
    return sum(c for frames, c in stacks if frames[0].startswith(prefix))


def record_cpu_window(pid, tid, *args, timeout=120):
    """Run gil-prof -v; return (returncode, stderr, CPU seconds thread tid ran
    between "sampling started" and "sampling stopped") — the reference for
    sample counts, exact even when loading the sampler is slow."""
    p = subprocess.Popen(
        [str(GIL_PROF), "-v", *map(str, args)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines, marks = [], {}
    deadline = time.monotonic() + timeout
    for line in p.stderr:
        lines.append(line)
        for mark in ("sampling started", "sampling stopped"):
            if mark in line:
                marks[mark] = thread_cpu_ns(pid, tid)
        assert time.monotonic() < deadline, "gil-prof did not finish"
    p.wait(timeout=timeout)
    err = "".join(lines)
    assert_no_sanitizer_report(err)
    assert len(marks) == 2, err
    return p.returncode, err, (marks["sampling stopped"] - marks["sampling started"]) / 1e9


def line_of(script, marker):
    """Line number of the line of script marked `# marker`."""
    path = script if isinstance(script, pathlib.Path) else TARGETS / script
    for i, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if "# " + marker in text:
            return i
    raise AssertionError("marker %s not in %s" % (marker, script))


def wait_for(pred, timeout=10.0, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return False
