// SPDX-License-Identifier: BSD-2-Clause
/*
 * pyobjlayout_gen — prints the struct py_objlayout row (unwind/pyobj.h) of
 * the CPython whose headers it is compiled against, like pylayout_gen.c:
 *
 *   cc -I$INC -I$INC/internal pyobjlayout_gen.c && ./a.out
 *
 * The only place that knows how modules, dicts, instance attributes and
 * ints are laid out in which version. `make layouts` regenerates the rows
 * (sampler/objlayouts/), `make test` checks they are current.
 */
#ifndef Py_BUILD_CORE
#define Py_BUILD_CORE 1
#endif
#include <Python.h>
#include <stddef.h>
#include <stdio.h>

#include "internal/pycore_interp.h"
#include "internal/pycore_object.h"

#define PY_MINOR_AT_LEAST(m) (PY_VERSION_HEX >= (0x03000000 | ((m) << 16)))

#if PY_MINOR_AT_LEAST(10)
#include "internal/pycore_moduleobject.h"
#else
/* 3.9 keeps PyModuleObject in moduleobject.c: md_dict follows the header. */
typedef struct {
	PyObject_HEAD
	PyObject *md_dict;
} PyModuleObject;
#endif

#if PY_MINOR_AT_LEAST(11)
#include "internal/pycore_dict.h"
#else
/* 3.9 and 3.10 keep the keys table in Objects/dict-common.h, not installed. */
typedef struct {
	Py_hash_t me_hash;
	PyObject *me_key;
	PyObject *me_value;
} PyDictKeyEntry;

struct _dictkeysobject {
	Py_ssize_t dk_refcnt;
	Py_ssize_t dk_size;
	void *dk_lookup;
	Py_ssize_t dk_usable;
	Py_ssize_t dk_nentries;
	char dk_indices[];
};
#endif

static void field(const char *name, long value)
{
	printf("\t\t.%s = %ld,\n", name, value);
}

#define OFF(name, type, member) field(name, (long)offsetof(type, member))
#define ABSENT(name) field(name, -1)

static void module_and_type_fields(void)
{
#if PY_MINOR_AT_LEAST(12)
	OFF("interp_modules", PyInterpreterState, imports.modules);
#else
	OFF("interp_modules", PyInterpreterState, modules);
#endif
	OFF("module_dict", PyModuleObject, md_dict);
	OFF("type_name", PyTypeObject, tp_name);
	OFF("type_basicsize", PyTypeObject, tp_basicsize);
	OFF("type_dictoffset", PyTypeObject, tp_dictoffset);
	OFF("type_flags", PyTypeObject, tp_flags);
	OFF("heaptype_cached_keys", PyHeapTypeObject, ht_cached_keys);
}

/* Instance attributes: where the dict or the shared-key values are. */
static void managed_fields(void)
{
	const long word = (long)sizeof(PyObject *);

#ifdef Py_TPFLAGS_MANAGED_DICT
	field("flag_managed_dict", Py_TPFLAGS_MANAGED_DICT);
#else
	field("flag_managed_dict", 0);
#endif
#ifdef Py_TPFLAGS_INLINE_VALUES
	field("flag_inline_values", Py_TPFLAGS_INLINE_VALUES);
#else
	field("flag_inline_values", 0);
#endif
#if PY_MINOR_AT_LEAST(13)
	field("managed_kind", 3); /* GP_MANAGED_INLINE: _PyObject_InlineValues */
	field("managed_dict", MANAGED_DICT_OFFSET);
	ABSENT("managed_values");
#elif PY_MINOR_AT_LEAST(12)
	field("managed_kind", 2); /* GP_MANAGED_TAGGED: _PyObject_DictOrValuesPointer */
	field("managed_dict", -3 * word);
	ABSENT("managed_values");
#elif PY_MINOR_AT_LEAST(11)
	field("managed_kind", 1); /* GP_MANAGED_VALUES_PTR: _PyObject_ValuesPointer */
	field("managed_dict", MANAGED_DICT_OFFSET);
	field("managed_values", -4 * word);
#else
	field("managed_kind", 0); /* GP_MANAGED_NONE: tp_dictoffset */
	ABSENT("managed_dict");
	ABSENT("managed_values");
#endif
}

