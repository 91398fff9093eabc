// SPDX-License-Identifier: BSD-2-Clause
/*
 * pylayout_gen — prints the struct py_layout row of the CPython whose headers
 * it is compiled against. Build it with the interpreter's own include dirs:
 *
 *   cc -DPy_BUILD_CORE -I$INC -I$INC/internal pylayout_gen.c && ./a.out
 *
 * This is the only place that knows which field has which name in which
 * version; everything else reads the generated rows (sampler/pylayouts.c).
 * `make layouts` regenerates them, `make test` checks they are current.
 *
 * A row for a version no installed interpreter has (headers taken from
 * CPython's sources) is built with -DGP_UNTESTED='"where the headers came
 * from"': the row says so in a comment and in its `untested` field.
 */
#ifndef Py_BUILD_CORE
#define Py_BUILD_CORE 1
#endif
#include <Python.h>
#include <frameobject.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "internal/pycore_runtime.h"
#include "internal/pycore_interp.h"
#if PY_VERSION_HEX >= 0x030b0000
#include "internal/pycore_frame.h"
#endif
#if PY_VERSION_HEX >= 0x030e0000
#include "internal/pycore_debug_offsets.h" /* in pycore_runtime.h in 3.13 */
#include "internal/pycore_stackref.h"
#endif
#include "internal/pycore_gil.h"

#define PY_MINOR_AT_LEAST(m) (PY_VERSION_HEX >= (0x03000000 | ((m) << 16)))

static void field(const char *name, long value)
{
	printf("\t\t.%s = %ld,\n", name, value);
}

#define OFF(name, type, member) field(name, (long)offsetof(type, member))
#define ABSENT(name) field(name, -1)

/* Byte just past the last frame field the sampler reads. */
#define END_OF(type, member) ((long)(offsetof(type, member) + sizeof(((type *)0)->member)))

static void runtime_fields(void)
{
	OFF("rt_interp_head", _PyRuntimeState, interpreters.head);
	OFF("rt_interp_main", _PyRuntimeState, interpreters.main);
#if PY_MINOR_AT_LEAST(15)
	/* 3.15 keeps the gilstate in a thread-local variable (gh-131185). */
	ABSENT("rt_gil");
	ABSENT("rt_tss_key");
#elif PY_MINOR_AT_LEAST(12)
	ABSENT("rt_gil");
	OFF("rt_tss_key", _PyRuntimeState, autoTSSkey._key);
#else
	OFF("rt_gil", _PyRuntimeState, ceval.gil);
	OFF("rt_tss_key", _PyRuntimeState, gilstate.autoTSSkey._key);
#endif
	field("rt_size", (long)sizeof(_PyRuntimeState));
}

static void interpreter_fields(void)
{
	OFF("interp_id", PyInterpreterState, id);
	OFF("interp_next", PyInterpreterState, next);
#if PY_MINOR_AT_LEAST(11)
	OFF("interp_threads_head", PyInterpreterState, threads.head);
#else
	OFF("interp_threads_head", PyInterpreterState, tstate_head);
#endif
#if PY_MINOR_AT_LEAST(12)
	OFF("interp_gil_ptr", PyInterpreterState, ceval.gil);
#else
	ABSENT("interp_gil_ptr");
#endif
	field("interp_gc_collecting", (long)(offsetof(PyInterpreterState, gc) +
					     offsetof(struct _gc_runtime_state, collecting)));
}

static void thread_fields(void)
{
	OFF("ts_next", PyThreadState, next);
	OFF("ts_interp", PyThreadState, interp);
#if PY_MINOR_AT_LEAST(13)
	OFF("ts_frame", PyThreadState, current_frame);
	ABSENT("ts_cframe");
	ABSENT("cframe_frame");
#elif PY_MINOR_AT_LEAST(11)
	ABSENT("ts_frame");
	OFF("ts_cframe", PyThreadState, cframe);
	OFF("cframe_frame", _PyCFrame, current_frame);
#else
	OFF("ts_frame", PyThreadState, frame);
	ABSENT("ts_cframe");
	ABSENT("cframe_frame");
#endif
	OFF("ts_thread_id", PyThreadState, thread_id);
#if PY_MINOR_AT_LEAST(11)
	OFF("ts_native_tid", PyThreadState, native_thread_id);
#else
	ABSENT("ts_native_tid");
#endif
#if PY_MINOR_AT_LEAST(14)
	OFF("ts_holds_gil", PyThreadState, holds_gil);
#else
	ABSENT("ts_holds_gil"); /* a bit of _status before 3.14 */
#endif
#if PY_MINOR_AT_LEAST(15)
	OFF("ts_gil_requested", PyThreadState, gil_requested);
	OFF("ts_base_frame", PyThreadState, base_frame);
#else
	ABSENT("ts_gil_requested");
	ABSENT("ts_base_frame");
#endif
}

