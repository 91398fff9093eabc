// SPDX-License-Identifier: BSD-2-Clause
/*
 * Objects of a fake target, laid out by each version's generated rows:
 * dict lookups (combined, split, unicode and general keys), instance
 * attributes in every storage kind (tp_dictoffset, 3.11 values pointer,
 * 3.12 tagged word, 3.13 inline values), ints, and the whole path to
 * threading._active's thread names. Then corrupt memory: every bad count
 * or pointer gives "not found", never a crash or a huge read.
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
#include "pythreads.h"
#include "pyversion.h"

#define BASE 0x100000ULL
#define IMAGE (1u << 20)

static uint8_t image[IMAGE];
static uint64_t brk_at;
static const struct py_layout *L;
static const struct py_objlayout *O;
static struct gp_mem_buf membuf = { BASE, image, IMAGE };
static uint64_t t_str, t_int, t_dict, t_module;

static uint64_t alloc(size_t n)
{
	uint64_t at = (brk_at + 15) & ~15ULL;

	assert_true(at + n - BASE <= IMAGE);
	brk_at = at + n;
	return at;
}

static void w(uint64_t addr, const void *v, size_t n)
{
	assert_true(addr >= BASE && addr + n - BASE <= IMAGE);
	memcpy(image + (addr - BASE), v, n);
}

static void w64(uint64_t addr, uint64_t v)
{
	w(addr, &v, 8);
}

static void w8(uint64_t addr, uint8_t v)
{
	w(addr, &v, 1);
}

static uint64_t cstring(const char *s)
{
	uint64_t at = alloc(strlen(s) + 1);

	w(at, s, strlen(s) + 1);
	return at;
}

static uint64_t mk_type(const char *name, uint64_t flags)
{
	uint64_t t = alloc(1024);

	w64(t + O->type_name, cstring(name));
	w64(t + O->type_flags, flags);
	return t;
}

static uint64_t mk_str(const char *s)
{
	uint64_t o = alloc((size_t)L->str_ascii_data + strlen(s) + 1);
	uint32_t state = L->str_compact_mask | L->str_ascii_mask | (1u << L->str_kind_shift);

	w64(o + L->ob_type, t_str);
	w64(o + L->str_length, strlen(s));
	w(o + L->str_state, &state, 4);
	w(o + L->str_ascii_data, s, strlen(s) + 1);
	return o;
}

static uint64_t mk_long(uint64_t v)
{
	uint64_t o = alloc(64), n = 0;
	uint32_t digits[3] = { 0 };

	w64(o + L->ob_type, t_int);
	for (uint64_t x = v; x; x >>= O->long_digit_bits)
		digits[n++] = (uint32_t)(x & ((1u << O->long_digit_bits) - 1));
	w(o + O->long_digit, digits, sizeof(digits));
	if (O->long_sign_mask)
		w64(o + O->long_size, (n << O->long_tag_shift) | (v ? 0 : 1));
	else
		w64(o + O->long_size, n);
	return o;
}

enum { KIND_GENERAL = 0, KIND_UNICODE = 1, KIND_SPLIT = 2 };

/*
 * A keys table of n entries (8 slots, 1-byte indices); values go in the
 * entries unless split (then the caller keeps them in a values array).
 */
static uint64_t mk_keys(int n, const uint64_t *keys, const uint64_t *values, int kind)
{
	int unicode = O->keys_format == GP_DICTKEYS_LOG2 && kind != KIND_GENERAL;
	uint32_t esize = unicode ? O->unicode_entry_size : O->entry_size;
	uint32_t ekey = unicode ? O->unicode_entry_key : O->entry_key;
	uint32_t evalue = unicode ? O->unicode_entry_value : O->entry_value;
	uint64_t k = alloc((size_t)O->keys_indices + 8 + (size_t)n * esize), entries;
	int64_t nentries = n;

	w(k + O->keys_nentries, &nentries, 8);
	if (O->keys_format == GP_DICTKEYS_SIZED) {
		w64(k + O->keys_size, 8);
	} else {
		w8(k + O->keys_size, 3);
		w8(k + O->keys_log2_index_bytes, 3);
		w8(k + O->keys_kind, (uint8_t)kind);
	}
	entries = k + O->keys_indices + 8;
	for (int i = 0; i < n; i++) {
		w64(entries + (uint64_t)i * esize + ekey, keys[i]);
		if (values)
			w64(entries + (uint64_t)i * esize + evalue, values[i]);
	}
	return k;
}

static uint64_t mk_values(int n, const uint64_t *values)
{
	uint64_t v = alloc((size_t)O->values_array + 8 * (size_t)n);

	if (O->values_valid >= 0)
		w8(v + O->values_valid, 1);
	for (int i = 0; i < n; i++)
		w64(v + O->values_array + 8 * (uint64_t)i, values[i]);
	return v;
}

