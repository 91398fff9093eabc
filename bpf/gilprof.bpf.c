// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * gilprof.bpf.c — kernel side of gil-prof.
 *
 * on_cpu_sample runs from a CPU-clock perf event on every CPU. For a thread
 * of a profiled process it finds the thread's PyThreadState, walks the Python
 * frame chain and sends one record per sample through the ring buffer. User
 * space turns code objects into names and lines; the kernel only copies
 * pointers, so the program stays small and bounded.
 *
 * Every record also says what the thread was doing with the GIL
 * (gilstate.h). In wall mode, offcpu.h adds a sched_switch program that
 * records the stack of every target thread leaving a CPU, and a task
 * iterator that records the threads already off CPU when recording starts.
 * gilevents.h traces every GIL acquisition and release for the timeline.
 *
 * The same code reads the current task's memory (perf_event, tp_btf) or,
 * in the sleepable iterator, another task's: functions take an `rtask`
 * argument that is NULL for "current"; callers pass a literal NULL so the
 * compiler drops the sleepable helper from the non-sleepable programs.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "gilprof.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Set by user space before load; frozen, so disabled paths are dead code. */
const volatile struct gp_config cfg = {};
/* Wake the consumer only when the ring is this full; it polls otherwise. */
const volatile __u64 wakeup_bytes = 1 << 20;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20); /* resized by user space */
} events SEC(".maps");

/*
 * One record per CPU, too large for the 512-byte BPF stack. A plain array
 * indexed by CPU (sized by user space) rather than a per-CPU array: records
 * outgrow the 32 KiB per-CPU value limit (a struct gp_sample, then with
 * --native its stack copy). Programs using it never nest on one CPU
 * (perf_event programs are not re-entered; sched_switch runs with
 * interrupts off, so the CPU-clock event cannot interrupt it).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1); /* set to the number of possible CPUs */
	__type(key, __u32);
	__type(value, struct gp_scratch);
} scratch SEC(".maps");

/* Profiled processes by host tgid (the target, later its children). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GP_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct gp_proc);
} procs SEC(".maps");

struct thread_cache {
	__u64 tstate;    /* 0: none found */
	__u64 retry_ns;  /* when tstate == 0: look again after this time */
};

/* Host tid -> PyThreadState, so the thread list is scanned once per thread. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, GP_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct thread_cache);
} threads SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, GP_CNT__MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void count(enum gp_counter c)
{
	__u32 key = c;
	__u64 *v = bpf_map_lookup_elem(&counters, &key);

	if (v)
		*v += 1;
}

#include "kcompat.bpf.h"

/* Read user memory of rtask, or of the current task when rtask is NULL. */
static __always_inline long uread(void *dst, __u32 len, __u64 addr, struct task_struct *rtask)
{
	if (rtask)
		return bpf_copy_from_user_task(dst, len, (const void *)addr, rtask, 0);
	return bpf_probe_read_user(dst, len, (const void *)addr);
}

static __always_inline int read_ptr(__u64 *dst, __u64 addr, struct task_struct *rtask)
{
	return uread(dst, sizeof(*dst), addr, rtask);
}

/* ---- thread -> PyThreadState ------------------------------------------- */

/*
 * Threads are matched on PyThreadState.thread_id == pthread_self(), which
 * on x86-64 glibc is the thread's fs_base. Unlike tids it is the same inside
 * and outside a PID namespace, and it exists in every CPython version.
 *
 * The main interpreter is searched first: a thread that entered a
 * sub-interpreter has a thread state in each, and the main one is the
 * stack users mean. Threads known only to a sub-interpreter are found in
 * the rest of the list (newest interpreter first).
 */
enum scan_phase { SCAN_MAIN, SCAN_HEAD, SCAN_NEXT };

struct scan_ctx {
	struct task_struct *rtask;
	__u64 runtime;
	__u64 fsbase;
	__u64 main;
	__u64 interp;
	__u64 ts;
	__u64 found;
	__u32 phase;
	int fault;
	int done;
};

