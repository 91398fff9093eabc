// SPDX-License-Identifier: BSD-2-Clause
/*
 * targetmem.c — bounded reads of the profiled process's memory. Every read
 * of target memory in user space goes through gp_mem_read: lengths are
 * capped, and a short or failed read is an error, never partial data.
 */
#define _GNU_SOURCE
#include "targetmem.h"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>

int gp_mem_read(const struct gp_mem *m, uint64_t addr, void *buf, size_t len)
{
	if (!len)
		return 0;
	if (len > GP_MEM_MAX_READ || !addr || addr + len < addr)
		return -1;
	return m->read(m->ctx, addr, buf, len) ? -1 : 0;
}

int gp_mem_read_u64(const struct gp_mem *m, uint64_t addr, uint64_t *out)
{
	return gp_mem_read(m, addr, out, sizeof(*out));
}

int gp_mem_read_s32(const struct gp_mem *m, uint64_t addr, int32_t *out)
{
	return gp_mem_read(m, addr, out, sizeof(*out));
}

static int process_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	struct iovec local = { buf, len };
	struct iovec remote = { (void *)(uintptr_t)addr, len };
	ssize_t n = process_vm_readv(*(pid_t *)ctx, &local, 1, &remote, 1, 0);

	return n == (ssize_t)len ? 0 : -1;
}

struct gp_mem gp_mem_process(pid_t *pid)
{
	return (struct gp_mem){ process_read, pid };
}

static int buffer_read(void *ctx, uint64_t addr, void *buf, size_t len)
{
	const struct gp_mem_buf *b = ctx;

	if (addr < b->base || addr - b->base > b->len || len > b->len - (addr - b->base))
		return -1;
	memcpy(buf, b->data + (addr - b->base), len);
	return 0;
}

struct gp_mem gp_mem_buffer(struct gp_mem_buf *b)
{
	return (struct gp_mem){ buffer_read, b };
}
