// SPDX-License-Identifier: BSD-2-Clause
/*
 * toptable.c — the accounting of `top`: the live profile's time since the
 * previous refresh, by function and thread and GIL state. Stacks keep
 * their index in the profile while it records (it is sorted only when the
 * recording ends), so the time each had at the last refresh is kept by
 * index and the difference is the interval's.
 */
#include "toptable.h"

#include <stdlib.h>
#include <string.h>

#include "grow.h"

void gp_top_init(struct gp_top_table *t)
{
	memset(t, 0, sizeof(*t));
}

void gp_top_free(struct gp_top_table *t)
{
	free(t->rows);
	free(t->threads);
	free(t->seen);
	memset(t, 0, sizeof(*t));
}

/* A stack's time so far: samples at the period, and measured off-CPU time. */
static uint64_t stack_ns(const struct gp_profile *p, const struct gp_stack *s)
{
	/* Wall mode hands out on-CPU time and samples only when it ends. */
	if (p->mode == GP_MODE_WALL)
		return s->raw_samples * p->period_ns + (s->wall_ns - s->cpu_ns);
	return s->samples * p->period_ns;
}

static struct gp_top_row *row(struct gp_top_table *t, uint32_t func, uint32_t thread)
{
	for (size_t i = 0; i < t->nrows; i++)
		if (t->rows[i].func == func && t->rows[i].thread == thread)
			return &t->rows[i];
	if (gp_grow((void **)&t->rows, t->nrows, &t->caprows, sizeof(t->rows[0]), 256))
		return NULL;
	memset(&t->rows[t->nrows], 0, sizeof(t->rows[0]));
	t->rows[t->nrows].func = func;
	t->rows[t->nrows].thread = thread;
	return &t->rows[t->nrows++];
}

/* Was function f on the stack below position i already (counted once)? */
static bool seen_below(const struct gp_profile *p, const struct gp_stack *s, uint32_t i,
		       uint32_t f)
{
	for (uint32_t j = 0; j < i; j++)
		if (gp_loc(p, s->locs[j])->func == f)
			return true;
	return false;
}

static int add_stack(struct gp_top_table *t, const struct gp_profile *p, const struct gp_stack *s,
		     uint64_t ns)
{
	uint32_t thread = t->per_thread ? s->thread : UINT32_MAX;

	for (uint32_t i = 0; i < s->n; i++) {
		uint32_t f = gp_loc(p, s->locs[i])->func;
		struct gp_top_row *r;

		if (seen_below(p, s, i, f))
			continue;
		r = row(t, f, thread);
		if (!r)
			return -1;
		r->total_ns += ns;
		r->state_ns[s->state] += ns;
	}
	if (s->n) {
		struct gp_top_row *r = row(t, gp_loc(p, s->locs[s->n - 1])->func, thread);

		if (!r)
			return -1;
		r->own_ns += ns;
	}
	return 0;
}

static int grow_seen(struct gp_top_table *t, size_t n)
{
	uint64_t *seen;

	if (n <= t->nseen)
		return 0;
	seen = realloc(t->seen, n * sizeof(*seen));
	if (!seen)
		return -1;
	memset(seen + t->nseen, 0, (n - t->nseen) * sizeof(*seen));
	t->seen = seen;
	t->nseen = n;
	return 0;
}

static int grow_threads(struct gp_top_table *t, size_t n)
{
	struct gp_top_thread *th = realloc(t->threads, (n ? n : 1) * sizeof(*th));

	if (!th)
		return -1;
	t->threads = th;
	t->nthreads = n;
	memset(th, 0, n * sizeof(*th));
	return 0;
}

int gp_top_update(struct gp_top_table *t, const struct gp_profile *p)
{
	if (grow_seen(t, p->nstacks) || grow_threads(t, p->nthreads))
		return -1;
	t->nrows = 0;
	t->ns = 0;
	memset(t->state_ns, 0, sizeof(t->state_ns));
	for (size_t i = 0; i < p->nstacks; i++) {
		const struct gp_stack *s = p->stacks[i];
		uint64_t now = stack_ns(p, s), ns = now - t->seen[i];

		t->seen[i] = now;
		if (!ns || s->state >= GP_STATE__MAX || (s->state == GP_STATE_IDLE && !t->idle))
			continue;
		t->ns += ns;
		t->state_ns[s->state] += ns;
		if (s->thread < t->nthreads) {
			t->threads[s->thread].ns += ns;
			t->threads[s->thread].state_ns[s->state] += ns;
		}
		if (add_stack(t, p, s, ns))
			return -1;
	}
	gp_top_sort(t, p);
	return 0;
}

static const struct gp_profile *sort_prof;
static enum gp_top_sort sort_key;

static uint64_t key_of(const struct gp_top_row *r)
{
	switch (sort_key) {
	case GP_TOP_TOTAL:
		return r->total_ns;
	case GP_TOP_HOLDING:
		return r->state_ns[GP_STATE_HOLDING];
	case GP_TOP_WAITING:
		return r->state_ns[GP_STATE_WAITING];
	default:
		return r->own_ns;
	}
}

static int cmp_rows(const void *a, const void *b)
{
	const struct gp_top_row *x = a, *y = b;
	uint64_t kx, ky;

	if (sort_key == GP_TOP_NAME) {
		int c = strcmp(gp_func(sort_prof, x->func)->name, gp_func(sort_prof, y->func)->name);

		return c ? c : (x->thread > y->thread) - (x->thread < y->thread);
	}
	kx = key_of(x);
	ky = key_of(y);
	if (kx != ky)
		return kx < ky ? 1 : -1;
	if (x->total_ns != y->total_ns)
		return x->total_ns < y->total_ns ? 1 : -1;
	return (x->func > y->func) - (x->func < y->func);
}

void gp_top_sort(struct gp_top_table *t, const struct gp_profile *p)
{
	/* qsort has no context argument in C11; top is single-threaded. */
	sort_prof = p;
	sort_key = t->sort;
	if (t->nrows)
		qsort(t->rows, t->nrows, sizeof(t->rows[0]), cmp_rows);
}
