#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""gil-prof on Debian's own kernels: each kernel of matrix.txt booted in
qemu over a small Debian 12 root (the whole root is the initramfs), the
checks of guest.py run inside, one line per kernel and mode, a table at
the end, JSON lines in OUT/results.jsonl (the table in OUT/table.md, each
guest's console in OUT/NAME.console.log). Exits 1 when a result differs
from the matrix's expectation (a kernel expected ok that gives a wrong
answer, a refusal that is not one clear line naming what is missing).

Cached under $GIL_PROF_CACHE (default /var/cache/gil-prof): the root
(roots/kernels-bookworm, tests/roots/mkroot.sh), its cpio
(kernels/root-HASH.cpio), the unpacked kernels (kernels/PACKAGE_VERSION/).
The guest is booted with KVM when that works and otherwise with qemu's
TCG emulation (single-threaded: multi-threaded TCG ran stale code after
the kernel live-patched its text, ~1 boot in 12).
"""
import argparse
import contextlib
import fcntl
import glob
import hashlib
import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
import cpio  # noqa: E402
import debkernel  # noqa: E402

CACHE = pathlib.Path(os.environ.get("GIL_PROF_CACHE", "/var/cache/gil-prof"))
ROOT_NAME, ROOT_SUITE = "kernels-bookworm", "bookworm"
# python3 runs the checks and is the target (Debian's 3.11, stripped: the
# timeline uses the watchpoint); the libraries are those of the dynamic
# ./gil-prof, so either binary runs.
ROOT_PACKAGES = "python3,libbpf1,libdw1,libelf1,libprotobuf-c1,libjson-c5"
# Left out of the initramfs: nothing reads them, and every byte is copied
# into the guest's memory.
ROOT_EXCLUDE = ("usr/share/doc", "usr/share/man", "usr/share/locale", "usr/share/info",
                "usr/share/zoneinfo", "var/cache/apt", "var/lib/apt/lists", "var/log",
                "usr/share/perl5", "usr/lib/x86_64-linux-gnu/perl-base", "usr/share/i18n")
PYENV_EXCLUDE = ("test", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3",
                 "site-packages")
CPIO_RECIPE = "2"  # bump when the packing of the root changes
COLUMNS = (("wall", "wall"), ("cpu", "cpu"), ("native", "--native"),
           ("timeline-wp", "timeline wp --native"), ("timeline-up", "timeline up --native"),
           ("cpu-kernel", "cpu --kernel"), ("native-kernel", "--native --kernel"),
           ("subprocesses", "--subprocesses"))
MODES = [m for m, _ in COLUMNS]


def log(*a):
    print("kernels:", *a, file=sys.stderr, flush=True)


# --- the matrix --------------------------------------------------------------

def parse_matrix(path):
    """[{"name", "suite", "package", "expect": {mode: "ok"|"refused:WORD"|"skip"}}]"""
    rows = []
    for n, line in enumerate(pathlib.Path(path).read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        f = line.split()
        if len(f) < 4:
            raise SystemExit("%s:%d: want NAME SUITE PACKAGE expect=... [MODE=...]" % (path, n))
        expect = {}
        for kv in f[3:]:
            k, _, v = kv.partition("=")
            if not re.fullmatch(r"ok|skip|refused(:\S+)?", v) or (k != "expect" and k not in MODES):
                raise SystemExit("%s:%d: bad expectation %r" % (path, n, kv))
            if k == "expect":
                expect.update({m: v for m in MODES if m not in expect})
            else:
                expect[k] = v
        if len(expect) != len(MODES):
            raise SystemExit("%s:%d: no expect=" % (path, n))
        rows.append({"name": f[0], "suite": f[1], "package": f[2], "expect": expect})
    return rows


def meets(res, expect):
    """Whether one result is what the matrix expects."""
    if expect == "skip":
        return True
    if expect == "ok":
        return res.get("status") == "ok"
    if res.get("status") != "refused" or res.get("exit") in (None, 0, 1):
        return False
    # a refusal: one line, gil-prof's error form, naming the missing feature
    plain = res.get("plain_stderr", "")
    word = expect.partition(":")[2]
    return (res.get("plain_stderr_lines") == 1 and plain.startswith("gil-prof: error:")
            and word.lower() in plain.lower())


# --- the initramfs -----------------------------------------------------------

@contextlib.contextmanager
def cache_lock():
    """Runs at the same time (a helper and CI) make cache entries in turn."""
    (CACHE / "kernels").mkdir(parents=True, exist_ok=True)
    with open(CACHE / "kernels" / ".lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        yield


def root_dir():
    """The cached Debian root (made by mkroot.sh the first time)."""
    return subprocess.run([str(ROOT / "tests/roots/mkroot.sh"), ROOT_NAME, ROOT_SUITE, ROOT_PACKAGES],
                          check=True, stdout=subprocess.PIPE, text=True).stdout.strip()


def base_cpio():
    """The cached cpio of the Debian root."""
    with cache_lock():
        return _base_cpio()


def _base_cpio():
    root = root_dir()
    stamp = pathlib.Path(root, ".gil-prof-root").read_text() + CPIO_RECIPE + repr(ROOT_EXCLUDE)
    dest = CACHE / "kernels" / ("root-%s.cpio" % hashlib.sha256(stamp.encode()).hexdigest()[:16])
    if dest.exists():
        return dest
    log("packing %s into %s" % (root, dest))
    dest.parent.mkdir(parents=True, exist_ok=True)
    for old in dest.parent.glob("root-*.cpio"):
        old.unlink()
    tmp = dest.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        w = cpio.Writer(f)
        w.add_tree("", root, exclude=set(ROOT_EXCLUDE))
        w.close()
    tmp.rename(dest)
    return dest


def pyenv_python():
    """A pyenv CPython with take_gil/drop_gil symbols, for the uprobes timeline."""
    env = os.environ.get("KERNELS_UPROBES_PYTHON")
    if env:
        return pathlib.Path(env)
    try:
        root = subprocess.run(["pyenv", "root"], capture_output=True, text=True).stdout.strip()
    except OSError:
        root = ""
    root = root or os.path.expanduser("~/.pyenv")
    found = sorted(glob.glob(os.path.join(root, "versions/3.13.*/bin/python3.13")))
    if not found:
        raise SystemExit("kernels: no pyenv 3.13 for the uprobes timeline (set KERNELS_UPROBES_PYTHON)")
    return pathlib.Path(found[-1])


def missing_libs(binary, root):
    """The shared libraries of a dynamically linked binary (ldd, on this
    Debian 12 machine) that the Debian 12 root lacks: {soname: path}."""
    r = subprocess.run(["ldd", str(binary)], capture_output=True, text=True)
    libs = {}
    for line in r.stdout.splitlines():
        m = re.match(r"\s*(\S+) => (/\S+)", line)
        if m and not os.path.exists(os.path.join(root, m.group(2).lstrip("/"))):
            libs[m.group(1)] = os.path.realpath(m.group(2))
    return libs


def overlay_cpio(path, gil_prof, uprobes_python, guest_args):
    """What changes with each run: /init, the checks, the binary (and the
    libraries of a dynamic one that the root lacks), the pyenv interpreter
    (at its own path, so it finds its library)."""
    prefix = uprobes_python.resolve().parent.parent
    with open(path, "wb") as f:
        w = cpio.Writer(f)
        # under usr/: the root's /lib is a symbolic link, which a
        # directory entry of that name would replace
        for soname, real in sorted(missing_libs(gil_prof, root_dir()).items()):
            w.add_path("usr/lib/x86_64-linux-gnu/" + soname, real)
        w.add_node("dev/console", 0o020000, 5, 1)
        w.add_path("init", str(HERE / "init.sh"))
        for name in ("guest.py", "target.py"):
            w.add_path("kt/" + name, str(HERE / name))
        w.add_path("kt/gil-prof", str(gil_prof))
        w.add_bytes("kt/args", " ".join(guest_args).encode())
        lib = [str(p.relative_to(prefix)) for p in prefix.glob("lib/python3.*/")]
        exclude = {os.path.join(d, x) for d in lib for x in PYENV_EXCLUDE}
        exclude |= {str(p.relative_to(prefix)) for p in prefix.glob("lib/python3.*/config-*")}
        exclude |= {"include", "share", "lib/pkgconfig"}
        w.add_tree(str(prefix).lstrip("/"), str(prefix), exclude=exclude)
        w.close()


# --- booting -----------------------------------------------------------------

def qemu_cmd(kernel, initrd, accel, console, results):
    cmd = ["qemu-system-x86_64", "-nodefaults", "-no-reboot", "-display", "none",
           "-m", "2G", "-smp", "2", "-kernel", str(kernel / "vmlinuz"), "-initrd", str(initrd),
           "-append", "console=ttyS0 panic=-1 loglevel=4 mitigations=off",
           "-serial", "file:%s" % console, "-serial", "file:%s" % results]
    if accel == "kvm":
        cmd[1:1] = ["-enable-kvm", "-cpu", "host"]
    else:
        cmd[1:1] = ["-accel", "tcg,thread=single", "-cpu", "max"]
    return cmd


def boot(kernel, initrd, accel, work, boot_timeout, total_timeout):
    """Boot once: (results lines, why it ended). boot_timeout: seconds until
    init.sh's KT-BOOT line, total_timeout: until KT-DONE."""
    console, results = work / ("console-%s.log" % accel), work / ("results-%s.log" % accel)
    for p in (console, results):
        p.write_text("")
    q = subprocess.Popen(qemu_cmd(kernel, initrd, accel, console, results),
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=open(work / "qemu.err", "w"), start_new_session=True)
    start, why = time.monotonic(), None
    try:
        while True:
            text = results.read_text(errors="replace")
            elapsed = time.monotonic() - start
            if "KT-DONE" in text or "KT-NOBTF" in text:
                why = "done"
                break
            if q.poll() is not None:
                why = "qemu exited (%d) before the checks ended" % q.returncode
                break
            if "KT-BOOT" not in text and elapsed > boot_timeout:
                why = "no boot within %d s" % boot_timeout
                break
            if elapsed > total_timeout:
                why = "checks unfinished after %d s" % total_timeout
                break
            time.sleep(1)
        if why == "done":
            try:
                q.wait(timeout=60)  # the guest powers off
            except subprocess.TimeoutExpired:
                pass
    finally:
        if q.poll() is None:
            q.kill()
        q.wait()
    return results.read_text(errors="replace").splitlines(), why, time.monotonic() - start