static __always_inline long scan_one(struct scan_ctx *c, struct task_struct *rtask)
{
	__u64 owner, at;

	if (!c->ts) {
		/* This interpreter's threads are done (or none yet): the next one. */
		if (c->phase == SCAN_MAIN)
			at = c->runtime + cfg.py.rt_interp_main;
		else if (c->phase == SCAN_HEAD)
			at = c->runtime + cfg.py.rt_interp_head;
		else
			at = c->interp + cfg.py.interp_next;
		if (read_ptr(&c->interp, at, rtask))
			goto fault;
		if (c->phase == SCAN_MAIN) {
			c->main = gp_fresh(c->interp);
			c->phase = SCAN_HEAD;
		} else {
			c->phase = SCAN_NEXT;
			if (!c->interp)
				goto done;
			if (c->interp == c->main)
				return 0; /* searched first */
		}
		if (c->interp && read_ptr(&c->ts, c->interp + cfg.py.interp_threads_head, rtask))
			goto fault;
		return 0;
	}
	if (read_ptr(&owner, c->ts + cfg.py.ts_thread_id, rtask))
		goto fault;
	if (owner == c->fsbase) {
		c->found = gp_fresh(c->ts);
		goto done;
	}
	if (read_ptr(&c->ts, c->ts + cfg.py.ts_next, rtask))
		goto fault;
	return 0;
fault:
	c->fault = 1;
done:
	c->done = 1;
	return 1;
}

static long scan_step(__u32 i __attribute__((unused)), struct scan_ctx *c)
{
	return scan_one(c, NULL);
}

static long scan_step_task(__u32 i __attribute__((unused)), struct scan_ctx *c)
{
	return scan_one(c, c->rtask);
}

/* Do the thread state fields the sampler reads lie in its first GP_TSTATE_HDR bytes? */
static __always_inline bool ts_field_fits(__s32 off)
{
	return off < 0 || off + 8 <= GP_TSTATE_HDR;
}

static __always_inline bool ts_hdr_fits(void)
{
	return cfg.py.ts_thread_id >= 0 && ts_field_fits(cfg.py.ts_thread_id) &&
	       ts_field_fits(cfg.py.ts_cframe) && ts_field_fits(cfg.py.ts_frame) &&
	       ts_field_fits(cfg.py.ts_base_frame);
}

/*
 * Copy the first bytes of tstate into hdr, the one read that gives its
 * owner, current frame and base frame; false when the row's fields lie
 * further apart (then they are read one by one) or tstate is unreadable.
 */
static __always_inline bool read_ts_hdr(__u8 *hdr, __u64 tstate, struct task_struct *rtask)
{
	return hdr && tstate && ts_hdr_fits() && !uread(hdr, GP_TSTATE_HDR, tstate, rtask);
}

static __always_inline __u64 hdr_field(const __u8 *hdr, __s32 off)
{
	__u64 o = (__u64)off;

	if (off < 0)
		return 0;
	/* Only reached with a row that fits (ts_hdr_fits); the verifier needs the bound. */
	GP_CLAMP(o, GP_TSTATE_HDR - 8);
	return *(const __u64 *)(hdr + o);
}

/*
 * hdr: GP_TSTATE_HDR bytes, or NULL. When the row fits (ts_hdr_fits) and
 * hdr is given, a thread state is returned with its first bytes copied
 * there for the walk (zeros if they could not be read: no current frame).
 */
static __always_inline __u64 find_tstate(const struct gp_proc *proc, struct task_struct *task,
					 __u32 tid, struct task_struct *rtask, __u8 *hdr)
{
	struct scan_ctx c = {};
	struct thread_cache *tc, fresh = {};
	__u64 now, owner;

	c.rtask = rtask;
	c.runtime = proc->runtime;
	/* task is a trusted pointer in every caller: a plain load, no helper call. */
	c.fsbase = task->thread.fsbase;
	/* The scan's state, unknown to the verifier (see unknown_zero). */
	c.main = c.interp = c.ts = c.found = unknown_zero();
	c.phase = (__u32)unknown_zero();
	c.fault = c.done = (int)unknown_zero();

	tc = bpf_map_lookup_elem(&threads, &tid);
	/* Only a thread without a thread state, or a scan, needs the time. */
	now = tc && tc->tstate ? 0 : bpf_ktime_get_ns();
	if (tc) {
		/* Revalidate: the thread may have exited and its tid been reused. */
		if (hdr && ts_hdr_fits()) {
			if (tc->tstate && read_ts_hdr(hdr, tc->tstate, rtask) &&
			    hdr_field(hdr, cfg.py.ts_thread_id) == c.fsbase)
				return tc->tstate;
		} else if (tc->tstate &&
			   !read_ptr(&owner, tc->tstate + cfg.py.ts_thread_id, rtask) &&
			   owner == c.fsbase) {
			return tc->tstate;
		}
		if (!tc->tstate && now < tc->retry_ns) {
			count(GP_CNT_NO_TSTATE);
			return 0;
		}
	}

	if (rtask)
		bpf_loop(GP_MAX_THREAD_SCAN, scan_step_task, &c, 0);
	else
		bpf_loop(GP_MAX_THREAD_SCAN, scan_step, &c, 0);
	if (c.fault)
		count(GP_CNT_TSTATE_READ_FAULT);
	else if (!c.done)
		count(GP_CNT_TSTATE_SCAN_LIMIT);
	else if (!c.found)
		count(GP_CNT_NO_TSTATE);

	fresh.tstate = c.found;
	if (!now)
		now = bpf_ktime_get_ns();
	fresh.retry_ns = now + GP_NO_TSTATE_RETRY_NS;
	bpf_map_update_elem(&threads, &tid, &fresh, BPF_ANY);
	/* Unreadable: the copy reads as zeros, no current frame (a walk of nothing). */
	if (hdr && ts_hdr_fits())
		uread(hdr, GP_TSTATE_HDR, c.found, rtask);
	return c.found;
}

