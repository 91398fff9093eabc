// SPDX-License-Identifier: BSD-2-Clause
/*
 * What the target controls, written to hurt: interpreter lists that loop
 * or run on forever, code objects whose pointers and sizes are garbage,
 * line tables of random bytes, and stacks the kernel cut short. Nothing may
 * crash, loop or read past what it was given; bad stacks get a marker.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "interpreters.h"
#include "linetable.h"
#include "pycode.h"
#include "pyversion.h"
#include "symbolize.h"
#include "fake_target.h"

#define BASE 0x200000
#define MEMSZ 0x10000
#define RUNTIME (BASE + 0x0)
#define INTERPS (BASE + 0x1000) /* interpreter i at INTERPS + i * 0x100 */
#define CODE (BASE + 0x8000)
#define STRS (BASE + 0x9000)
#define CODE_TYPE 0xc0de

static uint8_t mem[MEMSZ];
static struct gp_mem_buf membuf = { BASE, mem, MEMSZ };
static const struct py_layout *L;
static struct fake_target fake = { mem, BASE, STRS, NULL };

static void put64(uint64_t addr, uint64_t v) { fake_put64(&fake, addr, v); }
static void put32(uint64_t addr, int32_t v) { fake_put32(&fake, addr, v); }

static uint64_t interp(int i)
{
	return INTERPS + (uint64_t)i * 0x100;
}

/* An interpreter (layout of L, offsets are small for every version). */
static void make_interp(int i, int64_t id, uint64_t next)
{
	put64(interp(i) + L->interp_id, (uint64_t)id);
	put64(interp(i) + L->interp_next, next);
}

static int setup(void **state)
{
	(void)state;
	memset(mem, 0, sizeof(mem));
	return 0;
}

static void test_interpreter_lists(void **state)
{
	struct gp_mem m = gp_mem_buffer(&membuf);
	struct gp_interps seen;
	char text[128];

	(void)state;
	for (size_t r = 0; r < gp_py_layouts_count; r++) {
		L = &gp_py_layouts[r];
		memset(mem, 0, sizeof(mem));
		/* newest first: 2 -> 1 -> main (0) */
		put64(RUNTIME + L->rt_interp_head, interp(2));
		put64(RUNTIME + L->rt_interp_main, interp(0));
		make_interp(2, 2, interp(1));
		make_interp(1, 1, interp(0));
		make_interp(0, 0, 0);
		memset(&seen, 0, sizeof(seen));
		assert_int_equal(gp_interps_scan(L, &m, RUNTIME, &seen), 0);
		gp_interps_format(&seen, text, sizeof(text));
		assert_string_equal(text, "2, 1");
		/* a second look adds only what is new */
		make_interp(1, 7, interp(0));
		gp_interps_scan(L, &m, RUNTIME, &seen);
		gp_interps_format(&seen, text, sizeof(text));
		assert_string_equal(text, "2, 1, 7");
	}
}

static void test_interpreter_list_loops_and_runs_on(void **state)
{
	struct gp_mem m = gp_mem_buffer(&membuf);
	struct gp_interps seen = { 0 };
	char text[512];

	(void)state;
	L = gp_layout_for(0x030d0000, false);
	/* 1 -> 2 -> 1 -> ...: stops at the first repeat */
	put64(RUNTIME + L->rt_interp_head, interp(1));
	make_interp(1, 1, interp(2));
	make_interp(2, 2, interp(1));
	assert_int_equal(gp_interps_scan(L, &m, RUNTIME, &seen), 0);
	assert_int_equal(seen.n, 2);
	/* a list longer than GP_INTERP_MAX: counted as "more" */
	memset(&seen, 0, sizeof(seen));
	for (int i = 1; i < 100; i++)
		make_interp(i, i, interp(i + 1));
	assert_int_equal(gp_interps_scan(L, &m, RUNTIME, &seen), 0);
	assert_int_equal(seen.n, GP_INTERP_MAX);
	assert_true(seen.more);
	gp_interps_format(&seen, text, sizeof(text));
	assert_non_null(strstr(text, " and more"));
	/* a next pointer into nowhere ends the walk; an unreadable runtime fails */
	memset(&seen, 0, sizeof(seen));
	make_interp(1, 1, 0xdead00000000ULL);
	assert_int_equal(gp_interps_scan(L, &m, RUNTIME, &seen), 0);
	assert_int_equal(seen.n, 1);
	assert_int_equal(gp_interps_scan(L, &m, 0x10, &seen), -1);
}

