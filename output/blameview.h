/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_BLAMEVIEW_H
#define GP_BLAMEVIEW_H

#include "../sampler/account/blame.h"
#include "../sampler/account/profile.h"

/*
 * The blame profile as a read-only profile of its own, for writers that
 * draw stacks (the flame graph): one stack per holder stack, in the
 * holder's thread, holding, weighted by the waiting samples it caused;
 * "[holding the GIL off CPU]" as a leaf and GP_BLAME_STATE_ASLEEP as the
 * state where the holder was asleep, and
 * a thread of its own (tid 0) for "[GIL being handed over]" and
 * "[holder unknown]". It shares p's functions, locations and threads and
 * adds its markers after them.
 */
/* The state a view stack of a holder asleep holding the GIL has. */
#define GP_BLAME_STATE_ASLEEP GP_STATE_IDLE

struct gp_blame_view {
	struct gp_profile view;
	struct gp_function marker_funcs[3];
	struct gp_location marker_locs[3];
	struct gp_thread nobody[2];
	struct gp_blame_sum *sums;
	size_t nsums;
	struct gp_stack *st;  /* the stacks (view.stacks points into it) */
	uint32_t *locs;       /* all stacks' locations */
};

/* 0 (view.nstacks 0: nobody waited), or -1 on ENOMEM. */
int gp_blame_view_build(struct gp_blame_view *v, const struct gp_profile *p);
void gp_blame_view_free(struct gp_blame_view *v);

#endif
