// SPDX-License-Identifier: BSD-2-Clause
/*
 * nativestack.c — the native part of a sample (--native, --kernel) into
 * profile locations: unwind the stack copy, name each frame, merge with the
 * Python frames (unwind/merge.c) and add the kernel frames on top.
 *
 * Per-sample cost must not grow with the number of distinct stacks: every
 * (process, pc) is named once and cached as a location id, files are
 * shared by build-id, and libdw caches each file's CFI.
 */
#define _GNU_SOURCE
#include "nativestack.h"

#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../common/gp_log.h"
#include "../../unwind/merge.h"
#include "../../unwind/native.h"
#include "../common/gp_clock.h"

/* A native pc (with its activation bit) named once: location and role. */
struct pc_entry {
	uint64_t key;            /* pc << 1 | activation */
	uint32_t loc;
	uint8_t kind;            /* enum gp_native_kind */
	UT_hash_handle hh;
};

struct gp_native_proc {
	pid_t pid;
	struct gp_unwinder *u;   /* NULL: the process cannot be read */
	uint64_t refreshes;      /* u's, when pcs was filled */
	struct pc_entry *pcs;
	UT_hash_handle hh;
};

/* The location of a native or kernel function. */
struct gp_func_loc {
	uint32_t func;
	uint32_t loc;
	UT_hash_handle hh;
};

/* Kernel pcs are the same for every process. */
struct gp_kpc_entry {
	uint64_t key;
	uint32_t loc;
	UT_hash_handle hh;
};

/* Scratch of one sample's merge; big, so not on the stack. */
struct gp_merge_scratch {
	struct gp_native_frame frames[GP_MAX_NATIVE_FRAMES];
	uint8_t kinds[GP_MAX_NATIVE_FRAMES];
	uint32_t nlocs[GP_MAX_NATIVE_FRAMES];
	bool entry[GP_MAX_FRAMES];
	uint32_t plocs[GP_MAX_FRAMES];
	struct gp_merge_item items[GP_STACK_MAX];
};

/* ---- which native functions are which ---------------------------------- */

/* The interpreter's eval loop: one native frame per C-level eval call. */
static const char *const eval_functions[] = {
	"_PyEval_EvalFrameDefault",
};

/*
 * Call machinery between a caller and its callee that says nothing of its
 * own (shown with --native-all). Matched on the name up to its first '.'.
 */
static const char *const plumbing_functions[] = {
	"_PyEval_Vector",
	"_PyEval_EvalFrame",
	"_PyEval_EvalCode",
	"_PyEval_EvalCodeWithName",
	"PyEval_EvalCodeEx",
	"PyEval_EvalFrame",
	"PyEval_EvalFrameEx",
	"_PyFunction_Vectorcall",
	"_PyFunction_FastCallDict",
	"function_code_fastcall",
	"PyObject_Vectorcall",
	"_PyObject_VectorcallTstate",
	"PyObject_VectorcallDict",
	"_PyObject_FastCallDictTstate",
	"PyObject_VectorcallMethod",
	"_PyObject_VectorcallMethod",
	"PyVectorcall_Call",
	"_PyVectorcall_Call",
	"PyObject_Call",
	"_PyObject_Call",
	"PyObject_CallObject",
	"PyObject_CallNoArgs",
	"PyObject_CallOneArg",
	"_PyObject_CallNoArgs",
	"_PyObject_CallNoArg",
	"_PyObject_MakeTpCall",
	"_PyObject_Call_Prepend",
	"_PyObject_FastCall",
	"PyObject_CallFunctionObjArgs",
	"PyObject_CallMethodObjArgs",
	"object_vacall",
	"call_function",
	"do_call_core",
	"method_vectorcall",
	"vectorcall_method",
	"vectorcall_unbound",
	"slot_tp_call",
	"cfunction_call",
	"cfunction_call_varargs",
	"cfunction_vectorcall_NOARGS",
	"cfunction_vectorcall_O",
	"cfunction_vectorcall_FASTCALL",
	"cfunction_vectorcall_FASTCALL_KEYWORDS",
	"cfunction_vectorcall_FASTCALL_KEYWORDS_METHOD",
	"method_vectorcall_NOARGS",
	"method_vectorcall_O",
	"method_vectorcall_FASTCALL",
	"method_vectorcall_FASTCALL_KEYWORDS",
	"method_vectorcall_FASTCALL_KEYWORDS_METHOD",
	"method_vectorcall_VARARGS",
	"method_vectorcall_VARARGS_KEYWORDS",
	"_Py_VectorCall",
};

