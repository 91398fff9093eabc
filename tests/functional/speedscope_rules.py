"""speedscope's file-format rules, written down for gil-prof's tests.

The published format (https://www.speedscope.app/file-format-schema.json,
draft-07) as a JSON Schema checked with python3-jsonschema, plus the rules a
schema cannot express but speedscope enforces when it imports a file (frame
indices in range, one weight per sample, ordered and balanced events).
"""
import jsonschema

SCHEMA_URL = "https://www.speedscope.app/file-format-schema.json"
UNITS = ["none", "nanoseconds", "microseconds", "milliseconds", "seconds", "bytes"]

FRAME = {
    "type": "object",
    "required": ["name"],
    "properties": {
        "name": {"type": "string"},
        "file": {"type": "string"},
        "line": {"type": "number"},
        "col": {"type": "number"},
    },
}

SAMPLED = {
    "type": "object",
    "required": ["type", "name", "unit", "startValue", "endValue", "samples", "weights"],
    "properties": {
        "type": {"const": "sampled"},
        "name": {"type": "string"},
        "unit": {"enum": UNITS},
        "startValue": {"type": "number"},
        "endValue": {"type": "number"},
        "samples": {"type": "array", "items": {"type": "array", "items": {"type": "number"}}},
        "weights": {"type": "array", "items": {"type": "number"}},
    },
}

EVENTED = {
    "type": "object",
    "required": ["type", "name", "unit", "startValue", "endValue", "events"],
    "properties": {
        "type": {"const": "evented"},
        "name": {"type": "string"},
        "unit": {"enum": UNITS},
        "startValue": {"type": "number"},
        "endValue": {"type": "number"},
        "events": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type", "at", "frame"],
                "properties": {
                    "type": {"enum": ["O", "C"]},
                    "at": {"type": "number"},
                    "frame": {"type": "number"},
                },
            },
        },
    },
}

SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "required": ["$schema", "shared", "profiles"],
    "properties": {
        "$schema": {"const": SCHEMA_URL},
        "shared": {
            "type": "object",
            "required": ["frames"],
            "properties": {"frames": {"type": "array", "items": FRAME}},
        },
        "profiles": {"type": "array", "items": {"oneOf": [SAMPLED, EVENTED]}},
        "name": {"type": "string"},
        "activeProfileIndex": {"type": "number"},
        "exporter": {"type": "string"},
    },
}


def check(doc):
    """Raise AssertionError (or jsonschema's ValidationError) on any violation."""
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    jsonschema.validate(doc, SCHEMA, cls=jsonschema.Draft7Validator)
    nframes = len(doc["shared"]["frames"])
    profiles = doc["profiles"]
    if "activeProfileIndex" in doc:
        assert 0 <= doc["activeProfileIndex"] < max(len(profiles), 1), doc["activeProfileIndex"]
    for p in profiles:
        assert p["endValue"] >= p["startValue"], p["name"]
        if p["type"] == "sampled":
            assert len(p["samples"]) == len(p["weights"]), p["name"]
            for stack in p["samples"]:
                for i in stack:
                    assert i == int(i) and 0 <= i < nframes, (p["name"], i, nframes)
            assert all(w >= 0 for w in p["weights"]), p["name"]
        else:
            open_frames, last = [], p["startValue"]
            for ev in p["events"]:
                assert 0 <= ev["frame"] < nframes and ev["frame"] == int(ev["frame"])
                assert ev["at"] >= last, "events out of order in %s" % p["name"]
                last = ev["at"]
                if ev["type"] == "O":
                    open_frames.append(ev["frame"])
                else:
                    assert open_frames and open_frames[-1] == ev["frame"], "unbalanced close"
                    open_frames.pop()
            assert not open_frames, "unclosed frames in %s" % p["name"]
