#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# in_root.sh ROOT WORK COMMAND [ARG...] — run COMMAND chrooted into a
# copy-on-write view of the Debian root ROOT (a cached tests/roots/mkroot.sh
# root, which stays clean): overlayfs with ROOT below and WORK/upper above,
# so files put in WORK/upper beforehand show inside, and what COMMAND
# writes lands there. /proc, /sys (BTF, the CPU list, perf event types) and
# /dev are mounted inside, and the host's resolv.conf copied in for apt.
#
# Two settings, for running the tests' targets under a root's interpreters:
#   IN_ROOT_TMPFS=1        WORK is a fresh tmpfs seen only by COMMAND: what
#                          it writes vanishes with it, and any number of
#                          commands can share one WORK at once.
#   IN_ROOT_BIND="DIR..."  host directories bound at the same paths inside
#                          (the clone, /tmp), so a program and the files it
#                          names have the same paths inside and out; COMMAND
#                          then starts in the caller's directory.
#
# Everything is mounted in a private mount namespace that ends with
# COMMAND: nothing is left mounted on the host, whatever happens. The
# process chain is exec'd (no fork), so COMMAND has this script's PID.
set -eu
[ $# -ge 3 ] || { echo "usage: $0 ROOT WORK COMMAND [ARG...]" >&2; exit 2; }
root=$1 work=$2
shift 2
if [ "${IN_ROOT_TMPFS:-}" = 1 ]; then
	mkdir -p "$work"
else
	mkdir -p "$work/upper" "$work/work" "$work/merged"
fi
exec unshare --mount --propagation private sh -c '
	set -eu
	root=$1 work=$2 cwd=$3
	shift 3
	if [ "${IN_ROOT_TMPFS:-}" = 1 ]; then
		mount -t tmpfs gil-prof-work "$work"
		mkdir "$work/upper" "$work/work" "$work/merged"
	fi
	m=$work/merged
	mount -t overlay gil-prof-root -o "lowerdir=$root,upperdir=$work/upper,workdir=$work/work" "$m"
	mount -t proc proc "$m/proc"
	mount --rbind /sys "$m/sys"
	mount --rbind /dev "$m/dev"
	for dir in ${IN_ROOT_BIND:-}; do
		mkdir -p "$m$dir"
		mount --rbind "$dir" "$m$dir"
	done
	# A fresh file, not through a symlink the root may have there.
	if [ -r /etc/resolv.conf ]; then
		rm -f "$m/etc/resolv.conf" && cp /etc/resolv.conf "$m/etc/resolv.conf"
	fi
	if [ -z "${IN_ROOT_BIND:-}" ]; then
		exec chroot "$m" "$@"
	fi
	exec chroot "$m" /bin/sh -c "cd \"\$0\" 2>/dev/null || cd /; exec \"\$@\"" "$cwd" "$@"
' in_root "$root" "$work" "$PWD" "$@"
