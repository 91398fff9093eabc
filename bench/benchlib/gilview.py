"""Each thread's GIL view as gil-prof and as Tachyon report it, for the
comparison on the contention workload: the share of the thread's observed
time that it held the GIL and that it waited for it.

  gil-prof   its folded stacks (thread (TID name);gil:STATE;...  COUNT):
             samples per state of each thread, measured states (holding is
             read from the GIL's owner, waiting from the futex the thread
             sleeps on), over the thread's samples that are not idle (the
             workers sit idle in go.wait() from the attach to the go: what
             the Tachyon view's window leaves out);
  Tachyon    its Gecko profile (--gecko): per thread, the "Has GIL" and
             "Waiting for GIL" markers, intervals it builds from flags it
             samples in the thread state (holds_gil, gil_requested), over
             the thread's observed time (its "On CPU" + "Off CPU" markers),
             clipped to the window the workload ran its work in (the Gecko
             startTime is CLOCK_MONOTONIC in ms, as time.monotonic(), and
             the sample times count from it: checked against a target
             that printed its own time.monotonic() when its threads
             started and ended, their first and last samples fell within
             1-3 ms of it at 1000 Hz).

Only the worker threads are compared (every thread but the main one, which
waits in join()); each view is the mean over them.
"""
import json
import re

from . import stacks

THREAD = re.compile(r"^thread \((\d+)(?: ([^)]*))?\)$")


def gilprof_threads(path):
    """{tid: {state: samples}} from a gil-prof folded file."""
    lines = stacks.folded_lines(path)
    if lines is None:
        return None
    out = {}
    for stack, n in lines:
        frames = stack.split(";")
        m = THREAD.match(frames[0])
        if not m or len(frames) < 2 or not frames[1].startswith("gil:") or not n.isdigit():
            continue
        states = out.setdefault(int(m.group(1)), {})
        state = frames[1][4:]
        states[state] = states.get(state, 0) + int(n)
    return out


def gilprof_view(path, main_tid):
    threads = gilprof_threads(path)
    if not threads:
        return None
    shares = []
    for tid, states in threads.items():
        total = sum(v for k, v in states.items() if k != "idle")
        if tid == main_tid or not total:
            continue
        shares.append({"holding": states.get("holding", 0) / total,
                       "waiting": states.get("waiting", 0) / total})
    return _mean(shares)


def load_gecko(path):
    """A Gecko profile, or None if it cannot be read."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _window_ms(gecko, window):
    """window (monotonic seconds, lo..hi) in the profile's milliseconds."""
    start = gecko["meta"]["startTime"]
    return window[0] * 1000 - start, window[1] * 1000 - start


def tachyon_threads(gecko, window):
    """{tid: {marker name: ms}} within window (monotonic seconds, lo..hi)."""
    lo, hi = _window_ms(gecko, window) if window else (None, None)
    names = gecko["shared"]["stringArray"]
    out = {}
    for t in gecko["threads"]:
        m = t["markers"]
        acc = out.setdefault(int(t["tid"]), {})
        for i in range(m["length"]):
            s, e = m["startTime"][i], m["endTime"][i]
            if s is None or e is None:
                continue
            if lo is not None:
                s, e = max(s, lo), min(e, hi)
            if e > s:
                name = names[m["name"][i]]
                acc[name] = acc.get(name, 0.0) + (e - s)
    return out


def tachyon_view(gecko, window, main_tid):
    if gecko is None:
        return None
    shares = []
    for tid, ms in tachyon_threads(gecko, window).items():
        seen = ms.get("On CPU", 0.0) + ms.get("Off CPU", 0.0)
        if tid == main_tid or seen <= 0:
            continue
        shares.append({"holding": ms.get("Has GIL", 0.0) / seen,
                       "waiting": ms.get("Waiting for GIL", 0.0) / seen})
    return _mean(shares)


def tachyon_ticks(gecko, window):
    """Sampling ticks within window: Tachyon samples every thread at each
    tick, so the samples of its most-sampled thread (the main thread, alive
    throughout)."""
    if gecko is None:
        return None
    lo, hi = _window_ms(gecko, window)
    return max((sum(1 for x in t["samples"]["time"] if lo <= x <= hi)
                for t in gecko["threads"]), default=0)


def _mean(shares):
    if not shares:
        return None
    return {"threads": len(shares),
            "holding": sum(s["holding"] for s in shares) / len(shares),
            "waiting": sum(s["waiting"] for s in shares) / len(shares)}
