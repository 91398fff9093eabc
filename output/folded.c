// SPDX-License-Identifier: BSD-2-Clause
/*
 * folded.c — folded stacks, one line per distinct stack, root first:
 *
 *   thread (TID name);gil:STATE;func (file.py:LINE);... COUNT
 *
 * (with --subprocesses, py-spy's `process PID:"cmdline"` frame first),
 * with a "[gc]" leaf on samples taken while the thread ran a collection.
 * the format flamegraph.pl, speedscope and inferno read. Frame text never
 * contains ';' (replaced by ':') nor a newline.
 *
 * The blame profile (gp_write_blame) has the same form, rooted at the
 * thread that held the GIL, then its stack, weighted by the waiting it
 * caused:
 *
 *   thread (TID name);func (file.py:LINE);...[;[holding the GIL off CPU]] COUNT
 *
 * with a "[holder unknown]" root where the GIL's holder was not known, and
 * "[GIL being handed over]" where nobody held it (released, the next
 * holder not running yet).
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "output.h"
#include "../sampler/account/blame.h"
#include "../sampler/account/profile.h"

static int put_clean(FILE *out, const char *s)
{
	for (; *s; s++) {
		char c = *s;

		if (c == ';')
			c = ':';
		else if (c == '\n' || c == '\r')
			c = ' ';
		if (fputc(c, out) == EOF)
			return -1;
	}
	return 0;
}

static int put_thread(FILE *out, const struct gp_thread *t)
{
	if (t->name[0]) {
		fprintf(out, "thread (%d ", (int)t->tid);
		put_clean(out, t->name);
		return fputc(')', out) == EOF ? -1 : 0;
	}
	return fprintf(out, "thread (%d)", (int)t->tid) < 0 ? -1 : 0;
}

static int put_frame(FILE *out, const struct gp_profile *p, uint32_t loc_id)
{
	const struct gp_location *l = gp_loc(p, loc_id);
	const struct gp_function *f = gp_func(p, l->func);

	fputc(';', out);
	put_clean(out, f->name);
	if (f->kind == GP_FUNC_MARKER)
		return 0;
	if (f->filename[0] && l->line > 0) {
		fputs(" (", out);
		put_clean(out, f->filename);
		return fprintf(out, ":%d)", (int)l->line) < 0 ? -1 : 0;
	}
	if (f->filename[0]) {
		fputs(" (", out);
		put_clean(out, f->filename);
		fputc(')', out);
	}
	return 0;
}

int gp_write_folded(const struct gp_profile *p, FILE *out)
{
	for (size_t i = 0; i < p->nstacks; i++) {
		const struct gp_stack *s = p->stacks[i];

		if (!s->samples)
			continue;
		if (p->multiprocess) {
			char proc[320];

			gp_profile_process_label(p, p->threads[s->thread]->pid, proc, sizeof(proc));
			put_clean(out, proc);
			fputc(';', out);
		}
		put_thread(out, p->threads[s->thread]);
		if (s->state != GP_STATE_NONE)
			fprintf(out, ";gil:%s", gp_state_name(s->state));
		for (uint32_t k = 0; k < s->n; k++)
			put_frame(out, p, s->locs[k]);
		if (s->gc)
			fputs(";[gc]", out);
		if (fprintf(out, " %" PRIu64 "\n", s->samples) < 0)
			return -1;
	}
	return ferror(out) ? -1 : 0;
}

/* The root of a holder's lines: its thread (and process), or unknown. */
static void put_holder(FILE *out, const struct gp_profile *p, uint32_t holder)
{
	const struct gp_thread *t;

	if (holder == GP_BLAME_NOBODY) {
		fputs(GP_BLAME_HANDOFF, out);
		return;
	}
	if (!holder || holder > p->nthreads) {
		fputs(GP_BLAME_UNKNOWN, out);
		return;
	}
	t = p->threads[holder - 1];
	if (p->multiprocess) {
		char proc[320];

		gp_profile_process_label(p, t->pid, proc, sizeof(proc));
		put_clean(out, proc);
		fputc(';', out);
	}
	put_thread(out, t);
}

int gp_write_blame(const struct gp_profile *p, FILE *out)
{
	size_t n;
	struct gp_blame_sum *v = gp_blames_by_holder(p->blames, &n);

	if (!v && n) {
		errno = ENOMEM;
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (!v[i].samples)
			continue;
		put_holder(out, p, v[i].holder);
		for (uint32_t k = 0; k < v[i].n; k++)
			put_frame(out, p, v[i].locs[k]);
		if (v[i].gc)
			fputs(";[gc]", out);
		if (v[i].offcpu)
			fputs(";" GP_BLAME_OFFCPU, out);
		if (fprintf(out, " %" PRIu64 "\n", v[i].samples) < 0)
			break;
	}
	gp_blame_sums_free(v, n);
	return ferror(out) ? -1 : 0;
}
