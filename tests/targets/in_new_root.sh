#!/bin/sh
# Run a Python program as a container would: inside fresh PID and mount
# namespaces (start this under `unshare --fork --pid --mount`), in a new
# root on a tmpfs that holds the host's /usr and the interpreter tree PYDIR
# at /opt/python, entered with pivot_root. The interpreter's files then
# live at paths the host does not have; the program is PID 1 there.
#
#   in_new_root.sh NEWROOT PYDIR PYTHON SCRIPT [ARGS...]
#
# NEWROOT: an empty directory; PYTHON: the interpreter's path inside.
set -eu
root=$1 pydir=$2 python=$3 script=$4
shift 4
mount --make-rprivate /
mount -t tmpfs gp-root "$root"
mkdir -p "$root/usr" "$root/opt/python" "$root/proc" "$root/dev" "$root/tmp" "$root/old"
ln -s usr/lib "$root/lib"
ln -s usr/lib64 "$root/lib64"
ln -s usr/bin "$root/bin"
mount --rbind /usr "$root/usr"
mount --rbind /dev "$root/dev"
mount --bind "$pydir" "$root/opt/python"
cp "$script" "$root/tmp/"
cd "$root"
pivot_root . old
mount -t proc proc /proc
umount -l /old
export LD_LIBRARY_PATH=/opt/python/lib
exec "$python" "/tmp/$(basename "$script")" "$@"