static bool in_list(const char *name, size_t len, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(list[i]) == len && !memcmp(list[i], name, len))
			return true;
	return false;
}

static enum gp_native_kind classify(const char *name)
{
	size_t len = strcspn(name, ".");

	if (in_list(name, len, eval_functions, sizeof(eval_functions) / sizeof(eval_functions[0])))
		return GP_NK_EVAL;
	if (in_list(name, len, plumbing_functions,
		    sizeof(plumbing_functions) / sizeof(plumbing_functions[0])))
		return GP_NK_PLUMBING;
	return GP_NK_OTHER;
}

/* ---- set-up ----------------------------------------------------------------- */

int gp_native_init(struct gp_native_ctx *c, struct gp_symbolizer *sym, bool user, bool kernel,
		   bool show_plumbing)
{
	memset(c, 0, sizeof(*c));
	c->sym = sym;
	c->prof = sym->prof;
	c->user = user;
	c->kernel = kernel;
	c->show_plumbing = show_plumbing;
	gp_elf_cache_init(&c->files);
	c->cost_hist = calloc(GP_COST_BUCKETS, sizeof(*c->cost_hist));
	c->scratch = calloc(1, sizeof(*c->scratch));
	if (!c->cost_hist || !c->scratch) {
		gp_native_free(c);
		return -1;
	}
	/* Before recording: reading kallsyms takes a while on a busy machine. */
	if (kernel && gp_kallsyms_load(&c->ksyms))
		gp_warn("cannot read /proc/kallsyms: kernel frames shown as addresses");
	return 0;
}

static void free_pcs(struct gp_native_proc *np)
{
	struct pc_entry *e, *tmp;

	HASH_ITER(hh, np->pcs, e, tmp) {
		HASH_DEL(np->pcs, e);
		free(e);
	}
}

void gp_native_free(struct gp_native_ctx *c)
{
	struct gp_native_proc *np, *tmp;
	struct gp_kpc_entry *ke, *ktmp;
	struct gp_func_loc *fe, *ftmp;

	HASH_ITER(hh, c->procs, np, tmp) {
		HASH_DEL(c->procs, np);
		free_pcs(np);
		gp_unwinder_free(np->u);
		free(np);
	}
	HASH_ITER(hh, c->kpcs, ke, ktmp) {
		HASH_DEL(c->kpcs, ke);
		free(ke);
	}
	HASH_ITER(hh, c->func_locs, fe, ftmp) {
		HASH_DEL(c->func_locs, fe);
		free(fe);
	}
	gp_elf_cache_free(&c->files);
	gp_kallsyms_free(&c->ksyms);
	free(c->cost_hist);
	free(c->scratch);
	c->cost_hist = NULL;
	c->scratch = NULL;
}

/*
 * The program's own mapping first: pprof takes the first mapping for the
 * main binary.
 */
static void map_executable(struct gp_native_ctx *c, const struct gp_native_proc *np)
{
	char link[64], exe[PATH_MAX];
	const struct gp_native_map *v;
	ssize_t len;
	size_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)np->pid);
	len = readlink(link, exe, sizeof(exe) - 1);
	if (len <= 0 || !np->u)
		return;
	exe[len] = '\0';
	v = gp_unwinder_maps(np->u, &n);
	for (size_t i = 0; i < n; i++) {
		if (!v[i].path || strcmp(v[i].path, exe))
			continue;
		gp_profile_mapping(c->prof, v[i].start, v[i].end, v[i].offset, v[i].path,
				   v[i].file ? v[i].file->build_id : "");
		return;
	}
}

static struct gp_native_proc *get_proc(struct gp_native_ctx *c, pid_t pid)
{
	struct gp_native_proc *np;

	HASH_FIND_INT(c->procs, &pid, np);
	if (np)
		return np;
	np = calloc(1, sizeof(*np));
	if (!np)
		return NULL;
	np->pid = pid;
	np->u = gp_unwinder_new(pid, &c->files);
	map_executable(c, np);
	HASH_ADD_INT(c->procs, pid, np);
	return np;
}

/* ---- naming native frames -------------------------------------------------- */

static const char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');

	return b ? b + 1 : path;
}

/*
 * One location per function, not per call site: flame graphs and the
 * number of distinct stacks do not multiply with the addresses sampled.
 */
static uint32_t function_location(struct gp_native_ctx *c, uint32_t func, uint64_t addr,
				  uint32_t mapping)
{
	struct gp_func_loc *e;

	HASH_FIND(hh, c->func_locs, &func, sizeof(func), e);
	if (e)
		return e->loc;
	e = calloc(1, sizeof(*e));
	if (!e)
		return 0;
	e->func = func;
	e->loc = gp_profile_location(c->prof, func, 0, addr, mapping);
	HASH_ADD(hh, c->func_locs, func, sizeof(e->func), e);
	return e->loc;
}

