// SPDX-License-Identifier: BSD-2-Clause
/*
 * wallclock.c — wall-mode accounting. Every thread of the target is
 * accounted for from its first appearance (the start of the recording for
 * threads that already existed) to its exit or the end, in runs on CPU and
 * intervals off CPU, both measured between its switch records:
 *
 *   - an off-CPU interval goes to the stack and GIL state the thread left
 *     the CPU with;
 *   - the thread's on-CPU time (the sum of its runs) is shared equally by
 *     all its CPU-clock samples: the timer fires at a fixed period of CPU
 *     time, so every sample stands for the same time whatever the length
 *     of the run it fell in. Sharing each run among its own samples, with
 *     unsampled runs going to the stack the thread left the CPU with, is
 *     biased: runs shorter than the period (a GIL held for 5 ms, then
 *     dropped in drop_gil) were mostly unsampled and went to the state
 *     they ended in (waiting) — two contending threads showed 27 %
 *     holding where they held 50 %;
 *   - only a thread never sampled has its runs go to the stack it left the
 *     CPU with, as the on-CPU state it ran in.
 *
 * Records arrive in ring-buffer order, which is time order up to the
 * nanoseconds between reading the clock and reserving the record on
 * different CPUs; times that go backwards are clamped. A lost record
 * (full ring) is made up for by the next one of the same thread.
 */
#include "wallclock.h"
#include "blame.h"
#include "grow.h"

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
	if (GP_GROW_INDEX(w->th, w->nth, thread, 16))
		return NULL;
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
	struct gp_stack *s;
	uint64_t ns;

	if (!t->off_since)
		return 0;
	tick(w, ts);
	if (t->off_state == GP_STATE_WAITING && w->waiters > 0)
		w->waiters--;
	s = t->off_stack;
	if (!s)
		s = gp_profile_stack(w->prof, thread, (enum gp_gil_state)t->off_state, t->off_gc,
				     t->locs, t->n);
	if (!s)
		return -1;
	t->off_stack = s;
	ns = ts > t->off_since ? ts - t->off_since : 0;
	gp_profile_add_time(s, ns, false);
	if (t->blame)
		t->blame->wait_ns += ns;
	t->blame = NULL;
	/* Asleep holding the GIL: how long, and whether anyone waited meanwhile. */
	if (w->blames && t->off_state == GP_STATE_HOLDING && t->off_blocked &&
	    gp_blames_asleep(w->blames, s, ns, w->contended_ns - t->off_contended))
		return -1;
	t->off_since = 0;
	t->last = s;
	return 0;
}

/* A thread switched out in state `off` ran, just before, as this state. */
static enum gp_gil_state ran_as(enum gp_gil_state off)
{
	return off == GP_STATE_IDLE ? GP_STATE_RELEASED : off;
}

/*
 * End t's open run at ts. Its time joins the thread's on-CPU total, shared
 * by all the thread's samples at the end; a run without samples also goes
 * to `fallback` (the stack the thread left the CPU with; without one, the
 * latest stack seen of the thread, as the state it ran in), which gets it
 * only if the thread is never sampled. -1 on ENOMEM.
 */
static int close_run(struct gp_wall *w, uint32_t thread, struct gp_wall_thread *t, uint64_t ts,
		     struct gp_stack *fallback)
{
	struct gp_stack *to = fallback;
	uint64_t ns;

	if (!t->on_since)
		return 0;
	ns = ts > t->on_since ? ts - t->on_since : 0;
	t->on_since = 0;
	t->on_ns += ns;
	if (t->nrun) {
		t->nrun = 0;
		return 0;
	}
	if (!to && t->last) {
		to = gp_profile_stack(w->prof, thread, ran_as((enum gp_gil_state)t->last->state),
				      t->last->gc, t->last->locs, t->last->n);
		if (!to)
			return -1;
	}
	if (to)
		to->unsampled_ns += ns;
	return 0;
}

