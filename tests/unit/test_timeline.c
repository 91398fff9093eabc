// SPDX-License-Identifier: BSD-2-Clause
/*
 * The GIL timeline's replay (sampler/timeline.c): GIL acquisitions and
 * releases plus switch records, in any arrival order, become per-thread
 * intervals that cover each thread's life without gap or overlap,
 * hand-offs with the acquiring thread's stack, and waiter counts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "output.h"
#include "profile.h"
#include "timeline.h"
#include "writer_text.h"

#define MS 1000000ULL
#define T0 (1000 * MS)
#define END (T0 + 100 * MS)

struct fixture {
	struct gp_profile p;
	struct gp_timeline *tl;
	uint32_t loc_a, loc_b;
	uint32_t a, b, c;
};

static int setup(void **state)
{
	static struct fixture f;
	uint32_t fa;

	gp_profile_init(&f.p);
	fa = gp_profile_function(&f.p, GP_FUNC_PYTHON, "spin", "spin", "a.py", 1);
	f.loc_a = gp_profile_location(&f.p, fa, 2, 0, 0);
	f.loc_b = gp_profile_location(&f.p, fa, 3, 0, 0);
	f.a = gp_profile_thread(&f.p, 10, 11)->idx;
	f.b = gp_profile_thread(&f.p, 10, 12)->idx;
	f.c = gp_profile_thread(&f.p, 10, 13)->idx;
	for (size_t i = 0; i < f.p.nthreads; i++) {
		f.p.threads[i]->first_ns = T0;
		f.p.threads[i]->last_ns = END;
	}
	f.tl = gp_timeline_new("uprobes", T0);
	assert_non_null(f.tl);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	gp_timeline_free(f->tl);
	gp_profile_free(&f->p);
	return 0;
}

static void add(struct fixture *f, enum gp_tl_kind kind, uint32_t th, uint64_t ms_x10,
		enum gp_gil_state st, bool snap, const uint32_t *locs, uint32_t n)
{
	assert_int_equal(gp_timeline_add(f->tl, kind, th, T0 + ms_x10 * MS / 10, st, snap, locs, n),
			 0);
}

/* The slices of thread th, checked to follow each other from T0 to end. */
static size_t thread_slices(const struct gp_timeline *tl, uint32_t th, uint64_t end,
			    const struct gp_tl_slice **out)
{
	size_t n = 0;
	uint64_t at = T0;

	for (size_t i = 0; i < tl->nslices; i++) {
		const struct gp_tl_slice *s = &tl->slices[i];

		if (s->thread != th)
			continue;
		assert_int_equal(s->start, at);
		assert_true(s->end > s->start);
		if (n)
			assert_int_not_equal(out[n - 1]->state, s->state);
		at = s->end;
		out[n++] = s;
	}
	assert_int_equal(at, end);
	return n;
}

static void expect(const struct gp_tl_slice *s, uint8_t state, uint64_t from_x10, uint64_t to_x10)
{
	assert_int_equal(s->state, state);
	assert_int_equal(s->start, T0 + from_x10 * MS / 10);
	assert_int_equal(s->end, T0 + to_x10 * MS / 10);
}

/* A holds the GIL, hands it to B, takes it back, exits; C sleeps. */
static void hand_over(struct fixture *f)
{
	uint32_t sa[] = { f->loc_a }, sb[] = { f->loc_b };

	/* Records arrive per CPU: not in time order. */
	add(f, GP_TL_OFF, f->b, 20, GP_STATE_WAITING, false, NULL, 0);     /* B blocks in take_gil */
	add(f, GP_TL_STATE, f->a, 10, GP_STATE_HOLDING, false, sa, 1);     /* A's first sample */
	add(f, GP_TL_STATE, f->a, 50, GP_STATE_WAITING, false, sa, 1);     /* later samples: ignored */
	add(f, GP_TL_RELEASE, f->a, 100, GP_STATE_NONE, false, NULL, 0);
	add(f, GP_TL_ON, f->b, 105, GP_STATE_NONE, false, NULL, 0);
	add(f, GP_TL_ACQUIRE, f->b, 110, GP_STATE_NONE, false, sa, 1);     /* hand-off A -> B */
	add(f, GP_TL_OFF, f->a, 120, GP_STATE_WAITING, false, sb, 1);
	add(f, GP_TL_RELEASE, f->b, 200, GP_STATE_NONE, false, NULL, 0);
	add(f, GP_TL_ON, f->a, 202, GP_STATE_NONE, false, NULL, 0);
	add(f, GP_TL_ACQUIRE, f->a, 210, GP_STATE_NONE, false, NULL, 0);   /* B -> A, no stack sent */
	add(f, GP_TL_OFF, f->b, 300, GP_STATE_IDLE, false, NULL, 0);
	add(f, GP_TL_EXIT, f->a, 500, GP_STATE_NONE, false, NULL, 0);
	f->p.threads[f->a]->last_ns = T0 + 50 * MS;
	/* C: off CPU since before the start (snapshot), wakes at 40 ms */
	add(f, GP_TL_OFF, f->c, 0, GP_STATE_IDLE, true, NULL, 0);
	add(f, GP_TL_ON, f->c, 400, GP_STATE_NONE, false, NULL, 0);
	add(f, GP_TL_OFF, f->c, 450, GP_STATE_IDLE, false, NULL, 0);
	assert_int_equal(gp_timeline_finish(f->tl, &f->p, END), 0);
}