def run_kernel(row, initrd, accel_state, args):
    with cache_lock():
        kdir = debkernel.fetch(row["name"], row["suite"], row["package"], CACHE / "kernels")
    pkg, version, _ = (kdir / "package").read_text().split()
    work = pathlib.Path(tempfile.mkdtemp(prefix="kernel-", dir=args.out))
    lines, why, accel, secs = [], None, None, 0
    for accel in (["kvm", "tcg"] if accel_state["kvm"] else ["tcg"]):
        bt = args.kvm_probe if accel == "kvm" else args.boot_timeout
        log("%s: booting %s %s (%s)" % (row["name"], pkg, version, accel))
        lines, why, secs = boot(kdir, initrd, accel, work, bt, args.boot_timeout + args.checks_timeout)
        if accel == "kvm" and not any(l.startswith("KT-BOOT") for l in lines):
            log("%s: KVM did not boot it (%s); TCG from now on" % (row["name"], why))
            accel_state["kvm"] = False
            continue
        break
    results = {}
    uname = next((l.split()[1] for l in lines if l.startswith("KT-BOOT ")), None)
    for l in lines:
        if l.startswith("KT-RESULT "):
            try:
                r = json.loads(l[len("KT-RESULT "):])
            except ValueError:
                continue
            results[r["mode"]] = r
    tail = ""
    if why != "done" or not results:
        con = (work / ("console-%s.log" % accel)).read_text(errors="replace").splitlines()
        tail = " | ".join(l.strip() for l in con[-4:])[-300:]
        if any(l.startswith("KT-NOBTF") for l in lines):
            why = "no /sys/kernel/btf/vmlinux"
    out = []
    for mode in args.modes:
        r = results.get(mode) or {"mode": mode, "status": "error",
                                  "why": "no result: %s; console: %s" % (why, tail)}
        r.update(kernel=row["name"], package=pkg, version=version, suite=row["suite"],
                 accel=accel, boot_seconds=round(secs), expect=row["expect"][mode], uname=uname)
        r["pass"] = meets(r, r["expect"])
        out.append(r)
    # the guest's console stays for whoever reads a failure
    shutil.copyfile(work / ("console-%s.log" % accel), pathlib.Path(args.out, "%s.console.log" % row["name"]))
    shutil.rmtree(work, ignore_errors=True)
    return out