/* ---- Python frame walk ---------------------------------------------------- */

/* Bytes of a frame / code object header copied per step (>= layout sizes). */
#define FRAME_BUF GP_FRAME_BUF
#define CODE_BUF GP_CODE_BUF

/*
 * Code objects this CPU's walks found valid, and their co_firstlineno: a
 * frame whose code pointer is here skips the read of the code object (one
 * of the walk's two reads per frame). A frame holds a reference to its
 * code, so a pointer met again in a live frame is a live code object. Its
 * co_firstlineno is what user space checks its own cache of the object
 * against, and a code object freed and another made at its address can
 * only be told by it: an entry stands for GP_CODE_MEMO_NS, half the time
 * user space trusts its cache without looking again (GP_CODE_RECHECK_NS,
 * unwind/pycode.h), so such a change is still found in time. Direct-mapped
 * by address; a miss reads the code object as before.
 *
 * Only the programs that cannot interrupt one another use it (on_switch
 * runs with interrupts off, on_cpu_sample is not re-entered): a GIL
 * program may be preempted mid-update, so it walks without (memo false).
 */
#define GP_CODE_MEMO_SLOTS 512
#define GP_CODE_MEMO_NS (1000ULL * 1000 * 1000)

struct code_memo_slot {
	__u64 code;
	__u64 seen_ns;           /* when it was read and found valid */
	__s32 firstlineno;
	__u32 reserved;
};

struct code_memo {
	struct code_memo_slot slot[GP_CODE_MEMO_SLOTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct code_memo);
} code_memo SEC(".maps");

static __always_inline struct code_memo_slot *memo_slot(struct code_memo *m, __u64 code)
{
	/* Objects are 16-byte aligned; fold in higher bits against strides. */
	__u32 i = (__u32)((code >> 4) ^ (code >> 13));

	return &m->slot[i & (GP_CODE_MEMO_SLOTS - 1)];
}

struct walk_ctx {
	struct task_struct *rtask;
	struct gp_sample *s;
	struct code_memo *memo;  /* NULL: read every code object */
	__u64 frame;
	__u64 code_type;
	__u64 mark;              /* loop check: a frame met earlier */
	__u64 base;              /* the thread's base frame (3.15+), else 0 */
	__u32 last_ok;           /* step of the last frame that was not garbage */
	__u32 n;
	__u32 end;
};

static __always_inline __u64 buf_u64(const __u8 *buf, __s32 off)
{
	return *(const __u64 *)(buf + off);
}

static __always_inline __s32 buf_s32(const __u8 *buf, __s32 off)
{
	return *(const __s32 *)(buf + off);
}

/* Byte offset of the frame's instruction inside its code object. */
static __always_inline __s32 frame_lasti(const __u8 *fb, __u64 code)
{
	if (cfg.py.frame_instr_is_ptr) {
		__s64 off = (__s64)(buf_u64(fb, cfg.py.frame_instr) - code) -
			    cfg.py.code_adaptive;
		if (off < -(1 << 30) || off > (1 << 30))
			return -1;
		return (__s32)off;
	}
	return buf_s32(fb, cfg.py.frame_instr) * cfg.py.frame_lasti_scale;
}

static __always_inline void mark_last_entry(struct walk_ctx *w)
{
	__u32 last = w->n - 1;

	if (!w->n)
		return;
	/* Keep the mask: clang would drop it after the range check. */
	asm volatile("" : "+r"(last));
	last &= GP_MAX_FRAMES - 1;
	w->s->frames[last].flags |= GP_FRAME_ENTRY;
}

