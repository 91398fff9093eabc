"""Thread names come from Python's threading module, on every interpreter.

tests/targets/named_threads.py names its threads at creation ("alpha",
"beta-é") and renames one after it started; their /proc comm is the
command's. gil-prof reads the names from the target's threading._active
(dicts, instance attributes and ints of each version, from memory).
"""
import pytest

from conftest import parse_folded, run_gil_prof


@pytest.mark.core
def test_python_thread_names(python, target, tmp_path):
    t = target(python, "named_threads.py")
    expected = dict(pair.split("=", 1) for pair in t.ready_fields)
    out = tmp_path / "names.folded"
    # 400 Hz: every thread is sampled even on a loaded machine
    r = run_gil_prof("-p", t.pid, "-d", "1500ms", "-r", "400", "-o", out)
    assert r.returncode == 0, r.stderr
    roots = {frames[0] for frames, _ in parse_folded(out)}
    seen = {}
    for root in roots:
        tid, _, name = root[len("thread ("):-1].partition(" ")
        seen[tid] = name
    assert seen == expected, (seen, expected)