static void test_two_threads_hand_over(void **state)
{
	struct fixture *f = *state;
	const struct gp_tl_slice *s[16];
	size_t n;

	hand_over(f);

	n = thread_slices(f->tl, f->a, T0 + 50 * MS, s);
	assert_int_equal(n, 4);
	expect(s[0], GP_STATE_HOLDING, 0, 100);
	expect(s[1], GP_STATE_RELEASED, 100, 120);
	expect(s[2], GP_STATE_WAITING, 120, 210); /* back on CPU at 20.2 ms, still in take_gil */
	expect(s[3], GP_STATE_HOLDING, 210, 500);

	n = thread_slices(f->tl, f->b, END, s);
	assert_int_equal(n, 5);
	expect(s[0], GP_STATE_RELEASED, 0, 20);
	expect(s[1], GP_STATE_WAITING, 20, 110);
	expect(s[2], GP_STATE_HOLDING, 110, 200);
	expect(s[3], GP_STATE_RELEASED, 200, 300);
	expect(s[4], GP_STATE_IDLE, 300, 1000);

	n = thread_slices(f->tl, f->c, END, s);
	assert_int_equal(n, 3);
	expect(s[0], GP_STATE_IDLE, 0, 400);
	expect(s[1], GP_STATE_RELEASED, 400, 450);
	expect(s[2], GP_STATE_IDLE, 450, 1000);

	assert_int_equal(f->tl->nhandoffs, 2);
	assert_int_equal(f->tl->handoffs[0].from, f->a);
	assert_int_equal(f->tl->handoffs[0].to, f->b);
	assert_int_equal(f->tl->handoffs[0].ts, T0 + 11 * MS);
	assert_int_equal(gp_tl_stack(f->tl, f->tl->handoffs[0].stack)->locs[0], f->loc_a);
	assert_int_equal(f->tl->handoffs[1].from, f->b);
	assert_int_equal(f->tl->handoffs[1].to, f->a);
	/* no stack sent: the one A switched out with (it cannot change without the GIL) */
	assert_int_equal(gp_tl_stack(f->tl, f->tl->handoffs[1].stack)->locs[0], f->loc_b);
	assert_int_equal(f->tl->missed_releases, 0);

	/* threads waiting: B 2..11 ms, A 12..21 ms */
	assert_int_equal(f->tl->nwaiters, 4);
	assert_int_equal(f->tl->waiters[0].ts, T0 + 2 * MS);
	assert_int_equal(f->tl->waiters[0].n, 1);
	assert_int_equal(f->tl->waiters[1].ts, T0 + 11 * MS);
	assert_int_equal(f->tl->waiters[1].n, 0);
	assert_int_equal(f->tl->waiters[2].n, 1);
	assert_int_equal(f->tl->waiters[3].ts, T0 + 21 * MS);
	assert_int_equal(f->tl->waiters[3].n, 0);
}

/* A record as the session hands it to an estimated timeline: the guess first. */
static void seen(struct fixture *f, enum gp_tl_kind kind, uint32_t th, uint64_t ms_x10,
		 enum gp_gil_state st, const uint32_t *locs, uint32_t n)
{
	uint64_t ts = T0 + ms_x10 * MS / 10;

	int keep = gp_timeline_guess(f->tl, kind, th, ts, st, false);

	assert_true(keep >= 0);
	if (keep)
		assert_int_equal(gp_timeline_add(f->tl, kind, th, ts, st, false, locs, n), 0);
}

