// SPDX-License-Identifier: BSD-2-Clause
/*
 * pyobj.c — ordinary objects of the target: dict items, instance
 * attributes, ints and type names, read through the layout row of the
 * target's version. Every count that sizes a read comes from the target, so
 * each is checked against a limit first; a dict that changes while it is
 * read gives stale or no answers, never a crash or an unbounded loop.
 */
#include "pyobj.h"

#include <stdlib.h>
#include <string.h>

#include "../bpf/gilprof.h"
#include "pystr.h"

static int read_u8(const struct gp_pyobj *r, uint64_t addr, uint8_t *out)
{
	return gp_mem_read(&r->mem, addr, out, 1);
}

static int read_ptr(const struct gp_pyobj *r, uint64_t addr, uint64_t *out)
{
	return gp_mem_read_u64(&r->mem, addr, out);
}

int gp_pyobj_type_is(const struct gp_pyobj *r, uint64_t obj, const char *name)
{
	size_t len = strlen(name) + 1;
	uint64_t type, tp_name;
	char buf[32];

	if (!obj || len > sizeof(buf) || read_ptr(r, obj + r->L->ob_type, &type) || !type ||
	    read_ptr(r, type + r->O->type_name, &tp_name) || !tp_name ||
	    gp_mem_read(&r->mem, tp_name, buf, len))
		return 0;
	return !memcmp(buf, name, len);
}

int gp_pyobj_str_equals(const struct gp_pyobj *r, uint64_t addr, const char *name)
{
	char buf[256];
	uint64_t length;

	/* The length first: most keys differ there, for one read. */
	if (!addr || gp_mem_read_u64(&r->mem, addr + r->L->str_length, &length) ||
	    length != strlen(name) || length >= sizeof(buf) / 4)
		return 0;
	if (gp_read_pystr(r->L, &r->mem, addr, buf, sizeof(buf)))
		return 0;
	return !strcmp(buf, name);
}

/* Where the entries of a keys table are, how many and how big. */
struct keys_view {
	uint64_t entries;
	uint64_t n;
	uint32_t esize, key, value;
};

static int index_bytes_sized(const struct gp_pyobj *r, uint64_t keys, uint64_t *bytes)
{
	uint64_t size, width;

	if (gp_mem_read_u64(&r->mem, keys + r->O->keys_size, &size))
		return -1;
	/* A power of two, and never more slots than the limit allows entries. */
	if (size < 8 || (size & (size - 1)) || size > 2 * (uint64_t)GP_DICT_MAX_ENTRIES)
		return -1;
	width = size <= 0xff ? 1 : size <= 0xffff ? 2 : 4;
	*bytes = size * width;
	return 0;
}

static int keys_view(const struct gp_pyobj *r, uint64_t keys, struct keys_view *v)
{
	const struct py_objlayout *O = r->O;
	uint64_t index_bytes;
	int64_t n;
	uint8_t log2, kind = (uint8_t)O->kind_general;

	if (!keys || gp_mem_read(&r->mem, keys + O->keys_nentries, &n, sizeof(n)) || n < 0 ||
	    n > GP_DICT_MAX_ENTRIES)
		return -1;
	if (O->keys_format == GP_DICTKEYS_SIZED) {
		if (index_bytes_sized(r, keys, &index_bytes))
			return -1;
	} else {
		if (read_u8(r, keys + O->keys_log2_index_bytes, &log2) ||
		    read_u8(r, keys + O->keys_kind, &kind) || log2 > 24)
			return -1;
		index_bytes = 1ULL << log2;
	}
	v->entries = keys + O->keys_indices + index_bytes;
	v->n = (uint64_t)n;
	if (kind == O->kind_general) {
		v->esize = O->entry_size;
		v->key = O->entry_key;
		v->value = O->entry_value;
	} else {
		v->esize = O->unicode_entry_size;
		v->key = O->unicode_entry_key;
		v->value = O->unicode_entry_value;
	}
	return 0;
}

/*
 * Visit the items of a keys table whose values are in the entries or, for
 * split tables and shared-key instances, in the array at values.
 */
static int keys_each(const struct gp_pyobj *r, uint64_t keys, uint64_t values,
		     int (*fn)(uint64_t key, uint64_t value, void *ctx), void *ctx)
{
	uint8_t *entries = NULL;
	uint64_t *vals = NULL;
	struct keys_view v;
	int rc = -1;

	if (keys_view(r, keys, &v))
		return -1;
	if (!v.n)
		return 0;
	if (v.n * v.esize > GP_MEM_MAX_READ || v.n * 8 > GP_MEM_MAX_READ)
		return -1;
	entries = malloc(v.n * v.esize);
	vals = values ? malloc(v.n * 8) : NULL;
	if (!entries || (values && !vals) ||
	    gp_mem_read(&r->mem, v.entries, entries, v.n * v.esize) ||
	    (values && gp_mem_read(&r->mem, values, vals, v.n * 8)))
		goto out;
	rc = 0;
	for (uint64_t i = 0; i < v.n; i++) {
		uint64_t key, value;

		memcpy(&key, entries + i * v.esize + v.key, 8);
		if (values)
			value = vals[i];
		else
			memcpy(&value, entries + i * v.esize + v.value, 8);
		if (key && value && fn(key, value, ctx))
			break;
	}
out:
	free(entries);
	free(vals);
	return rc;
}

