"""Kernels move, retype and rename the fields gil-prof reads: 7.2 made
task_struct.on_cpu a u8, 5.14 renamed task_struct.state to __state, and
a field may go. This kernel's BTF, edited that way and given with --btf,
makes libbpf relocate the programs as on such a kernel (before the fix
7.2 refused the default mode: "failed to resolve CO-RE relocation ...
task_struct.on_cpu"). The start snapshot reads both fields: a thread
blocked on a socket before gil-prof attaches is seen only there, so its
idle stack proves the values were read right."""
import pytest

from conftest import (
    INTERPRETERS, frame_parts, marked_lines, parse_folded, run_gil_prof, thread_states,
    shares,
)
from btf_edit import edit

EDITS = {
    "on_cpu-u8": ("task_struct", "on_cpu", dict(retype="unsigned char")),
    "on_cpu-gone": ("task_struct", "on_cpu", dict(rename="gp_gone")),
    "state-pre-5.14": ("task_struct", "__state", dict(rename="state")),
}


def python311():
    return next(v for k, v in sorted(INTERPRETERS.items()) if k.startswith("pyenv-3.11"))


@pytest.mark.parametrize("name", sorted(EDITS))
def test_kernel_fields_relocate(name, target, tmp_path):
    struct, member, how = EDITS[name]
    btf = tmp_path / "vmlinux.btf"
    btf.write_bytes(edit(open("/sys/kernel/btf/vmlinux", "rb").read(), struct, member, **how))
    t = target(python311(), "gil_idle.py", 20)
    _sleeper, reader = (int(x) for x in t.ready_fields)
    out = tmp_path / "k.folded"
    r = run_gil_prof("-p", t.pid, "-d", "1", "-v", "--btf", btf, "-o", out)
    assert r.returncode == 0, r.stderr
    fallback = int(next(l.split()[-1] for l in r.stderr.splitlines()
                        if "counter kfield_fallback" in l))
    # Only a missing field needs the fallback (and counts it).
    assert (fallback > 0) == (name == "on_cpu-gone"), r.stderr
    stacks = parse_folded(out)
    assert shares(thread_states(stacks)[reader]).get("idle", 0) >= 0.95, stacks
    idle = [f for f, _ in stacks if f[0].startswith("thread (%d " % reader)]
    assert frame_parts(idle[0][-1])[2] in marked_lines("gil_idle.py", "RECV"), idle
