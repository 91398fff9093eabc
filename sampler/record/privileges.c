// SPDX-License-Identifier: BSD-2-Clause
/*
 * privileges.c — give up the capabilities gil-prof no longer needs once the
 * sampler is attached: loading BPF programs and opening perf events are
 * done; reading the target and writing the profile are not.
 */
#define _GNU_SOURCE
#include "privileges.h"

#include <errno.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../common/exitcodes.h"
#include "../common/gp_log.h"

/* Newer than some headers: numbers from linux/capability.h (5.9). */
#define GP_CAP_BPF 39
#define GP_CAP_CHECKPOINT_RESTORE 40

#define BIT(cap) (1ULL << (cap))

static int last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int n = CAP_LAST_CAP;

	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = CAP_LAST_CAP;
		fclose(f);
	}
	return n < 63 ? n : 63;
}

uint64_t gp_kept_capabilities(void)
{
	int last = last_cap();
	uint64_t keep = BIT(CAP_SYS_PTRACE) | BIT(CAP_DAC_OVERRIDE) | BIT(CAP_DAC_READ_SEARCH);

	/* A kernel without the split capabilities checks CAP_SYS_ADMIN instead. */
	keep |= last >= GP_CAP_BPF ? BIT(GP_CAP_BPF) : BIT(CAP_SYS_ADMIN);
	keep |= last >= GP_CAP_CHECKPOINT_RESTORE ? BIT(GP_CAP_CHECKPOINT_RESTORE)
						  : BIT(CAP_SYS_ADMIN);
	return keep;
}

static int drop_bounding(uint64_t keep, int last)
{
	for (int cap = 0; cap <= last; cap++) {
		if (keep & BIT(cap))
			continue;
		/* EINVAL: a capability this kernel does not know. */
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) && errno != EINVAL)
			return -1;
	}
	return 0;
}

static int drop_sets(uint64_t keep)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return -1;
	for (int i = 0; i < 2; i++) {
		uint32_t k = (uint32_t)(keep >> (32 * i));

		data[i].effective &= k;
		data[i].permitted &= k;
		data[i].inheritable = 0;
	}
	return (int)syscall(SYS_capset, &hdr, data);
}

int gp_drop_privileges(void)
{
	uint64_t keep = gp_kept_capabilities();
	int last = last_cap();

	/* The bounding set first: dropping from it needs CAP_SETPCAP, about to go. */
	if (drop_bounding(keep, last))
		goto fail;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL)
		goto fail;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		goto fail;
	if (drop_sets(keep))
		goto fail;
	gp_debug("privileges dropped: capabilities kept 0x%llx", (unsigned long long)keep);
	return 0;
fail:
	gp_debug("cannot drop privileges: %m");
	return -1;
}

/* Capability bits (linux/capability.h) needed without root. */
#define CAP_SYS_PTRACE_BIT 19
#define CAP_SYS_ADMIN_BIT 21
#define CAP_PERFMON_BIT 38
#define CAP_BPF_BIT 39

uint64_t gp_effective_capabilities(void)
{
	char line[256];
	uint64_t caps = 0;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %" SCNx64, &caps) == 1)
			break;
	fclose(f);
	return caps;
}

int gp_require_privileges(void)
{
	uint64_t caps = gp_effective_capabilities();
	int has = 1;

#define HAS(bit) ((caps >> (bit)) & 1)
	has = (HAS(CAP_BPF_BIT) && HAS(CAP_PERFMON_BIT)) || HAS(CAP_SYS_ADMIN_BIT);
	has = has && HAS(CAP_SYS_PTRACE_BIT);
#undef HAS
	if (has)
		return 0;
	gp_error("gil-prof needs root, or the capabilities CAP_BPF, CAP_PERFMON and "
		 "CAP_SYS_PTRACE (try sudo)");
	return GP_EXIT_PERMISSION;
}
