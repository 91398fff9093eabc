"""`go tool pprof` (Debian's golang-go) as the judge of gil-prof's pprof files.

pprof's parser rejects malformed profiles (exit status 1: missing string 0,
value counts that differ from the sample types, dangling ids...), so every
call here also validates the file.
"""
import os
import re
import shutil
import subprocess
import tempfile


def go():
    exe = shutil.which("go") or ("/usr/bin/go" if os.path.exists("/usr/bin/go") else None)
    assert exe, "go is not installed (make deps installs golang-go)"
    return exe


def run(path, *args):
    """stdout of `go tool pprof -symbolize=none ARGS PATH`; fails on an error exit."""
    home = tempfile.mkdtemp(prefix="gp-pprof-")
    try:
        r = subprocess.run(
            [go(), "tool", "pprof", "-symbolize=none", *args, str(path)],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "HOME": home, "PPROF_TMPDIR": home},
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)
    assert r.returncode == 0, "go tool pprof %s failed: %s" % (" ".join(args), r.stderr)
    return r.stdout


SAMPLE_RE = re.compile(r"^\s+(-?\d+(?:\s+-?\d+)*):((?:\s+\d+)*)\s*$")
LABEL_RE = re.compile(r"(\w+):\[([^\]]*)\]")
LOCATION_RE = re.compile(
    r"^\s+(?P<id>\d+): 0x(?P<addr>[0-9a-f]+)(?: M=(?P<m>\d+))? (?P<name>.*) "
    r"(?P<file>\S*):(?P<line>-?\d+) s=(?P<start>-?\d+)(?:\((?P<sys>.*)\))?$"
)


class Raw:
    """`go tool pprof -raw`, parsed: sample types, samples with labels, locations."""

    def __init__(self, text):
        self.text = text
        self.comments = [l[len("Comment: "):] for l in text.splitlines() if l.startswith("Comment: ")]
        self.types = []
        self.samples = []  # {"values": [...], "locs": [...], "labels": {key: value}}
        self.locations = {}  # id -> {"name", "file", "line", "start", "sys", "addr", "mapping"}
        self.mappings = []
        section = None
        for line in text.splitlines():
            if line in ("Samples:", "Locations", "Mappings"):
                section = line
                continue
            if section == "Samples:":
                self._sample_line(line)
            elif section == "Locations":
                m = LOCATION_RE.match(line)
                if m:
                    self.locations[int(m["id"])] = {
                        "name": m["name"],
                        "file": m["file"],
                        "line": int(m["line"]),
                        "start": int(m["start"]),
                        "sys": m["sys"] if m["sys"] is not None else m["name"],
                        "addr": int(m["addr"], 16),
                        "mapping": int(m["m"]) if m["m"] else 0,
                    }
            elif section == "Mappings" and line.strip():
                self.mappings.append(line.strip())

    def _sample_line(self, line):
        if not self.types:
            self.types = [t.replace("[dflt]", "") for t in line.split()]
            return
        m = SAMPLE_RE.match(line)
        if m:
            self.samples.append(
                {
                    "values": [int(v) for v in m.group(1).split()],
                    "locs": [int(v) for v in m.group(2).split()],
                    "labels": {},
                }
            )
            return
        for key, value in LABEL_RE.findall(line):
            self.samples[-1]["labels"][key] = value

    def stack(self, sample):
        """Function names of a sample, leaf first."""
        return [self.locations[i]["name"] for i in sample["locs"]]


def raw(path, *args):
    return Raw(run(path, "-raw", *args))


TOP_RE = re.compile(r"^\s*([\d.]+)([a-z]*)\s+\S+%\s+\S+%\s+([\d.]+)([a-z]*)\s+\S+%\s+(.+)$")


def top(path, *args):
    """{function: (flat, cum)} from `-top`, in the report's unit (ns, ms, s...)."""
    out = run(path, "-top", "-nodecount=1000", *args)
    scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0, "": 1.0, "mins": 60.0, "hrs": 3600.0}
    rows = {}
    for line in out.splitlines():
        m = TOP_RE.match(line)
        if m:
            flat = float(m.group(1)) * scale.get(m.group(2), 1.0)
            cum = float(m.group(3)) * scale.get(m.group(4), 1.0)
            rows[m.group(5).strip()] = (flat, cum)
    return out, rows
