"""Line numbers: gil-prof's decoder against the interpreter's own answers.

tests/targets/dump_lines.py prints the line tables of every code object of
a dozen stdlib modules with the line CPython itself gives for each
instruction (co_lines(), co_positions(), dis.findlinestarts() on 3.9);
tests/tools/linecheck (built by `make`) decodes them with unwind/linetable.c
and fails on any difference.
"""
import re
import subprocess

import pytest

from conftest import INTERPRETERS, MATRIX, REQUIRED_INTERPRETERS, TARGETS, TOOLS


def test_required_interpreters_present():
    missing = [i for i in REQUIRED_INTERPRETERS if i not in INTERPRETERS and i in MATRIX]
    assert not missing, (
        "missing interpreters %s: CI machines have pyenv's CPython 3.9-3.13, Debian's "
        "/usr/bin/python3.11 and Debian sid's 3.14 and 3.15 (tests/roots/sid.sh)" % missing
    )


@pytest.mark.core
def test_line_tables_match_interpreter(python):
    checker = TOOLS / "linecheck"
    assert checker.exists(), "%s not built: run `make functional`" % checker
    dump = subprocess.run(
        [python, str(TARGETS / "dump_lines.py")], capture_output=True, timeout=120
    )
    assert dump.returncode == 0, dump.stderr.decode(errors="replace")
    r = subprocess.run(
        [str(checker)], input=dump.stdout, capture_output=True, timeout=120
    )
    out = r.stdout.decode()
    assert r.returncode == 0, out + r.stderr.decode(errors="replace")
    m = re.search(r"checked (\d+) code objects, (\d+) offsets, 0 mismatches", out)
    assert m, out
    # a dozen modules: well over a thousand code objects on every version
    assert int(m.group(1)) >= 1000 and int(m.group(2)) >= 50000, out