static void frame_fields(void)
{
#if PY_MINOR_AT_LEAST(11)
	typedef _PyInterpreterFrame F;
	field("frame_size", END_OF(F, owner));
	OFF("frame_previous", F, previous);
#if PY_MINOR_AT_LEAST(13)
	OFF("frame_code", F, f_executable);
#else
	OFF("frame_code", F, f_code);
#endif
#if PY_MINOR_AT_LEAST(14)
	/* f_executable is a _PyStackRef: the object pointer with tag bits. */
	field("frame_code_tag_bits", (long)Py_TAG_BITS);
#else
	field("frame_code_tag_bits", 0);
#endif
#if PY_MINOR_AT_LEAST(13)
	OFF("frame_instr", F, instr_ptr);
#else
	OFF("frame_instr", F, prev_instr);
#endif
	field("frame_instr_is_ptr", 1);
	field("frame_lasti_scale", 0);
	OFF("frame_owner", F, owner);
#if PY_MINOR_AT_LEAST(14)
	/* The entry frame is FRAME_OWNED_BY_INTERPRETER; CSTACK comes after. */
	ABSENT("frame_is_entry");
	field("owner_cstack", FRAME_OWNED_BY_INTERPRETER);
#elif PY_MINOR_AT_LEAST(12)
	ABSENT("frame_is_entry");
	field("owner_cstack", FRAME_OWNED_BY_CSTACK);
#else
	OFF("frame_is_entry", F, is_entry);
	ABSENT("owner_cstack");
#endif
	field("owner_generator", FRAME_OWNED_BY_GENERATOR);
	field("frame_each_entry", 0);
#else
	typedef PyFrameObject F;
	field("frame_size", END_OF(F, f_lasti));
	OFF("frame_previous", F, f_back);
	OFF("frame_code", F, f_code);
	OFF("frame_instr", F, f_lasti);
	field("frame_instr_is_ptr", 0);
	/* 3.9 counts f_lasti in bytes, 3.10 in 2-byte code units. */
	field("frame_lasti_scale", PY_MINOR_AT_LEAST(10) ? 2 : 1);
	field("frame_code_tag_bits", 0);
	ABSENT("frame_owner");
	ABSENT("frame_is_entry");
	ABSENT("owner_cstack");
	ABSENT("owner_generator");
	field("frame_each_entry", 1);
#endif
}

/*
 * The str state word is a bitfield whose layout the compiler decides: set
 * each field in a zeroed object and look at which bits moved.
 */
static unsigned int state_word(const PyASCIIObject *o)
{
	unsigned int w;

	memcpy(&w, (const char *)o + offsetof(PyASCIIObject, state), sizeof(w));
	return w;
}

static void str_state_bits(void)
{
	PyASCIIObject o;
	unsigned int kind_bits, shift = 0;

	memset(&o, 0, sizeof(o));
	o.state.kind = 7;
	kind_bits = state_word(&o);
	while (kind_bits && !(kind_bits & 1)) {
		kind_bits >>= 1;
		shift++;
	}
	field("str_kind_shift", shift);
	memset(&o, 0, sizeof(o));
	o.state.compact = 1;
	field("str_compact_mask", state_word(&o));
	memset(&o, 0, sizeof(o));
	o.state.ascii = 1;
	field("str_ascii_mask", state_word(&o));
}

static void code_fields(void)
{
	field("obj_size", (long)sizeof(PyObject));
	OFF("ob_type", PyObject, ob_type);
	field("code_size", (long)sizeof(PyCodeObject));
	OFF("code_firstlineno", PyCodeObject, co_firstlineno);
	OFF("code_filename", PyCodeObject, co_filename);
	OFF("code_name", PyCodeObject, co_name);
#if PY_MINOR_AT_LEAST(11)
	OFF("code_qualname", PyCodeObject, co_qualname);
	OFF("code_linetable", PyCodeObject, co_linetable);
	field("code_linetable_format", 3);
	OFF("code_adaptive", PyCodeObject, co_code_adaptive);
	OFF("code_firsttraceable", PyCodeObject, _co_firsttraceable);
#else
	ABSENT("code_qualname");
#if PY_MINOR_AT_LEAST(10)
	OFF("code_linetable", PyCodeObject, co_linetable);
	field("code_linetable_format", 2);
#else
	OFF("code_linetable", PyCodeObject, co_lnotab);
	field("code_linetable_format", 1);
#endif
	ABSENT("code_adaptive");
	ABSENT("code_firsttraceable");
#endif
	OFF("bytes_size", PyVarObject, ob_size);
	OFF("bytes_data", PyBytesObject, ob_sval);
	field("str_size", (long)sizeof(PyUnicodeObject));
	OFF("str_length", PyASCIIObject, length);
	OFF("str_state", PyASCIIObject, state);
	field("str_ascii_data", (long)sizeof(PyASCIIObject));
	field("str_compact_data", (long)sizeof(PyCompactUnicodeObject));
	OFF("str_legacy_data", PyUnicodeObject, data);
	str_state_bits();
}

