// SPDX-License-Identifier: BSD-2-Clause
/*
 * write_synthetic — writes the synthetic profile (synthetic_profile.h) in
 * every format, through the same atomic writer gil-prof uses:
 *
 *   write_synthetic DIR    ->  DIR/synthetic.folded, .pb.gz, .speedscope.json,
 *                              .svg, .html
 *
 * The functional tests validate these with the real consumers: they hold
 * GIL states, GC labels and native frames that a recording may not have.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../../output/output.h"
#include "synthetic_profile.h"

int main(int argc, char **argv)
{
	static const char *const names[] = { "synthetic.folded", "synthetic.pb.gz",
					     "synthetic.speedscope.json", "synthetic.svg",
					     "synthetic.html" };
	struct gp_profile p;
	char path[4096];
	int rc = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: write_synthetic DIR\n");
		return 2;
	}
	if (synthetic_profile(&p)) {
		fprintf(stderr, "write_synthetic: out of memory\n");
		return 1;
	}
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", argv[1], names[i]);
		if (gp_output_write(&p, path, gp_format_from_path(path))) {
			fprintf(stderr, "write_synthetic: %s: %s\n", path, strerror(errno));
			rc = 1;
		}
	}
	gp_profile_free(&p);
	return rc;
}
