/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_INTERPRETERS_H
#define GP_INTERPRETERS_H

#include <stdbool.h>
#include <stdint.h>

#include "../../bpf/gilprof.h"
#include "../../unwind/targetmem.h"

/* Interpreters followed in a process's list; more are counted, not named. */
#define GP_INTERP_MAX 64

/* Sub-interpreter ids seen in a process (across several looks). */
struct gp_interps {
	int64_t ids[GP_INTERP_MAX];
	unsigned int n;
	bool more;            /* the list went on past GP_INTERP_MAX or looped */
};

/*
 * Walk the runtime's interpreter list (newest first) and add the ids of
 * all but the main interpreter to *seen. Bounded and loop-safe: the list is
 * target memory. Returns -1 if the list could not be read at all.
 */
int gp_interps_scan(const struct py_layout *L, const struct gp_mem *m, uint64_t runtime,
		    struct gp_interps *seen);

/* "1, 2, 5" (and " and more") into buf. */
void gp_interps_format(const struct gp_interps *seen, char *buf, size_t len);

#endif
