// SPDX-License-Identifier: BSD-2-Clause
/* PEP 393 strings from (fake) target memory to UTF-8. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "pystr.h"
#include "pyversion.h"

#define BASE 0x10000

static const struct py_layout *layout(unsigned int minor)
{
	const struct py_layout *L = gp_layout_for(0x03000000u | minor << 16, false);

	assert_non_null(L);
	return L;
}

/* Lay out a compact str object of the given kind in buf at BASE. */
static size_t make_str(const struct py_layout *L, uint8_t *buf, int kind, int ascii,
		       const void *chars, uint64_t length)
{
	uint32_t state = (uint32_t)kind << L->str_kind_shift | L->str_compact_mask |
			 (ascii ? L->str_ascii_mask : 0);
	size_t data = ascii ? (size_t)L->str_ascii_data : (size_t)L->str_compact_data;

	memset(buf, 0, 512);
	memcpy(buf + L->str_length, &length, sizeof(length));
	memcpy(buf + L->str_state, &state, sizeof(state));
	memcpy(buf + data, chars, length * (size_t)kind);
	return data + length * (size_t)kind;
}

static void read_back(const struct py_layout *L, uint8_t *buf, size_t len, const char *want)
{
	struct gp_mem_buf mb = { BASE, buf, len };
	struct gp_mem m = gp_mem_buffer(&mb);
	char out[256];

	assert_int_equal(gp_read_pystr(L, &m, BASE, out, sizeof(out)), 0);
	assert_string_equal(out, want);
}

static void test_ascii_latin1_ucs2_ucs4(void **state)
{
	const uint8_t latin1[] = { 'w', 0xf6, 'r', 'k', 'e', 'r' };
	const uint16_t ucs2[] = { 0x8a08, 0x7b97 };           /* 計算 */
	const uint32_t ucs4[] = { 0x20000, 0x20001 };         /* 𠀀𠀁 */
	const uint32_t snake[] = { 0x1f40d, '_', 't' };       /* 🐍_t */
	uint8_t buf[512];

	(void)state;
	for (unsigned int minor = 9; minor <= 14; minor++) {
		const struct py_layout *L = layout(minor);

		read_back(L, buf, make_str(L, buf, 1, 1, "worker", 6), "worker");
		read_back(L, buf, make_str(L, buf, 1, 0, latin1, 6), "w\xc3\xb6rker");
		read_back(L, buf, make_str(L, buf, 2, 0, ucs2, 2), "\xe8\xa8\x88\xe7\xae\x97");
		read_back(L, buf, make_str(L, buf, 4, 0, ucs4, 2),
			  "\xf0\xa0\x80\x80\xf0\xa0\x80\x81");
		read_back(L, buf, make_str(L, buf, 4, 0, snake, 3), "\xf0\x9f\x90\x8d_t");
	}
}

static void test_hostile_headers_rejected(void **state)
{
	const struct py_layout *L = layout(12);
	struct gp_mem_buf mb = { BASE, NULL, 0 };
	struct gp_mem m;
	uint8_t buf[512];
	char out[64];
	uint32_t st;
	uint64_t huge = UINT64_MAX / 2;

	(void)state;
	/* kind 3 is no PEP 393 kind */
	make_str(L, buf, 1, 1, "abc", 3);
	st = 3u << L->str_kind_shift | L->str_compact_mask;
	memcpy(buf + L->str_state, &st, sizeof(st));
	mb.data = buf;
	mb.len = sizeof(buf);
	m = gp_mem_buffer(&mb);
	assert_int_equal(gp_read_pystr(L, &m, BASE, out, sizeof(out)), -1);
	/* a length past the mapping: capped, then the short read fails */
	make_str(L, buf, 1, 1, "abc", 3);
	memcpy(buf + L->str_length, &huge, sizeof(huge));
	assert_int_equal(gp_read_pystr(L, &m, BASE, out, sizeof(out)), -1);
	/* unmapped object */
	assert_int_equal(gp_read_pystr(L, &m, 0x999999, out, sizeof(out)), -1);
}

static void test_utf8_edge_cases(void **state)
{
	const uint32_t bad[] = { 0xd800, 0x110000, 'a' };
	const uint16_t two[] = { 0x8a08, 0x7b97 };
	char out[16];

	(void)state;
	/* lone surrogates and out-of-range code points become U+FFFD */
	gp_ucs_to_utf8(4, (const uint8_t *)bad, 3, out, sizeof(out));
	assert_string_equal(out, "\xef\xbf\xbd\xef\xbf\xbd" "a");
	/* cut at a character boundary, always NUL-terminated */
	assert_int_equal(gp_ucs_to_utf8(2, (const uint8_t *)two, 2, out, 5), 3);
	assert_string_equal(out, "\xe8\xa8\x88");
	assert_int_equal(gp_ucs_to_utf8(3, (const uint8_t *)two, 2, out, sizeof(out)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ascii_latin1_ucs2_ucs4),
		cmocka_unit_test(test_hostile_headers_rejected),
		cmocka_unit_test(test_utf8_edge_cases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