static void gil_fields(void)
{
	OFF("gil_last_holder", struct _gil_runtime_state, last_holder);
	OFF("gil_locked", struct _gil_runtime_state, locked);
	OFF("gil_switch_number", struct _gil_runtime_state, switch_number);
	OFF("gil_cond", struct _gil_runtime_state, cond);
	field("gil_cond_size", (long)sizeof(((struct _gil_runtime_state *)0)->cond));
	field("gil_size", (long)sizeof(struct _gil_runtime_state));
}

/* Where _Py_DebugOffsets keeps what the fields above describe (3.13+). */
#if PY_MINOR_AT_LEAST(13)
#define DPOS(name, member) field("dbg." name, (long)offsetof(_Py_DebugOffsets, member))

static void debug_offsets_positions(void)
{
	field("dbg.block_size", (long)sizeof(_Py_DebugOffsets));
	DPOS("version", version);
	DPOS("free_threaded", free_threaded);
	DPOS("rt_sz", runtime_state.size);
	DPOS("rt_interp_head", runtime_state.interpreters_head);
	DPOS("interp_sz", interpreter_state.size);
	DPOS("interp_id", interpreter_state.id);
	DPOS("interp_next", interpreter_state.next);
	DPOS("interp_threads_head", interpreter_state.threads_head);
	DPOS("interp_gil_ptr", interpreter_state.ceval_gil);
	DPOS("interp_gc", interpreter_state.gc);
	DPOS("interp_modules", interpreter_state.imports_modules);
	DPOS("ts_sz", thread_state.size);
	DPOS("ts_next", thread_state.next);
	DPOS("ts_interp", thread_state.interp);
	DPOS("ts_frame", thread_state.current_frame);
	DPOS("ts_thread_id", thread_state.thread_id);
	DPOS("ts_native_tid", thread_state.native_thread_id);
	DPOS("frame_sz", interpreter_frame.size);
	DPOS("frame_previous", interpreter_frame.previous);
	DPOS("frame_code", interpreter_frame.executable);
	DPOS("frame_instr", interpreter_frame.instr_ptr);
	DPOS("frame_owner", interpreter_frame.owner);
	DPOS("code_sz", code_object.size);
	DPOS("code_filename", code_object.filename);
	DPOS("code_name", code_object.name);
	DPOS("code_qualname", code_object.qualname);
	DPOS("code_linetable", code_object.linetable);
	DPOS("code_firstlineno", code_object.firstlineno);
	DPOS("code_adaptive", code_object.co_code_adaptive);
	DPOS("obj_sz", pyobject.size);
	DPOS("ob_type", pyobject.ob_type);
	DPOS("bytes_sz", bytes_object.size);
	DPOS("bytes_size", bytes_object.ob_size);
	DPOS("bytes_data", bytes_object.ob_sval);
	DPOS("str_sz", unicode_object.size);
	DPOS("str_state", unicode_object.state);
	DPOS("str_length", unicode_object.length);
	DPOS("str_ascii_data", unicode_object.asciiobject_size);
	DPOS("gc_collecting", gc.collecting);
}
#else
static void debug_offsets_positions(void)
{
	/* No _Py_DebugOffsets before 3.13: block_size 0 says so. */
	field("dbg.block_size", 0);
}
#endif

int main(void)
{
#ifdef GP_UNTESTED
	printf("\t/*\n\t * UNTESTED: no Python %d.%d interpreter has been profiled by the tests.\n"
	       "\t * Headers: %s.\n\t */\n",
	       PY_MAJOR_VERSION, PY_MINOR_VERSION, GP_UNTESTED);
#endif
	printf("\t{ /* generated from Python %d.%d.%d headers */\n", PY_MAJOR_VERSION,
	       PY_MINOR_VERSION, PY_MICRO_VERSION);
	printf("\t\t.version_hex = 0x%08lx,\n", (unsigned long)PY_VERSION_HEX);
#ifdef Py_GIL_DISABLED
	field("free_threaded", 1);
#else
	field("free_threaded", 0);
#endif
	runtime_fields();
	interpreter_fields();
	thread_fields();
	frame_fields();
	code_fields();
	gil_fields();
#ifdef GP_UNTESTED
	field("untested", 1);
#else
	field("untested", 0);
#endif
	debug_offsets_positions();
	printf("\t},\n");
	return 0;
}
