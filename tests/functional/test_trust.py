"""Never silently wrong: a recording whose samples mostly come without
their Python stack says so in words and exits with its own code; the
profile is still written. The real situation: a target whose thread
states the sampler cannot find (each thread overwrote its own
PyThreadState.thread_id, which gil-prof matches against the thread)."""
import pytest

from conftest import Target, parse_folded, run_gil_prof

EXIT_UNTRUSTED = 12


def record(python, tmp_path, *args):
    t = Target(python, "lost_tstate.py", 30)
    try:
        out = tmp_path / "out.folded"
        # 1000 Hz: enough records to judge (GP_TRUST_MIN_RECORDS) on a loaded machine.
        r = run_gil_prof("-p", t.pid, "-d", "1s", "-r", "1000", *args, "-o", out)
    finally:
        t.kill()
    return r, out


@pytest.mark.parametrize("mode", ["wall", "cpu"])
def test_lost_thread_states_are_untrusted(python, tmp_path, mode):
    r, out = record(python, tmp_path, "--mode", mode)
    assert r.returncode == EXIT_UNTRUSTED, r.stderr
    warnings = [l for l in r.stderr.splitlines() if "cannot be trusted" in l]
    assert len(warnings) == 1, r.stderr
    assert "did not find the threads' Python thread states" in warnings[0]
    assert "of the samples" in warnings[0]
    # Still written, and what it holds is what the warning says.
    stacks = parse_folded(out)
    assert stacks, r.stderr
    assert {f[-1] for f, _ in stacks} == {"[no Python thread state]"}, stacks


def test_found_thread_states_are_trusted(python, tmp_path):
    # The same program without the overwrite: the control.
    t = Target(python, "poke_runtime.py", 30)
    try:
        out = tmp_path / "out.folded"
        r = run_gil_prof("-p", t.pid, "-d", "1s", "-r", "1000", "--mode", "cpu", "-o", out)
    finally:
        t.kill()
    assert r.returncode == 0, r.stderr
    assert "cannot be trusted" not in r.stderr
    assert any(f[-1].startswith("spin") for f, _ in parse_folded(out))
