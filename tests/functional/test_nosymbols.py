"""An interpreter that exports none of the symbols gil-prof looks for.

A copy of Debian sid's python3.15 with `_PyRuntime`, `PyCode_Type` and
`Py_Version` renamed in its dynamic string table (same lengths: nothing
else moves) and its build id changed (so the -dbg package's debug file,
which has a full symbol table, is not found for it), run in the sid root
over a copy-on-write view in which it replaces /usr/bin/python3.15. gil-prof
must find `_PyRuntime` from the `.PyRuntime` section, `PyCode_Type` from a
running frame's code object (it says so with -v) and the version from the
process's `_Py_DebugOffsets`, and profile it, attached and launched, with
the right functions and lines.
"""
import re
import subprocess

import pytest

from conftest import IN_ROOT, ROOT, TARGETS, line_of, parse_folded, run_gil_prof, sid_root, \
    wait_for

RENAMES = {b"_PyRuntime": b"_XyRuntime", b"PyCode_Type": b"XyCode_Type",
           b"Py_Version": b"Xy_Version"}
SCRIPT = TARGETS / "deep.py"


def section(path, name):
    """(file offset, size) of an ELF section, from readelf."""
    out = subprocess.run(["readelf", "-SW", str(path)], check=True, capture_output=True,
                         text=True).stdout
    for line in out.splitlines():
        f = line.replace("[ ", "[").split()
        if len(f) > 5 and f[1] == name:
            return int(f[4], 16), int(f[5], 16)
    raise AssertionError("%s has no %s section" % (path, name))


def exported(path):
    out = subprocess.run(["readelf", "--dyn-syms", "-W", str(path)], check=True,
                         capture_output=True, text=True).stdout
    return {l.split()[-1] for l in out.splitlines() if len(l.split()) >= 8}


@pytest.fixture(scope="module")
def nosym_work(tmp_path_factory):
    """An in_root.sh WORK dir whose upper layer holds the patched python3.15."""
    root = sid_root()
    src = root / "usr" / "bin" / "python3.15"
    data = bytearray(src.read_bytes())
    off, size = section(src, ".dynstr")
    for old, new in RENAMES.items():
        at = data.find(b"\0" + old + b"\0", off, off + size)
        assert at >= 0, "%s does not export %s" % (src, old.decode())
        data[at + 1:at + 1 + len(old)] = new
    off, size = section(src, ".note.gnu.build-id")
    # The note's last bytes are the id itself: change them all.
    for i in range(off + size - 8, off + size):
        data[i] ^= 0xFF
    work = tmp_path_factory.mktemp("nosym")
    dst = work / "upper" / "usr" / "bin" / "python3.15"
    dst.parent.mkdir(parents=True)
    dst.write_bytes(bytes(data))
    dst.chmod(0o755)
    assert not {n.decode() for n in RENAMES} & exported(dst)
    return root, work


def command(nosym_work, *args):
    root, work = nosym_work
    env = "IN_ROOT_BIND=/tmp %s" % ROOT
    return ["env", env, str(IN_ROOT), str(root), str(work), "python3.15", str(SCRIPT), *args]


def check_profile(out, r):
    assert r.returncode == 0, r.stderr
    assert re.search(r"PyCode_Type at 0x[0-9a-f]+, read off a running frame", r.stderr), r.stderr
    stacks = parse_folded(out)
    # bottom()'s loop is two lines: the test and the increment.
    loop = line_of(SCRIPT, "LOOP-BOTTOM")
    lines = ("deep.py:%d)" % loop, "deep.py:%d)" % (loop + 1))
    total = sum(n for _, n in stacks)
    hit = sum(n for frames, n in stacks
              if frames[-1].startswith("bottom (") and frames[-1].endswith(lines))
    assert total and hit / total >= 0.8, [(f[-3:], n) for f, n in stacks]
    deep = [frames for frames, _ in stacks if any(f.startswith("bottom (") for f in frames)]
    assert all(sum(f.startswith("recurse (") for f in fr) == 5 for fr in deep), deep[:3]


def test_launched_without_symbols(nosym_work, tmp_path):
    out = tmp_path / "out.folded"
    r = run_gil_prof("record", "-v", "--mode", "cpu", "-o", out, "--",
                     *command(nosym_work, "5", "3"), timeout=180)
    check_profile(out, r)


def test_attached_without_symbols(nosym_work, tmp_path):
    p = subprocess.Popen(command(nosym_work, "5", "30"), stdout=subprocess.PIPE, text=True,
                         start_new_session=True)
    try:
        assert p.stdout.readline().strip() == "ready"
        out = tmp_path / "out.folded"
        r = run_gil_prof("record", "-v", "-p", p.pid, "-d", "2", "-o", out, timeout=180)
        check_profile(out, r)
        assert re.search(r"CPython 3\.15|Python 0x030f", r.stderr), r.stderr
    finally:
        p.kill()
        p.wait(timeout=10)
    assert wait_for(lambda: p.poll() is not None)
