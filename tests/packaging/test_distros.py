"""gil-prof on other Debian releases: a different glibc, a different
interpreter build, files only inside the release's root.

For each release of GIL_PROF_DISTROS (`make test`: bullseye; `make distros`:
bullseye, trixie and sid), a cached debootstrap root with that release's
python3 (tests/roots/mkroot.sh), entered through a copy-on-write overlay so
the cached root stays clean (in_root.sh):

- `make install DESTDIR=` puts the self-contained binary, its man page and
  completion into the root's /usr/local; inside the root (chroot, with
  /proc, /sys and /dev mounted) that gil-prof attaches to the release's
  Python and launches it, under the release's glibc — the proof of the
  binary's glibc baseline — and the release's pip installs the wheel into
  a fresh venv, whose gil-prof records too (distro_check.sh);
- from the host, this machine's gil-prof attaches to the release's Python
  running in the root: the interpreter's files exist only there, read
  through /proc/PID/root and /proc/PID/map_files.

Every profile is checked for the threads, functions, lines and GIL states
the target's code puts them in. Each release's result is appended to
.output/packaging/distros.jsonl (the README's table comes from it).
"""
import json
import os
import pathlib
import re
import shutil
import subprocess
import time

import pytest

from conftest import (IN_ROOT, MKROOT, ROOT, TARGETS, check_demo_profile, frame_parts, make,
                      parse_folded, shares, thread_names, thread_states, function_lines)

DISTROS = os.environ.get("GIL_PROF_DISTROS", "bullseye").split()
ROOT_PACKAGES = "python3,python3-venv"
INSIDE = "/opt/gil-prof-test"
SUMMARY_RE = re.compile(r"gil-prof: \d+ samples .* of process \d+ \((\S+), Python ([\d.]+\S*)\)")
RESULTS = ROOT / ".output" / "packaging" / "distros.jsonl"


def release_root(suite):
    r = subprocess.run(["nice", "-n", "10", str(MKROOT), "distro-" + suite, suite, ROOT_PACKAGES],
                       capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, "mkroot.sh %s failed: %s" % (suite, r.stderr)
    return pathlib.Path(r.stdout.strip().splitlines()[-1])


def read(out, name):
    return (out / name).read_text() if (out / name).exists() else ""


def step_ok(out, name):
    rc = read(out, name + ".rc").strip()
    assert rc == "0", "step %s exited %s:\n%s\n%s" % (name, rc, read(out, name + ".out"),
                                                      read(out, name + ".err"))
    return read(out, name + ".out"), read(out, name + ".err")


def python_of(stderr):
    m = SUMMARY_RE.search(stderr)
    assert m, "no summary line in:\n" + stderr
    return m.group(1), m.group(2)


def attach_from_host(dev_bin, root, work, out):
    """The release's Python in the root; this machine's gil-prof outside."""
    p = subprocess.Popen([str(IN_ROOT), str(root), str(work), "python3",
                          INSIDE + "/targets/gil_mix.py", "8"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        assert line.startswith("ready"), "target did not start: %r %s" % (line, p.stderr.read())
        r = subprocess.run([str(dev_bin), "-p", str(p.pid), "-d", "3s", "-o", str(out)],
                           capture_output=True, text=True, timeout=120)
    finally:
        p.kill()
        p.wait(timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stderr


def check_mix_profile(folded, who):
    """tests/targets/gil_mix.py: three spinners in Python, a hasher without
    the GIL, the files as the root has them."""
    stacks = parse_folded(folded)
    names = thread_names(stacks)
    states = thread_states(stacks)
    spin_lines = function_lines("gil_contend.py", "spin")
    hash_lines = function_lines("gil_hash.py", "hasher")
    seen = {"spin": 0, "hasher": 0}
    for frames, count in stacks:
        leaf = frame_parts(frames[-1])
        if not leaf or leaf[0] not in seen:
            continue
        script = "gil_contend.py" if leaf[0] == "spin" else "gil_hash.py"
        assert leaf[1] == INSIDE + "/targets/" + script, "%s: %s" % (who, frames)
        assert leaf[2] in (spin_lines if leaf[0] == "spin" else hash_lines), "%s: %s" % (who, frames)
        seen[leaf[0]] += count
    assert seen["spin"] >= 30 and seen["hasher"] >= 10, "%s: %s" % (who, seen)
    for tid, name in names.items():
        s = shares(states[tid])
        if name.startswith("spin-"):
            assert s.get("holding", 0) + s.get("waiting", 0) >= 0.85, "%s: %s %s" % (who, name, s)
        if name == "hasher":
            assert s.get("released", 0) >= 0.15, "%s: %s %s" % (who, name, s)
    assert {"spin-0", "spin-1", "spin-2", "hasher"} <= set(names.values()), names


@pytest.mark.parametrize("suite", DISTROS)
def test_release(suite, dev_bin, dist_bin, wheel, version, tmp_path):
    root = release_root(suite)
    work = tmp_path / "root"
    upper = work / "upper"
    upper.mkdir(parents=True)
    # As a packager would install it: into a staging root, here the overlay's.
    make("install", "DESTDIR=%s" % upper, "PREFIX=/usr/local", "INSTALL_BIN=%s" % dist_bin)
    test_dir = upper / INSIDE.lstrip("/")
    shutil.copytree(TARGETS, test_dir / "targets", ignore=shutil.ignore_patterns("*.c", "__pycache__"))
    shutil.copy(wheel, test_dir)
    shutil.copy(pathlib.Path(__file__).parent / "distro_check.sh", test_dir)

    started = time.monotonic()
    r = subprocess.run([str(IN_ROOT), str(root), str(work), "/bin/sh", INSIDE + "/distro_check.sh"],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    out = test_dir / "out"
    # First what any program needs: it runs under this glibc, the release's
    # bash takes its completion, the release's pip its wheel.
    glibc = step_ok(out, "glibc")[0].split()
    py = step_ok(out, "python")[0].strip()
    assert step_ok(out, "version")[0].strip() == "gil-prof " + version
    formats = step_ok(out, "completion")[0].split()
    assert "pprof" in formats and "speedscope" in formats, formats
    step_ok(out, "venv")
    step_ok(out, "pip")
    result = {"suite": suite, "glibc": glibc[-1], "python": py, "binary": "runs",
              "wheel": "installs"}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)

    # Then the profiles.
    script = INSIDE + "/targets/demo_app.py"
    try:
        for name in ("attach", "launch", "wheel"):
            err = step_ok(out, name)[1]
            exe, pyver = python_of(err)
            result["interpreter"] = result.get("interpreter", exe)
            # 3.9 has no Py_Version: gil-prof knows its minor version only.
            assert (py + ".").startswith(pyver + "."), \
                "%s: gil-prof saw Python %s, the root has %s" % (name, pyver, py)
            # A launched program's threads may end before gil-prof reads
            # their names (README, Limits): names are checked when attached.
            check_demo_profile(out / (name + ".folded"), script,
                               "%s, %s inside the root" % (suite, name), names=(name == "attach"))
        host_err = attach_from_host(dev_bin, root, work, tmp_path / "host.folded")
        check_mix_profile(tmp_path / "host.folded", "%s, host gil-prof" % suite)
        assert (py + ".").startswith(python_of(host_err)[1] + ".")
        result["result"] = "passed"
    except AssertionError as e:
        result["result"] = "failed: " + str(e).splitlines()[0]
        raise
    finally:
        result["seconds"] = round(time.monotonic() - started, 1)
        with open(RESULTS, "a") as f:
            f.write(json.dumps(result) + "\n")
