#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# sid.sh — print the path of the Debian sid root that holds CPython 3.14
# and 3.15, release and debug builds (python3.14, python3.14d, ...) and
# their headers: the interpreters the functional tests run in it (chroot)
# and the headers `make layouts` generates their rows from. Made once by
# mkroot.sh (about a minute), reused afterwards.
set -eu
exec "$(dirname "$0")/mkroot.sh" sid sid \
	python3.14,python3.15,python3.14-dbg,python3.15-dbg,python3.14-dev,python3.15-dev
