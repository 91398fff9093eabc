// SPDX-License-Identifier: BSD-2-Clause
/* The end-of-run report: thread table, contention, top waiting stacks. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "output.h"
#include "profile.h"
#include "writer_text.h"

#define MS 1000000ULL

static char *report_text(const struct gp_profile *p)
{
	return writer_text(gp_write_report, p);
}

static void off(struct gp_profile *p, uint32_t thread, enum gp_gil_state st,
		const uint32_t *stack, uint64_t ns)
{
	struct gp_stack *s = gp_profile_stack(p, thread, st, false, stack, 2);

	assert_non_null(s);
	gp_profile_add_time(s, ns, false);
}

/* Two spinners sharing the GIL over 1 s at 100 Hz, plus a sleeper. */
static void build(struct gp_profile *p, enum gp_mode mode)
{
	uint32_t fs, fw, fr, ls, lw, lr, stack[2];
	struct gp_thread *t[3];

	gp_profile_init(p);
	p->pid = 10;
	p->mode = mode;
	p->rate_hz = 100;
	p->period_ns = 10 * MS;
	p->duration_ns = 1000 * MS;
	p->gil_tracked = true;
	snprintf(p->comm, sizeof(p->comm), "python3");
	snprintf(p->python_version, sizeof(p->python_version), "3.12.1");
	fr = gp_profile_function(p, GP_FUNC_PYTHON, "run", "run", "app.py", 1);
	fs = gp_profile_function(p, GP_FUNC_PYTHON, "spin", "spin", "app.py", 10);
	fw = gp_profile_function(p, GP_FUNC_PYTHON, "nap", "nap", "app.py", 20);
	lr = gp_profile_location(p, fr, 3, 0, 0);
	ls = gp_profile_location(p, fs, 11, 0, 0);
	lw = gp_profile_location(p, fw, 21, 0, 0);
	for (int i = 0; i < 3; i++) {
		t[i] = gp_profile_thread(p, 10, 11 + i);
		t[i]->first_ns = 0;
		t[i]->last_ns = 1000 * MS;
	}
	snprintf(t[2]->name, sizeof(t[2]->name), "sleeper");
	stack[0] = lr;
	stack[1] = ls;
	gp_profile_add(p, t[0]->idx, GP_STATE_HOLDING, false, stack, 2, 40, 400 * MS, 400 * MS);
	gp_profile_add(p, t[0]->idx, GP_STATE_HOLDING, true, stack, 2, 10, 100 * MS, 100 * MS);
	off(p, t[0]->idx, GP_STATE_WAITING, stack, 500 * MS);
	gp_profile_add(p, t[1]->idx, GP_STATE_HOLDING, false, stack, 2, 50, 500 * MS, 500 * MS);
	off(p, t[1]->idx, GP_STATE_WAITING, stack, 300 * MS);
	gp_profile_add(p, t[1]->idx, GP_STATE_RELEASED, false, stack, 2, 20, 200 * MS, 200 * MS);
	stack[1] = lw;
	off(p, t[2]->idx, GP_STATE_IDLE, stack, 990 * MS);
	off(p, t[2]->idx, GP_STATE_WAITING, stack, 10 * MS);
	if (mode == GP_MODE_WALL) {
		p->contention_known = true;
		p->gil_contended_ns = 850 * MS;
	}
	assert_int_equal(gp_profile_apportion(p), 0);
	gp_profile_sort_stacks(p);
}

static void test_wall_report(void **state)
{
	struct gp_profile p;
	char *text, *top;

	(void)state;
	build(&p, GP_MODE_WALL);
	text = report_text(&p);
	assert_non_null(strstr(text, "process 10 (python3, Python 3.12.1), wall mode, 1.00 s at "
				     "100 Hz"));
	/* thread, wall, holding, waiting, released, idle */
	assert_non_null(strstr(text, "\n11                                1.00s     50.0%     50.0%"
				     "      0.0%      0.0%\n"));
	assert_non_null(strstr(text, "\n12                                1.00s     50.0%     30.0%"
				     "     20.0%      0.0%\n"));
	assert_non_null(strstr(text, "\n13 sleeper                        1.00s      0.0%      1.0%"
				     "      0.0%     99.0%\n"));
	assert_non_null(strstr(text, "GIL contention: 85.0% of the wall time"));
	/* spin waited in two threads (0.80 s), nap in one (0.01 s) */
	top = strstr(text, "Top stacks by time waiting");
	assert_non_null(top);
	assert_non_null(strstr(top, "1. 0.80 s (98.8% of all waiting) in 2 threads\n"
				    "      spin (app.py:11)\n      run (app.py:3)\n"));
	assert_non_null(strstr(top, "2. 0.01 s (1.2% of all waiting) in 1 thread\n"
				    "      nap (app.py:21)\n"));
	free(text);
	gp_profile_free(&p);
}

static void test_cpu_report(void **state)
{
	struct gp_profile p;
	char *text;

	(void)state;
	build(&p, GP_MODE_CPU);
	text = report_text(&p);
	assert_non_null(strstr(text, "cpu mode"));
	assert_non_null(strstr(text, "GIL contention: not measured (needs --mode wall)"));
	free(text);
	gp_profile_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wall_report),
		cmocka_unit_test(test_cpu_report),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