static void dict_fields(void)
{
	OFF("dict_keys", PyDictObject, ma_keys);
	OFF("dict_values", PyDictObject, ma_values);
#if PY_MINOR_AT_LEAST(13)
	OFF("values_array", PyDictValues, values);
	OFF("values_valid", PyDictValues, valid);
#else
	field("values_array", 0);
	ABSENT("values_valid");
#endif
#if PY_MINOR_AT_LEAST(11)
	field("keys_format", 2); /* GP_DICTKEYS_LOG2 */
	OFF("keys_size", PyDictKeysObject, dk_log2_size);
	OFF("keys_log2_index_bytes", PyDictKeysObject, dk_log2_index_bytes);
	OFF("keys_kind", PyDictKeysObject, dk_kind);
#else
	field("keys_format", 1); /* GP_DICTKEYS_SIZED */
	OFF("keys_size", PyDictKeysObject, dk_size);
	ABSENT("keys_log2_index_bytes");
	ABSENT("keys_kind");
#endif
	OFF("keys_nentries", PyDictKeysObject, dk_nentries);
	OFF("keys_indices", PyDictKeysObject, dk_indices);
#if PY_MINOR_AT_LEAST(11)
	field("kind_general", DICT_KEYS_GENERAL);
#else
	field("kind_general", 0);
#endif
	field("entry_size", (long)sizeof(PyDictKeyEntry));
	OFF("entry_key", PyDictKeyEntry, me_key);
	OFF("entry_value", PyDictKeyEntry, me_value);
#if PY_MINOR_AT_LEAST(11)
	field("unicode_entry_size", (long)sizeof(PyDictUnicodeEntry));
	OFF("unicode_entry_key", PyDictUnicodeEntry, me_key);
	OFF("unicode_entry_value", PyDictUnicodeEntry, me_value);
#else
	ABSENT("unicode_entry_size");
	ABSENT("unicode_entry_key");
	ABSENT("unicode_entry_value");
#endif
}

static void long_fields(void)
{
#if PY_MINOR_AT_LEAST(12)
	field("long_size", (long)(offsetof(PyLongObject, long_value) +
				  offsetof(_PyLongValue, lv_tag)));
	field("long_tag_shift", _PyLong_NON_SIZE_BITS);
	field("long_sign_mask", _PyLong_SIGN_MASK);
	field("long_digit", (long)(offsetof(PyLongObject, long_value) +
				   offsetof(_PyLongValue, ob_digit)));
#else
	OFF("long_size", PyVarObject, ob_size);
	field("long_tag_shift", 0);
	field("long_sign_mask", 0);
	OFF("long_digit", PyLongObject, ob_digit);
#endif
	field("long_digit_bits", PyLong_SHIFT);
}

/* What the repr reader (unwind/pyrepr.c) reads of scalars and containers. */
static void repr_fields(void)
{
	OFF("ob_type", PyObject, ob_type);
	OFF("var_size", PyVarObject, ob_size);
	OFF("float_value", PyFloatObject, ob_fval);
	OFF("tuple_items", PyTupleObject, ob_item);
	OFF("list_items", PyListObject, ob_item);
	OFF("dict_used", PyDictObject, ma_used);
	OFF("set_mask", PySetObject, mask);
	OFF("set_used", PySetObject, used);
	OFF("set_table", PySetObject, table);
	field("set_entry_size", (long)sizeof(setentry));
	OFF("set_entry_key", setentry, key);
}

int main(void)
{
	printf("\t{ /* generated from Python %d.%d.%d headers */\n", PY_MAJOR_VERSION,
	       PY_MINOR_VERSION, PY_MICRO_VERSION);
	printf("\t\t.version_hex = 0x%08lx,\n", (unsigned long)PY_VERSION_HEX);
	module_and_type_fields();
	managed_fields();
	dict_fields();
	long_fields();
	repr_fields();
	printf("\t},\n");
	return 0;
}
