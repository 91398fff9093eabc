#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""What a binary needs from the system it runs on, read with binutils:
the shared libraries it links (readelf -d) and the newest glibc symbol
version it binds (objdump -T).

    elfcheck.py --glibc-max 2.31 BINARY    fail unless only glibc is linked
                                           dynamically, at 2.31 or older
    elfcheck.py --manylinux-tag BINARY     print manylinux_2_28_x86_64 (the
                                           tag of the newest version bound)
"""
import argparse
import re
import subprocess
import sys

# glibc's own libraries: what a self-contained binary may still link.
GLIBC_LIBS = {"libc.so.6", "libpthread.so.0", "libdl.so.2", "libm.so.6", "librt.so.1",
              "ld-linux-x86-64.so.2"}
# "0000000000000000      DF *UND*  0000000000000000 (GLIBC_2.28) fcntl64"
VERSION_RE = re.compile(r"\s\(?GLIBC_(\d+)\.(\d+)(?:\.\d+)?\)?\s+(\S+)$", re.M)


def needed(binary):
    out = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True, check=True)
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out.stdout)


def glibc_symbols(binary):
    """{symbol: (major, minor)} of every glibc-versioned dynamic symbol."""
    out = subprocess.run(["objdump", "-T", binary], capture_output=True, text=True, check=True)
    syms = {}
    for m in VERSION_RE.finditer(out.stdout):
        syms[m.group(3)] = (int(m.group(1)), int(m.group(2)))
    return syms


def newest(syms):
    top = max(syms.values())
    return top, sorted(s for s, v in syms.items() if v == top)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("binary")
    ap.add_argument("--glibc-max", help="fail if a symbol needs a newer glibc (e.g. 2.31)")
    ap.add_argument("--manylinux-tag", action="store_true", help="print the wheel platform tag")
    a = ap.parse_args()
    syms = glibc_symbols(a.binary)
    if not syms:
        sys.exit("elfcheck.py: %s binds no glibc symbol version" % a.binary)
    (major, minor), which = newest(syms)
    if a.manylinux_tag:
        print("manylinux_%d_%d_x86_64" % (major, minor))
        return
    libs = needed(a.binary)
    others = [lib for lib in libs if lib not in GLIBC_LIBS]
    if others:
        sys.exit("elfcheck.py: %s links %s dynamically (only glibc may be)"
                 % (a.binary, ", ".join(others)))
    if a.glibc_max:
        limit = tuple(int(x) for x in a.glibc_max.split("."))
        if (major, minor) > limit:
            sys.exit("elfcheck.py: %s needs glibc %d.%d (%s), newer than %s"
                     % (a.binary, major, minor, ", ".join(which), a.glibc_max))
    print("%s: links %s; needs glibc %d.%d (%s)" % (a.binary, ", ".join(libs), major, minor,
                                                   ", ".join(which)))


if __name__ == "__main__":
    main()
