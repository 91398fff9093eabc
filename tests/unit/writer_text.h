/* SPDX-License-Identifier: BSD-2-Clause */
/* What an output writer makes of a profile, as a string (free it). */
#ifndef GP_TEST_WRITER_TEXT_H
#define GP_TEST_WRITER_TEXT_H

#include <stdio.h>

#include "output.h"
#include "profile.h"

/* noinline: inlined, GCC's -Wdangling-pointer takes buf for a dead local. */
static __attribute__((noinline)) char *
writer_text(int (*writer)(const struct gp_profile *, FILE *), const struct gp_profile *p)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(writer(p, f), 0);
	fclose(f);
	return buf;
}

#endif
