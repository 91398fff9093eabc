"""gil-prof agent: every Python process on the host as Prometheus metrics.

The agent runs as it would on a server (host-wide: it also profiles any
other Python process of the machine; assertions are on the tests' own
targets, found by pid). A real Prometheus (Debian's package) scrapes it
every second on loopback, and the rates it computes with its own query
API are compared with the targets' known truth:

  - 4 threads contending for the GIL: about 1 s/s holding, 3 s/s waiting
    (the GIL is always held by one of them; the others wait);
  - 1 thread spinning under Debian's stripped static python3.11, started
    after the agent (found through the exec tracepoint): 1 s/s holding,
    nothing waiting.

Also: `promtool check metrics` accepts the output; only GET /metrics
is served (/ is 404); a Python it cannot profile is listed once with its
reason; a process in a container's cgroup gets the container's short id;
a process that exits loses its series; SIGTERM and SIGINT exit 0
and leaves no BPF program, map or link behind; --profile-dir writes pprof
files (go tool pprof reads them, GIL-state labels included) and keeps
within its count and byte limits, removing the oldest and nothing else.
"""
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

import pprof_tool
from conftest import (GIL_PROF, INTERPRETERS, TARGETS, assert_no_sanitizer_report,
                      find_old_interpreters, wait_for)
from test_faults import bpf_fds, kernel_ids

SERIES_RE = re.compile(r"^([a-z_]+)(?:\{(.*)\})? (\S+)$")
LABEL_RE = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
TOLERANCE = 0.20


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse_metrics(text):
    """[(name, {label: value}, float)] of every sample line."""
    out = []
    for line in text.splitlines():
        m = SERIES_RE.match(line)
        if m:
            labels = dict(LABEL_RE.findall(m.group(2) or ""))
            out.append((m.group(1), labels, float(m.group(3))))
    return out


def of_pid(samples, name, pid):
    return {l.get("state", ""): v for n, l, v in samples if n == name and l.get("pid") == str(pid)}


def http(url, method="GET"):
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode()


class Agent:
    def __init__(self, *args, listen=None):
        self.port = free_port()
        self.listen = listen or "127.0.0.1:%d" % self.port
        self.url = "http://127.0.0.1:%d" % self.port
        self.err = tempfile.TemporaryFile(mode="w+")
        self.proc = subprocess.Popen(
            [str(GIL_PROF), "agent", "--listen", self.listen, *map(str, args)],
            stdout=subprocess.DEVNULL, stderr=self.err, text=True, start_new_session=True)
        ok = wait_for(lambda: self.proc.poll() is not None or self._up(), timeout=60, step=0.2)
        assert ok and self.proc.poll() is None, "agent did not start: " + self.stderr()

    def _up(self):
        try:
            return http(self.url + "/metrics")[0] == 200
        except OSError:
            return False

    def stderr(self):
        self.err.seek(0)
        return self.err.read()

    def metrics(self):
        status, ctype, body = http(self.url + "/metrics")
        assert status == 200, (status, body)
        assert ctype.startswith("text/plain; version=0.0.4"), ctype
        return body

    def wait_profiled(self, pid, timeout=60):
        """Until pid's time shows in the metrics (its session runs)."""
        def seen():
            s = parse_metrics(self.metrics())
            return sum(of_pid(s, "gil_prof_seconds_total", pid).values()) > 0
        assert wait_for(seen, timeout=timeout, step=0.3), (
            "process %d never profiled\n%s" % (pid, self.stderr()))

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=60)
            assert_no_sanitizer_report(self.stderr())
            return rc
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
            raise AssertionError("agent did not stop on %s: %s" % (signal.Signals(sig).name,
                                                                   self.stderr()))

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


class Program:
    """A target in its own session, killed with its whole group."""

    def __init__(self, python, script, *args):
        self.proc = subprocess.Popen([python, str(TARGETS / script), *map(str, args)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     start_new_session=True)
        self.pid = self.proc.pid
        line = self.proc.stdout.readline()
        if not line.startswith("ready"):
            self.kill()
            raise AssertionError("target did not start: %r %s" % (line, self.proc.stderr.read()))
        self.ready_fields = line.split()[1:]

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)