def run_host(args, uprobes_python):
    """This machine's own kernel, without qemu (the baseline)."""
    r = subprocess.run([sys.executable, str(HERE / "guest.py"), "--gil-prof", str(args.gil_prof),
                        "--python", "/usr/bin/python3.11", "--uprobes-python", str(uprobes_python),
                        "--duration", str(args.duration), "--modes", ",".join(args.modes)],
                       stdout=subprocess.PIPE, text=True)
    out = []
    got = {}
    for l in r.stdout.splitlines():
        if l.startswith("KT-RESULT "):
            x = json.loads(l[len("KT-RESULT "):])
            got[x["mode"]] = x
    for mode in args.modes:
        x = got.get(mode) or {"mode": mode, "status": "error", "why": "no result"}
        x.update(kernel="host", package="-", version=os.uname().release, suite="-",
                 accel="none", expect="ok", uname=os.uname().release)
        x["pass"] = meets(x, "ok")
        out.append(x)
    return out


# --- reporting ---------------------------------------------------------------

def cell(r):
    s = r["status"]
    text = {"ok": "ok", "wrong": "**wrong**", "error": "error"}.get(s)
    if s in ("refused", "untrusted"):
        text = "%s (%s)" % (s, r.get("exit"))
    if not r["pass"]:
        text += " ✗"
    return text


