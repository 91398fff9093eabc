// SPDX-License-Identifier: BSD-2-Clause
/*
 * linetable.c — instruction offset -> source line, for each CPython line
 * table format. Algorithms follow CPython's own decoders (Objects/codeobject.c,
 * Objects/lnotab_notes.txt, Objects/locations.md); every read is bounded by
 * the table length.
 */
#include "linetable.h"

#include <limits.h>

#include "../bpf/gilprof.h"

/*
 * Line numbers accumulate deltas read from the table: keep them in 64 bits
 * so a hostile table cannot overflow, and report lines no source has as
 * "no line".
 */
typedef long long line_t;

static int as_line(line_t line)
{
	return (line < 0 || line > INT_MAX) ? GP_NO_LINE : (int)line;
}

/* 3.9 co_lnotab: (address delta in bytes, signed line delta) pairs. */
static int lnotab_line(const uint8_t *t, size_t len, line_t line, int query)
{
	line_t addr = 0;

	for (size_t i = 0; i + 1 < len; i += 2) {
		addr += t[i];
		if (addr > query)
			break;
		line += (int8_t)t[i + 1];
	}
	return as_line(line);
}

/* 3.10 co_linetable (PEP 626): (start delta in bytes, line delta | -128). */
static int pep626_line(const uint8_t *t, size_t len, line_t line, int query)
{
	line_t end = 0;

	if (query < 0)
		return as_line(line);
	for (size_t i = 0; i + 1 < len; i += 2) {
		line_t start = end, cur;
		int8_t ld = (int8_t)t[i + 1];

		end += t[i];
		if (ld == -128) {
			cur = GP_NO_LINE;
		} else {
			line += ld;
			cur = line;
		}
		if (start <= query && query < end)
			return as_line(cur);
	}
	return GP_NO_LINE;
}

struct cursor {
	const uint8_t *t;
	size_t len, i;
};

/* 6-bit little-endian chunks, bit 6 = more. Stops at the end of the table. */
static unsigned int read_varint(struct cursor *c)
{
	unsigned int val = 0, shift = 0;

	while (c->i < c->len && shift < 32) {
		uint8_t b = c->t[c->i++];

		val |= (unsigned int)(b & 63) << shift;
		if (!(b & 64))
			break;
		shift += 6;
	}
	return val;
}

static int read_svarint(struct cursor *c)
{
	unsigned int v = read_varint(c);

	return (v & 1) ? -(int)(v >> 1) : (int)(v >> 1);
}

static void skip(struct cursor *c, size_t n)
{
	c->i = (c->len - c->i < n) ? c->len : c->i + n;
}

/* 3.11+ location table; pc and query in 2-byte code units. */
static int locations_line(const uint8_t *t, size_t len, line_t line, int query)
{
	struct cursor c = { t, len, 0 };
	line_t pc = 0;

	while (c.i < c.len) {
		uint8_t h = t[c.i++];
		line_t cur;
		int code, n;

		if (!(h & 0x80))
			continue; /* resynchronise on the next entry start */
		code = (h >> 3) & 15;
		n = (h & 7) + 1;
		if (code == 15) {
			cur = GP_NO_LINE;
		} else if (code == 14) {
			line += read_svarint(&c);
			cur = line;
			read_varint(&c);
			read_varint(&c);
			read_varint(&c);
		} else if (code == 13) {
			line += read_svarint(&c);
			cur = line;
		} else if (code >= 10) {
			line += code - 10;
			cur = line;
			skip(&c, 2);
		} else {
			cur = line;
			skip(&c, 1);
		}
		if (pc <= query && query < pc + n)
			return as_line(cur);
		pc += n;
	}
	return GP_NO_LINE;
}

int gp_line_for(int format, const uint8_t *tab, size_t len, int firstlineno,
		int lasti_bytes)
{
	if (!tab && len)
		return GP_NO_LINE;
	switch (format) {
	case GP_LINETABLE_LNOTAB:
		return lnotab_line(tab, len, firstlineno, lasti_bytes);
	case GP_LINETABLE_PEP626:
		return pep626_line(tab, len, firstlineno, lasti_bytes);
	case GP_LINETABLE_LOCATIONS:
		if (lasti_bytes < 0)
			return as_line(firstlineno);
		return locations_line(tab, len, firstlineno, lasti_bytes / 2);
	default:
		return GP_NO_LINE;
	}
}
