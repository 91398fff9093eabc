"""Reading the three profilers' stack files into one shape: for the
fidelity check, the innermost Python function of every sample under a given
function, counted.

  gil-prof folded   thread (TID name);gil:STATE;f (path/file.py:LINE);... COUNT
  py-spy raw        f (file.py:LINE);g (file.py:LINE) COUNT
  austin            P<pid>;T<iid>:<tid>;/path/file.py:f:LINE;... MICROSECONDS   (one line per sample)

A function is "name (file.py)": the last part of a qualified name and the
file's base name, which all three agree on across Python versions.
"""
import collections
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


def _austin_frames(stack):
    out = []
    for frame in stack.split(";")[2:]:
        parts = frame.rsplit(":", 2)
        if len(parts) == 3 and parts[0].endswith(".py"):
            out.append(_key(parts[1], parts[0]))
    return out


def leaf_counts(path, tool, under):
    """Counter of the innermost Python function of the samples whose stack
    holds the function named `under` (any file); None if unreadable."""
    counts = collections.Counter()
    try:
        f = open(path, errors="replace")
    except OSError:
        return None
    with f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            stack, _, n = line.rpartition(" ")
            if not stack:
                continue
            if tool == "austin":
                frames, weight = _austin_frames(stack), 1
            else:
                frames, weight = _folded_frames(stack), int(n)
            if frames and any(fr.startswith(under + " (") for fr in frames):
                counts[frames[-1]] += weight
    return counts
