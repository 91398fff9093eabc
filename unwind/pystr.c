// SPDX-License-Identifier: BSD-2-Clause
/*
 * pystr.c — PEP 393 str objects of the target, as UTF-8. The header, kind
 * and length come from target memory, so each is checked before it sizes a
 * read; the copy is capped at GP_STR_MAX_CHARS code points.
 */
#include "pystr.h"

#include <string.h>

#include "../bpf/gilprof.h"

static size_t utf8_encode(uint32_t cp, char buf[4])
{
	if (cp >= 0xD800 && cp <= 0xDFFF)
		cp = 0xFFFD;
	if (cp < 0x80) {
		buf[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		buf[0] = (char)(0xC0 | (cp >> 6));
		buf[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		buf[0] = (char)(0xE0 | (cp >> 12));
		buf[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		buf[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	if (cp > 0x10FFFF)
		return utf8_encode(0xFFFD, buf);
	buf[0] = (char)(0xF0 | (cp >> 18));
	buf[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	buf[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	buf[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

static uint32_t code_point(int kind, const uint8_t *p)
{
	uint16_t u16;
	uint32_t u32;

	switch (kind) {
	case 1:
		return p[0];
	case 2:
		memcpy(&u16, p, 2);
		return u16;
	default:
		memcpy(&u32, p, 4);
		return u32;
	}
}

size_t gp_ucs_to_utf8(int kind, const uint8_t *data, size_t n, char *out, size_t outsz)
{
	size_t len = 0;

	if (!outsz)
		return 0;
	if (kind != 1 && kind != 2 && kind != 4)
		n = 0;
	for (size_t i = 0; i < n; i++) {
		char enc[4];
		size_t k = utf8_encode(code_point(kind, data + i * (size_t)kind), enc);

		if (len + k + 1 > outsz)
			break;
		memcpy(out + len, enc, k);
		len += k;
	}
	out[len] = '\0';
	return len;
}

int gp_read_pystr(const struct py_layout *L, const struct gp_mem *m, uint64_t addr,
		  char *out, size_t outsz)
{
	uint8_t data[GP_STR_MAX_CHARS * 4];
	uint64_t length, where;
	uint32_t state;
	int kind;

	if (!outsz)
		return -1;
	out[0] = '\0';
	if (gp_mem_read_u64(m, addr + L->str_length, &length) ||
	    gp_mem_read(m, addr + L->str_state, &state, sizeof(state)))
		return -1;
	if ((int64_t)length < 0)
		return -1;
	kind = (state >> L->str_kind_shift) & 7;
	if (kind != 1 && kind != 2 && kind != 4)
		return -1;
	if (state & L->str_compact_mask) {
		where = addr + ((state & L->str_ascii_mask) ? L->str_ascii_data
							    : L->str_compact_data);
	} else if (gp_mem_read_u64(m, addr + L->str_legacy_data, &where)) {
		return -1;
	}
	if (length > GP_STR_MAX_CHARS)
		length = GP_STR_MAX_CHARS;
	if (gp_mem_read(m, where, data, length * (size_t)kind))
		return -1;
	gp_ucs_to_utf8(kind, data, length, out, outsz);
	return 0;
}
