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
# Everything is mounted in a private mount namespace that ends with
# COMMAND: nothing is left mounted on the host, whatever happens. The
# process chain is exec'd (no fork), so COMMAND has this script's PID.
set -eu
[ $# -ge 3 ] || { echo "usage: $0 ROOT WORK COMMAND [ARG...]" >&2; exit 2; }
root=$1 work=$2
shift 2
mkdir -p "$work/upper" "$work/work" "$work/merged"
exec unshare --mount --propagation private sh -c '
	set -eu
	root=$1 work=$2
	shift 2
	m=$work/merged
	mount -t overlay gil-prof-root -o "lowerdir=$root,upperdir=$work/upper,workdir=$work/work" "$m"
	mount -t proc proc "$m/proc"
	mount --rbind /sys "$m/sys"
	mount --rbind /dev "$m/dev"
	# A fresh file, not through a symlink the root may have there.
	if [ -r /etc/resolv.conf ]; then
		rm -f "$m/etc/resolv.conf" && cp /etc/resolv.conf "$m/etc/resolv.conf"
	fi
	exec chroot "$m" "$@"
' in_root "$root" "$work" "$@"
