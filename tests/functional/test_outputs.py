"""Every output format from one real recording, each judged by its consumer.

One recording of tests/targets/split.py (a worker thread named "splitter"
spending its CPU 3:1 in two functions) is written as pprof, speedscope, SVG
and HTML flame graphs and folded stacks in the same run. Then:
  - pprof: `go tool pprof` parses it (-raw), -top finds the functions in the
    3:1 split, -tagfocus on thread_id keeps the worker only;
  - speedscope: the format's rules (schema + index/weight checks);
  - flame graphs: headless Chromium loads them with no script error, the
    frames are in the DOM, clicking zooms, searching reports the share;
and all of them agree with the folded file of the same recording.
A synthetic profile with all GIL states, GC labels and a native frame
(tests/tools/write_synthetic) checks the labels a recording cannot all
show at once (gc, native mappings).

A second recording, of two threads contending for the GIL, writes the GIL
timeline (.trace.json) with pprof, speedscope and folded files while the
tests' exact tracer (tests/tools/gilwait) measures the same window:
  - the timeline passes the Chrome Trace Event rules (chrometrace_rules.py:
    schema, per-thread nesting) and gil-prof's own (intervals cover each
    thread without gap or overlap, held intervals of different threads
    never overlap, hand-offs name real threads and land on holding);
  - each thread's waiting share in the timeline agrees with the exact
    tracer, and holding/waiting shares with the sampled profile;
  - pprof -tagfocus=gil_state=waiting / holding and the speedscope profiles
    per state show the contended loop, as do the hand-offs' stacks.
Every interpreter of the matrix records a short timeline too (uprobes on
pyenv builds, a watchpoint on Debian's stripped python3.11).
"""
import json
import os
import pathlib
import re
import subprocess
import time
import xml.etree.ElementTree as ET

import jsonschema
import pytest

import chrometrace_rules
import pprof_tool
import speedscope_rules
from browser import Browser
from conftest import (
    TOOLS,
    INTERPRETERS,
    TARGETS,
    Target,
    frame_parts,
    marked_lines,
    parse_folded,
    run_gil_prof,
    shares,
    thread_states,
    gil_events_expected,
)
from test_gil import GILWAIT, libpython, tracer_totals, value_at, window

OUTPUTS = {
    "pprof": "out.pb.gz",
    "speedscope": "out.speedscope.json",
    "svg": "out.svg",
    "html": "out.html",
    "folded": "out.folded",
}
RATE_HZ = 250  # enough samples for the 3:1 split even on a loaded machine
PERIOD_NS = 1_000_000_000 // RATE_HZ
SYN_PERIOD_NS = 10_000_000  # tests/tools/synthetic_profile.h
WRITE_SYNTHETIC = TOOLS / "write_synthetic"  # beside the binary under test


def python311():
    return next(v for k, v in sorted(INTERPRETERS.items()) if k.startswith("pyenv-3.11"))


class Recording:
    def __init__(self, directory, result, target):
        self.dir = directory
        self.stderr = result.stderr
        self.pid = target.pid
        self.worker = int(target.ready_fields[0])
        self.folded = parse_folded(directory / OUTPUTS["folded"])
        self.total = sum(c for _, c in self.folded)

    def path(self, fmt):
        return self.dir / OUTPUTS[fmt]

    def folded_tid_samples(self, tid):
        return sum(c for frames, c in self.folded if re.match(r"thread \(%d[ )]" % tid, frames[0]))

    def folded_leaf(self, func):
        return sum(c for frames, c in self.folded if (frame_parts(frames[-1]) or ("",))[0] == func)


