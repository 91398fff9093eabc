// SPDX-License-Identifier: BSD-2-Clause
/*
 * debugoffsets.c — CPython 3.13+ publishes its own structure offsets in a
 * _Py_DebugOffsets block at the start of _PyRuntime, for out-of-process
 * tools. gil-prof reads it, checks it against the generated row of the same
 * version, and samples with the process's own offsets: a distributor's
 * patched build or a layout change in a patch release is then read right,
 * or refused, instead of read wrong.
 *
 * Which row field each block value gives is the table below; where each
 * value sits inside the block is data generated from the version's headers
 * (struct py_debug_pos in the row). The block itself is target memory:
 * every value is range-checked before it becomes an offset.
 */
#include "debugoffsets.h"
#include "pyversion.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#define DEBUG_COOKIE "xdebugpy"
/* No CPython structure the sampler reads comes near this size. */
#define GROUP_SIZE_MAX (16u << 20)

enum bpf_buf { IN_MEMORY, IN_FRAME_BUF, IN_CODE_BUF };

struct dbg_map {
	const char *name;
	size_t field;  /* offsetof(struct py_layout, ...) */
	size_t pos;    /* offsetof(struct py_debug_pos, ...): the value */
	size_t group;  /* offsetof(struct py_debug_pos, ...): its struct's size */
	int width;     /* bytes read at the offset; 0: the value is a size */
	enum bpf_buf buf; /* the BPF copy the offset must also fall in */
};

#define MAP(f, g, w, b) \
	{ #f, offsetof(struct py_layout, f), offsetof(struct py_debug_pos, f), \
	  offsetof(struct py_debug_pos, g), w, b }

static const struct dbg_map maps[] = {
	MAP(rt_interp_head, rt_sz, 8, IN_MEMORY),
	MAP(interp_id, interp_sz, 8, IN_MEMORY),
	MAP(interp_next, interp_sz, 8, IN_MEMORY),
	MAP(interp_threads_head, interp_sz, 8, IN_MEMORY),
	MAP(interp_gil_ptr, interp_sz, 8, IN_MEMORY),
	MAP(ts_next, ts_sz, 8, IN_MEMORY),
	MAP(ts_interp, ts_sz, 8, IN_MEMORY),
	MAP(ts_frame, ts_sz, 8, IN_MEMORY),
	MAP(ts_thread_id, ts_sz, 8, IN_MEMORY),
	MAP(ts_native_tid, ts_sz, 8, IN_MEMORY),
	MAP(frame_previous, frame_sz, 8, IN_FRAME_BUF),
	MAP(frame_code, frame_sz, 8, IN_FRAME_BUF),
	MAP(frame_instr, frame_sz, 8, IN_FRAME_BUF),
	MAP(frame_owner, frame_sz, 1, IN_FRAME_BUF),
	MAP(code_filename, code_sz, 8, IN_MEMORY),
	MAP(code_name, code_sz, 8, IN_MEMORY),
	MAP(code_qualname, code_sz, 8, IN_MEMORY),
	MAP(code_linetable, code_sz, 8, IN_MEMORY),
	MAP(code_firstlineno, code_sz, 4, IN_CODE_BUF),
	MAP(code_adaptive, code_sz, 0, IN_MEMORY),
	MAP(ob_type, obj_sz, 8, IN_CODE_BUF),
	MAP(bytes_size, bytes_sz, 8, IN_MEMORY),
	MAP(bytes_data, bytes_sz, 0, IN_MEMORY),
	MAP(str_state, str_sz, 4, IN_MEMORY),
	MAP(str_length, str_sz, 8, IN_MEMORY),
	MAP(str_ascii_data, str_sz, 0, IN_MEMORY),
};

/*
 * Structures whose fields the block does not describe but the sampler
 * reads (co_firsttraceable, the str data offsets): if the process's struct
 * has another size, those fields may have moved. _PyRuntimeState is not
 * among them: debug builds make it bigger (332632 bytes for 3.14d, 316616
 * for 3.14) and patch releases grow it (3.13.5 is 56 bytes bigger than
 * 3.13.0) past the fields read; its one undescribed field read,
 * interpreters.main, follows interpreters.head (set_runtime()).
 */
struct size_check {
	const char *what;
	size_t pos;    /* offsetof(struct py_debug_pos, ...) */
	size_t field;  /* offsetof(struct py_layout, ...) */
};

#define SIZE(w, p, f) { w, offsetof(struct py_debug_pos, p), offsetof(struct py_layout, f) }

static const struct size_check sizes[] = {
	SIZE("PyObject", obj_sz, obj_size),
	SIZE("PyCodeObject", code_sz, code_size),
	SIZE("PyUnicodeObject", str_sz, str_size),
};

struct block {
	uint8_t data[GP_DEBUG_BLOCK_MAX];
	size_t len;
};

static int32_t pos_of(const struct py_layout *row, size_t pos)
{
	int32_t v;

	memcpy(&v, (const char *)&row->dbg + pos, sizeof(v));
	return v;
}

