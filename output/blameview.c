// SPDX-License-Identifier: BSD-2-Clause
/*
 * blameview.c — the blame profile as a profile (see blameview.h).
 */
#include "blameview.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MARK_OFFCPU, MARK_HANDOFF, MARK_UNKNOWN, NMARKS };

static const char *const mark_names[NMARKS] = {
	[MARK_OFFCPU] = GP_BLAME_OFFCPU,
	[MARK_HANDOFF] = GP_BLAME_HANDOFF,
	[MARK_UNKNOWN] = GP_BLAME_UNKNOWN,
};

/* p's pointer array of n entries with extra appended; NULL on ENOMEM. */
static void *extend(void *const *arr, size_t n, void *const *extra, size_t k)
{
	void **v = malloc((n + k) * sizeof(*v));

	if (!v)
		return NULL;
	if (n)
		memcpy(v, arr, n * sizeof(*v));
	memcpy(v + n, extra, k * sizeof(*v));
	return v;
}

static int add_markers(struct gp_blame_view *v, const struct gp_profile *p)
{
	void *funcs[NMARKS], *locs[NMARKS], *threads[2];

	for (int i = 0; i < NMARKS; i++) {
		struct gp_function *f = &v->marker_funcs[i];
		struct gp_location *l = &v->marker_locs[i];

		f->id = (uint32_t)(p->nfunctions + 1 + i);
		f->kind = GP_FUNC_MARKER;
		f->name = f->system_name = (char *)mark_names[i];
		f->filename = (char *)"";
		l->id = (uint32_t)(p->nlocations + 1 + i);
		l->func = f->id;
		funcs[i] = f;
		locs[i] = l;
	}
	for (int i = 0; i < 2; i++) {
		v->nobody[i].idx = (uint32_t)(p->nthreads + i);
		v->nobody[i].pid = p->pid;
		snprintf(v->nobody[i].name, sizeof(v->nobody[i].name), "%s",
			 mark_names[MARK_HANDOFF + i]);
		threads[i] = &v->nobody[i];
	}
	v->view.functions = extend((void *const *)p->functions, p->nfunctions, funcs, NMARKS);
	v->view.locations = extend((void *const *)p->locations, p->nlocations, locs, NMARKS);
	v->view.threads = extend((void *const *)p->threads, p->nthreads, threads, 2);
	if (!v->view.functions || !v->view.locations || !v->view.threads)
		return -1;
	v->view.nfunctions = p->nfunctions + NMARKS;
	v->view.nlocations = p->nlocations + NMARKS;
	v->view.nthreads = p->nthreads + 2;
	return 0;
}

int gp_blame_view_build(struct gp_blame_view *v, const struct gp_profile *p)
{
	size_t nlocs = 0, at = 0;

	memset(v, 0, sizeof(*v));
	v->view = *p;
	v->view.stacks = NULL;
	v->view.nstacks = 0;
	v->view.func_index = NULL;
	v->view.loc_index = NULL;
	v->view.thread_index = NULL;
	v->view.stack_index = NULL;
	v->view.functions = NULL;
	v->view.locations = NULL;
	v->view.threads = NULL;
	v->sums = gp_blames_by_holder(p->blames, &v->nsums);
	if (!v->sums && v->nsums)
		goto fail;
	if (add_markers(v, p))
		goto fail;
	for (size_t i = 0; i < v->nsums; i++)
		nlocs += v->sums[i].n + 1;
	v->locs = calloc(nlocs + 1, sizeof(*v->locs));
	v->view.stacks = calloc(v->nsums + 1, sizeof(*v->view.stacks));
	v->st = calloc(v->nsums + 1, sizeof(*v->st));
	if (!v->locs || !v->view.stacks || !v->st)
		goto fail;
	v->view.samples = 0;
	for (size_t i = 0; i < v->nsums; i++) {
		const struct gp_blame_sum *x = &v->sums[i];
		struct gp_stack *s = &v->st[i];

		s->locs = v->locs + at;
		if (x->holder == GP_BLAME_NOBODY || !x->holder || x->holder > p->nthreads) {
			s->thread = (uint32_t)p->nthreads + (x->holder == GP_BLAME_NOBODY ? 0 : 1);
		} else {
			s->thread = x->holder - 1;
		}
		memcpy(s->locs, x->locs, x->n * sizeof(*x->locs));
		s->n = x->n;
		if (x->offcpu)
			s->locs[s->n++] = v->marker_locs[MARK_OFFCPU].id;
		at += s->n;
		/* The flame graph colours a holder asleep apart (see flamegraph.c). */
		s->state = x->offcpu ? GP_BLAME_STATE_ASLEEP : GP_STATE_HOLDING;
		s->gc = x->gc;
		s->samples = x->samples;
		s->wall_ns = x->wait_ns;
		v->view.samples += x->samples;
		v->view.stacks[v->view.nstacks++] = s;
	}
	return 0;
fail:
	gp_blame_view_free(v);
	errno = ENOMEM;
	return -1;
}

void gp_blame_view_free(struct gp_blame_view *v)
{
	free(v->st);
	free(v->view.stacks);
	free(v->view.functions);
	free(v->view.locations);
	free(v->view.threads);
	free(v->locs);
	gp_blame_sums_free(v->sums, v->nsums);
	memset(v, 0, sizeof(*v));
}
