/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_TOPTABLE_H
#define GP_TOPTABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profile.h"

/*
 * What `top` shows: the time of the live profile since the last update,
 * per function (own: it was the leaf; total: it was on the stack) and per
 * thread, split by GIL state. A stack's time is its CPU-clock samples at
 * the sampling period, plus in wall mode the off-CPU time of its closed
 * intervals (a thread still blocked shows once it wakes).
 */

struct gp_top_row {
	uint32_t func;             /* function id of the profile */
	uint32_t thread;           /* thread index (per-thread rows), else UINT32_MAX */
	uint64_t own_ns, total_ns;
	uint64_t state_ns[GP_STATE__MAX]; /* of total_ns */
};

struct gp_top_thread {
	uint64_t state_ns[GP_STATE__MAX];
	uint64_t ns;
};

enum gp_top_sort { GP_TOP_OWN = 0, GP_TOP_TOTAL, GP_TOP_HOLDING, GP_TOP_WAITING, GP_TOP_NAME };

struct gp_top_table {
	/* settings */
	bool idle;                 /* count idle time (else left out) */
	bool per_thread;           /* one row per (thread, function) */
	enum gp_top_sort sort;
	/* the last interval */
	struct gp_top_row *rows;
	size_t nrows, caprows;
	struct gp_top_thread *threads; /* by thread index */
	size_t nthreads;
	uint64_t ns;               /* all time counted in the interval */
	uint64_t state_ns[GP_STATE__MAX];
	/* each stack's time at the last update, by stack index */
	uint64_t *seen;
	size_t nseen;
};

void gp_top_init(struct gp_top_table *t);
void gp_top_free(struct gp_top_table *t);

/* Rows of prof's time since the last call, sorted. -1 on ENOMEM. */
int gp_top_update(struct gp_top_table *t, const struct gp_profile *prof);

/* Sort the rows again (after t->sort changed). */
void gp_top_sort(struct gp_top_table *t, const struct gp_profile *prof);

#endif
