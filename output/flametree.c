// SPDX-License-Identifier: BSD-2-Clause
/*
 * flametree.c — stacks merged into the call tree a flame graph draws.
 */
#define _GNU_SOURCE
#include "flametree.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

static int64_t new_node(struct fg_tree *t, uint32_t parent, enum fg_kind kind, uint32_t key)
{
	struct fg_node *n;

	if (t->n == t->cap) {
		uint32_t ncap = t->cap ? t->cap * 2 : 1024;
		struct fg_node *nv = realloc(t->nodes, ncap * sizeof(*nv));

		if (!nv)
			return -1;
		t->nodes = nv;
		t->cap = ncap;
	}
	n = &t->nodes[t->n];
	memset(n, 0, sizeof(*n));
	n->parent = parent;
	n->kind = (uint8_t)kind;
	n->key = key;
	if (t->n) {
		struct fg_node *p = &t->nodes[parent];

		n->depth = p->depth + 1;
		n->sibling = p->child;
		p->child = t->n;
		if (n->depth > t->max_depth)
			t->max_depth = n->depth;
	}
	return t->n++;
}

static void count(struct fg_node *n, const struct gp_stack *s)
{
	n->total += s->samples;
	n->state[s->state < GP_STATE__MAX ? s->state : GP_STATE_NONE] += s->samples;
}

static pid_t pid_of(const struct gp_profile *p, const struct gp_stack *s)
{
	return p->threads[s->thread]->pid;
}

/* Stacks by process, thread, then frames root first: equal paths side by side. */
static int cmp_paths(const void *a, const void *b, void *ctx)
{
	const struct gp_stack *x = *(const struct gp_stack *const *)a;
	const struct gp_stack *y = *(const struct gp_stack *const *)b;
	pid_t px = pid_of(ctx, x), py = pid_of(ctx, y);

	if (px != py)
		return px < py ? -1 : 1;
	if (x->thread != y->thread)
		return x->thread < y->thread ? -1 : 1;
	for (uint32_t i = 0; i < x->n && i < y->n; i++)
		if (x->locs[i] != y->locs[i])
			return x->locs[i] < y->locs[i] ? -1 : 1;
	return x->n < y->n ? -1 : x->n > y->n;
}

/*
 * Levels of the tree prev and s share below the root: their process (with
 * --subprocesses), thread, then frames.
 */
static uint32_t shared_levels(const struct fg_tree *t, const struct gp_stack *prev,
			      const struct gp_stack *s)
{
	uint32_t i = 0, procs = t->p->multiprocess ? 1 : 0;

	if (!prev || pid_of(t->p, prev) != pid_of(t->p, s))
		return 0;
	if (prev->thread != s->thread)
		return procs;
	while (i < prev->n && i < s->n && prev->locs[i] == s->locs[i])
		i++;
	return procs + 1 + i;
}

/*
 * Merge sorted stacks into the tree: each stack shares the nodes of the
 * previous one down to where they differ, then gets new ones. path[l] is
 * the node at level l of the previous stack (0: the root, then its process
 * with --subprocesses, its thread, its frames).
 */
static int merge_sorted(struct fg_tree *t, struct gp_stack **v, size_t n, uint32_t *path)
{
	const struct gp_stack *prev = NULL;
	uint32_t procs = t->p->multiprocess ? 1 : 0;

	for (size_t i = 0; i < n; i++) {
		const struct gp_stack *s = v[i];
		uint32_t levels = procs + s->n + 1;

		for (uint32_t l = shared_levels(t, prev, s) + 1; l <= levels; l++) {
			int64_t node;

			if (l <= procs)
				node = new_node(t, path[0], FG_PROCESS, (uint32_t)pid_of(t->p, s));
			else if (l == procs + 1)
				node = new_node(t, path[l - 1], FG_THREAD, s->thread);
			else
				node = new_node(t, path[l - 1], FG_FRAME, s->locs[l - procs - 2]);
			if (node < 0)
				return -1;
			path[l] = (uint32_t)node;
		}
		for (uint32_t l = 0; l <= levels; l++)
			count(&t->nodes[path[l]], s);
		prev = s;
	}
	return 0;
}

static int add_stacks(struct fg_tree *t, const struct gp_profile *p)
{
	struct gp_stack **v = malloc((p->nstacks + 1) * sizeof(*v));
	uint32_t *path = NULL, deepest = 0;
	size_t n = 0;
	int rc = -1;

	if (!v)
		return -1;
	for (size_t i = 0; i < p->nstacks; i++) {
		if (!p->stacks[i]->samples)
			continue;
		v[n++] = p->stacks[i];
		if (p->stacks[i]->n > deepest)
			deepest = p->stacks[i]->n;
	}
	qsort_r(v, n, sizeof(*v), cmp_paths, (void *)p);
	path = calloc((size_t)deepest + 3, sizeof(*path));
	if (path)
		rc = merge_sorted(t, v, n, path);
	free(path);
	free(v);
	return rc;
}

