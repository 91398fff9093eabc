// SPDX-License-Identifier: BSD-2-Clause
/*
 * interpreters.c — which sub-interpreters a process runs besides the main
 * one. The sampler finds a thread's state in the main interpreter first
 * (gilprof.bpf.c); users are told when others exist, because a thread that
 * entered one is shown with the main-interpreter stack that entered it.
 */
#include "interpreters.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static bool seen_id(const struct gp_interps *seen, int64_t id)
{
	for (unsigned int i = 0; i < seen->n; i++)
		if (seen->ids[i] == id)
			return true;
	return false;
}

static void add_id(struct gp_interps *seen, int64_t id)
{
	if (seen_id(seen, id))
		return;
	if (seen->n == GP_INTERP_MAX) {
		seen->more = true;
		return;
	}
	seen->ids[seen->n++] = id;
}

int gp_interps_scan(const struct py_layout *L, const struct gp_mem *m, uint64_t runtime,
		    struct gp_interps *seen)
{
	uint64_t visited[GP_INTERP_MAX], interp, main_interp = 0;
	unsigned int n = 0;

	if (gp_mem_read_u64(m, runtime + L->rt_interp_main, &main_interp) ||
	    gp_mem_read_u64(m, runtime + L->rt_interp_head, &interp))
		return -1;
	while (interp) {
		int64_t id;

		for (unsigned int i = 0; i < n; i++)
			if (visited[i] == interp)
				return 0; /* the list loops: torn or corrupt */
		if (n == GP_INTERP_MAX) {
			seen->more = true;
			return 0;
		}
		visited[n++] = interp;
		if (interp != main_interp) {
			if (gp_mem_read(m, interp + L->interp_id, &id, sizeof(id)))
				return 0;
			add_id(seen, id);
		}
		if (gp_mem_read_u64(m, interp + L->interp_next, &interp))
			return 0;
	}
	return 0;
}

void gp_interps_format(const struct gp_interps *seen, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < seen->n && at < len; i++)
		at += (size_t)snprintf(buf + at, len - at, "%s%" PRId64, i ? ", " : "",
				       seen->ids[i]);
	if (seen->more && at < len)
		snprintf(buf + at, len - at, " and more");
}
