#!/usr/bin/env python3
"""Cost of `gil-prof agent` on a host running N Python services.

    sudo bench/agent_cost.py [--python PATH] [--procs 20] [--duration 30]
                             [--rate 19] [--json FILE]

Starts N copies of tests/targets/busy_threads.py (4 threads each, cycling
through Python work holding the GIL, C work without it, JSON and short
sleeps), then the agent (host-wide: other Python processes of the machine
are profiled too and counted), and after it has attached to them all
measures over --duration seconds:

  agent CPU        user+system CPU of the agent process / wall time (cores)
  BPF CPU          the kernel's run time of the agent's BPF programs
                   (gil_prof_agent_bpf_seconds_total, bpf_stats) / wall time
  agent RSS        resident memory of the agent process at the end
  BPF memory       memlock of the maps the agent holds (bpftool), at the end
  attach           time from start until every target is profiled
  samples, lost    CPU-clock samples read and records lost in the window
                   (and lost while the agent was still attaching)

and the same per profiled process. Prints a table; --json writes it.
"""
import argparse
import json
import os
import pathlib
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[1]
GIL_PROF = pathlib.Path(os.environ.get("GIL_PROF", ROOT / "gil-prof"))
TARGET = ROOT / "tests" / "targets" / "busy_threads.py"


def default_python():
    root = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    for v in ("3.12", "3.11", "3.13"):
        cands = sorted(pathlib.Path(root, "versions").glob(v + ".*/bin/python3"))
        if cands:
            return str(cands[-1])
    return sys.executable


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid):
    with open("/proc/%d/statm" % pid) as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGESIZE")


def metrics(port):
    with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=30) as r:
        return r.read().decode()


def value(text, name):
    m = re.search(r"^%s (\S+)$" % name, text, re.M)
    return float(m.group(1)) if m else 0.0


def profiled_pids(text):
    return set(re.findall(r'^gil_prof_seconds_total\{pid="(\d+)"', text, re.M))


def map_memlock(pid):
    ids = set()
    for fd in os.listdir("/proc/%d/fdinfo" % pid):
        try:
            m = re.search(r"^map_id:\s+(\d+)$", open("/proc/%d/fdinfo/%s" % (pid, fd)).read(),
                          re.M)
        except OSError:
            continue
        if m:
            ids.add(int(m.group(1)))
    r = subprocess.run(["bpftool", "-j", "map", "show"], capture_output=True, text=True,
                       timeout=60)
    maps = json.loads(r.stdout or "[]")
    return sum(m.get("bytes_memlock", 0) for m in maps if m["id"] in ids)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--python", default=default_python())
    ap.add_argument("--procs", type=int, default=20)
    ap.add_argument("--duration", type=float, default=30)
    ap.add_argument("--rate", type=int, default=19)
    ap.add_argument("--json")
    args = ap.parse_args()

    targets, agent = [], None
    try:
        for _ in range(args.procs):
            p = subprocess.Popen([args.python, str(TARGET), "4"], stdout=subprocess.PIPE,
                                 text=True, start_new_session=True)
            targets.append(p)
        for p in targets:
            assert p.stdout.readline().startswith("ready")
        port = free_port()
        t_start = time.monotonic()
        agent = subprocess.Popen([str(GIL_PROF), "agent", "--listen", "127.0.0.1:%d" % port,
                                  "-r", str(args.rate), "-q"], start_new_session=True)
        want = {str(p.pid) for p in targets}
        while True:
            try:
                text = metrics(port)
                if want <= profiled_pids(text):
                    break
            except OSError:
                pass
            assert agent.poll() is None, "the agent exited"
            assert time.monotonic() - t_start < 300, "targets not all profiled"
            time.sleep(0.5)
        attach_s = time.monotonic() - t_start
        before = metrics(port)
        t0, cpu0 = time.monotonic(), cpu_seconds(agent.pid)
        bpf0 = value(before, "gil_prof_agent_bpf_seconds_total")
        lost0 = value(before, "gil_prof_agent_lost_samples_total")
        samples0 = value(before, "gil_prof_agent_samples_total")
        time.sleep(args.duration)
        text = metrics(port)
        wall = time.monotonic() - t0
        nprof = len(profiled_pids(text))
        res = {
            "procs": args.procs, "profiled": nprof, "rate_hz": args.rate, "seconds": wall,
            "attach_s": attach_s,
            "agent_cores": (cpu_seconds(agent.pid) - cpu0) / wall,
            "bpf_cores": (value(text, "gil_prof_agent_bpf_seconds_total") - bpf0) / wall,
            "agent_rss_bytes": rss_bytes(agent.pid),
            "bpf_map_bytes": map_memlock(agent.pid),
            "lost": value(text, "gil_prof_agent_lost_samples_total") - lost0,
            "samples": value(text, "gil_prof_agent_samples_total") - samples0,
            "lost_while_attaching": lost0,
        }
    finally:
        if agent and agent.poll() is None:
            agent.send_signal(signal.SIGTERM)
            agent.wait(timeout=120)
        for p in targets:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=10)
    n = res["profiled"]
    print("%d Python processes profiled (%d started here), %d Hz, %.0f s" % (
        n, res["procs"], res["rate_hz"], res["seconds"]))
    print("  all attached after  %6.1f s" % res["attach_s"])
    print("  agent CPU           %6.3f cores  (%.4f per process)" % (
        res["agent_cores"], res["agent_cores"] / n))
    print("  BPF CPU             %6.3f cores  (%.4f per process)" % (
        res["bpf_cores"], res["bpf_cores"] / n))
    print("  agent RSS           %6.1f MiB    (%.2f per process)" % (
        res["agent_rss_bytes"] / 2**20, res["agent_rss_bytes"] / 2**20 / n))
    print("  BPF maps (memlock)  %6.1f MiB    (%.2f per process)" % (
        res["bpf_map_bytes"] / 2**20, res["bpf_map_bytes"] / 2**20 / n))
    print("  samples %d, lost %d (while attaching: %d)" % (
        res["samples"], res["lost"], res["lost_while_attaching"]))
    if args.json:
        pathlib.Path(args.json).write_text(json.dumps(res, indent=1) + "\n")


if __name__ == "__main__":
    main()
