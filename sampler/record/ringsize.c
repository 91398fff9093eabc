// SPDX-License-Identifier: BSD-2-Clause
/*
 * ringsize.c — how large the ring buffer between the BPF programs and
 * gil-prof is, by default.
 *
 * The ring costs gil-prof twice its size in resident memory from the
 * start: the kernel maps its data pages twice in a row (so a record that
 * wraps reads contiguously) and maps every page at mmap time. Sizing it
 * for the worst record (a full stack copy on every CPU at any rate) made
 * --native keep 128 MiB of a 64 MiB ring resident. On-CPU samples come at
 * most rate x CPUs per second, so the ring holds what they bring in
 * GP_RING_DRAIN_MS (four of the consumer's 100 ms polls; it is also woken
 * when the ring is a quarter full), rounded up to a power of two (the
 * kernel requires one). The floor covers what is not bounded by the rate:
 * wall mode's switch records and bursts while gil-prof loads a module's
 * symbols; the cap keeps a large machine at a high rate from pinning
 * gigabytes (--ring-size goes up to 1 GiB). A full ring is never silent:
 * the kernel counts every record it drops (GP_CNT_RB_FULL), the summary
 * and the profiles say how many.
 */
#include "ringsize.h"

#include "../../bpf/gilprof.h"

uint64_t gp_ring_record_bytes(const struct gp_ring_params *p)
{
	uint64_t bytes = GP_SAMPLE_HDR_SIZE + GP_RING_TYPICAL_FRAMES * sizeof(struct gp_frame);

	if (p->stack_bytes || p->kernel_stack)
		bytes += sizeof(struct gp_native);
	if (p->kernel_stack)
		bytes += GP_MAX_KERNEL_FRAMES * sizeof(uint64_t);
	return bytes + p->stack_bytes;
}

static uint64_t round_up_pow2(uint64_t v)
{
	uint64_t p = 1;

	while (p < v)
		p <<= 1;
	return p;
}

uint32_t gp_ring_bytes(const struct gp_ring_params *p)
{
	uint64_t ncpus = p->ncpus ? p->ncpus : 1;
	uint64_t need = (uint64_t)p->rate_hz * ncpus * gp_ring_record_bytes(p) *
			GP_RING_DRAIN_MS / 1000;

	need = round_up_pow2(need);
	if (need < GP_RING_FLOOR_BYTES)
		return GP_RING_FLOOR_BYTES;
	if (need > GP_RING_CAP_BYTES)
		return GP_RING_CAP_BYTES;
	return (uint32_t)need;
}
