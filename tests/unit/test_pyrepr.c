// SPDX-License-Identifier: BSD-2-Clause
/*
 * repr() of a fake target's objects, laid out by every version's rows:
 * None, bools, ints of any size and sign, floats, str (ASCII and
 * non-ASCII kinds, quotes, a long one cut visibly), bytes, nested tuples,
 * lists, dicts and sets (items and depth capped), other objects by type
 * name; then corrupt objects: a short marked text, never a crash.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "pyobj.h"
#include "pyrepr.h"
#include "pyversion.h"
#include "fake_image.h"

static uint64_t t_str, t_int, t_bool, t_none, t_float, t_bytes, t_tuple, t_list, t_dict,
	t_set, t_frozen, t_other, t_dummy;

/* A compact str of n code points of width kind (1, 2 or 4) from cps. */
static uint64_t mk_ustr(const uint32_t *cps, size_t n, int kind, int ascii)
{
	size_t data = ascii ? L->str_ascii_data : L->str_compact_data;
	uint64_t o = obj_of(t_str, data + (n + 1) * (size_t)kind + 16);
	uint32_t state = L->str_compact_mask | (ascii ? L->str_ascii_mask : 0) |
			 ((uint32_t)kind << L->str_kind_shift);

	w64(o + L->str_length, n);
	w(o + L->str_state, &state, 4);
	for (size_t i = 0; i < n; i++)
		w(o + data + i * (size_t)kind, &cps[i], (size_t)kind);
	return o;
}

static uint64_t mk_str(const char *s)
{
	uint32_t cps[256];
	size_t n = strlen(s);

	for (size_t i = 0; i < n; i++)
		cps[i] = (unsigned char)s[i];
	return mk_ustr(cps, n, 1, 1);
}

/* An int of n 30/15-bit digits (least significant first), sign -1, 0 or 1. */
static uint64_t mk_digits(const uint32_t *digits, size_t n, int sign, uint64_t type)
{
	uint64_t o = obj_of(type, (size_t)O->long_digit + 4 * (n + 1));

	w(o + O->long_digit, digits, 4 * n);
	if (O->long_sign_mask)
		w64(o + O->long_size, (n << O->long_tag_shift) | (sign < 0 ? 2 : sign ? 0 : 1));
	else
		w64(o + O->long_size, (uint64_t)(sign < 0 ? -(int64_t)n : (int64_t)n));
	return o;
}

static uint64_t mk_long(int64_t v)
{
	uint32_t digits[4];
	uint64_t x = v < 0 ? (uint64_t)-v : (uint64_t)v;
	size_t n = 0;

	for (; x; x >>= O->long_digit_bits)
		digits[n++] = (uint32_t)(x & ((1u << O->long_digit_bits) - 1));
	return mk_digits(digits, n, v < 0 ? -1 : v > 0, t_int);
}

static uint64_t mk_float(double v)
{
	uint64_t o = obj_of(t_float, 32);

	w(o + O->float_value, &v, 8);
	return o;
}

static uint64_t mk_bytes(const void *b, size_t n)
{
	uint64_t o = obj_of(t_bytes, (size_t)L->bytes_data + n + 1);

	w64(o + L->bytes_size, n);
	w(o + L->bytes_data, b, n);
	return o;
}

static uint64_t mk_tuple(const uint64_t *items, size_t n)
{
	uint64_t o = obj_of(t_tuple, (size_t)O->tuple_items + 8 * n + 8);

	w64(o + O->var_size, n);
	for (size_t i = 0; i < n; i++)
		w64(o + O->tuple_items + 8 * i, items[i]);
	return o;
}

static uint64_t mk_list(const uint64_t *items, size_t n)
{
	uint64_t o = obj_of(t_list, 64), arr = alloc(8 * n + 8);

	w64(o + O->var_size, n);
	w64(o + O->list_items, arr);
	for (size_t i = 0; i < n; i++)
		w64(arr + 8 * i, items[i]);
	return o;
}

/* A set of 8 slots: keys placed in order, slot 1 a deleted (dummy) entry. */
static uint64_t mk_set(const uint64_t *keys, size_t n, int frozen)
{
	uint64_t o = obj_of(frozen ? t_frozen : t_set, 256), table = alloc(8 * 16 + 16);
	uint64_t dummy = obj_of(t_dummy, 16);

	assert_true(n <= 6);
	w64(o + O->set_mask, 7);
	w64(o + O->set_used, n);
	w64(o + O->set_table, table);
	w64(table + 1 * O->set_entry_size + O->set_entry_key, dummy);
	for (size_t i = 0; i < n; i++)
		w64(table + (i + 2) * O->set_entry_size + O->set_entry_key, keys[i]);
	return o;
}

