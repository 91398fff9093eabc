#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# mkroot.sh NAME SUITE PACKAGES — print the path of a minimal Debian root
# (debootstrap --variant=minbase) of SUITE with PACKAGES (comma-separated),
# kept under $GIL_PROF_CACHE/roots/NAME (default /var/cache/gil-prof): made
# once, reused by later runs, remade when SUITE or PACKAGES change. The
# tests run other Debian releases' interpreters inside such roots (chroot).
#
# Built beside its final place and renamed when complete, under a lock, so
# an interrupted or concurrent run never leaves a half-made root in use.
set -eu

[ $# -eq 3 ] || { echo "usage: $0 NAME SUITE PACKAGES" >&2; exit 2; }
name=$1 suite=$2 pkgs=$3
cache=${GIL_PROF_CACHE:-/var/cache/gil-prof}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
roots=$cache/roots
dir=$roots/$name
# Bump the recipe number when the way roots are made changes.
stamp="recipe=1 suite=$suite packages=$pkgs"

mkdir -p "$roots"
exec 9>"$roots/.$name.lock"
flock 9
if [ -f "$dir/.gil-prof-root" ] && [ "$(cat "$dir/.gil-prof-root")" = "$stamp" ]; then
	echo "$dir"
	exit 0
fi
command -v debootstrap >/dev/null || { echo "$0: debootstrap is not installed (make deps)" >&2; exit 1; }
tmp=$roots/.$name.new
rm -rf "$tmp"
echo "$0: creating $dir ($suite: $pkgs), about a minute" >&2
if ! debootstrap --variant=minbase --include="$pkgs" "$suite" "$tmp" "$mirror" >"$tmp.log" 2>&1; then
	tail -20 "$tmp.log" >&2
	echo "$0: debootstrap of $suite failed (log: $tmp.log)" >&2
	exit 1
fi
# Nothing from the root's package cache is needed to run it.
rm -rf "$tmp/var/cache/apt/archives"/*.deb
echo "$stamp" >"$tmp/.gil-prof-root"
rm -rf "$dir"
mv "$tmp" "$dir"
rm -f "$tmp.log"
echo "$dir"
