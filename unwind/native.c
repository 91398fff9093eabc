// SPDX-License-Identifier: BSD-2-Clause
/*
 * native.c — DWARF unwinding of a thread's user stack from the copy the
 * BPF program took, with elfutils libdw (after perf's unwind-libdw.c).
 *
 * One Dwfl session per process holds its executable files (opened once
 * through /proc/PID/map_files, shared by build-id) with their CFI, parsed
 * on first use and cached by libdw. The Dwfl_Thread_Callbacks serve the
 * sampled registers and the stack copy: the live process is never read
 * while unwinding. When a frame lands outside every known mapping the
 * process has mapped something new; the mappings are read again (at most
 * every REFRESH_NS) and the sample is unwound once more.
 *
 * libdw interprets the CFI anew for every frame of every sample (~1 us a
 * frame). The rules it yields for a pc never change, so the common ones
 * (CFA = register + offset; registers saved at CFA + offset, the same, or
 * undefined) are kept per pc and applied directly: the same results at a
 * fraction of the cost. Anything else (expressions, signal frames, code
 * without CFI) sends the whole sample through libdw.
 */
#define _GNU_SOURCE
#include "native.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <gelf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <uthash.h>

#include "procmaps.h"

#define REFRESH_NS (200ULL * 1000 * 1000)

/* How a register of the caller is found (struct frame_rule). */
enum reg_rule {
	RULE_UNDEFINED = 0,
	RULE_SAME,               /* unchanged */
	RULE_AT_CFA,             /* saved at CFA + off */
	RULE_VAL_CFA,            /* is CFA + off */
};

/* The unwinding rule at one pc, as libdw computed it. */
struct frame_rule {
	uint64_t pc;             /* lookup address (return address - 1) */
	bool usable;             /* simple enough to apply here */
	uint8_t cfa_reg;
	int64_t cfa_off;
	uint8_t kind[GP_NATIVE_REGS];
	int64_t off[GP_NATIVE_REGS];
	UT_hash_handle hh;
};

struct gp_unwinder {
	pid_t pid;
	struct gp_elf_cache *files;
	struct gp_native_map *maps; /* executable mappings, sorted by start */
	size_t nmaps;
	Dwfl *dwfl;
	uint64_t refreshed_ns;
	uint64_t refreshes;
	struct frame_rule *rules;   /* by pc; emptied with the Dwfl */
	bool fast;                  /* use the rules (off only in tests) */
	uint64_t fast_samples, slow_samples;

	/* the sample being unwound */
	pid_t tid;
	Dwarf_Word regs[GP_NATIVE_REGS];
	const uint8_t *stack;
	uint64_t sp;
	uint32_t len;
	struct gp_native_frame *out;
	uint32_t n, max;
	uint64_t last_sp;
	enum gp_unwind_end end;
	bool ended;
	bool unknown_pc;
	bool read_failed;        /* since the last frame: outside the copy */
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ---- libdw callbacks ---------------------------------------------------- */

/* Files are reported with an open fd; never look anything up by path. */
static int no_find_elf(Dwfl_Module *mod __attribute__((unused)),
		       void **userdata __attribute__((unused)),
		       const char *modname __attribute__((unused)),
		       Dwarf_Addr base __attribute__((unused)),
		       char **file_name __attribute__((unused)), Elf **elfp)
{
	*elfp = NULL;
	return -1;
}

/* DWARF only from the mapped file itself: no host paths, no network. */
static int no_find_debuginfo(Dwfl_Module *mod __attribute__((unused)),
			     void **userdata __attribute__((unused)),
			     const char *modname __attribute__((unused)),
			     Dwarf_Addr base __attribute__((unused)),
			     const char *file_name __attribute__((unused)),
			     const char *debuglink_file __attribute__((unused)),
			     GElf_Word debuglink_crc __attribute__((unused)),
			     char **debuginfo_file_name __attribute__((unused)))
{
	return -1;
}

static const Dwfl_Callbacks dwfl_callbacks = {
	.find_elf = no_find_elf,
	.find_debuginfo = no_find_debuginfo,
};

static pid_t cb_next_thread(Dwfl *dwfl __attribute__((unused)), void *arg, void **thread_argp)
{
	struct gp_unwinder *u = arg;

	if (*thread_argp)
		return 0;
	*thread_argp = u;
	return u->tid;
}

static bool cb_get_thread(Dwfl *dwfl __attribute__((unused)), pid_t tid, void *arg,
			  void **thread_argp)
{
	struct gp_unwinder *u = arg;

	*thread_argp = u;
	return tid == u->tid;
}

static bool cb_memory_read(Dwfl *dwfl __attribute__((unused)), Dwarf_Addr addr,
			   Dwarf_Word *result, void *arg)
{
	struct gp_unwinder *u = arg;

	if (addr < u->sp || addr - u->sp > u->len || u->len - (addr - u->sp) < sizeof(*result)) {
		u->read_failed = true;
		return false;
	}
	memcpy(result, u->stack + (addr - u->sp), sizeof(*result));
	return true;
}

static bool cb_set_initial_registers(Dwfl_Thread *thread, void *arg)
{
	struct gp_unwinder *u = arg;

	if (!dwfl_thread_state_registers(thread, 0, GP_NATIVE_REGS, u->regs))
		return false;
	dwfl_thread_state_register_pc(thread, u->regs[GP_REG_IP]);
	return true;
}

static const Dwfl_Thread_Callbacks thread_callbacks = {
	.next_thread = cb_next_thread,
	.get_thread = cb_get_thread,
	.memory_read = cb_memory_read,
	.set_initial_registers = cb_set_initial_registers,
};

/* ---- mappings ------------------------------------------------------------- */

static void free_maps(struct gp_unwinder *u)
{
	for (size_t i = 0; i < u->nmaps; i++)
		free(u->maps[i].path);
	free(u->maps);
	u->maps = NULL;
	u->nmaps = 0;
}

const struct gp_native_map *gp_unwinder_maps(const struct gp_unwinder *u, size_t *n)
{
	*n = u->nmaps;
	return u->maps;
}

const struct gp_native_map *gp_unwinder_map(struct gp_unwinder *u, uint64_t addr)
{
	size_t lo = 0, hi = u->nmaps;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (addr < u->maps[mid].start)
			hi = mid;
		else if (addr >= u->maps[mid].end)
			lo = mid + 1;
		else
			return &u->maps[mid];
	}
	return NULL;
}

