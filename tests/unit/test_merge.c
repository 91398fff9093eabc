// SPDX-License-Identifier: BSD-2-Clause
/*
 * Merging native and Python frames: eval frames replaced by the Python
 * frames of their call in true order, plumbing hidden, cut walks marked
 * where frames are missing, disagreeing stacks kept apart.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "merge.h"

#define O GP_NK_OTHER
#define E GP_NK_EVAL
#define P GP_NK_PLUMBING

/* Render items as "n3 p1 [ncut] ..." root first, for readable asserts. */
static const char *render(const struct gp_merge_item *it, uint32_t n)
{
	static char buf[512];
	size_t len = 0;

	buf[0] = '\0';
	for (uint32_t i = 0; i < n; i++) {
		const char *sep = i ? " " : "";

		switch (it[i].kind) {
		case GP_MI_NATIVE:
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%sn%u", sep, it[i].idx);
			break;
		case GP_MI_PYTHON:
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%sp%u", sep, it[i].idx);
			break;
		case GP_MI_NATIVE_CUT:
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s[ncut]", sep);
			break;
		case GP_MI_PYTHON_CUT:
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s[pcut]", sep);
			break;
		case GP_MI_MISMATCH:
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s[mismatch]", sep);
			break;
		default:
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s[native]", sep);
			break;
		}
	}
	return buf;
}

static const char *merge(const uint8_t *kinds, uint32_t nn, bool ncomplete, const bool *entry,
			 uint32_t npy, bool pcomplete, bool plumbing, bool *mismatch)
{
	struct gp_merge_item items[64];
	struct gp_merge_in in = {
		.native_kind = kinds, .nnative = nn, .native_complete = ncomplete,
		.py_entry = entry, .npy = npy, .py_complete = pcomplete, .show_plumbing = plumbing,
	};
	bool dummy;
	uint32_t n = gp_merge(&in, items, 64, mismatch ? mismatch : &dummy);

	return render(items, n);
}

/*
 * <module> -> py_outer -> gpn_call_back (C) -> py_callback -> time_time (C),
 * as 3.11+ runs it: <module> and py_outer share one eval call.
 * native innermost first: 0 time_time, 1 EVAL, 2 _PyEval_Vector,
 * 3 PyObject_CallObject, 4 gpn_call_back, 5 cfunction_vectorcall_O,
 * 6 EVAL, 7 run_mod, 8 main. Python: 0 py_callback (entry), 1 py_outer,
 * 2 <module> (entry).
 */
static const uint8_t chain_kinds[] = { O, E, P, P, O, P, E, O, O };
static const bool chain_entry[] = { true, false, true };

static void test_python_c_python_in_order(void **state)
{
	bool mismatch = true;

	(void)state;
	assert_string_equal(merge(chain_kinds, 9, true, chain_entry, 3, true, false, &mismatch),
			    "n8 n7 p2 p1 n4 p0 n0");
	assert_false(mismatch);
	/* --native-all: the plumbing too, in its place. */
	assert_string_equal(merge(chain_kinds, 9, true, chain_entry, 3, true, true, NULL),
			    "n8 n7 p2 p1 n5 n4 n3 n2 p0 n0");
}

static void test_each_frame_its_own_eval_call(void **state)
{
	/* 3.9/3.10: every Python frame is an eval call of its own. */
	static const uint8_t kinds[] = { E, P, E, P, E, O };
	static const bool entry[] = { true, true, true };

	(void)state;
	assert_string_equal(merge(kinds, 6, true, entry, 3, true, false, NULL), "n5 p2 p1 p0");
}

static void test_plumbing_leaf_is_kept(void **state)
{
	/* Where the thread was is never hidden. */
	static const uint8_t kinds[] = { P, E, O };
	static const bool entry[] = { true };

	(void)state;
	assert_string_equal(merge(kinds, 3, true, entry, 1, true, false, NULL), "n2 p0 n0");
}

static void test_disagreement_keeps_both(void **state)
{
	/* Two eval calls on the C stack, one in the Python frames (an eval
	 * call in its prologue): no guessing. */
	static const uint8_t kinds[] = { O, E, O, E, O };
	static const bool entry[] = { false, true };
	static const bool three[] = { true, true, true };
	bool mismatch = false;

	(void)state;
	assert_string_equal(merge(kinds, 5, true, entry, 2, true, false, &mismatch),
			    "[mismatch] p1 p0 [native] n4 n3 n2 n1 n0");
	assert_true(mismatch);
	/* More eval calls in the Python frames than on a complete C stack. */
	assert_string_equal(merge(kinds, 5, true, three, 3, true, false, &mismatch),
			    "[mismatch] p2 p1 p0 [native] n4 n3 n2 n1 n0");
	assert_true(mismatch);
}

static void test_native_cut_short(void **state)
{
	/* Unwinding stopped after the innermost eval frame: the outer Python
	 * frames follow the marker, nothing is lost or reordered. */
	static const uint8_t kinds[] = { O, E };
	static const bool entry[] = { true, true, true };
	bool mismatch = true;

	(void)state;
	assert_string_equal(merge(kinds, 2, false, entry, 3, true, false, &mismatch),
			    "p2 p1 [ncut] p0 n0");
	assert_false(mismatch);
	/* Nothing unwound beyond the leaf. */
	assert_string_equal(merge(kinds, 1, false, entry, 3, true, false, &mismatch),
			    "p2 p1 p0 [ncut] n0");
	assert_false(mismatch);
}

static void test_python_cut_short(void **state)
{
	/* The Python walk stopped (depth limit): outer eval frames stay
	 * native, the marker sits where the Python frames are missing. */
	static const uint8_t kinds[] = { O, E, E, O };
	static const uint8_t one[] = { E, O };
	static const bool entry[] = { true };
	static const bool partial[] = { false, false };
	bool mismatch = true;

	(void)state;
	assert_string_equal(merge(kinds, 4, true, entry, 1, false, false, &mismatch),
			    "n3 n2 [pcut] p0 n0");
	assert_false(mismatch);
	/* The outermost eval call's own frames were cut. */
	assert_string_equal(merge(one, 2, true, partial, 2, false, false, &mismatch),
			    "n1 [pcut] p1 p0");
	assert_false(mismatch);
}

static void test_no_python(void **state)
{
	/* A C thread that never ran Python. */
	static const uint8_t kinds[] = { O, O, O };

	(void)state;
	assert_string_equal(merge(kinds, 3, true, NULL, 0, true, false, NULL), "n2 n1 n0");
	/* Python frames, no native frame at all: the marker on top of them. */
	assert_string_equal(merge(kinds, 0, false, chain_entry, 3, true, false, NULL),
			    "p2 p1 p0 [ncut]");
}

static void test_output_bounded(void **state)
{
	struct gp_merge_item items[4];
	struct gp_merge_in in = {
		.native_kind = chain_kinds, .nnative = 9, .native_complete = true,
		.py_entry = chain_entry, .npy = 3, .py_complete = true,
	};
	bool mismatch;

	(void)state;
	assert_true(gp_merge(&in, items, 4, &mismatch) <= 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_python_c_python_in_order),
		cmocka_unit_test(test_each_frame_its_own_eval_call),
		cmocka_unit_test(test_plumbing_leaf_is_kept),
		cmocka_unit_test(test_disagreement_keeps_both),
		cmocka_unit_test(test_native_cut_short),
		cmocka_unit_test(test_python_cut_short),
		cmocka_unit_test(test_no_python),
		cmocka_unit_test(test_output_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
