"""Targets in containers, profiled from the host by their host PID: one in
its own PID namespace, one that also has its own mount namespace and root
(pivot_root into a tmpfs), whose interpreter lives at a path the host does
not have and is reachable only through /proc/PID/."""
import ast
import os
import pathlib
import shutil

import pytest

from conftest import TARGETS, Target, frame_parts, parse_folded, run_gil_prof, wait_for

# sid-* interpreters already run in a root of their own: the matrix of
# this file is the host interpreters, put into a container here.
pytestmark = pytest.mark.host_only

LOOPS = ("spin_three_quarters", "spin_one_quarter")


def function_lines(script, name):
    """Lines of a function, from its def (a call not yet started) to its end."""
    tree = ast.parse((TARGETS / script).read_text())
    node = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == name)
    return set(range(node.lineno, node.end_lineno + 1))


def host_pid_of_child(pid):
    """The process unshare --fork started: PID 1 of the new namespace."""
    children = []

    def found():
        path = "/proc/%d/task/%d/children" % (pid, pid)
        children[:] = open(path).read().split()
        return bool(children)

    assert wait_for(found, timeout=10), "unshare %d has no child" % pid
    return int(children[0])


def ns_tids(pid):
    """host tid -> tid inside the target's PID namespace, for each thread."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        for line in open("/proc/%d/task/%s/status" % (pid, tid)):
            if line.startswith("NSpid:"):
                ids = line.split()[1:]
                assert len(ids) == 2, line  # host and container ids
                out[int(ids[0])] = int(ids[1])
    return out


def check_profile(out, pid, worker_ns_tid, script_path):
    stacks = parse_folded(out)
    host_to_ns = ns_tids(pid)
    roots, seen = set(), 0
    for frames, count in stacks:
        roots.add(int(frames[0][len("thread ("):].split(")")[0].split()[0]))
        leaf = frame_parts(frames[-1])
        if not leaf or leaf[0] not in LOOPS:
            continue
        assert leaf[1] == script_path, frames[-1]
        assert leaf[2] in function_lines("split.py", leaf[0]), frames[-1]
        assert frame_parts(frames[-2])[0] == "worker", frames
        seen += count
    assert seen >= 5, stacks  # correctness, not rate: the machine may be busy
    # host thread ids, and the worker (known inside by its namespace tid) is one
    assert roots <= set(host_to_ns), (roots, host_to_ns)
    assert worker_ns_tid in {host_to_ns[t] for t in roots}, (worker_ns_tid, host_to_ns)


def test_pid_namespace(python, tmp_path):
    t = Target(python, "split.py", 20,
               prefix=["unshare", "--fork", "--kill-child", "--pid", "--mount-proc"])
    try:
        pid = host_pid_of_child(t.pid)
        assert ns_tids(pid)[pid] == 1  # PID 1 in its namespace
        out = tmp_path / "ns.folded"
        r = run_gil_prof("-p", pid, "-d", "1.5s", "-o", out)
        assert r.returncode == 0, r.stderr
        check_profile(out, pid, int(t.ready_fields[0]), str(TARGETS / "split.py"))
    finally:
        t.kill()


def interpreter_tree(python, tmp_path):
    """(directory to mount at /opt/python, interpreter path inside)."""
    exe = pathlib.Path(python)
    if exe.parent.name == "bin" and (exe.parents[1] / "lib").is_dir() and "pyenv" in str(exe):
        return exe.parents[1], "/opt/python/bin/" + exe.name
    # Debian's static interpreter: a copy of the binary is the whole tree
    # (its standard library is found under /usr, as on the host).
    tree = tmp_path / "tree"
    (tree / "bin").mkdir(parents=True)
    shutil.copy(python, tree / "bin" / exe.name)
    return tree, "/opt/python/bin/" + exe.name


def start_in_own_root(python, tmp_path, script, *args):
    """script under python in its own PID and mount namespaces and root."""
    tree, inside = interpreter_tree(python, tmp_path)
    new_root = tmp_path / "root"
    new_root.mkdir()
    return Target(inside, script, *args,
                  prefix=["unshare", "--fork", "--kill-child", "--pid", "--mount", "sh",
                          str(TARGETS / "in_new_root.sh"), str(new_root), str(tree)])


def test_own_root_and_mount_namespace(python, tmp_path):
    t = start_in_own_root(python, tmp_path, "split.py", 20)
    try:
        pid = host_pid_of_child(t.pid)
        # the interpreter's files: at /opt/python as the target sees them,
        # which is no path on the host
        maps = open("/proc/%d/maps" % pid).read()
        mapped = {l.split()[-1] for l in maps.splitlines() if "/opt/python/" in l}
        assert mapped and not any(os.path.exists(p) for p in mapped), mapped
        out = tmp_path / "root.folded"
        r = run_gil_prof("-p", pid, "-d", "1.5s", "-o", out)
        assert r.returncode == 0, r.stderr
        check_profile(out, pid, int(t.ready_fields[0]), "/tmp/split.py")
    finally:
        t.kill()
