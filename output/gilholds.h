/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_GILHOLDS_H
#define GP_GILHOLDS_H

#include <stdio.h>

struct gp_profile;

/* The report's GIL hold/wait durations and hand-offs (from p->timeline). 0 or -1. */
int gp_report_holds(const struct gp_profile *p, FILE *out);

#endif