static int make_labels(struct fg_tree *t)
{
	const struct gp_profile *p = t->p;

	t->labels = calloc(p->nlocations + 1, sizeof(*t->labels));
	t->titles = calloc(p->nlocations + 1, sizeof(*t->titles));
	if (!t->labels || !t->titles)
		return -1;
	for (size_t i = 0; i < p->nlocations; i++) {
		t->labels[i + 1] = gp_frame_text(p, p->locations[i], false);
		t->titles[i + 1] = gp_frame_text(p, p->locations[i], true);
		if (!t->labels[i + 1] || !t->titles[i + 1])
			return -1;
	}
	return 0;
}

int fg_tree_build(struct fg_tree *t, const struct gp_profile *p)
{
	memset(t, 0, sizeof(*t));
	t->p = p;
	if (make_labels(t) || new_node(t, 0, FG_ROOT, 0) < 0 || add_stacks(t, p))
		goto fail;
	return 0;
fail:
	fg_tree_free(t);
	errno = ENOMEM;
	return -1;
}

void fg_tree_free(struct fg_tree *t)
{
	for (size_t i = 0; t->p && i <= t->p->nlocations; i++) {
		if (t->labels)
			free(t->labels[i]);
		if (t->titles)
			free(t->titles[i]);
	}
	free(t->labels);
	free(t->titles);
	free(t->nodes);
	memset(t, 0, sizeof(*t));
}

static int cmp_children(const void *a, const void *b, void *ctx)
{
	const struct fg_tree *t = ctx;
	const struct fg_node *x = &t->nodes[*(const uint32_t *)a];
	const struct fg_node *y = &t->nodes[*(const uint32_t *)b];
	int c;

	if (x->kind == FG_PROCESS && y->kind == FG_PROCESS)
		return x->key < y->key ? -1 : x->key > y->key;
	if (x->kind == FG_THREAD && y->kind == FG_THREAD) {
		pid_t tx = t->p->threads[x->key]->tid, ty = t->p->threads[y->key]->tid;

		return tx < ty ? -1 : tx > ty;
	}
	c = strcmp(t->labels[x->key], t->labels[y->key]);
	if (c)
		return c;
	return x->key < y->key ? -1 : x->key > y->key;
}

/* Children of every node in order: relinked through sibling. */
static int sort_children(struct fg_tree *t)
{
	uint32_t *v = malloc(t->n * sizeof(*v));

	if (!v)
		return -1;
	for (uint32_t i = 0; i < t->n; i++) {
		uint32_t k = 0;

		for (uint32_t c = t->nodes[i].child; c; c = t->nodes[c].sibling)
			v[k++] = c;
		if (k < 2)
			continue;
		qsort_r(v, k, sizeof(*v), cmp_children, t);
		t->nodes[i].child = v[0];
		for (uint32_t j = 0; j < k; j++)
			t->nodes[v[j]].sibling = j + 1 < k ? v[j + 1] : 0;
	}
	free(v);
	return 0;
}

void fg_tree_layout(struct fg_tree *t)
{
	/*
	 * Nodes are created parents first, so one pass in index order places
	 * every parent before its children.
	 */
	sort_children(t); /* unsorted on ENOMEM: still a valid drawing */
	t->nodes[0].x = 0;
	for (uint32_t i = 0; i < t->n; i++) {
		uint64_t x = t->nodes[i].x;

		for (uint32_t c = t->nodes[i].child; c; c = t->nodes[c].sibling) {
			t->nodes[c].x = x;
			x += t->nodes[c].total;
		}
	}
}

const char *fg_node_label(const struct fg_tree *t, uint32_t i, char *buf, size_t len)
{
	const struct fg_node *n = &t->nodes[i];
	const struct gp_thread *th;

	switch (n->kind) {
	case FG_ROOT:
		return "all";
	case FG_PROCESS:
		gp_profile_process_label(t->p, (pid_t)n->key, buf, len);
		return buf;
	case FG_THREAD:
		th = t->p->threads[n->key];
		if (!th->tid) /* the blame view's made-up holders: a marker */
			snprintf(buf, len, "%s", th->name);
		else if (th->name[0])
			snprintf(buf, len, "thread (%d %s)", (int)th->tid, th->name);
		else
			snprintf(buf, len, "thread (%d)", (int)th->tid);
		return buf;
	default:
		return t->labels[n->key];
	}
}

const char *fg_node_title(const struct fg_tree *t, uint32_t i, char *buf, size_t len)
{
	if (t->nodes[i].kind == FG_FRAME)
		return t->titles[t->nodes[i].key];
	return fg_node_label(t, i, buf, len);
}

enum gp_gil_state fg_node_state(const struct fg_node *n)
{
	enum gp_gil_state best = GP_STATE_NONE;

	for (int s = GP_STATE_NONE + 1; s < GP_STATE__MAX; s++)
		if (n->state[s] > n->state[best] || (best == GP_STATE_NONE && n->state[s]))
			best = (enum gp_gil_state)s;
	return best;
}
