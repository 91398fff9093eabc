#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# mksysroot.sh GLIBC_SUITE "GLIBC_PKGS" LIB_SUITE "LIB_PKGS" — print the path
# of the sysroot the self-contained binary (make dist) is linked in, kept
# under $GIL_PROF_CACHE/sysroots/ (default /var/cache/gil-prof): made once,
# reused by later runs, remade when a suite or a package list changes.
#
# The sysroot holds two things, both Debian binary packages unpacked with
# dpkg-deb (nothing is installed on this machine):
#   - the C library of an old release (GLIBC_SUITE, e.g. bullseye: glibc
#     2.31): headers, crt files, libc.so and friends. Linking against it
#     binds the oldest symbol versions gil-prof's calls allow, whatever
#     glibc this machine has (bookworm's 2.36 would bind
#     __libc_start_main@GLIBC_2.34, stat@GLIBC_2.33, ...);
#   - under static/, the headers and static libraries (libbpf.a, libdw.a,
#     ...) of a newer release (LIB_SUITE, e.g. bookworm), the versions the
#     development build links dynamically.
#   - libmicrohttpd.a built from LIB_SUITE's own source package without
#     HTTPS: Debian's archive is built with GnuTLS, whose static library
#     needs p11-kit's, which Debian does not ship (and the agent serves
#     plain HTTP on loopback by default: TLS belongs to a proxy).
# Packages come from deb.debian.org (DEBIAN_MIRROR) through apt with a
# private state directory, so this machine's own sources do not matter.
#
# Built beside its final place and renamed when complete, under a lock, so
# an interrupted or concurrent run never leaves a half-made sysroot in use.
set -eu

