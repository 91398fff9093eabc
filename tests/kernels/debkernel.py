# SPDX-License-Identifier: BSD-2-Clause
"""Debian kernel packages: find the newest one matching a pattern in a
suite's signed Packages index, download it (and from 7.0 the
linux-binary-* package it depends on), unpack vmlinuz and config.

The chain of trust is apt's: the suite's InRelease is checked with gpgv
against debian-archive-keyring, the Packages index against the SHA256 in
InRelease, the .deb against the SHA256 in the index.
"""
import functools
import hashlib
import lzma
import re
import os
import pathlib
import shutil
import subprocess
import tempfile
import urllib.request

MIRROR = os.environ.get("DEBIAN_MIRROR", "http://deb.debian.org/debian")
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"


class KernelError(Exception):
    pass


def _get(url, timeout=120):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.read()
    except OSError as e:
        raise KernelError("cannot download %s: %s" % (url, e)) from e


def _verified_release(suite, work):
    """The text of the suite's InRelease, its signature checked."""
    signed = work / ("%s.InRelease" % suite)
    signed.write_bytes(_get("%s/dists/%s/InRelease" % (MIRROR, suite)))
    out = work / ("%s.Release" % suite)
    r = subprocess.run(["gpgv", "--keyring", KEYRING, "--output", str(out), str(signed)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise KernelError("InRelease of %s: bad signature: %s" % (suite, r.stderr.strip()[-300:]))
    return out.read_text()


def _sha256_of(release, path):
    in_sha = False
    for line in release.splitlines():
        if not line.startswith(" "):
            in_sha = line.startswith("SHA256:")
            continue
        f = line.split()
        if in_sha and len(f) == 3 and f[2] == path:
            return f[0]
    raise KernelError("%s is not listed in the Release file" % path)


def _stanzas(text):
    for block in text.split("\n\n"):
        fields = {}
        for line in block.splitlines():
            if line and not line[0].isspace() and ":" in line:
                k, v = line.split(":", 1)
                fields[k] = v.strip()
        if fields:
            yield fields


def _version_cmp(a, b):
    if a == b:
        return 0
    lt = subprocess.run(["dpkg", "--compare-versions", a, "lt", b]).returncode == 0
    return -1 if lt else 1


def index(suite, work):
    """The stanzas of the suite's main/binary-amd64 Packages index, checked."""
    release = _verified_release(suite, work)
    rel_path = "main/binary-amd64/Packages.xz"
    want = _sha256_of(release, rel_path)
    data = _get("%s/dists/%s/%s" % (MIRROR, suite, rel_path))
    if hashlib.sha256(data).hexdigest() != want:
        raise KernelError("Packages index of %s: checksum mismatch" % suite)
    return list(_stanzas(lzma.decompress(data).decode()))


def find(suite, pattern, work, stanzas=None):
    """The stanza of the newest package of suite whose name matches the
    regular expression pattern (whole name)."""
    stanzas = index(suite, work) if stanzas is None else stanzas
    found = [s for s in stanzas if re.fullmatch(pattern, s.get("Package", ""))]
    if not found:
        raise KernelError("no package matching %s in %s" % (pattern, suite))
    found.sort(key=functools.cmp_to_key(lambda a, b: _version_cmp(a["Version"], b["Version"])))
    return found[-1]


def _unpack(stanza, work, tree):
    url = "%s/%s" % (MIRROR, stanza["Filename"])
    deb = work / "k.deb"
    deb.write_bytes(_get(url, timeout=600))
    if hashlib.sha256(deb.read_bytes()).hexdigest() != stanza["SHA256"]:
        raise KernelError("%s: checksum mismatch" % url)
    subprocess.run(["dpkg-deb", "-x", str(deb), str(tree)], check=True)
    deb.unlink()


def fetch(name, suite, pattern, cache):
    """The cached unpacked kernel of a matrix row: a directory holding
    vmlinuz, config and package (name, version, suite), made once."""
    cache = pathlib.Path(cache)
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix=".work-") as tmp:
        work = pathlib.Path(tmp)
        stanzas = index(suite, work)
        st = find(suite, pattern, work, stanzas)
        pkg, version = st["Package"], st["Version"]
        dest = cache / ("%s_%s" % (pkg, version.replace(":", "%3a")))
        if (dest / "package").exists():
            return dest
        tree = work / "x"
        _unpack(st, work, tree)
        # From 7.0 the image package is a meta package: the kernel itself
        # is in the linux-binary-* package it depends on.
        deps = [d.strip().split()[0] for d in st.get("Depends", "").replace("|", ",").split(",")]
        for dep in deps:
            if dep.startswith("linux-binary-"):
                _unpack(find(suite, re.escape(dep), work, stanzas), work, tree)
        # 6.19+ install vmlinuz under /usr/lib/modules/VERSION/ only.
        images = sorted(tree.glob("boot/vmlinuz-*")) + sorted(tree.glob("usr/lib/modules/*/vmlinuz"))
        configs = sorted(tree.glob("boot/config-*")) + sorted(tree.glob("usr/lib/modules/*/config"))
        if not images:
            raise KernelError("%s holds no vmlinuz" % pkg)
        new = work / "out"
        new.mkdir()
        shutil.copy(images[0], new / "vmlinuz")
        if configs:
            shutil.copy(configs[0], new / "config")
        (new / "package").write_text("%s %s %s\n" % (pkg, version, suite))
        if dest.exists():
            shutil.rmtree(dest)
        new.rename(dest)
    return dest