static int keep_locs(struct gp_wall_thread *t, const uint32_t *locs, uint32_t n)
{
	if (n > t->cap) {
		uint32_t *v = realloc(t->locs, n * sizeof(*v));

		if (!v)
			return -1;
		t->locs = v;
		t->cap = n;
	}
	if (n)
		memcpy(t->locs, locs, n * sizeof(*locs));
	t->n = n;
	return 0;
}

/*
 * A snapshot read at ts found t off CPU in this state. An open interval
 * whose state was unknown (the thread left the CPU before the GIL was
 * found) takes it: the snapshot saw the same interval, as the thread has
 * not come back on a CPU since it opened (the records arrive in time
 * order; an interval opened after the snapshot read is not the one it
 * saw). Only the state and stack change: the time is counted once, when
 * the interval closes, and the contention sweep counts a wait from now
 * on. 1 if it took the state, 0 if nothing changed, -1 on ENOMEM.
 */
static int fill_unknown(struct gp_wall *w, struct gp_wall_thread *t, uint64_t ts,
			enum gp_gil_state state, bool gc, const uint32_t *locs, uint32_t n)
{
	if (!t->off_since || t->off_state != GP_STATE_NONE || state == GP_STATE_NONE ||
	    clamp(w, ts) < t->off_since)
		return 0;
	if (keep_locs(t, locs, n))
		return -1;
	tick(w, clamp(w, ts));
	t->off_state = (uint8_t)state;
	t->off_gc = gc;
	t->off_stack = t->ran_stack = NULL;
	t->off_contended = w->contended_ns;
	if (state == GP_STATE_WAITING)
		w->waiters++;
	return 1;
}

int gp_wall_resnapshot(struct gp_wall *w, uint32_t thread, uint64_t ts, bool on_cpu,
		       enum gp_gil_state state, bool gc, const uint32_t *locs, uint32_t n)
{
	struct gp_wall_thread *t = slot(w, thread);

	if (!t)
		return -1;
	/* Not seen since the start: as in the first snapshot. */
	if (!t->born) {
		if (on_cpu)
			return gp_wall_on_cpu(w, thread, ts, true);
		return gp_wall_off_cpu(w, thread, ts, true, state, gc, locs, n) ? -1 : 1;
	}
	return on_cpu ? 0 : fill_unknown(w, t, ts, state, gc, locs, n);
}

int gp_wall_off_cpu(struct gp_wall *w, uint32_t thread, uint64_t ts, bool snapshot,
		    enum gp_gil_state state, bool gc, const uint32_t *locs, uint32_t n)
{
	struct gp_wall_thread *t = slot(w, thread);
	struct gp_stack *ran = NULL;
	bool same;

	if (!t)
		return -1;
	ts = clamp(w, ts);
	/*
	 * The snapshot runs after sched_switch tracking started: anything
	 * already seen of this thread is newer than what the snapshot read,
	 * but for a state the switch-out could not tell.
	 */
	if (snapshot) {
		if (t->born) {
			t->born = w->t0;
			return fill_unknown(w, t, ts, state, gc, locs, n) < 0 ? -1 : 0;
		}
		ts = w->t0;
	}
	/* Left the CPU as it did last time: the stacks looked up then. */
	same = t->off_stack && t->n == n && t->off_state == (uint8_t)state && t->off_gc == gc &&
	       (!n || !memcmp(t->locs, locs, n * sizeof(*locs)));
	if (t->on_since && !t->nrun) {
		ran = same ? t->ran_stack : NULL;
		if (!ran)
			ran = gp_profile_stack(w->prof, thread, ran_as(state), gc, locs, n);
		if (!ran)
			return -1;
	}
	/* A lost switch-in: the previous interval ended before this one. */
	if (close_run(w, thread, t, ts, ran) || close_interval(w, thread, t, ts))
		return -1;
	if (same) {
		if (ran)
			t->ran_stack = ran;
	} else {
		if (keep_locs(t, locs, n))
			return -1;
		/* Holding, waiting or released ran as it left: one stack. */
		t->off_stack = ran && ran_as(state) == state ? ran : NULL;
		t->ran_stack = ran;
	}
	note_alive(t, ts);
	tick(w, ts);
	t->off_since = ts;
	t->off_state = (uint8_t)state;
	t->off_gc = gc;
	t->off_blocked = false;
	t->off_contended = w->contended_ns;
	if (state == GP_STATE_WAITING)
		w->waiters++;
	return 0;
}