/* The u64 at position pos of the block; 0 with *ok cleared if outside. */
static uint64_t value_at(const struct block *b, int32_t pos, int *ok)
{
	uint64_t v;

	if (pos < 0 || (size_t)pos + sizeof(v) > b->len) {
		*ok = 0;
		return 0;
	}
	memcpy(&v, b->data + pos, sizeof(v));
	return v;
}

static int32_t *field_of(struct py_layout *L, size_t field)
{
	return (int32_t *)((char *)L + field);
}

static enum gp_dbg_verdict mismatch(struct gp_dbg_report *r, const char *fmt, const char *what,
				    uint64_t live, long expected)
{
	snprintf(r->why, sizeof(r->why), fmt, what, live, expected);
	return GP_DBG_MISMATCH;
}

/* PY_VERSION_HEX release level 0xF: a final release. */
static int is_final(uint64_t version)
{
	return ((version >> 4) & 0xf) == 0xf;
}

/*
 * The block has no layout version of its own: its layout is the row's
 * when both are final releases of one minor version (CPython keeps it
 * within a minor), or the very same pre-release (3.15.0b4 added a field
 * to it, moving everything after).
 */
static enum gp_dbg_verdict check_version(const struct py_layout *row, uint64_t version,
					 struct gp_dbg_report *r)
{
	char live[32], known[32];

	if ((version >> 16) != (row->version_hex >> 16) || version >> 32) {
		snprintf(r->why, sizeof(r->why),
			 "its debug offsets are those of version 0x%08" PRIx64
			 ", not Python %u.%u",
			 version, (row->version_hex >> 24) & 0xff, (row->version_hex >> 16) & 0xff);
		return GP_DBG_MISMATCH;
	}
	if (version == row->version_hex || (is_final(version) && is_final(row->version_hex)))
		return GP_DBG_OK;
	gp_version_format((uint32_t)version, live, sizeof(live));
	gp_version_format(row->version_hex, known, sizeof(known));
	snprintf(r->why, sizeof(r->why),
		 "its debug offsets are those of %s, a pre-release whose layout gil-prof does "
		 "not know (its table has %s)",
		 live, known);
	return GP_DBG_MISMATCH;
}

static enum gp_dbg_verdict check_header(const struct py_layout *row, const struct block *b,
					struct gp_dbg_report *r)
{
	int ok = 1;
	uint64_t version = value_at(b, row->dbg.version, &ok);
	uint64_t ft = value_at(b, row->dbg.free_threaded, &ok);

	if (!ok || memcmp(b->data, DEBUG_COOKIE, strlen(DEBUG_COOKIE))) {
		snprintf(r->why, sizeof(r->why),
			 "_PyRuntime does not start with CPython's debug offsets (cookie \"%s\")",
			 DEBUG_COOKIE);
		return GP_DBG_MISMATCH;
	}
	if (check_version(row, version, r) != GP_DBG_OK)
		return GP_DBG_MISMATCH;
	r->version = (uint32_t)version;
	if (ft != row->free_threaded) {
		if (ft == 1)
			return GP_DBG_FREE_THREADED;
		return mismatch(r, "its debug offsets give %s = %" PRIu64 ", expected %ld",
				"free_threaded", ft, (long)row->free_threaded);
	}
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint64_t live = value_at(b, pos_of(row, sizes[i].pos), &ok);
		int32_t want = *field_of((struct py_layout *)row, sizes[i].field);

		if (ok && live != (uint64_t)want)
			return mismatch(r, "its %s is %" PRIu64 " bytes, %ld in gil-prof's table",
					sizes[i].what, live, (long)want);
	}
	return ok ? GP_DBG_OK : GP_DBG_MISMATCH;
}

/* Is offset v (reading width bytes) inside its struct and the BPF copy? */
static int in_bounds(const struct dbg_map *mp, uint64_t v, uint64_t group)
{
	if (!group || group > GROUP_SIZE_MAX || v + (uint64_t)mp->width > group)
		return 0;
	if (mp->buf == IN_FRAME_BUF && v + (uint64_t)mp->width > GP_FRAME_BUF - 1)
		return 0;
	if (mp->buf == IN_CODE_BUF && v + (uint64_t)mp->width > GP_CODE_BUF)
		return 0;
	return 1;
}

static void count_use(struct gp_dbg_report *r, const char *name, int32_t *dst, int32_t v)
{
	r->checked++;
	if (*dst == v)
		return;
	if (!r->differ++)
		snprintf(r->first_diff, sizeof(r->first_diff), "%s", name);
	*dst = v;
}

/*
 * The process's _PyRuntimeState size, and interpreters.main, which the
 * block does not give: it is the pointer after interpreters.head (struct
 * pyinterpreters in every version), so it keeps the row's distance.
 */
static enum gp_dbg_verdict set_runtime(const struct py_layout *row, const struct block *b,
				       struct py_layout *out, struct gp_dbg_report *r)
{
	int ok = 1;
	uint64_t size = value_at(b, row->dbg.rt_sz, &ok);
	int64_t main_at = (int64_t)out->rt_interp_head + (row->rt_interp_main - row->rt_interp_head);

