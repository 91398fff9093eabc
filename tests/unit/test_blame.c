// SPDX-License-Identifier: BSD-2-Clause
/*
 * Blame accounting: waiting intervals charged to their holder, wall mode's
 * samples shared among holders, sums by holder stack, holders asleep
 * holding the GIL, and the blame folded file.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "blame.h"
#include "output.h"
#include "profile.h"
#include "wallclock.h"

#define MS 1000000ULL
#define T0 (1000 * MS)

struct fixture {
	struct gp_profile p;
	struct gp_wall w;
	uint32_t loc_wait, loc_hold, loc_other;
	uint32_t holder, waiter, waiter2;
};

static int setup(void **state)
{
	static struct fixture f;
	uint32_t fw, fh;

	memset(&f, 0, sizeof(f));
	gp_profile_init(&f.p);
	f.p.rate_hz = 100;
	f.p.period_ns = 10 * MS;
	f.p.blames = calloc(1, sizeof(*f.p.blames));
	fw = gp_profile_function(&f.p, GP_FUNC_PYTHON, "work", "work", "a.py", 1);
	fh = gp_profile_function(&f.p, GP_FUNC_PYTHON, "holder", "holder", "a.py", 10);
	f.loc_wait = gp_profile_location(&f.p, fw, 2, 0, 0);
	f.loc_hold = gp_profile_location(&f.p, fh, 11, 0, 0);
	f.loc_other = gp_profile_location(&f.p, fh, 12, 0, 0);
	f.holder = gp_profile_thread(&f.p, 10, 11)->idx;
	f.waiter = gp_profile_thread(&f.p, 10, 12)->idx;
	f.waiter2 = gp_profile_thread(&f.p, 10, 13)->idx;
	snprintf(f.p.threads[f.holder]->name, sizeof(f.p.threads[0]->name), "holder");
	gp_wall_init(&f.w, &f.p, T0);
	f.w.blames = f.p.blames;
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

/* thread waits off CPU from `from` to `to` (ms after T0), blamed on b. */
static void wait_for(struct fixture *f, uint32_t thread, uint64_t from, uint64_t to,
		     struct gp_blame **b, bool asleep, uint32_t holder_loc)
{
	struct gp_stack *ws = gp_profile_stack(&f->p, thread, GP_STATE_WAITING, false,
					       &f->loc_wait, 1);

	assert_non_null(ws);
	assert_int_equal(gp_wall_off_cpu(&f->w, thread, T0 + from * MS, false, GP_STATE_WAITING,
					 false, &f->loc_wait, 1),
			 0);
	*b = gp_blame_get(f->p.blames, ws, f->holder + 1, asleep, false, &holder_loc, 1);
	assert_non_null(*b);
	assert_true(gp_wall_blame(&f->w, thread, *b));
	/* one holder per waiting interval */
	assert_false(gp_wall_blame(&f->w, thread, *b));
	assert_int_equal(gp_wall_on_cpu(&f->w, thread, T0 + to * MS, false), 0);
}

static void test_waiting_interval_goes_to_its_holder(void **state)
{
	struct fixture *f = *state;
	struct gp_blame *a, *b, *c;
	struct gp_blame_sum *v;
	size_t n;

	/* The holder sleeps holding the GIL 0-100 ms while two threads wait. */
	assert_int_equal(gp_wall_off_cpu(&f->w, f->holder, T0, false, GP_STATE_HOLDING, false,
					 &f->loc_hold, 1),
			 0);
	gp_wall_blocked(&f->w, f->holder);
	assert_true(gp_wall_holding_asleep(&f->w, f->holder));
	wait_for(f, f->waiter, 0, 50, &a, true, f->loc_hold);
	wait_for(f, f->waiter, 50, 80, &b, true, f->loc_hold);
	wait_for(f, f->waiter2, 0, 80, &c, false, f->loc_other);
	assert_ptr_equal(a, b); /* same waiting stack, holder and holder stack */
	assert_int_equal(a->wait_ns, 80 * MS);
	assert_int_equal(c->wait_ns, 80 * MS);
	assert_int_equal(gp_wall_on_cpu(&f->w, f->holder, T0 + 100 * MS, false), 0);
	gp_wall_stop(&f->w, T0 + 100 * MS);
	assert_int_equal(gp_wall_finish(&f->w), 0);
	assert_int_equal(gp_blames_apportion(f->p.blames), 0);
	/* 80 ms of waiting at 100 Hz: 8 samples each, all explained. */
	assert_int_equal(a->samples, 8);
	assert_int_equal(c->samples, 8);
	assert_int_equal(gp_blames_samples(f->p.blames), 16);

	v = gp_blames_by_holder(f->p.blames, &n);
	assert_non_null(v);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].samples + v[1].samples, 16);
	assert_int_equal(v[0].nwaiters, 1);
	gp_blame_sums_free(v, n);

	/* The holder's sleep: one interval of 100 ms, others waiting 80 of it. */
	assert_int_equal(f->p.blames->nasleep, 1);
	assert_int_equal(f->p.blames->asleep[0].n, 1);
	assert_int_equal(f->p.blames->asleep[0].ns[0], 100 * MS);
	assert_int_equal(f->p.blames->asleep[0].waited_ns, 80 * MS);
}

static void test_blame_folded(void **state)
{
	struct fixture *f = *state;
	struct gp_stack *ws = gp_profile_stack(&f->p, f->waiter, GP_STATE_WAITING, false,
					       &f->loc_wait, 1);
	struct gp_blame *b = gp_blame_get(f->p.blames, ws, f->holder + 1, true, false,
					  &f->loc_hold, 1);
	struct gp_blame *h = gp_blame_get(f->p.blames, ws, GP_BLAME_NOBODY, false, false, NULL, 0);
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	/* cpu mode: counted samples, no apportioning */
	b->samples = 7;
	h->samples = 2;
	assert_int_equal(gp_write_blame(&f->p, out), 0);
	fclose(out);
	assert_string_equal(text, "thread (11 holder);holder (a.py:11);[holding the GIL off CPU] 7\n"
				  "[GIL being handed over] 2\n");
	free(text);
}

static void test_share_keeps_the_unexplained_part(void **state)
{
	struct fixture *f = *state;
	struct gp_stack *ws = gp_profile_stack(&f->p, f->waiter, GP_STATE_WAITING, false,
					       &f->loc_wait, 1);
	struct gp_blame *b = gp_blame_get(f->p.blames, ws, f->holder + 1, false, false,
					  &f->loc_hold, 1);

	/* 10 samples of waiting, 100 ms; only 30 ms of it had a holder record. */
	ws->samples = 10;
	ws->wall_ns = 100 * MS;
	b->wait_ns = 30 * MS;
	assert_int_equal(gp_blames_apportion(f->p.blames), 0);
	assert_int_equal(b->samples, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_waiting_interval_goes_to_its_holder, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_blame_folded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_share_keeps_the_unexplained_part, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
