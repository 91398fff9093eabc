// SPDX-License-Identifier: BSD-2-Clause
/*
 * top's accounting: the interval's time per function (own: the leaf;
 * total: on the stack, once per stack even when recursive) by GIL state,
 * idle time left out unless asked for, per-thread rows, the sort keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "profile.h"
#include "toptable.h"

#define MS 1000000ULL

struct fixture {
	struct gp_profile p;
	struct gp_top_table t;
	uint32_t fmain, fwork, fsleep;
	uint32_t lmain, lwork, lsleep;
	uint32_t th0, th1;
};

static int setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	gp_profile_init(&f.p);
	f.p.mode = GP_MODE_CPU;
	f.p.rate_hz = 100;
	f.p.period_ns = 10 * MS;
	f.fmain = gp_profile_function(&f.p, GP_FUNC_PYTHON, "main", "main", "a.py", 1);
	f.fwork = gp_profile_function(&f.p, GP_FUNC_PYTHON, "work", "work", "a.py", 10);
	f.fsleep = gp_profile_function(&f.p, GP_FUNC_PYTHON, "nap", "nap", "a.py", 20);
	f.lmain = gp_profile_location(&f.p, f.fmain, 2, 0, 0);
	f.lwork = gp_profile_location(&f.p, f.fwork, 11, 0, 0);
	f.lsleep = gp_profile_location(&f.p, f.fsleep, 21, 0, 0);
	f.th0 = gp_profile_thread(&f.p, 10, 10)->idx;
	f.th1 = gp_profile_thread(&f.p, 10, 11)->idx;
	gp_top_init(&f.t);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	gp_top_free(&f->t);
	gp_profile_free(&f->p);
	return 0;
}

static void add(struct fixture *f, uint32_t th, enum gp_gil_state st, const uint32_t *locs,
		uint32_t n, uint64_t samples)
{
	assert_int_equal(gp_profile_add(&f->p, th, st, false, locs, n, samples, 0, 0), 0);
}

static const struct gp_top_row *find(const struct fixture *f, uint32_t func)
{
	for (size_t i = 0; i < f->t.nrows; i++)
		if (f->t.rows[i].func == func)
			return &f->t.rows[i];
	return NULL;
}

static void test_interval_own_total_states(void **state)
{
	struct fixture *f = *state;
	uint32_t work[] = { f->lmain, f->lwork };
	uint32_t recursive[] = { f->lmain, f->lwork, f->lwork };
	uint32_t nap[] = { f->lmain, f->lsleep };
	const struct gp_top_row *r;

	add(f, f->th0, GP_STATE_HOLDING, work, 2, 30);
	add(f, f->th1, GP_STATE_WAITING, work, 2, 10);
	add(f, f->th1, GP_STATE_HOLDING, recursive, 3, 10);
	add(f, f->th0, GP_STATE_IDLE, nap, 2, 50);
	assert_int_equal(gp_top_update(&f->t, &f->p), 0);
	/* Idle left out: 50 samples of work, at 10 ms each. */
	assert_int_equal(f->t.ns, 50 * 10 * MS);
	r = find(f, f->fwork);
	assert_non_null(r);
	assert_int_equal(r->own_ns, 50 * 10 * MS);
	assert_int_equal(r->total_ns, 50 * 10 * MS); /* the recursive stack once */
	assert_int_equal(r->state_ns[GP_STATE_HOLDING], 40 * 10 * MS);
	assert_int_equal(r->state_ns[GP_STATE_WAITING], 10 * 10 * MS);
	r = find(f, f->fmain);
	assert_int_equal(r->own_ns, 0);
	assert_int_equal(r->total_ns, 50 * 10 * MS);
	assert_null(find(f, f->fsleep));
	/* Sorted by own time: work first. */
	assert_int_equal(f->t.rows[0].func, f->fwork);
	assert_int_equal(f->t.threads[f->th0].state_ns[GP_STATE_HOLDING], 30 * 10 * MS);

	/* The next interval holds only what came since. */
	add(f, f->th0, GP_STATE_HOLDING, work, 2, 5);
	assert_int_equal(gp_top_update(&f->t, &f->p), 0);
	assert_int_equal(f->t.ns, 5 * 10 * MS);
	assert_int_equal(find(f, f->fwork)->own_ns, 5 * 10 * MS);

	/* Idle shown: the naps of the next interval count. */
	f->t.idle = true;
	add(f, f->th0, GP_STATE_IDLE, nap, 2, 20);
	assert_int_equal(gp_top_update(&f->t, &f->p), 0);
	assert_int_equal(f->t.ns, 20 * 10 * MS);
	assert_int_equal(find(f, f->fsleep)->own_ns, 20 * 10 * MS);
}

static void test_per_thread_rows_and_sorts(void **state)
{
	struct fixture *f = *state;
	uint32_t work[] = { f->lmain, f->lwork };
	uint32_t nap[] = { f->lmain, f->lsleep };

	add(f, f->th0, GP_STATE_HOLDING, work, 2, 10);
	add(f, f->th1, GP_STATE_WAITING, work, 2, 30);
	add(f, f->th1, GP_STATE_RELEASED, nap, 2, 20);
	f->t.per_thread = true;
	assert_int_equal(gp_top_update(&f->t, &f->p), 0);
	/* work x 2 threads, main x 2 threads, nap x 1 thread */
	assert_int_equal(f->t.nrows, 5);
	assert_int_equal(f->t.rows[0].func, f->fwork);
	assert_int_equal(f->t.rows[0].thread, f->th1);
	f->t.sort = GP_TOP_HOLDING;
	gp_top_sort(&f->t, &f->p);
	assert_int_equal(f->t.rows[0].state_ns[GP_STATE_HOLDING], 10 * 10 * MS);
	assert_int_equal(f->t.rows[0].thread, f->th0);
	f->t.sort = GP_TOP_NAME;
	gp_top_sort(&f->t, &f->p);
	for (size_t i = 1; i < f->t.nrows; i++)
		assert_true(strcmp(gp_func(&f->p, f->t.rows[i - 1].func)->name,
				   gp_func(&f->p, f->t.rows[i].func)->name) <= 0);
	f->t.sort = GP_TOP_WAITING;
	gp_top_sort(&f->t, &f->p);
	assert_int_equal(f->t.rows[0].state_ns[GP_STATE_WAITING], 30 * 10 * MS);
}

static void test_wall_mode_time(void **state)
{
	struct fixture *f = *state;
	uint32_t nap[] = { f->lmain, f->lsleep };
	struct gp_stack *s;

	f->p.mode = GP_MODE_WALL;
	f->t.idle = true;
	/* Wall mode: raw CPU samples at the period, plus closed off-CPU time. */
	s = gp_profile_stack(&f->p, f->th0, GP_STATE_IDLE, false, nap, 2);
	assert_non_null(s);
	s->raw_samples = 3;
	gp_profile_add_time(s, 500 * MS, false);
	assert_int_equal(gp_top_update(&f->t, &f->p), 0);
	assert_int_equal(f->t.ns, 30 * MS + 500 * MS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_interval_own_total_states, setup, teardown),
		cmocka_unit_test_setup_teardown(test_per_thread_rows_and_sorts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wall_mode_time, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