/* A str in the string area (fake.next moves on). */
static uint64_t ascii_str(const char *s)
{
	fake.L = L;
	return fake_ascii_str(&fake, s);
}

static void make_code(const char *name, uint64_t linetable)
{
	put64(CODE + L->ob_type, CODE_TYPE);
	put32(CODE + L->code_firstlineno, 40);
	if (L->code_firsttraceable >= 0)
		put32(CODE + L->code_firsttraceable, 0);
	put64(CODE + L->code_name, ascii_str(name));
	if (L->code_qualname >= 0)
		put64(CODE + L->code_qualname, ascii_str(name));
	put64(CODE + L->code_filename, ascii_str("evil.py"));
	put64(CODE + L->code_linetable, linetable);
}

static void test_garbage_code_objects(void **state)
{
	struct gp_mem m = gp_mem_buffer(&membuf);
	struct gp_code_cache c;
	struct gp_code *code;
	uint64_t tab, name;
	int line;

	(void)state;
	for (size_t r = 0; r < gp_py_layouts_count; r++) {
		L = &gp_py_layouts[r];
		memset(mem, 0, sizeof(mem));
		fake.next = STRS;
		gp_code_cache_init(&c, L, m, CODE_TYPE);

		/* a line table claiming 2^40 bytes: no lines, the name survives */
		tab = ascii_str("table");
		put64(tab + L->bytes_size, 1ULL << 40);
		make_code("victim", tab);
		code = gp_code_get(&c, CODE, 40, 1);
		assert_non_null(code);
		assert_string_equal(code->name, "victim");
		assert_null(code->linetable);
		line = gp_code_lasti(code, L->code_linetable_format, 8)->line;
		assert_true(line == GP_NO_LINE || line == 40); /* 3.9: all on the first line */

		/* a name that points nowhere: the code object is unreadable */
		put64(CODE + L->code_name, 0xdead00000000ULL);
		assert_null(gp_code_get(&c, CODE, 41, 2));

		/* a name claiming 2^62 characters: read up to the cap, no further */
		name = ascii_str("x");
		put64(name + L->str_length, 1ULL << 62);
		put64(CODE + L->code_name, name);
		code = gp_code_get(&c, CODE, 42, 3);
		assert_non_null(code);
		assert_string_equal(code->name, "x");
		/* the same at the very end of memory: the capped read fails */
		name = BASE + MEMSZ - (uint64_t)L->str_ascii_data - 8;
		put64(name + L->str_length, 1ULL << 62);
		{
			uint32_t st = 1u << L->str_kind_shift | L->str_compact_mask |
				      L->str_ascii_mask;

			memcpy(mem + (name - BASE) + L->str_state, &st, 4);
		}
		put64(CODE + L->code_name, name);
		assert_null(gp_code_get(&c, CODE, 43, 4));
		gp_code_cache_free(&c);
	}
}

static void test_random_line_tables(void **state)
{
	uint8_t tab[512];
	unsigned int seed = 12345;

	(void)state;
	/* Random bytes as every format's table: bounded, never a crash. */
	for (int round = 0; round < 20000; round++) {
		size_t len = (size_t)(rand_r(&seed) % (int)sizeof(tab));
		int format = 1 + rand_r(&seed) % 3;
		int lasti = rand_r(&seed) % 4096 - 8;
		int line;

		for (size_t i = 0; i < len; i++)
			tab[i] = (uint8_t)rand_r(&seed);
		line = gp_line_for(format, tab, len, 100, lasti);
		/* a line, or none: never a negative made-up one (or an overflow) */
		assert_true(line == GP_NO_LINE || line >= 0);
	}
}

