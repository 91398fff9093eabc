// SPDX-License-Identifier: BSD-2-Clause
/*
 * Wall-mode accounting: off-CPU intervals, the start snapshot, exits,
 * lifetimes, GIL contention and off-CPU time turned into samples.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "profile.h"
#include "wallclock.h"

#define MS 1000000ULL
#define T0 (1000 * MS)

struct fixture {
	struct gp_profile p;
	struct gp_wall w;
	uint32_t loc_a, loc_b;
	uint32_t th[4];
};

static int setup(void **state)
{
	static struct fixture f;
	uint32_t fa;

	gp_profile_init(&f.p);
	f.p.rate_hz = 100;
	f.p.period_ns = 10 * MS;
	fa = gp_profile_function(&f.p, GP_FUNC_PYTHON, "f", "f", "a.py", 1);
	f.loc_a = gp_profile_location(&f.p, fa, 2, 0, 0);
	f.loc_b = gp_profile_location(&f.p, fa, 3, 0, 0);
	for (int i = 0; i < 4; i++)
		f.th[i] = gp_profile_thread(&f.p, 10, 11 + i)->idx;
	gp_wall_init(&f.w, &f.p, T0);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	gp_wall_free(&f->w);
	gp_profile_free(&f->p);
	return 0;
}

/* Off-CPU time of a thread in a state. */
static uint64_t state_ns(const struct gp_profile *p, uint32_t th, enum gp_gil_state st)
{
	uint64_t ns = 0;

	for (size_t i = 0; i < p->nstacks; i++)
		if (p->stacks[i]->thread == th && p->stacks[i]->state == st)
			ns += p->stacks[i]->wall_ns - p->stacks[i]->cpu_ns;
	return ns;
}

/* On-CPU time of a thread in a state. */
static uint64_t run_ns(const struct gp_profile *p, uint32_t th, enum gp_gil_state st)
{
	uint64_t ns = 0;

	for (size_t i = 0; i < p->nstacks; i++)
		if (p->stacks[i]->thread == th && p->stacks[i]->state == st)
			ns += p->stacks[i]->cpu_ns;
	return ns;
}

static struct gp_stack *stack_of(struct fixture *f, uint32_t th, enum gp_gil_state st,
				 uint32_t loc)
{
	struct gp_stack *s = gp_profile_stack(&f->p, th, st, false, &loc, 1);

	assert_non_null(s);
	return s;
}