/*
 * Does the chain loop? Brent's cycle check: remember the frame met at every
 * step that is a power of two and compare each later frame with it. Once
 * past the loop's entry and with the gap between marks at least the loop's
 * length, the walk meets the mark again within one period; a chain that
 * does not loop never does. Two compares per frame, no table, and only the
 * loop index (unknown to the verifier) decides, so its state stays small.
 */
static __always_inline int chain_loops(struct walk_ctx *w, __u32 step)
{
	if (w->frame == w->mark)
		return 1;
	if (!(step & (step - 1)))
		w->mark = gp_fresh(w->frame);
	return 0;
}

static __always_inline long walk_one(struct walk_ctx *w, __u32 i, struct task_struct *rtask)
{
	/*
	 * One buffer, the frame's bytes and then the code object's: with its
	 * caller's frame and the program's, the stack stays under 6.1's 512
	 * bytes for a call chain (bpf_loop's callback counts as a call).
	 */
	__u8 fb[FRAME_BUF > CODE_BUF ? FRAME_BUF : CODE_BUF], *cb = fb;
	struct code_memo_slot *ms;
	__u64 code, prev;
	__u32 idx, flags = 0;
	__s32 lasti, firstlineno;
	__u8 owner = 0;

	/*
	 * 3.15 ends every chain in the thread's base frame, a sentinel: a
	 * chain that stops short of it was torn (read while it changed).
	 */
	if (w->base && w->frame == w->base) {
		mark_last_entry(w);
		w->end = GP_WALK_COMPLETE;
		return 1;
	}
	if (!w->frame) {
		w->end = w->base ? GP_WALK_NO_BASE : GP_WALK_COMPLETE;
		return 1;
	}
	if (w->n >= cfg.max_frames) {
		w->end = GP_WALK_DEPTH;
		return 1;
	}
	if (chain_loops(w, i)) {
		w->end = GP_WALK_LOOP;
		return 1;
	}
	__builtin_memset(fb, 0, sizeof(fb));
	if (uread(fb, cfg.py.frame_size & (FRAME_BUF - 1), w->frame, rtask)) {
		w->end = GP_WALK_READ_FAULT;
		return 1;
	}
	prev = buf_u64(fb, cfg.py.frame_previous);
	if (prev == w->frame) {
		w->end = GP_WALK_LOOP;
		return 1;
	}
	/* 3.14 tags the code reference (_PyStackRef) in its low bits. */
	code = buf_u64(fb, cfg.py.frame_code) & ~(__u64)cfg.py.frame_code_tag_bits;
	w->frame = prev;

	if (cfg.py.frame_owner >= 0) {
		owner = fb[cfg.py.frame_owner];
		/* C-stack shim (3.12+): no function; marks an eval-call boundary. */
		if (cfg.py.owner_cstack >= 0 && owner >= cfg.py.owner_cstack) {
			mark_last_entry(w);
			w->last_ok = (__u32)gp_fresh(i);
			return 0;
		}
		if (owner == cfg.py.owner_generator)
			flags |= GP_FRAME_GENERATOR;
	}
	if (cfg.py.frame_is_entry >= 0 && fb[cfg.py.frame_is_entry])
		flags |= GP_FRAME_ENTRY;
	if (cfg.py.frame_each_entry)
		flags |= GP_FRAME_ENTRY;

	/*
	 * 3.13 f_executable may be None or another object: skip, keep walking.
	 * A code pointer that cannot be read, or a run of frames without code,
	 * is garbage (a torn or corrupted chain): the stack ends there.
	 */
	lasti = code ? frame_lasti(fb, code) : 0;
	ms = code && w->memo ? memo_slot(w->memo, code) : NULL;
	if (ms && ms->code == code && w->s->ts - ms->seen_ns < GP_CODE_MEMO_NS) {
		firstlineno = ms->firstlineno;
		count(GP_CNT_CODE_MEMO_HIT);
		goto valid;
	}
	__builtin_memset(fb, 0, sizeof(fb));
	if (code && uread(cb, CODE_BUF, code, rtask)) {
		w->end = GP_WALK_BAD_CODE;
		return 1;
	}
	if (!code || buf_u64(cb, cfg.py.ob_type) != w->code_type) {
		count(GP_CNT_WALK_BAD_CODE);
		if (i - w->last_ok > GP_MAX_SKIPPED) {
			w->end = GP_WALK_BAD_CODE;
			return 1;
		}
		return 0;
	}
	firstlineno = buf_s32(cb, cfg.py.code_firstlineno);
	if (ms) {
		ms->code = code;
		ms->seen_ns = w->s->ts;
		ms->firstlineno = firstlineno;
	}
valid:
	w->last_ok = (__u32)gp_fresh(i);

	idx = w->n;
	asm volatile("" : "+r"(idx));
	idx &= GP_MAX_FRAMES - 1;
	w->s->frames[idx].code = code;
	w->s->frames[idx].lasti = lasti;
	w->s->frames[idx].firstlineno = firstlineno;
	w->s->frames[idx].flags = flags;
	w->s->frames[idx].reserved = 0;
	w->n++;
	return 0;
}

