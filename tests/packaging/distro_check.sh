#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# Runs inside the root of another Debian release (test_distros.py, through
# in_root.sh), after `make install DESTDIR=` put the self-contained binary,
# its man page and completion under /usr/local and the test put the wheel
# and tests/targets under /opt/gil-prof-test. Uses gil-prof as a user of
# that release would, on that release's own Python; each step's exit code
# and output go to /opt/gil-prof-test/out for the test to check.
set -u
t=/opt/gil-prof-test
out=$t/out
mkdir -p "$out"
cd "$t"

# step NAME COMMAND...: run it, keep its stdout, stderr and exit code.
step() {
	name=$1
	shift
	"$@" >"$out/$name.out" 2>"$out/$name.err"
	echo $? >"$out/$name.rc"
}

step glibc python3 -c 'import platform; print(*platform.libc_ver())'
step python python3 -c 'import sys; print(sys.version.split()[0])'
step version /usr/local/bin/gil-prof --version

# A running program, attached to by PID.
python3 targets/demo_app.py 8 &
pid=$!
sleep 1
step attach /usr/local/bin/gil-prof -p "$pid" -d 3s -o "$out/attach.folded" -o "$out/attach.pb.gz"
wait "$pid"

# A program gil-prof starts, to its end.
step launch /usr/local/bin/gil-prof record -o "$out/launch.folded" -- python3 targets/demo_app.py 3

# The wheel, with this release's pip, into a fresh virtual environment.
step venv python3 -m venv /opt/venv
step pip /opt/venv/bin/pip install --no-index --disable-pip-version-check "$t"/gil_prof-*.whl
step wheel /opt/venv/bin/gil-prof record -o "$out/wheel.folded" -- /opt/venv/bin/python targets/demo_app.py 3

# The installed completion in this release's bash: the format names.
step completion bash -c '. /usr/local/share/bash-completion/completions/gil-prof &&
	COMP_WORDS=(gil-prof record --format "") && COMP_CWORD=3 && _gil_prof &&
	echo "${COMPREPLY[*]}"'
exit 0
