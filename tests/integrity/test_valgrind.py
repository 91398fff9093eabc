"""gil-prof under valgrind memcheck: a short real recording, no errors, no leaks."""
import os
import pathlib
import re
import subprocess
import sys

import pytest

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "functional"))
from conftest import GIL_PROF, INTERPRETERS, ROOT, TARGETS, leaf_shares, parse_folded  # noqa: E402

SUPPRESSIONS = ROOT / "tests" / "valgrind.supp"


@pytest.mark.parametrize("extra", [[], ["--native", "--kernel"]], ids=["python", "native"])
def test_short_recording_is_clean(extra, tmp_path):
    python = next(v for k, v in sorted(INTERPRETERS.items()) if k.startswith("pyenv-3.11"))
    target = subprocess.Popen([python, str(TARGETS / "split.py")], stdout=subprocess.PIPE, text=True)
    try:
        assert target.stdout.readline().startswith("ready")
        out = tmp_path / "vg.folded"
        r = subprocess.run(
            ["valgrind", "--error-exitcode=99", "--leak-check=full",
             "--show-leak-kinds=definite,indirect,possible", "--errors-for-leak-kinds=definite,indirect,possible",
             "--suppressions=%s" % SUPPRESSIONS,
             str(GIL_PROF), "-p", str(target.pid), "-d", "2", "-o", str(out),
             # every writer runs under memcheck too
             "-o", str(tmp_path / "vg.pb.gz"), "-o", str(tmp_path / "vg.speedscope.json"),
             "-o", str(tmp_path / "vg.svg"), "-o", str(tmp_path / "vg.html"),
             # and the GIL timeline: transitions traced, replayed, written
             "-o", str(tmp_path / "vg.trace.json"), *extra],
            capture_output=True, text=True, timeout=300,
        )
    finally:
        target.kill()
        target.wait()
    assert r.returncode == 0, r.stderr[-4000:]
    assert re.search(r"ERROR SUMMARY: 0 errors", r.stderr), r.stderr[-4000:]
    assert "All heap blocks were freed" in r.stderr or "definitely lost: 0 bytes" in r.stderr
    # and it still profiled: the split target's functions are there
    shares, total = leaf_shares(parse_folded(out), ["spin_three_quarters", "spin_one_quarter"])
    assert total >= 10
    assert '"gil_events":"uprobes"' in (tmp_path / "vg.trace.json").read_text()
    if extra:  # native frames unwound and named under valgrind too
        assert "pythread_wrapper (libpython3.11" in out.read_text()
