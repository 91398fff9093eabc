// SPDX-License-Identifier: BSD-2-Clause
/*
 * pylocals.c — the arguments and locals of a stopped thread's frames.
 *
 * Thread state: runtime -> interpreters -> thread states, the one whose
 * native thread id is the thread's. Frame chain: as the BPF walk reads it
 * (py_layout: ts_frame or ts_cframe->current_frame, previous, the code
 * reference and the owner byte). Slots: localsplus of the frame, named and
 * kinded by the code object (py_objlayout locals fields): per-version
 * knowledge is all in the layout rows.
 */
#include "pylocals.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "pyrepr.h"
#include "pystr.h"
#include "../bpf/gilprof.h"

#define MAX_INTERPS 64
#define MAX_TSTATES 4096

const char *gp_var_kind_name(enum gp_var_kind k)
{
	switch (k) {
	case GP_VAR_ARG:
		return "argument";
	case GP_VAR_CELL:
		return "cell";
	case GP_VAR_FREE:
		return "free";
	default:
		return "local";
	}
}

static uint64_t rd(const struct gp_pyobj *r, uint64_t addr, int32_t off)
{
	uint64_t v;

	if (!addr || off < 0 || gp_mem_read_u64(&r->mem, addr + (uint64_t)off, &v))
		return 0;
	return v;
}

static int32_t rd32(const struct gp_pyobj *r, uint64_t addr, int32_t off)
{
	int32_t v;

	if (!addr || off < 0 || gp_mem_read_s32(&r->mem, addr + (uint64_t)off, &v))
		return 0;
	return v;
}

/*
 * 3.11+ thread states keep the kernel tid; 3.9 and 3.10 only pthread_self(),
 * which the caller knows from the stopped thread's registers (fs_base).
 */
static bool is_thread(const struct gp_pyobj *r, uint64_t ts, int64_t tid, uint64_t pthread)
{
	const struct py_layout *L = r->L;

	if (L->ts_native_tid >= 0)
		return (int64_t)rd(r, ts, L->ts_native_tid) == tid;
	return pthread && rd(r, ts, L->ts_thread_id) == pthread;
}

static uint64_t find_tstate(const struct gp_pyobj *r, uint64_t runtime, int64_t tid,
			    uint64_t pthread)
{
	const struct py_layout *L = r->L;
	uint64_t interp = rd(r, runtime, L->rt_interp_head);

	for (int i = 0; interp && i < MAX_INTERPS; i++) {
		uint64_t ts = rd(r, interp, L->interp_threads_head);

		for (int k = 0; ts && k < MAX_TSTATES; k++) {
			if (is_thread(r, ts, tid, pthread))
				return ts;
			ts = rd(r, ts, L->ts_next);
		}
		interp = L->interp_next >= 0 ? rd(r, interp, L->interp_next) : 0;
	}
	return 0;
}

/* Items of a tuple, at most max; -1 if it is not a readable tuple. */
static long tuple_len(const struct gp_pyobj *r, uint64_t t)
{
	int64_t n;

	if (!t || !gp_pyobj_type_is(r, t, "tuple") ||
	    gp_mem_read(&r->mem, t + (uint64_t)r->O->var_size, &n, sizeof(n)) || n < 0 ||
	    n > 65536)
		return -1;
	return (long)n;
}

/* The name of slot i and its kind bits, per the code object. */
struct slots {
	size_t n;
	uint64_t names[GP_LOCALS_VARS];
	uint8_t kinds[GP_LOCALS_VARS];  /* GP_VAR_* */
	bool hidden[GP_LOCALS_VARS];
	size_t cut;
};

/* Append the items of tuple t as slots of kind k (3.9/3.10 layout). */
static void add_tuple(const struct gp_pyobj *r, struct slots *s, uint64_t t, enum gp_var_kind k,
		      size_t nargs)
{
	long n = tuple_len(r, t);

	for (long i = 0; i < n; i++) {
		if (s->n >= GP_LOCALS_VARS) {
			s->cut++;
			continue;
		}
		s->names[s->n] = rd(r, t, r->O->tuple_items + (int32_t)(i * 8));
		s->kinds[s->n] = k == GP_VAR_LOCAL && s->n < nargs ? GP_VAR_ARG : k;
		s->hidden[s->n] = false;
		s->n++;
	}
}

static int code_slots(const struct gp_pyobj *r, uint64_t code, struct slots *s)
{
	const struct py_objlayout *O = r->O;
	uint32_t flags = (uint32_t)rd32(r, code, O->code_flags);
	size_t nargs = (size_t)rd32(r, code, O->code_argcount) +
		       (size_t)rd32(r, code, O->code_kwonlyargcount) +
		       !!(flags & O->co_varargs) + !!(flags & O->co_varkeywords);
	uint64_t names = rd(r, code, O->code_names), kinds;
	uint8_t kb[GP_LOCALS_VARS];
	long n;

	memset(s, 0, sizeof(*s));
	if (O->code_kinds < 0) {
		add_tuple(r, s, names, GP_VAR_LOCAL, nargs);
		add_tuple(r, s, rd(r, code, O->code_cellvars), GP_VAR_CELL, 0);
		add_tuple(r, s, rd(r, code, O->code_freevars), GP_VAR_FREE, 0);
		return 0;
	}
	kinds = rd(r, code, O->code_kinds);
	n = tuple_len(r, names);
	if (n < 0 || !kinds)
		return -1;
	s->n = n > GP_LOCALS_VARS ? GP_LOCALS_VARS : (size_t)n;
	s->cut = (size_t)n - s->n;
	if (gp_mem_read(&r->mem, kinds + (uint64_t)r->L->bytes_data, kb, s->n))
		return -1;
	for (size_t i = 0; i < s->n; i++) {
		s->names[i] = rd(r, names, O->tuple_items + (int32_t)(i * 8));
		s->hidden[i] = O->fast_hidden && (kb[i] & O->fast_hidden);
		if (i < nargs)
			s->kinds[i] = GP_VAR_ARG;
		else if (kb[i] & O->fast_free)
			s->kinds[i] = GP_VAR_FREE;
		else if (kb[i] & O->fast_cell)
			s->kinds[i] = GP_VAR_CELL;
		else
			s->kinds[i] = GP_VAR_LOCAL;
	}
	return 0;
}

