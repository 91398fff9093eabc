"""Who held the GIL while others waited, against targets with a known holder
(tests/targets/gil_blame.py): a thread in a C call that sleeps holding the
GIL (ctypes.PyDLL usleep), a pure-Python hog, and a control that releases
the GIL (zlib) and so must not be blamed.

The blame profile (.blame.folded) is rooted at the holder's thread, then the
holder's stack; its weight is the waiting it caused, which must agree with
the waiters' own waiting samples in the ordinary profile of the same run.
"""
import re
from xml.etree import ElementTree

import pytest

import pprof_tool
from conftest import (
    INTERPRETERS,
    MATRIX,
    TARGETS,
    Target,
    frame_parts,
    marked_lines,
    parse_folded,
    run_gil_prof,
    thread_states,
    thread_tid,
)

OFFCPU = "[holding the GIL off CPU]"
UNKNOWN = "[holder unknown]"
HANDOFF = "[GIL being handed over]"
# The hog and the control need no interpreter matrix: the oldest row, the
# newest and the stripped static build.
FEW = [i for i in ("pyenv-3.9", "pyenv-3.13", "debian-3.11") if i in MATRIX]


def interpreter(interp_id):
    exe = INTERPRETERS.get(interp_id)
    if not exe:
        pytest.fail("interpreter %s is missing (see README, Tests)" % interp_id)
    return exe


@pytest.fixture
def blame_target():
    """Starts gil_blame.py in its own session; kills its group at the end."""
    started = []

    def start(python, mode, seconds=30):
        t = Target(python, "gil_blame.py", mode, seconds)
        started.append(t)
        return t, [int(x) for x in t.ready_fields]

    yield start
    for t in started:
        t.kill()


def record(pid, tmp_path, seconds=3, *extra):
    blame, folded = tmp_path / "out.blame.folded", tmp_path / "out.folded"
    outs = [a for f in ("out.pb.gz", "out.report", "out.svg") for a in ("-o", tmp_path / f)]
    r = run_gil_prof("-p", pid, "-d", "%ds" % seconds, "-o", blame, "-o", folded, *outs, "-v",
                     *extra)
    assert r.returncode == 0, r.stderr
    return parse_folded(blame), parse_folded(folded), r


def waiting_of(stacks, tids):
    states = thread_states(stacks)
    return sum(states.get(t, {}).get("waiting", 0) for t in tids)


def root_tid(frames):
    return None if frames[0] in (UNKNOWN, HANDOFF) else thread_tid(frames[0])


def blamed_on(blame, tid, func, lines=None):
    """Blame samples rooted at thread tid whose innermost Python frame is func."""
    total = 0
    for frames, count in blame:
        if root_tid(frames) != tid:
            continue
        py = [frame_parts(f) for f in frames[1:] if frame_parts(f)]
        if py and py[-1][0] == func and (lines is None or py[-1][2] in lines):
            total += count
    return total


def check_weight(blame, folded, waiters, r):
    total = sum(c for _, c in blame)
    waited = waiting_of(folded, waiters)
    assert waited > 0, r.stderr
    # Every waiting sample of the workers is explained by one blame sample.
    assert abs(total - waited) <= 0.2 * waited, (total, waited)
    return total


def test_usleep_holder_is_blamed(python, blame_target, tmp_path):
    p, (holder, *workers) = blame_target(python, "usleep")
    blame, folded, r = record(p.pid, tmp_path)
    total = check_weight(blame, folded, workers, r)
    call = marked_lines("gil_blame.py", "HOLDER-CALL")
    on_holder = blamed_on(blame, holder, "holder", call)
    assert on_holder >= 0.8 * total, (on_holder, total, blame)
    # ... and it held the GIL asleep, in usleep, not running.
    asleep = sum(c for f, c in blame if root_tid(f) == holder and f[-1] == OFFCPU)
    assert asleep >= 0.8 * total, (asleep, total, blame)
    check_pprof(tmp_path / "out.pb.gz", holder, workers, total)
    check_report((tmp_path / "out.report").read_text(), holder)
    check_svg(tmp_path / "out.svg", total)


