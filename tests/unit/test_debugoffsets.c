// SPDX-License-Identifier: BSD-2-Clause
/*
 * The live _Py_DebugOffsets check over fake target memory: a block built
 * from each 3.13+ row is accepted unchanged; offsets the process has
 * elsewhere are used (sys.modules into the object row too); a bigger
 * _PyRuntimeState (debug builds, patch releases) is taken; free-threaded
 * builds, foreign blocks, other versions, unknown pre-releases, structs of
 * another size and offsets outside what the sampler reads are refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "debugoffsets.h"
#include "pyversion.h"
#include "../../unwind/pyobj.h"

#define RUNTIME 0x7f0000001000ULL

static uint8_t block[GP_DEBUG_BLOCK_MAX];
static struct gp_mem_buf membuf = { RUNTIME, block, sizeof(block) };
static const struct py_layout *L;

static void put(int32_t pos, uint64_t v)
{
	assert_true(pos >= 0 && (size_t)pos + 8 <= sizeof(block));
	memcpy(block + pos, &v, 8);
}

/* The block a healthy process of row L's version carries. */
static void healthy_block(void)
{
	const struct py_debug_pos *d = &L->dbg;

	memset(block, 0, sizeof(block));
	memcpy(block, "xdebugpy", 8);
	put(d->version, L->version_hex);
	put(d->free_threaded, L->free_threaded);
	put(d->rt_sz, (uint64_t)L->rt_size);
	put(d->rt_interp_head, (uint64_t)L->rt_interp_head);
	put(d->interp_sz, 300000);
	put(d->interp_id, (uint64_t)L->interp_id);
	put(d->interp_next, (uint64_t)L->interp_next);
	put(d->interp_threads_head, (uint64_t)L->interp_threads_head);
	put(d->interp_gil_ptr, (uint64_t)L->interp_gil_ptr);
	put(d->interp_gc, (uint64_t)L->interp_gc_collecting - 200);
	put(d->interp_modules, (uint64_t)gp_objlayout_for(L->version_hex)->interp_modules);
	put(d->gc_collecting, 200);
	put(d->ts_sz, 1000);
	put(d->ts_next, (uint64_t)L->ts_next);
	put(d->ts_interp, (uint64_t)L->ts_interp);
	put(d->ts_frame, (uint64_t)L->ts_frame);
	put(d->ts_thread_id, (uint64_t)L->ts_thread_id);
	put(d->ts_native_tid, (uint64_t)L->ts_native_tid);
	put(d->frame_sz, 88);
	put(d->frame_previous, (uint64_t)L->frame_previous);
	put(d->frame_code, (uint64_t)L->frame_code);
	put(d->frame_instr, (uint64_t)L->frame_instr);
	put(d->frame_owner, (uint64_t)L->frame_owner);
	put(d->code_sz, (uint64_t)L->code_size);
	put(d->code_filename, (uint64_t)L->code_filename);
	put(d->code_name, (uint64_t)L->code_name);
	put(d->code_qualname, (uint64_t)L->code_qualname);
	put(d->code_linetable, (uint64_t)L->code_linetable);
	put(d->code_firstlineno, (uint64_t)L->code_firstlineno);
	put(d->code_adaptive, (uint64_t)L->code_adaptive);
	put(d->obj_sz, (uint64_t)L->obj_size);
	put(d->ob_type, (uint64_t)L->ob_type);
	put(d->bytes_sz, 40);
	put(d->bytes_size, (uint64_t)L->bytes_size);
	put(d->bytes_data, (uint64_t)L->bytes_data);
	put(d->str_sz, (uint64_t)L->str_size);
	put(d->str_state, (uint64_t)L->str_state);
	put(d->str_length, (uint64_t)L->str_length);
	put(d->str_ascii_data, (uint64_t)L->str_ascii_data);
}

static enum gp_dbg_verdict check(struct py_layout *out, struct gp_dbg_report *r)
{
	struct gp_mem mem = gp_mem_buffer(&membuf);

	return gp_debug_offsets_apply(L, &mem, RUNTIME, out, NULL, r);
}

/* Every row that has a block: its own healthy block is taken as is. */
static void test_healthy_blocks_of_every_row(void **state)
{
	int rows = 0;

	(void)state;
	for (size_t i = 0; i < gp_py_layouts_count; i++) {
		struct gp_dbg_report r;
		struct py_layout out;

		L = &gp_py_layouts[i];
		if (L->dbg.block_size <= 0)
			continue;
		rows++;
		assert_true(L->dbg.block_size <= GP_DEBUG_BLOCK_MAX);
		healthy_block();
		assert_int_equal(check(&out, &r), GP_DBG_OK);
		assert_int_equal(r.differ, 0);
		assert_true(r.checked >= 25);
		assert_int_equal(r.version, L->version_hex);
		assert_memory_equal(&out, L, sizeof(out));
	}
	assert_true(rows >= 3); /* 3.13, 3.14 and 3.15 */
}

