// SPDX-License-Identifier: BSD-2-Clause
/*
 * Is a profile trustworthy (account/trust.c)? And the reason picked out of
 * a verifier log for the one-line refusal (record/bpflog.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "bpflog.h"
#include "kfeatures.h"
#include "trust.h"

static void add(struct gp_trust *t, uint32_t idx, pid_t pid, int with, int without)
{
	for (int i = 0; i < with; i++)
		assert_int_equal(gp_trust_add(t, idx, pid, true), 0);
	for (int i = 0; i < without; i++)
		assert_int_equal(gp_trust_add(t, idx, pid, false), 0);
}

/* No thread of the process ever had its stack: the lookup failed (6.1). */
static void test_nothing_found_is_untrusted(void **state)
{
	struct gp_trust t = { 0 };
	struct gp_trust_verdict v;

	(void)state;
	add(&t, 0, 10, 0, 300);
	add(&t, 1, 10, 0, 200);
	gp_trust_judge(&t, &v);
	assert_false(v.trusted);
	assert_int_equal(v.records, 500);
	assert_int_equal(v.missing, 500);
	gp_trust_free(&t);
}

/* Busy C threads without a thread state say nothing against the sampler. */
static void test_c_threads_are_no_evidence(void **state)
{
	struct gp_trust t = { 0 };
	struct gp_trust_verdict v;

	(void)state;
	add(&t, 0, 10, 50, 2);
	add(&t, 1, 10, 0, 400);
	add(&t, 2, 10, 0, 400);
	gp_trust_judge(&t, &v);
	assert_true(v.trusted);
	assert_int_equal(v.c_threads, 800);
	assert_int_equal(v.missing, 2);
	gp_trust_free(&t);
}

/* Per process: a child whose lookup fails is not rescued by its parent. */
static void test_judged_per_process(void **state)
{
	struct gp_trust t = { 0 };
	struct gp_trust_verdict v;

	(void)state;
	add(&t, 0, 10, 40, 0);
	add(&t, 3, 11, 0, 100);
	gp_trust_judge(&t, &v);
	assert_false(v.trusted);
	assert_int_equal(v.missing, 100);
	assert_int_equal(v.c_threads, 0);
	gp_trust_free(&t);
}

/* Python threads that mostly come without their stack: a flaky lookup. */
static void test_mostly_missing_is_untrusted(void **state)
{
	struct gp_trust t = { 0 };
	struct gp_trust_verdict v;

	(void)state;
	add(&t, 0, 10, 30, 70);
	gp_trust_judge(&t, &v);
	assert_false(v.trusted);
	add(&t, 0, 10, 41, 0);
	gp_trust_judge(&t, &v);
	assert_true(v.trusted); /* 71 of 141 is the half, not more */
	gp_trust_free(&t);
}

static void test_few_records_are_not_judged(void **state)
{
	struct gp_trust t = { 0 };
	struct gp_trust_verdict v;

	(void)state;
	gp_trust_judge(&t, &v);
	assert_true(v.trusted);
	add(&t, 0, 10, 0, GP_TRUST_MIN_RECORDS - 1);
	gp_trust_judge(&t, &v);
	assert_true(v.trusted);
	add(&t, 0, 10, 0, 1);
	gp_trust_judge(&t, &v);
	assert_false(v.trusted);
	gp_trust_free(&t);
}

/* Logs as 6.1, 7.2 and 6.19 wrote them (shortened). */
static void test_verifier_reason(void **state)
{
	char out[256];

	(void)state;
	gp_bpflog_reason("0: R1=ctx(off=0,imm=0) R10=fp0\n"
			 "; int gil_written(struct bpf_perf_event_data *ctx)\n"
			 "1081: (85) call bpf_ringbuf_output#130\n"
			 "R2 min value is outside of the allowed memory range\n"
			 "invalid access to map value, value_size=24648 off=8 size=160976\n"
			 "R2 min value is outside of the allowed memory range\n"
			 "processed 26177 insns (limit 1000000) max_states_per_insn 4\n",
			 out, sizeof(out));
	assert_string_equal(out, "R2 min value is outside of the allowed memory range");
	gp_bpflog_reason("2291: (85) call unknown#195896080\n"
			 "2291: <invalid CO-RE relocation>\n"
			 "failed to resolve CO-RE relocation <byte_off> [71] struct "
			 "task_struct.on_cpu (0:46 @ offset 92)\n"
			 "processed 2101 insns (limit 1000000)\n",
			 out, sizeof(out));
	assert_string_equal(out, "failed to resolve CO-RE relocation <byte_off> [71] struct "
				 "task_struct.on_cpu (0:46 @ offset 92)");
	gp_bpflog_reason("BPF program is too large. Processed 1000001 insn\n"
			 "processed 1000001 insns (limit 1000000) max_states_per_insn 30\n",
			 out, sizeof(out));
	assert_string_equal(out, "BPF program is too large. Processed 1000001 insn");
	gp_bpflog_reason("", out, sizeof(out));
	assert_string_equal(out, "");
}

