"""Non-ASCII function and file names come out as correct UTF-8."""
import shutil

from conftest import Target, frame_parts, line_of, marked_lines, parse_folded, run_gil_prof


def test_unicode_names(python, tmp_path):
    # a file name with Latin-1 and UCS-2 characters too
    where = tmp_path / "dïr-名前"
    where.mkdir()
    script = where / "unicode_names.py"
    shutil.copy(Target.script_path("unicode_names.py"), script)
    t = Target(python, script, 20)
    try:
        out = tmp_path / "out.folded"
        r = run_gil_prof("-p", t.pid, "-d", "1.5s", "-r", "200", "-o", out)
    finally:
        t.kill()
    assert r.returncode == 0, r.stderr
    stacks = parse_folded(out)

    calls = [
        ("main", "CALL-WORKER"),
        ("wörker", "CALL-KEISAN"),
        ("計算", "CALL-ASTRAL"),
        ("𠀀𠀁", "CALL-SNAKE"),
    ]
    loop = marked_lines(script, "LOOP-SNAKE")
    seen = 0
    # the one Python thread is always in 🐍_task: every stack must be whole
    for frames, count in stacks:
        leaf = frame_parts(frames[-1])
        assert leaf and leaf[0] == "🐍_task", frames
        assert leaf[1] == str(script), frames[-1]
        assert leaf[2] in loop, (frames[-1], loop)
        got = [frame_parts(f) for f in frames[-5:-1]]
        want = [(name, str(script), line_of(script, mark)) for name, mark in calls]
        assert got == want, frames
        seen += count
    # correctness, not rate: the machine may be busy
    assert seen >= 5, "too few samples in 🐍_task: %d" % seen
