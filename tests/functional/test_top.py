"""gil-prof top: driven in tmux (send-keys, capture-pane): the rows and
their shares, the sort keys, idle time shown on demand, a terminal resize, and the terminal
restored on q, Ctrl-C and SIGTERM; without a terminal, plain tables, the
header's GIL contention against targets whose contention is known, and
--native / --subprocesses. One
interpreter: the view is the sampler's, tested over the matrix elsewhere.
"""
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import GIL_PROF, INTERPRETERS, TARGETS, run_gil_prof, wait_for

SCRIPT = TARGETS / "top_app.py"
ROW_RE = re.compile(r"^\s*(\d+\.\d)\s+(\d+\.\d)\s+(\d+)%\s+(\d+)%\s+(.*)$")


def python312():
    return next(v for k, v in sorted(INTERPRETERS.items()) if k.startswith("pyenv-3.12"))


@pytest.fixture
def app():
    p = subprocess.Popen([python312(), str(SCRIPT)], stdout=subprocess.PIPE, text=True,
                         start_new_session=True)
    assert p.stdout.readline().startswith("ready")
    yield p.pid
    os.killpg(p.pid, signal.SIGKILL)
    p.wait(timeout=10)


class Tmux:
    def __init__(self, name):
        self.name = name
        subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "160", "-y", "45",
                        "bash --norc --noprofile"], check=True)

    def send(self, *keys):
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True)

    def screen(self, join=False):
        # -J: wrapped lines joined, so a row that wrapped shows as one long line.
        return subprocess.run(["tmux", "capture-pane", "-p", *(["-J"] if join else []),
                               "-t", self.name],
                              capture_output=True, text=True, check=True).stdout

    def command(self):
        return subprocess.run(["tmux", "display-message", "-p", "-t", self.name,
                               "#{pane_current_command}"],
                              capture_output=True, text=True, check=True).stdout.strip()

    def resize(self, width, height):
        subprocess.run(["tmux", "resize-window", "-t", self.name, "-x", str(width),
                        "-y", str(height)], check=True)

    def kill(self):
        subprocess.run(["tmux", "kill-session", "-t", self.name])


@pytest.fixture
def tmux():
    t = Tmux("gp-top-%d" % os.getpid())
    yield t
    t.kill()


def rows(screen):
    """[(own, total, holding, waiting, function)] of the table on screen."""
    out = []
    for line in screen.splitlines():
        m = ROW_RE.match(line)
        if m:
            out.append((float(m.group(1)), float(m.group(2)), int(m.group(3)),
                        int(m.group(4)), m.group(5).strip()))
    return out


def row(screen, func):
    return next((r for r in rows(screen) if r[4].startswith(func + " ")), None)


def wait_screen(tmux, pred, timeout=30):
    got = {}

    def ok():
        got["s"] = tmux.screen()
        return pred(got["s"])

    assert wait_for(ok, timeout=timeout, step=0.3), got.get("s")
    return got["s"]


def start_top(tmux, pid):
    tmux.send("clear; echo BEFORE-TOP; %s top -p %d" % (GIL_PROF, pid), "Enter")
    # The header, and a table with the hot function once an interval ran.
    return wait_screen(tmux, lambda s: "gil-prof top: process %d" % pid in s and
                       row(s, "spin_hot") is not None)


def test_top_rows_keys_and_quit(app, tmux):
    s = start_top(tmux, app)
    assert "(idle time hidden)" in s
    # Idle hidden: the spinner leads, holding the GIL; the napping thread's
    # time is its waits for the GIL after each nap (more on a loaded machine).
    s = wait_screen(tmux, lambda s: rows(s) and rows(s)[0][4].startswith("spin_hot ") and
                    rows(s)[0][0] >= 60)
    own, total, holding, waiting, _ = row(s, "spin_hot")
    assert total >= own and holding >= 80, s
    # i: idle time counted; the sleeping thread's naps show up, the spinner's share drops.
    tmux.send("i")
    s = wait_screen(tmux, lambda s: "(idle time hidden)" not in s and
                    (row(s, "nap_cold") or (0, 0))[1] >= 20)
    assert row(s, "spin_hot")[0] <= 80, s
    # n: sorted by name; o: by own time again.
    tmux.send("n")
    s = wait_screen(tmux, lambda s: "sort: name" in s)
    names = [r[4] for r in rows(s)]
    assert names == sorted(names), names
    tmux.send("o")
    s = wait_screen(tmux, lambda s: "sort: own" in s)
    owns = [r[0] for r in rows(s)]
    assert owns == sorted(owns, reverse=True), s
    # T: one row per thread and function, the thread's id first.
    tmux.send("T")
    s = wait_screen(tmux, lambda s: "thread  function" in s and
                    any(r[4].split()[0].isdigit() and "spin_hot" in r[4] for r in rows(s)))
    tmux.send("T")
    # p: the view stops refreshing until p again.
    tmux.send("p")
    s = wait_screen(tmux, lambda s: "[paused]" in s)
    tmux.send("p")
    wait_screen(tmux, lambda s: "[paused]" not in s)
    # q: gil-prof exits and the screen is the shell's again.
    tmux.send("q")
    s = wait_screen(tmux, lambda s: "BEFORE-TOP" in s and "gil-prof top:" not in s, timeout=20)
    assert wait_for(lambda: tmux.command() == "bash", timeout=10), tmux.command()


