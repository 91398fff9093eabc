/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_BLAMEREPORT_H
#define GP_BLAMEREPORT_H

#include <stdio.h>

struct gp_profile;

/* The report's sections on who held the GIL while others waited. 0, or -1 (errno). */
int gp_report_blame(const struct gp_profile *p, FILE *out);

#endif
