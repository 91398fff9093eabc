"""Deep stacks: 512+ frames come out whole; deeper ones keep the innermost
1024 frames under a visible root marker, never silently."""
import pytest

from conftest import (
    Target,
    frame_parts,
    line_of,
    marked_lines,
    parse_folded,
    run_gil_prof,
    without_state,
)

LIMIT = 1024  # GP_MAX_FRAMES
TRUNCATED = "[truncated: deeper than %d frames]" % LIMIT


def record(python, tmp_path, depth):
    t = Target(python, "deep.py", depth, 20)
    try:
        out = tmp_path / "deep.folded"
        r = run_gil_prof("-p", t.pid, "-d", "1s", "-r", "200", "-v", "-o", out)
    finally:
        t.kill()
    assert r.returncode == 0, r.stderr
    return [(without_state(f), c) for f, c in parse_folded(out)], r.stderr


def check_python_frames(frames, recursions):
    """bottom at its loop, under `recursions` recurse frames at their calls."""
    leaf = frame_parts(frames[-1])
    assert leaf[0] == "bottom" and leaf[2] in marked_lines("deep.py", "LOOP-BOTTOM"), leaf
    calls = [frame_parts(f) for f in frames[-1 - recursions:-1]]
    assert all(c[0] == "recurse" for c in calls), calls
    # the innermost recurse called bottom(); all others called recurse()
    assert calls[-1][2] == line_of("deep.py", "CALL-BOTTOM")
    assert {c[2] for c in calls[:-1]} == {line_of("deep.py", "CALL-RECURSE")}


@pytest.mark.parametrize("depth", [600])
def test_deep_stack_complete(python, tmp_path, depth):
    stacks, err = record(python, tmp_path, depth)
    total = 0
    for frames, count in stacks:
        assert TRUNCATED not in frames, frames[:3]
        # thread, <module>, main, depth x recurse, bottom
        assert len(frames) == depth + 4, len(frames)
        assert [frame_parts(f)[0] for f in frames[1:3]] == ["<module>", "main"]
        check_python_frames(frames, depth)
        total += count
    assert total >= 5, total
    assert "truncated" not in err


def test_deeper_than_limit_is_marked(python, tmp_path):
    stacks, err = record(python, tmp_path, 1500)
    total = 0
    for frames, count in stacks:
        # thread, marker, then exactly the innermost LIMIT frames
        assert frames[1] == TRUNCATED, frames[:3]
        assert len(frames) == 2 + LIMIT, len(frames)
        check_python_frames(frames, LIMIT - 1)
        total += count
    assert total >= 5, total
    assert "stacks deeper than %d frames were truncated" % LIMIT in err
