// SPDX-License-Identifier: BSD-2-Clause
/*
 * dump --locals' frame walk (unwind/pylocals.c) over a fake target: thread
 * states, frame chains, code objects, localsplus slots, cells, read with
 * one version's layout rows. Input: byte 0 picks the version, bytes 8-15
 * the runtime's address, the whole input is the memory at BASE; the thread
 * is TID / PTHREAD. Seeds: images written by tests/unit/test_pylocals.c
 * (GP_PYLOCALS_SEEDS=DIR).
 */
#include <stdint.h>
#include <string.h>

#include "pylocals.h"
#include "pyobj.h"
#include "pyversion.h"

#define BASE 0x100000ULL /* as in tests/unit/test_pylocals.c */
#define TID 4242
#define PTHREAD 0x7f0000001000ULL

static const uint32_t versions[] = { 0x03090000, 0x030a0000, 0x030b0000, 0x030c0000,
				     0x030d0000, 0x030e0000, 0x030f0000 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gp_pyframe_vars out[16];
	struct gp_mem_buf mb = { BASE, data, size };
	struct gp_pyobj r;
	uint64_t runtime;
	uint32_t v;
	size_t n;

	if (size < 16)
		return 0;
	v = versions[data[0] % (sizeof(versions) / sizeof(versions[0]))];
	r.L = gp_layout_for(v, false);
	r.O = gp_objlayout_for(v);
	if (!r.L || !r.O)
		return 0;
	r.mem = gp_mem_buffer(&mb);
	memcpy(&runtime, data + 8, 8);
	n = gp_pylocals_read(&r, runtime, TID, PTHREAD, out, 16);
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < out[i].n; k++)
			if (strnlen(out[i].v[k].repr, GP_LOCALS_REPR) == GP_LOCALS_REPR ||
			    strnlen(out[i].v[k].name, sizeof(out[i].v[k].name)) ==
				    sizeof(out[i].v[k].name))
				__builtin_trap();
	gp_pylocals_free(out, n);
	return 0;
}
