"""Reading the three profilers' stack files into one shape: for the
fidelity check, the innermost Python function of every sample under a given
function, counted.

  gil-prof folded   thread (TID name);gil:STATE;f (path/file.py:LINE);... COUNT
  py-spy raw        f (file.py:LINE);g (file.py:LINE) COUNT
  austin            P<pid>;T<iid>:<tid>;/path/file.py:f:LINE;... MICROSECONDS   (one line per sample)
  tachyon           a Gecko profile (JSON, its wall mode): per thread, samples ->
                    stackTable -> frameTable -> funcTable (name, fileName in
                    shared.stringArray); or its collapsed stacks (other modes):
                    tid:TID;file.py:f:LINE;... COUNT

A function is "name (file.py)": the last part of a qualified name and the
file's base name, which all three agree on across Python versions.
"""
import collections
import json
import os
import re

PY_FRAME = re.compile(r"^(?P<func>.+) \((?P<file>[^()]*\.py):\d+\)$")


def _key(func, path):
    return "%s (%s)" % (func.rsplit(".", 1)[-1], os.path.basename(path))


def _folded_frames(stack):
    out = []
    for frame in stack.split(";"):
        m = PY_FRAME.match(frame)
        if m:
            out.append(_key(m.group("func"), m.group("file")))
    return out


def _austin_frames(stack, skip=2):
    out = []
    for frame in stack.split(";")[skip:]:
        parts = frame.rsplit(":", 2)
        if len(parts) == 3 and parts[0].endswith(".py"):
            out.append(_key(parts[1], parts[0]))
    return out


def _is_json(path):
    try:
        with open(path, "rb") as f:
            return f.read(1) == b"{"
    except OSError:
        return False


def _gecko_stacks(path):
    """(frames outermost first, weight) of every sample of a Gecko profile."""
    with open(path) as f:
        gecko = json.load(f)
    names = gecko["shared"]["stringArray"]
    for t in gecko["threads"]:
        st, fr, fn = t["stackTable"], t["frameTable"], t["funcTable"]
        for idx in t["samples"]["stack"]:
            frames = []
            # Bounded by the table: a prefix chain cannot be longer.
            for _ in range(st["length"]):
                if idx is None:
                    break
                func = fr["func"][st["frame"][idx]]
                path_ = names[fn["fileName"][func]] if fn["fileName"][func] is not None else ""
                if path_.endswith(".py"):
                    frames.append(_key(names[fn["name"][func]], path_))
                idx = st["prefix"][idx]
            yield frames[::-1], 1


def folded_lines(path):
    """[(stack, count text)] of a folded-style file ("a;b;c COUNT" lines,
    "#" comments skipped), or None if it cannot be read."""
    try:
        with open(path, errors="replace") as f:
            text = f.read()
    except OSError:
        return None
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        stack, _, n = line.rpartition(" ")
        if stack:
            out.append((stack, n))
    return out


def leaf_counts(path, tool, under):
    """Counter of the innermost Python function of the samples whose stack
    holds the function named `under` (any file); None if unreadable."""
    counts = collections.Counter()
    if tool == "tachyon" and _is_json(path):
        try:
            stacks = list(_gecko_stacks(path))
        except (OSError, ValueError, KeyError, IndexError, TypeError):
            return None
        for frames, weight in stacks:
            if frames and any(fr.startswith(under + " (") for fr in frames):
                counts[frames[-1]] += weight
        return counts
    lines = folded_lines(path)
    if lines is None:
        return None
    for stack, n in lines:
        if tool == "austin":
            frames, weight = _austin_frames(stack), 1
        elif tool == "tachyon":
            frames, weight = _austin_frames(stack, 1), int(n)
        else:
            frames, weight = _folded_frames(stack), int(n)
        if frames and any(fr.startswith(under + " (") for fr in frames):
            counts[frames[-1]] += weight
    return counts