/* Intervals close at switch-in, exit, or the end; lifetimes follow. */
static void test_intervals_and_lifetimes(void **state)
{
	struct fixture *f = *state;
	struct gp_profile *p = &f->p;

	/* th0: blocked since before the start (snapshot), wakes at +30 ms */
	assert_int_equal(gp_wall_off_cpu(&f->w, f->th[0], T0 + 5 * MS, true, GP_STATE_IDLE,
					 false, &f->loc_a, 1), 0);
	assert_int_equal(gp_wall_on_cpu(&f->w, f->th[0], T0 + 30 * MS, false), 0);
	/* th1: running at the start, waits for the GIL 40..100 ms, then to the end */
	assert_int_equal(gp_wall_on_cpu(&f->w, f->th[1], T0 + 1 * MS, true), 0);
	assert_int_equal(gp_wall_off_cpu(&f->w, f->th[1], T0 + 40 * MS, false,
					 GP_STATE_WAITING, false, &f->loc_b, 1), 0);
	assert_int_equal(gp_wall_on_cpu(&f->w, f->th[1], T0 + 100 * MS, false), 0);
	assert_int_equal(gp_wall_off_cpu(&f->w, f->th[1], T0 + 150 * MS, false,
					 GP_STATE_WAITING, false, &f->loc_b, 1), 0);
	/* th2: born at +50 ms, preempted holding 60..70, exits at +80 */
	assert_int_equal(gp_wall_on_cpu(&f->w, f->th[2], T0 + 50 * MS, false), 0);
	assert_int_equal(gp_wall_off_cpu(&f->w, f->th[2], T0 + 60 * MS, false,
					 GP_STATE_HOLDING, true, &f->loc_a, 1), 0);
	assert_int_equal(gp_wall_on_cpu(&f->w, f->th[2], T0 + 70 * MS, false), 0);
	assert_int_equal(gp_wall_exit(&f->w, f->th[2], T0 + 80 * MS), 0);
	/* a record read after the stop is clamped to it */
	gp_wall_stop(&f->w, T0 + 200 * MS);
	assert_int_equal(gp_wall_on_cpu(&f->w, f->th[3], T0 + 500 * MS, false), 0);
	assert_int_equal(gp_wall_finish(&f->w), 0);

	assert_int_equal(state_ns(p, f->th[0], GP_STATE_IDLE), 30 * MS);
	assert_int_equal(state_ns(p, f->th[1], GP_STATE_WAITING), 60 * MS + 50 * MS);
	assert_int_equal(state_ns(p, f->th[2], GP_STATE_HOLDING), 10 * MS);
	/* threads never sampled: runs to the stack they ended with, as on-CPU states */
	assert_int_equal(run_ns(p, f->th[0], GP_STATE_RELEASED), 170 * MS); /* 30..200 */
	assert_int_equal(run_ns(p, f->th[1], GP_STATE_WAITING), 40 * MS + 50 * MS);
	assert_int_equal(run_ns(p, f->th[2], GP_STATE_HOLDING), 10 * MS + 10 * MS);

	assert_int_equal(p->threads[f->th[0]]->first_ns, T0);
	assert_int_equal(p->threads[f->th[0]]->last_ns, T0 + 200 * MS);
	assert_int_equal(p->threads[f->th[1]]->first_ns, T0);
	assert_int_equal(p->threads[f->th[2]]->first_ns, T0 + 50 * MS);
	assert_int_equal(p->threads[f->th[2]]->last_ns, T0 + 80 * MS);
	assert_int_equal(p->threads[f->th[3]]->first_ns, T0 + 200 * MS);

	/* time became samples at 10 ms: each thread's add up to its lifetime */
	assert_int_equal(p->threads[f->th[0]]->samples[GP_STATE_IDLE], 3);
	assert_int_equal(p->threads[f->th[0]]->samples[GP_STATE_RELEASED], 17);
	assert_int_equal(p->threads[f->th[1]]->samples[GP_STATE_WAITING], 20);
	assert_int_equal(p->threads[f->th[2]]->samples[GP_STATE_HOLDING], 3);
	for (size_t i = 0; i < p->nstacks; i++)
		if (p->stacks[i]->thread == f->th[2])
			assert_true(p->stacks[i]->gc);
	/* th1 waited 40..100 and 150..200: contention 110 ms of 200 */
	assert_true(p->contention_known);
	assert_int_equal(p->gil_contended_ns, 110 * MS);
}

