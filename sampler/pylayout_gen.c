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
#if PY_MINOR_AT_LEAST(12)
	ABSENT("rt_gil");
	OFF("rt_tss_key", _PyRuntimeState, autoTSSkey._key);
#else
	OFF("rt_gil", _PyRuntimeState, ceval.gil);
	OFF("rt_tss_key", _PyRuntimeState, gilstate.autoTSSkey._key);
#endif
}

static void interpreter_fields(void)
{
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
}

static void frame_fields(void)
{
#if PY_MINOR_AT_LEAST(11)
	typedef _PyInterpreterFrame F;
	field("frame_size", END_OF(F, owner));
	OFF("frame_previous", F, previous);
#if PY_MINOR_AT_LEAST(13)
	OFF("frame_code", F, f_executable);
	OFF("frame_instr", F, instr_ptr);
#else
	OFF("frame_code", F, f_code);
	OFF("frame_instr", F, prev_instr);
#endif
	field("frame_instr_is_ptr", 1);
	field("frame_lasti_scale", 0);
	OFF("frame_owner", F, owner);
#if PY_MINOR_AT_LEAST(12)
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
	OFF("gil_cond", struct _gil_runtime_state, cond);
	field("gil_cond_size", (long)sizeof(((struct _gil_runtime_state *)0)->cond));
}

int main(void)
{
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
	printf("\t},\n");
	return 0;
}
