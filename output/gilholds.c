// SPDX-License-Identifier: BSD-2-Clause
/*
 * gilholds.c — the report's hold and wait durations and hand-off summary,
 * from the GIL timeline (exact acquisitions and releases) when one was
 * traced, else from wall mode's estimated one (timeline.h, said so):
 *
 *   - per thread, how long it held the GIL per acquisition (p50, p99, max;
 *     holds longer than the default switch interval, 5 ms, counted: the
 *     holder did not let go when asked) and how long it waited from asking
 *     for the GIL to getting it (the acquisition latency);
 *   - per stack that acquired the GIL, its holds (count, total, p50, p99,
 *     max, over 5 ms), the stacks that held it longest in all first;
 *   - the longest holds with the stack that acquired the GIL;
 *   - who handed the GIL to whom, how often, and the hand-offs per second.
 *
 * Slices cut by the start or the end of the recording are left out of the
 * durations (their true length is unknown).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "gilholds.h"
#include "text.h"
#include "../sampler/account/profile.h"
#include "../sampler/account/timeline.h"

#define SWITCH_INTERVAL_NS (5ULL * 1000 * 1000) /* sys.getswitchinterval() default */
#define TOP_HOLDS 3
#define TOP_PAIRS 10
#define TOP_FRAMES 8
#define TOP_STACKS 5

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double ms_at(const uint64_t *v, size_t n, double q)
{
	size_t i = (size_t)(q * (double)n);

	return n ? v[i < n ? i : n - 1] / 1e6 : 0.0;
}

static bool whole(const struct gp_timeline *tl, const struct gp_tl_slice *s)
{
	return s->start > tl->t0 && s->end < tl->t_end;
}

static void put_label(const struct gp_profile *p, uint32_t thread, int width, FILE *out)
{
	const struct gp_thread *t = p->threads[thread];
	char label[96], *clean = gp_text_clean(t->name);

	snprintf(label, sizeof(label), "%d%s%s", (int)t->tid, t->name[0] ? " " : "",
		 clean ? clean : "?");
	free(clean);
	if (width)
		fprintf(out, "%-*.*s", width, width, label);
	else
		fputs(label, out);
}

/* One thread's row; v: room for its slices. */
static void put_row(const struct gp_profile *p, const struct gp_timeline *tl, uint32_t thread,
		    size_t first, size_t end, uint64_t *v, FILE *out)
{
	size_t nh = 0, nw = 0, longer = 0;

	for (size_t i = first; i < end; i++) {
		const struct gp_tl_slice *s = &tl->slices[i];

		if (s->state == GP_STATE_HOLDING && whole(tl, s)) {
			v[nh++] = s->end - s->start;
			longer += s->end - s->start > SWITCH_INTERVAL_NS;
		}
	}
	qsort(v, nh, sizeof(*v), cmp_u64);
	put_label(p, thread, 24, out);
	fprintf(out, " %7zu %8.2f %8.2f %8.2f %7zu", nh, ms_at(v, nh, 0.5), ms_at(v, nh, 0.99),
		nh ? v[nh - 1] / 1e6 : 0.0, longer);
	for (size_t i = first; i < end; i++) {
		const struct gp_tl_slice *s = &tl->slices[i];

		if (s->state == GP_STATE_WAITING && whole(tl, s))
			v[nw++] = s->end - s->start;
	}
	qsort(v, nw, sizeof(*v), cmp_u64);
	fprintf(out, " %7zu %8.2f %8.2f %8.2f\n", nw, ms_at(v, nw, 0.5), ms_at(v, nw, 0.99),
		nw ? v[nw - 1] / 1e6 : 0.0);
}

static int put_durations(const struct gp_profile *p, const struct gp_timeline *tl, FILE *out)
{
	uint64_t *v = malloc((tl->nslices + 1) * sizeof(*v));
	size_t first = 0;

	if (!v)
		return -1;
	if (tl->estimated)
		fprintf(out,
			"\nGIL hold and wait durations (estimated from samples and switch events: "
			"a thread takes the GIL as it is switched in or first seen holding it, lets go "
			"as it is switched out or first seen without it; waits that never left the "
			"CPU are not seen; exact with -o FILE.trace.json; ms; holds > 5 ms: longer "
			"than the default switch interval):\n");
	else
		fprintf(out, "\nGIL hold and wait durations (exact, from the GIL timeline; ms; "
			     "holds > 5 ms: longer than the default switch interval):\n");
	if (tl->estimated && tl->truncated)
		fprintf(out, "(estimated over the first %.1f s of the recording only: %zu changes "
			     "of state are kept)\n",
			(tl->t_end - tl->t0) / 1e9, tl->max_events);
	fprintf(out, "%-24s %7s %8s %8s %8s %7s %7s %8s %8s %8s\n",
		"thread", "holds", "p50", "p99", "max", "> 5 ms", "waits", "p50", "p99", "max");
	/* Slices are by thread, then time. */
	for (size_t i = 1; i <= tl->nslices; i++) {
		if (i < tl->nslices && tl->slices[i].thread == tl->slices[first].thread)
			continue;
		if (tl->slices[first].thread < p->nthreads)
			put_row(p, tl, tl->slices[first].thread, first, i, v, out);
		first = i;
	}
	free(v);
	return 0;
}