/* On-CPU time is shared by the samples, however many the timer delivered. */
static void test_runs_shared_by_samples(void **state)
{
	struct fixture *f = *state;
	struct gp_profile *p = &f->p;
	struct gp_stack *hold = stack_of(f, f->th[0], GP_STATE_HOLDING, f->loc_a);
	struct gp_stack *rel = stack_of(f, f->th[0], GP_STATE_RELEASED, f->loc_b);

	/* on CPU 0..90 ms: three samples where nine periods passed */
	assert_int_equal(gp_wall_on_cpu(&f->w, f->th[0], T0, true), 0);
	assert_int_equal(gp_wall_sample(&f->w, f->th[0], T0 + 10 * MS, hold), 0);
	assert_int_equal(gp_wall_sample(&f->w, f->th[0], T0 + 50 * MS, hold), 0);
	assert_int_equal(gp_wall_sample(&f->w, f->th[0], T0 + 80 * MS, rel), 0);
	assert_int_equal(gp_wall_off_cpu(&f->w, f->th[0], T0 + 90 * MS, false, GP_STATE_IDLE,
					 false, &f->loc_a, 1),
			 0);
	/* off 90..100, then on again with one sample until the end at 130 */
	assert_int_equal(gp_wall_on_cpu(&f->w, f->th[0], T0 + 100 * MS, false), 0);
	assert_int_equal(gp_wall_sample(&f->w, f->th[0], T0 + 105 * MS, rel), 0);
	gp_wall_stop(&f->w, T0 + 130 * MS);
	assert_int_equal(gp_wall_finish(&f->w), 0);
	assert_int_equal(hold->cpu_ns, 60 * MS);
	assert_int_equal(rel->cpu_ns, 30 * MS + 30 * MS);
	assert_int_equal(state_ns(p, f->th[0], GP_STATE_IDLE), 10 * MS);
	assert_int_equal(hold->samples, 6);
	assert_int_equal(rel->samples, 6);
	assert_int_equal(p->threads[f->th[0]]->samples[GP_STATE_IDLE], 1);
	assert_int_equal(p->samples, 13);
}

/*
 * Runs shorter than the period: a thread holds the GIL for 5 ms, drops it
 * and waits 5 ms, twenty times; the 10 ms timer hits every other run.
 * Every sample stands for a period of CPU time, so all 100 ms on CPU are
 * holding — not only the sampled runs' 50 ms, with the unsampled ones
 * going to the waiting stack the thread left the CPU with.
 */
static void test_short_runs_unbiased(void **state)
{
	struct fixture *f = *state;
	struct gp_profile *p = &f->p;
	struct gp_stack *hold = stack_of(f, f->th[0], GP_STATE_HOLDING, f->loc_a);
	uint64_t t = T0;

	assert_int_equal(gp_wall_on_cpu(&f->w, f->th[0], t, true), 0);
	for (int i = 0; i < 20; i++) {
		if (i % 2 == 0)
			assert_int_equal(gp_wall_sample(&f->w, f->th[0], t + 2 * MS, hold), 0);
		assert_int_equal(gp_wall_off_cpu(&f->w, f->th[0], t + 5 * MS, false,
						 GP_STATE_WAITING, false, &f->loc_b, 1),
				 0);
		t += 10 * MS;
		assert_int_equal(gp_wall_on_cpu(&f->w, f->th[0], t, false), 0);
	}
	/* th1 never sampled: its run goes to the stack it left the CPU with */
	assert_int_equal(gp_wall_on_cpu(&f->w, f->th[1], T0, true), 0);
	assert_int_equal(gp_wall_off_cpu(&f->w, f->th[1], T0 + 7 * MS, false, GP_STATE_IDLE,
					 false, &f->loc_b, 1),
			 0);
	gp_wall_stop(&f->w, t);
	assert_int_equal(gp_wall_finish(&f->w), 0);
	assert_int_equal(hold->cpu_ns, 100 * MS);
	assert_int_equal(run_ns(p, f->th[0], GP_STATE_WAITING), 0);
	assert_int_equal(state_ns(p, f->th[0], GP_STATE_WAITING), 100 * MS);
	assert_int_equal(p->threads[f->th[0]]->samples[GP_STATE_HOLDING], 10);
	assert_int_equal(p->threads[f->th[0]]->samples[GP_STATE_WAITING], 10);
	assert_int_equal(run_ns(p, f->th[1], GP_STATE_RELEASED), 7 * MS);
}