void gp_wall_blocked(struct gp_wall *w, uint32_t thread)
{
	if (thread < w->nth && w->th[thread].off_since)
		w->th[thread].off_blocked = true;
}

bool gp_wall_holding_asleep(const struct gp_wall *w, uint32_t thread)
{
	const struct gp_wall_thread *t = thread < w->nth ? &w->th[thread] : NULL;

	return t && t->off_since && t->off_blocked && t->off_state == GP_STATE_HOLDING;
}

bool gp_wall_blame(struct gp_wall *w, uint32_t thread, struct gp_blame *b)
{
	struct gp_wall_thread *t = thread < w->nth ? &w->th[thread] : NULL;

	if (!t || !t->off_since || t->off_state != GP_STATE_WAITING || t->blame)
		return false;
	t->blame = b;
	return true;
}

int gp_wall_on_cpu(struct gp_wall *w, uint32_t thread, uint64_t ts, bool snapshot)
{
	struct gp_wall_thread *t = slot(w, thread);

	if (!t)
		return -1;
	/* Existed at the start; a late snapshot mark never ends an interval. */
	if (snapshot) {
		t->born = w->t0;
		if (!t->on_since && !t->off_since)
			t->on_since = w->t0;
		return 0;
	}
	ts = clamp(w, ts);
	note_alive(t, ts);
	/* An open run here lost its switch-out. */
	if (close_run(w, thread, t, ts, NULL) || close_interval(w, thread, t, ts))
		return -1;
	t->on_since = ts;
	return 0;
}

int gp_wall_exit(struct gp_wall *w, uint32_t thread, uint64_t ts)
{
	struct gp_wall_thread *t = slot(w, thread);

	if (!t)
		return -1;
	ts = clamp(w, ts);
	note_alive(t, ts);
	if (close_run(w, thread, t, ts, NULL) || close_interval(w, thread, t, ts))
		return -1;
	t->died = ts > t->born ? ts : t->born;
	return 0;
}

int gp_wall_sample(struct gp_wall *w, uint32_t thread, uint64_t ts, struct gp_stack *stack)
{
	struct gp_wall_thread *t = slot(w, thread);

	if (!t)
		return -1;
	ts = clamp(w, ts);
	note_alive(t, ts);
	/* On CPU now: an interval still open lost its switch-in. */
	if (t->off_since) {
		if (close_interval(w, thread, t, ts))
			return -1;
		t->on_since = ts;
	}
	if (!t->on_since)
		t->on_since = ts;
	t->nrun++;
	t->nsamples++;
	/* Waiting on CPU, in the GIL's futex call: see on_cpu_contention. */
	if (stack->state == GP_STATE_WAITING && w->waiters == 0)
		t->nwait_alone++;
	t->last = stack;
	stack->raw_samples++;
	return 0;
}

/* The on-CPU time that n of t's samples stand for. */
static uint64_t samples_ns(const struct gp_wall_thread *t, uint64_t n)
{
	return (uint64_t)((unsigned __int128)t->on_ns * n / t->nsamples);
}

/*
 * Give every thread's on-CPU time to its stacks: by their share of its
 * samples, or, for a thread never sampled, as its runs ended.
 */
static void share_on_cpu(struct gp_wall *w)
{
	struct gp_profile *p = w->prof;

	for (size_t i = 0; i < p->nstacks; i++) {
		struct gp_stack *s = p->stacks[i];
		const struct gp_wall_thread *t;

		if (s->thread >= w->nth)
			continue;
		t = &w->th[s->thread];
		if (!t->nsamples)
			gp_profile_add_time(s, s->unsampled_ns, true);
		else if (s->raw_samples)
			gp_profile_add_time(s, samples_ns(t, s->raw_samples), true);
		s->unsampled_ns = 0;
		s->raw_samples = 0;
	}
}

