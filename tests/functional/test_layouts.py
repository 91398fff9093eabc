"""The checked-in CPython layout rows equal what the generator makes now."""
import pathlib
import subprocess

import pytest

from conftest import ROOT, pyenv_root

LAYOUTS = sorted((ROOT / "sampler" / "layouts").glob("py3.*.inc"))


def headers_for(minor):
    root = pyenv_root()
    assert root, "no pyenv installation: cannot regenerate layout rows"
    found = sorted(root.glob("versions/%s.*/include/python%s" % (minor, minor)))
    assert found, "headers of Python %s not installed under %s" % (minor, root)
    return found[-1]


@pytest.mark.parametrize("row", LAYOUTS, ids=[p.stem for p in LAYOUTS])
def test_layout_row_is_current(row, tmp_path):
    minor = row.stem[len("py"):]
    inc = headers_for(minor)
    gen = tmp_path / "gen"
    subprocess.run(
        ["cc", "-w", "-I%s" % inc, "-I%s/internal" % inc,
         str(ROOT / "sampler" / "pylayout_gen.c"), "-o", str(gen)],
        check=True,
    )
    fresh = subprocess.run([str(gen)], check=True, capture_output=True, text=True).stdout
    assert fresh == row.read_text(), "%s is stale: run `make layouts`" % row
