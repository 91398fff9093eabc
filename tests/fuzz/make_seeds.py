"""Write the seed corpus of the fuzz targets into tests/fuzz/corpus/.

Run once by hand (any python3) when the formats change; the seeds are
checked in. Seeds are real data: line tables of every interpreter (from
tests/unit/linetable_vectors.h), str and code objects laid out with the
generated layout rows, this machine's maps, a tiny ELF with the symbols
gil-prof looks for.
"""
import os
import pathlib
import re
import struct
import subprocess
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CORPUS = HERE / "corpus"
FORMATS = {"GP_LINETABLE_LNOTAB": 1, "GP_LINETABLE_PEP626": 2, "GP_LINETABLE_LOCATIONS": 3}


def write(name, key, data):
    d = CORPUS / name
    d.mkdir(parents=True, exist_ok=True)
    (d / key).write_bytes(data)


def layout(minor):
    text = (ROOT / "sampler" / "target" / "layouts" / ("py3.%d.inc" % minor)).read_text()
    return {k: int(v, 0) for k, v in re.findall(r"\.(\w+) = (-?\w+),", text)}


def linetable_seeds():
    text = (ROOT / "tests" / "unit" / "linetable_vectors.h").read_text()
    for block in text.split("/* Python ")[1:]:
        ver = block.split(" ")[0]
        fmt = FORMATS[re.search(r"\.format = (\w+)", block).group(1)]
        first = int(re.search(r"\.firstlineno = (\d+)", block).group(1))
        table = bytes(int(x, 16) for x in re.search(r"\.table = [^{]*\{([^}]*)\}", block).group(1).replace(",", " ").split())
        for lasti in (0, 6, 40):
            write("fuzz_linetable", "py%s-%d" % (ver, lasti), struct.pack("<Bii", fmt, first, lasti) + table)


def str_object(L, text):
    chars = [ord(c) for c in text]
    kind = 1 if max(chars) < 256 else 2 if max(chars) < 65536 else 4
    ascii_ = max(chars) < 128
    state = kind << L["str_kind_shift"] | L["str_compact_mask"] | (L["str_ascii_mask"] if ascii_ else 0)
    data_at = L["str_ascii_data"] if ascii_ else L["str_compact_data"]
    buf = bytearray(data_at + len(chars) * kind + 8)
    struct.pack_into("<Q", buf, L["str_length"], len(chars))
    struct.pack_into("<I", buf, L["str_state"], state)
    fmt = {1: "B", 2: "H", 4: "I"}[kind]
    struct.pack_into("<%d%s" % (len(chars), fmt), buf, data_at, *chars)
    return bytes(buf)


def pystr_seeds():
    for minor in (9, 12):
        L = layout(minor)
        for i, text in enumerate(["worker", "wörker", "計算", "𠀀𠀁", "🐍_task"]):
            write("fuzz_pystr", "py3.%d-%d" % (minor, i), str_object(L, text))


def symbolize_seed():
    """A memory image with a 3.12 code object at offset 0 (see fuzz_symbolize.c)."""
    L = layout(12)
    image = bytearray(2048)
    code_type = 0xC0DE
    name = str_object(L, "Worker.run")
    image[1024:1024 + len(name)] = name
    image[1280:1280 + len(name)] = name
    table = bytes([0x80 | 13 << 3 | 1, 0, 0x80 | 13 << 3 | 1, 2])
    struct.pack_into("<Q", image, 1536 + L["bytes_size"], len(table))
    image[1536 + L["bytes_data"]:1536 + L["bytes_data"] + len(table)] = table
    base = 0x7F0000000000
    struct.pack_into("<Q", image, L["code_name"], base + 1024)
    struct.pack_into("<Q", image, L["code_qualname"], base + 1280)
    struct.pack_into("<Q", image, L["code_filename"], base + 1024)
    struct.pack_into("<Q", image, L["code_linetable"], base + 1536)
    struct.pack_into("<i", image, L["code_firstlineno"], 10)
    # header: layout 3 (3.12 row), 3 frames, has tstate, walk complete;
    # frame records (code offset 0, lasti 2, firstlineno 10, flags 0)
    header = bytes([3, 3, 1, 0])
    frames = bytes([0, 0, 1, 10]) * 16
    data = bytearray(header + frames) + image[68:]
    struct.pack_into("<Q", data, 68, code_type)
    struct.pack_into("<Q", data, L["ob_type"], code_type)
    write("fuzz_symbolize", "code-3.12", bytes(data))


def maps_seed():
    write("fuzz_procmaps", "self", pathlib.Path("/proc/self/maps").read_bytes())


def elf_seed():
    with tempfile.TemporaryDirectory() as d:
        src = pathlib.Path(d) / "t.c"
        src.write_text("int _PyRuntime[8];\nconst unsigned long Py_Version = 0x030b07f0;\nint PyCode_Type[4];\n")
        out = pathlib.Path(d) / "t.so"
        subprocess.run(["cc", "-shared", "-nostdlib", "-Wl,--build-id=none", "-Wl,-z,max-page-size=0x100",
                        "-Wl,-z,noseparate-code", "-o", str(out), str(src)], check=True)
        write("fuzz_elf", "tiny.so", out.read_bytes())


def native_seeds():
    """Register and stack words for fuzz_native.c: anchors into its own code
    (0xAA0k...), addresses in the copy (0xBB...), kernel addresses."""
    def anchor(k, off):
        return 0xAA << 56 | k << 48 | off

    regs = [0] * 17
    regs[7] = 0xBB << 56            # sp: the copy's base
    regs[6] = 0xBB << 56 | 0x40     # rbp into the copy
    regs[16] = anchor(0, 0x10)      # ip in LLVMFuzzerTestOneInput
    stack = [0] * 64
    for i, (k, off) in enumerate([(1, 0x20), (2, 0x30), (3, 0x48), (4, 0x10), (7, 0x8)]):
        stack[3 + i * 5] = anchor(k, off)
        stack[2 + i * 5] = 0xBB << 56 | (8 * (7 + i * 5))
    kernel = [0xFFFFFFFF81000000, 0xFFFFFFFF81001000]
    body = struct.pack("<17Q", *regs) + struct.pack("<2Q", *kernel) + struct.pack("<64Q", *stack)
    for name, hdr in [("walk", [3, 3, 0, 0, 5, 0, 2, 0]), ("busy", [1, 2, 0, 1, 1, 0, 0, 0]),
                      ("cut-record", [7, 4, 1, 0, 15, 1, 2, 5])]:
        write("fuzz_native", name, bytes(hdr) + body)


if __name__ == "__main__":
    linetable_seeds()
    pystr_seeds()
    symbolize_seed()
    maps_seed()
    elf_seed()
    native_seeds()
