"""Print one C initializer of line-table test vectors for the running Python.

Used to (re)write linetable_vectors.h, one block per interpreter:
    for py in ...; do $py gen_linetable_vectors.py; done
The expected lines come from the interpreter itself (co_lines() on 3.10+,
dis.findlinestarts() on 3.9).
"""
import dis
import sys
import types

SRC = '''
def f(a, b):
    x = a
    for i in range(b):
        x += i
        if x > 10:
            x -= 3
    y = [i
         for i in range(3)]
    try:
        1/0
    except ZeroDivisionError:
        x = 0
    return x + len(y)
'''

FORMATS = {(3, 9): "GP_LINETABLE_LNOTAB", (3, 10): "GP_LINETABLE_PEP626"}


def expected_lines(code):
    lines = {}
    if sys.version_info >= (3, 10):
        for start, end, line in code.co_lines():
            for off in range(start, end, 2):
                lines[off] = -1 if line is None else line
        return lines
    starts = dict(dis.findlinestarts(code))
    cur = code.co_firstlineno
    for off in range(0, len(code.co_code), 2):
        cur = starts.get(off, cur)
        lines[off] = cur
    return lines


def main():
    module = compile(SRC, "t.py", "exec")
    code = next(c for c in module.co_consts if isinstance(c, types.CodeType))
    table = code.co_lnotab if sys.version_info < (3, 10) else code.co_linetable
    fmt = FORMATS.get(sys.version_info[:2], "GP_LINETABLE_LOCATIONS")
    lines = expected_lines(code)
    ver = "%d.%d" % sys.version_info[:2]
    print("\t{ /* Python %s */" % ver)
    print('\t\t.version = "%s", .format = %s, .firstlineno = %d,' % (ver, fmt, code.co_firstlineno))
    print("\t\t.table = (const uint8_t[]){ %s }," % ", ".join("0x%02x" % b for b in table))
    print("\t\t.table_len = %d," % len(table))
    print("\t\t.n = %d," % len(lines))
    print("\t\t.offsets = (const int[]){ %s }," % ", ".join(str(k) for k in sorted(lines)))
    print("\t\t.lines = (const int[]){ %s }," % ", ".join(str(lines[k]) for k in sorted(lines)))
    print("\t},")


if __name__ == "__main__":
    main()
