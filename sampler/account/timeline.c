// SPDX-License-Identifier: BSD-2-Clause
/*
 * timeline.c — the GIL timeline (see timeline.h): raw events collected
 * during the recording, replayed per thread at the end into intervals,
 * hand-offs and the number of waiting threads over time.
 */
#include "timeline.h"
#include "grow.h"

#include <stdlib.h>
#include <string.h>
#include <uthash.h>

struct gp_tl_stack_entry {
	uint32_t id;
	UT_hash_handle hh;  /* keyed by the stack's locs */
};

struct gp_timeline *gp_timeline_new(const char *source, uint64_t t0)
{
	struct gp_timeline *tl = calloc(1, sizeof(*tl));

	if (!tl)
		return NULL;
	tl->source = source;
	tl->t0 = t0;
	tl->max_events = GP_TIMELINE_MAX_EVENTS;
	return tl;
}

struct gp_timeline *gp_timeline_new_estimate(uint64_t t0)
{
	struct gp_timeline *tl = gp_timeline_new("samples and switch events", t0);

	if (!tl)
		return NULL;
	tl->estimated = true;
	tl->max_events = GP_TIMELINE_MAX_ESTIMATED;
	return tl;
}

static void free_events(struct gp_timeline *tl)
{
	free(tl->ev);
	tl->ev = NULL;
	tl->nev = tl->capev = 0;
	free(tl->seen);
	tl->seen = NULL;
	tl->nseen = 0;
	free(tl->guess);
	tl->guess = NULL;
	tl->nguess = 0;
}

void gp_timeline_free(struct gp_timeline *tl)
{
	struct gp_tl_stack_entry *e, *tmp;

	if (!tl)
		return;
	free_events(tl);
	HASH_ITER(hh, tl->stack_index, e, tmp) {
		HASH_DEL(tl->stack_index, e);
		free(e);
	}
	for (size_t i = 0; i < tl->nstacks; i++)
		free(tl->stacks[i].locs);
	free(tl->stacks);
	free(tl->slices);
	free(tl->handoffs);
	free(tl->waiters);
	free(tl);
}

/* Stack id of locs[0..n), interned; 0 for none. -1 cast to uint32: ENOMEM. */
static int intern_stack(struct gp_timeline *tl, const uint32_t *locs, uint32_t n, uint32_t *id)
{
	struct gp_tl_stack_entry *e;
	size_t len = (size_t)n * sizeof(*locs);
	uint32_t *copy;

	*id = 0;
	if (!n)
		return 0;
	HASH_FIND(hh, tl->stack_index, locs, len, e);
	if (e) {
		*id = e->id;
		return 0;
	}
	if (GP_GROW(tl->stacks, tl->nstacks, tl->capstacks, 256))
		return -1;
	e = calloc(1, sizeof(*e));
	copy = malloc(len);
	if (!e || !copy) {
		free(e);
		free(copy);
		return -1;
	}
	memcpy(copy, locs, len);
	tl->stacks[tl->nstacks].n = n;
	tl->stacks[tl->nstacks].locs = copy;
	e->id = (uint32_t)++tl->nstacks;
	/* The key points into the stack's own copy, which lives as long. */
	HASH_ADD_KEYPTR(hh, tl->stack_index, copy, len, e);
	*id = e->id;
	return 0;
}

/* 1 if this is the first event of thread that tells its GIL state, else 0. */
static int first_state_seen(struct gp_timeline *tl, uint32_t thread)
{
	if (GP_GROW_INDEX(tl->seen, tl->nseen, thread, 64))
		return -1;
	if (tl->seen[thread])
		return 0;
	tl->seen[thread] = 1;
	return 1;
}

int gp_timeline_add(struct gp_timeline *tl, enum gp_tl_kind kind, uint32_t thread, uint64_t ts,
		    enum gp_gil_state state, bool snapshot, const uint32_t *locs, uint32_t n)
{
	struct gp_tl_event *e;
	int first = 0;