/*
 * Load bias of file mapped at m: the PT_LOAD holding m's file offset is at
 * runtime address m->start + (p_offset - m->offset) for p_vaddr.
 */
static int map_bias(const struct gp_elf_file *f, const struct gp_map *m, uint64_t *bias)
{
	size_t nphdr;

	if (f->is_exec) {
		*bias = 0;
		return 0;
	}
	if (elf_getphdrnum(f->elf, &nphdr))
		return -1;
	for (size_t i = 0; i < nphdr; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(f->elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (m->offset < (ph.p_offset & ~4095ULL) || m->offset >= ph.p_offset + ph.p_filesz)
			continue;
		*bias = m->start - (ph.p_vaddr + (m->offset - ph.p_offset));
		return 0;
	}
	return -1;
}

static struct gp_elf_file *open_file(struct gp_unwinder *u, const struct gp_map *m)
{
	if (m->vdso)
		return gp_elf_cache_vdso(u->files);
	if (!m->path)
		return NULL;
	return gp_elf_cache_open_fd(u->files, gp_maps_open(u->pid, m), m->path, u->pid);
}

static int add_map(struct gp_unwinder *u, const struct gp_map *m, size_t *cap)
{
	struct gp_native_map *nm;

	if (u->nmaps == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct gp_native_map *v = realloc(u->maps, ncap * sizeof(*v));

		if (!v)
			return -1;
		u->maps = v;
		*cap = ncap;
	}
	nm = &u->maps[u->nmaps];
	memset(nm, 0, sizeof(*nm));
	nm->start = m->start;
	nm->end = m->end;
	nm->offset = m->offset;
	if (m->path || m->vdso) {
		nm->path = strdup(m->vdso ? "[vdso]" : m->path);
		if (!nm->path)
			return -1;
		nm->file = open_file(u, m);
		if (nm->file && map_bias(nm->file, m, &nm->bias))
			nm->file = NULL;
	}
	u->nmaps++;
	return 0;
}

static int read_maps(struct gp_unwinder *u)
{
	struct gp_maps maps;
	size_t cap = 0;
	int rc = 0;

	if (gp_maps_read(u->pid, &maps))
		return -1;
	free_maps(u);
	/* /proc/PID/maps is sorted by address. */
	for (size_t i = 0; i < maps.n && !rc; i++)
		if (maps.v[i].perms[2] == 'x')
			rc = add_map(u, &maps.v[i], &cap);
	gp_maps_free(&maps);
	return rc;
}

/* Report each mapped file once (per load bias) to a new Dwfl session. */
static void free_rules(struct gp_unwinder *u)
{
	struct frame_rule *r, *tmp;

	HASH_ITER(hh, u->rules, r, tmp) {
		HASH_DEL(u->rules, r);
		free(r);
	}
}

static int build_dwfl(struct gp_unwinder *u)
{
	free_rules(u);
	if (u->dwfl)
		dwfl_end(u->dwfl);
	u->dwfl = dwfl_begin(&dwfl_callbacks);
	if (!u->dwfl)
		return -1;
	dwfl_report_begin(u->dwfl);
	for (size_t i = 0; i < u->nmaps; i++) {
		const struct gp_native_map *m = &u->maps[i];
		char fdpath[64];
		bool seen = false;
		int fd;

		if (!m->file)
			continue;
		for (size_t k = 0; k < i && !seen; k++)
			seen = u->maps[k].file == m->file && u->maps[k].bias == m->bias;
		if (seen)
			continue;
		fd = dup(m->file->fd);
		if (fd < 0)
			continue;
		snprintf(fdpath, sizeof(fdpath), "/proc/self/fd/%d", m->file->fd);
		/* libdw owns fd from here, also when reporting fails. */
		if (!dwfl_report_elf(u->dwfl, m->file->name, fdpath, fd, m->bias, true))
			close(fd);
	}
	if (dwfl_report_end(u->dwfl, NULL, NULL) ||
	    !dwfl_attach_state(u->dwfl, NULL, u->pid, &thread_callbacks, u)) {
		dwfl_end(u->dwfl);
		u->dwfl = NULL;
		return -1;
	}
	return 0;
}

static int refresh(struct gp_unwinder *u)
{
	u->refreshed_ns = mono_ns();
	u->refreshes++;
	if (read_maps(u))
		return -1;
	return build_dwfl(u);
}

struct gp_unwinder *gp_unwinder_new(pid_t pid, struct gp_elf_cache *files)
{
	struct gp_unwinder *u = calloc(1, sizeof(*u));

	if (!u)
		return NULL;
	u->pid = pid;
	u->files = files;
	u->fast = true;
	if (refresh(u)) {
		gp_unwinder_free(u);
		return NULL;
	}
	u->refreshes = 0;
	return u;
}

void gp_unwinder_free(struct gp_unwinder *u)
{
	if (!u)
		return;
	free_rules(u);
	if (u->dwfl)
		dwfl_end(u->dwfl);
	free_maps(u);
	free(u);
}

void gp_unwinder_set_fast(struct gp_unwinder *u, bool fast)
{
	u->fast = fast;
}

void gp_unwinder_paths(const struct gp_unwinder *u, uint64_t *fast, uint64_t *slow)
{
	*fast = u->fast_samples;
	*slow = u->slow_samples;
}

uint64_t gp_unwinder_refreshes(const struct gp_unwinder *u)
{
	return u->refreshes;
}

/* ---- unwinding ------------------------------------------------------------ */

static int stop(struct gp_unwinder *u, enum gp_unwind_end end)
{
	u->end = end;
	u->ended = true;
	return DWARF_CB_ABORT;
}

static int cb_frame(Dwfl_Frame *state, void *arg)
{
	struct gp_unwinder *u = arg;
	Dwarf_Addr pc;
	Dwarf_Word sp;
	bool activation;

	/* dwfl_frame_pc unwinds the next frame already (to tell activations). */
	u->read_failed = false;
	if (!dwfl_frame_pc(state, &pc, &activation))
		return stop(u, GP_UNWIND_CUT);
	/* Each caller's frame lies above its callee's: anything else is garbage. */
	if (dwfl_frame_reg(state, GP_REG_SP, &sp) == 0) {
		if (u->n && sp <= u->last_sp)
			return stop(u, GP_UNWIND_BAD);
		u->last_sp = sp;
	}
	if (u->n >= u->max)
		return stop(u, GP_UNWIND_DEPTH);
	u->out[u->n].pc = pc;
	u->out[u->n].activation = activation;
	u->n++;
	if (!gp_unwinder_map(u, activation ? pc : pc - 1))
		u->unknown_pc = true;
	return DWARF_CB_OK;
}

static const struct frame_rule *rule_at(struct gp_unwinder *u, uint64_t pc);

/*
 * libdw also stops "successfully" where a register the next frame needs
 * could not be read (a saved rbp below the stack copy's start, in an
 * epilogue): only a last frame whose CFI says it has no caller (_start,
 * clone3: return address undefined) is the thread's start.
 */
static bool at_thread_start(struct gp_unwinder *u)
{
	const struct gp_native_frame *last;
	const struct frame_rule *r;

	if (!u->n)
		return false;
	last = &u->out[u->n - 1];
	r = rule_at(u, last->activation ? last->pc : last->pc - 1);
	return r && r->usable && r->kind[GP_REG_IP] == RULE_UNDEFINED;
}

static void unwind_once(struct gp_unwinder *u)
{
	int rc;

	u->n = 0;
	u->last_sp = 0;
	u->ended = false;
	u->unknown_pc = false;
	u->read_failed = false;
	rc = dwfl_getthread_frames(u->dwfl, u->tid, cb_frame, u);
	/*
	 * libdw ends "successfully" when a return address cannot be read;
	 * the outermost frame's CFI marks it undefined without a read.
	 */
	if (!u->ended)
		u->end = rc == 0 && !u->read_failed && at_thread_start(u) ? GP_UNWIND_COMPLETE
									 : GP_UNWIND_CUT;
}

/* ---- the rule cache ------------------------------------------------------ */

static bool read_rule(Dwarf_Frame *frame, struct frame_rule *r)
{
	Dwarf_Op *ops, mem[3];
	size_t nops;
	bool signal;

	if (dwarf_frame_info(frame, NULL, NULL, &signal) != GP_REG_IP || signal)
		return false;
	if (dwarf_frame_cfa(frame, &ops, &nops) || nops != 1 || ops[0].atom != DW_OP_bregx ||
	    ops[0].number >= GP_NATIVE_REGS)
		return false;
	r->cfa_reg = (uint8_t)ops[0].number;
	r->cfa_off = (int64_t)ops[0].number2;
	for (int reg = 0; reg < GP_NATIVE_REGS; reg++) {
		size_t i = 1;

		if (dwarf_frame_register(frame, reg, mem, &ops, &nops))
			return false;
		if (!nops) {
			r->kind[reg] = ops ? RULE_UNDEFINED : RULE_SAME;
			continue;
		}
		if (ops[0].atom != DW_OP_call_frame_cfa)
			return false;
		r->off[reg] = 0;
		if (i < nops && ops[i].atom == DW_OP_plus_uconst)
			r->off[reg] = (int64_t)ops[i++].number;
		r->kind[reg] = RULE_AT_CFA;
		if (i < nops && ops[i].atom == DW_OP_stack_value) {
			r->kind[reg] = RULE_VAL_CFA;
			i++;
		}
		if (i != nops)
			return false;
	}
	return true;
}

/* The CFI row for pc: .eh_frame first, then .debug_frame (as libdw does). */
static Dwarf_Frame *cfi_frame(struct gp_unwinder *u, uint64_t pc)
{
	Dwfl_Module *mod = dwfl_addrmodule(u->dwfl, pc);
	Dwarf_Frame *frame = NULL;
	Dwarf_CFI *cfi;
	Dwarf_Addr bias;

	if (!mod)
		return NULL;
	cfi = dwfl_module_eh_cfi(mod, &bias);
	if (cfi && !dwarf_cfi_addrframe(cfi, pc - bias, &frame))
		return frame;
	cfi = dwfl_module_dwarf_cfi(mod, &bias);
	if (cfi && !dwarf_cfi_addrframe(cfi, pc - bias, &frame))
		return frame;
	return NULL;
}

static const struct frame_rule *rule_at(struct gp_unwinder *u, uint64_t pc)
{
	struct frame_rule *r;
	Dwarf_Frame *frame;

	HASH_FIND(hh, u->rules, &pc, sizeof(pc), r);
	if (r)
		return r;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->pc = pc;
	frame = cfi_frame(u, pc);
	r->usable = frame && read_rule(frame, r);
	free(frame);
	HASH_ADD(hh, u->rules, pc, sizeof(r->pc), r);
	return r;
}

static bool snapshot_read(const struct gp_unwinder *u, uint64_t addr, uint64_t *val)
{
	if (addr < u->sp || addr - u->sp > u->len || u->len - (addr - u->sp) < sizeof(*val))
		return false;
	memcpy(val, u->stack + (addr - u->sp), sizeof(*val));
	return true;
}

/*
 * Unwind with cached rules only. false: a frame needs libdw (the caller
 * starts over there); true: u->n and u->end are the result.
 */
static bool unwind_fast(struct gp_unwinder *u)
{
	uint64_t regs[GP_NATIVE_REGS], next[GP_NATIVE_REGS];
	uint32_t defined = (1u << GP_NATIVE_REGS) - 1, ndef;

	memcpy(regs, u->regs, sizeof(regs));
	u->n = 0;
	for (;;) {
		uint64_t pc = regs[GP_REG_IP], lookup = u->n ? pc - 1 : pc, cfa;
		const struct frame_rule *r;

		if (u->n >= u->max) {
			u->end = GP_UNWIND_DEPTH;
			return true;
		}
		if (u->n && regs[GP_REG_SP] <= u->last_sp) {
			u->end = GP_UNWIND_BAD;
			return true;
		}
		u->last_sp = regs[GP_REG_SP];
		if (!gp_unwinder_map(u, lookup))
			return false;
		r = rule_at(u, lookup);
		if (!r || !r->usable || !(defined >> r->cfa_reg & 1))
			return false;
		u->out[u->n].pc = pc;
		u->out[u->n].activation = !u->n;
		u->n++;
		cfa = regs[r->cfa_reg] + (uint64_t)r->cfa_off;
		ndef = 0;
		for (int reg = 0; reg < GP_NATIVE_REGS; reg++) {
			switch (r->kind[reg]) {
			case RULE_SAME:
				next[reg] = regs[reg];
				ndef |= defined & 1u << reg;
				break;
			case RULE_AT_CFA:
				if (snapshot_read(u, cfa + (uint64_t)r->off[reg], &next[reg]))
					ndef |= 1u << reg;
				else if (reg == GP_REG_IP)
					u->read_failed = true;
				break;
			case RULE_VAL_CFA:
				next[reg] = cfa + (uint64_t)r->off[reg];
				ndef |= 1u << reg;
				break;
			default:
				break;
			}
		}
		/* No return address: the outermost frame, or the copy ends here. */
		if (!(ndef >> GP_REG_IP & 1) || !next[GP_REG_IP]) {
			u->end = u->read_failed ? GP_UNWIND_CUT : GP_UNWIND_COMPLETE;
			return true;
		}
		memcpy(regs, next, sizeof(regs));
		defined = ndef;
	}
}

uint32_t gp_unwind(struct gp_unwinder *u, pid_t tid, const __u64 regs[GP_NATIVE_REGS],
		   const uint8_t *stack, uint32_t len, struct gp_native_frame *out, uint32_t max,
		   enum gp_unwind_end *end)
{
	u->tid = tid;
	for (int i = 0; i < GP_NATIVE_REGS; i++)
		u->regs[i] = regs[i];
	u->stack = stack;
	u->sp = regs[GP_REG_SP];
	u->len = len;
	u->out = out;
	u->max = max;
	*end = GP_UNWIND_CUT;
	if (!u->dwfl || !max)
		return 0;
	u->last_sp = 0;
	u->read_failed = false;
	if (u->fast && unwind_fast(u)) {
		u->fast_samples++;
		*end = u->end;
		return u->n;
	}
	u->slow_samples++;
	unwind_once(u);
	/* Code outside every known mapping: something new was mapped. */
	if (u->unknown_pc && u->end != GP_UNWIND_COMPLETE &&
	    mono_ns() - u->refreshed_ns >= REFRESH_NS && !refresh(u))
		unwind_once(u);
	*end = u->end;
	return u->n;
}

int gp_unwinder_dwarf_name(struct gp_unwinder *u, uint64_t addr, char *buf, size_t len)
{
	const struct gp_native_map *m = gp_unwinder_map(u, addr);
	Dwarf_Die *cu, *scopes = NULL;
	Dwfl_Module *mod;
	Dwarf_Addr bias;
	int n, rc = -1;

	if (!m || !m->file || !m->file->has_dwarf || !u->dwfl)
		return -1;
	mod = dwfl_addrmodule(u->dwfl, addr);
	cu = mod ? dwfl_module_addrdie(mod, addr, &bias) : NULL;
	if (!cu)
		return -1;
	n = dwarf_getscopes(cu, addr - bias, &scopes);
	/* Innermost first: the function the address belongs to, past inlines. */
	for (int i = 0; i < n; i++) {
		const char *name;

		if (dwarf_tag(&scopes[i]) != DW_TAG_subprogram)
			continue;
		name = dwarf_diename(&scopes[i]);
		if (name) {
			snprintf(buf, len, "%s", name);
			rc = 0;
		}
		break;
	}
	free(scopes);
	return rc;
}
