// SPDX-License-Identifier: BSD-2-Clause
/*
 * blame.c — the blame entries of a profile (see blame.h): interning, and
 * wall mode's sharing of each waiting stack's samples among its holders.
 */
#include "blame.h"
#include "grow.h"

#include <stdlib.h>
#include <string.h>

struct blame_hdr {
	struct gp_stack *waiter;
	uint32_t holder;
	uint8_t offcpu, gc;
	uint16_t pad;
	uint32_t n;
	uint32_t pad2;
};

void gp_blames_free(struct gp_blames *b)
{
	if (!b)
		return;
	HASH_CLEAR(hh, b->index);
	for (size_t i = 0; i < b->n; i++) {
		free(b->v[i]->key);
		free(b->v[i]);
	}
	free(b->v);
	for (size_t i = 0; i < b->nasleep; i++)
		free(b->asleep[i].ns);
	free(b->asleep);
	memset(b, 0, sizeof(*b));
}

int gp_blames_asleep(struct gp_blames *b, struct gp_stack *stack, uint64_t ns,
		     uint64_t waited_ns)
{
	struct gp_asleep *a = NULL;

	/* Few stacks sleep holding the GIL: newest first finds the usual one at once. */
	for (size_t i = b->nasleep; i-- > 0;)
		if (b->asleep[i].stack == stack) {
			a = &b->asleep[i];
			break;
		}
	if (!a) {
		if (GP_GROW(b->asleep, b->nasleep, b->capasleep, 8))
			return -1;
		a = &b->asleep[b->nasleep++];
		memset(a, 0, sizeof(*a));
		a->stack = stack;
	}
	if (GP_GROW(a->ns, a->n, a->cap, 64))
		return -1;
	a->ns[a->n++] = ns;
	a->total_ns += ns;
	a->waited_ns += waited_ns;
	return 0;
}

struct gp_blame *gp_blame_get(struct gp_blames *b, struct gp_stack *waiter, uint32_t holder,
			      bool offcpu, bool gc, const uint32_t *locs, uint32_t n)
{
	struct blame_hdr h = { waiter, holder, offcpu ? 1 : 0, gc ? 1 : 0, 0, n, 0 };
	size_t keylen = sizeof(h) + n * sizeof(uint32_t);
	struct gp_blame *e;
	uint8_t *key = malloc(keylen);

	if (!key)
		return NULL;
	memcpy(key, &h, sizeof(h));
	if (n)
		memcpy(key + sizeof(h), locs, n * sizeof(uint32_t));
	HASH_FIND(hh, b->index, key, keylen, e);
	if (e) {
		free(key);
		return e;
	}
	e = calloc(1, sizeof(*e));
	if (!e || GP_GROW(b->v, b->n, b->cap, 64)) {
		free(e);
		free(key);
		return NULL;
	}
	b->v[b->n++] = e;
	e->waiter = waiter;
	e->holder = holder;
	e->offcpu = h.offcpu;
	e->gc = h.gc;
	e->n = n;
	e->locs = (uint32_t *)(key + sizeof(h));
	e->key = key;
	e->keylen = keylen;
	HASH_ADD_KEYPTR(hh, b->index, e->key, keylen, e);
	return e;
}

/* Entries of one waiting stack, by remainder of their share (descending). */
struct share {
	struct gp_blame *e;
	uint64_t rem;
};

static int cmp_share(const void *a, const void *b)
{
	const struct share *x = a, *y = b;

	if (x->e->waiter != y->e->waiter)
		return x->e->waiter < y->e->waiter ? -1 : 1;
	if (x->rem != y->rem)
		return x->rem > y->rem ? -1 : 1;
	return 0;
}

/*
 * Share one waiting stack's samples (entries v[0..n), all of it) by the
 * waiting time of each: floors first, then one more sample to the largest
 * remainders. The stack's own time is the denominator, so time a stack
 * spent waiting without a paired holder record keeps its part unblamed.
 */
static void share_stack(struct share *v, size_t n)
{
	const struct gp_stack *s = v[0].e->waiter;
	uint64_t total = s->wall_ns, given = 0, want, sum_ns = 0;

	for (size_t i = 0; i < n; i++)
		sum_ns += v[i].e->wait_ns;
	if (sum_ns > total)
		total = sum_ns;
	if (!total)
		return;
	want = (uint64_t)((unsigned __int128)s->samples * sum_ns / total);
	for (size_t i = 0; i < n; i++) {
		unsigned __int128 x = (unsigned __int128)s->samples * v[i].e->wait_ns;

		v[i].e->samples = (uint64_t)(x / total);
		v[i].rem = (uint64_t)(x % total);
		given += v[i].e->samples;
	}
	qsort(v, n, sizeof(*v), cmp_share);
	for (size_t i = 0; i < n && given < want; i++, given++)
		v[i].e->samples++;
}

