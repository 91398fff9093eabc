// SPDX-License-Identifier: BSD-2-Clause
/* /proc/PID/maps text: parse, find, and compute load biases. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "procmaps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gp_maps m;
	uint64_t bias;
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (!gp_maps_parse(text, &m)) {
		for (size_t i = 0; i < m.n; i++)
			if (m.v[i].path)
				gp_maps_bias(&m, m.v[i].path, m.v[i].offset, m.v[i].start, &bias);
		gp_maps_find_prefix(&m, "libpython");
		gp_maps_free(&m);
	}
	free(text);
	return 0;
}
