// SPDX-License-Identifier: BSD-2-Clause
/* Line-table decoders against lines the interpreters themselves reported. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "gilprof.h"
#include "linetable.h"

struct lt_vector {
	const char *version;
	int format;
	int firstlineno;
	const uint8_t *table;
	size_t table_len;
	size_t n;
	const int *offsets;
	const int *lines;
};

#include "linetable_vectors.h"

static void test_every_offset_matches_interpreter(void **state)
{
	(void)state;
	for (size_t v = 0; v < sizeof(lt_vectors) / sizeof(lt_vectors[0]); v++) {
		const struct lt_vector *t = &lt_vectors[v];

		for (size_t i = 0; i < t->n; i++) {
			int got = gp_line_for(t->format, t->table, t->table_len, t->firstlineno,
					      t->offsets[i]);

			if (got != t->lines[i])
				fail_msg("Python %s offset %d: got line %d, interpreter says %d",
					 t->version, t->offsets[i], got, t->lines[i]);
		}
	}
}

static void test_not_started_frame_is_first_line(void **state)
{
	(void)state;
	/* 3.9 f_lasti == -1, 3.10 f_lasti == -1 (-2 bytes), 3.11 prev_instr - 1 unit. */
	for (size_t v = 0; v < sizeof(lt_vectors) / sizeof(lt_vectors[0]); v++) {
		const struct lt_vector *t = &lt_vectors[v];

		assert_int_equal(gp_line_for(t->format, t->table, t->table_len, t->firstlineno, -2),
				 t->firstlineno);
	}
}

static void test_truncated_tables_stay_in_bounds(void **state)
{
	(void)state;
	/* Every prefix of every table decodes without reading past its end. */
	for (size_t v = 0; v < sizeof(lt_vectors) / sizeof(lt_vectors[0]); v++) {
		const struct lt_vector *t = &lt_vectors[v];

		for (size_t len = 0; len <= t->table_len; len++) {
			int line = gp_line_for(t->format, t->table, len, t->firstlineno, 1 << 20);

			assert_true(line == GP_NO_LINE || line > -1000);
		}
	}
}

static void test_offset_past_end_has_no_line(void **state)
{
	const struct lt_vector *t = &lt_vectors[4]; /* 3.13 */

	(void)state;
	assert_int_equal(gp_line_for(t->format, t->table, t->table_len, t->firstlineno, 1 << 20),
			 GP_NO_LINE);
	assert_int_equal(gp_line_for(99, t->table, t->table_len, t->firstlineno, 0), GP_NO_LINE);
	assert_int_equal(gp_line_for(t->format, NULL, 10, t->firstlineno, 0), GP_NO_LINE);
}

static void test_locations_long_form_and_no_location(void **state)
{
	/*
	 * Hand-made 3.11 table: entry 1 = code 14 (long form), 1 unit, line +5,
	 * then end-line/column varints; entry 2 = code 15 (no location), 2 units;
	 * entry 3 = code 13 (no column), 1 unit, line -2.
	 */
	const uint8_t tab[] = { 0x80 | (14 << 3) | 0, 10, 0, 1, 1,
				0x80 | (15 << 3) | 1,
				0x80 | (13 << 3) | 0, 5 };

	(void)state;
	assert_int_equal(gp_line_for(GP_LINETABLE_LOCATIONS, tab, sizeof(tab), 100, 0), 105);
	assert_int_equal(gp_line_for(GP_LINETABLE_LOCATIONS, tab, sizeof(tab), 100, 2), GP_NO_LINE);
	assert_int_equal(gp_line_for(GP_LINETABLE_LOCATIONS, tab, sizeof(tab), 100, 4), GP_NO_LINE);
	assert_int_equal(gp_line_for(GP_LINETABLE_LOCATIONS, tab, sizeof(tab), 100, 6), 103);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_offset_matches_interpreter),
		cmocka_unit_test(test_not_started_frame_is_first_line),
		cmocka_unit_test(test_truncated_tables_stay_in_bounds),
		cmocka_unit_test(test_offset_past_end_has_no_line),
		cmocka_unit_test(test_locations_long_form_and_no_location),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