def check_svg(path, total):
    """The flame graph's blame view: the holder's function, asleep holding the GIL."""
    ns = {"s": "http://www.w3.org/2000/svg"}
    root = ElementTree.parse(path).getroot()
    view = root.find(".//s:g[@id='gp-blame']", ns)
    assert view is not None, "no blame view"
    frames, asleep = {}, 0
    for g in view.findall("s:g", ns):
        assert g.get("class") == "b"
        label = g.get("data-l")
        frames[label] = frames.get(label, 0) + int(g.get("data-w"))
        if label.startswith("holder (") and g.get("data-s") == "asleep":
            asleep += int(g.get("data-w"))
    assert frames.get("all") == total, frames
    assert asleep >= 0.8 * total, frames


def check_pprof(path, holder, workers, total):
    """The workers' waiting samples carry the holder; the gil_blame view is its stack."""
    raw = pprof_tool.raw(path)
    assert raw.types[-1] == "gil_blame/count", raw.types
    waiting = [s for s in raw.samples if s["labels"].get("gil_state") == "waiting"
               and int(s["labels"]["thread_id"]) in workers]
    labelled = sum(s["values"][0] for s in waiting
                   if s["labels"].get("gil_holder_tid") == str(holder)
                   and s["labels"].get("gil_holder_off_cpu") == "1")
    assert labelled >= 0.8 * sum(s["values"][0] for s in waiting), waiting
    assert sum(s["values"][-1] for s in raw.samples) == total
    _, rows = pprof_tool.top(path, "-sample_index=gil_blame")
    assert rows["holder"][0] >= 0.8 * total, rows


def check_report(text, holder):
    section = text[text.index("Who held the GIL while others waited"):]
    first = section.splitlines()[1]
    assert "held by thread %d holder, asleep (off CPU)" % holder in first, section
    assert " in 2 threads" in first, section
    assert section.splitlines()[2].strip().startswith("holder ("), section


@pytest.mark.parametrize("interp", FEW)
def test_hog_is_blamed_on_cpu(interp, blame_target, tmp_path):
    p, (holder, *workers) = blame_target(interpreter(interp), "hog")
    blame, folded, r = record(p.pid, tmp_path)
    total = check_weight(blame, folded, workers, r)
    on_holder = blamed_on(blame, holder, "holder")
    assert on_holder >= 0.8 * total, (on_holder, total, blame)
    asleep = sum(c for f, c in blame if f[-1] == OFFCPU)
    assert asleep <= 0.1 * total, (asleep, total, blame)


@pytest.mark.parametrize("interp", FEW)
def test_releasing_thread_is_not_blamed(interp, blame_target, tmp_path):
    p, (holder, *workers) = blame_target(interpreter(interp), "release")
    blame, folded, r = record(p.pid, tmp_path)
    total = sum(c for _, c in blame)
    # The spinning workers wait for each other (and for the hand-offs
    # between them: on 3.9 a thread that drops the GIL on request waits
    # until the next one runs): that is what is blamed.
    assert total >= 0.5 * waiting_of(folded, workers), (total, r.stderr)
    on_workers = sum(blamed_on(blame, w, "work") for w in workers)
    handoff = sum(c for f, c in blame if f[0] == HANDOFF)
    assert on_workers + handoff >= 0.8 * total, (on_workers, handoff, total, blame)
    on_holder = sum(c for f, c in blame if root_tid(f) == holder)
    assert on_holder <= 0.1 * total, (on_holder, total, blame)