def note(rs):
    bad = [r for r in rs if r["status"] != "ok"]
    parts = []
    if bad:
        r = bad[0]
        parts.append("%s: %s" % (r["mode"], (r.get("why") or r.get("plain_stderr") or r.get("stderr", ""))[:160]))
    insns = [(n, p, r["mode"]) for r in rs
             for p, n in (r.get("insns") or r.get("insns_v") or {}).items() if n]
    if insns:
        n, p, mode = max(insns)
        parts.append("max %d insns (%s, %s)" % (n, p, mode))
    return "; ".join(parts) or "—"


def table(all_rows, modes):
    cols = [(m, h) for m, h in COLUMNS if m in modes]
    lines = ["| kernel | " + " | ".join(h for _, h in cols) + " | note |",
             "|---" * (len(cols) + 2) + "|"]
    for name, rs in all_rows:
        by = {r["mode"]: r for r in rs}
        label = "%s (%s)" % (name, rs[0]["version"]) if rs else name
        lines.append("| %s | %s | %s |" % (label, " | ".join(cell(by[m]) for m, _ in cols), note(rs)))
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--matrix", default=str(HERE / "matrix.txt"))
    ap.add_argument("--only", help="comma-separated kernel names of the matrix")
    ap.add_argument("--host", action="store_true", help="also this machine's kernel, without qemu")
    ap.add_argument("--gil-prof", default=str(ROOT / ".output/dist/gil-prof"))
    ap.add_argument("--out", default=str(ROOT / ".output/kernels"))
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--duration", type=float, default=3.0, help="seconds per recording")
    ap.add_argument("--accel", choices=("auto", "tcg", "kvm"), default="auto")
    ap.add_argument("--kvm-probe", type=float, default=30, help="seconds KVM gets to reach init")
    ap.add_argument("--boot-timeout", type=float, default=300, help="seconds TCG gets to reach init")
    ap.add_argument("--checks-timeout", type=float, default=900, help="seconds for the checks")
    ap.add_argument("--mode-timeout", type=float, default=120,
                    help="seconds a recording may take past its duration")
    args = ap.parse_args()
    # SIGTERM unwinds like Ctrl-C: qemu killed, the run's initrd removed
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    args.modes = args.modes.split(",")
    args.gil_prof = pathlib.Path(args.gil_prof).resolve()
    if not args.gil_prof.exists():
        raise SystemExit("kernels: %s does not exist (make dist, or --gil-prof)" % args.gil_prof)
    rows = parse_matrix(args.matrix)
    if args.only:
        want = args.only.split(",")
        unknown = set(want) - {r["name"] for r in rows}
        if unknown:
            raise SystemExit("kernels: not in %s: %s" % (args.matrix, ", ".join(sorted(unknown))))
        rows = [r for r in rows if r["name"] in want]
    os.makedirs(args.out, exist_ok=True)
    uprobes_python = pyenv_python()
    jsonl = pathlib.Path(args.out, "results.jsonl")
    jsonl.write_text("")
    all_rows = []

    def record(name, rs):
        all_rows.append((name, rs))
        with open(jsonl, "a") as f:
            for r in rs:
                f.write(json.dumps(r, sort_keys=True) + "\n")
                print("kernels: %-10s %-13s %-8s %s%s" % (
                    name, r["mode"], r["status"], "" if r["pass"] else "UNEXPECTED (want %s) " % r["expect"],
                    (r.get("why") or r.get("plain_stderr") or r.get("stderr", ""))[:200]), flush=True)

    if args.host:
        record("host", run_host(args, uprobes_python))
    if rows:
        guest_args = ["--gil-prof", "/kt/gil-prof", "--python", "/usr/bin/python3",
                      "--uprobes-python", str(uprobes_python), "--duration", str(args.duration),
                      "--timeout", str(args.mode_timeout), "--modes", ",".join(args.modes)]
        (CACHE / "kernels").mkdir(parents=True, exist_ok=True)
        base = base_cpio()
        fd, initrd = tempfile.mkstemp(prefix="initrd-", suffix=".cpio", dir=CACHE / "kernels")
        os.close(fd)
        initrd = pathlib.Path(initrd)
        try:
            shutil.copyfile(base, initrd)
            overlay = initrd.with_suffix(".overlay")
            overlay_cpio(overlay, args.gil_prof, uprobes_python, guest_args)
            with open(initrd, "ab") as f, open(overlay, "rb") as o:
                shutil.copyfileobj(o, f)
            overlay.unlink()
            accel_state = {"kvm": args.accel in ("auto", "kvm") and os.access("/dev/kvm", os.W_OK)}
            if args.accel == "tcg":
                accel_state["kvm"] = False
            for row in rows:
                try:
                    rs = run_kernel(row, initrd, accel_state, args)
                except debkernel.KernelError as e:
                    rs = [{"mode": m, "status": "error", "why": str(e), "version": "?",
                           "expect": row["expect"][m], "pass": False} for m in args.modes]
                record(row["name"], rs)
        finally:
            initrd.unlink(missing_ok=True)
    print()
    print(table(all_rows, args.modes))
    pathlib.Path(args.out, "table.md").write_text(table(all_rows, args.modes) + "\n")
    failed = [(n, r["mode"]) for n, rs in all_rows for r in rs if not r["pass"]]
    if failed:
        print("\nkernels: %d result(s) not as expected: %s" % (
            len(failed), ", ".join("%s %s" % f for f in failed)))
        return 1
    print("\nkernels: every result as expected (%s)" % jsonl)
    return 0


if __name__ == "__main__":
    sys.exit(main())