/* A kernel is refused for what the recording needs, all of it in one line. */
static void test_feature_refusal(void **state)
{
	struct gp_features f = { .release = "5.10.0-32-amd64" };
	struct gp_feature_needs cpu = { 0 }, wall = { .wall = true, .native = true };
	char buf[512];

	(void)state;
	for (int i = 0; i < GP_FEAT__MAX; i++)
		f.has[i] = true;
	assert_int_equal(gp_features_refusal(&f, &wall, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	/* Optional: the iterator then walks every task. */
	f.has[GP_FEAT_ITER_TASK_PID] = false;
	assert_int_equal(gp_features_refusal(&f, &wall, buf, sizeof(buf)), 0);
	f.has[GP_FEAT_COPY_FROM_USER_TASK] = false;
	assert_int_equal(gp_features_refusal(&f, &cpu, buf, sizeof(buf)), 0);
	assert_int_equal(gp_features_refusal(&f, &wall, buf, sizeof(buf)), 1);
	assert_string_equal(buf, "this kernel (5.10.0-32-amd64) lacks bpf_copy_from_user_task (5.18+)");
	f.has[GP_FEAT_LOOP] = false;
	assert_int_equal(gp_features_refusal(&f, &cpu, buf, sizeof(buf)), 1);
	assert_string_equal(buf, "this kernel (5.10.0-32-amd64) lacks bpf_loop (5.17+)");
	assert_int_equal(gp_features_refusal(&f, &wall, buf, sizeof(buf)), 2);
	assert_string_equal(buf, "this kernel (5.10.0-32-amd64) lacks bpf_loop (5.17+), "
				 "bpf_copy_from_user_task (5.18+)");
}

/* check's per-feature lines: each feature is needed, optional, or has a fallback. */
static void test_feature_needs(void **state)
{
	struct gp_feature_needs cpu = { 0 }, wall = { .wall = true }, native = { .native = true };

	(void)state;
	assert_true(gp_feature_needed(GP_FEAT_LOOP, &cpu));
	assert_true(gp_feature_needed(GP_FEAT_RINGBUF, &cpu));
	assert_false(gp_feature_needed(GP_FEAT_COPY_FROM_USER_TASK, &cpu));
	assert_true(gp_feature_needed(GP_FEAT_COPY_FROM_USER_TASK, &wall));
	assert_false(gp_feature_needed(GP_FEAT_FIND_VMA, &wall));
	assert_true(gp_feature_needed(GP_FEAT_FIND_VMA, &native));
	assert_false(gp_feature_needed(GP_FEAT_ITER_TASK_PID, &wall));
	assert_true(gp_feature_from_btf(GP_FEAT_SWITCH_STATE));
	assert_false(gp_feature_from_btf(GP_FEAT_LOOP));
	for (int i = 0; i < GP_FEAT__MAX; i++) {
		assert_string_not_equal(gp_feature_use(i), "?");
		assert_string_not_equal(gp_feature_since(i), "?");
	}
	assert_string_equal(gp_feature_use(GP_FEAT__MAX), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nothing_found_is_untrusted),
		cmocka_unit_test(test_c_threads_are_no_evidence),
		cmocka_unit_test(test_judged_per_process),
		cmocka_unit_test(test_mostly_missing_is_untrusted),
		cmocka_unit_test(test_few_records_are_not_judged),
		cmocka_unit_test(test_verifier_reason),
		cmocka_unit_test(test_feature_refusal),
		cmocka_unit_test(test_feature_needs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