/*
 * No GIL trace: A spins holding, is made to drop (switched out waiting),
 * B (blocked waiting) is switched in and seen holding: the hand-off is at
 * B's switch-in, A's hold ends at its switch-out; later A is woken and
 * first seen holding on CPU, B blocks in I/O without the GIL.
 */
static void test_estimated_from_states(void **state)
{
	struct fixture *f = *state;
	const struct gp_tl_slice *s[16];
	uint32_t sb[] = { f->loc_b };
	size_t n;

	gp_timeline_free(f->tl);
	f->tl = gp_timeline_new_estimate(T0);
	assert_non_null(f->tl);
	assert_true(f->tl->estimated);
	seen(f, GP_TL_STATE, f->a, 10, GP_STATE_HOLDING, NULL, 0);   /* A holds from the start */
	seen(f, GP_TL_OFF, f->b, 20, GP_STATE_WAITING, sb, 1);       /* B waits */
	seen(f, GP_TL_STATE, f->a, 80, GP_STATE_HOLDING, NULL, 0);
	seen(f, GP_TL_OFF, f->a, 100, GP_STATE_WAITING, NULL, 0);    /* A let go */
	seen(f, GP_TL_ON, f->b, 101, GP_STATE_NONE, NULL, 0);
	seen(f, GP_TL_STATE, f->b, 150, GP_STATE_HOLDING, NULL, 0);  /* B took it at 10.1 ms */
	seen(f, GP_TL_ON, f->a, 300, GP_STATE_NONE, NULL, 0);        /* a wake-up that... */
	seen(f, GP_TL_OFF, f->a, 301, GP_STATE_WAITING, NULL, 0);    /* ...was no acquisition */
	seen(f, GP_TL_OFF, f->b, 400, GP_STATE_IDLE, NULL, 0);       /* B blocks in I/O */
	seen(f, GP_TL_ON, f->a, 402, GP_STATE_NONE, NULL, 0);
	seen(f, GP_TL_STATE, f->a, 480, GP_STATE_HOLDING, NULL, 0);  /* A took it at 40.2 ms */
	assert_int_equal(gp_timeline_finish(f->tl, &f->p, END), 0);

	n = thread_slices(f->tl, f->a, END, s);
	assert_int_equal(n, 3);
	expect(s[0], GP_STATE_HOLDING, 0, 100);
	expect(s[1], GP_STATE_WAITING, 100, 402);
	expect(s[2], GP_STATE_HOLDING, 402, 1000);
	n = thread_slices(f->tl, f->b, END, s);
	assert_int_equal(n, 4);
	expect(s[0], GP_STATE_RELEASED, 0, 20);
	expect(s[1], GP_STATE_WAITING, 20, 101);
	expect(s[2], GP_STATE_HOLDING, 101, 400);
	expect(s[3], GP_STATE_IDLE, 400, 1000);
	assert_int_equal(f->tl->nhandoffs, 2);
	assert_int_equal(f->tl->handoffs[0].from, f->a);
	assert_int_equal(f->tl->handoffs[0].to, f->b);
	assert_int_equal(f->tl->handoffs[0].ts, T0 + 101 * MS / 10);
	/* the stack B waited with is the one that acquired */
	assert_int_equal(gp_tl_stack(f->tl, f->tl->handoffs[0].stack)->locs[0], f->loc_b);
	assert_int_equal(f->tl->handoffs[1].ts, T0 + 402 * MS / 10);
}