int gp_pydict_each(const struct gp_pyobj *r, uint64_t dict,
		   int (*fn)(uint64_t key, uint64_t value, void *ctx), void *ctx)
{
	uint64_t keys, values;

	if (!dict || read_ptr(r, dict + r->O->dict_keys, &keys) ||
	    read_ptr(r, dict + r->O->dict_values, &values))
		return -1;
	return keys_each(r, keys, values ? values + r->O->values_array : 0, fn, ctx);
}

struct lookup {
	const struct gp_pyobj *r;
	const char *name;
	uint64_t value;
};

static int match_key(uint64_t key, uint64_t value, void *ctx)
{
	struct lookup *l = ctx;

	if (!gp_pyobj_str_equals(l->r, key, l->name))
		return 0;
	l->value = value;
	return 1;
}

uint64_t gp_pydict_get(const struct gp_pyobj *r, uint64_t dict, const char *name)
{
	struct lookup l = { r, name, 0 };

	gp_pydict_each(r, dict, match_key, &l);
	return l.value;
}

/* name among the type's shared keys, its value in the values array. */
static uint64_t shared_key_value(const struct gp_pyobj *r, uint64_t type, uint64_t values,
				 const char *name)
{
	struct lookup l = { r, name, 0 };
	uint64_t keys;

	if (read_ptr(r, type + r->O->heaptype_cached_keys, &keys) || !keys)
		return 0;
	keys_each(r, keys, values + r->O->values_array, match_key, &l);
	return l.value;
}

/* The instance dict of obj, or its shared-key values (*values); 0 if neither. */
static uint64_t instance_dict(const struct gp_pyobj *r, uint64_t obj, uint64_t type,
			      uint64_t flags, uint64_t *values)
{
	const struct py_objlayout *O = r->O;
	uint64_t word = 0;
	int64_t off;
	uint8_t valid;

	*values = 0;
	switch (O->managed_kind) {
	case GP_MANAGED_NONE:
		if (gp_mem_read(&r->mem, type + O->type_dictoffset, &off, sizeof(off)) ||
		    off <= 0 || off > 1 << 16)
			return 0;
		return read_ptr(r, obj + (uint64_t)off, &word) ? 0 : word;
	case GP_MANAGED_VALUES_PTR:
		if (!(flags & O->flag_managed_dict))
			return 0;
		if (!read_ptr(r, obj + O->managed_values, values) && *values)
			return 0;
		return read_ptr(r, obj + O->managed_dict, &word) ? 0 : word;
	case GP_MANAGED_TAGGED:
		if (!(flags & O->flag_managed_dict) || read_ptr(r, obj + O->managed_dict, &word))
			return 0;
		if (word & 1) {
			*values = word + 1; /* stored as pointer - 1 */
			return 0;
		}
		return word;
	case GP_MANAGED_INLINE:
		if (!(flags & O->flag_managed_dict))
			return 0;
		if (flags & O->flag_inline_values) {
			uint64_t basicsize;

			if (!read_ptr(r, type + O->type_basicsize, &basicsize) &&
			    basicsize < (1 << 16) &&
			    !read_u8(r, obj + basicsize + O->values_valid, &valid) && valid) {
				*values = obj + basicsize;
				return 0;
			}
		}
		return read_ptr(r, obj + O->managed_dict, &word) ? 0 : word;
	default:
		return 0;
	}
}

uint64_t gp_pyobj_attr(const struct gp_pyobj *r, uint64_t obj, const char *name)
{
	uint64_t type, flags, dict, values;

	if (!obj || read_ptr(r, obj + r->L->ob_type, &type) || !type ||
	    read_ptr(r, type + r->O->type_flags, &flags))
		return 0;
	dict = instance_dict(r, obj, type, flags, &values);
	if (values)
		return shared_key_value(r, type, values, name);
	return dict ? gp_pydict_get(r, dict, name) : 0;
}

int gp_pylong(const struct gp_pyobj *r, uint64_t obj, int64_t *out)
{
	const struct py_objlayout *O = r->O;
	uint32_t digits[3];
	int64_t size;
	uint64_t n, v = 0;

	if (!gp_pyobj_type_is(r, obj, "int") ||
	    gp_mem_read(&r->mem, obj + O->long_size, &size, sizeof(size)))
		return -1;
	if (O->long_sign_mask) {
		if ((size & O->long_sign_mask) == 1) { /* zero */
			*out = 0;
			return 0;
		}
		if (size & O->long_sign_mask & 2) /* negative: no thread id is */
			return -1;
	} else if (size < 0) {
		return -1;
	}
	n = (uint64_t)size >> O->long_tag_shift;
	/* Two 30-bit digits hold any id; a third would overflow int64. */
	if (n > 2 || gp_mem_read(&r->mem, obj + O->long_digit, digits, n * 4))
		return -1;
	for (uint64_t i = n; i-- > 0;)
		v = (v << O->long_digit_bits) | digits[i];
	*out = (int64_t)v;
	return 0;
}
