// SPDX-License-Identifier: BSD-2-Clause
/*
 * Code-object cache and symbolizer over fake target memory laid out with
 * the real 3.12 layout: names, lines, address reuse, incomplete frames and
 * the markers for stacks that could not be read whole.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pycode.h"
#include "pyversion.h"
#include "symbolize.h"
#include "fake_target.h"

#define BASE 0x100000
#define MEMSZ 0x4000
#define CODE_TYPE 0xc0de
#define CODE_A (BASE + 0x000)
#define CODE_B (BASE + 0x400)
#define STRS (BASE + 0x1000)

static uint8_t mem[MEMSZ];
static const struct py_layout *L;
static struct fake_target fake = { mem, BASE, STRS, NULL };

static void put64(uint64_t addr, uint64_t v) { fake_put64(&fake, addr, v); }
static void put32(uint64_t addr, int32_t v) { fake_put32(&fake, addr, v); }
static uint64_t ascii_str(const char *s) { return fake_ascii_str(&fake, s); }
static uint64_t bytes_obj(const uint8_t *b, size_t n) { return fake_bytes(&fake, b, n); }

/* A code object: firstlineno, one location entry per line (2 units each). */
static void code_obj(uint64_t at, const char *name, const char *qualname, int first, int ntrace)
{
	/* code 13 (no column), 2 units, line +0; then +1, +2 */
	static const uint8_t tab[] = { 0x80 | 13 << 3 | 1, 0, 0x80 | 13 << 3 | 1, 2,
				       0x80 | 13 << 3 | 1, 2 };

	put64(at + L->ob_type, CODE_TYPE);
	put32(at + L->code_firstlineno, first);
	put32(at + L->code_firsttraceable, ntrace);
	put64(at + L->code_name, ascii_str(name));
	put64(at + L->code_qualname, ascii_str(qualname));
	put64(at + L->code_filename, ascii_str("app.py"));
	put64(at + L->code_linetable, bytes_obj(tab, sizeof(tab)));
}

static int setup(void **state)
{
	(void)state;
	L = gp_layout_for(0x030c0000, false);
	memset(mem, 0, sizeof(mem));
	fake.L = L;
	fake.next = STRS;
	code_obj(CODE_A, "run", "Worker.run", 10, 0);
	code_obj(CODE_B, "<lambda>", "f.<locals>.<lambda>", 20, 1);
	return 0;
}

static struct gp_mem_buf membuf = { BASE, mem, MEMSZ };

static void test_cache_and_names(void **state)
{
	struct gp_code_cache c;
	struct gp_code *a, *again;

	(void)state;
	gp_code_cache_init(&c, L, gp_mem_buffer(&membuf), CODE_TYPE);
	a = gp_code_get(&c, CODE_A, 10, 1);
	assert_non_null(a);
	assert_string_equal(a->name, "run");
	assert_string_equal(gp_code_display_name(a), "Worker.run");
	assert_int_equal(gp_code_lasti(a, L->code_linetable_format, 0)->line, 10);
	assert_int_equal(gp_code_lasti(a, L->code_linetable_format, 4)->line, 11);
	assert_int_equal(gp_code_lasti(a, L->code_linetable_format, 10)->line, 12);
	again = gp_code_get(&c, CODE_A, 10, 2);
	assert_ptr_equal(again, a);
	assert_int_equal(c.loads, 1);

	/* The address now holds other code: the sampler saw another first line. */
	code_obj(CODE_A, "other", "other", 50, 0);
	a = gp_code_get(&c, CODE_A, 50, 3);
	assert_non_null(a);
	assert_string_equal(a->name, "other");
	assert_int_equal(c.reloads, 1);

	/* Same first line, different object: found by the periodic re-check. */
	code_obj(CODE_A, "third", "third", 50, 0);
	a = gp_code_get(&c, CODE_A, 50, 4);
	assert_string_equal(a->name, "other"); /* within the re-check interval */
	a = gp_code_get(&c, CODE_A, 50, 4 + GP_CODE_RECHECK_NS);
	assert_string_equal(a->name, "third");

	/* The process is gone (samples read after it exited): the entry stands. */
	membuf.len = 0;
	a = gp_code_get(&c, CODE_A, 50, 5 + 2 * GP_CODE_RECHECK_NS);
	assert_non_null(a);
	assert_string_equal(a->name, "third");
	membuf.len = MEMSZ;

	/* Not a code object, or unmapped: no entry. */
	assert_null(gp_code_get(&c, STRS, 0, 5));
	assert_null(gp_code_get(&c, 0xdead0000, 0, 5));
	assert_int_equal(c.failures, 2);
	gp_code_cache_free(&c);
}

