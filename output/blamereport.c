// SPDX-License-Identifier: BSD-2-Clause
/*
 * blamereport.c — the report's "Who held the GIL while others waited": the
 * holders' stacks that caused the most waiting, with the waiting time they
 * caused, how many threads waited, and whether the holder was asleep (off
 * CPU) holding the GIL. Blame sums come from account/blame.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The q-quantile (nearest rank) of sorted v[n]. */
static uint64_t quantile(const uint64_t *v, size_t n, double q)
{
	size_t i = (size_t)(q * (double)n);

	return n ? v[i < n ? i : n - 1] : 0;
}

static int cmp_asleep(const void *a, const void *b)
{
	const struct gp_asleep *x = *(const struct gp_asleep *const *)a;
	const struct gp_asleep *y = *(const struct gp_asleep *const *)b;

	if (x->waited_ns != y->waited_ns)
		return x->waited_ns > y->waited_ns ? -1 : 1;
	return x->total_ns > y->total_ns ? -1 : x->total_ns < y->total_ns;
}

static void put_stack(const struct gp_profile *p, const uint32_t *locs, uint32_t n, FILE *out)
{
	uint32_t shown = 0;

	for (uint32_t k = n; k-- > 0 && shown < TOP_FRAMES; shown++) {
		char *f = gp_frame_text(p, gp_loc(p, locs[k]), true);

		fprintf(out, "      %s\n", f ? f : "?");
		free(f);
	}
	if (n > TOP_FRAMES)
		fprintf(out, "      ... %u more\n", n - TOP_FRAMES);
}

static int put_asleep_one(const struct gp_profile *p, int rank, const struct gp_asleep *a,
			  FILE *out)
{
	const struct gp_thread *t = p->threads[a->stack->thread];
	uint64_t *v = malloc(a->n * sizeof(*v));
	char *name;

	if (!v)
		return -1;
	memcpy(v, a->ns, a->n * sizeof(*v));
	qsort(v, a->n, sizeof(*v), cmp_u64);
	name = gp_text_clean(t->name);
	fprintf(out,
		"  %d. thread %d%s%s asleep holding the GIL %zu time%s, %.3f s in all (others "
		"waited during %.3f s of it); each p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
		rank, (int)t->tid, t->name[0] ? " " : "", name ? name : "?", a->n,
		a->n == 1 ? "" : "s", a->total_ns / 1e9, a->waited_ns / 1e9,
		quantile(v, a->n, 0.5) / 1e6, quantile(v, a->n, 0.99) / 1e6, v[a->n - 1] / 1e6);
	free(name);
	free(v);
	put_stack(p, a->stack->locs, a->stack->n, out);
	return 0;
}

/*
 * "GIL held off CPU while others waited": wall mode's switch records of
 * holders that went to sleep holding the GIL (a C call that blocks without
 * releasing it), each sleep measured from its switch-out to its switch-in.
 */
static int put_asleep(const struct gp_profile *p, FILE *out)
{
	const struct gp_blames *b = p->blames;
	const struct gp_asleep **v;
	size_t n = 0;
	int rc = 0;

	if (p->mode != GP_MODE_WALL)
		return 0;
	fprintf(out, "\nGIL held off CPU while others waited (asleep holding it, leaf first):\n");
	v = calloc(b && b->nasleep ? b->nasleep : 1, sizeof(*v));
	if (!v)
		return -1;
	for (size_t i = 0; b && i < b->nasleep; i++)
		if (b->asleep[i].waited_ns && b->asleep[i].n)
			v[n++] = &b->asleep[i];
	qsort(v, n, sizeof(*v), cmp_asleep);
	for (size_t i = 0; i < n && i < TOP_HOLDERS && !rc; i++)
		rc = put_asleep_one(p, (int)i + 1, v[i], out);
	if (!n)
		fprintf(out, "  (no thread slept holding the GIL while others waited)\n");
	free(v);
	return rc;
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
	if (!p->blames) {
		fprintf(out, "\nWho held the GIL while others waited: not recorded (--no-blame)\n");
		return 0;
	}
	fprintf(out, "\nWho held the GIL while others waited (holder stacks, leaf first):\n");
	for (size_t i = 0; i < n; i++)
		all += waited_ns(p, &v[i]);
	for (size_t i = 0; i < n && shown < TOP_HOLDERS; i++)
		if (v[i].samples)
			put_sum(p, ++shown, &v[i], all, out);
	if (!shown && p->mode == GP_MODE_CPU)
		fprintf(out, "  (no sample found a thread waiting on CPU; cpu mode does not see "
			     "waits off CPU: --mode wall does)\n");
	else if (!shown)
		fprintf(out, "  (no thread waited for the GIL)\n");
	gp_blame_sums_free(v, n);
	return put_asleep(p, out);
}
