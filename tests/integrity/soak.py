#!/usr/bin/python3
"""A long recording of a busy multi-threaded target, watching gil-prof's memory.

    sudo tests/integrity/soak.py --seconds 1800        # the documented long run
    make soak SOAK_SECONDS=60                          # the CI form (test_soak.py)

Starts tests/targets/busy_threads.py (50 threads by default), records it
with ./gil-prof (wall mode, 100 Hz, pprof + folded) for --seconds, reads
gil-prof's /proc/PID/status once a second and prints its resident memory
over time: VmRSS (everything), RssAnon (its heap: what a leak grows),
the peak (ru_maxrss), samples and lost samples.
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "functional"))
from conftest import GIL_PROF, INTERPRETERS, TARGETS, parse_folded  # noqa: E402


def status_kb(pid):
    """{field: kB} of the memory lines of /proc/PID/status; {} once gone."""
    out = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in ("VmRSS", "RssAnon", "RssFile", "RssShmem", "VmHWM"):
                    out[key] = int(rest.split()[0])
    except OSError:
        pass
    return out


def default_python():
    return next(v for k, v in sorted(INTERPRETERS.items()) if k.startswith("pyenv-3.11"))


def run(seconds, python=None, threads=50, outdir=None, extra=(), log=None, nice=0):
    """Record for `seconds`; returns a dict of what was measured."""
    python = python or default_python()
    outdir = pathlib.Path(outdir or tempfile.mkdtemp(prefix="gil-prof-soak-"))
    # the target may be niced on a shared machine (gil-prof is not)
    target = subprocess.Popen([python, str(TARGETS / "busy_threads.py"), str(threads)],
                              stdout=subprocess.PIPE, text=True,
                              preexec_fn=(lambda: os.nice(nice)) if nice else None)
    try:
        line = target.stdout.readline()
        assert line.startswith("ready"), line
        pb, folded = outdir / "soak.pb.gz", outdir / "soak.folded"
        errpath = outdir / "gil-prof.stderr"
        with open(errpath, "w") as err:
            prof = subprocess.Popen(
                [str(GIL_PROF), "-p", str(target.pid), "-d", "%ds" % seconds,
                 "-o", str(pb), "-o", str(folded), *extra],
                stdout=subprocess.DEVNULL, stderr=err)
            start = time.monotonic()
            series = []  # (seconds since start, {field: kB})
            while True:
                # wait4, not poll(): its rusage gives the peak RSS
                pid, status, usage = os.wait4(prof.pid, os.WNOHANG)
                if pid:
                    break
                kb = status_kb(prof.pid)
                if kb:
                    series.append((time.monotonic() - start, kb))
                    if log and len(series) % 60 == 0:
                        log("%6.0f s  VmRSS %6d kB  RssAnon %6d kB" %
                            (series[-1][0], kb.get("VmRSS", 0), kb.get("RssAnon", 0)))
                time.sleep(1.0)
            prof.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.monotonic() - start
    finally:
        target.kill()
        target.wait()
    stderr = errpath.read_text()
    stacks = parse_folded(folded) if folded.exists() else []
    return {
        "returncode": prof.returncode,
        "stderr": stderr,
        "seconds": seconds,
        "elapsed": elapsed,
        "threads": threads,
        "series": series,
        "peak_rss_kb": usage.ru_maxrss,
        "samples": sum(c for _, c in stacks),
        "stacks": len(stacks),
        "thread_roots": len({frames[0] for frames, _ in stacks}),
        "pprof_bytes": pb.stat().st_size if pb.exists() else 0,
        "outdir": str(outdir),
    }


def at(series, when, field):
    """The field's value at the first reading at or after `when` seconds."""
    for t, kb in series:
        if t >= when and field in kb:
            return kb[field]
    return series[-1][1].get(field, 0)


def summary(r):
    s = r["series"]
    end = s[-1][0] if s else 0
    rows = ["gil-prof soak: %d threads, %d s (%.0f s wall), exit %d" %
            (r["threads"], r["seconds"], r["elapsed"], r["returncode"]),
            "peak RSS (ru_maxrss): %.1f MB" % (r["peak_rss_kb"] / 1024)]
    for frac in (0.1, 0.25, 0.5, 0.75, 1.0):
        rows.append("  at %5.0f s: VmRSS %7.1f MB, RssAnon %7.1f MB" %
                    (frac * end, at(s, frac * end, "VmRSS") / 1024,
                     at(s, frac * end, "RssAnon") / 1024))
    rows.append("samples %d in %d distinct stacks from %d threads; pprof %d bytes" %
                (r["samples"], r["stacks"], r["thread_roots"], r["pprof_bytes"]))
    rows += [l for l in r["stderr"].splitlines() if "samples (" in l or "warning" in l]
    return "\n".join(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=int, default=1800)
    ap.add_argument("--threads", type=int, default=50)
    ap.add_argument("--python")
    ap.add_argument("--nice", type=int, default=0, help="run the target at this niceness")
    ap.add_argument("--json", help="also write the measurements here")
    args = ap.parse_args()
    r = run(args.seconds, args.python, args.threads, nice=args.nice,
            log=lambda m: print(m, file=sys.stderr, flush=True))
    print(summary(r))
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(r, indent=1))
    return 0 if r["returncode"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
