#!/usr/bin/env python3
"""Per interpreter: BPF cost per sample, and the line-table check's counts.

    sudo bench/version_cost.py [--seconds 3] [--depth 20] [--rate 1000]
                               [--only pyenv-3.12,sid-3.15,...] [--out DIR]

For every interpreter the functional tests run (pyenv's 3.9-3.13, Debian's
stripped static 3.11, Debian sid's 3.14 and 3.15 and their debug builds in
the sid root: bench/benchlib/roots.py):

  ns/sample   the kernel's accounting of on_cpu_sample (its run_time_ns,
              from gil-prof -v) over the target's samples, while gil-prof
              --mode cpu records tests/targets/deep.py (one thread spinning
              DEPTH Python frames deep) launched, at RATE Hz for SECONDS: what
              a sample of the target costs in all, the program's early exits
              on the other CPUs' ticks included (as bench/run.py counts);
  ns/run      the same time over all the program's runs;
  frames      the mean Python stack depth of those samples (the walk's work);
  linecheck   tests/tools/linecheck over tests/targets/dump_lines.py: code
              objects and instruction offsets decoded by gil-prof against the
              interpreter's own co_lines()/co_positions(), and mismatches.

Writes DIR/versions.json and DIR/versions.md (default bench/results).
"""
import argparse
import glob
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from benchlib import roots  # noqa: E402

DEEP = ROOT / "tests" / "targets" / "deep.py"
DUMP = ROOT / "tests" / "targets" / "dump_lines.py"
LINECHECK = ROOT / ".output" / "tests" / "linecheck"
PROG = re.compile(r"bpf prog on_cpu_sample\s+(\d+) runs, (\d+) ns")
SID = ["sid-3.14", "sid-3.14d", "sid-3.15", "sid-3.15d"]


def interpreters():
    """[(id, spec)] in the functional tests' order."""
    out = []
    home = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    newest = {}
    for exe in glob.glob(os.path.join(home, "versions", "3.*", "bin", "python3")):
        ver = pathlib.Path(exe).parents[1].name
        if re.match(r"^3\.(9|1[0-3])\.\d+$", ver):
            minor = ".".join(ver.split(".")[:2])
            key = tuple(int(x) for x in ver.split("."))
            if minor not in newest or key > newest[minor][0]:
                newest[minor] = (key, exe)
    for minor in sorted(newest, key=lambda m: tuple(map(int, m.split(".")))):
        out.append(("pyenv-" + minor, newest[minor][1]))
    if os.path.exists("/usr/bin/python3.11"):
        out.append(("debian-3.11", "/usr/bin/python3.11"))
    out += [(s, s) for s in SID]
    return out


def bpf_cost(python, seconds, depth, rate):
    tmp = tempfile.mkdtemp(prefix="gp-vcost-", dir="/tmp")
    folded = os.path.join(tmp, "out.folded")
    r = subprocess.run([str(ROOT / "gil-prof"), "record", "-v", "--mode", "cpu", "-r", str(rate),
                        "-o", folded, "--", python, str(DEEP), str(depth), str(seconds)],
                       capture_output=True, text=True, timeout=seconds * 20 + 120)
    if r.returncode != 0:
        return {"error": r.stderr.strip().splitlines()[-1:] or ["exit %d" % r.returncode]}
    m = PROG.search(r.stderr)
    samples = frames = total = 0
    with open(folded) as f:
        for line in f:
            stack, _, n = line.rstrip("\n").rpartition(" ")
            total += int(n)
            if "bottom (" not in stack:
                continue
            samples += int(n)
            frames += int(n) * sum(1 for fr in stack.split(";") if ".py:" in fr)
    os.unlink(folded)
    os.rmdir(tmp)
    if not m or not int(m.group(1)) or not total:
        return {"error": "no on_cpu_sample accounting in -v, or no samples"}
    runs, ns = int(m.group(1)), int(m.group(2))
    return {"runs": runs, "samples": total, "ns_sample": ns / total, "ns_run": ns / runs,
            "frames": frames / samples if samples else None}


