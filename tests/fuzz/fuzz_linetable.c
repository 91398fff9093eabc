// SPDX-License-Identifier: BSD-2-Clause
/*
 * Line tables come from target memory. Input: format, first line and
 * instruction offset, then the table; every format must stay in bounds.
 */
#include <stdint.h>
#include <string.h>

#include "linetable.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int32_t first, lasti;

	if (size < 9)
		return 0;
	memcpy(&first, data + 1, 4);
	memcpy(&lasti, data + 5, 4);
	gp_line_for(data[0] % 5, data + 9, size - 9, first, lasti);
	/* every offset of a small table, as the symbolizer asks them */
	for (int off = -2; off < 64; off += 2)
		gp_line_for(1 + data[0] % 3, data + 9, size - 9, first, off);
	return 0;
}