	if (tl->truncated || tl->exec_cut)
		return 0;
	if (tl->nev >= tl->max_events) {
		tl->truncated = true;
		tl->t_end = ts;
		return 0;
	}
	if (kind != GP_TL_ON && kind != GP_TL_EXIT) {
		first = first_state_seen(tl, thread);
		if (first < 0)
			return -1;
	}
	/* Of CPU samples only the first counts: did the thread hold the GIL? */
	if (kind == GP_TL_STATE && !first)
		return 0;
	if (GP_GROW(tl->ev, tl->nev, tl->capev, 256))
		return -1;
	e = &tl->ev[tl->nev];
	memset(e, 0, sizeof(*e));
	if (intern_stack(tl, locs, n, &e->stack))
		return -1;
	e->ts = ts;
	e->thread = thread;
	e->seq = (uint32_t)tl->nev++;
	e->kind = (uint8_t)kind;
	e->state = (uint8_t)state;
	e->snapshot = snapshot;
	return 0;
}

/* ---- estimated transitions -------------------------------------------------- */

int gp_timeline_guess(struct gp_timeline *tl, enum gp_tl_kind kind, uint32_t thread, uint64_t ts,
		      enum gp_gil_state state, bool snapshot)
{
	struct gp_tl_guess *g;
	bool holding = state == GP_STATE_HOLDING;
	uint64_t at;

	if (GP_GROW_INDEX(tl->guess, tl->nguess, thread, 16))
		return -1;
	g = &tl->guess[thread];
	if (kind == GP_TL_ON) {
		g->pending = !snapshot;
		g->on_ts = ts;
		return 0;
	}
	if (kind == GP_TL_EXIT) {
		g->pending = g->holds = false;
		return 1;
	}
	if ((kind != GP_TL_STATE && kind != GP_TL_OFF) || state > GP_STATE_IDLE)
		return 0;
	at = g->pending ? g->on_ts : ts;
	g->pending = false;
	/* The first record says what it did at the start (the replay's initial state). */
	if (!g->known || snapshot) {
		g->known = true;
		g->holds = holding;
		g->last = (uint8_t)state;
		return 1;
	}
	if (state == g->last)
		return 0;
	g->last = (uint8_t)state;
	if (holding != g->holds) {
		g->holds = holding;
		if (gp_timeline_add(tl, holding ? GP_TL_ACQUIRE : GP_TL_RELEASE, thread,
				    holding ? at : ts, state, false, NULL, 0))
			return -1;
	}
	return 1;
}

/* ---- replay ---------------------------------------------------------------- */

struct tl_thread {
	uint64_t start, end;        /* lifetime in the recording */
	uint64_t since;             /* the open slice began */
	uint32_t since_stack;
	uint32_t last_stack;        /* latest stack seen: the Python stack cannot
				       change while the thread does not hold the GIL */
	uint8_t cur;                /* state of the open slice */
	bool open, done;
	bool holds, off, in_wait;
	uint8_t off_state;
};

struct replay {
	struct gp_timeline *tl;
	struct tl_thread *th;
	size_t nth;
	int holder;                 /* thread holding the GIL, -1: none */
	int last;                   /* thread that acquired it last, -1: none seen */
	uint64_t free_since;        /* holder < 0: the GIL was let go then (0: at the start) */
};

