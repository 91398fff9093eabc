"""The wheel (make wheel): pip installs it into a fresh virtual environment
as any binary-only wheel (no index, no Python code), the gil-prof it puts
in the venv's bin/ records a real Python program, pip uninstalls it whole,
and the tag check `make wheel` runs refuses a wheel whose binary does not
match its tag."""
import re
import shutil
import subprocess
import sys
import zipfile

from conftest import ROOT, TARGETS, check_demo_profile

WHEEL_VENV = ROOT / ".output" / "wheel" / "venv"
WHEEL_SRC = ROOT / ".output" / "wheel" / "src"
CHECK_WHEEL = ROOT / "packaging" / "check_wheel.py"


def run(*args, **kw):
    r = subprocess.run(list(map(str, args)), capture_output=True, text=True, timeout=300, **kw)
    assert r.returncode == 0, "%s failed:\n%s\n%s" % (" ".join(map(str, args)), r.stdout, r.stderr)
    return r


def test_wheel_name_and_contents(wheel, version):
    m = re.fullmatch(r"gil_prof-(.+)-py3-none-manylinux_(\d+)_(\d+)_x86_64\.whl", wheel.name)
    assert m and m.group(1) == version, wheel.name
    assert (int(m.group(2)), int(m.group(3))) <= (2, 31), wheel.name
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        wheel_meta = z.read("gil_prof-%s.dist-info/WHEEL" % version).decode()
    data = "gil_prof-%s.data/" % version
    assert {data + "scripts/gil-prof", data + "data/share/man/man1/gil-prof.1",
            data + "data/share/bash-completion/completions/gil-prof"} <= names, names
    assert not [n for n in names if n.endswith((".py", ".pyc", ".so"))], names
    assert "Root-Is-Purelib: false" in wheel_meta
    assert "Tag: py3-none-manylinux_%s_%s_x86_64" % (m.group(2), m.group(3)) in wheel_meta


def test_pip_install_in_fresh_venv(wheel, dist_bin, version, tmp_path):
    venv = tmp_path / "venv"
    run("/usr/bin/python3", "-m", "venv", venv)
    run(venv / "bin" / "pip", "install", "--no-index", "--disable-pip-version-check", wheel)
    exe = venv / "bin" / "gil-prof"
    assert exe.read_bytes() == dist_bin.read_bytes()
    assert run(exe, "--version").stdout.strip() == "gil-prof " + version
    assert (venv / "share" / "man" / "man1" / "gil-prof.1").is_file()
    assert (venv / "share" / "bash-completion" / "completions" / "gil-prof").is_file()
    # man finds the page from the venv's bin/ on PATH (man-db maps bin to share/man).
    page = subprocess.run(["man", "-w", "gil-prof"], capture_output=True, text=True,
                          env={"PATH": "%s:/usr/bin:/bin" % (venv / "bin"), "MANPATH": ""})
    assert page.stdout.strip() == str(venv / "share" / "man" / "man1" / "gil-prof.1"), page

    out = tmp_path / "demo.folded"
    script = str(TARGETS / "demo_app.py")
    r = subprocess.run([str(exe), "record", "-o", str(out), "--", str(venv / "bin" / "python"),
                        script, "3"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    check_demo_profile(out, script, "the wheel's gil-prof", names=False)

    run(venv / "bin" / "pip", "uninstall", "-y", "--disable-pip-version-check", "gil-prof")
    assert not exe.exists()
    assert not (venv / "share" / "man" / "man1" / "gil-prof.1").exists()


def test_tag_check_refuses_a_mismatched_wheel(dev_bin, tmp_path):
    """The development build links libbpf and others dynamically: a wheel of
    it claiming manylinux_2_28 must be refused."""
    src = tmp_path / "src"
    shutil.copytree(WHEEL_SRC, src, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    shutil.copy(dev_bin, src / "gil-prof")
    env = {"GIL_PROF_VERSION": "0.0.0", "GIL_PROF_PLATFORM_TAG": "manylinux_2_28_x86_64",
           "PATH": "/usr/bin:/bin"}
    run(WHEEL_VENV / "bin" / "python", "-m", "build", "--wheel", "--no-isolation", "--outdir",
        tmp_path, src, env=env)
    bad = next(tmp_path.glob("*.whl"))
    r = subprocess.run([sys.executable, str(CHECK_WHEEL), "--auditwheel",
                        str(WHEEL_VENV / "bin" / "auditwheel"), str(bad)],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "auditwheel finds linux_x86_64" in r.stderr, r.stdout + r.stderr
