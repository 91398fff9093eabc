"""The checked-in CPython layout rows equal what the generator makes now.

Rows of installed versions are regenerated from their headers and must be
identical: pyenv's 3.9-3.13, and Debian sid's 3.14 and 3.15 in the root the
tests run them in (tests/roots/sid.sh). A row marked untested was made from CPython's published headers
of a version no installed interpreter has (README, "Supported Pythons"):
it cannot be regenerated here, so it must say so, have exactly the fields
the generator makes today (a field added since would be silently zero),
and not be left untested once that version is installed.

The object layout rows (sampler/target/objlayouts/, for thread names) exist only
for installed versions and are regenerated the same way.
"""
import re
import subprocess

import pytest

from conftest import ROOT, SID_MINORS, pyenv_root, sid_root

LAYOUTS = sorted(
    (ROOT / "sampler" / "target" / "layouts").glob("py3.*.inc"),
    key=lambda p: tuple(int(x) for x in p.stem[len("py"):].split(".")),
)
OBJ_LAYOUTS = sorted((ROOT / "sampler" / "target" / "objlayouts").glob("py3.*.inc"))


def headers_for(minor):
    if minor in SID_MINORS:
        return sid_root() / "usr" / "include" / ("python" + minor)
    root = pyenv_root()
    assert root, "no pyenv installation: cannot regenerate layout rows"
    found = sorted(root.glob("versions/%s.*/include/python%s" % (minor, minor)))
    return found[-1] if found else None


def generate(inc, tmp_path, generator="pylayout_gen.c"):
    gen = tmp_path / "gen"
    # A root's headers find their pyconfig.h under the root's /usr/include
    # (as `make layouts` compiles them).
    extra = ["-idirafter", str(inc.parent)] if str(inc).startswith(str(sid_root())) else []
    subprocess.run(
        ["cc", "-w", "-I%s" % inc, "-I%s/internal" % inc, *extra,
         str(ROOT / "sampler" / "target" / generator), "-o", str(gen)],
        check=True,
    )
    return subprocess.run([str(gen)], check=True, capture_output=True, text=True).stdout


def fields(text):
    return re.findall(r"^\s*\.([\w.]+) = ", text, re.M)


def newest_installed_headers():
    for row in reversed(LAYOUTS):
        inc = headers_for(row.stem[len("py"):])
        if inc:
            return inc
    raise AssertionError("no CPython headers installed under pyenv")


@pytest.mark.parametrize("row", LAYOUTS, ids=[p.stem for p in LAYOUTS])
def test_layout_row_is_current(row, tmp_path):
    minor = row.stem[len("py"):]
    text = row.read_text()
    inc = headers_for(minor)
    if ".untested = 1," not in text:
        assert inc, "headers of Python %s not installed under %s" % (minor, pyenv_root())
        assert generate(inc, tmp_path) == text, "%s is stale: run `make layouts`" % row
        return
    assert "UNTESTED" in text and "Headers:" in text, "%s: say where the headers came from" % row
    assert inc is None, (
        "Python %s is installed now: regenerate %s with `make layouts`, test it, and drop "
        "'untested' from README" % (minor, row)
    )
    assert fields(text) == fields(generate(newest_installed_headers(), tmp_path)), (
        "%s lacks fields the generator makes now: regenerate it from the same headers" % row
    )
    major, minor_num = (int(x) for x in minor.split("."))
    version = int(re.search(r"\.version_hex = (0x[0-9a-f]+),", text).group(1), 16)
    assert version >> 16 == major << 8 | minor_num, hex(version)
    readme = (ROOT / "README.md").read_text()
    assert re.search(r"^\|\s*%s\b.*untested" % re.escape(minor), readme, re.M | re.I), (
        "README's table must list Python %s as untested" % minor
    )


@pytest.mark.parametrize("row", OBJ_LAYOUTS, ids=[p.stem for p in OBJ_LAYOUTS])
def test_object_layout_row_is_current(row, tmp_path):
    minor = row.stem[len("py"):]
    inc = headers_for(minor)
    assert inc, "headers of Python %s not installed under %s" % (minor, pyenv_root())
    fresh = generate(inc, tmp_path, "pyobjlayout_gen.c")
    assert fresh == row.read_text(), "%s is stale: run `make layouts`" % row