@pytest.fixture
def started():
    """Start agents and targets; teardown kills every one still running."""
    things = []

    def start(cls, *args, **kw):
        t = cls(*args, **kw)
        things.append(t)
        return t

    yield start
    for t in reversed(things):
        t.kill()


def interpreter(name):
    exe = INTERPRETERS.get(name)
    if not exe:
        pytest.fail("interpreter %s is missing (see README, Tests)" % name)
    return exe


# --- the endpoint -------------------------------------------------------------


def test_endpoint_and_promtool(started, tmp_path):
    t = started(Program, interpreter("pyenv-3.12"), "gil_contend.py", 2)
    a = started(Agent)
    a.wait_profiled(t.pid)
    body = a.metrics()
    (tmp_path / "metrics.txt").write_text(body)
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing (make deps-test installs Debian's prometheus)"
    r = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    samples = parse_metrics(body)
    info = [l for n, l, _ in samples if n == "gil_prof_target_info" and l["pid"] == str(t.pid)]
    assert info and info[0]["supported"] == "1" and info[0]["python_version"].startswith("3.12")
    assert info[0]["process"] == "python3"
    # every state of the process has a series; HELP and TYPE for each family
    assert set(of_pid(samples, "gil_prof_seconds_total", t.pid)) == {
        "holding", "waiting", "released", "idle"}
    for family in ("gil_prof_seconds_total", "gil_prof_contention_seconds_total",
                   "gil_prof_gil_switches_total", "gil_prof_target_info",
                   "gil_prof_agent_samples_total", "gil_prof_agent_cpu_seconds_total"):
        assert "# TYPE %s " % family in body and "# HELP %s " % family in body, family
    # two threads contend: the interpreter counts GIL switches
    assert of_pid(samples, "gil_prof_gil_switches_total", t.pid)[""] > 10
    # the agent's own cost is in its health metrics
    cpu = {l["mode"]: v for n, l, v in samples if n == "gil_prof_agent_cpu_seconds_total"}
    assert cpu["user"] + cpu["system"] > 0, cpu
    # GET /metrics only: / says where the metrics are, with a 404
    assert http(a.url + "/")[0] == 404 and "/metrics" in http(a.url + "/")[2]
    assert http(a.url + "/other")[0] == 404
    assert http(a.url + "/metrics/x")[0] == 404
    assert http(a.url + "/metrics", method="POST")[0] == 405
    assert http(a.url + "/metrics", method="DELETE")[0] == 405
    assert a.stop() == 0, a.stderr()


def test_listen_refused(started):
    """A taken port is a clear error with its own exit code (13), not a crash."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = subprocess.run([str(GIL_PROF), "agent", "--listen", "127.0.0.1:%d" % port],
                           capture_output=True, text=True, timeout=60)
    assert r.returncode == 13, r.stderr
    assert "cannot serve metrics at 127.0.0.1:%d" % port in r.stderr
    r = subprocess.run([str(GIL_PROF), "agent", "--listen", "9464"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 2 and "invalid --listen '9464'" in r.stderr, r.stderr


def test_listen_ipv6_loopback(started):
    port = free_port()
    p = subprocess.Popen([str(GIL_PROF), "agent", "--listen", "[::1]:%d" % port],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    try:
        url = "http://[::1]:%d/metrics" % port

        def up():
            try:
                return http(url)[0] == 200
            except OSError:
                return False
        assert wait_for(lambda: p.poll() is not None or up(), timeout=60, step=0.2)
        assert p.poll() is None
        # bound to ::1 only: IPv4 loopback is refused
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
        assert p.wait(timeout=60) == 0, p.stderr.read()


def test_unsupported_listed_once(started, tmp_path):
    """A Python gil-prof cannot profile: listed with its reason, once, not retried."""
    old = find_old_interpreters()
    exe = old.get(max(old, key=lambda v: [int(x) for x in v.split(".")])) if old else None
    assert exe, "no pyenv 3.6-3.8 or 2.7 interpreter (CI machines have them)"
    script = tmp_path / "sleeper.py"
    script.write_text("import sys, time\nsys.stdout.write('ready\\n')\nsys.stdout.flush()\n"
                      "time.sleep(600)\n")
    t = started(Program, exe, script)  # an absolute path: not under tests/targets
    a = started(Agent)

    def info():
        return [l for n, l, _ in parse_metrics(a.metrics())
                if n == "gil_prof_target_info" and l["pid"] == str(t.pid)]
    assert wait_for(info, timeout=60, step=0.3), a.stderr()
    assert info()[0]["supported"] == "0" and info()[0]["reason"] == "unsupported_version", info()
    assert not of_pid(parse_metrics(a.metrics()), "gil_prof_seconds_total", t.pid)
    time.sleep(3)
    notes = [l for l in a.stderr().splitlines() if "process %d " % t.pid in l]
    assert len(notes) == 1 and "not profiled" in notes[0], notes
    t.kill()
    assert wait_for(lambda: not info(), timeout=10, step=0.2), info()
    assert a.stop() == 0, a.stderr()


def test_container_label(started):
    """A process in a container's cgroup (cgroupfs driver: /docker/ID) gets its short id."""
    cid = "4f6c2a1b9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b"
    hier = pathlib.Path("/sys/fs/cgroup/pids")
    if not (hier / "cgroup.procs").exists():
        hier = pathlib.Path("/sys/fs/cgroup/unified")
    group = hier / "docker" / cid
    t = started(Program, interpreter("pyenv-3.12"), "gil_contend.py", 1)
    group.mkdir(parents=True, exist_ok=True)
    try:
        (group / "cgroup.procs").write_text(str(t.pid))
        a = started(Agent)
        a.wait_profiled(t.pid)
        labels = [l for n, l, _ in parse_metrics(a.metrics())
                  if n == "gil_prof_target_info" and l["pid"] == str(t.pid)]
        assert labels and labels[0]["container"] == cid[:12], labels
        assert a.stop() == 0, a.stderr()
    finally:
        t.kill()
        group.rmdir()
        (hier / "docker").rmdir()


def test_forked_workers_and_cpu_mode(started):
    """Workers forked after the agent started get their own series; in cpu mode
    a process's time is its on-CPU time (against the kernel's count of it)."""
    a = started(Agent, "--mode", "cpu", "-r", "97")
    pool = started(Program, interpreter("pyenv-3.11"), "pool.py", 2)
    workers = [int(p) for p in pool.ready_fields]
    assert len(workers) == 2, pool.ready_fields
    for w in workers:
        a.wait_profiled(w)
    w = workers[0]

    def sample():
        s = parse_metrics(a.metrics())
        return sum(of_pid(s, "gil_prof_seconds_total", w).values()), cpu_of(w), time.monotonic()
    t0, c0, m0 = sample()
    time.sleep(6)
    t1, c1, m1 = sample()
    body = a.metrics()
    assert "gil_prof_contention_seconds_total{" not in body  # wall mode only
    got, want = t1 - t0, c1 - c0
    assert want > 0.3 and abs(got - want) <= 0.25 * want, (got, want, m1 - m0)
    assert a.stop() == 0, a.stderr()


def cpu_of(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- against a real Prometheus --------------------------------------------------


class Prometheus:
    def __init__(self, target_port, workdir):
        self.port = free_port()
        cfg = workdir / "prometheus.yml"
        cfg.write_text(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
            "scrape_configs:\n  - job_name: gil-prof\n    static_configs:\n"
            "      - targets: ['127.0.0.1:%d']\n" % target_port)
        exe = shutil.which("prometheus")
        assert exe, "prometheus is missing (make deps-test installs Debian's prometheus)"
        self.log = open(workdir / "prometheus.log", "w")
        self.proc = subprocess.Popen(
            [exe, "--config.file=%s" % cfg, "--storage.tsdb.path=%s" % (workdir / "data"),
             "--web.listen-address=127.0.0.1:%d" % self.port],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        assert wait_for(lambda: self.proc.poll() is not None or self._ready(), timeout=60,
                        step=0.3) and self.proc.poll() is None, "prometheus did not start"

    def _ready(self):
        try:
            return http("http://127.0.0.1:%d/-/ready" % self.port)[0] == 200
        except OSError:
            return False

    def query(self, expr):
        """{pid: value} of an instant vector."""
        url = "http://127.0.0.1:%d/api/v1/query?%s" % (
            self.port, urllib.parse.urlencode({"query": expr}))
        status, _, body = http(url)
        assert status == 200, body
        data = json.loads(body)
        assert data["status"] == "success", data
        return {r["metric"].get("pid"): float(r["value"][1]) for r in data["data"]["result"]}

    def health(self):
        """The scrape target's health and last error, for a failure message."""
        status, _, body = http("http://127.0.0.1:%d/api/v1/targets" % self.port)
        if status != 200:
            return "targets: HTTP %d" % status
        return "; ".join("%s %s %s" % (t.get("scrapeUrl"), t.get("health"), t.get("lastError"))
                         for t in json.loads(body)["data"]["activeTargets"])

    def wait_scraped(self, pid, scrapes, timeout=60):
        """Until Prometheus holds scrapes samples of pid's series."""
        expr = 'count_over_time(gil_prof_seconds_total{pid="%d",state="holding"}[1h])' % pid
        assert wait_for(lambda: (self.query(expr).get(str(pid)) or 0) >= scrapes,
                        timeout=timeout, step=0.5), (
            "Prometheus has not scraped process %d %d times: %s" % (pid, scrapes, self.health()))

    def kill(self):
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self.log.close()


def rates(prom, pid, window):
    return {state: prom.query('rate(gil_prof_seconds_total{pid="%d",state="%s"}[%ds])'
                              % (pid, state, window)).get(str(pid))
            for state in ("holding", "waiting", "released", "idle")}


def near(value, want):
    return value is not None and abs(value - want) <= TOLERANCE * want


def test_prometheus_rates(started, tmp_path):
    contend = started(Program, interpreter("pyenv-3.12"), "gil_contend.py", 4)
    a = started(Agent)
    prom = started(Prometheus, a.port, tmp_path)
    # started after the agent: found through exec, under Debian's static build
    spin = started(Program, interpreter("debian-3.11"), "gil_contend.py", 1)
    a.wait_profiled(contend.pid)
    a.wait_profiled(spin.pid)
    window = 6
    # The rates are over scrapes Prometheus made: wait for the first ones
    # (a first start on a new machine, or a sanitizer build, is slow).
    prom.wait_scraped(contend.pid, 2)
    prom.wait_scraped(spin.pid, 2)
    time.sleep(window + 3)
    got4, got1 = rates(prom, contend.pid, window), rates(prom, spin.pid, window)
    msg = "4 threads: %s, 1 thread: %s\nscrapes: %s\n%s" % (got4, got1, prom.health(),
                                                          a.stderr())
    assert near(got4["holding"], 1.0) and near(got4["waiting"], 3.0), msg
    assert near(got1["holding"], 1.0) and (got1["waiting"] or 0) < 0.1, msg
    # the main threads only join: idle
    assert near(got4["idle"], 1.0) and near(got1["idle"], 1.0), msg
    contention = prom.query('rate(gil_prof_contention_seconds_total{pid="%d"}[%ds])'
                            % (contend.pid, window)).get(str(contend.pid))
    assert near(contention, 1.0), (contention, msg)

    # an exited process's series go away (from the agent; Prometheus marks them stale)
    spin.kill()
    assert wait_for(lambda: not of_pid(parse_metrics(a.metrics()), "gil_prof_seconds_total",
                                       spin.pid), timeout=10, step=0.2), a.metrics()
    assert not [l for n, l, _ in parse_metrics(a.metrics())
                if n == "gil_prof_target_info" and l["pid"] == str(spin.pid)]
    assert of_pid(parse_metrics(a.metrics()), "gil_prof_seconds_total", contend.pid)

    # SIGTERM: exit 0, and nothing of the agent's left in the kernel
    held = bpf_fds(a.proc.pid)
    assert held["prog"] and held["map"] and held["link"], held
    assert a.stop() == 0, a.stderr()

    def released():
        return not (held["prog"] & kernel_ids("prog") or held["map"] & kernel_ids("map")
                    or held["link"] & kernel_ids("link"))
    assert wait_for(released, timeout=10, step=0.2), (
        held["prog"] & kernel_ids("prog"), held["link"] & kernel_ids("link"))


# --- profiles ------------------------------------------------------------------


def profile_files(d):
    return sorted(p for p in d.iterdir() if p.name.endswith(".pb.gz"))


def test_profile_contents(started, tmp_path):
    """Every period a pprof file per process, and the last one at SIGTERM."""
    t = started(Program, interpreter("pyenv-3.12"), "gil_contend.py", 2)
    d = tmp_path / "profiles"
    a = started(Agent, "--profile-dir", d, "--profile-every", "1s")
    a.wait_profiled(t.pid)
    # sessions are reloaded one per tick: with many Python processes on the
    # host a period can take longer than 1 s
    assert wait_for(lambda: d.exists() and any(
        p.name.endswith("-%d.pb.gz" % t.pid) for p in d.iterdir()), timeout=60, step=0.2)
    assert a.stop() == 0, a.stderr()
    mine = [p for p in profile_files(d) if p.name.endswith("-%d.pb.gz" % t.pid)]
    assert len(mine) >= 2, profile_files(d)
    assert re.match(r"^\d{8}T\d{6}\.\d{3}Z-python3-%d\.pb\.gz$" % t.pid, mine[-1].name)
    # real pprof files: the workers' function, with GIL-state labels
    for p in (mine[0], mine[-1]):
        top = pprof_tool.run(p, "-top", "-tagfocus=gil_state=waiting")
        assert "spin" in top, top
    # written atomically: no temporary left
    assert all(p.name.endswith(".pb.gz") for p in d.iterdir()), list(d.iterdir())


def test_profile_dir_retention(started, tmp_path):
    """At most --profile-keep files of the agent's, the oldest removed first."""
    t = started(Program, interpreter("pyenv-3.12"), "gil_contend.py", 2)
    d = tmp_path / "profiles"
    d.mkdir()
    other = d / "notes.pb.gz"  # not one of the agent's names: never removed
    other.write_bytes(b"keep me")
    old = [d / ("20200101T00000%d.000Z-old-1.pb.gz" % i) for i in range(3)]
    for p in old:
        p.write_bytes(b"x")
    a = started(Agent, "--profile-dir", d, "--profile-every", "1s", "--profile-keep", "4")
    a.wait_profiled(t.pid)

    def written():
        return [v for n, _, v in parse_metrics(a.metrics())
                if n == "gil_prof_agent_profiles_written_total"][0]
    assert wait_for(lambda: written() >= 6, timeout=60, step=0.3), written()
    assert a.stop() == 0, a.stderr()
    ours = [p for p in profile_files(d) if p != other]
    assert len(ours) == 4, ours
    assert not any(p.exists() for p in old), ours
    assert other.read_bytes() == b"keep me"


def test_profile_bytes_and_final(started, tmp_path):
    """A byte limit keeps the newest that fit; SIGTERM writes the last period."""
    t = started(Program, interpreter("pyenv-3.12"), "gil_contend.py", 2)
    d = tmp_path / "p"
    a = started(Agent, "--profile-dir", d, "--profile-every", "1h", "--profile-max-bytes",
                "1M")
    a.wait_profiled(t.pid)
    # old files of the agent's naming, 350 KB each: over 1M together
    for i in range(3):
        (d / ("20200101T00000%d.000Z-old-1.pb.gz" % i)).write_bytes(b"x" * 350000)
    time.sleep(1)
    assert a.stop() == 0, a.stderr()
    names = [p.name for p in profile_files(d)]
    mine = [n for n in names if n.endswith("-%d.pb.gz" % t.pid)]
    assert mine, names  # the final profile, at SIGTERM
    assert sum((d / n).stat().st_size for n in names) <= 1 << 20, names
    # the oldest went first
    assert "20200101T000000.000Z-old-1.pb.gz" not in names, names


def test_sigint_flushes_and_detaches(started, tmp_path):
    """Ctrl-C as SIGTERM: the last period's profile written, exit 0, nothing left in the kernel."""
    t = started(Program, interpreter("pyenv-3.12"), "gil_contend.py", 2)
    d = tmp_path / "p"
    a = started(Agent, "--profile-dir", d, "--profile-every", "1h")
    a.wait_profiled(t.pid)
    held = bpf_fds(a.proc.pid)
    assert held["prog"] and held["map"] and held["link"], held
    assert a.stop(signal.SIGINT) == 0, a.stderr()
    assert [p for p in profile_files(d) if p.name.endswith("-%d.pb.gz" % t.pid)], \
        list(d.iterdir())

    def released():
        return not (held["prog"] & kernel_ids("prog") or held["map"] & kernel_ids("map")
                    or held["link"] & kernel_ids("link"))
    assert wait_for(released, timeout=10, step=0.2), (
        held["prog"] & kernel_ids("prog"), held["link"] & kernel_ids("link"))