[ $# -eq 4 ] || { echo "usage: $0 GLIBC_SUITE GLIBC_PKGS LIB_SUITE LIB_PKGS" >&2; exit 2; }
glibc_suite=$1 glibc_pkgs=$2 lib_suite=$3 lib_pkgs=$4
cache=${GIL_PROF_CACHE:-/var/cache/gil-prof}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
keyring=${DEBIAN_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}
top=$cache/sysroots
dir=$top/$glibc_suite-glibc+$lib_suite-libs
# Bump the recipe number when the way sysroots are made changes.
stamp="recipe=2 glibc=$glibc_suite:$glibc_pkgs libs=$lib_suite:$lib_pkgs src=libmicrohttpd-nohttps"

mkdir -p "$top"
exec 9>"$top/.$(basename "$dir").lock"
flock 9
if [ -f "$dir/.gil-prof-sysroot" ] && [ "$(cat "$dir/.gil-prof-sysroot")" = "$stamp" ]; then
	echo "$dir"
	exit 0
fi
[ -r "$keyring" ] || { echo "$0: no Debian archive keyring at $keyring (make deps)" >&2; exit 1; }
tmp=$dir.new
rm -rf "$tmp"
mkdir -p "$tmp/static"
echo "$0: creating $dir ($glibc_suite's glibc, $lib_suite's static libraries)" >&2

# unpack SUITE DEST PKG... — download PKGs of SUITE with a private apt and
# unpack them into DEST; their versions go to $tmp/versions.txt.
unpack() {
	suite=$1 dest=$2
	shift 2
	pkgs=$*
	apt_dir=$tmp/.apt-$suite
	mkdir -p "$apt_dir/state/lists/partial" "$apt_dir/cache/archives/partial" \
		"$apt_dir/parts" "$apt_dir/debs"
	: >"$apt_dir/status"
	echo "deb [signed-by=$keyring] $mirror $suite main" >"$apt_dir/sources.list"
	set -- -q -o Dir::State="$apt_dir/state" -o Dir::Cache="$apt_dir/cache" \
		-o Dir::Etc::SourceList="$apt_dir/sources.list" \
		-o Dir::Etc::SourceParts="$apt_dir/parts" \
		-o Dir::State::status="$apt_dir/status" \
		-o APT::Architecture=amd64 -o APT::Architectures::=amd64 \
		-o APT::Sandbox::User=root
	# shellcheck disable=SC2086 # word splitting of the package list is wanted
	if ! apt-get "$@" update >"$apt_dir/log" 2>&1 ||
		! (cd "$apt_dir/debs" && apt-get "$@" download $pkgs) >>"$apt_dir/log" 2>&1; then
		cat "$apt_dir/log" >&2
		echo "$0: cannot download $pkgs from $suite" >&2
		exit 1
	fi
	for deb in "$apt_dir/debs"/*.deb; do
		dpkg-deb -x "$deb" "$dest"
		echo "$suite $(dpkg-deb -f "$deb" Package) $(dpkg-deb -f "$deb" Version)" >>"$tmp/versions.txt"
	done
	rm -rf "$apt_dir"
}

# build_microhttpd SUITE DEST — libmicrohttpd from SUITE's source package,
# configured without HTTPS (no GnuTLS), its archive and header into DEST.
build_microhttpd() {
	suite=$1 dest=$2
	src_dir=$tmp/.src-$suite
	mkdir -p "$src_dir/state/lists/partial" "$src_dir/cache/archives/partial" "$src_dir/parts"
	: >"$src_dir/status"
	echo "deb-src [signed-by=$keyring] $mirror $suite main" >"$src_dir/sources.list"
	set -- -q -o Dir::State="$src_dir/state" -o Dir::Cache="$src_dir/cache" \
		-o Dir::Etc::SourceList="$src_dir/sources.list" \
		-o Dir::Etc::SourceParts="$src_dir/parts" \
		-o Dir::State::status="$src_dir/status" -o APT::Sandbox::User=root
	if ! apt-get "$@" update >"$src_dir/log" 2>&1 ||
		! (cd "$src_dir" && apt-get "$@" source --download-only libmicrohttpd) \
			>>"$src_dir/log" 2>&1 ||
		! (cd "$src_dir" && dpkg-source -x --no-check ./*.dsc build) >>"$src_dir/log" 2>&1 ||
		! (cd "$src_dir/build" && ./configure --disable-https --without-gnutls \
			--disable-curl --enable-static --disable-shared --disable-doc \
			--disable-examples --disable-dauth --disable-bauth --disable-postprocessor \
			--disable-nls CFLAGS="-g -O2" && make -C src/microhttpd) >>"$src_dir/log" 2>&1; then
		tail -30 "$src_dir/log" >&2
		echo "$0: cannot build libmicrohttpd from $suite's source" >&2
		exit 1
	fi
	mkdir -p "$dest/usr/include" "$dest/usr/lib/x86_64-linux-gnu"
	cp "$src_dir/build/src/include/microhttpd.h" "$dest/usr/include/"
	cp "$src_dir/build/src/microhttpd/.libs/libmicrohttpd.a" "$dest/usr/lib/x86_64-linux-gnu/"
	echo "$suite libmicrohttpd $(cd "$src_dir" && ls ./*.dsc | sed 's/.*_//; s/[.]dsc$//') (source, without HTTPS)" \
		>>"$tmp/versions.txt"
	rm -rf "$src_dir"
}

# shellcheck disable=SC2086
unpack "$glibc_suite" "$tmp" $glibc_pkgs
# shellcheck disable=SC2086
unpack "$lib_suite" "$tmp/static" $lib_pkgs
build_microhttpd "$lib_suite" "$tmp/static"

# Debian links across top-level directories with absolute symlinks
# (/usr/lib/x86_64-linux-gnu/libpthread.so -> /lib/...): inside a sysroot
# they would point at this machine's files. Make them relative.
find "$tmp" -type l | while read -r link; do
	target=$(readlink "$link")
	case $target in /*) ;; *) continue ;; esac
	root=$tmp
	case $link in "$tmp/static/"*) root=$tmp/static ;; esac
	ln -sfn "$(realpath -m -s --relative-to="$(dirname "$link")" "$root$target")" "$link"
done

echo "$stamp" >"$tmp/.gil-prof-sysroot"
rm -rf "$dir"
mv "$tmp" "$dir"
echo "$dir"