/*
 * The on-CPU part of the contention. The sweep sees only waits off CPU;
 * a thread can also wait on CPU (in the kernel in the GIL's futex: woken
 * and contending for the mutex, or slowed by a busy host), and the thread
 * table counts that time as waiting. Each on-CPU sample is a uniform pick
 * of its thread's CPU time, so the samples that found it waiting while no
 * thread waited off CPU, each worth on_ns / nsamples, estimate the waiting
 * time the sweep missed. Two threads waiting on CPU at once would count
 * twice: the total is capped at the window.
 */
static uint64_t on_cpu_contention(const struct gp_wall *w)
{
	uint64_t ns = 0;

	for (size_t i = 0; i < w->nth; i++) {
		const struct gp_wall_thread *t = &w->th[i];

		if (t->nwait_alone)
			ns += samples_ns(t, t->nwait_alone);
	}
	return ns;
}

int gp_wall_finish(struct gp_wall *w)
{
	struct gp_profile *p = w->prof;
	uint64_t t_end = w->t_end ? w->t_end : w->clock;

	for (uint32_t i = 0; i < w->nth && i < p->nthreads; i++) {
		struct gp_wall_thread *t = &w->th[i];

		if (close_run(w, i, t, t_end, NULL) || close_interval(w, i, t, t_end))
			return -1;
		if (!t->born)
			continue;
		p->threads[i]->first_ns = t->born;
		p->threads[i]->last_ns = t->died ? t->died : t_end;
	}
	share_on_cpu(w);
	tick(w, t_end);
	/* t_end >= clock >= t0 (gp_wall_stop, tick) */
	p->gil_contended_ns = w->contended_ns + on_cpu_contention(w);
	if (p->gil_contended_ns > t_end - w->t0)
		p->gil_contended_ns = t_end - w->t0;
	p->contention_known = true;
	return gp_profile_apportion(p);
}

/*
 * The accounting so far, read without changing it (the agent's live
 * metrics): what gp_wall_finish would give every thread if tracking
 * stopped at now. Off-CPU intervals closed so far are in their stacks, the
 * open one counts up to now; the on-CPU time (open run included) is shared
 * by the thread's samples as at the end.
 */
int gp_wall_peek(const struct gp_wall *w, uint64_t now, uint64_t (*out)[GP_STATE__MAX],
		 size_t nout)
{
	const struct gp_profile *p = w->prof;

	memset(out, 0, nout * sizeof(*out));
	if (now < w->clock)
		now = w->clock;
	for (size_t i = 0; i < p->nstacks; i++) {
		const struct gp_stack *s = p->stacks[i];
		const struct gp_wall_thread *t;

		if (s->thread >= nout || s->thread >= w->nth || s->state >= GP_STATE__MAX)
			continue;
		t = &w->th[s->thread];
		out[s->thread][s->state] += s->wall_ns - s->cpu_ns;
		if (!t->nsamples) {
			out[s->thread][s->state] += s->unsampled_ns;
		} else if (s->raw_samples) {
			uint64_t on = t->on_ns + (t->on_since && now > t->on_since ? now - t->on_since : 0);

			out[s->thread][s->state] +=
				(uint64_t)((unsigned __int128)on * s->raw_samples / t->nsamples);
		}
	}
	for (size_t i = 0; i < w->nth && i < nout; i++) {
		const struct gp_wall_thread *t = &w->th[i];

		if (t->off_since && now > t->off_since && t->off_state < GP_STATE__MAX)
			out[i][t->off_state] += now - t->off_since;
	}
	return 0;
}

uint64_t gp_wall_contended_now(const struct gp_wall *w, uint64_t now)
{
	uint64_t ns = w->contended_ns + on_cpu_contention(w);

	if (now < w->clock)
		now = w->clock;
	if (w->waiters > 0)
		ns += now - w->clock;
	return ns < now - w->t0 ? ns : now - w->t0;
}
