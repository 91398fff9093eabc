"""What every workload shares: the start gate, thread spans and the result line.

A workload builds its threads and data, then calls gate(): with --gate (as
the harness runs it) it prints "ready" and waits for a line on stdin, so a
profiler can attach before the measured work starts; without it, it starts
at once. At the end finish() prints one line

    result {"elapsed": S, "cpu": S, "cpu_ready": S, "go": T, "spans": [...], ...}

elapsed: wall time of the fixed work; cpu / cpu_ready: the process's CPU
time at the end and at the gate; ctx_switches: the context switches of all
its threads from the gate to the result line (getrusage: the voluntary and
non-voluntary switches /proc/PID/task/*/status shows per thread, the exited
threads' included); go: the gate's time; spans: [start, end]
of every thread alive in the measured part (null: before the gate or until
the end). Times are time.perf_counter(), i.e. CLOCK_MONOTONIC, the clock of
the harness's time.monotonic(). A workload whose own check of its result
fails prints "check failed: ..." and exits 1.
"""
import json
import resource
import sys
import threading
import time


class Run:
    def __init__(self):
        self.spans = [[None, None]]  # the main thread: the whole run
        self.lock = threading.Lock()
        self.go = self.cpu_ready = self.end = self.cpu = None
        self.switches_ready = 0

    def thread(self, target, *args, **kw):
        """A thread whose life is recorded as a span."""
        def body():
            start = time.perf_counter()
            try:
                target(*args)
            finally:
                with self.lock:
                    self.spans.append([start, time.perf_counter()])
        return threading.Thread(target=body, **kw)

    def span(self, start, end):
        with self.lock:
            self.spans.append([start, end])

    def gate(self):
        """Wait for the harness (with --gate), then start the clock."""
        if "--gate" in sys.argv:
            print("ready", flush=True)
            sys.stdin.readline()
        self.cpu_ready = time.process_time()
        self.switches_ready = switches()
        self.go = time.perf_counter()
        return self.go

    def run_threads(self, threads, go, join=None):
        """Start the threads (each waits for the event `go` before its work),
        pass the gate, set `go`, wait for `join` (default: all the threads)
        and stop the clock."""
        for t in threads:
            t.start()
        self.gate()
        go.set()
        for t in join or threads:
            t.join()
        self.done()

    def done(self):
        """The fixed work is done: stop the clock (before checking the result)."""
        self.end = time.perf_counter()
        self.cpu = time.process_time()

    def finish(self, ok, detail="", **extra):
        """Print the result line (after the workload checked its own result)."""
        if self.end is None:
            self.done()
        if not ok:
            print("check failed: %s" % detail, flush=True)
            sys.exit(1)
        res = {"elapsed": extra.pop("elapsed", self.end - self.go), "cpu": self.cpu,
               "cpu_ready": self.cpu_ready, "go": self.go, "end": self.end,
               "spans": self.spans, "ctx_switches": switches() - self.switches_ready}
        res.update(extra)
        print("result " + json.dumps(res), flush=True)


def switches():
    """Context switches of every thread of this process so far, live or exited."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_nvcsw + ru.ru_nivcsw


def args(defaults):
    """Positional integer arguments (the amount of work), --gate left out."""
    vals = [a for a in sys.argv[1:] if not a.startswith("--")]
    return [int(v) for v in vals] + list(defaults[len(vals):])
