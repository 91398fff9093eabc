"""`make demo` on a fresh Debian 12 (long form only: `make distros`).

A clone of this repository (its committed HEAD) in a clean debootstrap
root of bookworm (minbase: nothing but apt and the essential packages,
and make, the one command the README asks for),
entered through a copy-on-write overlay (in_root.sh): `make demo` there
must install what it needs with apt, build, profile the bundled example
and write its profile, and install none of the packages that only the
tests, the benchmarks or the packaging targets need. The size of what it
installed goes to .output/packaging/fresh-demo.json.
"""
import json
import os
import re
import subprocess

import pytest

from conftest import IN_ROOT, MKROOT, ROOT, check_demo_profile

SUITES = os.environ.get("GIL_PROF_FRESH_DEMO", "bookworm").split()
RESULTS = ROOT / ".output" / "packaging" / "fresh-demo.json"


def makefile_list(name):
    """The words of a `NAME := ...` package list of the Makefile."""
    text = (ROOT / "Makefile").read_text().replace("\\\n", " ")
    m = re.search(r"^%s :?= (.*)$" % name, text, re.M)
    assert m, name
    return set(m.group(1).split())


def packages(admindir):
    """{package: installed size in KiB} of a dpkg database."""
    r = subprocess.run(["dpkg-query", "--admindir=%s" % admindir, "-W",
                        "-f=${Package} ${db:Status-Status} ${Installed-Size}\n"],
                       capture_output=True, text=True, check=True)
    out = {}
    for line in r.stdout.splitlines():
        name, status, size = (line.split() + ["0"])[:3]
        if status == "installed":
            out[name] = int(size or 0)
    return out


@pytest.mark.parametrize("suite", SUITES)
def test_make_demo_on_a_fresh_machine(suite, tmp_path):
    r = subprocess.run(["nice", "-n", "10", str(MKROOT), "fresh-" + suite, suite, "make"],
                       capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stderr
    root = r.stdout.strip().splitlines()[-1]
    work = tmp_path / "root"
    src = work / "upper" / "src" / "gil-prof"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(src)], check=True)
    before = packages(os.path.join(root, "var/lib/dpkg"))

    r = subprocess.run(["nice", "-n", "10", str(IN_ROOT), root, str(work), "/bin/sh", "-c",
                        "cd /src/gil-prof && make demo"],
                       capture_output=True, text=True, timeout=3600)
    assert r.returncode == 0, (r.stdout + r.stderr)[-6000:]
    assert "Hottest stacks" in r.stdout and "Profile written to" in r.stdout, r.stdout[-3000:]
    demo = src / ".output" / "demo"
    check_demo_profile(demo / "profile.folded", "/src/gil-prof/tests/targets/demo_app.py",
                       "make demo on a fresh %s" % suite, names=False)
    assert (demo / "profile.svg").read_text().startswith("<?xml")

    after = packages(work / "upper" / "var" / "lib" / "dpkg")
    added = {p: s for p, s in after.items() if p not in before}
    wanted = makefile_list("DEB_BUILD_PACKAGES") | makefile_list("DEB_RUN_PACKAGES")
    assert wanted <= set(after), "not installed: %s" % (wanted - set(after))
    test_only = (makefile_list("DEB_TEST_PACKAGES") | makefile_list("DEB_BENCH_PACKAGES")) - wanted
    assert not test_only & set(added), "make demo installed test-only packages: %s" % (
        sorted(test_only & set(added)))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"suite": suite, "packages_added": len(added),
                                   "installed_mib": round(sum(added.values()) / 1024, 1)}) + "\n")
    print("make demo on a fresh %s: %d packages, %.0f MiB installed"
          % (suite, len(added), sum(added.values()) / 1024))