static uint32_t native_location(struct gp_native_ctx *c, struct gp_native_proc *np,
				uint64_t pc, bool activation, uint8_t *kind)
{
	/* A return address points after the call: name the call. */
	uint64_t at = activation ? pc : pc - 1, vaddr = at, start = 0;
	const struct gp_native_map *m = np->u ? gp_unwinder_map(np->u, at) : NULL;
	const char *module = "[unknown]", *sym = NULL, *build_id = "";
	char shown[512], dwarf[256];
	uint32_t func, mapping = 0;

	if (m) {
		module = m->file ? m->file->name : m->path ? base_name(m->path) : "[anon]";
		vaddr = m->file ? at - m->bias : at - m->start;
		build_id = m->file ? m->file->build_id : "";
		mapping = gp_profile_mapping(c->prof, m->start, m->end, m->offset,
					     m->path ? m->path : "", build_id);
	}
	if (m && m->file) {
		sym = gp_symtab_lookup(&m->file->syms, vaddr, &start);
		if (!sym && !gp_unwinder_dwarf_name(np->u, at, dwarf, sizeof(dwarf)))
			sym = dwarf;
	}
	if (sym)
		snprintf(shown, sizeof(shown), "%.*s", (int)gp_symbol_func_len(sym), sym);
	else
		snprintf(shown, sizeof(shown), "%s+0x%" PRIx64, module, vaddr);
	*kind = (uint8_t)(sym ? classify(shown) : GP_NK_OTHER);
	/* f.cold is part of f: one function, named as the code names it. */
	func = gp_profile_function(c->prof, GP_FUNC_NATIVE, shown, shown, module, 0);
	if (!func)
		return 0;
	/* Named functions: at the address of the (part of the) function seen first. */
	return function_location(c, func, sym && sym != dwarf ? start + m->bias : pc, mapping);
}

static struct pc_entry *native_pc(struct gp_native_ctx *c, struct gp_native_proc *np,
				  const struct gp_native_frame *f)
{
	uint64_t key = f->pc << 1 | (f->activation ? 1 : 0);
	struct pc_entry *e;

	/* New mappings may reuse addresses of old ones: name everything again. */
	if (np->u && gp_unwinder_refreshes(np->u) != np->refreshes) {
		free_pcs(np);
		np->refreshes = gp_unwinder_refreshes(np->u);
	}
	HASH_FIND(hh, np->pcs, &key, sizeof(key), e);
	if (e)
		return e;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->key = key;
	e->loc = native_location(c, np, f->pc, f->activation, &e->kind);
	HASH_ADD(hh, np->pcs, key, sizeof(e->key), e);
	return e;
}

static uint32_t kernel_location(struct gp_native_ctx *c, uint64_t ip, bool first)
{
	uint64_t key = ip << 1 | (first ? 1 : 0), at = first ? ip : ip - 1;
	const struct gp_ksym *ks;
	struct gp_kpc_entry *e;
	char name[320], module[80];
	uint32_t func;

	HASH_FIND(hh, c->kpcs, &key, sizeof(key), e);
	if (e)
		return e->loc;
	ks = gp_kallsyms_lookup(&c->ksyms, at);
	if (ks && gp_ksym_module(&c->ksyms, ks)[0])
		snprintf(module, sizeof(module), "[%s]", gp_ksym_module(&c->ksyms, ks));
	else
		snprintf(module, sizeof(module), "[kernel]");
	if (ks)
		snprintf(name, sizeof(name), "%s", gp_ksym_name(&c->ksyms, ks));
	else
		snprintf(name, sizeof(name), "[kernel]+0x%" PRIx64, at);
	func = gp_profile_function(c->prof, GP_FUNC_KERNEL, name, name, module, 0);
	e = calloc(1, sizeof(*e));
	if (!e)
		return 0;
	e->key = key;
	e->loc = func ? function_location(c, func, ks ? ks->addr : ip, 0) : 0;
	HASH_ADD(hh, c->kpcs, key, sizeof(e->key), e);
	return e->loc;
}

/* ---- one sample ---------------------------------------------------------------- */

struct trailer {
	const struct gp_native *nat;
	const uint64_t *kernel;
	const uint8_t *stack;
};