	if (!ok || main_at < 0 || (uint64_t)main_at + 8 > size || size > GROUP_SIZE_MAX)
		return mismatch(r, "its debug offsets make %s %" PRIu64
				   " bytes, too small or too big for what gil-prof reads (%ld in its table)",
				"_PyRuntimeState", size, (long)row->rt_size);
	count_use(r, "rt_interp_main", &out->rt_interp_main, (int32_t)main_at);
	/* A size, not an offset: not counted as a difference. */
	out->rt_size = (int32_t)size;
	return GP_DBG_OK;
}

/* sys.modules (thread names) moved inside 3.14 (3.14.5's GC revert). */
static enum gp_dbg_verdict set_modules(const struct py_layout *row, const struct block *b,
				       struct py_objlayout *obj, struct gp_dbg_report *r)
{
	int ok = 1;
	uint64_t at = value_at(b, row->dbg.interp_modules, &ok);
	uint64_t isz = value_at(b, row->dbg.interp_sz, &ok);

	if (!ok || at + 8 > isz || isz > GROUP_SIZE_MAX)
		return mismatch(r, "its debug offsets put %s at %" PRIu64
				   ", outside the interpreter state (%ld in its table)",
				"imports.modules", at, (long)obj->interp_modules);
	count_use(r, "interp_modules", &obj->interp_modules, (int32_t)at);
	return GP_DBG_OK;
}

static enum gp_dbg_verdict apply_offsets(const struct py_layout *row, const struct block *b,
					 struct py_layout *out, struct gp_dbg_report *r)
{
	int ok = 1;
	uint64_t gc, coll, isz;

	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		const struct dbg_map *mp = &maps[i];
		uint64_t v = value_at(b, pos_of(row, mp->pos), &ok);
		uint64_t group = value_at(b, pos_of(row, mp->group), &ok);

		if (!ok)
			break;
		if (!in_bounds(mp, v, group))
			return mismatch(r, "its debug offsets put %s at %" PRIu64
					   ", outside what gil-prof reads (%ld in its table)",
					mp->name, v, (long)*field_of((struct py_layout *)row, mp->field));
		count_use(r, mp->name, field_of(out, mp->field), (int32_t)v);
	}
	/* gc.collecting is given relative to interp->gc. */
	gc = value_at(b, row->dbg.interp_gc, &ok);
	coll = value_at(b, row->dbg.gc_collecting, &ok);
	isz = value_at(b, row->dbg.interp_sz, &ok);
	if (!ok) {
		snprintf(r->why, sizeof(r->why), "its debug offsets block is shorter than expected");
		return GP_DBG_MISMATCH;
	}
	if (gc > GROUP_SIZE_MAX || coll > GROUP_SIZE_MAX || gc + coll + 4 > isz)
		return mismatch(r, "its debug offsets put %s at %" PRIu64
				   ", outside the interpreter state (%ld in its table)",
				"gc.collecting", gc + coll, (long)row->interp_gc_collecting);
	count_use(r, "interp_gc_collecting", &out->interp_gc_collecting, (int32_t)(gc + coll));
	return set_runtime(row, b, out, r);
}

/* Bytes of a frame the BPF walk copies: up to the last field it reads. */
static void frame_extent(struct py_layout *L)
{
	int32_t end = L->frame_previous + 8;

	if (L->frame_code + 8 > end)
		end = L->frame_code + 8;
	if (L->frame_instr + 8 > end)
		end = L->frame_instr + 8;
	if (L->frame_owner >= 0 && L->frame_owner + 1 > end)
		end = L->frame_owner + 1;
	if (L->frame_is_entry >= 0 && L->frame_is_entry + 1 > end)
		end = L->frame_is_entry + 1;
	L->frame_size = end;
}

enum gp_dbg_verdict gp_debug_offsets_apply(const struct py_layout *row, const struct gp_mem *m,
					   uint64_t runtime, struct py_layout *out,
					   struct py_objlayout *obj, struct gp_dbg_report *r)
{
	struct py_objlayout obj_row;
	struct block b;
	enum gp_dbg_verdict v;

	memset(r, 0, sizeof(*r));
	*out = *row;
	if (obj)
		obj_row = *obj;
	if (row->dbg.block_size <= 0)
		return GP_DBG_NONE;
	b.len = (size_t)row->dbg.block_size;
	if (b.len > sizeof(b.data) || gp_mem_read(m, runtime, b.data, b.len)) {
		snprintf(r->why, sizeof(r->why), "its debug offsets at _PyRuntime are unreadable");
		return GP_DBG_MISMATCH;
	}
	v = check_header(row, &b, r);
	if (v != GP_DBG_OK)
		return v;
	v = apply_offsets(row, &b, out, r);
	if (v == GP_DBG_OK && obj)
		v = set_modules(row, &b, obj, r);
	if (v != GP_DBG_OK) {
		*out = *row;
		if (obj)
			*obj = obj_row;
		return v;
	}
	frame_extent(out);
	return GP_DBG_OK;
}
