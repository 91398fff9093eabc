// SPDX-License-Identifier: BSD-2-Clause
/*
 * Naming native addresses: symbol tables of a real ELF file (this test
 * binary, with functions laid out below in assembly), GCC's .cold parts,
 * aliases, addresses outside every function, symbol versions; the file
 * cache keyed by build-id; kernel symbols from kallsyms text.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "elfcache.h"
#include "kallsyms.h"
#include "native.h"
#include "symtab.h"

/*
 * gpt_hot (16 bytes, global) with a weak alias, then 16 bytes no symbol
 * covers, then gpt_hot.cold (8 bytes, local) and gpt_zero (no size).
 */
__asm__(".text\n"
	".p2align 6\n"
	".globl gpt_hot\n"
	".type gpt_hot, @function\n"
	"gpt_hot:\n"
	".skip 16, 0x90\n"
	".size gpt_hot, 16\n"
	".weak __gpt_hot_alias\n"
	".type __gpt_hot_alias, @function\n"
	".set __gpt_hot_alias, gpt_hot\n"
	".size __gpt_hot_alias, 16\n"
	"gpt_gap:\n"
	".skip 16, 0xcc\n"
	".type gpt_hot.cold, @function\n"
	"gpt_hot.cold:\n"
	".skip 8, 0x90\n"
	".size gpt_hot.cold, 8\n"
	".type gpt_zero, @function\n"
	"gpt_zero:\n"
	".skip 8, 0x90\n"
	".globl gpt_after\n"
	".type gpt_after, @function\n"
	"gpt_after:\n"
	"ret\n"
	".size gpt_after, 1\n");

extern char gpt_hot[], gpt_gap[], gpt_zero[], gpt_after[];

struct fixture {
	struct gp_elf_cache cache;
	struct gp_unwinder *u;
	const struct gp_native_map *m;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	gp_elf_cache_init(&f->cache);
	f->u = gp_unwinder_new(getpid(), &f->cache);
	if (!f->u)
		return -1;
	f->m = gp_unwinder_map(f->u, (uint64_t)(uintptr_t)gpt_hot);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	gp_unwinder_free(f->u);
	gp_elf_cache_free(&f->cache);
	free(f);
	return 0;
}

static const char *name_at(const struct fixture *f, const char *addr, uint64_t *start)
{
	return gp_symtab_lookup(&f->m->file->syms, (uint64_t)(uintptr_t)addr - f->m->bias, start);
}

static void test_own_file_mapped(void **state)
{
	struct fixture *f = *state;

	assert_non_null(f->m);
	assert_non_null(f->m->file);
	assert_string_equal(f->m->file->name, "test_nativesyms");
	assert_int_equal(strlen(f->m->file->build_id), 40);
	assert_true(f->m->file->syms.from_symtab);
}

static void test_functions_cold_parts_and_gaps(void **state)
{
	struct fixture *f = *state;
	uint64_t start = 0;
	const char *name;

	/* The global name wins over the weak, underscored alias. */
	name = name_at(f, gpt_hot + 5, &start);
	assert_non_null(name);
	assert_string_equal(name, "gpt_hot");
	assert_int_equal(start, (uint64_t)(uintptr_t)gpt_hot - f->m->bias);
	/* Past the end of gpt_hot, before the next symbol: no name. */
	assert_null(name_at(f, gpt_gap + 3, NULL));
	/* The split-off part names its function. */
	name = name_at(f, gpt_gap + 16 + 2, NULL);
	assert_non_null(name);
	assert_string_equal(name, "gpt_hot.cold");
	assert_int_equal(gp_symbol_func_len(name), strlen("gpt_hot"));
	/* A symbol without a size reaches the next one. */
	name = name_at(f, gpt_zero + 7, NULL);
	assert_non_null(name);
	assert_string_equal(name, "gpt_zero");
	assert_string_equal(name_at(f, gpt_after, NULL), "gpt_after");
}