static uint64_t mk_dict(uint64_t keys, uint64_t values)
{
	uint64_t d = alloc(64);

	w64(d + L->ob_type, t_dict);
	w64(d + O->dict_keys, keys);
	w64(d + O->dict_values, values);
	return d;
}

static uint64_t str_dict(int n, const char *const *names, const uint64_t *values)
{
	uint64_t keys[8] = { 0 };

	for (int i = 0; i < n; i++)
		keys[i] = mk_str(names[i]);
	return mk_dict(mk_keys(n, keys, values, KIND_UNICODE), 0);
}

static struct gp_pyobj reader(void)
{
	struct gp_pyobj r = { L, O, gp_mem_buffer(&membuf) };

	return r;
}

static const uint32_t versions[] = { 0x03090000, 0x030a0000, 0x030b0000, 0x030c0000,
				     0x030d0000 };

static void setup_version(uint32_t v)
{
	memset(image, 0, sizeof(image));
	brk_at = BASE + 64; /* address BASE + 0 stays unused: "NULL-ish" */
	L = gp_layout_for(v, false);
	O = gp_objlayout_for(v);
	assert_non_null(L);
	assert_non_null(O);
	t_str = mk_type("str", 0);
	t_int = mk_type("int", 0);
	t_dict = mk_type("dict", 0);
	t_module = mk_type("module", 0);
}

static void test_dicts(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		static const char *const names[] = { "os", "threading", "sys" };
		uint64_t vals[3], d, keys[3], split;
		struct gp_pyobj r;

		setup_version(versions[i]);
		r = reader();
		vals[0] = mk_long(1), vals[1] = mk_long(2), vals[2] = mk_long(3);
		d = str_dict(3, names, vals);
		assert_true(gp_pyobj_type_is(&r, d, "dict"));
		assert_false(gp_pyobj_type_is(&r, d, "dic"));
		assert_int_equal(gp_pydict_get(&r, d, "threading"), vals[1]);
		assert_int_equal(gp_pydict_get(&r, d, "sys"), vals[2]);
		assert_int_equal(gp_pydict_get(&r, d, "thread"), 0);
		assert_int_equal(gp_pydict_get(&r, d, "threadinG"), 0);

		/* split table: values in ma_values */
		for (int k = 0; k < 3; k++)
			keys[k] = mk_str(names[k]);
		split = mk_dict(mk_keys(3, keys, NULL, KIND_SPLIT), mk_values(3, vals));
		assert_int_equal(gp_pydict_get(&r, split, "os"), vals[0]);
		assert_int_equal(gp_pydict_get(&r, split, "sys"), vals[2]);

		/* a deleted entry (NULL key) is skipped */
		keys[0] = 0;
		d = mk_dict(mk_keys(3, keys, vals, KIND_UNICODE), 0);
		assert_int_equal(gp_pydict_get(&r, d, "sys"), vals[2]);
		assert_int_equal(gp_pydict_get(&r, d, "os"), 0);
	}
}

static void test_ints(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		struct gp_pyobj r;
		int64_t v = -7;
		uint64_t big, neg;

		setup_version(versions[i]);
		r = reader();
		assert_int_equal(gp_pylong(&r, mk_long(4242), &v), 0);
		assert_int_equal(v, 4242);
		assert_int_equal(gp_pylong(&r, mk_long(0), &v), 0);
		assert_int_equal(v, 0);
		assert_int_equal(gp_pylong(&r, mk_long(1ULL << 40), &v), 0);
		assert_int_equal(v, 1LL << 40);
		/* three digits would not fit: refused */
		big = mk_long(1ULL << 62);
		assert_int_equal(gp_pylong(&r, big, &v), -1);
		/* negative */
		neg = mk_long(5);
		if (O->long_sign_mask)
			w64(neg + O->long_size, (1ULL << O->long_tag_shift) | 2);
		else
			w64(neg + O->long_size, (uint64_t)-1);
		assert_int_equal(gp_pylong(&r, neg, &v), -1);
		/* not an int at all */
		assert_int_equal(gp_pylong(&r, mk_str("12"), &v), -1);
		assert_int_equal(gp_pylong(&r, 0, &v), -1);
	}
}

