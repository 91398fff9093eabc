"""The self-contained binary (make dist): only glibc linked dynamically, no
symbol newer than glibc 2.31 (Debian 11, Ubuntu 20.04, RHEL 9), every
other library inside, and it profiles like the development build.

Read with binutils (objdump -T, readelf -d, nm) here, independently of
packaging/elfcheck.py, which `make dist` runs; that checker is shown to
refuse the binaries it must refuse.
"""
import re
import subprocess
import sys

from conftest import ROOT, TARGETS, check_demo_profile, parse_folded

# The promise: Debian 11 and Ubuntu 20.04 have glibc 2.31, RHEL 9 2.34.
GLIBC_BASELINE = (2, 31)
GLIBC_LIBS = {"libc.so.6", "libpthread.so.0", "libdl.so.2", "libm.so.6", "librt.so.1",
              "ld-linux-x86-64.so.2"}
# One function of each library linked in, defined in the binary.
STATIC_SYMBOLS = {
    "libbpf": "bpf_object__open_mem",
    "libelf": "elf_begin",
    "libdw": "dwfl_begin",
    "zlib": "deflate",
    "liblzma": "lzma_code",
    "libbz2": "BZ2_bzDecompress",
    "protobuf-c": "protobuf_c_message_pack",
    "json-c": "json_object_new_object",
    "libmicrohttpd": "MHD_start_daemon",   # the agent's /metrics
    "ncurses": "initscr",                  # top
}
ELFCHECK = ROOT / "packaging" / "elfcheck.py"


def run(*args):
    return subprocess.run(list(map(str, args)), capture_output=True, text=True, check=True).stdout


def glibc_versions(binary):
    """{symbol: (major, minor)} for every glibc version the binary binds."""
    out = {}
    for line in run("objdump", "-T", binary).splitlines():
        m = re.search(r"GLIBC_(\d+)\.(\d+)(?:\.\d+)?\)?\s+(\S+)$", line)
        if m:
            out[m.group(3)] = (int(m.group(1)), int(m.group(2)))
    return out


def test_glibc_baseline(dist_bin):
    versions = glibc_versions(dist_bin)
    assert len(versions) > 50, versions  # it does call glibc
    newest = max(versions.values())
    too_new = sorted(s for s, v in versions.items() if v > GLIBC_BASELINE)
    assert not too_new, "symbols newer than glibc %d.%d: %s" % (*GLIBC_BASELINE,
                                                                  ["%s@%d.%d" % (s, *versions[s])
                                                                   for s in too_new])
    assert "GLIBC_PRIVATE" not in run("objdump", "-T", dist_bin)
    print("glibc baseline: %d.%d" % newest)


def test_only_glibc_is_dynamic(dist_bin):
    dyn = run("readelf", "-d", dist_bin)
    needed = set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", dyn))
    assert needed and needed <= GLIBC_LIBS, needed
    assert "RPATH" not in dyn and "RUNPATH" not in dyn, dyn
    assert "/lib64/ld-linux-x86-64.so.2" in run("readelf", "-l", dist_bin)


def test_libraries_are_inside(dist_bin):
    defined = set(re.findall(r"^\S+ [TtWw] (\S+)$", run("nm", dist_bin), re.M))
    missing = {lib: sym for lib, sym in STATIC_SYMBOLS.items() if sym not in defined}
    assert not missing, "not linked in: %s" % missing
    # The BPF objects are inside too (skeletons): nothing is read from disk.
    assert b"gilprof_bpf" in dist_bin.read_bytes()


def test_version(dist_bin, version):
    assert run(dist_bin, "--version").strip() == "gil-prof " + version


def test_records_like_the_development_build(dist_bin, tmp_path):
    """Debian's stripped static python3.11, launched; and --native, where
    libdw (linked in) unwinds the native stacks."""
    out = tmp_path / "demo.folded"
    script = str(TARGETS / "demo_app.py")
    r = subprocess.run([str(dist_bin), "record", "-o", str(out), "--", "/usr/bin/python3.11",
                        script, "3"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    check_demo_profile(out, script, "make dist, Debian's python3.11", names=False)

    native = tmp_path / "native.folded"
    r = subprocess.run([str(dist_bin), "record", "--native", "-d", "2", "-o", str(native), "--",
                        "/usr/bin/python3.11", script, "3"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    stacks = parse_folded(native)
    libc = sum(c for frames, c in stacks if any(f.endswith("(libc.so.6)") for f in frames))
    merged = sum(c for frames, c in stacks
                 if any(f.endswith("(python3.11)") for f in frames)
                 and any("demo_app.py" in f for f in frames))
    assert libc > 0 and merged > 0, "native frames missing: %s" % stacks[:5]


def test_elfcheck_refuses_what_it_must(dev_bin, tmp_path):
    """`make dist` relies on elfcheck.py: it refuses a binary linking other
    libraries dynamically, and one needing a glibc newer than the limit."""
    r = subprocess.run([sys.executable, str(ELFCHECK), "--glibc-max", "2.31", str(dev_bin)],
                       capture_output=True, text=True)
    assert r.returncode != 0 and "libbpf.so" in r.stderr, r.stderr
    src = tmp_path / "new.c"
    src.write_text("#include <sys/stat.h>\nint main(void) { struct stat s; return stat(\"/\", &s); }\n")
    subprocess.run(["cc", str(src), "-o", str(tmp_path / "new")], check=True)
    r = subprocess.run([sys.executable, str(ELFCHECK), "--glibc-max", "2.31", str(tmp_path / "new")],
                       capture_output=True, text=True)
    # Built against this machine's glibc (2.36): stat@GLIBC_2.33, __libc_start_main@GLIBC_2.34.
    assert r.returncode != 0 and "newer than 2.31" in r.stderr, r.stderr
    ok = subprocess.run([sys.executable, str(ELFCHECK), "--glibc-max", "2.36", str(tmp_path / "new")],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