static long walk_step(__u32 i, struct walk_ctx *w)
{
	return walk_one(w, i, NULL);
}

static long walk_step_task(__u32 i, struct walk_ctx *w)
{
	return walk_one(w, i, w->rtask);
}

/* hdr: the thread state's first bytes (read_ts_hdr), or NULL: read the fields. */
static __always_inline __u64 current_frame(__u64 tstate, const __u8 *hdr,
					   struct task_struct *rtask)
{
	__u64 frame = 0, cframe = 0;

	if (cfg.py.ts_cframe >= 0) {
		if (hdr)
			cframe = hdr_field(hdr, cfg.py.ts_cframe);
		else if (read_ptr(&cframe, tstate + cfg.py.ts_cframe, rtask))
			return 0;
		if (!cframe)
			return 0;
		read_ptr(&frame, cframe + cfg.py.cframe_frame, rtask);
		return frame;
	}
	if (hdr)
		return hdr_field(hdr, cfg.py.ts_frame);
	read_ptr(&frame, tstate + cfg.py.ts_frame, rtask);
	return frame;
}

/*
 * memo: use the CPU's code memo (only the programs named there may).
 * hdr: the thread state's first bytes (read_ts_hdr), or NULL: read the fields.
 */
static __always_inline void walk_python(struct gp_sample *s, const struct gp_proc *proc,
					struct task_struct *rtask, bool memo, const __u8 *hdr)
{
	struct walk_ctx w = {};
	__u32 zero = 0;

	w.rtask = rtask;
	w.s = s;
	w.memo = memo && !rtask ? bpf_map_lookup_elem(&code_memo, &zero) : NULL;
	w.code_type = proc->code_type;
	if (cfg.py.ts_base_frame >= 0) {
		if (hdr)
			w.base = hdr_field(hdr, cfg.py.ts_base_frame);
		else if (read_ptr(&w.base, s->tstate + cfg.py.ts_base_frame, rtask))
			w.base = 0;
	}
	w.frame = current_frame(s->tstate, hdr, rtask);
	if (!w.frame) {
		s->walk_end = GP_WALK_NO_FRAME;
		count(GP_CNT_NO_FRAME);
		return;
	}
	/* The walk's state, unknown to the verifier (see unknown_zero). */
	w.n = (__u32)unknown_zero();
	w.end = GP_WALK_DEPTH;
	/* Shim and skipped frames take steps too, not places in frames[]. */
	if (rtask)
		bpf_loop(2 * GP_MAX_FRAMES + 1, walk_step_task, &w, 0);
	else
		bpf_loop(2 * GP_MAX_FRAMES + 1, walk_step, &w, 0);
	s->nframes = w.n;
	s->walk_end = w.end;
	if (w.end == GP_WALK_READ_FAULT)
		count(GP_CNT_WALK_READ_FAULT);
	else if (w.end == GP_WALK_LOOP)
		count(GP_CNT_WALK_LOOP);
	else if (w.end == GP_WALK_DEPTH)
		count(GP_CNT_WALK_DEPTH);
	else if (w.end == GP_WALK_BAD_CODE)
		count(GP_CNT_WALK_GARBAGE);
	else if (w.end == GP_WALK_NO_BASE)
		count(GP_CNT_WALK_NO_BASE);
}

#include "nativestack.bpf.h"

/* ---- output --------------------------------------------------------------- */

/*
 * The consumer polls on a timer; waking it per record would cost the target
 * a context switch per sample. Wake it only when the ring is filling up.
 */
