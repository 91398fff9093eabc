"""The Chrome Trace Event format's rules, written down for gil-prof's tests.

No Perfetto trace processor can be installed here (Debian and PyPI only;
PyPI's `perfetto` downloads its binary at run time), so the rules that
the Perfetto UI and chrome://tracing apply to JSON traces are checked
directly: a JSON Schema for the event fields (python3-jsonschema), and
what a schema cannot say: complete events (ph "X") on one thread nest
perfectly (Perfetto's rule: a partial overlap is drawn wrongly), metadata
names and values, instant scopes, numeric counters.

gil_timeline() then checks what gil-prof promises on top: per thread, the
GIL-state intervals follow each other without gap or overlap from the
thread's first to its last event, every hand-off names two threads of
the trace, and the "GIL" track holds exactly the holding intervals of
all threads, each named after its holder, none overlapping another.
"""
import collections

import jsonschema

STATES = ("holding", "waiting", "released", "idle")
METADATA = {
    "process_name": "name",
    "process_labels": "labels",
    "process_sort_index": "sort_index",
    "thread_name": "name",
    "thread_sort_index": "sort_index",
}
# 1 ns: ts and dur are microseconds written with three decimals
EPS_US = 0.0011
PID_MAX_LIMIT = 1 << 22  # no real thread id is larger

EVENT = {
    "type": "object",
    "required": ["name", "ph", "pid", "tid"],
    "properties": {
        "name": {"type": "string"},
        "cat": {"type": "string"},
        "ph": {"enum": ["X", "B", "E", "i", "I", "C", "M", "b", "n", "e", "s", "t", "f"]},
        "ts": {"type": "number", "minimum": 0},
        "dur": {"type": "number", "minimum": 0},
        "pid": {"type": "integer"},
        "tid": {"type": "integer"},
        "s": {"enum": ["g", "p", "t"]},
        "args": {"type": "object"},
    },
    "allOf": [
        {"if": {"properties": {"ph": {"const": "X"}}}, "then": {"required": ["ts", "dur"]}},
        {"if": {"properties": {"ph": {"enum": ["i", "I", "C", "B", "E"]}}},
         "then": {"required": ["ts"]}},
        {"if": {"properties": {"ph": {"enum": ["M", "C"]}}}, "then": {"required": ["args"]}},
    ],
}

SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "required": ["traceEvents"],
    "properties": {
        "traceEvents": {"type": "array", "items": EVENT},
        "displayTimeUnit": {"enum": ["ms", "ns"]},
        "otherData": {"type": "object"},
    },
}


def check_nesting(events):
    """Complete events of each (pid, tid) nest: none ends inside another
    it started in. Raises AssertionError naming the first partial overlap."""
    per = collections.defaultdict(list)
    for e in events:
        if e["ph"] == "X":
            per[(e["pid"], e["tid"])].append(e)
    for key, xs in per.items():
        # outer before inner at the same start
        xs.sort(key=lambda e: (e["ts"], -e["dur"]))
        open_ends = []
        for e in xs:
            while open_ends and open_ends[-1] <= e["ts"] + EPS_US:
                open_ends.pop()
            end = e["ts"] + e["dur"]
            if open_ends and end > open_ends[-1] + EPS_US:
                raise AssertionError("thread %s: %r overlaps an enclosing slice ending at %s"
                                     % (key, e, open_ends[-1]))
            open_ends.append(end)


def check(doc):
    """Raise (jsonschema.ValidationError or AssertionError) unless doc is a
    trace the Perfetto UI and chrome://tracing read as meant."""
    jsonschema.validate(doc, SCHEMA)
    for e in doc["traceEvents"]:
        if e["ph"] == "M":
            assert e["name"] in METADATA, e
            assert METADATA[e["name"]] in e["args"], e
            if e["name"].endswith("sort_index"):
                assert isinstance(e["args"]["sort_index"], int), e
            if e["name"].endswith("_name"):
                assert isinstance(e["args"]["name"], str), e
        elif e["ph"] == "C":
            assert e["args"] and all(isinstance(v, (int, float)) for v in e["args"].values()), e
    check_nesting(doc["traceEvents"])


def thread_names(doc):
    return {e["tid"]: e["args"]["name"] for e in doc["traceEvents"]
            if e["ph"] == "M" and e["name"] == "thread_name"}


def slices(doc):
    """{tid: [X events in time order]}."""
    per = collections.defaultdict(list)
    for e in doc["traceEvents"]:
        if e["ph"] == "X":
            per[e["tid"]].append(e)
    for xs in per.values():
        xs.sort(key=lambda e: e["ts"])
    return per


def gil_timeline(doc):
    """gil-prof's timeline promises, after check(doc). Returns
    {tid: {state: microseconds}} and the hand-off instants."""
    check(doc)
    names = thread_names(doc)
    length = doc["otherData"]["duration_us"]
    gil_track = [tid for tid, name in names.items() if name == "GIL" and tid > PID_MAX_LIMIT]
    assert len(gil_track) == 1, ("one GIL track", names)
    per_thread = slices(doc)
    check_gil_track(per_thread.pop(gil_track[0], []), per_thread, names)
    totals = {}
    for tid, xs in per_thread.items():
        assert tid in names, ("slices of a thread without a name", tid)
        per = totals[tid] = dict.fromkeys(STATES, 0.0)
        for a, b in zip(xs, xs[1:]):
            # one state at a time, and no time unaccounted for
            assert abs(a["ts"] + a["dur"] - b["ts"]) <= EPS_US, (tid, a, b)
            assert a["name"] != b["name"], ("two slices in a row in one state", a, b)
        for x in xs:
            assert x["name"] in STATES and x["args"]["gil_state"] == x["name"], x
            assert x["dur"] > 0, x
            assert x["ts"] + x["dur"] <= length + EPS_US, (x, length)
            per[x["name"]] += x["dur"]
    handoffs = [e for e in doc["traceEvents"] if e["ph"] == "i"]
    for h in handoffs:
        a = h["args"]
        assert h["name"] == "GIL hand-off" and h["s"] == "t", h
        assert a["from_tid"] in names and a["to_tid"] in names, h
        assert a["from_tid"] != a["to_tid"] and h["tid"] == a["to_tid"], h
        assert a["to"] == names[a["to_tid"]] and a["from"] == names[a["from_tid"]], h
        assert isinstance(a["stack"], list), h
    return totals, handoffs


def check_gil_track(track, per_thread, names):
    """The GIL track: the holding slices of every thread, in time order,
    each named after its holder, one at a time."""
    held = sorted((x["ts"], x["dur"], tid) for tid, xs in per_thread.items()
                  for x in xs if x["name"] == "holding")
    assert len(track) == len(held), (len(track), len(held))
    for x, (ts, dur, tid) in zip(track, held):
        assert (x["ts"], x["dur"], x["args"]["holder_tid"]) == (ts, dur, tid), (x, ts, dur, tid)
        assert x["name"] in ("%s (%d)" % (names[tid], tid), names[tid]), (x, names[tid])
    for a, b in zip(track, track[1:]):
        assert b["ts"] >= a["ts"] + a["dur"] - EPS_US, ("two holders at once", a, b)


def state_at(doc, tid, ts):
    """The GIL state of thread tid at time ts (µs), from its slices."""
    for x in slices(doc)[tid]:
        if x["ts"] - EPS_US <= ts < x["ts"] + x["dur"] - EPS_US:
            return x["name"]
    return None
