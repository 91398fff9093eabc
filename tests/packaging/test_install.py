"""make install / make uninstall: PREFIX, DESTDIR and the directory
variables, the binary (the development build or, with INSTALL_BIN, the
self-contained one), the man page man finds, the bash completion."""
import os
import stat
import subprocess

from conftest import make


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def installed(destdir, prefix):
    base = destdir / prefix.lstrip("/")
    return {
        "bin": base / "bin" / "gil-prof",
        "man": base / "share" / "man" / "man1" / "gil-prof.1",
        "completion": base / "share" / "bash-completion" / "completions" / "gil-prof",
    }


def test_install_and_uninstall(dev_bin, version, tmp_path):
    dest = tmp_path / "stage"
    make("install", "DESTDIR=%s" % dest, "PREFIX=/usr/local")
    files = installed(dest, "/usr/local")
    assert files["bin"].read_bytes() == dev_bin.read_bytes() and mode(files["bin"]) == 0o755
    assert mode(files["man"]) == 0o644 and mode(files["completion"]) == 0o644
    r = subprocess.run([str(files["bin"]), "--version"], capture_output=True, text=True)
    assert r.stdout.strip() == "gil-prof " + version
    # man finds the page under the prefix and renders it without a warning.
    r = subprocess.run(["man", "--warnings", "-M", str(files["man"].parents[1]), "gil-prof"],
                       capture_output=True, text=True, env=dict(os.environ, MANWIDTH="80"))
    assert r.returncode == 0 and "GIL STATES" in r.stdout and not r.stderr.strip(), r.stderr
    # Someone else's file in the same directories stays.
    other = files["bin"].parent / "other-tool"
    other.write_text("#!/bin/sh\n")
    make("uninstall", "DESTDIR=%s" % dest, "PREFIX=/usr/local")
    assert not [f for f in files.values() if f.exists()], files
    assert other.exists()


def test_install_directories_and_dist_binary(dist_bin, tmp_path):
    dest = tmp_path / "stage"
    make("install", "DESTDIR=%s" % dest, "PREFIX=/opt/gp", "BINDIR=/opt/gp/sbin",
         "BASHCOMPDIR=/etc/bash_completion.d", "INSTALL_BIN=%s" % dist_bin)
    assert (dest / "opt/gp/sbin/gil-prof").read_bytes() == dist_bin.read_bytes()
    assert (dest / "opt/gp/share/man/man1/gil-prof.1").is_file()
    assert (dest / "etc/bash_completion.d/gil-prof").is_file()
    make("uninstall", "DESTDIR=%s" % dest, "PREFIX=/opt/gp", "BINDIR=/opt/gp/sbin",
         "BASHCOMPDIR=/etc/bash_completion.d")
    left = [p for p in dest.rglob("*") if p.is_file()]
    assert not left, left