static void put_stack(const struct gp_profile *p, const struct gp_tl_stack *st, FILE *out)
{
	uint32_t shown = 0;

	if (!st || !st->n) {
		fputs("      (stack not known)\n", out);
		return;
	}
	for (uint32_t k = st->n; k-- > 0 && shown < TOP_FRAMES; shown++) {
		char *f = gp_frame_text(p, gp_loc(p, st->locs[k]), true);

		fprintf(out, "      %s\n", f ? f : "?");
		free(f);
	}
}

/* The TOP_HOLDS longest whole holds, with the stack that acquired the GIL. */
static void put_longest(const struct gp_profile *p, const struct gp_timeline *tl, FILE *out)
{
	const struct gp_tl_slice *top[TOP_HOLDS] = { 0 };

	for (size_t i = 0; i < tl->nslices; i++) {
		const struct gp_tl_slice *s = &tl->slices[i];

		if (s->state != GP_STATE_HOLDING || !whole(tl, s) || s->thread >= p->nthreads)
			continue;
		for (int k = 0; k < TOP_HOLDS; k++) {
			if (top[k] && top[k]->end - top[k]->start >= s->end - s->start)
				continue;
			memmove(&top[k + 1], &top[k], (TOP_HOLDS - 1 - k) * sizeof(top[0]));
			top[k] = s;
			break;
		}
	}
	if (!top[0])
		return;
	fprintf(out, "\nLongest GIL holds%s (the stack that acquired it, leaf first):\n",
		tl->estimated ? " (estimated)" : "");
	for (int k = 0; k < TOP_HOLDS && top[k]; k++) {
		fprintf(out, "  %d. %.2f ms by thread ", k + 1, (top[k]->end - top[k]->start) / 1e6);
		put_label(p, top[k]->thread, 0, out);
		fputc('\n', out);
		put_stack(p, gp_tl_stack(tl, top[k]->stack), out);
	}
}

/* One whole hold: the stack that acquired the GIL, and for how long. */
struct hold {
	uint32_t stack;
	uint64_t ns;
};

/* A stack's holds: holds[first .. first + n), sorted by length. */
struct stack_holds {
	size_t first, n;
	uint64_t total;
};

static int cmp_hold(const void *a, const void *b)
{
	const struct hold *x = a, *y = b;

	if (x->stack != y->stack)
		return x->stack < y->stack ? -1 : 1;
	return x->ns < y->ns ? -1 : x->ns > y->ns;
}

static int cmp_total(const void *a, const void *b)
{
	const struct stack_holds *x = a, *y = b;

	return x->total > y->total ? -1 : x->total < y->total;
}

static void put_stack_line(const struct gp_profile *p, const struct gp_tl_stack *st, FILE *out)
{
	if (!st || !st->n) {
		fputs("(stack not known)\n", out);
		return;
	}
	for (uint32_t k = st->n, shown = 0; k-- > 0 && shown < 3; shown++) {
		char *f = gp_frame_text(p, gp_loc(p, st->locs[k]), true);

		fprintf(out, "%s%s", shown ? " < " : "", f ? f : "?");
		free(f);
	}
	fputc('\n', out);
}

