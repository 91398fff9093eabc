// SPDX-License-Identifier: BSD-2-Clause
/*
 * wallclock.c — wall-mode accounting. Every thread of the target is
 * accounted for from its first appearance (the start of the recording for
 * threads that already existed) to its exit or the end: on CPU by the
 * CPU-clock samples, off CPU by intervals measured between its switch-out
 * and its next switch-in, carrying the stack and GIL state it left with.
 *
 * Records arrive in ring-buffer order, which is time order up to the
 * nanoseconds between reading the clock and reserving the record on
 * different CPUs; times that go backwards are clamped.
 */
#include "wallclock.h"

#include <stdlib.h>
#include <string.h>

void gp_wall_init(struct gp_wall *w, struct gp_profile *prof, uint64_t t0)
{
	memset(w, 0, sizeof(*w));
	w->prof = prof;
	w->t0 = t0;
	w->clock = t0;
}

void gp_wall_free(struct gp_wall *w)
{
	for (size_t i = 0; i < w->nth; i++)
		free(w->th[i].locs);
	free(w->th);
	memset(w, 0, sizeof(*w));
}

void gp_wall_stop(struct gp_wall *w, uint64_t t_end)
{
	w->t_end = t_end > w->t0 ? t_end : w->t0;
}

static uint64_t clamp(const struct gp_wall *w, uint64_t ts)
{
	if (ts < w->t0)
		return w->t0;
	return w->t_end && ts > w->t_end ? w->t_end : ts;
}

static struct gp_wall_thread *slot(struct gp_wall *w, uint32_t thread)
{
	if (thread >= w->nth) {
		size_t n = w->nth ? w->nth : 16;
		struct gp_wall_thread *v;

		while (n <= thread)
			n *= 2;
		v = realloc(w->th, n * sizeof(*v));
		if (!v)
			return NULL;
		memset(v + w->nth, 0, (n - w->nth) * sizeof(*v));
		w->th = v;
		w->nth = n;
	}
	return &w->th[thread];
}

/* Advance the contention sweep to ts. */
static void tick(struct gp_wall *w, uint64_t ts)
{
	if (ts <= w->clock)
		return;
	if (w->waiters > 0)
		w->contended_ns += ts - w->clock;
	w->clock = ts;
}

static void note_alive(struct gp_wall_thread *t, uint64_t ts)
{
	if (!t->born)
		t->born = ts;
	t->died = 0;
}

/* End t's open off-CPU interval at ts. */
static int close_interval(struct gp_wall *w, uint32_t thread, struct gp_wall_thread *t,
			  uint64_t ts)
{
	uint64_t ns;

	if (!t->off_since)
		return 0;
	tick(w, ts);
	if (t->off_state == GP_STATE_WAITING && w->waiters > 0)
		w->waiters--;
	ns = ts > t->off_since ? ts - t->off_since : 0;
	t->off_since = 0;
	return gp_profile_add_offcpu(w->prof, thread, (enum gp_gil_state)t->off_state, t->off_gc,
				     t->locs, t->n, ns);
}

int gp_wall_off_cpu(struct gp_wall *w, uint32_t thread, uint64_t ts, bool snapshot,
		    enum gp_gil_state state, bool gc, const uint32_t *locs, uint32_t n)
{
	struct gp_wall_thread *t = slot(w, thread);

	if (!t)
		return -1;
	ts = clamp(w, ts);
	/*
	 * The snapshot runs after sched_switch tracking started: anything
	 * already seen of this thread is newer than what the snapshot read.
	 */
	if (snapshot) {
		if (t->born) {
			t->born = w->t0;
			return 0;
		}
		ts = w->t0;
	}
	/* A lost switch-in: the previous interval ended before this one. */
	if (t->off_since && close_interval(w, thread, t, ts))
		return -1;
	if (n > t->cap) {
		uint32_t *v = realloc(t->locs, n * sizeof(*v));

		if (!v)
			return -1;
		t->locs = v;
		t->cap = n;
	}
	if (n)
		memcpy(t->locs, locs, n * sizeof(*locs));
	note_alive(t, ts);
	tick(w, ts);
	t->n = n;
	t->off_since = ts;
	t->off_state = (uint8_t)state;
	t->off_gc = gc;
	if (state == GP_STATE_WAITING)
		w->waiters++;
	return 0;
}

int gp_wall_on_cpu(struct gp_wall *w, uint32_t thread, uint64_t ts, bool snapshot)
{
	struct gp_wall_thread *t = slot(w, thread);

	if (!t)
		return -1;
	/* Existed at the start; a late snapshot mark never ends an interval. */
	if (snapshot) {
		t->born = w->t0;
		return 0;
	}
	ts = clamp(w, ts);
	note_alive(t, ts);
	return close_interval(w, thread, t, ts);
}

int gp_wall_exit(struct gp_wall *w, uint32_t thread, uint64_t ts)
{
	struct gp_wall_thread *t = slot(w, thread);

	if (!t)
		return -1;
	ts = clamp(w, ts);
	note_alive(t, ts);
	if (close_interval(w, thread, t, ts))
		return -1;
	t->died = ts > t->born ? ts : t->born;
	return 0;
}

int gp_wall_seen(struct gp_wall *w, uint32_t thread, uint64_t ts)
{
	struct gp_wall_thread *t = slot(w, thread);

	if (!t)
		return -1;
	note_alive(t, clamp(w, ts));
	return 0;
}

int gp_wall_finish(struct gp_wall *w)
{
	struct gp_profile *p = w->prof;
	uint64_t t_end = w->t_end ? w->t_end : w->clock;

	for (uint32_t i = 0; i < w->nth && i < p->nthreads; i++) {
		struct gp_wall_thread *t = &w->th[i];

		if (close_interval(w, i, t, t_end))
			return -1;
		if (!t->born)
			continue;
		p->threads[i]->first_ns = t->born;
		p->threads[i]->last_ns = t->died ? t->died : t_end;
	}
	tick(w, t_end);
	p->gil_contended_ns = w->contended_ns;
	p->contention_known = true;
	return gp_profile_apportion(p);
}