@pytest.fixture(scope="module")
def rec(tmp_path_factory):
    d = tmp_path_factory.mktemp("outputs")
    t = Target(python311(), "split.py")
    try:
        args = []
        for name in OUTPUTS.values():
            args += ["-o", d / name]
        # cpu mode: on-CPU samples, so wall = cpu = samples x period below
        r = run_gil_prof("-p", t.pid, "-d", "3s", "-r", RATE_HZ, "--mode", "cpu", *args)
    finally:
        t.kill()
    assert r.returncode == 0, r.stderr
    return Recording(d, r, t)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    d = tmp_path_factory.mktemp("synthetic")
    r = subprocess.run([str(WRITE_SYNTHETIC), str(d)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return d


@pytest.fixture(scope="module")
def browser():
    with Browser() as b:
        yield b


def test_all_formats_from_one_run(rec):
    for fmt, name in OUTPUTS.items():
        assert "wrote %s (%s)" % (rec.dir / name, fmt) in rec.stderr
        assert (rec.dir / name).stat().st_size > 0
    assert rec.total >= 40, rec.total  # ~750 on an idle machine; others share the CPUs
    assert not [f for f in os.listdir(rec.dir) if f.startswith(".")]  # no temporaries


# --- pprof ------------------------------------------------------------------


def test_pprof_parses_and_matches_folded(rec):
    raw = pprof_tool.raw(rec.path("pprof"))
    assert raw.types == ["samples/count", "wall/nanoseconds", "cpu/nanoseconds"]
    assert sum(s["values"][0] for s in raw.samples) == rec.total
    # on-CPU sampling: wall and cpu time are the samples times the period
    for s in raw.samples:
        assert s["values"][1] == s["values"][0] * PERIOD_NS == s["values"][2]
        assert int(s["labels"]["thread_id"]) in rec_tids(rec)
        if int(s["labels"]["thread_id"]) == rec.worker:  # Python's name for the thread
            assert s["labels"]["thread_name"] == "splitter", s
    assert any("lost samples: 0" in c for c in raw.comments), raw.comments
    assert any("pid %d" % rec.pid in c for c in raw.comments), raw.comments

    # functions: name, file, start line; locations: the executing line
    body = function_lines("split.py", "spin_three_quarters")
    source = (TARGETS / "split.py").read_text().splitlines()
    def_line = next(i for i, l in enumerate(source, 1) if l.startswith("def spin_three_quarters"))
    locs = [l for l in raw.locations.values() if l["name"] == "spin_three_quarters"]
    assert locs, raw.locations
    for l in locs:
        assert l["file"].endswith("tests/targets/split.py"), l
        assert l["line"] in body, (l, body)
        assert l["start"] == def_line, l
        assert l["sys"] == "spin_three_quarters"


def function_lines(script, name):
    """Line numbers of function name's body in a target script."""
    lines = (TARGETS / script).read_text().splitlines()
    start = next(i for i, l in enumerate(lines, 1) if l.startswith("def %s(" % name))
    end = start
    while end < len(lines) and (not lines[end].strip() or lines[end].startswith(" ")):
        end += 1
    return set(range(start + 1, end + 1))


def split_tolerance(n):
    """±10 points, widened to 3.5 sigma when a loaded machine gave few samples."""
    return max(0.10, 3.5 * (0.75 * 0.25 / max(n, 1)) ** 0.5)


def rec_tids(rec):
    return {int(f[0][len("thread ("):].split(")")[0].split()[0]) for f, _ in rec.folded}


def test_pprof_top_shows_the_split(rec):
    out, rows = pprof_tool.top(rec.path("pprof"))
    assert "Type: cpu" in out
    three, one = rows["spin_three_quarters"][0], rows["spin_one_quarter"][0]
    n = rec.folded_leaf("spin_three_quarters") + rec.folded_leaf("spin_one_quarter")
    assert abs(three / (three + one) - 0.75) <= split_tolerance(n), rows
    # the same seconds as the folded file's samples
    assert three == pytest.approx(rec.folded_leaf("spin_three_quarters") * PERIOD_NS / 1e9, abs=0.011)
    assert rows["worker"][1] >= three + one - 0.011


def test_pprof_tagfocus_thread(rec):
    worker = rec.folded_tid_samples(rec.worker)
    raw = pprof_tool.raw(rec.path("pprof"), "-tagfocus=thread_id=%d" % rec.worker)
    assert raw.samples
    assert {s["labels"]["thread_id"] for s in raw.samples} == {str(rec.worker)}
    assert sum(s["values"][0] for s in raw.samples) == worker
    others = rec.total - worker
    if others:
        raw = pprof_tool.raw(rec.path("pprof"), "-tagignore=thread_id=%d" % rec.worker)
        assert sum(s["values"][0] for s in raw.samples) == others


def test_pprof_gil_states_and_native_frames(synthetic):
    """State labels filter in go tool pprof; native frames keep their mapping."""
    path = synthetic / "synthetic.pb.gz"
    out, rows = pprof_tool.top(path, "-tagfocus=gil_state=waiting")
    assert "Type: wall" in out
    assert set(rows) == {"compute", "Worker.run"}, rows
    assert rows["compute"][0] == pytest.approx(0.7)

    raw = pprof_tool.raw(path, "-tagfocus=gil_state=holding,released")
    assert {s["labels"]["gil_state"] for s in raw.samples} == {"holding", "released"}
    assert sum(s["values"][0] for s in raw.samples) == 10 + 30 + 80 + 5

    raw = pprof_tool.raw(path, "-tagignore=gil_state=idle")
    assert "idle" not in {s["labels"]["gil_state"] for s in raw.samples}

    raw = pprof_tool.raw(path, "-tagfocus=gc=1")
    assert sum(s["values"][0] for s in raw.samples) == 20
    assert all(s["labels"]["gil_state"] == "idle" for s in raw.samples)

    raw = pprof_tool.raw(path)
    native = [l for l in raw.locations.values() if l["name"] == "sha256_block_data_order"]
    assert len(native) == 1 and native[0]["addr"] == 0x7F0000012340 and native[0]["mapping"]
    assert any("libcrypto.so.3" in m and "1f2e3d4c5b6a7988" in m for m in raw.mappings), raw.mappings
    # leaf first: the native frame under the Python caller
    hasher = next(s for s in raw.samples if s["labels"].get("gil_state") == "released")
    assert raw.stack(hasher)[:2] == ["sha256_block_data_order", "checksum"]
    assert hasher["values"] == [80, 80 * SYN_PERIOD_NS, 80 * SYN_PERIOD_NS]
    # an off-CPU state has wall time and no cpu time
    waiting = next(s for s in raw.samples if s["labels"].get("gil_state") == "waiting")
    assert waiting["values"] == [70, 70 * SYN_PERIOD_NS, 0]
    assert waiting["labels"]["thread_name"] == "worker-1"


# --- speedscope -------------------------------------------------------------


def test_speedscope_rules_and_content(rec):
    doc = json.loads(rec.path("speedscope").read_text())
    speedscope_rules.check(doc)
    assert doc["exporter"].startswith("gil-prof@")
    frames = doc["shared"]["frames"]
    # one profile per GIL state the worker was in ("... [gil: holding]")
    mine = [p for p in doc["profiles"] if p["name"].startswith('Thread %d "splitter"' % rec.worker)]
    assert mine, [p["name"] for p in doc["profiles"]]
    for w in mine:
        assert w["unit"] == "nanoseconds"
        assert w["endValue"] - w["startValue"] == sum(w["weights"])
    assert sum(sum(w["weights"]) for w in mine) == rec.folded_tid_samples(rec.worker) * PERIOD_NS
    # the leaf frames and their share match the folded file
    body = function_lines("split.py", "spin_three_quarters")
    three = 0
    for w in mine:
        for stack, weight in zip(w["samples"], w["weights"]):
            leaf = frames[stack[-1]]
            if leaf["name"] == "spin_three_quarters":
                assert leaf["file"].endswith("split.py") and leaf["line"] in body, leaf
                assert frames[stack[-2]]["name"] == "worker"
                three += weight
    assert three == rec.folded_leaf("spin_three_quarters") * PERIOD_NS
    # the heaviest profile is the one shown first
    active = doc["profiles"][doc["activeProfileIndex"]]
    assert sum(active["weights"]) == max(sum(p["weights"]) for p in doc["profiles"])


def test_speedscope_profile_per_thread_and_state(synthetic):
    doc = json.loads((synthetic / "synthetic.speedscope.json").read_text())
    speedscope_rules.check(doc)
    names = sorted(p["name"] for p in doc["profiles"])
    assert names == sorted(
        [
            'Thread 4242 "MainThread" [gil: holding]',
            'Thread 4242 "MainThread" [gil: idle]',
            'Thread 4243 "worker-1" [gil: holding]',
            'Thread 4243 "worker-1" [gil: waiting]',
            'Thread 4244 "hash\ufffder" [gil: released]',
            "Thread 4245 [gil: holding]",
        ]
    )
    by_name = {p["name"]: p for p in doc["profiles"]}
    assert sum(by_name['Thread 4243 "worker-1" [gil: waiting]']["weights"]) == 70 * SYN_PERIOD_NS


def test_speedscope_rules_catch_bad_files(synthetic):
    """The checker is not a rubber stamp: each broken rule is caught."""
    good = json.loads((synthetic / "synthetic.speedscope.json").read_text())
    breakers = [
        lambda d: d["profiles"][0]["samples"][0].append(len(d["shared"]["frames"])),
        lambda d: d["profiles"][0]["weights"].pop(),
        lambda d: d.pop("$schema"),
        lambda d: d["profiles"][0].update(unit="parsecs"),
        lambda d: d["shared"]["frames"][0].pop("name"),
    ]
    for breaker in breakers:
        bad = json.loads(json.dumps(good))
        breaker(bad)
        with pytest.raises(Exception):
            speedscope_rules.check(bad)


# --- flame graphs -----------------------------------------------------------

FRAMES_JS = """Array.from(document.querySelectorAll('#gp-frames g.f')).filter(
    g => g.style.display !== 'none').map(g => ({
    name: g.querySelector('title').textContent.split('\\n')[0],
    x: +g.querySelector('rect').getAttribute('x'),
    w: +g.querySelector('rect').getAttribute('width'),
    fill: getComputedStyle(g.querySelector('rect')).fill,
    state: g.getAttribute('data-s'),
    text: g.querySelector('text').textContent}))"""


def load(browser, path, query=""):
    browser.open(pathlib.Path(path).as_uri() + query)
    assert browser.problems() == []
    root = "document.getElementById('gp-flamegraph')"
    assert browser.evaluate(root + ".getAttribute('data-gp-errors')") is None
    ready = browser.evaluate(root + ".getAttribute('data-gp-ready')")
    assert ready and int(ready) == browser.evaluate("document.querySelectorAll('g.f').length")
    return browser.evaluate(FRAMES_JS)


@pytest.mark.parametrize("fmt", ["svg", "html"])
def test_flamegraph_renders_with_frames(rec, browser, fmt):
    frames = load(browser, rec.path(fmt))
    names = [f["name"] for f in frames]
    body = function_lines("split.py", "spin_three_quarters")
    spins = [frame_parts(n) for n in names if n.startswith("spin_three_quarters (")]
    assert spins and all(p[1].endswith("tests/targets/split.py") and p[2] in body for p in spins), names
    # the hottest line is in the loop
    loop = marked_lines("split.py", "LOOP-THREE-QUARTERS")
    hottest = max((f for f in frames if f["name"].startswith("spin_three_quarters (")), key=lambda f: f["w"])
    assert frame_parts(hottest["name"])[2] in loop, hottest
    assert "thread (%d splitter)" % rec.worker in names, names
    assert names.count("all") == 1
    # self-contained: nothing to fetch, here or anywhere
    text = rec.path(fmt).read_text()
    assert not re.search(r"(?:src|href)\s*=|https?://(?!www\.w3\.org/2000/svg)", text)


def worker_frame_index(browser):
    """The widest "worker (...)" frame (the worker calls from two lines)."""
    return browser.evaluate(
        "(() => { const gs = Array.from(document.querySelectorAll('#gp-frames g.f'));"
        " let best = -1, w = -1; gs.forEach((g, i) => {"
        " const r = +g.querySelector('rect').getAttribute('width');"
        " if (g.querySelector('title').textContent.startsWith('worker (') && r > w) {"
        " best = i; w = r; } }); return best; })()"
    )


def test_flamegraph_click_zooms_and_escape_resets(rec, browser):
    before = load(browser, rec.path("svg"))
    idx = worker_frame_index(browser)
    assert idx >= 0
    clicked = browser.evaluate(
        "document.querySelectorAll('#gp-frames g.f title')[%d].textContent.split('\\n')[0]" % idx)
    browser.click("#gp-frames g.f rect", idx)
    assert browser.problems() == []
    assert browser.evaluate(
        "document.getElementById('gp-flamegraph').getAttribute('data-gp-zoom')") == clicked
    after = browser.evaluate(FRAMES_JS)
    worker = next(f for f in after if f["name"] == clicked)
    full = next(f for f in before if f["name"] == "all")["w"]
    assert worker["w"] == pytest.approx(full, abs=0.01)
    # only the worker's callers (faded, full width) and callees stay visible
    threads = [f["name"] for f in after if f["name"].startswith("thread (")]
    assert len(threads) == 1 and threads[0].startswith("thread (%d" % rec.worker), threads
    for f in after:
        assert f["x"] >= worker["x"] - 0.01 and f["x"] + f["w"] <= worker["x"] + worker["w"] + 0.01
    assert browser.evaluate("!!document.querySelector('#gp-reset').style.display") is False
    browser.press_key("Escape", "Escape", 27)
    assert len(browser.evaluate(FRAMES_JS)) == len(before)
    assert browser.problems() == []


def test_flamegraph_search_reports_share(rec, browser):
    share = rec.folded_leaf("spin_three_quarters") / rec.total
    load(browser, rec.path("html"))
    browser.type_text("#gp-search-input", "^spin_three_quarters ")
    matched = browser.evaluate("document.getElementById('gp-matched').textContent")
    assert matched.startswith("Matched: "), matched
    assert float(matched.split()[1].rstrip("%")) == pytest.approx(100 * share, abs=0.1)
    marked = browser.evaluate("document.querySelectorAll('g.f.m').length")
    assert marked >= 1
    assert browser.evaluate(
        "getComputedStyle(document.querySelector('g.f.m rect')).fill") == "rgb(230, 0, 230)"
    # the same search from the URL, in the SVG
    load(browser, rec.path("svg"), "?s=%5Espin_three_quarters%20")
    assert browser.evaluate("document.getElementById('gp-matched').textContent") == matched
    assert browser.problems() == []


def test_flamegraph_colours_by_gil_state(synthetic, browser):
    frames = load(browser, synthetic / "synthetic.svg")
    by_name = {f["name"]: f for f in frames}
    rgb = lambda f: tuple(int(v) for v in re.findall(r"\d+", f["fill"]))
    compute = by_name['compute (/srv/<kernels> & "math".py:52)']  # 70 waiting, 30 holding
    assert compute["state"] == "waiting"
    r, g, b = rgb(compute)
    assert b > r and b > g  # blue: waiting
    native = by_name["sha256_block_data_order (/usr/lib/x86_64-linux-gnu/libcrypto.so.3)"]
    assert native["state"] == "released"
    r, g, b = rgb(native)
    assert g > r and g > b  # green: released
    wait = by_name["Queue.wait_for_work (/srv/jobs.py:15)"]
    assert wait["state"] == "idle" and len(set(rgb(wait))) == 1  # grey
    # legend: one entry per state, with its share
    legend = browser.evaluate(
        "Array.from(document.querySelectorAll('g.legend text')).map(t => t.textContent)")
    assert legend == [
        "holding the GIL 15.3%",
        "waiting for the GIL 23.7%",
        "running without the GIL 27.1%",
        "idle 33.9%",
    ]
    # the tooltip gives the split
    title = browser.evaluate(
        "Array.from(document.querySelectorAll('g.f title')).map(t => t.textContent)"
        ".find(t => t.includes('math\".py:52'))")
    assert title.endswith("holding 30.0%, waiting 70.0%"), title


def test_browser_check_fails_on_script_error(synthetic, browser, tmp_path):
    """A flame graph whose script breaks is caught: the check can fail."""
    text = (synthetic / "synthetic.svg").read_text()
    broken = tmp_path / "broken.svg"
    broken.write_text(text.replace("function fit(label, width) {", "function fit(label, width) {)", 1))
    browser.open(broken.as_uri())
    problems = browser.problems()
    assert problems and "SyntaxError" in problems[0], problems
    assert browser.evaluate("document.getElementById('gp-flamegraph').getAttribute('data-gp-ready')") is None
    assert "SyntaxError" in browser.evaluate(
        "document.getElementById('gp-flamegraph').getAttribute('data-gp-errors')")


# --- ergonomics -------------------------------------------------------------


def test_default_output_is_an_svg_flame_graph(tmp_path, target):
    t = target(python311(), "split.py")
    r = run_gil_prof("-p", t.pid, "-d", "1s", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    files = os.listdir(tmp_path)
    assert len(files) == 1, files
    assert re.match(r"^gil-prof-%d-\d{8}T\d{6}\.svg$" % t.pid, files[0]), files
    assert "wrote %s (svg)" % files[0] in r.stderr
    root = ET.parse(tmp_path / files[0]).getroot()  # well-formed XML
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    titles = [e.text for e in root.iter("{http://www.w3.org/2000/svg}title")]
    assert any(t.startswith("spin_three_quarters (") for t in titles)


def test_format_option_picks_the_writer(tmp_path, target):
    t = target(python311(), "split.py")
    out = tmp_path / "profile.data"
    r = run_gil_prof("-p", t.pid, "-d", "1s", "-o", out, "--format", "pprof")
    assert r.returncode == 0, r.stderr
    assert out.read_bytes()[:2] == b"\x1f\x8b"  # gzip
    assert sum(s["values"][0] for s in pprof_tool.raw(out).samples) > 0


# --- GIL states of a real recording, and the GIL timeline -------------------

CONTENTION = {
    "trace": "c.trace.json",
    "pprof": "c.pb.gz",
    "speedscope": "c.speedscope.json",
    "folded": "c.folded",
}


class Contention:
    """Two threads spinning in Python, recorded with a timeline; the exact
    tracer's waiting share of each thread over the same window."""

    def __init__(self, directory, result, workers, exact):
        self.dir = directory
        self.stderr = result.stderr
        self.workers = workers
        self.exact = exact
        self.doc = json.loads(self.path("trace").read_text())
        self.folded = parse_folded(self.path("folded"))

    def path(self, fmt):
        return self.dir / CONTENTION[fmt]


def record_timeline(python, directory, seconds, *extra, outputs=CONTENTION):
    t = Target(python, "gil_contend.py", 2, 3600)
    try:
        args = []
        for name in outputs.values():
            args += ["-o", directory / name]
        # 1000 Hz: each thread holds the GIL 5 ms at a time (the switch
        # interval); slower sampling misses runs that short.
        r = run_gil_prof("-p", t.pid, "-d", "%gs" % seconds, "-r", 1000, "-v", *args, *extra)
    finally:
        t.kill()
    assert r.returncode == 0, r.stderr
    return r, [int(x) for x in t.ready_fields]


@pytest.fixture(scope="module")
def contention(tmp_path_factory):
    d = tmp_path_factory.mktemp("contention")
    python = python311()
    t = Target(python, "gil_contend.py", 2, 3600)
    tracer = None
    try:
        # Inside the try: a tracer that cannot start must not leave the
        # target spinning for an hour.
        tracer = subprocess.Popen([str(GILWAIT), str(t.pid), str(libpython(python)), "60"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert tracer.stdout.readline().strip() == "ready", tracer.stderr.read()
        args = []
        for name in CONTENTION.values():
            args += ["-o", d / name]
        r = run_gil_prof("-p", t.pid, "-d", "2s", "-r", 1000, "-v", *args)
        time.sleep(0.2)  # a tracer snapshot past the end of the recording
    finally:
        try:
            if tracer:
                tracer.terminate()
                text, err = tracer.communicate(timeout=30)
        finally:
            t.kill()
    assert tracer.returncode in (0, -15), err
    assert r.returncode == 0, r.stderr
    t0, t1 = window(r.stderr)
    snaps = tracer_totals(text)
    workers = [int(x) for x in t.ready_fields]
    exact = {tid: (value_at(snaps, t1, tid) - value_at(snaps, t0, tid)) / (t1 - t0)
             for tid in workers}
    return Contention(d, r, workers, exact)


def timeline_shares(totals, tid):
    per = totals[tid]
    return {k: v / sum(per.values()) for k, v in per.items()}


def held_intervals_disjoint(doc):
    """The GIL has one holder: held intervals of all threads never overlap."""
    held = sorted((x["ts"], x["ts"] + x["dur"], x["tid"]) for x in doc["traceEvents"]
                  if x["ph"] == "X" and x["name"] == "holding")
    for a, b in zip(held, held[1:]):
        assert b[0] >= a[1] - chrometrace_rules.EPS_US, ("two holders at once", a, b)
    return held


def assert_timeline_matches_samples(rec_doc, folded, workers, tolerance=0.10):
    """Holding and waiting shares of each worker: timeline vs sampled."""
    totals, _ = chrometrace_rules.gil_timeline(rec_doc)
    sampled = thread_states(folded)
    for tid in workers:
        tl, s = timeline_shares(totals, tid), shares(sampled[tid])
        for state in ("holding", "waiting"):
            assert abs(tl[state] - s.get(state, 0)) <= tolerance, (tid, state, tl, s)
    return totals


def spin_frame(frame):
    parts = frame_parts(frame)
    return parts and parts[0] == "spin" and parts[1].endswith("gil_contend.py")


def test_timeline_follows_the_trace_rules(contention):
    doc = contention.doc
    totals, handoffs = chrometrace_rules.gil_timeline(doc)
    assert doc["otherData"]["gil_events"] == "uprobes"
    assert doc["otherData"]["truncated"] is False
    assert "wrote %s (chrometrace)" % contention.path("trace") in contention.stderr
    names = chrometrace_rules.thread_names(doc)
    assert {names[w] for w in contention.workers} == {"spin-0", "spin-1"}
    # both workers are there the whole recording: their slices cover it
    length = doc["otherData"]["duration_us"]
    for tid in contention.workers:
        assert sum(totals[tid].values()) == pytest.approx(length, abs=0.01), (tid, totals[tid])
    held = held_intervals_disjoint(doc)
    assert sum(b - a for a, b, _ in held) >= 0.8 * length  # someone holds it nearly always
    # one waiters counter, never more than the threads there are
    counts = [e["args"]["waiting"] for e in doc["traceEvents"] if e["ph"] == "C"]
    assert counts and max(counts) <= len(totals) and min(counts) >= 0


def test_timeline_agrees_with_exact_tracer_and_samples(contention):
    totals = assert_timeline_matches_samples(contention.doc, contention.folded, contention.workers)
    for tid in contention.workers:
        tl = timeline_shares(totals, tid)
        assert abs(tl["waiting"] - contention.exact[tid]) <= 0.05, (tid, tl, contention.exact)
        assert 0.3 <= tl["holding"] <= 0.7, (tid, tl)  # two threads share one GIL


def test_timeline_handoffs_carry_the_acquiring_stack(contention):
    doc = contention.doc
    _, handoffs = chrometrace_rules.gil_timeline(doc)
    workers = set(contention.workers)
    between = [h for h in handoffs if {h["args"]["from_tid"], h["args"]["to_tid"]} == workers]
    # the GIL changes hands every 5 ms (switch interval), ~400 times in 2 s
    assert len(between) >= 50, len(handoffs)
    with_stack = [h for h in between if h["args"]["stack"]]
    assert len(with_stack) >= 0.9 * len(between), (len(with_stack), len(between))
    body = function_lines("gil_contend.py", "spin")
    bad = [h for h in with_stack
           if not (spin_frame(h["args"]["stack"][0]) and frame_parts(h["args"]["stack"][0])[2] in body
                   and frame_parts(h["args"]["stack"][-1])[0] == "Thread._bootstrap")]
    assert not bad, ("acquiring stacks not in spin()", len(bad), bad[:3])  # innermost first
    # the acquiring thread holds the GIL from the hand-off on; the other not
    states = [(h["ts"], chrometrace_rules.state_at(doc, h["args"]["to_tid"], h["ts"] + 0.002),
               chrometrace_rules.state_at(doc, h["args"]["from_tid"], h["ts"] + 0.002))
              for h in between[:: max(1, len(between) // 20)]]
    assert all(to == "holding" != fr for _, to, fr in states), states


def test_pprof_tagfocus_on_a_real_recording(contention):
    path = contention.path("pprof")
    for state in ("waiting", "holding"):
        out, rows = pprof_tool.top(path, "-tagfocus=gil_state=%s" % state)
        # the spinning loop is where both threads hold and wait
        assert max(rows, key=lambda f: rows[f][0]) == "spin", (state, out)
        raw = pprof_tool.raw(path, "-tagfocus=gil_state=%s" % state)
        assert {s["labels"]["gil_state"] for s in raw.samples} == {state}
        mine = [s for s in raw.samples if int(s["labels"]["thread_id"]) in contention.workers]
        assert sum(s["values"][0] for s in mine) >= 0.9 * sum(s["values"][0] for s in raw.samples)
    # the same samples as the folded file, state by state
    for state in ("waiting", "holding"):
        raw = pprof_tool.raw(path, "-tagfocus=gil_state=%s" % state)
        folded = sum(c for f, c in contention.folded if f[1] == "gil:" + state)
        assert sum(s["values"][0] for s in raw.samples) == folded


def test_speedscope_profiles_per_state_on_a_real_recording(contention):
    doc = json.loads(contention.path("speedscope").read_text())
    speedscope_rules.check(doc)
    frames = doc["shared"]["frames"]
    by_name = {p["name"]: p for p in doc["profiles"]}
    for tid, name in zip(contention.workers, ("spin-0", "spin-1")):
        for state in ("holding", "waiting"):
            prof = by_name['Thread %d "%s" [gil: %s]' % (tid, name, state)]
            spin = sum(w for stack, w in zip(prof["samples"], prof["weights"])
                       if frames[stack[-1]]["name"] == "spin")
            assert spin >= 0.9 * sum(prof["weights"]), (tid, state)


@pytest.mark.core
def test_timeline_on_every_interpreter(python, tmp_path):
    """Uprobes where the interpreter has take_gil/drop_gil symbols (pyenv,
    sid's debug builds), else a watchpoint on gil->locked (Debian's stripped
    python3.11, sid's release builds)."""
    outputs = {"trace": "t.trace.json", "folded": "t.folded"}
    # Once seen in a fresh-clone run: 10-13 % "released" (on CPU between
    # dropping the GIL and blocking for it) for 3 of 10 interpreters in
    # the same 20 s, 0.1-0.3 % in every other run, and not reproduced by
    # loading the CPUs (preempted threads stay holding or waiting): the
    # VM's host, not gil-prof. A second recording decides; a real fault
    # fails both.
    for attempt in (1, 2):
        r, workers = record_timeline(python, tmp_path, 1.5, outputs=outputs)
        doc = json.loads((tmp_path / outputs["trace"]).read_text())
        source = gil_events_expected(python)
        assert doc["otherData"]["gil_events"] == source, r.stderr
        totals = assert_timeline_matches_samples(doc, parse_folded(tmp_path / outputs["folded"]),
                                                 workers)
        held_intervals_disjoint(doc)
        short = {tid: tl for tid, tl in ((w, timeline_shares(totals, w)) for w in workers)
                 if tl["holding"] + tl["waiting"] < 0.9}
        if not short or attempt == 2:
            break
        print("attempt 1: %s" % short)
    assert not short, short
    _, handoffs = chrometrace_rules.gil_timeline(doc)
    assert len(handoffs) >= 20, len(handoffs)


def test_timeline_watchpoint_where_uprobes_would_do(tmp_path):
    """--gil-trace watchpoint on a build with symbols, where the GIL lives
    in the interpreter state (3.12+): the same timeline as the samples."""
    python = next(v for k, v in sorted(INTERPRETERS.items()) if k.startswith("pyenv-3.13"))
    outputs = {"trace": "w.trace.json", "folded": "w.folded"}
    r, workers = record_timeline(python, tmp_path, 1.5, "--gil-trace", "watchpoint",
                                 outputs=outputs)
    doc = json.loads((tmp_path / outputs["trace"]).read_text())
    assert doc["otherData"]["gil_events"] == "watchpoint", r.stderr
    assert "GIL watchpoint at 0x" in r.stderr
    assert_timeline_matches_samples(doc, parse_folded(tmp_path / outputs["folded"]), workers)
    held_intervals_disjoint(doc)


def test_timeline_checker_catches_bad_files(contention):
    """The trace checker is not a rubber stamp: each broken rule is caught."""
    good = contention.doc

    def first(doc, ph, name=None):
        return next(e for e in doc["traceEvents"] if e["ph"] == ph and name in (None, e["name"]))

    def overlap(doc):  # a slice reaching into the next one of its thread
        x = first(doc, "X")
        x["dur"] += 1000

    def wrong_holder(doc):  # the GIL track names another thread
        x = next(e for e in doc["traceEvents"]
                 if e["ph"] == "X" and e["tid"] > chrometrace_rules.PID_MAX_LIMIT)
        x["args"]["holder_tid"] = 1

    breakers = [
        overlap,
        wrong_holder,
        lambda d: first(d, "X").pop("dur"),
        lambda d: first(d, "X").update(ph="Q"),
        lambda d: first(d, "M", "thread_name")["args"].pop("name"),
        lambda d: first(d, "i")["args"].update(to_tid=1),
        lambda d: first(d, "X", "holding").update(name="napping"),
        lambda d: d["traceEvents"].remove(  # a gap inside a thread's timeline
            [e for e in d["traceEvents"] if e["ph"] == "X" and e["name"] == "waiting"][10]),
    ]
    for i, breaker in enumerate(breakers):
        bad = json.loads(json.dumps(good))
        breaker(bad)
        try:
            chrometrace_rules.gil_timeline(bad)
        except (AssertionError, jsonschema.ValidationError):
            continue
        pytest.fail("breaker %d not caught" % i)
    # nesting is allowed, partial overlap is not
    nested = {"traceEvents": [
        {"name": "a", "ph": "X", "pid": 1, "tid": 1, "ts": 0, "dur": 10},
        {"name": "b", "ph": "X", "pid": 1, "tid": 1, "ts": 2, "dur": 8},
        {"name": "c", "ph": "X", "pid": 1, "tid": 2, "ts": 5, "dur": 10}]}
    chrometrace_rules.check(nested)
    nested["traceEvents"][1]["dur"] = 9
    with pytest.raises(AssertionError):
        chrometrace_rules.check(nested)


def test_timeline_needs_wall_mode_and_symbols(tmp_path, target):
    stripped = INTERPRETERS.get("debian-3.11")
    assert stripped, "Debian's /usr/bin/python3.11 is missing (see README, Tests)"
    t = target(stripped, "gil_contend.py", 1, 3600)
    r = run_gil_prof("-p", t.pid, "-d", "1s", "--mode", "cpu", "-o", tmp_path / "x.trace.json")
    assert r.returncode == 2 and "gil-prof: error: " in r.stderr and "--mode wall" in r.stderr
    r = run_gil_prof("-p", t.pid, "-d", "1s", "--gil-trace", "uprobes",
                     "-o", tmp_path / "x.trace.json")
    assert r.returncode == 5, r.stderr
    assert "gil-prof: error: " in r.stderr and "--gil-trace watchpoint" in r.stderr, r.stderr
    r = run_gil_prof("-p", t.pid, "-d", "1s", "--gil-trace", "watchpoint", "-o", tmp_path / "x.svg")
    assert r.returncode == 2 and "--gil-trace goes with a timeline" in r.stderr, r.stderr
    assert not list(tmp_path.iterdir())