/* An instance of a class whose attributes are stored the version's way. */
static uint64_t mk_instance(const char *const *names, const uint64_t *values, int n,
			    int use_dict)
{
	uint64_t keys[4], type, obj, flags = O->flag_managed_dict;

	for (int i = 0; i < n; i++)
		keys[i] = mk_str(names[i]);
	if (O->managed_kind == GP_MANAGED_INLINE && !use_dict)
		flags |= O->flag_inline_values;
	type = mk_type("Thread", flags);
	w64(type + O->heaptype_cached_keys, mk_keys(n, keys, NULL, KIND_SPLIT));
	w64(type + O->type_basicsize, 16);
	obj = alloc(64 + 16 + 64) + 64; /* room for the pre-header */
	w64(obj + L->ob_type, type);
	switch (O->managed_kind) {
	case GP_MANAGED_NONE:
		w64(type + O->type_dictoffset, 16);
		w64(obj + 16, str_dict(n, names, values));
		break;
	case GP_MANAGED_VALUES_PTR:
		if (use_dict)
			w64(obj + O->managed_dict, str_dict(n, names, values));
		else
			w64(obj + O->managed_values, mk_values(n, values));
		break;
	case GP_MANAGED_TAGGED:
		if (use_dict)
			w64(obj + O->managed_dict, str_dict(n, names, values));
		else
			w64(obj + O->managed_dict, mk_values(n, values) - 1);
		break;
	case GP_MANAGED_INLINE:
		if (use_dict) {
			w64(obj + O->managed_dict, str_dict(n, names, values));
		} else {
			w8(obj + 16 + O->values_valid, 1);
			for (int i = 0; i < n; i++)
				w64(obj + 16 + O->values_array + 8 * (uint64_t)i, values[i]);
		}
		break;
	}
	return obj;
}

static void test_instance_attributes(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		for (int use_dict = 0; use_dict < 2; use_dict++) {
			static const char *const names[] = { "_target", "_name", "_native_id" };
			uint64_t vals[3], obj;
			struct gp_pyobj r;

			setup_version(versions[i]);
			r = reader();
			vals[0] = mk_long(1), vals[1] = mk_str("worker"), vals[2] = mk_long(77);
			obj = mk_instance(names, vals, 3, use_dict);
			assert_int_equal(gp_pyobj_attr(&r, obj, "_name"), vals[1]);
			assert_int_equal(gp_pyobj_attr(&r, obj, "_native_id"), vals[2]);
			assert_int_equal(gp_pyobj_attr(&r, obj, "_daemonic"), 0);
			if (O->managed_kind == GP_MANAGED_INLINE && !use_dict) {
				/* values marked invalid: the dict (absent here) rules */
				w8(obj + 16 + O->values_valid, 0);
				assert_int_equal(gp_pyobj_attr(&r, obj, "_name"), 0);
			}
		}
	}
}

/* _PyRuntime -> interp -> sys.modules -> threading -> _active -> threads */
static uint64_t mk_runtime(uint64_t *thread_names, int64_t *ids, int n)
{
	static const char *const attrs[] = { "_name", "_ident", "_native_id" };
	uint64_t runtime = alloc(4096), interp = alloc(8192), mod = alloc(64), keys[8],
		 threads[8], modules, mdict, active;
	const char *const modnames[] = { "sys", "threading" };
	const char *const globals[] = { "_limbo", "_active" };
	uint64_t modvals[2], gvals[2];

	for (int i = 0; i < n; i++) {
		uint64_t vals[3] = { thread_names[i], mk_long(1000 + i), mk_long((uint64_t)ids[i]) };

		threads[i] = mk_instance(attrs, vals, 3, i % 2);
		keys[i] = vals[1]; /* ident */
	}
	active = mk_dict(mk_keys(n, keys, threads, KIND_GENERAL), 0);
	gvals[0] = str_dict(0, NULL, NULL);
	gvals[1] = active;
	mdict = str_dict(2, globals, gvals);
	w64(mod + L->ob_type, t_module);
	w64(mod + O->module_dict, mdict);
	modvals[0] = str_dict(0, NULL, NULL);
	modvals[1] = mod;
	modules = str_dict(2, modnames, modvals);
	w64(interp + O->interp_modules, modules);
	w64(runtime + L->rt_interp_main, interp);
	return runtime;
}

/*
 * With GP_PYOBJ_SEEDS=DIR, the image is also written as a seed of
 * tests/fuzz/fuzz_pyobj.c: byte 0 the version, bytes 4-7 where _PyRuntime is.
 */
static void write_seed(size_t version, uint64_t runtime)
{
	const char *dir = getenv("GP_PYOBJ_SEEDS");
	uint32_t off = (uint32_t)(runtime - BASE);
	char path[512];
	FILE *f;

	if (!dir)
		return;
	image[0] = (uint8_t)version;
	memcpy(image + 4, &off, 4);
	snprintf(path, sizeof(path), "%s/threads-%zu", dir, version);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(image, 1, brk_at - BASE, f), brk_at - BASE);
	fclose(f);
}

