"""Dump the line tables of many code objects and the lines the running
interpreter itself gives for every instruction offset, for
tests/tools/linecheck.c to decode with gil-prof's decoder and compare.

Output, one record per code object:
    V <PY_VERSION_HEX>                      (once, first)
    C <qualname> <co_firstlineno> <hex of co_lnotab / co_linetable>
    E <line at byte offset 0> <at 2> ...    (-1: no line)
    P <same from co_positions()>            (3.11+)
The expected lines come from CPython: dis.findlinestarts() on 3.9 (which
decodes co_lnotab itself), co_lines() on 3.10+, co_positions() on 3.11+.
"""
import dis
import importlib.util
import sys
import types

MODULES = [
    "argparse", "ast", "collections", "dataclasses", "difflib", "email.message",
    "inspect", "json.decoder", "pydoc", "tarfile", "threading", "typing", "zipfile",
]


def code_objects(code):
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from code_objects(const)


def lines_by_offset(code):
    n = len(code.co_code) // 2
    if sys.version_info >= (3, 10):
        lines = [-1] * n
        for start, end, line in code.co_lines():
            for off in range(start, min(end, 2 * n), 2):
                lines[off // 2] = -1 if line is None else line
        return lines
    starts = dict(dis.findlinestarts(code))
    cur, lines = code.co_firstlineno, []
    for off in range(0, 2 * n, 2):
        cur = starts.get(off, cur)
        lines.append(cur)
    return lines


def emit(code, out):
    table = code.co_lnotab if sys.version_info < (3, 10) else code.co_linetable
    name = getattr(code, "co_qualname", code.co_name).replace(" ", "_") or "?"
    out.write("C %s %d %s\n" % (name, code.co_firstlineno, table.hex() or "-"))
    out.write("E %s\n" % " ".join(map(str, lines_by_offset(code))))
    if sys.version_info >= (3, 11):
        pos = [-1 if p[0] is None else p[0] for p in code.co_positions()]
        out.write("P %s\n" % " ".join(map(str, pos)))


def main():
    out = sys.stdout
    out.write("V %d\n" % sys.hexversion)
    for name in MODULES:
        spec = importlib.util.find_spec(name)
        for code in code_objects(spec.loader.get_code(name)):
            emit(code, out)


if __name__ == "__main__":
    main()
