"""Build the gpnative test extension for one interpreter, with its headers.

Used by tests/functional/test_native.py and bench/native_cost.py:

    ext_dir = gpnative_build.build("/path/to/python3", "/tmp/somewhere")
    # then: python3 native_app.py ext_dir MODE

An interpreter that runs chrooted into ROOT (the tests' Debian sid root)
names its headers by their path inside: build(python, outdir, root=ROOT)
compiles with ROOT's headers (outdir must be visible at the same path
inside, as /tmp is there).
"""
import json
import os
import pathlib
import subprocess

SOURCE = pathlib.Path(__file__).resolve().parent / "gpnative.c"


def build(python, outdir, root="/"):
    """Compile gpnative.c into outdir for python; returns outdir. Raises on failure."""
    info = json.loads(
        subprocess.run(
            [python, "-c",
             "import json, sysconfig; print(json.dumps({'inc': sysconfig.get_paths()['include'],"
             " 'ext': sysconfig.get_config_var('EXT_SUFFIX')}))"],
            check=True, capture_output=True, text=True, timeout=60,
        ).stdout
    )
    inc = os.path.join(root, info["inc"].lstrip("/"))
    if not os.path.exists(os.path.join(inc, "Python.h")):
        raise RuntimeError("no Python.h for %s in %s (install its -dev package)" % (python, inc))
    # A root's pyconfig.h includes its arch-specific one from its /usr/include.
    extra = [] if root == "/" else ["-idirafter", os.path.join(root, "usr/include")]
    outdir = pathlib.Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    out = outdir / ("gpnative" + info["ext"])
    # No sibling calls: every C function stays on the stack it calls from.
    subprocess.run(
        [os.environ.get("CC", "cc"), "-shared", "-fPIC", "-O2", "-g", "-fno-optimize-sibling-calls",
         "-I" + inc, *extra, str(SOURCE), "-o", str(out), "-lpthread"],
        check=True, capture_output=True, text=True, timeout=120,
    )
    return str(outdir)
