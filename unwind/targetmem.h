/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_TARGETMEM_H
#define GP_TARGETMEM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Largest single read of target memory: nothing the target says is bigger. */
#define GP_MEM_MAX_READ (1u << 20)

/*
 * A source of target memory. The profiler reads the live process through
 * process_vm_readv; tests and fuzzers plug in a buffer. read() copies exactly
 * len bytes or fails (returns non-zero): partial data is never used.
 */
struct gp_mem {
	int (*read)(void *ctx, uint64_t addr, void *buf, size_t len);
	void *ctx;
};

/* Exact, bounded read; 0 on success, -1 on any failure (len 0 succeeds). */
int gp_mem_read(const struct gp_mem *m, uint64_t addr, void *buf, size_t len);
int gp_mem_read_u64(const struct gp_mem *m, uint64_t addr, uint64_t *out);
int gp_mem_read_s32(const struct gp_mem *m, uint64_t addr, int32_t *out);

/* A gp_mem reading process pid (ctx points at the pid_t, owned by caller). */
struct gp_mem gp_mem_process(pid_t *pid);

/* A gp_mem over a buffer that stands at address base (tests, fuzzers). */
struct gp_mem_buf {
	uint64_t base;
	const uint8_t *data;
	size_t len;
};
struct gp_mem gp_mem_buffer(struct gp_mem_buf *b);

#endif