static void test_symbol_names(void **state)
{
	(void)state;
	assert_int_equal(gp_symbol_func_len("f.cold"), 1);
	assert_int_equal(gp_symbol_func_len("f.cold.12"), 1);
	assert_int_equal(gp_symbol_func_len("f.coldish"), 9);
	assert_int_equal(gp_symbol_func_len("f.cold.x"), 8);
	assert_int_equal(gp_symbol_func_len("f.isra.0"), 8);
	assert_int_equal(gp_symbol_func_len("take_gil.lto_priv.0"), 8);
	assert_int_equal(gp_symbol_func_len("f.lto_priv.12.cold"), 1);
	assert_int_equal(gp_symbol_func_len("f.lto_priv.x"), 12);
	assert_int_equal(gp_symbol_func_len("f.lto_priv."), 11);
	assert_int_equal(gp_symbol_func_len(".lto_priv.0"), 0);
	assert_int_equal(gp_symbol_func_len("memcpy@@GLIBC_2.14"), 6);
	assert_int_equal(gp_symbol_func_len("plain"), 5);
}

static void test_cache_by_build_id(void **state)
{
	struct fixture *f = *state;
	struct gp_elf_file *again;

	/* Another path to the same file: the same entry, the name kept. */
	again = gp_elf_cache_open(&f->cache, "/proc/self/exe", "/elsewhere/renamed");
	assert_ptr_equal(again, f->m->file);
	assert_null(gp_elf_cache_open(&f->cache, "/proc/self/status", "status"));
	assert_null(gp_elf_cache_open(&f->cache, "/nonexistent/file", "file"));
	/* The vDSO: an ELF image of its own, once. */
	assert_ptr_equal(gp_elf_cache_vdso(&f->cache), gp_elf_cache_vdso(&f->cache));
}

static void test_kallsyms(void **state)
{
	static const char text[] = "ffffffff81000000 T _stext\n"
				   "ffffffff81001000 t do_thing\n"
				   "ffffffff81002000 D some_data\n"
				   "ffffffff81003000 W weak_fn\n"
				   "ffffffffc0001000 t mod_fn\t[mymod]\n"
				   "garbage line\n";
	struct gp_kallsyms k;
	const struct gp_ksym *s;
	FILE *f = fmemopen((void *)text, sizeof(text) - 1, "r");

	(void)state;
	assert_non_null(f);
	assert_int_equal(gp_kallsyms_parse(&k, f), 0);
	fclose(f);
	assert_int_equal(k.n, 4); /* data symbols are not functions */
	s = gp_kallsyms_lookup(&k, 0xffffffff81001234ULL);
	assert_string_equal(gp_ksym_name(&k, s), "do_thing");
	assert_string_equal(gp_ksym_module(&k, s), "");
	s = gp_kallsyms_lookup(&k, 0xffffffffc0001010ULL);
	assert_string_equal(gp_ksym_name(&k, s), "mod_fn");
	assert_string_equal(gp_ksym_module(&k, s), "mymod");
	assert_null(gp_kallsyms_lookup(&k, 0x1000));
	gp_kallsyms_free(&k);
}

static void test_kallsyms_hidden_addresses(void **state)
{
	/* kptr_restrict: every address reads 0; nothing to look up. */
	static const char text[] = "0000000000000000 T _stext\n0000000000000000 t do_thing\n";
	struct gp_kallsyms k;
	FILE *f = fmemopen((void *)text, sizeof(text) - 1, "r");

	(void)state;
	assert_int_equal(gp_kallsyms_parse(&k, f), 0);
	fclose(f);
	assert_int_equal(k.n, 0);
	assert_null(gp_kallsyms_lookup(&k, 0xffffffff81001234ULL));
	gp_kallsyms_free(&k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_own_file_mapped),
		cmocka_unit_test(test_functions_cold_parts_and_gaps),
		cmocka_unit_test(test_symbol_names),
		cmocka_unit_test(test_cache_by_build_id),
		cmocka_unit_test(test_kallsyms),
		cmocka_unit_test(test_kallsyms_hidden_addresses),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
