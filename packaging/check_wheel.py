#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Check a built gil-prof wheel: binary-only (an ELF gil-prof in scripts/,
no Python code), and the manylinux tag it claims is the one auditwheel
finds from the binary's symbol versions and linked libraries.

    check_wheel.py --auditwheel venv/bin/auditwheel gil_prof-*.whl
"""
import argparse
import re
import subprocess
import sys
import zipfile

CONSISTENT_RE = re.compile(r'is consistent with the following platform tag: "([^"]+)"')


def claimed_tags(whl):
    with zipfile.ZipFile(whl) as z:
        wheel = next(n for n in z.namelist() if n.endswith(".dist-info/WHEEL"))
        text = z.read(wheel).decode()
    return [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("Tag:")]


def check_contents(whl):
    with zipfile.ZipFile(whl) as z:
        names = z.namelist()
        scripts = [n for n in names if re.match(r"[^/]+\.data/scripts/gil-prof$", n)]
        if len(scripts) != 1:
            return "no scripts/gil-prof in %s: %s" % (whl, names)
        if z.read(scripts[0])[:4] != b"\x7fELF":
            return "%s is not an ELF file" % scripts[0]
        code = [n for n in names if n.endswith((".py", ".pyc", ".so"))]
        if code:
            return "the wheel should hold no Python code or module: %s" % code
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--auditwheel", required=True)
    ap.add_argument("wheel")
    a = ap.parse_args()
    problem = check_contents(a.wheel)
    if problem:
        sys.exit("check_wheel.py: " + problem)
    r = subprocess.run([a.auditwheel, "show", a.wheel], capture_output=True, text=True)
    text = " ".join(r.stdout.split())
    m = CONSISTENT_RE.search(text)
    if r.returncode != 0 or not m:
        sys.exit("check_wheel.py: auditwheel show failed:\n%s%s" % (r.stdout, r.stderr))
    found = m.group(1)
    tags = claimed_tags(a.wheel)
    platforms = {t.split("-", 2)[2] for t in tags}
    if platforms != {found}:
        sys.exit("check_wheel.py: %s claims %s, auditwheel finds %s"
                 % (a.wheel, ", ".join(sorted(platforms)), found))
    print("  CHECKED  %s: binary-only, %s (auditwheel agrees)" % (a.wheel, found))


if __name__ == "__main__":
    main()
