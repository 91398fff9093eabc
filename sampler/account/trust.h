/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_TRUST_H
#define GP_TRUST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * Can the profile be trusted? A sampler that finds no thread state or no
 * frame for most samples writes a profile that looks fine and says
 * nothing true about Python (Debian 12's 6.1 kernel did exactly that): such
 * a profile is declared, in words and in the exit status.
 *
 * Judged per thread: a thread that never had a Python stack while another
 * thread of its process had one is a C thread (an extension's worker, a
 * thread that never ran Python) and its samples are no evidence. Every
 * other sample without a stack is one the sampler failed on.
 */
struct gp_trust_thread {
	pid_t pid;
	uint64_t records;          /* samples and off-CPU records (stack expected) */
	uint64_t with_stack;       /* ... that came with a thread state and a frame */
};

struct gp_trust {
	struct gp_trust_thread *v; /* indexed by gp_thread.idx */
	size_t n;
};

struct gp_trust_verdict {
	bool trusted;
	uint64_t records;          /* records judged */
	uint64_t missing;          /* ... without a Python stack the sampler should have had */
	uint64_t c_threads;        /* records of threads taken to be C threads */
};

/* Fewer records than this say too little to judge: trusted. A target that
 * exits right after attach leaves a few samples of its finalizing thread,
 * which has no frame left: that is no evidence of a broken sampler. */
#define GP_TRUST_MIN_RECORDS 100

/* One record of thread idx (of process pid) that should have had a stack. -1: ENOMEM. */
int gp_trust_add(struct gp_trust *t, uint32_t idx, pid_t pid, bool has_stack);
/* Untrusted when more than half of the records are missing their stack. */
void gp_trust_judge(const struct gp_trust *t, struct gp_trust_verdict *v);
void gp_trust_free(struct gp_trust *t);

#endif