static void test_thread_names(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		struct gp_pythreads pt;
		uint64_t names[3], runtime, active;
		int64_t ids[3] = { 4242, 4243, 4244 };

		setup_version(versions[i]);
		names[0] = mk_str("MainThread");
		names[1] = mk_str("worker-1");
		names[2] = mk_long(5); /* not a str: that thread stays unnamed */
		runtime = mk_runtime(names, ids, 3);
		write_seed(i, runtime);
		gp_pythreads_init(&pt, L, O, gp_mem_buffer(&membuf), runtime);
		assert_int_equal(gp_pythreads_refresh(&pt), 0);
		assert_string_equal(gp_pythreads_name(&pt, 4242), "MainThread");
		assert_string_equal(gp_pythreads_name(&pt, 4243), "worker-1");
		assert_null(gp_pythreads_name(&pt, 4244));
		assert_null(gp_pythreads_name(&pt, 1));

		/* _active corrupted: the refresh fails and the old names stay */
		active = pt.active;
		w64(active + O->dict_keys, BASE + IMAGE + 4096);
		assert_int_equal(gp_pythreads_refresh(&pt), -1);
		assert_string_equal(gp_pythreads_name(&pt, 4243), "worker-1");
		gp_pythreads_free(&pt);

		/* no threading module: nothing to read */
		gp_pythreads_init(&pt, L, O, gp_mem_buffer(&membuf), alloc(4096));
		assert_int_equal(gp_pythreads_refresh(&pt), -1);
		gp_pythreads_free(&pt);
		gp_pythreads_init(&pt, L, NULL, gp_mem_buffer(&membuf), runtime);
		assert_int_equal(gp_pythreads_refresh(&pt), -1);
		gp_pythreads_free(&pt);
	}
}

static void test_corrupt_tables(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		static const char *const names[] = { "a", "b" };
		uint64_t vals[2], d, keys;
		struct gp_pyobj r;
		int64_t huge = (int64_t)GP_DICT_MAX_ENTRIES + 1, negative = -5;

		setup_version(versions[i]);
		r = reader();
		vals[0] = mk_long(1), vals[1] = mk_long(2);
		d = str_dict(2, names, vals);
		keys = 0;
		assert_int_equal(gp_mem_read_u64(&r.mem, d + O->dict_keys, &keys), 0);
		assert_int_equal(gp_pydict_get(&r, d, "b"), vals[1]);

		w(keys + O->keys_nentries, &huge, 8);
		assert_int_equal(gp_pydict_get(&r, d, "b"), 0);
		w(keys + O->keys_nentries, &negative, 8);
		assert_int_equal(gp_pydict_get(&r, d, "b"), 0);
		w64(keys + O->keys_nentries, 2);
		if (O->keys_format == GP_DICTKEYS_SIZED) {
			w64(keys + O->keys_size, 12); /* not a power of two */
			assert_int_equal(gp_pydict_get(&r, d, "b"), 0);
			w64(keys + O->keys_size, 1ULL << 40);
			assert_int_equal(gp_pydict_get(&r, d, "b"), 0);
			w64(keys + O->keys_size, 8);
		} else {
			w8(keys + O->keys_log2_index_bytes, 60);
			assert_int_equal(gp_pydict_get(&r, d, "b"), 0);
			w8(keys + O->keys_log2_index_bytes, 3);
		}
		assert_int_equal(gp_pydict_get(&r, d, "b"), vals[1]);
		/* entries beyond the image: unreadable, not found */
		w64(keys + O->keys_nentries, GP_DICT_MAX_ENTRIES);
		assert_int_equal(gp_pydict_get(&r, d, "b"), 0);
		w64(keys + O->keys_nentries, 2);
		/* keys pointer nowhere, type pointer nowhere */
		w64(d + O->dict_keys, 8);
		assert_int_equal(gp_pydict_get(&r, d, "b"), 0);
		w64(d + L->ob_type, 0xdeadbeef);
		assert_false(gp_pyobj_type_is(&r, d, "dict"));
		/* a str whose length lies */
		w64(vals[0] + L->ob_type, t_str);
		w64(vals[0] + L->str_length, 1ULL << 62);
		assert_false(gp_pyobj_str_equals(&r, vals[0], "a"));
		/* an instance whose dict offset is absurd */
		if (O->managed_kind == GP_MANAGED_NONE) {
			uint64_t obj = mk_instance(names, vals, 2, 1), type;

			gp_mem_read_u64(&r.mem, obj + L->ob_type, &type);
			w64(type + O->type_dictoffset, 1ULL << 40);
			assert_int_equal(gp_pyobj_attr(&r, obj, "a"), 0);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dicts),
		cmocka_unit_test(test_ints),
		cmocka_unit_test(test_instance_attributes),
		cmocka_unit_test(test_thread_names),
		cmocka_unit_test(test_corrupt_tables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
