"""The CI form of the long run (tests/integrity/soak.py): a busy 50-thread
target recorded for SOAK_SECONDS (60 by default, `make soak`); gil-prof's
memory levels off and the whole aggregate is written at the end.
"""
import os
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "functional"))
import pprof_tool  # noqa: E402
import soak  # noqa: E402
from conftest import assert_no_sanitizer_report, parse_folded  # noqa: E402

SECONDS = int(os.environ.get("SOAK_SECONDS", "60"))
THREADS = 50


def test_memory_levels_off(tmp_path):
    # --no-blame: the sampler's and the profile's memory level off; the blame
    # table does not yet (one entry per waiting stack x holder x holder
    # stack: 50 busy threads add ~100 KB/s, README "Limits"), and a leak
    # here would hide behind it.
    r = soak.run(SECONDS, threads=THREADS, outdir=tmp_path, extra=("--no-blame",))
    print(soak.summary(r))
    assert_no_sanitizer_report(r["stderr"])
    assert r["returncode"] == 0, r["stderr"]
    series = r["series"]
    assert len(series) >= SECONDS // 2, len(series)

    # Memory levels off: past the first quarter (code objects, names and
    # stacks of a program seen for the first time) the heap grows by less
    # than 2 MB + 10 %, and so does the whole resident set. A leak per
    # sample (~500,000 of them here) or per context switch would not.
    # (late: still recording; the last readings may fall after the ring
    # buffer is unmapped, while the outputs are built.)
    for field in ("RssAnon", "VmRSS"):
        early = soak.at(series, SECONDS / 4, field)
        late = soak.at(series, SECONDS * 0.95, field)
        assert late - early < 2048 + early // 10, (field, early, late)
    # Building the outputs at the end adds little on top.
    early = soak.at(series, SECONDS / 4, "VmRSS")
    assert r["peak_rss_kb"] - early < 8192 + early // 10, (early, r["peak_rss_kb"])

    # The aggregate is all there at the end: every thread, its whole time
    # (wall mode: 100 samples a second per thread, within 10 %).
    assert r["thread_roots"] == THREADS + 1, r["thread_roots"]
    expected = (THREADS + 1) * 100 * SECONDS
    assert abs(r["samples"] - expected) < expected / 10, (r["samples"], expected)
    assert "(0 lost)" in r["stderr"], r["stderr"]
    # every kind of work of the target is in it (the GIL is one CPU's worth
    # of 50 threads' time: the Python work is small next to the waiting)
    leaves = {frames[-1].split(" (")[0] for frames, _ in parse_folded(
        pathlib.Path(r["outdir"]) / "soak.folded")}
    for name in ("arithmetic", "strings", "hashing", "round_trip.<locals>.<dictcomp>", "nap"):
        assert name in leaves, leaves
    # and the pprof file of the same recording parses, with the same total
    raw = pprof_tool.run(pathlib.Path(r["outdir"]) / "soak.pb.gz", "-raw")
    assert "samples: %d, lost samples: 0" % r["samples"] in raw
