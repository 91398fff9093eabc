// SPDX-License-Identifier: BSD-2-Clause
/*
 * dump --locals' reader (unwind/pylocals.c) over a fake target laid out by
 * every version's rows: runtime -> interpreter -> thread state (by kernel
 * tid, or by pthread_self() before 3.11) -> frames; a frame's argument,
 * local, unbound slot and cell, named and kinded by its code object, with
 * the 3.14+ tag bits on the references. Then corrupt chains: a frame that
 * is its own previous, a cycle, a previous pointer out of memory, a code
 * pointer that is not a code object: the walk ends or skips, bounded.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pylocals.h"
#include "pyobj.h"
#include "pyversion.h"
#include "../bpf/gilprof.h"
#include "fake_image.h"

#define TID 4242
#define PTHREAD 0x7f0000001000ULL

static uint64_t t_str, t_int, t_tuple, t_bytes, t_code, t_cell, runtime, tstate;

static uint64_t mk_str(const char *s)
{
	size_t n = strlen(s);
	uint64_t o = obj_of(t_str, L->str_ascii_data + n + 16);
	uint32_t state = L->str_compact_mask | L->str_ascii_mask | (1u << L->str_kind_shift);

	w64(o + L->str_length, n);
	w(o + L->str_state, &state, 4);
	w(o + L->str_ascii_data, s, n);
	return o;
}

static uint64_t mk_small_int(uint32_t v)
{
	uint64_t o = obj_of(t_int, (size_t)O->long_digit + 8);

	w(o + O->long_digit, &v, 4);
	if (O->long_sign_mask)
		w64(o + O->long_size, 1ULL << O->long_tag_shift);
	else
		w64(o + O->long_size, 1);
	return o;
}

static uint64_t mk_tuple(const uint64_t *items, size_t n)
{
	uint64_t o = obj_of(t_tuple, (size_t)O->tuple_items + 8 * n + 8);

	w64(o + O->var_size, n);
	for (size_t i = 0; i < n; i++)
		w64(o + O->tuple_items + 8 * i, items[i]);
	return o;
}

static uint64_t names(const char *const *v, size_t n)
{
	uint64_t items[8];

	for (size_t i = 0; i < n; i++)
		items[i] = mk_str(v[i]);
	return mk_tuple(items, n);
}

/* f(x, *, s?) with locals s, u and the cell c: argcount 1. */
static uint64_t mk_code(const char *name)
{
	static const char *const all[] = { "x", "s", "u", "c" };
	uint64_t code = obj_of(t_code, (size_t)L->code_size + 64);

	w64(code + L->code_name, mk_str(name));
	w32(code + L->code_firstlineno, 10);
	w32(code + O->code_argcount, 1);
	if (O->code_kinds >= 0) {
		uint8_t kinds[4] = { 0x20, 0x20, 0x20, (uint8_t)O->fast_cell };
		uint64_t b = obj_of(t_bytes, (size_t)L->bytes_data + 8);

		w64(b + L->bytes_size, 4);
		w(b + L->bytes_data, kinds, 4);
		w64(code + O->code_names, names(all, 4));
		w64(code + O->code_kinds, b);
	} else {
		w64(code + O->code_names, names(all, 3));
		w64(code + O->code_cellvars, names(all + 3, 1));
		w64(code + O->code_freevars, mk_tuple(NULL, 0));
	}
	return code;
}

static uint64_t mk_frame(uint64_t code, uint64_t prev)
{
	uint64_t f = alloc((size_t)O->frame_localsplus + 8 * 8);
	uint64_t cell = obj_of(t_cell, 32);
	uint64_t tag = O->stackref_tag_bits ? 1 : 0;

	w64(cell + O->cell_ref, mk_str("inside"));
	w64(f + L->frame_code, code | (L->frame_code_tag_bits ? 1 : 0));
	w64(f + L->frame_previous, prev);
	w64(f + O->frame_localsplus + 0, mk_small_int(5) | tag);
	w64(f + O->frame_localsplus + 8, mk_str("hi") | tag);
	w64(f + O->frame_localsplus + 16, 0); /* unbound */
	w64(f + O->frame_localsplus + 24, cell | tag);
	return f;
}

/* runtime -> interp -> tstate, its innermost frame set by set_frame(). */
static void setup_version(uint32_t v)
{
	uint64_t interp;

	memset(image, 0, sizeof(image));
	brk_at = BASE + 64;
	L = gp_layout_for(v, false);
	O = gp_objlayout_for(v);
	assert_non_null(L);
	assert_non_null(O);
	t_str = mk_type("str");
	t_int = mk_type("int");
	t_tuple = mk_type("tuple");
	t_bytes = mk_type("bytes");
	t_code = mk_type("code");
	t_cell = mk_type("cell");
	runtime = alloc(4096);
	interp = alloc(16384);
	tstate = alloc(4096);
	w64(runtime + L->rt_interp_head, interp);
	w64(interp + L->interp_threads_head, tstate);
	if (L->ts_native_tid >= 0)
		w64(tstate + L->ts_native_tid, TID);
	w64(tstate + L->ts_thread_id, PTHREAD);
}