/* The snapshot is older than anything sched_switch reported. */
static void test_snapshot_never_overrides(void **state)
{
	struct fixture *f = *state;
	struct gp_profile *p = &f->p;

	/* th0 woke and slept again before its snapshot record was read */
	assert_int_equal(gp_wall_on_cpu(&f->w, f->th[0], T0 + 2 * MS, false), 0);
	assert_int_equal(gp_wall_off_cpu(&f->w, f->th[0], T0 + 3 * MS, false, GP_STATE_IDLE,
					 false, &f->loc_b, 1), 0);
	assert_int_equal(gp_wall_off_cpu(&f->w, f->th[0], T0 + 4 * MS, true, GP_STATE_WAITING,
					 false, &f->loc_a, 1), 0);
	/* a late "was running" mark does not end th0's interval */
	assert_int_equal(gp_wall_on_cpu(&f->w, f->th[0], T0 + 5 * MS, true), 0);
	gp_wall_stop(&f->w, T0 + 103 * MS);
	assert_int_equal(gp_wall_finish(&f->w), 0);
	assert_int_equal(state_ns(p, f->th[0], GP_STATE_IDLE), 100 * MS);
	assert_int_equal(state_ns(p, f->th[0], GP_STATE_WAITING), 0);
	assert_int_equal(run_ns(p, f->th[0], GP_STATE_RELEASED), 1 * MS); /* 2..3 ms */
	assert_int_equal(p->threads[f->th[0]]->first_ns, T0);
	assert_int_equal(p->gil_contended_ns, 0);
}

/*
 * A snapshot taken once the GIL is found: an open interval of unknown
 * state takes the snapshot's state and stack, once; nothing else changes
 * (births, known states, intervals opened after the snapshot read).
 */
static void test_resnapshot_fills_unknown(void **state)
{
	struct fixture *f = *state;
	struct gp_profile *p = &f->p;
	struct gp_wall *w = &f->w;

	/* th0 born at 5 ms, blocked at 10 ms before the GIL was known */
	assert_int_equal(gp_wall_on_cpu(w, f->th[0], T0 + 5 * MS, false), 0);
	assert_int_equal(gp_wall_off_cpu(w, f->th[0], T0 + 10 * MS, false, GP_STATE_NONE,
					 false, &f->loc_a, 1), 0);
	gp_wall_blocked(w, f->th[0]);
	/* th1's state was known when it left the CPU */
	assert_int_equal(gp_wall_on_cpu(w, f->th[1], T0 + 15 * MS, false), 0);
	assert_int_equal(gp_wall_off_cpu(w, f->th[1], T0 + 20 * MS, false, GP_STATE_HOLDING,
					 false, &f->loc_a, 1), 0);
	/* th3 left the CPU unknown, waits for the GIL (seen at 50 ms) */
	assert_int_equal(gp_wall_on_cpu(w, f->th[3], T0 + 25 * MS, false), 0);
	assert_int_equal(gp_wall_off_cpu(w, f->th[3], T0 + 30 * MS, false, GP_STATE_NONE,
					 false, &f->loc_a, 1), 0);
	/* The snapshot at 50 ms */
	assert_int_equal(gp_wall_resnapshot(w, f->th[0], T0 + 50 * MS, false, GP_STATE_IDLE,
					    false, &f->loc_b, 1), 1);
	assert_int_equal(gp_wall_resnapshot(w, f->th[1], T0 + 50 * MS, false, GP_STATE_WAITING,
					    false, &f->loc_b, 1), 0);
	assert_int_equal(gp_wall_resnapshot(w, f->th[3], T0 + 50 * MS, false, GP_STATE_WAITING,
					    false, &f->loc_b, 1), 1);
	/* th2 never seen: off CPU since the start, as the first snapshot says */
	assert_int_equal(gp_wall_resnapshot(w, f->th[2], T0 + 50 * MS, false, GP_STATE_IDLE,
					    false, &f->loc_b, 1), 1);
	/* A state taken is not taken again; a "was running" mark changes nothing */
	assert_int_equal(gp_wall_resnapshot(w, f->th[0], T0 + 51 * MS, false,
					    GP_STATE_RELEASED, false, &f->loc_a, 1), 0);
	assert_int_equal(gp_wall_resnapshot(w, f->th[0], T0 + 51 * MS, true, GP_STATE_NONE,
					    false, NULL, 0), 0);
	assert_int_equal(gp_wall_on_cpu(w, f->th[0], T0 + 110 * MS, false), 0);
	/* th3 ran again at 150 ms and left unknown at 160: the 50 ms read is older */
	assert_int_equal(gp_wall_on_cpu(w, f->th[3], T0 + 150 * MS, false), 0);
	assert_int_equal(gp_wall_off_cpu(w, f->th[3], T0 + 160 * MS, false, GP_STATE_NONE,
					 false, &f->loc_a, 1), 0);
	assert_int_equal(gp_wall_resnapshot(w, f->th[3], T0 + 50 * MS, false, GP_STATE_IDLE,
					    false, &f->loc_b, 1), 0);
	gp_wall_stop(w, T0 + 200 * MS);
	assert_int_equal(gp_wall_finish(w), 0);

	/* th0: 10..110 idle at the snapshot's stack, born at 5 ms still */
	assert_int_equal(state_ns(p, f->th[0], GP_STATE_IDLE), 100 * MS);
	assert_int_equal(state_ns(p, f->th[0], GP_STATE_NONE), 0);
	assert_int_equal(stack_of(f, f->th[0], GP_STATE_IDLE, f->loc_b)->wall_ns, 100 * MS);
	assert_int_equal(p->threads[f->th[0]]->first_ns, T0 + 5 * MS);
	assert_int_equal(p->threads[f->th[0]]->last_ns, T0 + 200 * MS);
	/* th1: holding 20..200, not waiting */
	assert_int_equal(state_ns(p, f->th[1], GP_STATE_HOLDING), 180 * MS);
	assert_int_equal(state_ns(p, f->th[1], GP_STATE_WAITING), 0);
	assert_int_equal(p->threads[f->th[1]]->first_ns, T0 + 15 * MS);
	/* th2: the whole recording idle */
	assert_int_equal(state_ns(p, f->th[2], GP_STATE_IDLE), 200 * MS);
	assert_int_equal(p->threads[f->th[2]]->first_ns, T0);
	/* th3: 30..150 waiting, counted once; 160..200 unknown */
	assert_int_equal(state_ns(p, f->th[3], GP_STATE_WAITING), 120 * MS);
	assert_int_equal(state_ns(p, f->th[3], GP_STATE_IDLE), 0);
	assert_int_equal(state_ns(p, f->th[3], GP_STATE_NONE), 40 * MS);
	/* the sweep knows of th3's wait from the snapshot on: 50..150 */
	assert_int_equal(p->gil_contended_ns, 100 * MS);
}