static int cmp_event(const void *a, const void *b)
{
	const struct gp_tl_event *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int cmp_slice(const void *a, const void *b)
{
	const struct gp_tl_slice *x = a, *y = b;

	if (x->thread != y->thread)
		return x->thread < y->thread ? -1 : 1;
	return x->start < y->start ? -1 : x->start > y->start;
}

static uint8_t state_now(const struct tl_thread *t)
{
	if (t->holds)
		return GP_STATE_HOLDING;
	if (t->off && t->off_state == GP_STATE_IDLE)
		return GP_STATE_IDLE;
	/* Switched out in a GIL futex, or back on CPU still in take_gil. */
	if (t->in_wait || (t->off && t->off_state == GP_STATE_WAITING))
		return GP_STATE_WAITING;
	return GP_STATE_RELEASED;
}

/* Close thread i's open slice at ts; open one in its state now, unless done. */
static int cut(struct replay *r, uint32_t i, uint64_t ts, uint32_t stack)
{
	struct tl_thread *t = &r->th[i];
	struct gp_timeline *tl = r->tl;
	uint8_t now = t->done ? GP_STATE__MAX : state_now(t);

	if (t->open && now == t->cur)
		return 0;
	if (ts < t->since)
		ts = t->since;
	if (t->open && ts > t->since) {
		if (GP_GROW(tl->slices, tl->nslices, tl->capslices, 256))
			return -1;
		tl->slices[tl->nslices++] = (struct gp_tl_slice){
			.start = t->since, .end = ts, .thread = i, .stack = t->since_stack,
			.state = t->cur,
		};
	}
	t->open = !t->done;
	t->cur = now;
	t->since = ts;
	t->since_stack = stack;
	return 0;
}

/*
 * What a thread was doing when the recording (or its life) began: the
 * first GIL event says whether it held the GIL (a release: it did), else
 * the first state seen; a thread off CPU at the start is in the snapshot.
 */
static int initial_state(struct replay *r)
{
	bool *known = calloc(r->nth ? r->nth : 1, sizeof(*known));

	if (!known)
		return -1;
	for (size_t k = 0; k < r->tl->nev; k++) {
		const struct gp_tl_event *e = &r->tl->ev[k];
		struct tl_thread *t = &r->th[e->thread];

		if (e->kind == GP_TL_OFF && e->snapshot) {
			t->off = true;
			t->off_state = e->state;
			t->in_wait = e->state == GP_STATE_WAITING;
			t->last_stack = e->stack;
		}
		if (known[e->thread] || e->kind == GP_TL_ON || e->kind == GP_TL_EXIT)
			continue;
		known[e->thread] = true;
		if (e->kind == GP_TL_ACQUIRE)
			t->holds = false;
		else if (e->kind == GP_TL_RELEASE)
			t->holds = true;
		else
			t->holds = e->state == GP_STATE_HOLDING;
		if (!t->holds)
			continue;
		/*
		 * One holder at the start: the earliest to show it held. A later
		 * one took the GIL in the recording, in a take_gil already running
		 * when the uprobes were attached (a uretprobe misses a call in
		 * progress); the replay puts that acquisition where it must be.
		 */
		if (r->holder < 0)
			r->holder = r->last = (int)e->thread;
		else
			t->holds = false;
	}
	free(known);
	return 0;
}

static int acquire(struct replay *r, const struct gp_tl_event *e)
{
	struct tl_thread *t = &r->th[e->thread];
	int h = r->holder;
	uint32_t stack = e->stack ? e->stack : t->last_stack;

	/* Someone else still holds it: its release was not seen. */
	if (h >= 0 && (uint32_t)h != e->thread && r->th[h].holds) {
		r->th[h].holds = false;
		r->tl->missed_releases++;
		if (cut(r, (uint32_t)h, e->ts, 0))
			return -1;
	}
	/*
	 * GIL tracing starts just before the window (so the first holder is
	 * known): a hand-off before it only sets the state at the start.
	 */
	if (r->last >= 0 && (uint32_t)r->last != e->thread && e->ts >= r->tl->t0) {
		struct gp_timeline *tl = r->tl;

		if (GP_GROW(tl->handoffs, tl->nhandoffs, tl->caphandoffs, 256))
			return -1;
		tl->handoffs[tl->nhandoffs++] = (struct gp_tl_handoff){
			.ts = e->ts, .from = (uint32_t)r->last, .to = e->thread, .stack = stack,
		};
	}
	r->holder = r->last = (int)e->thread;
	t->holds = true;
	t->in_wait = false;
	return cut(r, e->thread, e->ts, stack);
}

/*
 * e releases a GIL its thread was not seen to take while nobody held it:
 * the thread took it after the last release (its take_gil began before the
 * uprobes, so the uretprobe never fired), at once as the woken waiter does.
 */
static int missed_acquire(struct replay *r, const struct gp_tl_event *e)
{
	struct tl_thread *t = &r->th[e->thread];
	struct gp_tl_event taken = *e;

	taken.kind = GP_TL_ACQUIRE;
	taken.ts = r->free_since > t->since ? r->free_since : t->since;
	taken.stack = 0;
	r->tl->missed_acquires++;
	return acquire(r, &taken);
}

static int apply(struct replay *r, const struct gp_tl_event *e)
{
	struct tl_thread *t = &r->th[e->thread];

	if (e->stack)
		t->last_stack = e->stack;
	switch (e->kind) {
	case GP_TL_ACQUIRE:
		return acquire(r, e);
	case GP_TL_RELEASE:
		if (!t->holds && r->holder < 0 && missed_acquire(r, e))
			return -1;
		t->holds = false;
		t->in_wait = false;
		if (r->holder == (int)e->thread) {
			r->holder = -1;
			r->free_since = e->ts;
		}
		break;
	case GP_TL_OFF:
		t->off = true;
		t->off_state = e->state;
		if (e->state == GP_STATE_WAITING)
			t->in_wait = true;
		else if (e->state == GP_STATE_IDLE)
			t->in_wait = false;
		break;
	case GP_TL_ON:
		t->off = false;
		break;
	case GP_TL_EXIT:
		t->done = true;
		if (r->holder == (int)e->thread) {
			r->holder = -1;
			r->free_since = e->ts;
		}
		break;
	default:
		return 0;
	}
	return cut(r, e->thread, e->ts, e->stack);
}

static int replay_events(struct replay *r)
{
	struct gp_timeline *tl = r->tl;

	/* Every thread's first slice, in the state it began in. */
	for (uint32_t i = 0; i < r->nth; i++) {
		r->th[i].since = r->th[i].start;
		if (cut(r, i, r->th[i].start, r->th[i].last_stack))
			return -1;
	}
	for (size_t k = 0; k < tl->nev; k++) {
		const struct gp_tl_event *e = &tl->ev[k];
		const struct tl_thread *t = &r->th[e->thread];

		/* The snapshot describes the start, already applied. */
		if (e->snapshot || t->done || e->ts > t->end)
			continue;
		if (apply(r, e))
			return -1;
	}
	for (uint32_t i = 0; i < r->nth; i++) {
		r->th[i].done = true;
		if (cut(r, i, r->th[i].end, 0))
			return -1;
	}
	return 0;
}

/* Threads waiting for the GIL over time, swept from the waiting slices. */
static int cmp_waiter(const void *a, const void *b)
{
	const struct gp_tl_waiters *x = a, *y = b;

	/* ends (n == 0) before starts at the same time */
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return (int)x->n - (int)y->n;
}

static int count_waiters(struct gp_timeline *tl)
{
	struct gp_tl_waiters *d = calloc(2 * tl->nslices + 1, sizeof(*d));
	size_t nd = 0;
	uint32_t now = 0;

	if (!d)
		return -1;
	for (size_t i = 0; i < tl->nslices; i++) {
		if (tl->slices[i].state != GP_STATE_WAITING)
			continue;
		d[nd++] = (struct gp_tl_waiters){ .ts = tl->slices[i].start, .n = 1 };
		d[nd++] = (struct gp_tl_waiters){ .ts = tl->slices[i].end, .n = 0 };
	}
	qsort(d, nd, sizeof(*d), cmp_waiter);
	/* d is reused for the output: entry k is written after entry k is read. */
	tl->waiters = d;
	tl->nwaiters = 0;
	for (size_t k = 0; k < nd; k++) {
		struct gp_tl_waiters change = d[k];

		now = change.n ? now + 1 : now - 1;
		if (tl->nwaiters && d[tl->nwaiters - 1].ts == change.ts)
			d[tl->nwaiters - 1].n = now;
		else
			d[tl->nwaiters++] = (struct gp_tl_waiters){ .ts = change.ts, .n = now };
	}
	return 0;
}

void gp_timeline_end_at_exec(struct gp_timeline *tl, uint64_t ts)
{
	if (tl->truncated || tl->exec_cut)
		return;
	tl->exec_cut = true;
	tl->t_end = ts;
}

int gp_timeline_finish(struct gp_timeline *tl, const struct gp_profile *prof, uint64_t t_end)
{
	struct replay r = { .tl = tl, .holder = -1, .last = -1, .nth = prof->nthreads };
	size_t kept = 0;
	int rc = -1;

	if (!tl->truncated && !tl->exec_cut)
		tl->t_end = t_end;
	r.th = calloc(r.nth ? r.nth : 1, sizeof(*r.th));
	if (!r.th)
		return -1;
	for (size_t i = 0; i < r.nth; i++) {
		const struct gp_thread *p = prof->threads[i];

		r.th[i].start = p->first_ns > tl->t0 ? p->first_ns : tl->t0;
		r.th[i].end = p->last_ns < tl->t_end ? p->last_ns : tl->t_end;
		if (r.th[i].end < r.th[i].start)
			r.th[i].end = r.th[i].start;
	}
	/* Threads come from the profile; an event of another cannot be, but is dropped. */
	for (size_t k = 0; k < tl->nev; k++)
		if (tl->ev[k].thread < r.nth)
			tl->ev[kept++] = tl->ev[k];
	tl->nev = kept;
	qsort(tl->ev, tl->nev, sizeof(*tl->ev), cmp_event);
	if (initial_state(&r) || replay_events(&r))
		goto out;
	qsort(tl->slices, tl->nslices, sizeof(*tl->slices), cmp_slice);
	rc = count_waiters(tl);
out:
	free(r.th);
	free_events(tl);
	return rc;
}