static void test_missed_release_ends_holding(void **state)
{
	struct fixture *f = *state;
	const struct gp_tl_slice *s[16];

	/* before the window: C hands the GIL to A (no hand-off shown) */
	assert_int_equal(gp_timeline_add(f->tl, GP_TL_ACQUIRE, f->c, T0 - 2 * MS, GP_STATE_NONE,
					 false, NULL, 0), 0);
	assert_int_equal(gp_timeline_add(f->tl, GP_TL_RELEASE, f->c, T0 - MS, GP_STATE_NONE,
					 false, NULL, 0), 0);
	assert_int_equal(gp_timeline_add(f->tl, GP_TL_ACQUIRE, f->a, T0 - MS / 2, GP_STATE_NONE,
					 false, NULL, 0), 0);
	add(f, GP_TL_ACQUIRE, f->b, 50, GP_STATE_NONE, false, NULL, 0);
	add(f, GP_TL_STATE, f->a, 10, GP_STATE_HOLDING, false, NULL, 0);
	add(f, GP_TL_RELEASE, f->b, 80, GP_STATE_NONE, false, NULL, 0);
	add(f, GP_TL_ACQUIRE, f->a, 90, GP_STATE_NONE, false, NULL, 0);
	assert_int_equal(gp_timeline_finish(f->tl, &f->p, END), 0);

	/* B acquired at 5 ms while A was never seen releasing: A stops holding */
	assert_int_equal(f->tl->handoffs[0].ts, T0 + 5 * MS);
	assert_int_equal(thread_slices(f->tl, f->a, END, s), 3);
	expect(s[0], GP_STATE_HOLDING, 0, 50);
	expect(s[1], GP_STATE_RELEASED, 50, 90);
	expect(s[2], GP_STATE_HOLDING, 90, 1000);
	assert_int_equal(thread_slices(f->tl, f->b, END, s), 3);
	expect(s[1], GP_STATE_HOLDING, 50, 80);
	assert_int_equal(f->tl->missed_releases, 1);
	assert_int_equal(f->tl->nhandoffs, 2);
	/* a thread whose GIL events all came before the window: released */
	assert_int_equal(thread_slices(f->tl, f->c, END, s), 1);
	expect(s[0], GP_STATE_RELEASED, 0, 1000);
}

/*
 * B was inside take_gil when the uprobes were attached: the uretprobe never
 * fires for that call, so B's first GIL event is a release. A held the GIL
 * at the start (its release comes first); B took it then, not before.
 */
static void test_missed_acquire_is_placed_after_the_release(void **state)
{
	struct fixture *f = *state;
	const struct gp_tl_slice *s[16];

	add(f, GP_TL_RELEASE, f->a, 50, GP_STATE_NONE, false, NULL, 0);
	add(f, GP_TL_STATE, f->b, 60, GP_STATE_HOLDING, false, NULL, 0);
	add(f, GP_TL_RELEASE, f->b, 100, GP_STATE_NONE, false, NULL, 0);
	add(f, GP_TL_ACQUIRE, f->a, 101, GP_STATE_NONE, false, NULL, 0);
	assert_int_equal(gp_timeline_finish(f->tl, &f->p, END), 0);

	assert_int_equal(thread_slices(f->tl, f->a, END, s), 3);
	expect(s[0], GP_STATE_HOLDING, 0, 50);
	expect(s[1], GP_STATE_RELEASED, 50, 101);
	expect(s[2], GP_STATE_HOLDING, 101, 1000);
	assert_int_equal(thread_slices(f->tl, f->b, END, s), 3);
	expect(s[0], GP_STATE_RELEASED, 0, 50);
	expect(s[1], GP_STATE_HOLDING, 50, 100);
	expect(s[2], GP_STATE_RELEASED, 100, 1000);
	assert_int_equal(f->tl->missed_acquires, 1);
	assert_int_equal(f->tl->missed_releases, 0);
	assert_int_equal(f->tl->nhandoffs, 2);
	assert_int_equal(f->tl->handoffs[0].from, f->a);
	assert_int_equal(f->tl->handoffs[0].to, f->b);
	assert_int_equal(f->tl->handoffs[0].ts, T0 + 5 * MS);
}

static void test_events_outside_a_life_are_dropped(void **state)
{
	struct fixture *f = *state;
	const struct gp_tl_slice *s[16];

	f->p.threads[f->c]->first_ns = T0 + 30 * MS; /* started in the recording */
	f->p.threads[f->c]->last_ns = T0 + 60 * MS;
	add(f, GP_TL_ACQUIRE, f->c, 400, GP_STATE_NONE, false, NULL, 0);
	add(f, GP_TL_RELEASE, f->c, 700, GP_STATE_NONE, false, NULL, 0); /* after its end */
	add(f, GP_TL_ACQUIRE, 99, 450, GP_STATE_NONE, false, NULL, 0);   /* not a thread */
	assert_int_equal(gp_timeline_finish(f->tl, &f->p, END), 0);
	assert_int_equal(f->tl->nslices, 2 + 2);
	assert_int_equal(f->tl->slices[2].thread, f->c);
	expect(&f->tl->slices[2], GP_STATE_RELEASED, 300, 400);
	expect(&f->tl->slices[3], GP_STATE_HOLDING, 400, 600);
	assert_int_equal(thread_slices(f->tl, f->a, END, s), 1);
}

