"""The workloads (bench/workloads/): what each runs and how much work, in the
full run and in the smoke run."""
import pathlib

DIR = pathlib.Path(__file__).resolve().parents[1] / "workloads"


class Workload:
    def __init__(self, key, number, title, script, full, smoke, fidelity=None, extra=False,
                 switches=True, gil_view=False):
        self.key, self.number, self.title, self.script = key, number, title, script
        self.full, self.smoke, self.fidelity, self.extra = full, smoke, fidelity, extra
        # switches: the workload's threads switch by design (they contend,
        # block or sleep); a lone CPU-bound thread may not switch at all in
        # a short run on a quiet machine, and then has no cost per switch.
        self.switches = switches
        # gil_view: each profiler's view of the workers' GIL states is kept
        # (gilview.py) for the comparison of gil-prof's with Tachyon's.
        self.gil_view = gil_view

    def argv(self, python, smoke):
        return [python, str(DIR / self.script), *map(str, self.smoke if smoke else self.full),
                "--gate"]


# Work sizes: 2-3 s unprofiled on the reference machine (2 cores, pyenv
# 3.11), so the default full run (5 workloads x 19 settings x 5 repetitions)
# takes about 35 minutes; a fraction of a second in the smoke run.
WORKLOADS = [
    Workload("calls", 1, "1 thread, call-heavy pure Python", "calls.py", [5000], [500],
             fidelity="one_round", switches=False),
    Workload("contend", 2, "4 threads contending for the GIL", "contend.py",
             [4, 6000000], [4, 600000], gil_view=True),
    Workload("mixed", 3, "2 hashing/compressing threads + 2 Python threads", "mixed.py",
             [60, 8, 8000000], [8, 1, 1000000]),
    Workload("http", 4, "HTTP service, 8 handler threads, wrk", "http_service.py",
             [6000, 8], [600, 8]),
    Workload("idle", 5, "200 idle threads + 2 busy ones", "idle_threads.py",
             [200, 12000000], [200, 1200000]),
    # Not in the default set: ask for them with --workloads.
    Workload("pingpong", 6, "2 socket ping-pong pairs (context-switch heavy)", "pingpong.py",
             [2, 40000], [2, 4000], extra=True),
    Workload("native", 7, "Python -> C -> Python x12 + zlib (gpnative extension)",
             "native_chain.py", [12, 12000000, 40], [12, 1200000, 4], extra=True),
]
BY_KEY = {w.key: w for w in WORKLOADS}
DEFAULT = [w.key for w in WORKLOADS if not w.extra]
