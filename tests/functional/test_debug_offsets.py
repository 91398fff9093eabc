"""3.13+: the process's own _Py_DebugOffsets are read, checked against the
generated table, used for what they describe, and refused when they would
make reads go wrong. The target overwrites its own block (ctypes) to play
a free-threaded build, a foreign block, and a build with another layout."""
import pytest

from conftest import (
    Target, frame_parts, layout_row, marked_lines, minor_of, parse_folded, run_gil_prof,
)

pytestmark = pytest.mark.min_python(3, 13)
EXIT_UNSUPPORTED = 5
EXIT_UNTRUSTED = 12


def refused(r, out, words):
    assert r.returncode == EXIT_UNSUPPORTED, r.stderr
    errors = [l for l in r.stderr.splitlines() if l.startswith("gil-prof: error:")]
    assert len(errors) == 1 and words in errors[0], r.stderr
    assert not out.exists()


def run(python, tmp_path, *pokes, verbose=False, duration="1s"):
    t = Target(python, "poke_runtime.py", 20, *pokes)
    try:
        out = tmp_path / "out.folded"
        args = ["-v"] if verbose else []
        r = run_gil_prof("-p", t.pid, "-d", duration, *args, "-o", out)
    finally:
        t.kill()
    return r, out


@pytest.mark.core
def test_live_offsets_are_checked(python, tmp_path):
    row = layout_row(minor_of(python))
    r, out = run(python, tmp_path, verbose=True)
    assert r.returncode == 0, r.stderr
    assert "_Py_DebugOffsets of Python 0x%04x" % (row["version_hex"] >> 16) in r.stderr
    assert "offsets checked, 0 differ from the table" in r.stderr, r.stderr
    leaves = {frame_parts(f[-1])[:2] for f, _ in parse_folded(out)}
    assert {l[0] for l in leaves} == {"spin"}, leaves


def test_free_threaded_build_refused(python, tmp_path):
    row = layout_row(minor_of(python))
    r, out = run(python, tmp_path, "%d=1" % row["dbg.free_threaded"])
    refused(r, out, "free-threaded builds are not supported yet")


def test_foreign_block_refused(python, tmp_path):
    r, out = run(python, tmp_path, "0=cookie")
    refused(r, out, "does not start with CPython's debug offsets")


def test_other_code_object_layout_refused(python, tmp_path):
    row = layout_row(minor_of(python))
    r, out = run(python, tmp_path, "%d=%d" % (row["dbg.code_sz"], row["code_size"] + 16))
    refused(r, out, "PyCodeObject is %d bytes" % (row["code_size"] + 16))


def test_process_offsets_are_what_is_read(python, tmp_path):
    # Say thread_id sits where native_thread_id is: gil-prof believes the
    # process, so no thread matches (a tid is no pthread_t) — proof that
    # the sampler reads at the process's offsets, not the table's.
    row = layout_row(minor_of(python))
    # 3 s: the verdict needs GP_TRUST_MIN_RECORDS (100) records, which one
    # second at 100 Hz gives only just (not under a sanitizer's slow start).
    r, out = run(python, tmp_path, "%d=%d" % (row["dbg.ts_thread_id"], row["ts_native_tid"]),
                 duration="3s")
    # A profile without one Python stack is declared untrustworthy.
    assert r.returncode == EXIT_UNTRUSTED, r.stderr
    assert "cannot be trusted" in r.stderr
    assert "differ from gil-prof's Python" in r.stderr and "(first: ts_thread_id)" in r.stderr
    leaves = {f[-1] for f, _ in parse_folded(out)}
    assert leaves == {"[no Python thread state]"}, leaves


def test_unknown_pre_release_refused(python, tmp_path):
    # The block's own layout changed between 3.15 betas: a pre-release
    # other than the row's is refused, not parsed with the row's layout.
    row = layout_row(minor_of(python))
    beta = (row["version_hex"] & 0xffff0000) | 0x00b4
    r, out = run(python, tmp_path, "%d=%d" % (row["dbg.version"], beta))
    refused(r, out, "b4, a pre-release whose layout gil-prof does not know")