def linecheck(python):
    dump = subprocess.run([python, str(DUMP)], capture_output=True, timeout=300)
    if dump.returncode != 0:
        return {"error": dump.stderr.decode(errors="replace").strip()[-200:]}
    r = subprocess.run([str(LINECHECK)], input=dump.stdout, capture_output=True, timeout=300)
    m = re.search(r"checked (\d+) code objects, (\d+) offsets, (\d+) mismatches",
                  r.stdout.decode())
    if not m:
        return {"error": (r.stdout + r.stderr).decode(errors="replace").strip()[-200:]}
    return {"code_objects": int(m.group(1)), "offsets": int(m.group(2)),
            "mismatches": int(m.group(3))}


def version(python):
    r = subprocess.run([python, "-c", "import sys; print(sys.version.split()[0])"],
                       capture_output=True, text=True, timeout=120)
    return r.stdout.strip() or "?"


def markdown(data):
    L = ["# gil-prof per interpreter: BPF cost per sample, line tables\n",
         "%s, Linux %s, made by `bench/version_cost.py`: gil-prof --mode cpu at %d Hz for "
         "%g s on tests/targets/deep.py (%d frames deep, one thread spinning); ns/sample is "
         "the kernel's accounting of on_cpu_sample (run_time_ns) over the target's samples "
         "(its early exits on other CPUs' ticks included), ns/run over all its runs. "
         "linecheck: "
         "every instruction offset of ~1,800 code objects decoded by gil-prof against the "
         "interpreter's co_lines()/co_positions().\n" % (
             data["started"], data["kernel"], data["rate"], data["seconds"], data["depth"]),
         "| Interpreter | Version | BPF ns/sample | BPF ns/run | Python frames/sample | "
         "Samples | Code objects | Offsets | Mismatches |",
         "|---|---|---|---|---|---|---|---|---|"]
    for row in data["rows"]:
        c, l = row["cost"], row["linecheck"]
        cost = ("%.0f" % c["ns_sample"], "%.0f" % c["ns_run"],
                "%.1f" % c["frames"] if c.get("frames") else "-",
                str(c["samples"])) if "error" not in c else ("failed: %s" % c["error"], "-", "-", "-")
        lines = (str(l["code_objects"]), str(l["offsets"]), str(l["mismatches"])) \
            if "error" not in l else ("failed: %s" % l["error"], "-", "-")
        L.append("| %s | %s | %s | %s |" % (row["id"], row["version"], " | ".join(cost),
                                           " | ".join(lines)))
    return "\n".join(L) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--depth", type=int, default=20)
    ap.add_argument("--rate", type=int, default=1000)
    ap.add_argument("--only", help="comma-separated interpreter ids")
    ap.add_argument("--out", default=str(HERE / "results"))
    a = ap.parse_args()
    if not LINECHECK.exists():
        raise SystemExit("bench: error: %s not built (make tools)" % LINECHECK)
    rows = []
    for iid, spec in interpreters():
        if a.only and iid not in a.only.split(","):
            continue
        python = roots.resolve(spec).python
        row = {"id": iid, "version": version(python),
               "cost": bpf_cost(python, a.seconds, a.depth, a.rate),
               "linecheck": linecheck(python)}
        print("bench: %s %s: %s; %s" % (iid, row["version"], row["cost"], row["linecheck"]),
              file=sys.stderr, flush=True)
        rows.append(row)
    data = {"started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "kernel": os.uname().release, "rate": a.rate, "seconds": a.seconds,
            "depth": a.depth, "rows": rows}
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, text in (("versions.json", json.dumps(data, indent=1) + "\n"),
                       ("versions.md", markdown(data))):
        tmp = out / (name + ".tmp")
        tmp.write_text(text)
        tmp.replace(out / name)
    bad = [r["id"] for r in rows if "error" in r["cost"] or "error" in r["linecheck"]
           or r["linecheck"]["mismatches"]]
    if bad:
        print("bench: failed or mismatched: %s" % ", ".join(bad), file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