int gp_blames_apportion(struct gp_blames *b)
{
	struct share *v;
	size_t start = 0;

	if (!b || !b->n)
		return 0;
	v = calloc(b->n, sizeof(*v));
	if (!v)
		return -1;
	for (size_t i = 0; i < b->n; i++)
		v[i].e = b->v[i];
	qsort(v, b->n, sizeof(*v), cmp_share); /* groups by waiting stack */
	for (size_t i = 1; i <= b->n; i++) {
		if (i < b->n && v[i].e->waiter == v[start].e->waiter)
			continue;
		share_stack(v + start, i - start);
		start = i;
	}
	free(v);
	return 0;
}

uint64_t gp_blames_samples(const struct gp_blames *b)
{
	uint64_t n = 0;

	for (size_t i = 0; b && i < b->n; i++)
		n += b->v[i]->samples;
	return n;
}

static int add_waiter(struct gp_blame_sum *x, uint32_t thread)
{
	for (uint32_t i = 0; i < x->nwaiters; i++)
		if (x->waiters[i] == thread)
			return 0;
	if (x->nwaiters == x->capw) {
		uint32_t cap = x->capw ? x->capw * 2 : 4;
		uint32_t *v = realloc(x->waiters, cap * sizeof(*v));

		if (!v)
			return -1;
		x->waiters = v;
		x->capw = cap;
	}
	x->waiters[x->nwaiters++] = thread;
	return 0;
}

static int cmp_sum(const void *a, const void *b)
{
	const struct gp_blame_sum *x = a, *y = b;

	if (x->samples != y->samples)
		return x->samples > y->samples ? -1 : 1;
	if (x->wait_ns != y->wait_ns)
		return x->wait_ns > y->wait_ns ? -1 : 1;
	return x->holder < y->holder ? -1 : x->holder > y->holder;
}

/* Sum index of entry e: a hash of the key without the waiter. */
struct sum_ref {
	const void *key;
	size_t keylen;
	size_t at;
	UT_hash_handle hh;
};

struct gp_blame_sum *gp_blames_by_holder(const struct gp_blames *b, size_t *n)
{
	struct sum_ref *index = NULL, *ref, *tmp, *refs = NULL;
	struct gp_blame_sum *v = NULL;
	size_t nv = 0;

	*n = 0;
	if (!b || !b->n)
		return NULL;
	v = calloc(b->n, sizeof(*v));
	refs = calloc(b->n, sizeof(*refs));
	if (!v || !refs)
		goto fail;
	for (size_t i = 0; i < b->n; i++) {
		const struct gp_blame *e = b->v[i];
		/* The key past its waiter pointer: holder, state and stack. */
		const uint8_t *k = (const uint8_t *)e->key + sizeof(struct gp_stack *);
		size_t kl = e->keylen - sizeof(struct gp_stack *);
		struct gp_blame_sum *x;

		if (!e->samples && !e->wait_ns)
			continue;
		HASH_FIND(hh, index, k, kl, ref);
		if (!ref) {
			ref = &refs[nv];
			ref->key = k;
			ref->keylen = kl;
			ref->at = nv;
			HASH_ADD_KEYPTR(hh, index, ref->key, ref->keylen, ref);
			x = &v[nv++];
			x->holder = e->holder;
			x->offcpu = e->offcpu;
			x->gc = e->gc;
			x->n = e->n;
			x->locs = e->locs;
		}
		x = &v[ref->at];
		x->samples += e->samples;
		x->wait_ns += e->wait_ns;
		if (add_waiter(x, e->waiter->thread))
			goto fail;
	}
	HASH_ITER(hh, index, ref, tmp)
		HASH_DEL(index, ref);
	free(refs);
	qsort(v, nv, sizeof(*v), cmp_sum);
	*n = nv;
	if (!nv) {
		free(v);
		return NULL;
	}
	return v;
fail:
	HASH_ITER(hh, index, ref, tmp)
		HASH_DEL(index, ref);
	free(refs);
	gp_blame_sums_free(v, nv);
	*n = 1;
	return NULL;
}

void gp_blame_sums_free(struct gp_blame_sum *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i].waiters);
	free(v);
}
