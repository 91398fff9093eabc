// SPDX-License-Identifier: BSD-2-Clause
/*
 * DWARF unwinding from a copy of a stack: this test takes its own
 * registers and a copy of its own stack (what the BPF program sends) and
 * unwinds it with libdw: every function on the way, in order, down to
 * _start; a copy cut short ends the unwind early but keeps the inner
 * frames; a register the next frame needs but the copy lacks is a cut, not
 * the thread's start; garbage never loops; cached CFI rules give what
 * libdw gives.
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
#include "native.h"
#include "symtab.h"

#define COPY_MAX (64 << 10)

struct snapshot {
	__u64 regs[GP_NATIVE_REGS];
	uint8_t stack[COPY_MAX];
	uint32_t len;
};

static struct snapshot snap;
static struct gp_elf_cache cache;
static struct gp_unwinder *unwinder;

/* End of the mapping holding addr (the top of this thread's stack). */
static uint64_t mapping_end(uint64_t addr)
{
	unsigned long long start, end;
	char line[512];
	uint64_t found = 0;
	FILE *f = fopen("/proc/self/maps", "re");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx-%llx", &start, &end) == 2 && addr >= start && addr < end)
			found = end;
	fclose(f);
	return found;
}

/* The raw stack, as the kernel copies it: sanitizer redzones included. */
__attribute__((no_sanitize("address"), noinline)) static void raw_copy(uint8_t *dst,
									 const volatile uint8_t *src,
									 uint32_t len)
{
	for (uint32_t i = 0; i < len; i++)
		dst[i] = src[i];
}

/* Registers as the kernel saves them, then the stack above sp. */
__attribute__((noinline)) static void take_snapshot(void)
{
	__u64 *r = snap.regs;
	uint64_t end;

	__asm__ volatile("mov %%rbx, 24(%0)\n\t"
			 "mov %%rbp, 48(%0)\n\t"
			 "mov %%rsp, 56(%0)\n\t"
			 "mov %%r12, 96(%0)\n\t"
			 "mov %%r13, 104(%0)\n\t"
			 "mov %%r14, 112(%0)\n\t"
			 "mov %%r15, 120(%0)\n\t"
			 "lea 0(%%rip), %%rax\n\t"
			 "mov %%rax, 128(%0)\n\t"
			 :
			 : "r"(r)
			 : "rax", "memory");
	end = mapping_end(r[GP_REG_SP]);
	snap.len = end - r[GP_REG_SP] < COPY_MAX ? (uint32_t)(end - r[GP_REG_SP]) : COPY_MAX;
	raw_copy(snap.stack, (const volatile uint8_t *)(uintptr_t)r[GP_REG_SP], snap.len);
}

__attribute__((noinline)) static void inner_caller(void)
{
	take_snapshot();
	__asm__ volatile("" ::: "memory"); /* not a tail call */
}

__attribute__((noinline)) static void outer_caller(void)
{
	inner_caller();
	__asm__ volatile("" ::: "memory");
}

static const char *name_of(uint64_t pc, bool activation)
{
	uint64_t at = activation ? pc : pc - 1;
	const struct gp_native_map *m = gp_unwinder_map(unwinder, at);
	const char *name;

	if (!m || !m->file)
		return "?";
	name = gp_symtab_lookup(&m->file->syms, at - m->bias, NULL);
	return name ? name : "?";
}

static int setup(void **state)
{
	(void)state;
	gp_elf_cache_init(&cache);
	unwinder = gp_unwinder_new(getpid(), &cache);
	return unwinder ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	gp_unwinder_free(unwinder);
	gp_elf_cache_free(&cache);
	return 0;
}

static void test_unwinds_to_start(void **state)
{
	struct gp_native_frame out[GP_MAX_NATIVE_FRAMES];
	enum gp_unwind_end end;
	uint32_t n;

	(void)state;
	outer_caller();
	n = gp_unwind(unwinder, gettid(), snap.regs, snap.stack, snap.len, out,
		      GP_MAX_NATIVE_FRAMES, &end);
	assert_int_equal(end, GP_UNWIND_COMPLETE);
	assert_true(n >= 6);
	assert_true(out[0].activation);
	assert_string_equal(name_of(out[0].pc, true), "take_snapshot");
	assert_string_equal(name_of(out[1].pc, false), "inner_caller");
	assert_string_equal(name_of(out[2].pc, false), "outer_caller");
	assert_string_equal(name_of(out[3].pc, false), "test_unwinds_to_start");
	assert_string_equal(name_of(out[n - 1].pc, false), "_start");
	for (uint32_t i = 1; i < n; i++)
		assert_false(out[i].activation);
}

