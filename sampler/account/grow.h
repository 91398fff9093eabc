/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * grow.h — the doubling-array helpers of sampler/.
 */
#ifndef GP_GROW_H
#define GP_GROW_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/*
 * Make room in *v (n elements of size sz used, *cap allocated) for one
 * more: doubles, starting at first. -1 on ENOMEM, *v and *cap unchanged.
 */
static inline int gp_grow(void **v, size_t n, size_t *cap, size_t sz, size_t first)
{
	size_t ncap;
	void *nv;

	if (n < *cap)
		return 0;
	ncap = *cap ? *cap * 2 : first;
	nv = realloc(*v, ncap * sz);
	if (!nv)
		return -1;
	*v = nv;
	*cap = ncap;
	return 0;
}

/* gp_grow for an array v of known element type, n used, cap allocated. */
#define GP_GROW(v, n, cap, first) gp_grow((void **)&(v), (n), &(cap), sizeof(*(v)), (first))

/*
 * Make index i of *v (*n elements of size sz) exist, for arrays indexed by
 * thread: doubles from first until it does, new elements zeroed. -1 on
 * ENOMEM, *v and *n unchanged.
 */
static inline int gp_grow_index(void **v, size_t *n, size_t i, size_t sz, size_t first)
{
	size_t ncap = *n ? *n : first;
	char *nv;

	if (i < *n)
		return 0;
	while (ncap <= i)
		ncap *= 2;
	nv = realloc(*v, ncap * sz);
	if (!nv)
		return -1;
	memset(nv + *n * sz, 0, (ncap - *n) * sz);
	*v = nv;
	*n = ncap;
	return 0;
}

#define GP_GROW_INDEX(v, n, i, first) \
	gp_grow_index((void **)&(v), &(n), (i), sizeof(*(v)), (first))

#endif