static int setup_313(void **state)
{
	(void)state;
	L = gp_layout_for(0x030d0000, false);
	assert_non_null(L);
	healthy_block();
	return 0;
}

static void test_process_offsets_are_used(void **state)
{
	struct gp_dbg_report r;
	struct py_layout out;

	(void)state;
	put(L->dbg.ts_thread_id, 144);
	put(L->dbg.frame_owner, 76);
	put(L->dbg.gc_collecting, 208);
	assert_int_equal(check(&out, &r), GP_DBG_OK);
	assert_int_equal(r.differ, 3);
	assert_string_equal(r.first_diff, "ts_thread_id");
	assert_int_equal(out.ts_thread_id, 144);
	assert_int_equal(out.frame_owner, 76);
	assert_int_equal(out.frame_size, 77); /* the BPF copy grows with it */
	assert_int_equal(out.interp_gc_collecting, L->interp_gc_collecting + 8);
	/* what the block does not describe stays the row's */
	assert_int_equal(out.code_firsttraceable, L->code_firsttraceable);
	assert_int_equal(out.rt_interp_main, L->rt_interp_main);
}

static void test_free_threaded_refused(void **state)
{
	struct gp_dbg_report r;
	struct py_layout out;

	(void)state;
	put(L->dbg.free_threaded, 1);
	assert_int_equal(check(&out, &r), GP_DBG_FREE_THREADED);
	/* the caller keeps the row: nothing half-applied */
	assert_memory_equal(&out, L, sizeof(out));
}

static void expect_mismatch(const char *words)
{
	struct gp_dbg_report r;
	struct py_layout out;

	assert_int_equal(check(&out, &r), GP_DBG_MISMATCH);
	if (!strstr(r.why, words))
		fail_msg("'%s' not in '%s'", words, r.why);
	assert_memory_equal(&out, L, sizeof(out));
}

static void test_foreign_block_refused(void **state)
{
	(void)state;
	memcpy(block, "notdebug", 8);
	expect_mismatch("cookie");
}

static void test_other_version_refused(void **state)
{
	(void)state;
	put(L->dbg.version, 0x030c01f0);
	expect_mismatch("0x030c01f0");
}

/* sys.modules moved inside 3.14 (3.14.5): the object row takes the process's. */
static void test_modules_offset_into_object_row(void **state)
{
	struct py_objlayout obj = *gp_objlayout_for(L->version_hex), before = obj;
	struct gp_mem mem = gp_mem_buffer(&membuf);
	struct gp_dbg_report r;
	struct py_layout out;

	(void)state;
	put(L->dbg.interp_modules, (uint64_t)before.interp_modules - 88);
	assert_int_equal(gp_debug_offsets_apply(L, &mem, RUNTIME, &out, &obj, &r), GP_DBG_OK);
	assert_int_equal(obj.interp_modules, before.interp_modules - 88);
	assert_int_equal(r.differ, 1);
	assert_string_equal(r.first_diff, "interp_modules");
	assert_int_equal(obj.module_dict, before.module_dict);
	/* outside the interpreter state: refused, the object row untouched */
	obj = before;
	put(L->dbg.interp_modules, 400000);
	assert_int_equal(gp_debug_offsets_apply(L, &mem, RUNTIME, &out, &obj, &r), GP_DBG_MISMATCH);
	assert_non_null(strstr(r.why, "imports.modules"));
	assert_memory_equal(&obj, &before, sizeof(obj));
}

/*
 * Debug builds have a bigger _PyRuntimeState (3.14d: 332632 bytes, 3.14:
 * 316616), and so did 3.13.5 against 3.13.0: the process's size is taken,
 * and interpreters.main follows interpreters.head wherever that is.
 */
static void test_runtime_size_is_the_process(void **state)
{
	struct gp_dbg_report r;
	struct py_layout out;

	(void)state;
	put(L->dbg.rt_sz, (uint64_t)L->rt_size + 16016);
	assert_int_equal(check(&out, &r), GP_DBG_OK);
	assert_int_equal(r.differ, 0);
	assert_int_equal(out.rt_size, L->rt_size + 16016);
	put(L->dbg.rt_interp_head, (uint64_t)L->rt_interp_head + 64);
	assert_int_equal(check(&out, &r), GP_DBG_OK);
	assert_int_equal(out.rt_interp_main, L->rt_interp_main + 64);
	assert_string_equal(r.first_diff, "rt_interp_head");
	/* too small to hold interpreters.main where it would be */
	healthy_block();
	put(L->dbg.rt_sz, (uint64_t)L->rt_interp_main + 4);
	expect_mismatch("_PyRuntimeState");
}

