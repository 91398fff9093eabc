"""gil-prof records real Python programs: functions, lines, shares, threads."""
import os
import subprocess
import time

import pytest

from conftest import (
    INTERPRETERS,
    assert_no_sanitizer_report,
    frame_parts,
    leaf_shares,
    marked_lines,
    parse_folded,
    record_cpu_window,
    run_gil_prof,
    thread_samples,
    GIL_PROF,
    TARGETS,
)


def test_pyenv_311_is_available():
    # The foundation is specified on pyenv's 3.11; its absence is a failure.
    assert any(k.startswith("pyenv-3.11") for k in INTERPRETERS), INTERPRETERS


@pytest.mark.core
def test_split_three_to_one(python, target, tmp_path):
    t = target(python, "split.py")
    worker_tid = int(t.ready_fields[0])
    out = tmp_path / "out.folded"
    # 250 Hz: enough samples for the share to be tight even when a busy
    # machine gives the worker only part of a CPU. cpu mode: samples follow
    # CPU time (wall mode also counts the time a preempted thread waits).
    rc, err, cpu = record_cpu_window(
        t.pid, worker_tid, "-p", t.pid, "-d", "3s", "-r", "250", "--mode", "cpu", "-o", out
    )
    assert rc == 0, err
    stacks = parse_folded(out)

    # 250 samples per second of the worker's own CPU time (the machine may
    # be busy: the reference is what the thread really ran, not wall time).
    # 20 %: on a loaded VM the CPU-clock hrtimer overruns and perf drops
    # the missed periods (measured up to 11 % at load 5 on 2 vCPUs).
    got = thread_samples(stacks, worker_tid)
    assert abs(got - 250 * cpu) <= 0.2 * 250 * cpu + 5, (got, cpu)
    shares, total = leaf_shares(stacks, ["spin_three_quarters", "spin_one_quarter"])
    assert total >= 200, total
    assert abs(shares["spin_three_quarters"] - 0.75) <= 0.10, shares

    # The leaf line is a line of that function's loop, not its first line.
    loops = {
        "spin_three_quarters": marked_lines("split.py", "LOOP-THREE-QUARTERS"),
        "spin_one_quarter": marked_lines("split.py", "LOOP-ONE-QUARTER"),
    }
    # Nearly all samples are on the loop lines; the rest on the function's
    # other lines (`x = 0`, `return x` run once per call), never elsewhere.
    in_loop = elsewhere = 0
    for frames, count in stacks:
        parts = frame_parts(frames[-1])
        if parts and parts[0] in loops:
            assert parts[1].endswith("split.py")
            body = set(range(min(loops[parts[0]]) - 2, max(loops[parts[0]]) + 2))
            assert parts[2] in body, (frames[-1], body)
            if parts[2] in loops[parts[0]]:
                in_loop += count
            else:
                elsewhere += count
            # the caller frame shows the line of the call in worker()
            caller = frame_parts(frames[-2])
            assert caller[0] == "worker", frames
            assert "spin_" in (TARGETS / "split.py").read_text().splitlines()[caller[2] - 1]
    assert in_loop >= 0.95 * (in_loop + elsewhere), (in_loop, elsewhere)

    # Root frames are the target's threads; the worker's is there.
    roots = {frames[0] for frames, _ in stacks}
    assert all(r.startswith("thread (") for r in roots), roots
    tids = {int(r[len("thread ("):].split(")")[0].split()[0]) for r in roots}
    assert worker_tid in tids, (worker_tid, roots)
    task_tids = {int(x) for x in os.listdir("/proc/%d/task" % t.pid)}
    assert tids <= task_tids, (tids, task_tids)

    # Summary on stderr: samples, lost, threads, where the profile went.
    assert "samples (0 lost) from" in err, err
    assert "wrote %s" % out in err
    assert "\r" not in err  # no status line when stderr is not a terminal


def test_launch_mode(target, tmp_path):
    python = next(v for k, v in sorted(INTERPRETERS.items()) if k.startswith("pyenv-3.11"))
    out = tmp_path / "launched.folded"
    r = run_gil_prof("record", "--mode", "cpu", "-o", out, "--", python,
                     TARGETS / "split.py", "2")
    assert r.returncode == 0, r.stderr
    assert "exited with status 0" in r.stderr
    stacks = parse_folded(out)
    shares, total = leaf_shares(stacks, ["spin_three_quarters", "spin_one_quarter"])
    assert abs(shares["spin_three_quarters"] - 0.75) <= 0.10, shares
    # the launched program's own stdout went through untouched
    assert r.stdout.startswith("ready ")
    # The child was held until the sampler ran: all of the worker's CPU
    # time is sampled (it reports its own thread_time at exit).
    worker_tid = int(r.stdout.split()[1])
    cpu = float(r.stdout.split("worker-cpu")[1].split()[0])
    got = thread_samples(stacks, worker_tid)
    assert abs(got - 100 * cpu) <= 0.2 * 100 * cpu + 5, (got, cpu)


def test_duration_forms_and_rate(target, tmp_path):
    python = next(v for k, v in sorted(INTERPRETERS.items()) if k.startswith("pyenv-3.11"))
    t = target(python, "split.py")
    worker_tid = int(t.ready_fields[0])
    out = tmp_path / "fast.txt"
    start = time.monotonic()
    rc, err, cpu = record_cpu_window(
        t.pid, worker_tid, "-p", t.pid, "-d", "1500ms", "-r", "1000", "--mode", "cpu", "-o", out
    )
    elapsed = time.monotonic() - start
    assert rc == 0, err
    assert 1.4 < elapsed < 10.0
    # 1000 samples per second of the worker's CPU time, within 20 % (see
    # test_split_three_to_one on timer overruns under load)
    got = thread_samples(parse_folded(out), worker_tid)
    assert cpu > 0.3, cpu
    assert abs(got - 1000 * cpu) <= 200 * cpu + 10, (got, cpu)


def test_target_exit_keeps_profile(target, tmp_path):
    python = next(v for k, v in sorted(INTERPRETERS.items()) if k.startswith("pyenv-3.11"))
    t = target(python, "split.py", "1.5")
    out = tmp_path / "early.folded"
    start = time.monotonic()
    r = run_gil_prof("-p", t.pid, "-d", "30s", "-o", out)
    assert r.returncode == 0, r.stderr
    assert time.monotonic() - start < 10
    assert "process %d exited" % t.pid in r.stderr
    # what was sampled before the exit is in the profile
    shares, total = leaf_shares(parse_folded(out), ["spin_three_quarters", "spin_one_quarter"])
    assert total >= 10


def test_status_line_on_terminal(target, tmp_path):
    import pty

    python = next(v for k, v in sorted(INTERPRETERS.items()) if k.startswith("pyenv-3.11"))
    t = target(python, "split.py")
    out = tmp_path / "tty.folded"
    master, slave = pty.openpty()
    p = subprocess.Popen(
        [str(GIL_PROF), "-p", str(t.pid), "-d", "1.2s", "-o", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=slave,
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    p.wait(timeout=20)
    os.close(master)
    text = b"".join(chunks).decode()
    assert_no_sanitizer_report(text)
    assert p.returncode == 0, text
    assert "\rgil-prof: recording %d:" % t.pid in text
    assert "samples" in text and "lost" in text and "threads" in text
