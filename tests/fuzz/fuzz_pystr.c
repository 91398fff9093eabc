// SPDX-License-Identifier: BSD-2-Clause
/*
 * A str object in target memory, read with every version's layout. Input:
 * the object bytes (header and characters) at a fixed address; its length,
 * state word and data pointer are whatever the input says.
 */
#include <stdint.h>
#include <string.h>

#include "pystr.h"
#include "pyversion.h"

#define BASE 0x700000000000ULL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gp_mem_buf mb = { BASE, data, size };
	struct gp_mem m = gp_mem_buffer(&mb);
	char out[256];

	for (size_t i = 0; i < gp_py_layouts_count; i++) {
		if (!gp_read_pystr(&gp_py_layouts[i], &m, BASE, out, sizeof(out)))
			if (strlen(out) >= sizeof(out))
				__builtin_trap();
		gp_read_pystr(&gp_py_layouts[i], &m, BASE + 8, out, 4);
	}
	return 0;
}