static void test_display_name_rules(void **state)
{
	struct gp_code c = { 0 };

	(void)state;
	c.name = "<lambda>";
	c.qualname = "f.<locals>.<lambda>";
	assert_string_equal(gp_code_display_name(&c), "f.<locals>.<lambda>");
	c.name = "renamed";   /* code.replace(co_name=...) keeps the old qualname */
	assert_string_equal(gp_code_display_name(&c), "renamed");
	c.qualname = NULL;    /* 3.9/3.10 */
	assert_string_equal(gp_code_display_name(&c), "renamed");
}

static char *loc_text(const struct gp_profile *p, uint32_t id)
{
	static char buf[256];
	const struct gp_location *l = gp_loc(p, id);

	snprintf(buf, sizeof(buf), "%s:%d", gp_func(p, l->func)->name, l->line);
	return buf;
}

static void test_symbolize_sample(void **state)
{
	struct gp_sample *s = calloc(1, sizeof(*s));
	struct gp_symbolizer sym;
	struct gp_profile prof;
	uint32_t locs[GP_STACK_MAX], n;

	(void)state;
	gp_profile_init(&prof);
	gp_symbolizer_init(&sym, &prof, L, gp_mem_buffer(&membuf), CODE_TYPE, GP_MAX_FRAMES);
	s->flags = GP_SAMPLE_HAS_TSTATE;
	/* innermost first: B not yet started (before RESUME), A at line 12, bad code */
	s->frames[0] = (struct gp_frame){ .code = CODE_B, .lasti = 0, .firstlineno = 20 };
	s->frames[1] = (struct gp_frame){ .code = CODE_A, .lasti = 8, .firstlineno = 10 };
	s->frames[2] = (struct gp_frame){ .code = 0xdead0000, .lasti = 0, .firstlineno = 1 };
	s->nframes = 3;
	s->walk_end = GP_WALK_DEPTH;
	n = gp_symbolize_python(&sym, s, 1, locs);
	assert_int_equal(n, 3);
	assert_string_equal(loc_text(&prof, locs[0]), "[truncated: deeper than 1024 frames]:0");
	assert_string_equal(loc_text(&prof, locs[1]), "[unreadable code object]:0");
	assert_string_equal(loc_text(&prof, locs[2]), "Worker.run:12");
	assert_int_equal(sym.frames_skipped, 1);

	/* the generator flag keeps a frame that looks not started */
	s->frames[0].flags = GP_FRAME_GENERATOR;
	s->nframes = 1;
	s->walk_end = GP_WALK_COMPLETE;
	n = gp_symbolize_python(&sym, s, 1, locs);
	assert_int_equal(n, 1);
	assert_string_equal(loc_text(&prof, locs[0]), "f.<locals>.<lambda>:20");

	s->nframes = 0;
	s->walk_end = GP_WALK_NO_FRAME;
	n = gp_symbolize_python(&sym, s, 1, locs);
	assert_string_equal(loc_text(&prof, locs[0]), "[no Python frame]:0");
	s->flags = 0;
	n = gp_symbolize_python(&sym, s, 1, locs);
	assert_int_equal(n, 1);
	assert_string_equal(loc_text(&prof, locs[0]), "[no Python thread state]:0");

	gp_symbolizer_free(&sym);
	gp_profile_free(&prof);
	free(s);
}

