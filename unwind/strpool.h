/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_STRPOOL_H
#define GP_STRPOOL_H

#include <stddef.h>
#include <stdint.h>

/*
 * Names packed into one growing buffer, referred to by 32-bit offsets:
 * symbol tables hold many thousands of them. And the lookup they share.
 */
struct gp_strpool {
	char *buf;
	size_t len, cap;
};

/* Copy s in; *off is where it starts. 0, or -1 when out of memory or room. */
int gp_strpool_add(struct gp_strpool *p, const char *s, uint32_t *off);
void gp_strpool_free(struct gp_strpool *p);

/*
 * In an array of n records sorted by a leading uint64_t key, the number of
 * records whose key is <= key (so record [result - 1] is the last of them).
 */
static inline size_t gp_count_le(const void *base, size_t n, size_t stride, uint64_t key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (*(const uint64_t *)((const char *)base + mid * stride) <= key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static inline const char *gp_strpool_at(const struct gp_strpool *p, uint32_t off)
{
	return p->buf + off;
}

#endif
