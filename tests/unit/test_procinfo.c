// SPDX-License-Identifier: BSD-2-Clause
/* Per-process GIL and GC addresses, from fake target memory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "procinfo.h"
#include "pyversion.h"

#define BASE 0x10000ULL

static uint8_t memory[0x4000];

static void put_u64(uint64_t addr, uint64_t v)
{
	memcpy(memory + (addr - BASE), &v, sizeof(v));
}

static const struct py_layout *row(uint32_t hex)
{
	const struct py_layout *L = gp_layout_for(hex, false);

	assert_non_null(L);
	return L;
}

/* <= 3.11: the GIL is inside _PyRuntime; gc.collecting needs the interpreter. */
static void test_embedded_gil(void **state)
{
	const struct py_layout *L = row(0x030b07f0);
	struct gp_mem_buf buf = { BASE, memory, sizeof(memory) };
	struct gp_mem mem = gp_mem_buffer(&buf);
	struct gp_proc proc = { .runtime = BASE };

	(void)state;
	memset(memory, 0, sizeof(memory));
	/* no interpreter yet: the GIL address is known, the GC flag is not */
	assert_false(gp_procinfo_resolve(L, &mem, &proc));
	assert_int_equal(proc.gil, BASE + (uint64_t)L->rt_gil);
	assert_int_equal(proc.gc_collecting, 0);
	put_u64(BASE + (uint64_t)L->rt_interp_main, BASE + 0x1000);
	assert_true(gp_procinfo_resolve(L, &mem, &proc));
	assert_int_equal(proc.gc_collecting, BASE + 0x1000 + (uint64_t)L->interp_gc_collecting);
}

/* >= 3.12: the GIL is behind interp->ceval.gil; bad pointers are not taken. */
static void test_gil_pointer(void **state)
{
	const struct py_layout *L = row(0x030c01f0);
	struct gp_mem_buf buf = { BASE, memory, sizeof(memory) };
	struct gp_mem mem = gp_mem_buffer(&buf);
	struct gp_proc proc = { .runtime = BASE };
	uint64_t interp = BASE + 0x800;

	(void)state;
	memset(memory, 0, sizeof(memory));
	put_u64(BASE + (uint64_t)L->rt_interp_main, interp);
	assert_false(gp_procinfo_resolve(L, &mem, &proc)); /* ceval.gil still NULL */
	assert_int_equal(proc.gil, 0);
	put_u64(interp + (uint64_t)L->interp_gil_ptr, 0x12345); /* misaligned */
	assert_false(gp_procinfo_resolve(L, &mem, &proc));
	assert_int_equal(proc.gil, 0);
	put_u64(interp + (uint64_t)L->interp_gil_ptr, BASE + 0x3000);
	assert_true(gp_procinfo_resolve(L, &mem, &proc));
	assert_int_equal(proc.gil, BASE + 0x3000);
	assert_int_equal(proc.gc_collecting, interp + (uint64_t)L->interp_gc_collecting);
	/* an interpreter pointer outside the memory: nothing new, no crash */
	memset(&proc, 0, sizeof(proc));
	proc.runtime = BASE;
	put_u64(BASE + (uint64_t)L->rt_interp_main, 0x7fff00000000ULL);
	assert_false(gp_procinfo_resolve(L, &mem, &proc));
	assert_int_equal(proc.gil, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_embedded_gil),
		cmocka_unit_test(test_gil_pointer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
