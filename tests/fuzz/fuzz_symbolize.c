// SPDX-License-Identifier: BSD-2-Clause
/*
 * A whole sample through the symbolizer: frame records (as the BPF program
 * sends them) pointing at code objects, strings and line tables in a fake
 * target memory that the input fills. Input: layout selector, frame count
 * and walk end, then the memory image. Frames point at input-chosen offsets.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"
#include "pyversion.h"
#include "symbolize.h"

#define BASE 0x7f0000000000ULL
#define CODE_TYPE 0x1234

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct gp_sample s;
	struct gp_symbolizer sym;
	struct gp_profile prof;
	struct gp_mem_buf mb;
	uint32_t locs[GP_STACK_MAX];
	const struct py_layout *L;
	size_t nframes;

	if (size < 4 + 64)
		return 0;
	L = &gp_py_layouts[data[0] % gp_py_layouts_count];
	nframes = data[1] % 16;
	memset(&s, 0, GP_SAMPLE_HDR_SIZE);
	s.flags = (data[2] & 1) ? GP_SAMPLE_HAS_TSTATE : 0;
	s.walk_end = data[3] % 6;
	s.nframes = (uint16_t)nframes;
	for (size_t i = 0; i < nframes; i++) {
		const uint8_t *f = data + 4 + (i * 4) % 64;

		/* code objects somewhere in the image, offsets and flags from input */
		s.frames[i].code = BASE + (f[0] | f[1] << 8) % (size + 16);
		s.frames[i].lasti = (int8_t)f[2] * 2;
		s.frames[i].firstlineno = (int8_t)f[3];
		s.frames[i].flags = f[3] & 3;
	}
	mb = (struct gp_mem_buf){ BASE, data, size };
	/*
	 * ob_type is checked against CODE_TYPE: let the image's first word
	 * decide it, so inputs can make any offset look like a code object.
	 */
	uint64_t code_type = CODE_TYPE;
	if (size >= 8 + 68)
		memcpy(&code_type, data + 68, 8);

	gp_profile_init(&prof);
	gp_symbolizer_init(&sym, &prof, L, gp_mem_buffer(&mb), code_type, GP_MAX_FRAMES);
	uint32_t n = gp_symbolize_python(&sym, &s, 1, locs);
	if (n > GP_STACK_MAX)
		__builtin_trap();
	for (uint32_t i = 0; i < n; i++)
		if (!locs[i] || locs[i] > prof.nlocations)
			__builtin_trap();
	/* a second pass hits the caches */
	gp_symbolize_python(&sym, &s, 2, locs);
	gp_symbolizer_free(&sym);
	gp_profile_free(&prof);
	return 0;
}