/* Overlapping waits count once; a gap with no waiter does not count. */
static void test_contention_union(void **state)
{
	struct fixture *f = *state;

	gp_wall_off_cpu(&f->w, f->th[0], T0 + 10 * MS, false, GP_STATE_WAITING, false,
			&f->loc_a, 1);
	gp_wall_off_cpu(&f->w, f->th[1], T0 + 20 * MS, false, GP_STATE_WAITING, false,
			&f->loc_a, 1);
	gp_wall_on_cpu(&f->w, f->th[0], T0 + 30 * MS, false);
	gp_wall_on_cpu(&f->w, f->th[1], T0 + 40 * MS, false);
	gp_wall_off_cpu(&f->w, f->th[2], T0 + 60 * MS, false, GP_STATE_IDLE, false, &f->loc_a,
			1);
	gp_wall_off_cpu(&f->w, f->th[3], T0 + 70 * MS, false, GP_STATE_WAITING, false,
			&f->loc_b, 1);
	/* a lost switch-in: the next switch-out closes the open interval */
	gp_wall_off_cpu(&f->w, f->th[3], T0 + 75 * MS, false, GP_STATE_IDLE, false, &f->loc_b,
			1);
	gp_wall_stop(&f->w, T0 + 100 * MS);
	assert_int_equal(gp_wall_finish(&f->w), 0);
	assert_int_equal(f->p.gil_contended_ns, 30 * MS + 5 * MS);
	assert_int_equal(state_ns(&f->p, f->th[3], GP_STATE_WAITING), 5 * MS);
	assert_int_equal(state_ns(&f->p, f->th[3], GP_STATE_IDLE), 25 * MS);
}