/*
 * The memo of recent stacks (stackmemo.c) gives what symbolizing again
 * would: the same locations, the incomplete frames counted each time, a
 * code object replaced at its address found at the same re-check, and a
 * stack with an unreadable code object never remembered.
 */
static void test_memo_is_exact(void **state)
{
	struct gp_sample *s = calloc(1, sizeof(*s));
	struct gp_symbolizer sym;
	struct gp_profile prof;
	uint32_t locs[GP_STACK_MAX], first[GP_STACK_MAX], n, n1;
	const uint64_t code_c = BASE + 0x800;

	(void)state;
	gp_profile_init(&prof);
	gp_symbolizer_init(&sym, &prof, L, gp_mem_buffer(&membuf), CODE_TYPE, GP_MAX_FRAMES);
	s->flags = GP_SAMPLE_HAS_TSTATE;
	s->frames[0] = (struct gp_frame){ .code = CODE_B, .lasti = 4, .firstlineno = 20 };
	s->frames[1] = (struct gp_frame){ .code = CODE_A, .lasti = 8, .firstlineno = 10 };
	s->nframes = 2;
	s->walk_end = GP_WALK_COMPLETE;
	n1 = gp_symbolize_python(&sym, s, 1, first);
	assert_int_equal(n1, 2);
	assert_int_equal(sym.memo.hits, 0);
	n = gp_symbolize_python(&sym, s, 2, locs);
	assert_int_equal(sym.memo.hits, 1);
	assert_int_equal(n, n1);
	assert_memory_equal(locs, first, n * sizeof(*locs));
	assert_string_equal(loc_text(&prof, locs[0]), "Worker.run:12");

	/* Other code at A's address, same first line: seen at the re-check, not before. */
	code_obj(CODE_A, "moved", "moved", 10, 0);
	n = gp_symbolize_python(&sym, s, 3, locs);
	assert_string_equal(loc_text(&prof, locs[0]), "Worker.run:12");
	n = gp_symbolize_python(&sym, s, 1 + GP_CODE_RECHECK_NS, locs);
	assert_int_equal(n, 2);
	assert_string_equal(loc_text(&prof, locs[0]), "moved:12");

	/* A frame not yet started is left out, and counted, on every record. */
	s->frames[0].lasti = 0;
	sym.frames_skipped = 0;
	n = gp_symbolize_python(&sym, s, 5 + GP_CODE_RECHECK_NS, locs);
	n1 = gp_symbolize_python(&sym, s, 6 + GP_CODE_RECHECK_NS, locs);
	assert_int_equal(n, 1);
	assert_int_equal(n1, 1);
	assert_int_equal(sym.frames_skipped, 2);

	/* Unreadable now, readable later: the later record is named. */
	s->frames[0] = (struct gp_frame){ .code = code_c, .lasti = 0, .firstlineno = 30 };
	s->nframes = 1;
	n = gp_symbolize_python(&sym, s, 7 + GP_CODE_RECHECK_NS, locs);
	assert_string_equal(loc_text(&prof, locs[0]), "[unreadable code object]:0");
	code_obj(code_c, "late", "late", 30, 0);
	n = gp_symbolize_python(&sym, s, 8 + GP_CODE_RECHECK_NS, locs);
	assert_int_equal(n, 1);
	assert_string_equal(loc_text(&prof, locs[0]), "late:30");

	gp_symbolizer_free(&sym);
	gp_profile_free(&prof);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_cache_and_names, setup),
		cmocka_unit_test(test_display_name_rules),
		cmocka_unit_test_setup(test_symbolize_sample, setup),
		cmocka_unit_test_setup(test_memo_is_exact, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
