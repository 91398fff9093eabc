// SPDX-License-Identifier: BSD-2-Clause
/*
 * merge.c — native and Python frames into one stack in call order. See
 * merge.h. The result is built innermost first, then reversed.
 */
#include "merge.h"

struct builder {
	struct gp_merge_item *out;
	uint32_t n, max;
};

static void push(struct builder *b, enum gp_merge_item_kind kind, uint32_t idx)
{
	if (b->n >= b->max)
		return;
	b->out[b->n].kind = (uint8_t)kind;
	b->out[b->n].idx = idx;
	b->n++;
}

static void reverse(struct gp_merge_item *v, uint32_t n)
{
	for (uint32_t i = 0, j = n; i + 1 < j; i++, j--) {
		struct gp_merge_item t = v[i];

		v[i] = v[j - 1];
		v[j - 1] = t;
	}
}

/* Hidden: plumbing, unless asked for or it is where the thread was. */
static bool hidden(const struct gp_merge_in *in, uint32_t i)
{
	return in->native_kind[i] == GP_NK_PLUMBING && !in->show_plumbing && i > 0;
}

static uint32_t count_groups(const struct gp_merge_in *in)
{
	uint32_t g = 0;

	for (uint32_t i = 0; i < in->npy; i++)
		if (in->py_entry[i] || i + 1 == in->npy)
			g++;
	return g;
}

static uint32_t count_evals(const struct gp_merge_in *in)
{
	uint32_t e = 0;

	for (uint32_t i = 0; i < in->nnative; i++)
		e += in->native_kind[i] == GP_NK_EVAL;
	return e;
}

/* Both stacks, unmerged, behind a marker (innermost first, reversed later). */
static void unmerged(const struct gp_merge_in *in, struct builder *b)
{
	for (uint32_t i = 0; i < in->nnative; i++)
		if (!hidden(in, i))
			push(b, GP_MI_NATIVE, i);
	if (!in->native_complete)
		push(b, GP_MI_NATIVE_CUT, 0);
	push(b, GP_MI_NATIVE_PART, 0);
	for (uint32_t i = 0; i < in->npy; i++)
		push(b, GP_MI_PYTHON, i);
	if (!in->py_complete)
		push(b, GP_MI_PYTHON_CUT, 0);
	push(b, GP_MI_MISMATCH, 0);
}

static void merged(const struct gp_merge_in *in, struct builder *b)
{
	uint32_t p = 0;
	bool py_cut_shown = false;

	for (uint32_t i = 0; i < in->nnative; i++) {
		if (in->native_kind[i] != GP_NK_EVAL || p == in->npy) {
			if (!hidden(in, i))
				push(b, GP_MI_NATIVE, i);
			continue;
		}
		/* This eval call's Python frames, up to its entry frame. */
		while (p < in->npy) {
			push(b, GP_MI_PYTHON, p);
			if (in->py_entry[p++])
				break;
		}
		/* The walk stopped early: the lost Python frames were here. */
		if (p == in->npy && !in->py_complete) {
			push(b, GP_MI_PYTHON_CUT, 0);
			py_cut_shown = true;
		}
	}
	if (!in->native_complete)
		push(b, GP_MI_NATIVE_CUT, 0);
	/* Unwinding stopped early: outer Python frames without their C frames. */
	while (p < in->npy)
		push(b, GP_MI_PYTHON, p++);
	if (!in->py_complete && !py_cut_shown)
		push(b, GP_MI_PYTHON_CUT, 0);
}

uint32_t gp_merge(const struct gp_merge_in *in, struct gp_merge_item *out, uint32_t max,
		  bool *mismatch)
{
	struct builder b = { out, 0, max };
	uint32_t evals = count_evals(in), groups = count_groups(in);

	/* A walk cut short explains missing frames on its side, nothing else. */
	*mismatch = (evals > groups && in->py_complete) ||
		    (evals < groups && in->native_complete);
	if (*mismatch)
		unmerged(in, &b);
	else
		merged(in, &b);
	reverse(out, b.n);
	return b.n;
}
