// SPDX-License-Identifier: BSD-2-Clause
/* The default ring buffer size: rate x CPUs x record size, bounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ringsize.h"
#include "../../bpf/gilprof.h"

static int pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* What the ring must hold, computed independently of ringsize.c's rounding. */
static uint64_t needed(const struct gp_ring_params *p)
{
	return (uint64_t)p->rate_hz * p->ncpus * gp_ring_record_bytes(p) * GP_RING_DRAIN_MS / 1000;
}

static void test_record_bytes(void **state)
{
	struct gp_ring_params py = { .rate_hz = 100, .ncpus = 2 };
	struct gp_ring_params nat = { .rate_hz = 100, .ncpus = 2, .stack_bytes = 16384 };
	struct gp_ring_params kern = { .rate_hz = 100, .ncpus = 2, .kernel_stack = true };

	(void)state;
	assert_int_equal(gp_ring_record_bytes(&py),
			 GP_SAMPLE_HDR_SIZE + GP_RING_TYPICAL_FRAMES * sizeof(struct gp_frame));
	/* The stack copy dominates a native record. */
	assert_int_equal(gp_ring_record_bytes(&nat),
			 gp_ring_record_bytes(&py) + sizeof(struct gp_native) + 16384);
	assert_int_equal(gp_ring_record_bytes(&kern), gp_ring_record_bytes(&py) +
			 sizeof(struct gp_native) + GP_MAX_KERNEL_FRAMES * sizeof(uint64_t));
}

static void test_floor_on_small_machines(void **state)
{
	/* The bench's machine: 2 CPUs, --native 16K at 100 and 1000 Hz. */
	struct gp_ring_params p = { .rate_hz = 100, .ncpus = 2, .stack_bytes = 16384 };

	(void)state;
	assert_int_equal(gp_ring_bytes(&p), GP_RING_FLOOR_BYTES);
	p.rate_hz = 1000;
	assert_true(needed(&p) <= GP_RING_FLOOR_BYTES);
	assert_int_equal(gp_ring_bytes(&p), GP_RING_FLOOR_BYTES);
	p.stack_bytes = 0;
	assert_int_equal(gp_ring_bytes(&p), GP_RING_FLOOR_BYTES);
	/* No CPU count known: one CPU. */
	p.ncpus = 0;
	assert_int_equal(gp_ring_bytes(&p), GP_RING_FLOOR_BYTES);
}

static void test_grows_with_rate_and_cpus(void **state)
{
	struct gp_ring_params p = { .rate_hz = 1000, .ncpus = 16, .stack_bytes = 16384 };
	uint32_t prev = 0;

	(void)state;
	for (unsigned int cpus = 1; cpus <= 1024; cpus *= 2) {
		uint32_t got;

		p.ncpus = cpus;
		got = gp_ring_bytes(&p);
		assert_true(pow2(got));
		assert_true(got >= prev);
		assert_true(got >= GP_RING_FLOOR_BYTES && got <= GP_RING_CAP_BYTES);
		/* Holds the drain window unless capped, and not twice as much. */
		if (got < GP_RING_CAP_BYTES)
			assert_true(got >= needed(&p));
		if (got > GP_RING_FLOOR_BYTES)
			assert_true(got < 2 * needed(&p));
		prev = got;
	}
	/* 16 CPUs at 1000 Hz, 16K copies: 16000 x ~18 KiB x 0.4 s = ~113 MiB -> 128 MiB. */
	p.ncpus = 16;
	assert_int_equal(gp_ring_bytes(&p), 128u << 20);
	/* A deep stack copy on many CPUs stops at the cap. */
	p.ncpus = 256;
	p.stack_bytes = GP_MAX_STACK_BYTES;
	assert_int_equal(gp_ring_bytes(&p), GP_RING_CAP_BYTES);
}

static void test_extremes_do_not_overflow(void **state)
{
	struct gp_ring_params p = { .rate_hz = 100000, .ncpus = 8192,
				    .stack_bytes = GP_MAX_STACK_BYTES, .kernel_stack = true };

	(void)state;
	assert_int_equal(gp_ring_bytes(&p), GP_RING_CAP_BYTES);
	p.rate_hz = 1;
	p.ncpus = 1;
	assert_int_equal(gp_ring_bytes(&p), GP_RING_FLOOR_BYTES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_bytes),
		cmocka_unit_test(test_floor_on_small_machines),
		cmocka_unit_test(test_grows_with_rate_and_cpus),
		cmocka_unit_test(test_extremes_do_not_overflow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
