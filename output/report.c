// SPDX-License-Identifier: BSD-2-Clause
/*
 * report.c — the end-of-run summary (format "report"; also printed on
 * stdout after a recording):
 *
 *   - one row per thread: its wall time in the recording and the share of
 *     it holding the GIL, waiting for it, running without it (released)
 *     and idle;
 *   - the process's GIL contention: the share of the wall time in which at
 *     least one thread was waiting for the GIL;
 *   - the stacks that waited longest, summed over threads;
 *   - who held the GIL while they waited (blamereport.c);
 *   - hold and wait durations and hand-offs, from a GIL timeline (gilholds.c).
 *
 * In cpu mode the shares are of on-CPU samples and contention is unknown.
 * Names come from the target: they are cleaned (no control characters, valid
 * UTF-8) before they reach a terminal.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "blamereport.h"
#include "gilholds.h"
#include "output.h"
#include "text.h"
#include "../sampler/account/profile.h"

#define TOP_STACKS 5
#define TOP_FRAMES 8   /* frames shown per top stack, leaf first */

static const enum gp_gil_state columns[] = {
	GP_STATE_HOLDING, GP_STATE_WAITING, GP_STATE_RELEASED, GP_STATE_IDLE,
};
#define NCOLUMNS (sizeof(columns) / sizeof(columns[0]))

static double seconds(uint64_t ns)
{
	return (double)ns / 1e9;
}

static uint64_t thread_total(const struct gp_thread *t)
{
	uint64_t n = 0;

	for (int s = 0; s < GP_STATE__MAX; s++)
		n += t->samples[s];
	return n;
}

static uint64_t process_total(const struct gp_profile *p, pid_t pid)
{
	uint64_t n = 0;

	for (size_t i = 0; i < p->nthreads; i++)
		if (p->threads[i]->pid == pid)
			n += thread_total(p->threads[i]);
	return n;
}

/* s as cleaned text, to out. */
static void put_clean(FILE *out, const char *fmt, const char *s)
{
	char *clean = gp_text_clean(s);

	fprintf(out, fmt, clean ? clean : "?");
	free(clean);
}

static void put_header(const struct gp_profile *p, FILE *out)
{
	fprintf(out, "gil-prof report: process %d (", (int)p->pid);
	put_clean(out, "%s", p->comm[0] ? p->comm : "?");
	fprintf(out, ", Python %s), %s mode, %.2f s at %u Hz\n\n",
		p->python_version[0] ? p->python_version : "?", gp_mode_name(p->mode),
		seconds(p->duration_ns), p->rate_hz);
}

static bool any_unknown(const struct gp_profile *p)
{
	for (size_t i = 0; i < p->nthreads; i++)
		if (p->threads[i]->samples[GP_STATE_NONE] || p->threads[i]->samples[GP_STATE_NOGIL])
			return true;
	return false;
}

static void put_thread_row(const struct gp_profile *p, const struct gp_thread *t, bool other,
			   FILE *out)
{
	uint64_t total = thread_total(t), shown;
	char label[96], *clean;

	clean = gp_text_clean(t->name);
	snprintf(label, sizeof(label), "%d%s%s", (int)t->tid, t->name[0] ? " " : "",
		 clean ? clean : "?");
	free(clean);
	/* Wall mode: lifetime in the recording; cpu mode: on-CPU time. */
	shown = p->mode == GP_MODE_WALL ? t->last_ns - t->first_ns : total * p->period_ns;
	fprintf(out, "%-28.28s %9.2fs", label, seconds(shown));
	for (size_t c = 0; c < NCOLUMNS; c++)
		fprintf(out, " %8.1f%%", total ? 100.0 * t->samples[columns[c]] / total : 0.0);
	if (other)
		fprintf(out, " %8.1f%%",
			total ? 100.0 * (t->samples[GP_STATE_NONE] + t->samples[GP_STATE_NOGIL]) / total
			      : 0.0);
	fputc('\n', out);
}

static void put_threads(const struct gp_profile *p, FILE *out)
{
	bool other = any_unknown(p);

	fprintf(out, "%-28s %10s", "thread", p->mode == GP_MODE_WALL ? "wall" : "on-CPU");
	for (size_t c = 0; c < NCOLUMNS; c++)
		fprintf(out, " %9s", gp_state_name(columns[c]));
	if (other)
		fprintf(out, " %9s", "unknown");
	fputc('\n', out);
	if (p->multiprocess) {
		/* --subprocesses: each process's threads under its label. */
		for (size_t k = 0; k < p->nprocs; k++) {
			char label[320];

			if (!process_total(p, p->procs[k]->pid))
				continue;
			gp_profile_process_label(p, p->procs[k]->pid, label, sizeof(label));
			put_clean(out, "%s\n", label);
			for (size_t i = 0; i < p->nthreads; i++)
				if (p->threads[i]->pid == p->procs[k]->pid &&
				    thread_total(p->threads[i]))
					put_thread_row(p, p->threads[i], other, out);
		}
	} else {
		for (size_t i = 0; i < p->nthreads; i++)
			if (thread_total(p->threads[i]))
				put_thread_row(p, p->threads[i], other, out);
	}
	if (!p->nthreads)
		fprintf(out, "(no samples)\n");
}