/* Per stack that acquired the GIL: how long it held it, the top TOP_STACKS by time. */
static int put_by_stack(const struct gp_profile *p, const struct gp_timeline *tl, FILE *out)
{
	struct hold *h = malloc((tl->nslices + 1) * sizeof(*h));
	struct stack_holds *g = malloc((tl->nslices + 1) * sizeof(*g));
	uint64_t *ns = malloc((tl->nslices + 1) * sizeof(*ns)); /* h's lengths, for ms_at */
	size_t nh = 0, ng = 0;

	if (!h || !g || !ns) {
		free(h);
		free(g);
		free(ns);
		return -1;
	}
	for (size_t i = 0; i < tl->nslices; i++) {
		const struct gp_tl_slice *s = &tl->slices[i];

		if (s->state == GP_STATE_HOLDING && whole(tl, s))
			h[nh++] = (struct hold){ s->stack, s->end - s->start };
	}
	qsort(h, nh, sizeof(*h), cmp_hold);
	for (size_t i = 0; i < nh; i++) {
		if (!ng || h[i].stack != h[g[ng - 1].first].stack)
			g[ng++] = (struct stack_holds){ i, 0, 0 };
		g[ng - 1].n++;
		g[ng - 1].total += h[i].ns;
		ns[i] = h[i].ns;
	}
	qsort(g, ng, sizeof(*g), cmp_total);
	if (ng)
		fprintf(out, "\nGIL holds by the stack that acquired it (the %d that held it "
			     "longest in all; ms):\n%8s %9s %8s %8s %8s %7s  %s\n",
			TOP_STACKS, "holds", "total", "p50", "p99", "max", "> 5 ms",
			"stack, leaf first");
	for (size_t k = 0; k < ng && k < TOP_STACKS; k++) {
		const uint64_t *v = &ns[g[k].first];
		size_t n = g[k].n, longer = 0;

		for (size_t i = 0; i < n; i++)
			longer += v[i] > SWITCH_INTERVAL_NS;
		fprintf(out, "%8zu %9.2f %8.2f %8.2f %8.2f %7zu  ", n, g[k].total / 1e6,
			ms_at(v, n, 0.5), ms_at(v, n, 0.99), ms_at(v, n, 1.0), longer);
		put_stack_line(p, gp_tl_stack(tl, h[g[k].first].stack), out);
	}
	free(h);
	free(g);
	free(ns);
	return 0;
}

struct pair {
	uint32_t from, to;
	uint64_t n;
};

static int cmp_pair(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;

	if (x->from != y->from)
		return x->from < y->from ? -1 : 1;
	return x->to < y->to ? -1 : x->to > y->to;
}

static int cmp_count(const void *a, const void *b)
{
	const struct pair *x = a, *y = b;

	if (x->n != y->n)
		return x->n > y->n ? -1 : 1;
	return cmp_pair(a, b);
}

static int put_handoffs(const struct gp_profile *p, const struct gp_timeline *tl, FILE *out)
{
	struct pair *v = malloc((tl->nhandoffs + 1) * sizeof(*v));
	double secs = tl->t_end > tl->t0 ? (tl->t_end - tl->t0) / 1e9 : 0;
	size_t n = 0;

	if (!v)
		return -1;
	for (size_t i = 0; i < tl->nhandoffs; i++)
		v[i] = (struct pair){ tl->handoffs[i].from, tl->handoffs[i].to, 1 };
	qsort(v, tl->nhandoffs, sizeof(*v), cmp_pair);
	for (size_t i = 0; i < tl->nhandoffs; i++) {
		if (n && v[n - 1].from == v[i].from && v[n - 1].to == v[i].to)
			v[n - 1].n++;
		else
			v[n++] = v[i];
	}
	qsort(v, n, sizeof(*v), cmp_count);
	fprintf(out, "\nGIL hand-offs%s: %zu in %.2f s (%.1f per second)\n",
		tl->estimated ? " (estimated, as above)" : "", tl->nhandoffs, secs,
		secs > 0 ? tl->nhandoffs / secs : 0.0);
	if (n)
		fprintf(out, "  %-24s %-24s %8s\n", "from", "to", "count");
	for (size_t i = 0; i < n && i < TOP_PAIRS; i++) {
		if (v[i].from >= p->nthreads || v[i].to >= p->nthreads)
			continue;
		fputs("  ", out);
		put_label(p, v[i].from, 24, out);
		fputc(' ', out);
		put_label(p, v[i].to, 24, out);
		fprintf(out, " %8" PRIu64 "\n", v[i].n);
	}
	if (n > TOP_PAIRS)
		fprintf(out, "  ... %zu more pairs\n", n - TOP_PAIRS);
	free(v);
	return 0;
}

/* The interpreter's own count, read at the start and the stop of the recording. */
static void put_switches(const struct gp_profile *p, FILE *out)
{
	double secs = p->gil_switches_ns / 1e9;

	if (!p->gil_switches_known || secs <= 0)
		return;
	fprintf(out,
		"\nGIL switches: %" PRIu64 " in %.2f s (%.1f per second; the interpreter's own "
		"count, gil->switch_number)\n",
		p->gil_switches, secs, p->gil_switches / secs);
}

int gp_report_holds(const struct gp_profile *p, FILE *out)
{
	const struct gp_timeline *tl = p->timeline;

	put_switches(p, out);

	if (!tl) {
		fprintf(out, "\nGIL hold and wait durations and hand-offs: not measured (they need "
			     "wall mode, or the GIL timeline: add -o FILE.trace.json)\n");
		return 0;
	}
	if (put_durations(p, tl, out) || put_by_stack(p, tl, out))
		return -1;
	put_longest(p, tl, out);
	return put_handoffs(p, tl, out);
}