static const char *root_name(struct gp_profile *p, uint32_t loc)
{
	return gp_func(p, gp_loc(p, loc)->func)->name;
}

static void test_cut_stacks_get_root_markers(void **state)
{
	static const struct {
		uint16_t end;
		const char *marker;
	} cases[] = {
		{ GP_WALK_LOOP, "[stack cut: frame chain loops]" },
		{ GP_WALK_BAD_CODE, "[stack cut: garbage frame]" },
		{ GP_WALK_NO_BASE, "[stack cut: chain ends before the base frame]" },
		{ GP_WALK_READ_FAULT, "[stack cut: unreadable frame]" },
		{ GP_WALK_DEPTH, "[truncated: deeper than 1024 frames]" },
	};
	struct gp_sample *s = calloc(1, sizeof(*s));
	struct gp_symbolizer sym;
	struct gp_profile prof;
	uint32_t locs[GP_STACK_MAX], n;

	(void)state;
	L = gp_layout_for(0x030c0000, false);
	memset(mem, 0, sizeof(mem));
	fake.next = STRS;
	make_code("victim", 0);
	gp_profile_init(&prof);
	gp_symbolizer_init(&sym, &prof, L, gp_mem_buffer(&membuf), CODE_TYPE, GP_MAX_FRAMES);
	s->flags = GP_SAMPLE_HAS_TSTATE;
	s->frames[0] = (struct gp_frame){ .code = CODE, .lasti = 0, .firstlineno = 40 };
	s->frames[1] = (struct gp_frame){ .code = 0x4141414141414141ULL, .firstlineno = 1 };
	s->nframes = 2;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s->walk_end = cases[i].end;
		n = gp_symbolize_python(&sym, s, 1, locs);
		assert_int_equal(n, 3);
		assert_string_equal(root_name(&prof, locs[0]), cases[i].marker);
		assert_string_equal(root_name(&prof, locs[1]), "[unreadable code object]");
		assert_string_equal(root_name(&prof, locs[2]), "victim");
	}
	/* a record claiming more frames than exist is clamped */
	s->nframes = 0xffff;
	s->walk_end = GP_WALK_COMPLETE;
	n = gp_symbolize_python(&sym, s, 1, locs);
	assert_true(n <= GP_STACK_MAX);
	gp_symbolizer_free(&sym);
	gp_profile_free(&prof);
	free(s);
}

/* Frames named by letters, innermost first, all at offset 0. */
static uint32_t trim(const char *frames)
{
	struct gp_frame f[64] = { 0 };
	uint32_t n = (uint32_t)strlen(frames);

	for (uint32_t i = 0; i < n; i++)
		f[i].code = (uint64_t)frames[i];
	return gp_loop_trim(f, n);
}

static void test_loop_copies_trimmed(void **state)
{
	(void)state;
	assert_int_equal(trim("VCVC"), 2);          /* caught after two turns */
	assert_int_equal(trim("ABCABCA"), 3);
	assert_int_equal(trim("RRRRXYXY"), 6);      /* recursion before the loop stays */
	assert_int_equal(trim("TUWCDECD"), 6);      /* loop entered after three frames */
	assert_int_equal(trim("AB"), 2);            /* nothing repeats: nothing cut */
	assert_int_equal(trim(""), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_interpreter_lists, setup),
		cmocka_unit_test_setup(test_interpreter_list_loops_and_runs_on, setup),
		cmocka_unit_test_setup(test_garbage_code_objects, setup),
		cmocka_unit_test(test_random_line_tables),
		cmocka_unit_test_setup(test_cut_stacks_get_root_markers, setup),
		cmocka_unit_test(test_loop_copies_trimmed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
