/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_PYOBJ_H
#define GP_PYOBJ_H

#include <stdint.h>

#include "targetmem.h"

struct py_layout;

/* How a dict's keys table is sized (struct py_objlayout.keys_format). */
enum gp_dictkeys_format {
	GP_DICTKEYS_SIZED = 1,     /* 3.9, 3.10: dk_size entries, index width by size */
	GP_DICTKEYS_LOG2 = 2,      /* 3.11+: dk_log2_size, dk_log2_index_bytes, dk_kind */
};

/* Where an instance keeps its attributes (struct py_objlayout.managed_kind). */
enum gp_managed_dict {
	GP_MANAGED_NONE = 0,       /* a dict at the type's tp_dictoffset (3.9, 3.10) */
	GP_MANAGED_VALUES_PTR = 1, /* values pointer before the object, else dict (3.11) */
	GP_MANAGED_TAGGED = 2,     /* one word before the object: values | 1, or dict (3.12) */
	GP_MANAGED_INLINE = 3,     /* values after the object if valid, else dict (3.13) */
};

/*
 * Where CPython keeps what user space reads of ordinary objects (modules,
 * dicts, instance attributes, ints), for one minor version. Produced by
 * sampler/pyobjlayout_gen.c from the version's headers: a row of the table in
 * sampler/pyobjlayouts.c. Offsets in bytes; -1 where a field does not exist.
 * Only user space reads these (the BPF programs never do).
 */
struct py_objlayout {
	uint32_t version_hex;
	int32_t interp_modules;        /* sys.modules in PyInterpreterState */
	int32_t module_dict;           /* md_dict in PyModuleObject */
	int32_t type_name;             /* tp_name (const char *) */
	int32_t type_basicsize;
	int32_t type_dictoffset;
	int32_t type_flags;
	int32_t heaptype_cached_keys;  /* ht_cached_keys: keys shared by instances */
	uint32_t flag_managed_dict;    /* Py_TPFLAGS_MANAGED_DICT, 0 if none */
	uint32_t flag_inline_values;   /* Py_TPFLAGS_INLINE_VALUES, 0 if none */
	int32_t managed_kind;          /* enum gp_managed_dict */
	int32_t managed_dict;          /* dict pointer, relative to the object */
	int32_t managed_values;        /* values pointer, relative to the object (3.11) */
	int32_t dict_keys;             /* ma_keys */
	int32_t dict_values;           /* ma_values: NULL unless split */
	int32_t values_array;          /* values[0] in PyDictValues (0: the array itself) */
	int32_t values_valid;          /* "valid" byte of inline values (3.13) */
	int32_t keys_format;           /* enum gp_dictkeys_format */
	int32_t keys_size;             /* dk_size (Py_ssize_t) or dk_log2_size (byte) */
	int32_t keys_log2_index_bytes; /* byte (3.11+) */
	int32_t keys_kind;             /* byte (3.11+) */
	int32_t keys_nentries;
	int32_t keys_indices;
	int32_t kind_general;          /* dk_kind with PyDictKeyEntry entries */
	int32_t entry_size;            /* PyDictKeyEntry: hash, key, value */
	int32_t entry_key;
	int32_t entry_value;
	int32_t unicode_entry_size;    /* PyDictUnicodeEntry: key, value (3.11+) */
	int32_t unicode_entry_key;
	int32_t unicode_entry_value;
	int32_t long_size;             /* ob_size (signed digit count) or lv_tag */
	int32_t long_tag_shift;        /* digit count = size >> shift */
	int32_t long_sign_mask;        /* lv_tag sign bits (0: the sign of ob_size) */
	int32_t long_digit;            /* ob_digit[0] (uint32 digits) */
	int32_t long_digit_bits;       /* PyLong_SHIFT */
	int32_t ob_type;               /* PyObject.ob_type */
	int32_t var_size;              /* PyVarObject.ob_size (tuple, list, bytes) */
	int32_t float_value;           /* PyFloatObject.ob_fval (double) */
	int32_t tuple_items;           /* PyTupleObject.ob_item[0] */
	int32_t list_items;            /* PyListObject.ob_item (PyObject **) */
	int32_t dict_used;             /* PyDictObject.ma_used: items */
	int32_t set_mask;              /* PySetObject: table size - 1 */
	int32_t set_used;              /* active entries */
	int32_t set_table;             /* setentry * */
	int32_t set_entry_size;
	int32_t set_entry_key;         /* NULL: empty; the dummy: deleted */
};

/* The row for version_hex's major.minor, or NULL (sampler/pyobjlayouts.c). */
const struct py_objlayout *gp_objlayout_for(uint32_t version_hex);

/* Reading ordinary objects of a target, every read bounded and checked. */
struct gp_pyobj {
	const struct py_layout *L;     /* str layout */
	const struct py_objlayout *O;
	struct gp_mem mem;
};

/* Entries of one dict or keys table visited at most; bigger ones are refused. */
#define GP_DICT_MAX_ENTRIES 65536

/* Is obj's type named name (tp_name)? */
int gp_pyobj_type_is(const struct gp_pyobj *r, uint64_t obj, const char *name);
/* Is the str object at addr equal to name? */
int gp_pyobj_str_equals(const struct gp_pyobj *r, uint64_t addr, const char *name);

/*
 * Call fn(key, value, ctx) for every item of the dict (until fn returns
 * non-zero). 0, or -1 if the dict cannot be read or is too big.
 */
int gp_pydict_each(const struct gp_pyobj *r, uint64_t dict,
		   int (*fn)(uint64_t key, uint64_t value, void *ctx), void *ctx);
/* dict[name] for a str key; 0 if absent or unreadable. */
uint64_t gp_pydict_get(const struct gp_pyobj *r, uint64_t dict, const char *name);
/* obj.name for an instance attribute (not a class attribute); 0 if none. */
uint64_t gp_pyobj_attr(const struct gp_pyobj *r, uint64_t obj, const char *name);
/* The value of an int object that fits in int64; 0 or -1. */
int gp_pylong(const struct gp_pyobj *r, uint64_t obj, int64_t *out);

#endif