static __always_inline __u64 wakeup_flag(void)
{
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

/*
 * Send the header, the Python frames and extra trailing bytes (native
 * part) of s, which lies at the start of a buffer of bufsize bytes.
 */
#define emit(s, extra, bufsize) emit_sized(s, extra, (__u64)(bufsize) == sizeof(struct gp_sample))

static __always_inline void emit_sized(struct gp_sample *s, __u64 extra, bool sample_only)
{
	__u64 n = s->nframes, size;

	GP_CLAMP(n, GP_MAX_FRAMES);
	size = GP_SAMPLE_HDR_SIZE + n * sizeof(struct gp_frame) + extra;
	/* Bounded by the buffer actually sent, which the verifier checks. */
	if (sample_only)
		GP_CLAMP(size, sizeof(struct gp_sample));
	else
		GP_CLAMP(size, sizeof(struct gp_scratch));
	if (bpf_ringbuf_output(&events, s, size, wakeup_flag())) {
		count(GP_CNT_RB_FULL);
		return;
	}
	count(GP_CNT_EMITTED);
}

/* The header of any record about task: no stack, no state yet. */
static __always_inline void fill_header(struct gp_sample *s, struct task_struct *task,
					__u32 type)
{
	s->type = type;
	/* A trusted pointer in every caller: plain loads, no helper calls. */
	s->pid = task->tgid;
	s->tid = task->pid;
	s->cpu = bpf_get_smp_processor_id();
	s->ts = bpf_ktime_get_ns();
	s->user_ip = 0;
	s->user_sp = 0;
	s->tstate = 0;
	s->nframes = 0;
	s->walk_end = GP_WALK_NO_FRAME;
	s->flags = 0;
	s->gil = GP_GIL_UNKNOWN;
	s->reserved = 0;
}

#include "gilstate.h"
#include "blame.bpf.h"

/*
 * Fill sc->sample for task (a thread of proc): registers, thread state, GIL state
 * and Python stack. rtask: NULL when task is the current task, else task.
 * blocked: the task is leaving the CPU to sleep (decides idle vs released).
 * *g: the GIL as read for the state, for the holder's record (blame.bpf.h).
 */
static __always_inline void capture(struct gp_scratch *sc, const struct gp_proc *proc,
				    struct task_struct *task, struct task_struct *rtask,
				    __u32 type, bool blocked, struct gil_view *g)
{
	struct gp_sample *s = &sc->sample;
	/*
	 * A perf_event ctx->regs are the interrupted registers, kernel ones
	 * when the sample lands in a syscall; the task's saved user registers
	 * are the ones that describe its user stack.
	 */
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);

	fill_header(s, task, type);
	/*
	 * Set here, not by the caller after capture: a `blocked` still live
	 * there keeps the verifier from merging the two paths of gil_state,
	 * and it would check the holder's walk (blame.h) once per path.
	 */
	s->flags = (__u32)blocked * GP_SAMPLE_BLOCKED;
	s->user_ip = regs->ip;
	s->user_sp = regs->sp;
	s->tstate = find_tstate(proc, task, s->tid, rtask, sc->tstate_hdr);
	s->gil = gil_state(proc, regs, s->tstate, blocked, rtask, g);
	if (s->gil == GP_GIL_HOLDING && gc_running(proc, rtask))
		s->flags |= GP_SAMPLE_GC;
	if (s->tstate) {
		s->flags |= GP_SAMPLE_HAS_TSTATE;
		walk_python(s, proc, rtask, true, ts_hdr_fits() ? sc->tstate_hdr : NULL);
	}
}

static __always_inline struct gp_scratch *cpu_scratch(void)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct gp_scratch *sc = bpf_map_lookup_elem(&scratch, &cpu);

	if (!sc)
		count(GP_CNT_NO_SCRATCH);
	return sc;
}

SEC("perf_event")
int on_cpu_sample(struct bpf_perf_event_data *ctx)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct task_struct *task;
	struct gp_scratch *sc;
	struct gil_view g;
	struct gp_proc *proc;
	__u32 extra = 0;

	proc = bpf_map_lookup_elem(&procs, &tgid);
	if (!proc) {
		count(GP_CNT_OTHER_TASK);
		return 0;
	}
	count(GP_CNT_SAMPLES);
	sc = cpu_scratch();
	if (!sc)
		return 0;
	task = bpf_get_current_task_btf();
	capture(sc, proc, task, NULL, GP_EV_SAMPLE, false, &g);
	if (cfg.stack_bytes || cfg.kernel_stack)
		extra = copy_native(ctx, sc, task, sc->sample.tid, true);
	emit(&sc->sample, extra, sizeof(*sc));
	blame_holder(sc, proc, &g, NULL);
	return 0;
}

#include "offcpu.h"
#include "procevents.h"
#include "gilevents.h"