/*
 * Waiting on CPU counts where no thread waits off CPU, by the samples that
 * found it: th0 runs 0..100 ms with ten samples, three waiting while
 * nobody is off CPU waiting (30 ms), one while th1 is (already counted).
 */
static void test_contention_on_cpu(void **state)
{
	struct fixture *f = *state;
	struct gp_stack *hold = stack_of(f, f->th[0], GP_STATE_HOLDING, f->loc_a);
	struct gp_stack *wait = stack_of(f, f->th[0], GP_STATE_WAITING, f->loc_b);

	assert_int_equal(gp_wall_on_cpu(&f->w, f->th[0], T0, true), 0);
	for (int i = 1; i <= 10; i++) {
		bool waiting = i == 2 || i == 3 || i == 6 || i == 9;

		/* records in time order: th1 waits off CPU 50..70 */
		if (i == 6)
			assert_int_equal(gp_wall_off_cpu(&f->w, f->th[1], T0 + 50 * MS, false,
							 GP_STATE_WAITING, false, &f->loc_a, 1),
					 0);
		if (i == 8)
			assert_int_equal(gp_wall_on_cpu(&f->w, f->th[1], T0 + 70 * MS, false), 0);
		assert_int_equal(gp_wall_sample(&f->w, f->th[0], T0 + (uint64_t)i * 10 * MS - MS,
						waiting ? wait : hold),
				 0);
	}
	gp_wall_stop(&f->w, T0 + 100 * MS);
	assert_int_equal(gp_wall_finish(&f->w), 0);
	/* th1 off CPU waiting 50..70 (covers the sample at 59) + 3 x 10 ms */
	assert_int_equal(f->p.gil_contended_ns, 20 * MS + 30 * MS);
	assert_int_equal(wait->cpu_ns, 40 * MS);
}

/*
 * The agent's live view: a peek while recording gives what finish gives at
 * that time (open run and open interval counted up to now), and changes
 * nothing.
 */
