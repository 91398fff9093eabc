// SPDX-License-Identifier: BSD-2-Clause
/*
 * blamereport.c — the report's "Who held the GIL while others waited": the
 * holders' stacks that caused the most waiting, with the waiting time they
 * caused, how many threads waited, and whether the holder was asleep (off
 * CPU) holding the GIL. Blame sums come from account/blame.c.
 */
#include <errno.h>
#include <stdlib.h>

#include "blamereport.h"
#include "text.h"
#include "../sampler/account/blame.h"
#include "../sampler/account/profile.h"

#define TOP_HOLDERS 5
#define TOP_FRAMES 8   /* frames shown per holder stack, leaf first */

/* The waiting time a sum stands for: measured in wall mode, sampled in cpu mode. */
static uint64_t waited_ns(const struct gp_profile *p, const struct gp_blame_sum *x)
{
	return p->mode == GP_MODE_WALL ? x->wait_ns : x->samples * p->period_ns;
}

static void put_holder(const struct gp_profile *p, const struct gp_blame_sum *x, FILE *out)
{
	const struct gp_thread *t;
	char *name;

	if (x->holder == GP_BLAME_NOBODY) {
		fputs("nobody: the GIL was being handed over", out);
		return;
	}
	if (!x->holder || x->holder > p->nthreads) {
		fputs("a thread gil-prof could not name " GP_BLAME_UNKNOWN, out);
		return;
	}
	t = p->threads[x->holder - 1];
	name = gp_text_clean(t->name);
	fprintf(out, "thread %d%s%s", (int)t->tid, t->name[0] ? " " : "", name ? name : "?");
	free(name);
	if (x->offcpu)
		fputs(", asleep (off CPU) holding it", out);
	if (x->gc)
		fputs(", collecting garbage", out);
}

static void put_sum(const struct gp_profile *p, int rank, const struct gp_blame_sum *x,
		    uint64_t all, FILE *out)
{
	uint32_t shown = 0;

	fprintf(out, "  %d. %.2f s of waiting (%.1f%% of it) in %u thread%s, held by ", rank,
		waited_ns(p, x) / 1e9, all ? 100.0 * (double)waited_ns(p, x) / (double)all : 0.0,
		x->nwaiters, x->nwaiters == 1 ? "" : "s");
	put_holder(p, x, out);
	fputc('\n', out);
	for (uint32_t k = x->n; k-- > 0 && shown < TOP_FRAMES; shown++) {
		char *f = gp_frame_text(p, gp_loc(p, x->locs[k]), true);

		fprintf(out, "      %s\n", f ? f : "?");
		free(f);
	}
	if (x->n > TOP_FRAMES)
		fprintf(out, "      ... %u more\n", x->n - TOP_FRAMES);
}

int gp_report_blame(const struct gp_profile *p, FILE *out)
{
	size_t n;
	struct gp_blame_sum *v = gp_blames_by_holder(p->blames, &n);
	uint64_t all = 0;
	int shown = 0;

	if (!v && n) {
		errno = ENOMEM;
		return -1;
	}
	fprintf(out, "\nWho held the GIL while others waited (holder stacks, leaf first):\n");
	for (size_t i = 0; i < n; i++)
		all += waited_ns(p, &v[i]);
	for (size_t i = 0; i < n && shown < TOP_HOLDERS; i++)
		if (v[i].samples)
			put_sum(p, ++shown, &v[i], all, out);
	if (!shown)
		fprintf(out, "  (no thread waited for the GIL)\n");
	gp_blame_sums_free(v, n);
	return 0;
}