/* A cell's contents, or 0 if empty (also for a slot MAKE_CELL has not filled yet). */
static uint64_t deref(const struct gp_pyobj *r, uint64_t v, bool *empty)
{
	if (!gp_pyobj_type_is(r, v, "cell"))
		return v;
	v = rd(r, v, r->O->cell_ref);
	*empty = !v;
	return v;
}

static void read_vars(const struct gp_pyobj *r, uint64_t frame, uint64_t code,
		      struct gp_pyframe_vars *f)
{
	uint64_t vals[GP_LOCALS_VARS];
	struct slots s;

	if (code_slots(r, code, &s) || !s.n ||
	    gp_mem_read(&r->mem, frame + (uint64_t)r->O->frame_localsplus, vals, s.n * 8))
		return;
	f->v = calloc(s.n, sizeof(*f->v));
	if (!f->v)
		return;
	f->cut = s.cut;
	for (size_t i = 0; i < s.n; i++) {
		/* 3.14+ _PyStackRef: the low bits tag the reference. */
		uint64_t v = vals[i] & ~(uint64_t)r->O->stackref_tag_bits;
		struct gp_var *x = &f->v[f->n];
		bool empty = false;
		char buf[GP_LOCALS_REPR];

		if (!v || s.hidden[i])
			continue;
		if (s.kinds[i] != GP_VAR_LOCAL)
			v = deref(r, v, &empty);
		if (gp_read_pystr(r->L, &r->mem, s.names[i], x->name, sizeof(x->name)))
			strcpy(x->name, "?");
		x->kind = (enum gp_var_kind)s.kinds[i];
		if (empty)
			strcpy(buf, "<empty cell>");
		else
			gp_pyrepr(r, v, buf, sizeof(buf));
		x->repr = strdup(buf);
		if (x->repr)
			f->n++;
	}
}

uint64_t gp_pythread_frame(const struct gp_pyobj *r, uint64_t ts)
{
	const struct py_layout *L = r->L;

	if (L->ts_cframe >= 0)
		return rd(r, rd(r, ts, L->ts_cframe), L->cframe_frame);
	return rd(r, ts, L->ts_frame);
}

size_t gp_pylocals_read(const struct gp_pyobj *r, uint64_t runtime, int64_t native_tid,
			uint64_t pthread, struct gp_pyframe_vars *out, size_t max)
{
	const struct py_layout *L = r->L;
	uint64_t ts, frame, seen[GP_LOCALS_FRAMES];
	size_t n = 0;

	if (!r->O || r->O->frame_localsplus < 0)
		return 0;
	ts = find_tstate(r, runtime, native_tid, pthread);
	frame = ts ? gp_pythread_frame(r, ts) : 0;
	for (int i = 0; frame && i < GP_LOCALS_FRAMES && n < max; i++) {
		uint64_t prev = rd(r, frame, L->frame_previous);
		uint64_t code = rd(r, frame, L->frame_code) & ~(uint64_t)L->frame_code_tag_bits;
		struct gp_pyframe_vars *f = &out[n];
		uint8_t owner;

		/* A frame seen before: a cycle in a corrupt chain ends the walk. */
		for (int k = 0; k < i; k++)
			if (seen[k] == frame)
				goto out;
		seen[i] = frame;
		/* C-stack shim frames (3.12+) carry no function. */
		if (L->frame_owner >= 0 && L->owner_cstack >= 0 &&
		    (gp_mem_read(&r->mem, frame + (uint64_t)L->frame_owner, &owner, 1) ||
		     owner >= L->owner_cstack))
			goto next;
		if (!gp_pyobj_type_is(r, code, "code"))
			goto next;
		memset(f, 0, sizeof(*f));
		if (gp_read_pystr(L, &r->mem, rd(r, code, L->code_name), f->name, sizeof(f->name)))
			f->name[0] = '\0';
		f->firstlineno = rd32(r, code, L->code_firstlineno);
		read_vars(r, frame, code, f);
		n++;
next:
		frame = prev;
	}
out:
	return n;
}

void gp_pylocals_free(struct gp_pyframe_vars *f, size_t n)
{
	for (size_t i = 0; f && i < n; i++) {
		for (size_t k = 0; k < f[i].n; k++)
			free(f[i].v[k].repr);
		free(f[i].v);
		f[i].v = NULL;
		f[i].n = 0;
	}
}
