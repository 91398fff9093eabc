"""A target corrupting its own frames and code objects while it is being
profiled: gil-prof keeps running, and each bad stack ends in its marker."""
from conftest import (
    Target,
    frame_parts,
    layout_row,
    line_of,
    minor_of,
    parse_folded,
    run_gil_prof,
    without_state,
)

LOOPS = "[stack cut: frame chain loops]"
UNREADABLE = "[stack cut: unreadable frame]"
GARBAGE = "[stack cut: garbage frame]"
NO_BASE = "[stack cut: chain ends before the base frame]"
BAD_CODE = "[unreadable code object]"


def names(frames):
    """Function names (markers as they are), thread frame dropped."""
    return [(frame_parts(f) or (f,))[0] for f in frames[1:]]


def test_corrupt_frames_are_marked(python, tmp_path):
    row = layout_row(minor_of(python))
    t = Target(python, "corrupt_frames.py", 20, row["frame_previous"], row["frame_code"],
               row["code_name"], row["frame_code_tag_bits"])
    try:
        out = tmp_path / "hostile.folded"
        r = run_gil_prof("-p", t.pid, "-d", "2.5s", "-r", "200", "-v", "-o", out)
        assert t.proc.poll() is None, "the target died: %s" % t.proc.stderr.read()
    finally:
        t.kill()
    assert r.returncode == 0, r.stderr
    assert "stacks cut by unreadable, looping, garbage or torn frame chains" in r.stderr, r.stderr
    # 3.15 ends each chain in the thread's base frame: one that ends before
    # it is cut; before 3.15 nothing tells such a chain from a whole one.
    torn = [NO_BASE, "torn_victim"] if row["ts_base_frame"] >= 0 else ["torn_victim"]

    found = {}
    for frames, count in parse_folded(out):
        frames = without_state(frames)
        n = names(frames)
        # a loop is a loop: never reported as a deep stack
        assert not any(x.startswith("[truncated") for x in n), frames
        key = None
        if n == [LOOPS, "loop_caller", "loop_victim"]:
            key = "loop"
            assert frame_parts(frames[2])[2] == line_of("corrupt_frames.py", "CALL-LOOP")
        elif n == [UNREADABLE, "unmapped_victim"]:
            key = "unmapped"
        elif n == [GARBAGE, "garbage_victim"]:
            key = "garbage"
        elif n == [GARBAGE, "junk_victim"]:
            key = "junk"
        elif n[-2:] == ["bad_caller", BAD_CODE] and n[:2] == ["<module>", "main"]:
            key = "bad code"
            assert frame_parts(frames[-2])[2] == line_of("corrupt_frames.py", "CALL-BAD")
        elif n == torn:
            key = "torn"
        elif n == ["<module>", "main", "healthy"]:
            key = "healthy"
            assert frame_parts(frames[-2])[2] == line_of("corrupt_frames.py", "CALL-CASE")
        if key:
            found[key] = found.get(key, 0) + count
    assert set(found) == {"loop", "unmapped", "garbage", "junk", "bad code", "torn",
                          "healthy"}, found