/* A combined dict with general keys, n items. */
static uint64_t mk_dict(const uint64_t *keys, const uint64_t *values, int n)
{
	uint64_t k = alloc((size_t)O->keys_indices + 8 + (size_t)n * O->entry_size + 16);
	uint64_t d = obj_of(t_dict, 64), entries = k + O->keys_indices + 8;
	int64_t nentries = n;
	uint8_t b;

	w(k + O->keys_nentries, &nentries, 8);
	if (O->keys_format == GP_DICTKEYS_SIZED) {
		w64(k + O->keys_size, 8);
	} else {
		b = 3;
		w(k + O->keys_size, &b, 1);
		w(k + O->keys_log2_index_bytes, &b, 1);
		b = 0;
		w(k + O->keys_kind, &b, 1);
	}
	for (int i = 0; i < n; i++) {
		w64(entries + (uint64_t)i * O->entry_size + O->entry_key, keys[i]);
		w64(entries + (uint64_t)i * O->entry_size + O->entry_value, values[i]);
	}
	w64(d + O->dict_keys, k);
	w64(d + O->dict_values, 0);
	w64(d + O->dict_used, (uint64_t)n);
	return d;
}


static void setup_version(uint32_t v)
{
	memset(image, 0, sizeof(image));
	brk_at = BASE + 64;
	L = gp_layout_for(v, false);
	O = gp_objlayout_for(v);
	assert_non_null(L);
	assert_non_null(O);
	t_str = mk_type("str");
	t_int = mk_type("int");
	t_bool = mk_type("bool");
	t_none = mk_type("NoneType");
	t_float = mk_type("float");
	t_bytes = mk_type("bytes");
	t_tuple = mk_type("tuple");
	t_list = mk_type("list");
	t_dict = mk_type("dict");
	t_set = mk_type("set");
	t_frozen = mk_type("frozenset");
	t_other = mk_type("app.Widget");
	t_dummy = mk_type("<dummy key> type");
}

/*
 * GP_PYREPR_SEEDS=DIR: each checked object's image is a seed of
 * tests/fuzz/fuzz_pyrepr.c: byte 0 the version's index, bytes 8-15 the
 * object's address, the rest the memory at BASE (its first 64 bytes unused).
 */
static void write_seed(uint64_t obj)
{
	const char *dir = getenv("GP_PYREPR_SEEDS");
	static int n;
	char path[512];
	uint8_t head[16] = { 0 };
	FILE *f;

	if (!dir)
		return;
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		if (versions[i] >> 16 == O->version_hex >> 16)
			head[0] = (uint8_t)i;
	memcpy(head + 8, &obj, 8);
	snprintf(path, sizeof(path), "%s/repr-%d", dir, n++);
	f = fopen(path, "wb");
	if (!f)
		return;
	fwrite(head, 1, sizeof(head), f);
	fwrite(image + sizeof(head), 1, brk_at - BASE - sizeof(head), f);
	fclose(f);
}

static void check(uint64_t obj, const char *want)
{
	struct gp_pyobj r = { L, O, gp_mem_buffer(&membuf) };
	char buf[1024];

	write_seed(obj);
	gp_pyrepr(&r, obj, buf, sizeof(buf));
	if (strcmp(buf, want))
		fail_msg("Python %x: repr %s, want %s", O->version_hex >> 16, buf, want);
}

static void test_scalars(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		uint32_t one = 1, big[8];

		setup_version(versions[i]);
		check(obj_of(t_none, 16), "None");
		check(mk_digits(&one, 1, 1, t_bool), "True");
		check(mk_digits(NULL, 0, 0, t_bool), "False");
		check(mk_long(0), "0");
		check(mk_long(-42), "-42");
		check(mk_long(1234567890123456789LL), "1234567890123456789");
		/* 2**240 - 1: eight digits of 30 bits (15-bit builds: not these rows) */
		for (int k = 0; k < 8; k++)
			big[k] = (1u << O->long_digit_bits) - 1;
		assert_int_equal(O->long_digit_bits, 30);
		check(mk_digits(big, 8, -1, t_int),
		      "-176684706477838432958329750074291851582748389687561895812160... (73 digits)");
		check(mk_float(0.1), "0.1");
		check(mk_float(-2.0), "-2.0");
		check(mk_float(1e300), "1e+300");
		check(mk_bytes("a'\n\xff", 4), "b\"a'\\n\\xff\"");
		{
			uint64_t o = obj_of(t_other, 32);
			char want[64];

			snprintf(want, sizeof(want), "<Widget at 0x%llx>", (unsigned long long)o);
			check(o, want);
		}
	}
}