static int parse_trailer(const struct gp_sample *s, size_t size, struct trailer *t)
{
	size_t off = GP_SAMPLE_HDR_SIZE + (size_t)s->nframes * sizeof(struct gp_frame);
	const uint8_t *base = (const uint8_t *)s;

	if (!(s->flags & GP_SAMPLE_HAS_NATIVE) || s->nframes > GP_MAX_FRAMES ||
	    size < off + sizeof(struct gp_native))
		return -1;
	t->nat = (const struct gp_native *)(base + off);
	if (t->nat->nkernel > GP_MAX_KERNEL_FRAMES || t->nat->stack_len > GP_MAX_STACK_BYTES ||
	    size < off + sizeof(struct gp_native) + t->nat->nkernel * sizeof(uint64_t) +
			   t->nat->stack_len)
		return -1;
	t->kernel = (const uint64_t *)(base + off + sizeof(struct gp_native));
	t->stack = (const uint8_t *)(t->kernel + t->nat->nkernel);
	return 0;
}


static uint32_t item_location(struct gp_native_ctx *c, const struct gp_sample *s,
			      const struct gp_merge_scratch *m, const struct gp_merge_item *it)
{
	uint32_t loc;

	switch (it->kind) {
	case GP_MI_NATIVE:
		return m->nlocs[it->idx];
	case GP_MI_PYTHON:
		return m->plocs[it->idx];
	case GP_MI_NATIVE_CUT:
		return gp_symbolizer_marker(c->sym, GP_MARK_NATIVE_CUT);
	case GP_MI_PYTHON_CUT:
		loc = gp_symbolizer_walk_end(c->sym, s->walk_end);
		return loc ? loc : gp_symbolizer_marker(c->sym, GP_MARK_READ_FAULT);
	case GP_MI_MISMATCH:
		return gp_symbolizer_marker(c->sym, GP_MARK_MISMATCH);
	default:
		return gp_symbolizer_marker(c->sym, GP_MARK_NATIVE_PART);
	}
}

static uint32_t user_stack(struct gp_native_ctx *c, struct gp_native_proc *np,
			   const struct gp_sample *s, const struct trailer *t, uint64_t now_ns,
			   uint32_t *locs)
{
	struct gp_merge_scratch *m = c->scratch;
	struct gp_merge_in in = { 0 };
	enum gp_unwind_end end;
	uint32_t nn, npy, nitems, n = 0;
	bool mismatch;

	nn = gp_unwind(np->u, (pid_t)s->tid, t->nat->regs, t->stack, t->nat->stack_len, m->frames,
		       GP_MAX_NATIVE_FRAMES, &end);
	c->stats.unwound++;
	c->stats.frames += nn;
	c->stats.complete += end == GP_UNWIND_COMPLETE;
	for (uint32_t i = 0; i < nn; i++) {
		struct pc_entry *e = native_pc(c, np, &m->frames[i]);

		m->kinds[i] = e ? e->kind : GP_NK_OTHER;
		m->nlocs[i] = e ? e->loc : 0;
	}
	npy = (s->flags & GP_SAMPLE_HAS_TSTATE) ? s->nframes : 0;
	if (npy > GP_MAX_FRAMES)
		npy = GP_MAX_FRAMES;
	if (s->walk_end == GP_WALK_LOOP)
		npy = gp_loop_trim(s->frames, npy);
	for (uint32_t i = 0; i < npy; i++) {
		m->plocs[i] = gp_symbolize_frame(c->sym, &s->frames[i], now_ns);
		m->entry[i] = s->frames[i].flags & GP_FRAME_ENTRY;
	}
	in.native_kind = m->kinds;
	in.nnative = nn;
	in.native_complete = end == GP_UNWIND_COMPLETE;
	in.py_entry = m->entry;
	in.npy = npy;
	in.py_complete = !npy || s->walk_end == GP_WALK_COMPLETE || s->walk_end == GP_WALK_NO_FRAME;
	in.show_plumbing = c->show_plumbing;
	nitems = gp_merge(&in, m->items, GP_STACK_MAX - GP_MAX_KERNEL_FRAMES - 1, &mismatch);
	c->stats.mismatched += mismatch;
	for (uint32_t i = 0; i < nitems; i++) {
		uint32_t loc = item_location(c, s, m, &m->items[i]);

		if (loc)
			locs[n++] = loc;
	}
	return n;
}

/* Kernel frames above the user leaf: outermost (syscall entry) first. */
static uint32_t add_kernel(struct gp_native_ctx *c, const struct trailer *t, uint32_t *locs,
			   uint32_t n)
{
	for (uint32_t i = t->nat->nkernel; i-- > 0 && n < GP_STACK_MAX;) {
		uint32_t loc = kernel_location(c, t->kernel[i], i == 0);

		if (loc)
			locs[n++] = loc;
	}
	return n;
}

