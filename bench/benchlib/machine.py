"""The machine: CPU time of processes and of the whole machine, load, and
whether anything else ran while we measured."""
import os
import platform
import subprocess
import threading
import time

HZ = os.sysconf("SC_CLK_TCK")
FOREIGN_CORES = 0.10    # CPU used by other processes during the runs, in cores, that flags them


def proc_cpu(pid):
    """utime + stime of a process (all its threads) in seconds, or None if gone.
    From the threads' run time in nanoseconds (schedstat: what utime + stime
    are made of) where the kernel has it: /proc/PID/stat counts in clock
    ticks, 10 ms here, as much as a profiler uses in a second."""
    total = 0
    try:
        tids = os.listdir("/proc/%d/task" % pid)
        # An exiting process (a profiler that stops with its target) has no
        # threads left to sum: None, so the caller takes wait4's figure
        # rather than a total of 0 (which read as negative CPU).
        if not tids:
            return None
        for tid in tids:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
        return total / 1e9
    except (OSError, ValueError, IndexError):
        pass
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / HZ


def proc_hwm_mb(pid):
    """A process's peak RSS since its exec (VmHWM), in MB, or None if gone.
    Not wait4()'s ru_maxrss: that keeps, across exec, the size of the
    process it was forked from (this harness: tens of MB once it has read
    a large Gecko profile), which floors every small profiler's figure."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


class HwmWatch(threading.Thread):
    """Reads a process's VmHWM every `step` seconds until it is gone: the
    last reading is its peak RSS (VmHWM only grows), even for a profiler
    that exits with its target."""

    def __init__(self, pid, step=0.05):
        super().__init__(daemon=True)
        self.pid, self.step, self.mb = pid, step, None
        self.start()

    def run(self):
        while True:
            mb = proc_hwm_mb(self.pid)
            if mb is None:
                return
            self.mb = mb
            time.sleep(self.step)


def busy_seconds():
    """CPU seconds the machine spent busy (all CPUs, /proc/stat) since boot."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]  # idle + iowait
    return (sum(v[:8]) - idle) / HZ


def self_cpu():
    t = os.times()
    return t.user + t.system


def load1():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


class Window:
    """Machine-wide CPU over a measured window, to tell how much of it went to
    processes other than ours (target, profiler, this harness)."""

    def __init__(self):
        self.t0 = time.monotonic()
        self.busy0 = busy_seconds()
        self.self0 = self_cpu()

    def foreign_cores(self, ours):
        """CPU, in cores, that other processes used since the start; `ours` is
        the target's and the profiler's CPU time in the window."""
        wall = time.monotonic() - self.t0
        other = busy_seconds() - self.busy0 - ours - (self_cpu() - self.self0)
        return max(0.0, other) / wall if wall > 0 else 0.0


def describe(python):
    """Facts about the machine and the interpreter for the results' header."""
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    pyver = subprocess.run([python, "-c", "import sys; print(sys.version.split()[0])"],
                           capture_output=True, text=True).stdout.strip()
    return {"cpu": model, "cpus": os.cpu_count(), "kernel": platform.release(),
            "python": python, "python_version": pyver}
