/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_BLAME_H
#define GP_BLAME_H

#include <stdbool.h>
#include <stdint.h>
#include <uthash.h>

#include "profile.h"

/*
 * Who held the GIL while a thread waited for it. Every waiting record is
 * paired with the holder the kernel found then (bpf/blame.bpf.h); one entry
 * per (waiting stack, holder thread, holder's stack, off-CPU or not), so
 * each output sums what it shows: the blame profile by holder stack, the
 * pprof labels by waiting stack, the report's waiting threads.
 */
/* Frame texts of the blame view. */
#define GP_BLAME_UNKNOWN "[holder unknown]"
#define GP_BLAME_OFFCPU "[holding the GIL off CPU]"
#define GP_BLAME_HANDOFF "[GIL being handed over]"

/* struct gp_blame.holder: nobody held the GIL (released, not taken yet). */
#define GP_BLAME_NOBODY UINT32_MAX

struct gp_blame {
	struct gp_stack *waiter;   /* the waiting stack (its thread: the waiter) */
	uint32_t holder;           /* holder's gp_thread.idx + 1; 0: [holder unknown];
				      GP_BLAME_NOBODY: a hand-off under way */
	uint8_t offcpu;            /* the holder was off CPU (asleep) holding the GIL */
	uint8_t gc;                /* the holder ran a collection */
	uint32_t n;
	uint32_t *locs;            /* the holder's stack, root first */
	uint64_t samples;          /* waiting samples it caused (equivalent ones in wall mode) */
	uint64_t wait_ns;          /* waiting time it caused */
	void *key;
	size_t keylen;
	UT_hash_handle hh;
};

/*
 * Wall mode: a thread asleep (off CPU, blocked) while it held the GIL, per
 * stack it slept in; every interval measured between its switch records.
 */
struct gp_asleep {
	struct gp_stack *stack;    /* the holder's (holding) stack */
	uint64_t *ns;              /* each interval's length */
	size_t n, cap;
	uint64_t total_ns;
	uint64_t waited_ns;        /* of it, time in which some thread waited for the GIL */
};

struct gp_blames {
	struct gp_blame **v;
	size_t n, cap;
	struct gp_blame *index;
	struct gp_asleep *asleep;  /* by stack, in order of first sleep */
	size_t nasleep, capasleep;
};

/* A holder slept ns in stack, others waiting waited_ns of it. -1 on ENOMEM. */
int gp_blames_asleep(struct gp_blames *b, struct gp_stack *stack, uint64_t ns,
		     uint64_t waited_ns);

void gp_blames_free(struct gp_blames *b);

/* The entry, made on first use; NULL on ENOMEM. */
struct gp_blame *gp_blame_get(struct gp_blames *b, struct gp_stack *waiter, uint32_t holder,
			      bool offcpu, bool gc, const uint32_t *locs, uint32_t n);

/*
 * Wall mode, after gp_profile_apportion: each waiting stack's equivalent
 * samples are shared among its entries by their waiting time (largest
 * remainder), so the blame adds up to the waiting it explains.
 */
int gp_blames_apportion(struct gp_blames *b);

/* Blame summed by holder stack, for the outputs that show holders. */
struct gp_blame_sum {
	uint32_t holder;           /* as in struct gp_blame */
	uint8_t offcpu, gc;
	uint32_t n;
	const uint32_t *locs;      /* the holder's stack, root first (the profile's) */
	uint64_t samples;
	uint64_t wait_ns;
	uint32_t nwaiters;         /* distinct threads that waited */
	uint32_t *waiters, capw;   /* their gp_thread.idx */
};

/*
 * The sums, most samples first (entries without samples left out).
 * NULL with *n = 0 when there are none; NULL with *n = 1 on ENOMEM.
 */
struct gp_blame_sum *gp_blames_by_holder(const struct gp_blames *b, size_t *n);
void gp_blame_sums_free(struct gp_blame_sum *v, size_t n);

/* Total waiting samples with a holder (or unknown) entry. */
uint64_t gp_blames_samples(const struct gp_blames *b);

#endif