/* The target exec'd holding the GIL: the timeline ends there, not later. */
static void test_exec_ends_the_timeline(void **state)
{
	struct fixture *f = *state;
	const struct gp_tl_slice *s[16];

	add(f, GP_TL_ACQUIRE, f->a, 100, GP_STATE_NONE, false, NULL, 0);
	gp_timeline_end_at_exec(f->tl, T0 + 30 * MS);
	/* the new program's events: a GIL at another address, new states */
	add(f, GP_TL_RELEASE, f->a, 400, GP_STATE_NONE, false, NULL, 0);
	add(f, GP_TL_ACQUIRE, f->b, 500, GP_STATE_NONE, false, NULL, 0);
	gp_timeline_end_at_exec(f->tl, T0 + 60 * MS); /* only the first counts */
	assert_int_equal(gp_timeline_finish(f->tl, &f->p, END), 0);
	assert_true(f->tl->exec_cut);
	assert_false(f->tl->truncated);
	assert_int_equal(f->tl->t_end, T0 + 30 * MS);
	assert_int_equal(thread_slices(f->tl, f->a, T0 + 30 * MS, s), 2);
	expect(s[0], GP_STATE_RELEASED, 0, 100);
	expect(s[1], GP_STATE_HOLDING, 100, 300);
	assert_int_equal(thread_slices(f->tl, f->b, T0 + 30 * MS, s), 1);
	expect(s[0], GP_STATE_RELEASED, 0, 300);
	assert_int_equal(f->tl->nhandoffs, 0); /* nobody held it before A */
}

static struct json_object *key(struct json_object *o, const char *k)
{
	struct json_object *v = NULL;

	assert_true(json_object_object_get_ex(o, k, &v));
	return v;
}

/* The Chrome Trace writer: one X per slice, one instant per hand-off. */
static void test_chrometrace_writer(void **state)
{
	struct fixture *f = *state;
	struct json_object *doc, *events, *first_x = NULL, *handoff = NULL;
	size_t nx = 0, ni = 0, nc = 0, nm = 0;
	char *text;

	hand_over(f);
	f->p.pid = 10;
	snprintf(f->p.threads[f->b]->name, sizeof(f->p.threads[f->b]->name), "worker");
	f->p.timeline = f->tl;
	text = writer_text(gp_write_chrometrace, &f->p);
	f->p.timeline = NULL;
	doc = json_tokener_parse(text);
	assert_non_null(doc);
	events = key(doc, "traceEvents");
	for (size_t i = 0; i < json_object_array_length(events); i++) {
		struct json_object *e = json_object_array_get_idx(events, i);
		const char *ph = json_object_get_string(key(e, "ph"));

		if (!strcmp(ph, "X") && !nx++)
			first_x = e;
		if (!strcmp(ph, "i") && !ni++)
			handoff = e;
		nc += !strcmp(ph, "C");
		nm += !strcmp(ph, "M");
	}
	/* every slice, and the holding ones again on the GIL's track */
	assert_int_equal(nx, f->tl->nslices + 3);
	assert_int_equal(ni, 2);
	assert_int_equal(nc, f->tl->nwaiters);
	/* process name; per thread (and the GIL track) name and sort index */
	assert_int_equal(nm, 1 + 2 * (3 + 1));
	/* microseconds from the start, exact to the nanosecond */
	assert_string_equal(json_object_to_json_string(key(first_x, "ts")), "0.000");
	assert_string_equal(json_object_to_json_string(key(first_x, "dur")), "10000.000");
	assert_string_equal(json_object_get_string(key(first_x, "name")), "holding");
	assert_int_equal(json_object_get_int(key(first_x, "tid")), 11);
	assert_string_equal(json_object_to_json_string(key(handoff, "ts")), "11000.000");
	assert_int_equal(json_object_get_int(key(handoff, "tid")), 12);
	assert_int_equal(json_object_get_int(key(key(handoff, "args"), "from_tid")), 11);
	assert_string_equal(json_object_get_string(key(key(handoff, "args"), "to")), "worker");
	assert_string_equal(
		json_object_get_string(json_object_array_get_idx(key(key(handoff, "args"), "stack"), 0)),
		"spin (a.py:2)");
	assert_string_equal(json_object_get_string(key(key(doc, "otherData"), "gil_events")),
			    "uprobes");
	json_object_put(doc);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_two_threads_hand_over, setup, teardown),
		cmocka_unit_test_setup_teardown(test_estimated_from_states, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missed_release_ends_holding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missed_acquire_is_placed_after_the_release, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_events_outside_a_life_are_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exec_ends_the_timeline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chrometrace_writer, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