static void test_short_copy_keeps_inner_frames(void **state)
{
	struct gp_native_frame out[GP_MAX_NATIVE_FRAMES];
	enum gp_unwind_end end;
	uint32_t n;

	(void)state;
	outer_caller();
	/* Only the innermost frame's words: cut after a frame or two. */
	n = gp_unwind(unwinder, gettid(), snap.regs, snap.stack, 64, out, GP_MAX_NATIVE_FRAMES,
		      &end);
	assert_int_equal(end, GP_UNWIND_CUT);
	assert_true(n >= 1 && n <= 5);
	assert_string_equal(name_of(out[0].pc, true), "take_snapshot");
	/* A frame limit ends with DEPTH. */
	n = gp_unwind(unwinder, gettid(), snap.regs, snap.stack, snap.len, out, 2, &end);
	assert_int_equal(n, 2);
	assert_int_equal(end, GP_UNWIND_DEPTH);
}

static void test_garbage_stack_ends(void **state)
{
	struct gp_native_frame out[GP_MAX_NATIVE_FRAMES];
	__u64 regs[GP_NATIVE_REGS];
	enum gp_unwind_end end;
	uint32_t n;

	(void)state;
	outer_caller();
	memcpy(regs, snap.regs, sizeof(regs));
	/* A stack of return addresses that all point back into this frame. */
	for (uint32_t i = 0; i + 8 <= snap.len; i += 8)
		memcpy(snap.stack + i, &regs[GP_REG_IP], 8);
	n = gp_unwind(unwinder, gettid(), regs, snap.stack, snap.len, out, GP_MAX_NATIVE_FRAMES,
		      &end);
	assert_int_not_equal(end, GP_UNWIND_COMPLETE);
	assert_true(n <= GP_MAX_NATIVE_FRAMES);
	/* Registers pointing nowhere: nothing to unwind, no crash. */
	memset(regs, 0, sizeof(regs));
	n = gp_unwind(unwinder, gettid(), regs, snap.stack, 0, out, GP_MAX_NATIVE_FRAMES, &end);
	assert_true(n <= 1);
	assert_int_not_equal(end, GP_UNWIND_COMPLETE);
}

/*
 * A sample in an epilogue, between "pop %rbp" and "ret", as gcc emits it:
 * the CFI still says rbp is saved at CFA-16, which now lies below sp and
 * so outside the copy, and the caller's CFA is rbp-based. Neither path can
 * go on past the caller: that is a cut stack, not the thread's start.
 */
void gp_test_copy_stack(void);
void gp_test_fp_caller(void);

/* A frame-pointer prologue with its CFI, as gcc emits it. */
#define FP_PROLOGUE                     \
	".cfi_startproc\n"              \
	"push %rbp\n"                   \
	".cfi_def_cfa_offset 16\n"      \
	".cfi_offset %rbp, -16\n"       \
	"mov %rsp, %rbp\n"              \
	".cfi_def_cfa_register %rbp\n"

__asm__(".text\n"
	".type gp_test_epilogue_leaf, @function\n"
	"gp_test_epilogue_leaf:\n"
	FP_PROLOGUE
	"pop %rbp\n"
	".cfi_def_cfa %rsp, 8\n"
	"gp_test_epilogue_point:\n"
	"mov %rbx, snap+24(%rip)\n"
	"mov %rbp, snap+48(%rip)\n"
	"mov %rsp, snap+56(%rip)\n"
	"mov %r12, snap+96(%rip)\n"
	"mov %r13, snap+104(%rip)\n"
	"mov %r14, snap+112(%rip)\n"
	"mov %r15, snap+120(%rip)\n"
	"lea gp_test_epilogue_point(%rip), %rax\n"
	"mov %rax, snap+128(%rip)\n"
	"sub $8, %rsp\n"
	".cfi_def_cfa_offset 16\n"
	"call gp_test_copy_stack\n"
	"add $8, %rsp\n"
	".cfi_def_cfa_offset 8\n"
	"ret\n"
	".cfi_endproc\n"
	".size gp_test_epilogue_leaf, .-gp_test_epilogue_leaf\n"
	".globl gp_test_fp_caller\n"
	".type gp_test_fp_caller, @function\n"
	"gp_test_fp_caller:\n"
	FP_PROLOGUE
	"call gp_test_epilogue_leaf\n"
	"pop %rbp\n"
	".cfi_def_cfa %rsp, 8\n"
	"ret\n"
	".cfi_endproc\n"
	".size gp_test_fp_caller, .-gp_test_fp_caller\n");

