// SPDX-License-Identifier: BSD-2-Clause
/*
 * repr() of objects of a fake target (unwind/pyrepr.c): nested containers,
 * ints of any size, str of every kind, corrupt counts and pointers, read
 * with one version's layout rows. Input: byte 0 picks the version, bytes
 * 8-15 the object's address, the whole input is the memory at BASE. Seeds:
 * images written by tests/unit/test_pyrepr.c (GP_PYREPR_SEEDS=DIR).
 */
#include <stdint.h>
#include <string.h>

#include "pyobj.h"
#include "pyrepr.h"
#include "pyversion.h"

#define BASE 0x100000ULL /* as in tests/unit/test_pyrepr.c */

static const uint32_t versions[] = { 0x03090000, 0x030a0000, 0x030b0000, 0x030c0000,
				     0x030d0000, 0x030e0000, 0x030f0000 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gp_mem_buf mb = { BASE, data, size };
	uint32_t v;
	struct gp_pyobj r;
	uint64_t obj;
	char buf[512];

	if (size < 16)
		return 0;
	v = versions[data[0] % (sizeof(versions) / sizeof(versions[0]))];
	r.L = gp_layout_for(v, false);
	r.O = gp_objlayout_for(v);
	if (!r.L || !r.O)
		return 0;
	r.mem = gp_mem_buffer(&mb);
	memcpy(&obj, data + 8, 8);
	gp_pyrepr(&r, obj, buf, sizeof(buf));
	/* Always a NUL-terminated string within the buffer. */
	if (strnlen(buf, sizeof(buf)) == sizeof(buf))
		__builtin_trap();
	return 0;
}