static void put_contention(const struct gp_profile *p, FILE *out)
{
	fputc('\n', out);
	if (!p->contention_known || !p->duration_ns) {
		fprintf(out, "GIL contention: not measured (needs --mode wall)\n");
		return;
	}
	fprintf(out,
		"GIL contention: %.1f%% of the wall time at least one thread waited for the GIL "
		"(%.2f s of %.2f s)\n",
		100.0 * (double)p->gil_contended_ns / (double)p->duration_ns,
		seconds(p->gil_contended_ns), seconds(p->duration_ns));
}

/* A waiting stack summed over threads, keyed by its locations. */
struct waiter {
	const struct gp_stack *first;
	uint64_t ns;
	uint32_t threads;
	uint32_t last_thread;
	UT_hash_handle hh;
};

static int cmp_waiters(const void *a, const void *b)
{
	const struct waiter *x = *(const struct waiter *const *)a;
	const struct waiter *y = *(const struct waiter *const *)b;

	if (x->ns != y->ns)
		return x->ns > y->ns ? -1 : 1;
	return x->first->thread < y->first->thread ? -1 : x->first->thread > y->first->thread;
}

static void put_frame(const struct gp_profile *p, uint32_t loc, FILE *out)
{
	const struct gp_location *l = gp_loc(p, loc);
	const struct gp_function *f = gp_func(p, l->func);

	put_clean(out, "      %s", f->name);
	if (f->kind != GP_FUNC_MARKER && f->filename[0]) {
		put_clean(out, " (%s", f->filename);
		if (l->line > 0)
			fprintf(out, ":%d", (int)l->line);
		fputc(')', out);
	}
	fputc('\n', out);
}

static void put_waiter(const struct gp_profile *p, int rank, const struct waiter *w,
		       uint64_t all, FILE *out)
{
	const struct gp_stack *s = w->first;
	uint32_t shown = 0;

	fprintf(out, "  %d. %.2f s (%.1f%% of all waiting) in %u thread%s\n", rank, seconds(w->ns),
		all ? 100.0 * (double)w->ns / (double)all : 0.0, w->threads,
		w->threads == 1 ? "" : "s");
	for (uint32_t k = s->n; k-- > 0 && shown < TOP_FRAMES; shown++)
		put_frame(p, s->locs[k], out);
	if (s->n > TOP_FRAMES)
		fprintf(out, "      ... %u more\n", s->n - TOP_FRAMES);
}

static int put_top_waiting(const struct gp_profile *p, FILE *out)
{
	struct waiter *index = NULL, *w, *tmp, **v = NULL;
	uint64_t all = 0;
	size_t n = 0;
	int rc = -1;

	for (size_t i = 0; i < p->nstacks; i++) {
		const struct gp_stack *s = p->stacks[i];
		size_t keylen = s->n * sizeof(s->locs[0]);

		if (s->state != GP_STATE_WAITING || !s->wall_ns)
			continue;
		HASH_FIND(hh, index, s->locs, keylen, w);
		if (!w) {
			w = calloc(1, sizeof(*w));
			if (!w)
				goto out;
			w->first = s;
			w->last_thread = UINT32_MAX;
			HASH_ADD_KEYPTR(hh, index, s->locs, keylen, w);
			n++;
		}
		w->ns += s->wall_ns;
		/* Stacks are sorted by thread: count each thread once. */
		if (w->last_thread != s->thread) {
			w->threads++;
			w->last_thread = s->thread;
		}
		all += s->wall_ns;
	}
	fprintf(out, "\nTop stacks by time waiting for the GIL (leaf first):\n");
	if (!n) {
		fprintf(out, "  (no thread waited for the GIL)\n");
		rc = 0;
		goto out;
	}
	v = calloc(n, sizeof(*v));
	if (!v)
		goto out;
	n = 0;
	HASH_ITER(hh, index, w, tmp)
		v[n++] = w;
	qsort(v, n, sizeof(*v), cmp_waiters);
	for (size_t i = 0; i < n && i < TOP_STACKS; i++)
		put_waiter(p, (int)i + 1, v[i], all, out);
	rc = 0;
out:
	free(v);
	HASH_ITER(hh, index, w, tmp) {
		HASH_DEL(index, w);
		free(w);
	}
	return rc;
}

int gp_write_report(const struct gp_profile *p, FILE *out)
{
	put_header(p, out);
	if (!p->gil_tracked) {
		fprintf(out, "(GIL states were not recorded)\n");
		return ferror(out) ? -1 : 0;
	}
	put_threads(p, out);
	put_contention(p, out);
	if (put_top_waiting(p, out) || gp_report_blame(p, out) || gp_report_holds(p, out))
		return -1;
	return ferror(out) ? -1 : 0;
}
