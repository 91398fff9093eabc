/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fake target memory for unit tests: CPython objects laid out with a
 * generated layout row in a buffer that stands at address base.
 */
#ifndef GP_FAKE_TARGET_H
#define GP_FAKE_TARGET_H

#include <stdint.h>
#include <string.h>

#include "pyversion.h"

struct fake_target {
	uint8_t *mem;
	uint64_t base;
	uint64_t next;               /* where the next object goes */
	const struct py_layout *L;
};

static inline void fake_put64(struct fake_target *f, uint64_t addr, uint64_t v)
{
	memcpy(f->mem + (addr - f->base), &v, 8);
}

static inline void fake_put32(struct fake_target *f, uint64_t addr, int32_t v)
{
	memcpy(f->mem + (addr - f->base), &v, 4);
}

/* A compact ASCII str object; returns its address. */
static inline uint64_t fake_ascii_str(struct fake_target *f, const char *s)
{
	const struct py_layout *L = f->L;
	uint64_t at = f->next;
	uint32_t state = 1u << L->str_kind_shift | L->str_compact_mask | L->str_ascii_mask;

	fake_put64(f, at + L->str_length, strlen(s));
	memcpy(f->mem + (at - f->base) + L->str_state, &state, 4);
	memcpy(f->mem + (at - f->base) + L->str_ascii_data, s, strlen(s) + 1);
	f->next += (L->str_ascii_data + strlen(s) + 16) & ~7u;
	return at;
}

/* A bytes object holding b[0..n); returns its address. */
static inline uint64_t fake_bytes(struct fake_target *f, const uint8_t *b, size_t n)
{
	const struct py_layout *L = f->L;
	uint64_t at = f->next;

	fake_put64(f, at + L->bytes_size, n);
	memcpy(f->mem + (at - f->base) + L->bytes_data, b, n);
	f->next += (L->bytes_data + n + 16) & ~7u;
	return at;
}

#endif