@pytest.mark.parametrize("interp", FEW)
@pytest.mark.parametrize("source", ["timeline", "estimated"])
def test_asleep_and_hold_durations(interp, source, tmp_path):
    # The holder times its own usleep calls: each is a hold of the GIL off
    # CPU. gil-prof measures the sleeps from the switch records and the
    # holds from the GIL timeline, or without one estimates them from the
    # samples and switch records; p50s within 10 % of the target's either way.
    # Launched by gil-prof: recorded from its first instruction, however
    # long attaching takes on a loaded machine; its output comes through.
    report, trace = tmp_path / "out.report", tmp_path / "out.trace.json"
    outs = ["-o", report] + (["-o", trace] if source == "timeline" else [])
    r = run_gil_prof("-q", *outs, "--", interpreter(interp),
                     TARGETS / "gil_blame.py", "usleep", 3, timeout=120, start_new_session=True)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    ready = [l.split() for l in out.splitlines() if l.startswith("ready ")]
    held = [l.split() for l in out.splitlines() if l.startswith("held ")]
    assert ready and held, out
    holder, *workers = (int(x) for x in ready[0][1:])
    n, _, p50, _, _ = (int(x) for x in held[0][1:])
    assert n > 20, held
    text = report.read_text()
    assert ("durations (estimated from samples" in text) == (source == "estimated"), text
    # (names may be gone: the target has exited when the report is written)
    m = re.search(r"thread %d(?: holder)? asleep holding the GIL (\d+) times?, [\d.]+ s in all \(others "
                  r"waited during [\d.]+ s of it\); each p50 ([\d.]+) ms, p99 ([\d.]+) ms" % holder, text)
    assert m, text
    assert int(m.group(1)) >= 0.8 * n, (m.group(0), held)
    assert abs(float(m.group(2)) * 1e6 - p50) <= 0.1 * p50, (m.group(0), held)
    row = re.search(r"^%d(?: holder)?\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+(\d+)\s" % holder,
                    text, re.M)
    assert row, text
    holds, hold_p50, longer = int(row.group(1)), float(row.group(2)) * 1e6, int(row.group(5))
    assert abs(hold_p50 - p50) <= 0.1 * p50, (row.group(0), held)
    assert longer >= 0.8 * holds, row.group(0)
    # Per stack that acquired the GIL: the holder's usleep line held it
    # longest in all, and its holds' p50 is the target's too.
    by_stack = text.split("GIL holds by the stack that acquired it", 1)
    assert len(by_stack) == 2, text
    top = re.search(r"^\s+(\d+)\s+[\d.]+\s+([\d.]+)\s+[\d.]+\s+[\d.]+\s+\d+\s+(\S+) \(",
                    by_stack[1], re.M)
    assert top and top.group(3) == "holder", by_stack[1][:800]
    assert int(top.group(1)) >= 0.8 * n, (top.group(0), held)
    assert abs(float(top.group(2)) * 1e6 - p50) <= 0.1 * p50, (top.group(0), held)
    hand = re.search(r"^GIL hand-offs(?: \(estimated, as above\))?: (\d+) in", text, re.M)
    assert hand and int(hand.group(1)) >= holds, text
    # The interpreter's own switch counter agrees with the traced hand-offs.
    # It is read at poll ticks, so it may miss the ends of the run (more so
    # on a loaded machine); the uprobe-traced timeline was seen to miss up to
    # 14 % of the acquisitions the counter has (233 vs 201 on pyenv 3.13,
    # never with the watchpoint), hence the wider upper bound.
    switches = re.search(r"^GIL switches: (\d+) in", text, re.M)
    assert switches, text
    n_switches, n_hand = int(switches.group(1)), int(hand.group(1))
    if source == "timeline":
        assert 0.8 * n_hand <= n_switches <= 1.25 * n_hand, (n_switches, n_hand, text)
    else:
        # Estimated: hand-offs between threads both on CPU are not seen
        # (here 55-73 % of the counter's were), and none is made up.
        assert 0.5 * n_switches <= n_hand <= 1.1 * n_switches, (n_switches, n_hand, text)
    assert any(re.search(r"^  %d(?: holder)?\s+%d(?: worker-\d)?\s+\d+$" % (holder, w), text, re.M)
               for w in workers), text
