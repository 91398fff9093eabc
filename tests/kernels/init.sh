#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# /init of the kernel test's initramfs (tests/kernels/kernels.py packs it):
# mounts what gil-prof needs, runs guest.py with the arguments in
# /kt/args, its result lines on the second serial port (ttyS1, a file on
# the host), then powers the machine off. The console (ttyS0) is for
# people: the kernel's messages and the checks' progress.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs shm /dev/shm
mount -t tmpfs tmp /tmp
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t bpf bpf /sys/fs/bpf
ulimit -l unlimited
echo "KT-BOOT $(uname -r)" >/dev/ttyS1
if [ -e /sys/kernel/btf/vmlinux ]; then
	/usr/bin/python3 /kt/guest.py --results /dev/ttyS1 $(cat /kt/args)
else
	echo "KT-NOBTF" >/dev/ttyS1
fi
sync
echo o >/proc/sysrq-trigger
sleep 10