def test_top_follows_terminal_resize(app, tmux):
    start_top(tmux, app)
    full = wait_screen(tmux, lambda s: len(rows(s)) >= 3)
    # Small: the header stays, the table is cut to the lines there are,
    # and no row wraps (each still parses, the hot function first).
    tmux.resize(70, 8)
    s = wait_screen(tmux, lambda s: len(s.splitlines()) <= 8 and
                    "gil-prof top: process %d" % app in s and row(s, "spin_hot") is not None)
    joined = tmux.screen(join=True)
    assert all(len(l.rstrip()) <= 70 for l in joined.splitlines()), joined
    assert 1 <= len(rows(s)) < len(rows(full)), (s, full)
    # Large again: the whole table is back.
    tmux.resize(160, 45)
    wait_screen(tmux, lambda s: len(rows(s)) >= len(rows(full)))
    tmux.send("q")
    wait_screen(tmux, lambda s: "BEFORE-TOP" in s and "gil-prof top:" not in s, timeout=20)


def test_top_sigterm_restores_terminal(app, tmux):
    start_top(tmux, app)
    pids = subprocess.run(["pgrep", "-f", "^%s top -p %d$" % (GIL_PROF, app)],
                          capture_output=True, text=True).stdout.split()
    assert len(pids) == 1, pids
    os.kill(int(pids[0]), signal.SIGTERM)
    wait_screen(tmux, lambda s: "BEFORE-TOP" in s and "gil-prof top:" not in s, timeout=20)


def test_top_ctrl_c_restores_terminal(app, tmux):
    start_top(tmux, app)
    tmux.send("C-c")
    wait_screen(tmux, lambda s: "BEFORE-TOP" in s and "gil-prof top:" not in s, timeout=20)
    assert wait_for(lambda: tmux.command() == "bash", timeout=10), tmux.command()


CONTENTION_RE = re.compile(r"GIL contention: (\d+\.\d)% of the last interval")


@pytest.mark.parametrize("threads,low,high", [(2, 85, 100), (1, 0, 10)])
def test_top_contention(threads, low, high):
    """The header's contention: two spinning threads always have one waiting,
    a lone spinner never waits."""
    p = subprocess.Popen([python312(), str(TARGETS / "gil_contend.py"), str(threads)],
                         stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert p.stdout.readline().startswith("ready")
        r = run_gil_prof("top", "-p", p.pid, "-d", "3.5s", "--interval", "1s", timeout=60)
        # cpu mode cannot see a wait off CPU: it says so rather than show 0
        cpu = run_gil_prof("top", "-p", p.pid, "-d", "1.5s", "--interval", "1s", "--mode",
                           "cpu", timeout=60)
    finally:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait(timeout=10)
    assert r.returncode == 0, r.stderr
    got = [float(x) for x in CONTENTION_RE.findall(r.stdout)]
    assert len(got) >= 2, r.stdout
    assert all(low <= x <= high for x in got[1:]), got
    assert cpu.returncode == 0 and "GIL contention: measured in wall mode only" in cpu.stdout, \
        cpu.stdout + cpu.stderr


def test_top_without_terminal(app):
    r = run_gil_prof("top", "-p", app, "-d", "3.5s", "--interval", "1s", timeout=60)
    assert r.returncode == 0, r.stderr
    tables = r.stdout.split("gil-prof top: process")
    assert len(tables) >= 3, r.stdout
    last = tables[-1]
    hot = row(last, "spin_hot")
    assert hot and rows(last)[0] == hot and hot[0] >= 60 and hot[2] >= 80, last


def test_top_native_and_subprocesses():
    """Same samplers as record: --native rows carry native functions under
    the Python ones; --subprocesses counts a pool's workers started before."""
    spin = subprocess.Popen([python312(), str(TARGETS / "gil_contend.py"), "1"],
                            stdout=subprocess.PIPE, text=True, start_new_session=True)
    pool = subprocess.Popen([python312(), str(TARGETS / "pool.py"), "2"],
                            stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert spin.stdout.readline().startswith("ready")
        assert pool.stdout.readline().startswith("ready")
        # cpu mode: every sample carries native frames (off-CPU intervals
        # of wall mode carry Python frames only)
        nat = run_gil_prof("top", "-p", spin.pid, "-d", "2.5s", "--interval", "1s", "--native",
                           "--mode", "cpu", timeout=60)
        sub = run_gil_prof("top", "-p", pool.pid, "-d", "2.5s", "--interval", "1s",
                           "--subprocesses", timeout=60)
    finally:
        for p in (spin, pool):
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=10)
    assert nat.returncode == 0, nat.stderr
    last = nat.stdout.split("gil-prof top: process")[-1]
    names = [r[4] for r in rows(last)]
    assert row(last, "spin") and row(last, "spin")[1] >= 60, last
    # the thread's start in libc, below every Python frame of the thread
    assert any(n.endswith("(libc.so.6)") and row(last, n.split(" (")[0])[1] >= 80
               for n in names), last
    assert sub.returncode == 0, sub.stderr
    last = sub.stdout.split("gil-prof top: process")[-1]
    # two workers crunch, the parent waits (idle, hidden): crunch leads
    assert rows(last) and rows(last)[0][4].startswith("crunch "), last
    assert sub.stderr.count("was already running: profiled too") >= 2, sub.stderr