static void test_strings(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		static const uint32_t latin1[] = { 'c', 0xe9, 'd', 'e' };
		static const uint32_t ucs2[] = { 0x540d, 0x524d };
		static const uint32_t ucs4[] = { 'x', 0x1f600 };
		uint64_t big;

		setup_version(versions[i]);
		check(mk_str("plain"), "'plain'");
		check(mk_str("it's"), "\"it's\"");
		check(mk_str("tab\there"), "'tab\\there'");
		check(mk_ustr(latin1, 4, 1, 0), "'c\xc3\xa9" "de'");
		check(mk_ustr(ucs2, 2, 2, 0), "'\xe5\x90\x8d\xe5\x89\x8d'");
		check(mk_ustr(ucs4, 2, 4, 0), "'x\xf0\x9f\x98\x80'");
		/* 10 MiB of 'a': the first 80 shown, the length told */
		big = mk_str("");
		w64(big + L->str_length, 10u << 20);
		memset(image + (big + L->str_ascii_data - BASE), 'a', 4096);
		brk_at += 4096;
		{
			char want[200];

			memset(want, 0, sizeof(want));
			want[0] = '\'';
			memset(want + 1, 'a', GP_REPR_STR_CHARS);
			strcat(want, "...' (10485760 chars)");
			check(big, want);
		}
	}
}

static void test_containers(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		uint64_t items[20], inner, keys[2], vals[2];

		setup_version(versions[i]);
		items[0] = mk_long(1);
		check(mk_tuple(items, 1), "(1,)");
		check(mk_tuple(items, 0), "()");
		items[1] = mk_str("two");
		items[2] = obj_of(t_none, 16);
		check(mk_list(items, 3), "[1, 'two', None]");
		/* depth: a list in a list in a list shows as [...] at the third level */
		inner = mk_list(items, 1);
		inner = mk_list(&inner, 1);
		check(mk_tuple(&inner, 1), "([[...]],)");
		for (int k = 0; k < 20; k++)
			items[k] = mk_long(k);
		check(mk_list(items, 20), "[0, 1, 2, 3, 4, 5, 6, 7, ... (20 items)]");
		keys[0] = mk_str("a"), vals[0] = mk_long(1);
		keys[1] = mk_str("b"), vals[1] = mk_tuple(items, 2);
		check(mk_dict(keys, vals, 2), "{'a': 1, 'b': (0, 1)}");
		check(mk_set(items, 3, 0), "{0, 1, 2}");
		check(mk_set(items, 0, 0), "set()");
		check(mk_set(items + 5, 1, 1), "frozenset({5})");
	}
}

static void test_corrupt(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		struct gp_pyobj r;
		uint64_t o, items[2] = { 0, 0 };
		char buf[256];

		setup_version(versions[i]);
		r = (struct gp_pyobj){ L, O, gp_mem_buffer(&membuf) };
		/* a type pointer outside the image */
		o = obj_of(0xdead0000ULL, 16);
		assert_int_equal(gp_pyrepr(&r, o, buf, sizeof(buf)), -1);
		assert_non_null(strstr(buf, "<unreadable at 0x"));
		assert_int_equal(gp_pyrepr(&r, 0, buf, sizeof(buf)), -1);
		/* a list claiming 2**40 items, its array unreadable */
		o = mk_list(items, 0);
		w64(o + O->var_size, 1ULL << 40);
		w64(o + O->list_items, 0xdead0000ULL);
		check(o, "[<unreadable>, <unreadable>, <unreadable>, <unreadable>, <unreadable>, "
			 "<unreadable>, <unreadable>, <unreadable>, ... (1099511627776 items)]");
		/* an int claiming more digits than are converted */
		o = mk_long(5);
		if (O->long_sign_mask)
			w64(o + O->long_size, (1ULL << 40) << O->long_tag_shift);
		else
			w64(o + O->long_size, 1ULL << 40);
		gp_pyrepr(&r, o, buf, sizeof(buf));
		assert_non_null(strstr(buf, "<int of 1099511627776 digits"));
		/* a set with a huge mask is refused */
		o = mk_set(items, 0, 0);
		w64(o + O->set_mask, 1ULL << 40);
		w64(o + O->set_used, 3);
		gp_pyrepr(&r, o, buf, sizeof(buf));
		assert_non_null(strstr(buf, "<set, unreadable"));
		/* a tiny buffer: cut, NUL-terminated */
		assert_int_equal(gp_pyrepr(&r, mk_str("abcdef"), buf, 4), 0);
		assert_string_equal(buf, "'ab");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scalars),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_containers),
		cmocka_unit_test(test_corrupt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
