// SPDX-License-Identifier: BSD-2-Clause
/*
 * profile.c — aggregation of samples into interned functions, locations and
 * stacks. The per-sample path is one hash lookup per stack; everything
 * else is interned once.
 */
#define _GNU_SOURCE
#include "profile.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "blame.h"
#include "timeline.h"

static const char *const state_names[GP_STATE__MAX] = {
	[GP_STATE_NONE] = "none",         [GP_STATE_HOLDING] = "holding",
	[GP_STATE_WAITING] = "waiting",   [GP_STATE_RELEASED] = "released",
	[GP_STATE_IDLE] = "idle",         [GP_STATE_NOGIL] = "nogil",
};

const char *gp_state_name(enum gp_gil_state s)
{
	return (unsigned int)s < GP_STATE__MAX ? state_names[s] : "unknown";
}

const char *gp_mode_name(enum gp_mode m)
{
	return m == GP_MODE_CPU ? "cpu" : "wall";
}

void gp_profile_init(struct gp_profile *p)
{
	memset(p, 0, sizeof(*p));
}

/* Append item to a growable pointer array. */
static int push(void ***v, size_t *n, size_t *cap, void *item)
{
	if (gp_grow((void **)v, *n, cap, sizeof(**v), 64))
		return -1;
	(*v)[(*n)++] = item;
	return 0;
}

#define PUSH(p, arr, item) push((void ***)&(p)->arr, &(p)->n##arr, &(p)->cap_##arr, (item))

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

