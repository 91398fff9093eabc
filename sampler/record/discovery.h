/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_DISCOVERY_H
#define GP_DISCOVERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uthash.h>

#include "bpfload.h"
#include "../target/target.h"

/*
 * Every CPython process on the host (the agent): found by a scan of /proc
 * at the start, then followed through the kernel's fork and exec
 * tracepoints (bpf/procevents.h, loaded with cfg.host_procs: it samples
 * nothing). Each process is looked at with the target detection of
 * `record` (target.c); a verdict is final for the program a pid runs, so a
 * process that cannot be profiled is reported once, never retried, until
 * it execs another program. Processes that are not Python are forgotten.
 */

enum gp_disc_verdict {
	GP_DISC_PENDING = 0,       /* exec'd or forked: its interpreter is looked for */
	GP_DISC_PYTHON,            /* a CPython gil-prof can profile (t is set) */
	GP_DISC_UNSUPPORTED,       /* Python, but not profiled: reason says why */
};

struct gp_disc_proc {
	pid_t pid;
	uint64_t start_ticks;      /* /proc/PID/stat starttime: a reused pid differs */
	enum gp_disc_verdict verdict;
	int probes;                /* looks taken while pending */
	uint64_t next_probe_ns;
	struct gp_target t;        /* GP_DISC_PYTHON: as gp_target_probe found it */
	char comm[64];
	char container[80];        /* "" on the host */
	char version[32];          /* "" if unknown */
	const char *reason;        /* GP_DISC_UNSUPPORTED: a metric label value */
	char why[256];             /* ... and the sentence */
	bool announced;            /* the front end was told of the verdict */
	UT_hash_handle hh;
};

struct gp_discovery {
	struct gp_bpf b;           /* the sampler's object, host_procs set */
	struct ring_buffer *rb;
	struct gp_disc_proc *by_pid;
	uint64_t next_liveness_ns;
	uint64_t events, lost_events;
	uint64_t probes;           /* gp_target_probe calls */
	/* Set during gp_discovery_tick only. */
	uint64_t now_ns;
	void (*gone)(void *ctx, pid_t pid);
	void *ctx;
};

/* Load and attach the discovery programs, then scan /proc. 0 or an exit code. */
int gp_discovery_start(struct gp_discovery *d, const char *btf_path);
void gp_discovery_free(struct gp_discovery *d);

/*
 * Read the kernel's fork and exec records, look at pending processes,
 * drop the ones that exited. Verdicts not yet announced are handed to
 * found() (Python, or unsupported), which returns false to be asked again
 * at the next tick (it takes a few per tick); gone() hears of known
 * processes that exited or exec'd. Both may be NULL.
 */
void gp_discovery_tick(struct gp_discovery *d, uint64_t now_ns,
		       bool (*found)(void *ctx, struct gp_disc_proc *p),
		       void (*gone)(void *ctx, pid_t pid), void *ctx);

/* Look at pid again (its session stopped: it exec'd, or could not start). */
void gp_discovery_recheck(struct gp_discovery *d, pid_t pid, uint64_t now_ns);

/* Mark pid as not profiled for reason (its session could not start). */
void gp_discovery_refuse(struct gp_discovery *d, pid_t pid, const char *reason,
			 const char *why);

struct gp_disc_proc *gp_discovery_find(struct gp_discovery *d, pid_t pid);

/*
 * The container a process runs in, from its /proc/PID/cgroup text: the
 * short id (12 hex digits) of a docker, containerd, CRI-O or podman
 * container, the name of a systemd-nspawn machine or LXC container; ""
 * on the host. Public for the unit tests.
 */
void gp_container_from_cgroup(const char *cgroup, char *buf, size_t len);

#endif
