/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_RINGSIZE_H
#define GP_RINGSIZE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * The default kernel-to-gil-prof ring buffer: sized to what the sampler
 * can send per second, not to the worst record (see ringsize.c).
 */
#define GP_RING_FLOOR_BYTES (16u << 20)
#define GP_RING_CAP_BYTES (256u << 20)
/* Python frames a record is assumed to carry when sizing (not a limit). */
#define GP_RING_TYPICAL_FRAMES 64u
/* Seconds of records the ring holds: the consumer polls every 100 ms. */
#define GP_RING_DRAIN_MS 400u

struct gp_ring_params {
	unsigned int rate_hz;  /* CPU-clock samples per second per CPU */
	unsigned int ncpus;    /* CPUs sampled: at most ncpus samples per tick */
	uint32_t stack_bytes;  /* --native: user stack copied per sample; 0: none */
	bool kernel_stack;     /* --kernel: kernel return addresses per sample */
};

/* Bytes one on-CPU sample takes in the ring, as sized for. */
uint64_t gp_ring_record_bytes(const struct gp_ring_params *p);
/*
 * The ring's size: a power of two holding GP_RING_DRAIN_MS of samples at
 * the rate on every CPU, at least GP_RING_FLOOR_BYTES, at most
 * GP_RING_CAP_BYTES.
 */
uint32_t gp_ring_bytes(const struct gp_ring_params *p);

#endif