/* Final releases of a minor share the block's layout; pre-releases do not. */
static void test_patch_releases_and_pre_releases(void **state)
{
	struct gp_dbg_report r;
	struct py_layout out;

	(void)state;
	put(L->dbg.version, (L->version_hex & 0xffff0000u) | 0x05f0); /* x.y.5 */
	assert_int_equal(check(&out, &r), GP_DBG_OK);
	assert_int_equal(r.version, (L->version_hex & 0xffff0000u) | 0x05f0);
	put(L->dbg.version, (L->version_hex & 0xffff0000u) | 0x00b4); /* x.y.0b4 */
	expect_mismatch("b4, a pre-release whose layout gil-prof does not know");
	put(L->dbg.version, (L->version_hex & 0xffff0000u) | 0x00c1); /* x.y.0rc1 */
	expect_mismatch("rc1, a pre-release");
}

static void test_other_struct_sizes_refused(void **state)
{
	(void)state;
	put(L->dbg.code_sz, (uint64_t)L->code_size + 8);
	expect_mismatch("PyCodeObject");
	healthy_block();
	put(L->dbg.obj_sz, 32); /* a free-threaded object header */
	expect_mismatch("PyObject");
}

static void test_offsets_outside_reads_refused(void **state)
{
	(void)state;
	put(L->dbg.frame_previous, GP_FRAME_BUF); /* past the BPF frame copy */
	put(L->dbg.frame_sz, 4096);
	expect_mismatch("frame_previous");
	healthy_block();
	put(L->dbg.ts_next, 5000); /* past sizeof(PyThreadState) */
	expect_mismatch("ts_next");
	healthy_block();
	put(L->dbg.code_firstlineno, GP_CODE_BUF - 2);
	expect_mismatch("code_firstlineno");
	healthy_block();
	put(L->dbg.interp_sz, 1ULL << 40); /* absurd struct size */
	expect_mismatch("interp_");
	healthy_block();
	put(L->dbg.interp_gc, 1ULL << 62);
	expect_mismatch("gc.collecting");
}

static void test_unreadable_block_refused(void **state)
{
	struct gp_mem_buf small = { RUNTIME, block, 64 };
	struct gp_mem mem = gp_mem_buffer(&small);
	struct gp_dbg_report r;
	struct py_layout out;

	(void)state;
	assert_int_equal(gp_debug_offsets_apply(L, &mem, RUNTIME, &out, NULL, &r), GP_DBG_MISMATCH);
	assert_non_null(strstr(r.why, "unreadable"));
}

static void test_versions_without_block(void **state)
{
	struct gp_dbg_report r;
	struct py_layout out;

	(void)state;
	L = gp_layout_for(0x030c0000, false);
	memset(block, 0, sizeof(block));
	assert_int_equal(check(&out, &r), GP_DBG_NONE);
	assert_memory_equal(&out, L, sizeof(out));
}

/* 3.14 and 3.15 are tested now (Debian sid's builds): no row is untested. */
static void test_supported_versions(void **state)
{
	(void)state;
	for (uint32_t minor = 14; minor <= 15; minor++) {
		const struct py_layout *row = gp_layout_for(0x03000000u | minor << 16, false);

		assert_non_null(row);
		assert_int_equal(row->untested, 0);
		assert_int_equal(row->frame_code_tag_bits, 3); /* _PyStackRef */
		assert_non_null(gp_objlayout_for(row->version_hex));
	}
	assert_string_equal(gp_supported_versions(), "3.9 to 3.15");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_healthy_blocks_of_every_row),
		cmocka_unit_test_setup(test_process_offsets_are_used, setup_313),
		cmocka_unit_test_setup(test_free_threaded_refused, setup_313),
		cmocka_unit_test_setup(test_foreign_block_refused, setup_313),
		cmocka_unit_test_setup(test_other_version_refused, setup_313),
		cmocka_unit_test_setup(test_modules_offset_into_object_row, setup_313),
		cmocka_unit_test_setup(test_runtime_size_is_the_process, setup_313),
		cmocka_unit_test_setup(test_patch_releases_and_pre_releases, setup_313),
		cmocka_unit_test_setup(test_other_struct_sizes_refused, setup_313),
		cmocka_unit_test_setup(test_offsets_outside_reads_refused, setup_313),
		cmocka_unit_test_setup(test_unreadable_block_refused, setup_313),
		cmocka_unit_test(test_versions_without_block),
		cmocka_unit_test(test_supported_versions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
