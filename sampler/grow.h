/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * grow.h — the one "append to a doubling array" helper of sampler/.
 */
#ifndef GP_GROW_H
#define GP_GROW_H

#include <stddef.h>
#include <stdlib.h>

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

#endif