static void test_peek_matches_finish(void **state)
{
	struct fixture *f = *state;
	struct gp_profile *p = &f->p;
	struct gp_stack *hold = stack_of(f, f->th[0], GP_STATE_HOLDING, f->loc_a);
	struct gp_stack *rel = stack_of(f, f->th[0], GP_STATE_RELEASED, f->loc_b);
	uint64_t out[4][GP_STATE__MAX], again[4][GP_STATE__MAX];

	assert_int_equal(gp_wall_on_cpu(&f->w, f->th[0], T0, true), 0);
	assert_int_equal(gp_wall_sample(&f->w, f->th[0], T0 + 10 * MS, hold), 0);
	/* th1 waits off CPU from 20 ms on (records in time order) */
	assert_int_equal(gp_wall_off_cpu(&f->w, f->th[1], T0 + 20 * MS, false,
					 GP_STATE_WAITING, false, &f->loc_b, 1),
			 0);
	assert_int_equal(gp_wall_sample(&f->w, f->th[0], T0 + 50 * MS, hold), 0);
	assert_int_equal(gp_wall_sample(&f->w, f->th[0], T0 + 80 * MS, rel), 0);
	assert_int_equal(gp_wall_off_cpu(&f->w, f->th[0], T0 + 90 * MS, false, GP_STATE_IDLE,
					 false, &f->loc_a, 1),
			 0);
	/* at 95 ms: th0 ran 90 ms (2/3 holding), idle 5 ms; th1 waited 75 ms */
	assert_int_equal(gp_wall_peek(&f->w, T0 + 95 * MS, out, 4), 0);
	assert_int_equal(out[f->th[0]][GP_STATE_HOLDING], 60 * MS);
	assert_int_equal(out[f->th[0]][GP_STATE_RELEASED], 30 * MS);
	assert_int_equal(out[f->th[0]][GP_STATE_IDLE], 5 * MS);
	assert_int_equal(out[f->th[1]][GP_STATE_WAITING], 75 * MS);
	assert_int_equal(gp_wall_contended_now(&f->w, T0 + 95 * MS), 75 * MS);

	assert_int_equal(gp_wall_on_cpu(&f->w, f->th[0], T0 + 100 * MS, false), 0);
	assert_int_equal(gp_wall_sample(&f->w, f->th[0], T0 + 105 * MS, rel), 0);
	assert_int_equal(gp_wall_peek(&f->w, T0 + 130 * MS, out, 4), 0);
	assert_int_equal(gp_wall_peek(&f->w, T0 + 130 * MS, again, 4), 0);
	assert_memory_equal(out, again, sizeof(out));
	gp_wall_stop(&f->w, T0 + 130 * MS);
	assert_int_equal(gp_wall_finish(&f->w), 0);
	/* as finish has it: holding 60, released 60, idle 10; th1 waiting 110 */
	assert_int_equal(out[f->th[0]][GP_STATE_HOLDING], hold->cpu_ns);
	assert_int_equal(out[f->th[0]][GP_STATE_RELEASED], rel->cpu_ns);
	assert_int_equal(out[f->th[0]][GP_STATE_IDLE], state_ns(p, f->th[0], GP_STATE_IDLE));
	assert_int_equal(out[f->th[1]][GP_STATE_WAITING],
			 state_ns(p, f->th[1], GP_STATE_WAITING));
	assert_int_equal(out[f->th[1]][GP_STATE_WAITING], 110 * MS);
	assert_int_equal(p->gil_contended_ns, 110 * MS);
}

/* Per thread the samples add up to its time x rate, by largest remainder. */
static void test_apportion_sums_per_thread(void **state)
{
	struct fixture *f = *state;
	struct gp_profile *p = &f->p;
	uint32_t locs[7];
	uint64_t total = 0;

	(void)state;
	/* seven stacks of 4 ms each: 28 ms = 2.8 samples -> 3, to the largest */
	for (uint32_t i = 0; i < 7; i++) {
		uint32_t fn = gp_profile_function(p, GP_FUNC_PYTHON, "g", "g", "b.py", (int)i + 1);

		locs[i] = gp_profile_location(p, fn, 1, 0, 0);
		gp_profile_add_time(stack_of(f, f->th[0], GP_STATE_IDLE, locs[i]), 4 * MS + i,
				    false);
	}
	/* and one on-CPU sample that stays as it is */
	assert_int_equal(gp_profile_add(p, f->th[0], GP_STATE_HOLDING, false, locs, 1, 1,
					10 * MS, 10 * MS),
			 0);
	assert_int_equal(gp_profile_apportion(p), 0);
	for (size_t i = 0; i < p->nstacks; i++) {
		total += p->stacks[i]->samples;
		assert_true(p->stacks[i]->samples <= 1);
	}
	assert_int_equal(total, 4);
	assert_int_equal(p->threads[f->th[0]]->samples[GP_STATE_IDLE], 3);
	assert_int_equal(p->samples, 4);
	/* the three largest remainders (6, 5 and 4 ns over 4 ms) got them */
	for (size_t i = 0; i < p->nstacks; i++)
		if (p->stacks[i]->pending_ns)
			assert_int_equal(p->stacks[i]->samples, p->stacks[i]->pending_ns >= 4 * MS + 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_intervals_and_lifetimes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_runs_shared_by_samples, setup, teardown),
		cmocka_unit_test_setup_teardown(test_short_runs_unbiased, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snapshot_never_overrides, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resnapshot_fills_unknown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_contention_union, setup, teardown),
		cmocka_unit_test_setup_teardown(test_contention_on_cpu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_apportion_sums_per_thread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_peek_matches_finish, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
