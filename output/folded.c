// SPDX-License-Identifier: BSD-2-Clause
/*
 * folded.c — folded stacks, one line per distinct stack, root first:
 *
 *   thread (TID name);gil:STATE;func (file.py:LINE);... COUNT
 *
 * sorted by thread, then count. Native frames show as "function (module)".
 * the format flamegraph.pl, speedscope and inferno read. Frame text never
 * contains ';' (replaced by ':') nor a newline.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "output.h"
#include "../sampler/profile.h"

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

/* One output line: stacks whose frames print the same (native frames at
 * different addresses of one function) are summed into one line. */
struct line {
	char *text;
	uint32_t thread;
	uint64_t samples;
	UT_hash_handle hh;
};

static int render(const struct gp_profile *p, const struct gp_stack *s, char **text)
{
	size_t len = 0;
	FILE *out = open_memstream(text, &len);

	if (!out)
		return -1;
	put_thread(out, p->threads[s->thread]);
	if (s->state != GP_STATE_NONE)
		fprintf(out, ";gil:%s", gp_state_name(s->state));
	for (uint32_t k = 0; k < s->n; k++)
		put_frame(out, p, s->locs[k]);
	if (ferror(out)) {
		fclose(out);
		free(*text);
		return -1;
	}
	return fclose(out) ? -1 : 0;
}

static int cmp_lines(const void *a, const void *b)
{
	const struct line *x = *(const struct line *const *)a;
	const struct line *y = *(const struct line *const *)b;

	if (x->thread != y->thread)
		return x->thread < y->thread ? -1 : 1;
	if (x->samples != y->samples)
		return x->samples > y->samples ? -1 : 1;
	return strcmp(x->text, y->text);
}

static void free_lines(struct line *index, struct line **v)
{
	struct line *l, *tmp;

	HASH_ITER(hh, index, l, tmp) {
		HASH_DEL(index, l);
		free(l->text);
		free(l);
	}
	free(v);
}

int gp_write_folded(const struct gp_profile *p, FILE *out)
{
	struct line *index = NULL, *l, **v = calloc(p->nstacks + 1, sizeof(*v));
	size_t n = 0;
	int rc = -1;

	if (!v)
		return -1;
	for (size_t i = 0; i < p->nstacks; i++) {
		const struct gp_stack *s = p->stacks[i];
		char *text;

		if (!s->samples)
			continue;
		if (render(p, s, &text))
			goto out;
		HASH_FIND_STR(index, text, l);
		if (l) {
			free(text);
			l->samples += s->samples;
			continue;
		}
		l = calloc(1, sizeof(*l));
		if (!l) {
			free(text);
			goto out;
		}
		l->text = text;
		l->thread = s->thread;
		l->samples = s->samples;
		HASH_ADD_KEYPTR(hh, index, l->text, strlen(l->text), l);
		v[n++] = l;
	}
	qsort(v, n, sizeof(*v), cmp_lines);
	for (size_t i = 0; i < n; i++)
		if (fprintf(out, "%s %" PRIu64 "\n", v[i]->text, v[i]->samples) < 0)
			goto out;
	rc = ferror(out) ? -1 : 0;
out:
	free_lines(index, v);
	return rc;
}