static void set_frame(uint64_t frame)
{
	if (L->ts_cframe >= 0) {
		uint64_t cf = alloc(64);

		w64(tstate + L->ts_cframe, cf);
		w64(cf + L->cframe_frame, frame);
	} else {
		w64(tstate + L->ts_frame, frame);
	}
}

/*
 * GP_PYLOCALS_SEEDS=DIR: the image of each good chain is a seed of
 * tests/fuzz/fuzz_pylocals.c: byte 0 the version's index, bytes 8-15 the
 * runtime's address, the rest the memory at BASE (its first 64 bytes unused).
 */
static void write_seed(void)
{
	const char *dir = getenv("GP_PYLOCALS_SEEDS");
	static int n;
	char path[512];
	uint8_t head[16] = { 0 };
	FILE *f;

	if (!dir)
		return;
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		if (versions[i] >> 16 == O->version_hex >> 16)
			head[0] = (uint8_t)i;
	memcpy(head + 8, &runtime, 8);
	snprintf(path, sizeof(path), "%s/locals-%d", dir, n++);
	f = fopen(path, "wb");
	if (!f)
		return;
	fwrite(head, 1, sizeof(head), f);
	fwrite(image + sizeof(head), 1, brk_at - BASE - sizeof(head), f);
	fclose(f);
}

static size_t walk(struct gp_pyframe_vars *out, size_t max)
{
	struct gp_pyobj r = { L, O, gp_mem_buffer(&membuf) };

	return gp_pylocals_read(&r, runtime, TID, PTHREAD, out, max);
}

static void test_frames(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		static struct gp_pyframe_vars out[GP_LOCALS_FRAMES];
		uint64_t outer, inner;
		size_t n;

		setup_version(versions[i]);
		outer = mk_frame(mk_code("outer"), 0);
		inner = mk_frame(mk_code("inner"), outer);
		set_frame(inner);
		write_seed();
		n = walk(out, GP_LOCALS_FRAMES);
		assert_int_equal(n, 2);
		assert_string_equal(out[0].name, "inner");
		assert_string_equal(out[1].name, "outer");
		assert_int_equal(out[0].firstlineno, 10);
		assert_int_equal(out[0].n, 3); /* u is unbound: left out */
		assert_string_equal(out[0].v[0].name, "x");
		assert_int_equal(out[0].v[0].kind, GP_VAR_ARG);
		assert_string_equal(out[0].v[0].repr, "5");
		assert_string_equal(out[0].v[1].name, "s");
		assert_int_equal(out[0].v[1].kind, GP_VAR_LOCAL);
		assert_string_equal(out[0].v[1].repr, "'hi'");
		assert_string_equal(out[0].v[2].name, "c");
		assert_int_equal(out[0].v[2].kind, GP_VAR_CELL);
		assert_string_equal(out[0].v[2].repr, "'inside'");
		gp_pylocals_free(out, n);
		/* another thread's tid (3.11+) or pthread: nothing */
		{
			struct gp_pyobj r = { L, O, gp_mem_buffer(&membuf) };

			assert_int_equal(gp_pylocals_read(&r, runtime, TID + 1, PTHREAD + 8, out, 4),
					 0);
		}
	}
}

static void test_corrupt_chains(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		static struct gp_pyframe_vars out[GP_LOCALS_FRAMES];
		uint64_t a, b, code;
		size_t n;

		setup_version(versions[i]);
		code = mk_code("f");
		/* its own previous: one frame, then the walk ends */
		a = mk_frame(code, 0);
		w64(a + L->frame_previous, a);
		set_frame(a);
		n = walk(out, GP_LOCALS_FRAMES);
		assert_int_equal(n, 1);
		gp_pylocals_free(out, n);
		/* a cycle of two: each frame once */
		a = mk_frame(code, 0);
		b = mk_frame(code, a);
		w64(a + L->frame_previous, b);
		set_frame(b);
		n = walk(out, GP_LOCALS_FRAMES);
		assert_int_equal(n, 2);
		gp_pylocals_free(out, n);
		/* ... and at most the caller's max */
		n = walk(out, 1);
		assert_int_equal(n, 1);
		gp_pylocals_free(out, n);
		/* previous out of memory: the frames read so far */
		a = mk_frame(code, 0xdead00000000ULL);
		set_frame(a);
		n = walk(out, GP_LOCALS_FRAMES);
		assert_int_equal(n, 1);
		gp_pylocals_free(out, n);
		/* a code pointer to something else: skipped, the next frame read */
		a = mk_frame(code, 0);
		b = mk_frame(mk_str("not code"), a);
		set_frame(b);
		n = walk(out, GP_LOCALS_FRAMES);
		assert_int_equal(n, 1);
		assert_string_equal(out[0].name, "f");
		gp_pylocals_free(out, n);
		/* a names tuple claiming 2**40 items: no variables, no crash */
		{
			uint64_t t;

			memcpy(&t, image + (code + O->code_names - BASE), 8);
			w64(t + O->var_size, 1ULL << 40);
		}
		set_frame(a);
		n = walk(out, GP_LOCALS_FRAMES);
		assert_int_equal(n, 1);
		assert_true(out[0].n <= GP_LOCALS_VARS);
		gp_pylocals_free(out, n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frames),
		cmocka_unit_test(test_corrupt_chains),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
