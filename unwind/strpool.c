// SPDX-License-Identifier: BSD-2-Clause
/* strpool.c — a buffer of NUL-terminated names addressed by offset. */
#include "strpool.h"

#include <stdlib.h>
#include <string.h>

int gp_strpool_add(struct gp_strpool *p, const char *s, uint32_t *off)
{
	size_t len = strlen(s) + 1;

	if (p->len + len > UINT32_MAX)
		return -1;
	if (p->len + len > p->cap) {
		size_t ncap = p->cap ? p->cap * 2 : 65536;
		char *nb;

		while (ncap < p->len + len)
			ncap *= 2;
		nb = realloc(p->buf, ncap);
		if (!nb)
			return -1;
		p->buf = nb;
		p->cap = ncap;
	}
	memcpy(p->buf + p->len, s, len);
	*off = (uint32_t)p->len;
	p->len += len;
	return 0;
}

void gp_strpool_free(struct gp_strpool *p)
{
	free(p->buf);
	p->buf = NULL;
	p->len = p->cap = 0;
}
