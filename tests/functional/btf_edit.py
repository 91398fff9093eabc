"""Edit a kernel BTF blob the way another kernel differs: a struct member
retyped (7.2's task_struct.on_cpu became a u8) or renamed (5.14 renamed
task_struct.state to __state; a kernel may drop a field). gil-prof's
--btf then makes libbpf relocate the BPF programs against that kernel's
idea of the structures (the verifier still checks against the running
kernel's, so edits must keep offsets).

    edit(blob, "task_struct", "on_cpu", retype="unsigned char")
    edit(blob, "task_struct", "on_cpu", rename="gp_gone")
"""
import struct

# kind -> bytes of kind-specific data after the 12-byte btf_type (vlen-scaled)
FIXED = {1: 4, 3: 12, 14: 4, 17: 4}
PER_VLEN = {4: 12, 5: 12, 6: 8, 13: 8, 15: 12, 19: 12}
KIND_INT, KIND_STRUCT = 1, 4


def parse(blob):
    magic, _ver, _flags, hdr_len, type_off, type_len, str_off, str_len = struct.unpack_from(
        "<HBBIIIII", blob)
    assert magic == 0xEB9F, "not BTF"
    types_at = hdr_len + type_off
    strs_at = hdr_len + str_off
    def name(off):
        end = blob.index(b"\0", strs_at + off)
        return blob[strs_at + off:end].decode()
    types, pos, tid = {}, types_at, 1
    while pos < types_at + type_len:
        name_off, info, size = struct.unpack_from("<III", blob, pos)
        kind, vlen = (info >> 24) & 0x1F, info & 0xFFFF
        types[tid] = (pos, kind, vlen, name(name_off), size)
        pos += 12 + FIXED.get(kind, 0) + PER_VLEN.get(kind, 0) * vlen
        tid += 1
    return types, name, (hdr_len, str_off, str_len)


def edit(blob, struct_name, member, retype=None, rename=None):
    blob = bytearray(blob)
    types, name, (hdr_len, str_off, str_len) = parse(blob)
    target = None
    if retype:
        target = next(t for t, (_, k, _, n, size) in types.items()
                      if k == KIND_INT and n == retype)
    new_name_off = None
    if rename:
        # appended to the string section (the last section of vmlinux BTF)
        assert hdr_len + str_off + str_len == len(blob), "strings are not last"
        new_name_off = str_len
        blob += rename.encode() + b"\0"
        struct.pack_into("<I", blob, 20, str_len + len(rename) + 1)
    done = 0
    for pos, kind, vlen, n, _ in types.values():
        if kind != KIND_STRUCT or n != struct_name:
            continue
        for i in range(vlen):
            at = pos + 12 + 12 * i
            m_name, _m_type, _m_off = struct.unpack_from("<III", blob, at)
            if name(m_name) != member:
                continue
            if target:
                struct.pack_into("<I", blob, at + 4, target)
            if new_name_off is not None:
                struct.pack_into("<I", blob, at, new_name_off)
            done += 1
    assert done, "no member %s.%s" % (struct_name, member)
    return bytes(blob)