uint32_t gp_profile_function(struct gp_profile *p, enum gp_func_kind kind, const char *name,
			     const char *system_name, const char *filename, int32_t start_line)
{
	struct gp_function *f;
	char *key;
	int len;

	len = asprintf(&key, "%d\x1f%s\x1f%s\x1f%s\x1f%d", (int)kind, name ? name : "",
		       system_name ? system_name : "", filename ? filename : "", start_line);
	if (len < 0)
		return 0;
	HASH_FIND(hh, p->func_index, key, (size_t)len, f);
	if (f) {
		free(key);
		return f->id;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		goto fail;
	f->kind = (uint8_t)kind;
	f->name = dup_or_empty(name);
	f->system_name = dup_or_empty(system_name ? system_name : name);
	f->filename = dup_or_empty(filename);
	f->start_line = start_line;
	f->key = key;
	if (!f->name || !f->system_name || !f->filename || PUSH(p, functions, f))
		goto fail;
	f->id = (uint32_t)p->nfunctions;
	HASH_ADD_KEYPTR(hh, p->func_index, f->key, (size_t)len, f);
	return f->id;
fail:
	if (f) {
		free(f->name);
		free(f->system_name);
		free(f->filename);
		free(f);
	}
	free(key);
	return 0;
}

struct loc_key {
	uint32_t func;
	int32_t line;
	uint64_t address;
	uint32_t mapping;
	uint32_t pad;
};

uint32_t gp_profile_location(struct gp_profile *p, uint32_t func, int32_t line,
			     uint64_t address, uint32_t mapping)
{
	struct gp_location *l;
	struct loc_key k = { func, line, address, mapping, 0 };

	/* Locations are found by their leading fields, which mirror loc_key. */
	HASH_FIND(hh, p->loc_index, &k, sizeof(k), l);
	if (l)
		return l->id;
	l = calloc(1, sizeof(*l) + sizeof(k));
	if (!l)
		return 0;
	l->func = func;
	l->line = line;
	l->address = address;
	l->mapping = mapping;
	memcpy(l + 1, &k, sizeof(k));
	if (PUSH(p, locations, l)) {
		free(l);
		return 0;
	}
	l->id = (uint32_t)p->nlocations;
	HASH_ADD_KEYPTR(hh, p->loc_index, (void *)(l + 1), sizeof(k), l);
	return l->id;
}

uint32_t gp_profile_mapping(struct gp_profile *p, uint64_t start, uint64_t limit,
			    uint64_t offset, const char *filename, const char *build_id)
{
	struct gp_mapping *m;

	for (size_t i = 0; i < p->nmappings; i++) {
		m = p->mappings[i];
		if (m->start == start && m->limit == limit && m->offset == offset &&
		    !strcmp(m->filename, filename ? filename : ""))
			return m->id;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return 0;
	m->start = start;
	m->limit = limit;
	m->offset = offset;
	m->filename = dup_or_empty(filename);
	m->build_id = dup_or_empty(build_id);
	if (!m->filename || !m->build_id || PUSH(p, mappings, m)) {
		free(m->filename);
		free(m->build_id);
		free(m);
		return 0;
	}
	m->id = (uint32_t)p->nmappings;
	return m->id;
}

struct gp_thread *gp_profile_thread(struct gp_profile *p, pid_t pid, pid_t tid)
{
	struct gp_thread *t;

	HASH_FIND(hh, p->thread_index, &tid, sizeof(tid), t);
	if (t && t->pid == pid)
		return t;
	if (t) {
		/* The tid now belongs to another process: keep both apart. */
		HASH_DEL(p->thread_index, t);
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->pid = pid;
	t->tid = tid;
	if (PUSH(p, threads, t)) {
		free(t);
		return NULL;
	}
	t->idx = (uint32_t)p->nthreads - 1;
	HASH_ADD(hh, p->thread_index, tid, sizeof(t->tid), t);
	return t;
}

const struct gp_process *gp_profile_find_process(const struct gp_profile *p, pid_t pid)
{
	/* A handful of processes: a scan is fine. */
	for (size_t i = 0; i < p->nprocs; i++)
		if (p->procs[i]->pid == pid)
			return p->procs[i];
	return NULL;
}

struct gp_process *gp_profile_process(struct gp_profile *p, pid_t pid)
{
	struct gp_process *pr = (struct gp_process *)gp_profile_find_process(p, pid);

	if (pr)
		return pr;
	pr = calloc(1, sizeof(*pr));
	if (!pr)
		return NULL;
	pr->pid = pid;
	if (PUSH(p, procs, pr)) {
		free(pr);
		return NULL;
	}
	return pr;
}

void gp_profile_process_label(const struct gp_profile *p, pid_t pid, char *buf, size_t len)
{
	const struct gp_process *pr = gp_profile_find_process(p, pid);
	const char *what = "";

	if (pr)
		what = pr->cmdline[0] ? pr->cmdline : pr->comm;
	else if (pid == p->pid)
		what = p->comm;
	snprintf(buf, len, "process %d:\"%s\"", (int)pid, what);
}

struct stack_hdr {
	uint32_t thread;
	uint8_t state;
	uint8_t gc;
	uint16_t pad;
	uint32_t n;
};

/*
 * Every record looks its stack up here: a multiply-xor over the key's
 * 32-bit words (uthash's default, Jenkins' byte-wise hash, took 3/4 of
 * the lookup), and the key built on the stack, copied only for a new one.
 */
static unsigned int stack_hash(const struct stack_hdr *h, const uint32_t *locs, uint32_t n)
{
	uint64_t v = ((uint64_t)h->thread << 32 | (uint64_t)h->state << 8 | h->gc) ^
		     (uint64_t)n * 0x9e3779b97f4a7c15ULL;

	for (uint32_t i = 0; i < n; i++)
		v = (v ^ locs[i]) * 0x100000001b3ULL;
	v ^= v >> 29;
	return (unsigned int)(v ^ v >> 32);
}

/* The longest key looked up without an allocation. */
#define STACK_KEY_WORDS 2048

struct gp_stack *gp_profile_stack(struct gp_profile *p, uint32_t thread,
				  enum gp_gil_state state, bool gc, const uint32_t *locs,
				  uint32_t n)
{
	struct stack_hdr h = { thread, (uint8_t)state, gc ? 1 : 0, 0, n };
	size_t keylen = sizeof(h) + n * sizeof(uint32_t);
	uint32_t local[STACK_KEY_WORDS];
	unsigned int hv = stack_hash(&h, locs, n);
	struct gp_stack *s;
	uint8_t *key = keylen <= sizeof(local) ? (uint8_t *)local : malloc(keylen);

	if (!key)
		return NULL;
	memcpy(key, &h, sizeof(h));
	if (n)
		memcpy(key + sizeof(h), locs, n * sizeof(uint32_t));
	HASH_FIND_BYHASHVALUE(hh, p->stack_index, key, keylen, hv, s);
	if (key != (uint8_t *)local && s)
		free(key);
	if (!s) {
		if (key == (uint8_t *)local) {
			key = malloc(keylen);
			if (!key)
				return NULL;
			memcpy(key, local, keylen);
		}
		s = calloc(1, sizeof(*s));
		if (!s || PUSH(p, stacks, s)) {
			free(s);
			free(key);
			return NULL;
		}
		s->thread = thread;
		s->state = (uint8_t)state;
		s->gc = h.gc;
		s->n = n;
		s->locs = (uint32_t *)(key + sizeof(h));
		s->key = key;
		s->keylen = keylen;
		HASH_ADD_KEYPTR_BYHASHVALUE(hh, p->stack_index, s->key, keylen, hv, s);
	}
	return s;
}

int gp_profile_add(struct gp_profile *p, uint32_t thread, enum gp_gil_state state, bool gc,
		   const uint32_t *locs, uint32_t n, uint64_t samples, uint64_t wall_ns,
		   uint64_t cpu_ns)
{
	struct gp_stack *s = gp_profile_stack(p, thread, state, gc, locs, n);

	if (!s)
		return -1;
	s->samples += samples;
	s->wall_ns += wall_ns;
	s->cpu_ns += cpu_ns;
	if (thread < p->nthreads)
		p->threads[thread]->samples[state < GP_STATE__MAX ? state : 0] += samples;
	p->samples += samples;
	return 0;
}

void gp_profile_add_time(struct gp_stack *s, uint64_t ns, bool on_cpu)
{
	s->pending_ns += ns;
	s->wall_ns += ns;
	if (on_cpu)
		s->cpu_ns += ns;
}

/* Remainder of a stack's measured time, for ordering by largest remainder. */
struct share {
	struct gp_stack *s;
	uint64_t rem;
};

static int cmp_share(const void *a, const void *b)
{
	const struct share *x = a, *y = b;

	if (x->rem != y->rem)
		return x->rem > y->rem ? -1 : 1;
	return x->s->pending_ns > y->s->pending_ns ? -1 : x->s->pending_ns < y->s->pending_ns;
}

static void give(struct gp_profile *p, struct gp_stack *s, uint64_t k)
{
	s->samples += k;
	p->threads[s->thread]->samples[s->state < GP_STATE__MAX ? s->state : 0] += k;
	p->samples += k;
}

static void apportion_thread(struct gp_profile *p, struct share *v, size_t n)
{
	uint64_t period = p->period_ns, total = 0, given = 0, want;

	for (size_t i = 0; i < n; i++)
		total += v[i].s->pending_ns;
	want = (total + period / 2) / period;
	for (size_t i = 0; i < n; i++) {
		give(p, v[i].s, v[i].s->pending_ns / period);
		given += v[i].s->pending_ns / period;
		v[i].rem = v[i].s->pending_ns % period;
	}
	qsort(v, n, sizeof(*v), cmp_share);
	for (size_t i = 0; i < n && given < want; i++, given++)
		give(p, v[i].s, 1);
}

static int cmp_share_thread(const void *a, const void *b)
{
	const struct share *x = a, *y = b;

	return x->s->thread < y->s->thread ? -1 : x->s->thread > y->s->thread;
}

int gp_profile_apportion(struct gp_profile *p)
{
	struct share *v;
	size_t n = 0;

	if (!p->period_ns)
		return 0;
	v = calloc(p->nstacks ? p->nstacks : 1, sizeof(*v));
	if (!v)
		return -1;
	for (size_t i = 0; i < p->nstacks; i++)
		if (p->stacks[i]->pending_ns && p->stacks[i]->thread < p->nthreads)
			v[n++].s = p->stacks[i];
	qsort(v, n, sizeof(*v), cmp_share_thread);
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i; j < n && v[j].s->thread == v[i].s->thread; j++)
			;
		apportion_thread(p, v + i, j - i);
	}
	free(v);
	return 0;
}

void gp_profile_comment(struct gp_profile *p, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (p->ncomments >= (int)(sizeof(p->comments) / sizeof(p->comments[0])))
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) >= 0)
		p->comments[p->ncomments++] = s;
	va_end(ap);
}