/* Called from the epilogue above with snap.regs filled in: the copy. */
void gp_test_copy_stack(void)
{
	uint64_t end = mapping_end(snap.regs[GP_REG_SP]);

	snap.len = end - snap.regs[GP_REG_SP] < COPY_MAX ? (uint32_t)(end - snap.regs[GP_REG_SP])
							 : COPY_MAX;
	raw_copy(snap.stack, (const volatile uint8_t *)(uintptr_t)snap.regs[GP_REG_SP], snap.len);
}

static void test_unreadable_register_is_a_cut(void **state)
{
	struct gp_native_frame out[GP_MAX_NATIVE_FRAMES];
	enum gp_unwind_end end;
	uint32_t n;

	(void)state;
	gp_test_fp_caller();
	for (int fast = 1; fast >= 0; fast--) {
		gp_unwinder_set_fast(unwinder, fast);
		n = gp_unwind(unwinder, gettid(), snap.regs, snap.stack, snap.len, out,
			      GP_MAX_NATIVE_FRAMES, &end);
		assert_int_equal(end, GP_UNWIND_CUT);
		assert_true(n >= 1 && n <= 2);
		assert_string_equal(name_of(out[0].pc, true), "gp_test_epilogue_leaf");
		if (n == 2)
			assert_string_equal(name_of(out[1].pc, false), "gp_test_fp_caller");
	}
	gp_unwinder_set_fast(unwinder, true);
}

/* Cached rules give exactly what libdw gives, frame by frame. */
static void compare_paths(const __u64 *regs, uint32_t len)
{
	struct gp_native_frame a[GP_MAX_NATIVE_FRAMES], b[GP_MAX_NATIVE_FRAMES];
	enum gp_unwind_end ea, eb;
	uint32_t na, nb;
	uint64_t fast0, slow0, fast1, slow1;

	gp_unwinder_paths(unwinder, &fast0, &slow0);
	gp_unwinder_set_fast(unwinder, true);
	na = gp_unwind(unwinder, gettid(), regs, snap.stack, len, a, GP_MAX_NATIVE_FRAMES, &ea);
	gp_unwinder_set_fast(unwinder, false);
	nb = gp_unwind(unwinder, gettid(), regs, snap.stack, len, b, GP_MAX_NATIVE_FRAMES, &eb);
	gp_unwinder_set_fast(unwinder, true);
	gp_unwinder_paths(unwinder, &fast1, &slow1);
	assert_int_equal(fast1 - fast0, 1);
	assert_int_equal(slow1 - slow0, 1);
	assert_int_equal(na, nb);
	assert_int_equal(ea, eb);
	for (uint32_t i = 0; i < na; i++) {
		assert_int_equal(a[i].pc, b[i].pc);
		assert_int_equal(a[i].activation, b[i].activation);
	}
}

static void test_cached_rules_match_libdw(void **state)
{
	(void)state;
	outer_caller();
	compare_paths(snap.regs, snap.len);
	compare_paths(snap.regs, 64);
	compare_paths(snap.regs, 200);
	/* A second time: from the cache. */
	compare_paths(snap.regs, snap.len);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unwinds_to_start),
		cmocka_unit_test(test_short_copy_keeps_inner_frames),
		cmocka_unit_test(test_garbage_stack_ends),
		cmocka_unit_test(test_cached_rules_match_libdw),
		cmocka_unit_test(test_unreadable_register_is_a_cut),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