static void record_cost(struct gp_native_ctx *c, uint64_t ns)
{
	uint64_t b = ns / 250;

	c->cost_hist[b < GP_COST_BUCKETS ? b : GP_COST_BUCKETS - 1]++;
	if (ns / 1e3 > c->stats.max_us)
		c->stats.max_us = ns / 1e3;
}

uint32_t gp_native_symbolize(struct gp_native_ctx *c, const struct gp_sample *s, size_t size,
			     uint64_t now_ns, uint32_t *locs)
{
	uint64_t t0 = gp_mono_ns();
	struct gp_native_proc *np = NULL;
	struct trailer t;
	uint32_t n = 0;

	c->stats.samples++;
	if (parse_trailer(s, size, &t)) {
		c->stats.malformed++;
		return gp_symbolize_python(c->sym, s, now_ns, locs);
	}
	if (c->user && t.nat->status == GP_NATIVE_OK)
		np = get_proc(c, (pid_t)s->pid);
	if (np && np->u) {
		n = user_stack(c, np, s, &t, now_ns, locs);
	} else {
		uint32_t mark = c->user ? gp_symbolizer_marker(c->sym, GP_MARK_NO_NATIVE) : 0;

		c->stats.no_copy += c->user;
		if (mark)
			locs[n++] = mark;
		n += gp_symbolize_python(c->sym, s, now_ns, locs + n);
	}
	if (c->kernel)
		n = add_kernel(c, &t, locs, n);
	record_cost(c, gp_mono_ns() - t0);
	return n;
}

static double percentile(const uint32_t *hist, uint64_t total, double q)
{
	uint64_t want = (uint64_t)ceil(q * (double)total), seen = 0;

	for (uint32_t b = 0; b < GP_COST_BUCKETS; b++) {
		seen += hist[b];
		if (seen >= want && seen)
			return (b + 0.5) * 0.25;
	}
	return 0;
}

const struct gp_native_stats *gp_native_finish(struct gp_native_ctx *c)
{
	struct gp_native_proc *np, *tmp;

	c->stats.refreshes = c->stats.by_rules = c->stats.by_libdw = 0;
	HASH_ITER(hh, c->procs, np, tmp) {
		uint64_t fast, slow;

		if (!np->u)
			continue;
		c->stats.refreshes += gp_unwinder_refreshes(np->u);
		gp_unwinder_paths(np->u, &fast, &slow);
		c->stats.by_rules += fast;
		c->stats.by_libdw += slow;
	}
	if (c->stats.samples) {
		c->stats.median_us = percentile(c->cost_hist, c->stats.samples, 0.5);
		c->stats.p99_us = percentile(c->cost_hist, c->stats.samples, 0.99);
	}
	return &c->stats;
}

void gp_native_advise(const struct gp_native_stats *st, const uint64_t *counters)
{
	uint64_t cut = st->unwound - st->complete;

	if (!st->samples)
		return;
	gp_debug("native: %" PRIu64 " samples, %" PRIu64 " unwound (%" PRIu64
		 " to the thread start, %" PRIu64 " frames), %" PRIu64 " without a stack copy, %" PRIu64
		 " unmerged, %" PRIu64 " mapping refreshes",
		 st->samples, st->unwound, st->complete, st->frames, st->no_copy, st->mismatched,
		 st->refreshes);
	gp_debug("native: user-space cost per sample: median %.2f us, p99 %.2f us, max %.1f us; "
		 "%" PRIu64 " unwound from cached CFI rules, %" PRIu64 " through libdw",
		 st->median_us, st->p99_us, st->max_us, st->by_rules, st->by_libdw);
	if (counters[GP_CNT_NATIVE_CUT] && cut > st->unwound / 20)
		gp_warn("%" PRIu64 " native stacks were larger than --stack-size and were cut "
			"(marked [native stack cut]); raise --stack-size",
			counters[GP_CNT_NATIVE_CUT]);
	if (st->no_copy > st->samples / 100)
		gp_warn("%" PRIu64 " samples have no native stack (the target was changing its "
			"mappings); marked [no native stack]",
			st->no_copy);
	if (st->mismatched > st->samples / 100)
		gp_warn("%" PRIu64 " samples whose native and Python frames did not line up are "
			"shown unmerged under [unmerged: ...]",
			st->mismatched);
	if (st->malformed)
		gp_warn("%" PRIu64 " samples had a malformed native part", st->malformed);
}