static int cmp_stacks(const void *a, const void *b)
{
	const struct gp_stack *x = *(const struct gp_stack *const *)a;
	const struct gp_stack *y = *(const struct gp_stack *const *)b;

	if (x->thread != y->thread)
		return x->thread < y->thread ? -1 : 1;
	if (x->samples != y->samples)
		return x->samples > y->samples ? -1 : 1;
	if (x->state != y->state)
		return x->state < y->state ? -1 : 1;
	if (x->keylen != y->keylen)
		return x->keylen < y->keylen ? -1 : 1;
	return memcmp(x->key, y->key, x->keylen);
}

void gp_profile_sort_stacks(struct gp_profile *p)
{
	if (p->nstacks > 1)
		qsort(p->stacks, p->nstacks, sizeof(p->stacks[0]), cmp_stacks);
}

void gp_profile_free(struct gp_profile *p)
{
	HASH_CLEAR(hh, p->func_index);
	HASH_CLEAR(hh, p->loc_index);
	HASH_CLEAR(hh, p->thread_index);
	HASH_CLEAR(hh, p->stack_index);
	for (size_t i = 0; i < p->nfunctions; i++) {
		free(p->functions[i]->name);
		free(p->functions[i]->system_name);
		free(p->functions[i]->filename);
		free(p->functions[i]->key);
		free(p->functions[i]);
	}
	for (size_t i = 0; i < p->nlocations; i++)
		free(p->locations[i]);
	for (size_t i = 0; i < p->nmappings; i++) {
		free(p->mappings[i]->filename);
		free(p->mappings[i]->build_id);
		free(p->mappings[i]);
	}
	for (size_t i = 0; i < p->nthreads; i++)
		free(p->threads[i]);
	for (size_t i = 0; i < p->nstacks; i++) {
		free(p->stacks[i]->key);
		free(p->stacks[i]);
	}
	for (size_t i = 0; i < p->nprocs; i++)
		free(p->procs[i]);
	for (int i = 0; i < p->ncomments; i++)
		free(p->comments[i]);
	gp_timeline_free(p->timeline);
	gp_blames_free(p->blames);
	free(p->blames);
	free(p->functions);
	free(p->locations);
	free(p->mappings);
	free(p->threads);
	free(p->stacks);
	free(p->procs);
	memset(p, 0, sizeof(*p));
}
