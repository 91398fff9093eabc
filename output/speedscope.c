// SPDX-License-Identifier: BSD-2-Clause
/*
 * speedscope.c — speedscope's JSON file format
 * (https://www.speedscope.app/file-format-schema.json).
 *
 * One frame per profile location in the shared frame table (frame i is
 * location i + 1), and one sampled profile per thread and GIL state, named
 * like py-spy's ("Thread TID \"name\""), with " [gil: STATE]" added when the
 * state is known (and with --subprocesses `process PID:"cmdline"` first). Each distinct stack is one sample (root first) weighted by
 * its wall-clock nanoseconds.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "jsonout.h"
#include "output.h"
#include "../sampler/account/profile.h"

#ifndef GP_VERSION
#define GP_VERSION "0.1.0"
#endif

#define SCHEMA_URL "https://www.speedscope.app/file-format-schema.json"

static struct json_object *frame(const struct gp_profile *p, const struct gp_location *l)
{
	const struct gp_function *f = gp_func(p, l->func);
	const char *file = gp_loc_file(p, l);
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	if (gp_json_put(o, "name", gp_json_str(f->name)) ||
	    (file[0] && gp_json_put(o, "file", gp_json_str(file))) ||
	    (l->line > 0 && gp_json_put(o, "line", json_object_new_int(l->line)))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static struct json_object *frames(const struct gp_profile *p)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; arr && i < p->nlocations; i++) {
		if (gp_json_append(arr, frame(p, p->locations[i]))) {
			json_object_put(arr);
			return NULL;
		}
	}
	return arr;
}

static int cmp_thread_state(const void *a, const void *b)
{
	const struct gp_stack *x = *(const struct gp_stack *const *)a;
	const struct gp_stack *y = *(const struct gp_stack *const *)b;

	if (x->thread != y->thread)
		return x->thread < y->thread ? -1 : 1;
	if (x->state != y->state)
		return x->state < y->state ? -1 : 1;
	/* heaviest first, as the profile is sorted */
	if (x->wall_ns != y->wall_ns)
		return x->wall_ns > y->wall_ns ? -1 : 1;
	return 0;
}

static struct json_object *stack(const struct gp_stack *s)
{
	struct json_object *arr = json_object_new_array_ext((int)s->n);

	for (uint32_t i = 0; arr && i < s->n; i++) {
		if (gp_json_append(arr, json_object_new_int64((int64_t)s->locs[i] - 1))) {
			json_object_put(arr);
			return NULL;
		}
	}
	return arr;
}

static struct json_object *profile_name(const struct gp_profile *p, const struct gp_stack *s)
{
	const struct gp_thread *t = p->threads[s->thread];
	char name[512], state[40] = "", proc[320] = "";

	if (s->state != GP_STATE_NONE)
		snprintf(state, sizeof(state), " [gil: %s]", gp_state_name(s->state));
	if (p->multiprocess) {
		gp_profile_process_label(p, t->pid, proc, sizeof(proc) - 1);
		strcat(proc, " ");
	}
	if (t->name[0])
		snprintf(name, sizeof(name), "%sThread %d \"%s\"%s", proc, (int)t->tid, t->name,
			 state);
	else
		snprintf(name, sizeof(name), "%sThread %d%s", proc, (int)t->tid, state);
	return gp_json_str(name);
}

/* One sampled profile of the stacks v[0..n), all of one thread and state. */
static struct json_object *sampled(const struct gp_profile *p, struct gp_stack **v, size_t n,
				   uint64_t *total)
{
	struct json_object *o = json_object_new_object(), *samples, *weights;

	*total = 0;
	samples = json_object_new_array_ext((int)n);
	weights = json_object_new_array_ext((int)n);
	if (!o || gp_json_put(o, "samples", samples) || gp_json_put(o, "weights", weights))
		goto fail;
	for (size_t i = 0; i < n; i++) {
		if (gp_json_append(samples, stack(v[i])) ||
		    gp_json_append(weights, json_object_new_int64((int64_t)v[i]->wall_ns)))
			goto fail;
		*total += v[i]->wall_ns;
	}
	if (gp_json_put(o, "type", json_object_new_string("sampled")) ||
	    gp_json_put(o, "name", profile_name(p, v[0])) ||
	    gp_json_put(o, "unit", json_object_new_string("nanoseconds")) ||
	    gp_json_put(o, "startValue", json_object_new_int64(0)) ||
	    gp_json_put(o, "endValue", json_object_new_int64((int64_t)*total)))
		goto fail;
	return o;
fail:
	json_object_put(o);
	return NULL;
}

/* Profiles in thread order, then GIL state; the heaviest one is shown first. */
static int profiles(const struct gp_profile *p, struct json_object *top)
{
	struct json_object *arr = json_object_new_array();
	struct gp_stack **v = NULL;
	uint64_t best = 0, total;
	size_t n = 0, best_idx = 0;
	int rc = -1;

	if (gp_json_put(top, "profiles", arr))
		return -1;
	v = malloc((p->nstacks ? p->nstacks : 1) * sizeof(*v));
	if (!v)
		return -1;
	for (size_t i = 0; i < p->nstacks; i++)
		if (p->stacks[i]->n && p->stacks[i]->samples)
			v[n++] = p->stacks[i];
	qsort(v, n, sizeof(*v), cmp_thread_state);
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && v[j]->thread == v[i]->thread && v[j]->state == v[i]->state;)
			j++;
		if (gp_json_append(arr, sampled(p, v + i, j - i, &total)))
			goto out;
		if (total > best) {
			best = total;
			best_idx = json_object_array_length(arr) - 1;
		}
	}
	rc = gp_json_put(top, "activeProfileIndex", json_object_new_int64((int64_t)best_idx));
out:
	free(v);
	return rc;
}

static struct json_object *document(const struct gp_profile *p)
{
	struct json_object *top = json_object_new_object(), *shared = json_object_new_object();
	char name[160];

	snprintf(name, sizeof(name), "%s (pid %d)", p->comm[0] ? p->comm : "python", (int)p->pid);
	if (!top || gp_json_put(top, "$schema", json_object_new_string(SCHEMA_URL)) ||
	    gp_json_put(top, "shared", shared) || gp_json_put(shared, "frames", frames(p)) ||
	    profiles(p, top) || gp_json_put(top, "name", gp_json_str(name)) ||
	    gp_json_put(top, "exporter", json_object_new_string("gil-prof@" GP_VERSION))) {
		if (!top)
			json_object_put(shared);
		json_object_put(top);
		return NULL;
	}
	return top;
}

int gp_write_speedscope(const struct gp_profile *p, FILE *out)
{
	struct json_object *doc = document(p);
	const char *text;
	size_t len;
	int rc = 0;

	if (!doc) {
		errno = ENOMEM;
		return -1;
	}
	text = json_object_to_json_string_length(
		doc, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	if (!text || fwrite(text, 1, len, out) != len || fputc('\n', out) == EOF) {
		errno = text ? EIO : ENOMEM;
		rc = -1;
	}
	json_object_put(doc);
	return rc;
}
