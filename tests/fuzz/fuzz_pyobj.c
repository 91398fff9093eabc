// SPDX-License-Identifier: BSD-2-Clause
/*
 * Thread names through a fake target: _PyRuntime -> interpreter ->
 * sys.modules -> threading -> _active -> Thread objects (dicts, shared-key
 * values, inline values, ints), read with one version's layout rows.
 * Input: the memory image at BASE; byte 0 picks the version, bytes 4-7 are
 * the offset of _PyRuntime in the image, bytes 8-15 two more objects whose
 * attributes, int value and dict items are read. Seeds: valid images written
 * by tests/unit/test_pyobj.c (GP_PYOBJ_SEEDS=DIR).
 */
#include <stdint.h>
#include <string.h>

#include "pyobj.h"
#include "pythreads.h"
#include "pyversion.h"

#define BASE 0x100000ULL /* as in tests/unit/test_pyobj.c */

static const uint32_t versions[] = { 0x03090000, 0x030a0000, 0x030b0000, 0x030c0000,
				     0x030d0000 };

static uint32_t u32_at(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static int count_item(uint64_t key, uint64_t value, void *ctx)
{
	(void)key;
	(void)value;
	return ++*(int *)ctx > 100000; /* the limits must stop it long before */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t v = versions[size ? data[0] % 5 : 0];
	struct gp_mem_buf mb = { BASE, data, size };
	struct gp_pythreads pt;
	struct gp_pyobj r;
	int64_t value;
	int items = 0;

	if (size < 16)
		return 0;
	r.L = gp_layout_for(v, false);
	r.O = gp_objlayout_for(v);
	r.mem = gp_mem_buffer(&mb);
	gp_pythreads_init(&pt, r.L, r.O, r.mem, BASE + u32_at(data + 4));
	if (!gp_pythreads_refresh(&pt)) {
		for (size_t i = 0; i < pt.n; i++)
			if (strnlen(pt.v[i].name, sizeof(pt.v[i].name)) >= sizeof(pt.v[i].name))
				__builtin_trap();
		if (pt.n > GP_PYTHREADS_MAX)
			__builtin_trap();
	}
	gp_pythreads_free(&pt);
	for (int k = 0; k < 2; k++) {
		uint64_t obj = BASE + u32_at(data + 8 + 4 * k) % size;

		gp_pyobj_attr(&r, obj, "_name");
		gp_pylong(&r, obj, &value);
		gp_pydict_each(&r, obj, count_item, &items);
		if (items > GP_DICT_MAX_ENTRIES)
			__builtin_trap();
	}
	return 0;
}
