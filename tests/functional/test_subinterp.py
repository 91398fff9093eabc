"""Sub-interpreters: the main interpreter's threads are profiled with their
own stacks, the others are named in a warning, and a thread started inside
a sub-interpreter is profiled too."""
import subprocess

from conftest import Target, frame_parts, line_of, marked_lines, parse_folded, run_gil_prof

# What run_string names the code it runs: "<string>" up to 3.13, "<script>" after.
SOURCE_NAME = """
try:
    import _interpreters as interpreters
except ImportError:
    import _xxsubinterpreters as interpreters
interpreters.run_string(interpreters.create(), "import sys; print(sys._getframe().f_code.co_filename)")
"""


def run_string_source(python):
    r = subprocess.run([python, "-W", "ignore", "-c", SOURCE_NAME], capture_output=True,
                       text=True, timeout=60, check=True)
    return r.stdout.strip()


def test_subinterpreters(python, tmp_path):
    t = Target(python, "subinterp.py", 20)
    try:
        sub_id, enterer = int(t.ready_fields[0]), int(t.ready_fields[1])
        out = tmp_path / "sub.folded"
        r = run_gil_prof("-p", t.pid, "-d", "2s", "-o", out)
    finally:
        t.kill()
    assert r.returncode == 0, r.stderr
    warnings = [l for l in r.stderr.splitlines() if "sub-interpreters" in l]
    assert len(warnings) == 1 and "(ids %d)" % sub_id in warnings[0], r.stderr

    leaves = {}
    for frames, count in parse_folded(out):
        tid = int(frames[0][len("thread ("):].split(")")[0].split()[0])
        leaves.setdefault(tid, []).append((frame_parts(frames[-1]), count))
    # the main thread, in the main interpreter
    main = [leaf for leaf, _ in leaves.pop(t.pid, [])]
    assert main and all(l[0] == "main_spin" for l in main), main
    assert {l[2] for l in main} <= marked_lines("subinterp.py", "MAIN-LOOP"), main
    # a main-interpreter thread inside the sub-interpreter: the stack that
    # entered it, ending at the call
    entered = [leaf for leaf, _ in leaves.pop(enterer, [])]
    assert entered and all(
        l[0] == "enter_sub" and l[2] == line_of("subinterp.py", "ENTER-CALL") for l in entered
    ), entered
    # the sub-interpreter's own thread: its own stack
    own = [leaf for stacks in leaves.values() for leaf, _ in stacks]
    source = run_string_source(python)
    assert own and all(l[0] == "sub_spin" and l[1] == source for l in own), own
    assert {l[2] for l in own} <= {5, 6, 7, 8}, own  # its loop inside SUB_CODE
