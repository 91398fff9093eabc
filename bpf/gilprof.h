/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * gilprof.h — the one header shared by the BPF programs and user space:
 * limits, the CPython layout row handed to BPF, configuration, event records
 * and the reason codes of every early exit.
 *
 * Only fixed-width kernel types (__u32, __s32, ...) are used so the same text
 * compiles against vmlinux.h (BPF) and <linux/types.h> (user space).
 */
#ifndef GILPROF_H
#define GILPROF_H

#ifndef __bpf__
#include <linux/types.h>
#endif

/* Python frames walked per sample. Power of two: BPF masks indices with it. */
#define GP_MAX_FRAMES 1024
/* Interpreter thread states examined when looking up the current thread. */
#define GP_MAX_THREAD_SCAN 4096
/* Processes that can be profiled at once (the target and its children). */
#define GP_MAX_PROCS 256
/* Threads whose tstate is cached in the kernel. */
#define GP_MAX_THREADS 16384
/* Retry a thread without a tstate (pure C thread, not yet started) after this. */
#define GP_NO_TSTATE_RETRY_NS (50ULL * 1000 * 1000)

/* An absent field in a layout row. */
#define GP_ABSENT (-1)

/*
 * Bytes of a frame and of a code object header the BPF walk copies per
 * frame: every offset it reads there must fit (user space checks the row,
 * and the live _Py_DebugOffsets, against these before load).
 */
#define GP_FRAME_BUF 128
#define GP_CODE_BUF 80
/* Frames in a row whose code is not a code object before the walk gives up. */
#define GP_MAX_SKIPPED 8

/*
 * Where a 3.13+ interpreter's _Py_DebugOffsets block (at the start of
 * _PyRuntime) keeps each value: byte positions inside the block, generated
 * from the version's own headers like the row; all 0 before 3.13 (no
 * block). Names follow the struct py_layout field each value gives; *_sz
 * are the `size` members (sizeof the described struct). User space only.
 */
struct py_debug_pos {
	__s32 block_size;        /* sizeof(_Py_DebugOffsets); 0: none */
	__s32 version;
	__s32 free_threaded;
	__s32 rt_sz;
	__s32 rt_interp_head;
	__s32 interp_sz;
	__s32 interp_id;
	__s32 interp_next;
	__s32 interp_threads_head;
	__s32 interp_gil_ptr;
	__s32 interp_gc;         /* interp->gc; plus gc_collecting below */
	__s32 interp_modules;    /* imports.modules (the object row's interp_modules) */
	__s32 ts_sz;
	__s32 ts_next;
	__s32 ts_interp;
	__s32 ts_frame;
	__s32 ts_thread_id;
	__s32 ts_native_tid;
	__s32 frame_sz;
	__s32 frame_previous;
	__s32 frame_code;
	__s32 frame_code_tag_bits;/* low bits of a tagged f_executable (3.14 _PyStackRef) */
	__s32 frame_instr;
	__s32 frame_owner;
	__s32 code_sz;
	__s32 code_filename;
	__s32 code_name;
	__s32 code_qualname;
	__s32 code_linetable;
	__s32 code_firstlineno;
	__s32 code_adaptive;
	__s32 obj_sz;
	__s32 ob_type;
	__s32 bytes_sz;
	__s32 bytes_size;
	__s32 bytes_data;
	__s32 str_sz;
	__s32 str_state;
	__s32 str_length;
	__s32 str_ascii_data;    /* asciiobject_size */
	__s32 gc_collecting;     /* inside the GC state */
};

/*
 * Where CPython keeps what the sampler reads, for one minor version.
 * Produced by sampler/pylayout_gen.c from the version's own headers; a row of
 * the table in sampler/pylayouts.c. All values are byte offsets (GP_ABSENT if
 * the field does not exist in that version) unless the name says otherwise.
 */
struct py_layout {
	__u32 version_hex;       /* PY_VERSION_HEX of the headers the row came from */
	__u32 free_threaded;     /* 1 for a Py_GIL_DISABLED build */

	/* _PyRuntimeState */
	__s32 rt_interp_head;    /* interpreters.head */
	__s32 rt_interp_main;    /* interpreters.main */
	__s32 rt_gil;            /* embedded ceval.gil (<= 3.11) */
	__s32 rt_tss_key;        /* autoTSSkey._key */
	__s32 rt_size;           /* sizeof(_PyRuntimeState) */

	/* PyInterpreterState */
	__s32 interp_id;
	__s32 interp_next;
	__s32 interp_threads_head;
	__s32 interp_gil_ptr;    /* ceval.gil pointer (>= 3.12) */
	__s32 interp_gc_collecting; /* gc.collecting, from the interpreter */

	/* PyThreadState */
	__s32 ts_next;
	__s32 ts_interp;
	__s32 ts_frame;          /* innermost frame pointer held directly */
	__s32 ts_cframe;         /* CFrame pointer (3.11, 3.12) */
	__s32 cframe_frame;      /* CFrame.current_frame */
	__s32 ts_thread_id;      /* pthread_self() of the owning thread */
	__s32 ts_native_tid;     /* kernel tid as seen in the target's namespace */
	__s32 ts_holds_gil;      /* int holds_gil (3.14+) and gil_requested (3.15+): */
	__s32 ts_gil_requested;  /* the tests' cross-check of the GIL states; the
				    sampler's signals work on every version */
	__s32 ts_base_frame;     /* pointer to the thread's sentinel bottom frame
				    (3.15+): a walk that ends elsewhere is cut */

	/* frames: PyFrameObject (<= 3.10) or _PyInterpreterFrame (>= 3.11) */
	__s32 frame_size;        /* bytes read per frame, covers all fields below */
	__s32 frame_previous;
	__s32 frame_code;
	__s32 frame_code_tag_bits;/* low bits of a tagged f_executable (3.14 _PyStackRef) */
	__s32 frame_instr;       /* f_lasti (int) or prev_instr/instr_ptr (pointer) */
	__s32 frame_instr_is_ptr;/* 1: pointer into co_code_adaptive */
	__s32 frame_lasti_scale; /* int f_lasti -> bytes (3.9: 1, 3.10: 2) */
	__s32 frame_owner;       /* owner byte */
	__s32 frame_is_entry;    /* is_entry byte (3.11) */
	__s32 owner_cstack;      /* owner values >= this are C-stack/entry shim
				    frames, one per C-level eval call (>= 3.12) */
	__s32 owner_generator;   /* owner value of generator frames */
	__s32 frame_each_entry;  /* 1: every frame is its own eval call (<= 3.10) */

	/* PyObject / PyCodeObject / bytes / str */
	__s32 obj_size;          /* sizeof(PyObject) */
	__s32 ob_type;
	__s32 code_size;         /* sizeof(PyCodeObject) */
	__s32 code_firstlineno;
	__s32 code_filename;
	__s32 code_name;
	__s32 code_qualname;
	__s32 code_linetable;    /* co_lnotab / co_linetable bytes object */
	__s32 code_linetable_format; /* enum gp_linetable_format */
	__s32 code_adaptive;     /* inline bytecode (>= 3.11) */
	__s32 code_firsttraceable;
	__s32 bytes_size;        /* ob_size */
	__s32 bytes_data;        /* ob_sval */
	__s32 str_size;          /* sizeof(PyUnicodeObject) */
	__s32 str_length;
	__s32 str_state;
	__s32 str_ascii_data;    /* compact ASCII: characters follow PyASCIIObject */
	__s32 str_compact_data;  /* compact non-ASCII: after PyCompactUnicodeObject */
	__s32 str_legacy_data;   /* non-compact: data.any pointer */
	__u32 str_kind_shift;    /* state >> shift & 7 = bytes per character */
	__u32 str_compact_mask;  /* state & mask: characters follow the header */
	__u32 str_ascii_mask;    /* state & mask: pure ASCII */

	/* struct _gil_runtime_state */
	__s32 gil_last_holder;
	__s32 gil_locked;
	__s32 gil_switch_number; /* unsigned long, +1 when a thread other than the
				    last holder takes the GIL (user space only) */
	__s32 gil_cond;
	__s32 gil_cond_size;
	__s32 gil_size;          /* sizeof: futexes inside it belong to take/drop_gil */

	/* User space only: provenance and the _Py_DebugOffsets positions. */
	__u32 untested;          /* 1: generated from headers of a version no
				    test has run (see README) */
	struct py_debug_pos dbg;
};

enum gp_linetable_format {
	GP_LINETABLE_NONE = 0,
	GP_LINETABLE_LNOTAB = 1,     /* 3.9 co_lnotab */
	GP_LINETABLE_PEP626 = 2,     /* 3.10 co_linetable */
	GP_LINETABLE_LOCATIONS = 3,  /* 3.11+ location table */
};

/*
 * Per-process facts the sampler needs; one map entry per profiled process.
 * Addresses are computed in user space (sampler/procinfo.c); the ones that
 * depend on the interpreter being created are 0 until it exists.
 */
struct gp_proc {
	__u64 runtime;           /* &_PyRuntime */
	__u64 code_type;         /* &PyCode_Type */
	__u64 gil;               /* struct _gil_runtime_state * of the main interpreter */
	__u64 gc_collecting;     /* &interp->gc.collecting (int) of the main interpreter */
};

/* Configuration fixed before load (.rodata). */
struct gp_config {
	struct py_layout py;
	__u32 max_frames;        /* <= GP_MAX_FRAMES */
	__u32 stack_bytes;       /* user stack copied per sample; 0: no native stacks */
	__u32 kernel_stack;      /* 1: kernel return addresses too (--kernel) */
	__u32 wall;              /* 1: --mode wall, off-CPU intervals are recorded */
	__u32 follow_children;   /* 1: --subprocesses, forked children are sampled too */
	__u32 host_procs;        /* 1: the agent's discovery: forks and execs of every
				    process on the host are reported (sampling nothing) */
	__u32 gil_events;        /* enum gp_gil_events: GIL transitions traced (timeline) */
	__u32 no_blame;          /* 1: --no-blame, waiting records get no holder record */
};

/* How GIL acquisitions and releases are traced (gilevents.h), if at all. */
enum gp_gil_events {
	GP_GIL_EVENTS_OFF = 0,
	GP_GIL_EVENTS_UPROBES = 1,    /* take_gil return, drop_gil entry (symbols) */
	GP_GIL_EVENTS_WATCHPOINT = 2, /* hardware write watchpoint on gil->locked */
};

/* x86-64 futex(2): a thread inside it has this in pt_regs->orig_ax. */
#define GP_NR_FUTEX 202

/* Frame flags (struct gp_frame.flags). */
#define GP_FRAME_ENTRY     (1u << 0) /* outermost frame of one C eval call */
#define GP_FRAME_GENERATOR (1u << 1) /* frame owned by a generator/coroutine */

struct gp_frame {
	__u64 code;              /* PyCodeObject * */
	__s32 lasti;             /* byte offset of the instruction in the code */
	__s32 firstlineno;       /* co_firstlineno read with it: cache check */
	__u32 flags;             /* GP_FRAME_* */
	__u32 reserved;
};

/*
 * Records in the ring buffer. All share struct gp_sample's header; only
 * records with a stack carry frames. Off-CPU intervals are the time between
 * a thread's GP_EV_OFF_CPU and its next GP_EV_ON_CPU or GP_EV_EXIT.
 */
enum gp_event_type {
	GP_EV_SAMPLE = 1,        /* on-CPU sample from the CPU-clock event */
	GP_EV_OFF_CPU = 2,       /* thread left the CPU (sched_switch), or was off CPU at
				  * the start (GP_SAMPLE_SNAPSHOT): stack and GIL state */
	GP_EV_ON_CPU = 3,        /* thread switched in (header only); with
				  * GP_SAMPLE_SNAPSHOT: was on a CPU at the start */
	GP_EV_EXIT = 4,          /* thread is exiting (header only) */
	/*
	 * The thread acquired (GP_SAMPLE_ACQUIRED) or released the main GIL
	 * (gilevents.h). Header only, except an acquisition after another
	 * thread held it (GP_SAMPLE_HANDOFF): frames = its Python stack.
	 */
	GP_EV_GIL = 5,
	/* Profiled processes (struct gp_proc_event, bpf/procevents.h). */
	GP_EV_FORK = 6,          /* pid forked (pid: the child, ppid: the parent) */
	GP_EV_EXEC = 7,          /* pid replaced its program (exec): addresses are gone */
	GP_EV_PROC_EXIT = 8,     /* the last thread of pid exited (status as wait(2) gives it) */
	/*
	 * Follows a record that found its thread waiting for the GIL (bpf/blame.bpf.h):
	 * the waiter's pid, tid and ts; tstate = the GIL's holder then, gil =
	 * GP_GIL_HOLDING; or tstate 0 with gil = GP_GIL_RELEASED (nobody held it:
	 * a hand-off under way) or GP_GIL_UNKNOWN (the GIL was unreadable);
	 * frames = the holder's Python stack,
	 * reserved = the type of the waiter's record (GP_EV_SAMPLE, GP_EV_OFF_CPU).
	 */
	GP_EV_BLAME = 9,
};

/*
 * What a thread was doing with the GIL (struct gp_sample.gil). Same values
 * as enum gp_gil_state in sampler/profile.h.
 */
enum gp_gil {
	GP_GIL_UNKNOWN = 0,      /* GIL address not known yet */
	GP_GIL_HOLDING = 1,      /* holds it (on CPU, or switched out holding it) */
	GP_GIL_WAITING = 2,      /* not holding it, in a futex on the GIL (take/drop_gil) */
	GP_GIL_RELEASED = 3,     /* on CPU (or preempted) without the GIL */
	GP_GIL_IDLE = 4,         /* blocked on anything else */
};

/* Why the Python frame walk of a sample ended (struct gp_sample.walk_end). */
enum gp_walk_end {
	GP_WALK_COMPLETE = 0,    /* reached the first frame */
	GP_WALK_NO_FRAME,        /* thread has no Python frame (C code, idle) */
	GP_WALK_READ_FAULT,      /* frame memory unreadable: stack cut there */
	GP_WALK_BAD_CODE,        /* garbage frames: code pointer unreadable, or
				    GP_MAX_SKIPPED non-code frames in a row */
	GP_WALK_LOOP,            /* frame chain links back into itself */
	GP_WALK_DEPTH,           /* max_frames reached: outer frames lost */
	GP_WALK_NO_BASE,         /* the chain ended before the thread's base
				    frame (3.15+): outer frames lost */
};

/* Sample flags (struct gp_sample.flags). */
#define GP_SAMPLE_HAS_TSTATE (1u << 0)
#define GP_SAMPLE_HAS_NATIVE (1u << 1) /* a struct gp_native follows frames[nframes] */
#define GP_SAMPLE_GC         (1u << 2) /* holder sampled while gc.collecting was set */
#define GP_SAMPLE_SNAPSHOT   (1u << 3) /* from the start snapshot (task iterator) */
#define GP_SAMPLE_ACQUIRED   (1u << 4) /* GP_EV_GIL: acquired (else released) */
#define GP_SAMPLE_HANDOFF    (1u << 5) /* GP_EV_GIL: another thread held it last */
#define GP_SAMPLE_BLOCKED    (1u << 6) /* GP_EV_OFF_CPU: went to sleep (not preempted) */

struct gp_sample {
	__u32 type;              /* enum gp_event_type */
	__u32 pid;               /* host tgid */
	__u32 tid;               /* host tid */
	__u32 cpu;
	__u64 ts;                /* bpf_ktime_get_ns() */
	__u64 user_ip;           /* user-mode registers (bpf_task_pt_regs), */
	__u64 user_sp;           /* also when the sample hit in the kernel */
	__u64 tstate;
	__u16 nframes;           /* frames[] entries that follow */
	__u16 walk_end;          /* enum gp_walk_end */
	__u32 flags;
	__u32 gil;               /* enum gp_gil */
	__u32 reserved;
	struct gp_frame frames[GP_MAX_FRAMES]; /* innermost first; only nframes sent */
};

#define GP_SAMPLE_HDR_SIZE ((unsigned long)__builtin_offsetof(struct gp_sample, frames))

/*
 * A fork, exec or exit of a profiled process. Starts like struct
 * gp_sample (type, pid, tid, cpu, ts) so the consumer dispatches on type.
 */
struct gp_proc_event {
	__u32 type;              /* GP_EV_FORK, GP_EV_EXEC or GP_EV_PROC_EXIT */
	__u32 pid;               /* host tgid of the process the event is about */
	__u32 tid;               /* thread that forked, exec'd or exited last */
	__u32 cpu;
	__u64 ts;                /* bpf_ktime_get_ns() */
	__u32 ppid;              /* GP_EV_FORK: the parent */
	__s32 status;            /* GP_EV_PROC_EXIT: wait status (exit code << 8, or signal) */
	__u32 followed;          /* GP_EV_FORK: the child is sampled too */
	__u32 reserved;
	char comm[16];           /* the process's command name (after exec: the new one) */
};

/*
 * Native stacks (--native, --kernel). The registers and a copy of the user
 * stack from sp upward travel with the sample; user space unwinds them with
 * the DWARF CFI of the mapped files.
 */
/* DWARF x86-64 numbering 0-16: rax rdx rcx rbx rsi rdi rbp rsp r8-r15 rip. */
#define GP_NATIVE_REGS 17
#define GP_REG_SP 7
#define GP_REG_IP 16
#define GP_DEFAULT_STACK_BYTES (16u << 10)
#define GP_MIN_STACK_BYTES (1u << 10)
#define GP_MAX_STACK_BYTES (128u << 10) /* power of two: BPF masks with it */
#define GP_MAX_KERNEL_FRAMES 127         /* perf's default kernel.perf_event_max_stack */
#define GP_STACK_PAGE 4096

/* Why a sample carries no user stack copy (struct gp_native.status). */
enum gp_native_status {
	GP_NATIVE_OK = 0,
	GP_NATIVE_VMA_BUSY,      /* bpf_find_vma: mmap lock contended (-EBUSY) */
	GP_NATIVE_NO_VMA,        /* sp in no mapping (-ENOENT) */
	GP_NATIVE_VMA_ERROR,     /* bpf_find_vma failed otherwise */
	GP_NATIVE_READ_FAULT,    /* no page of the stack copy was readable */
	GP_NATIVE_OFF,           /* not asked for (--kernel without --native) */
};

/* struct gp_native.flags */
#define GP_NATIVE_CUT (1u << 0)  /* stack larger than stack_bytes: copy cut there */
#define GP_NATIVE_HOLES (1u << 1)/* pages not present (never touched): zeros */

/*
 * Trailer of a sample with GP_SAMPLE_HAS_NATIVE, right after its nframes
 * Python frames; followed by nkernel kernel return addresses (__u64,
 * innermost first), then stack_len bytes of user stack from regs[GP_REG_SP].
 */
struct gp_native {
	__u64 regs[GP_NATIVE_REGS]; /* user registers (bpf_task_pt_regs) */
	__u16 status;            /* enum gp_native_status */
	__u16 nkernel;
	__u32 stack_len;
	__u32 flags;             /* GP_NATIVE_* */
	__u32 reserved;
};

/* Room for the largest record: the scratch map's value (see gilprof.bpf.c). */
/*
 * Bytes of a PyThreadState copied at once: the fields the sampler reads
 * there (thread id, current frame or cframe, base frame) lie within its
 * first 192 bytes in every version; a row whose fields do not is read
 * field by field.
 */
#define GP_TSTATE_HDR 192

struct gp_scratch {
	struct gp_sample sample;
	__u8 tstate_hdr[GP_TSTATE_HDR]; /* the thread state being walked */
	struct gp_native native;
	__u64 kernel[GP_MAX_KERNEL_FRAMES];
	__u8 stack[GP_MAX_STACK_BYTES + GP_STACK_PAGE]; /* + slack: copied by pages */
};

/*
 * Counters of the sampling program, one per reason (per-CPU array). Every
 * early exit has its own; user space prints non-zero totals with advice.
 */
enum gp_counter {
	GP_CNT_OTHER_TASK = 0,   /* program ran for a task outside the target */
	GP_CNT_SAMPLES,          /* program ran for a target thread */
	GP_CNT_EMITTED,          /* records written to the ring buffer */
	GP_CNT_RB_FULL,          /* ring buffer full: sample lost */
	GP_CNT_NO_SCRATCH,       /* per-CPU scratch lookup failed */
	GP_CNT_NO_TSTATE,        /* thread has no PyThreadState (yet) */
	GP_CNT_TSTATE_SCAN_LIMIT,/* thread list longer than GP_MAX_THREAD_SCAN */
	GP_CNT_TSTATE_READ_FAULT,/* thread list unreadable */
	GP_CNT_NO_FRAME,         /* no Python frame on the thread */
	GP_CNT_WALK_READ_FAULT,
	GP_CNT_WALK_BAD_CODE,    /* frames skipped: code is not a code object */
	GP_CNT_WALK_LOOP,
	GP_CNT_WALK_DEPTH,
	GP_CNT_WALK_GARBAGE,     /* walks ended by garbage frames */
	GP_CNT_NATIVE_VMA_BUSY,  /* no native stack: bpf_find_vma -EBUSY */
	GP_CNT_NATIVE_NO_VMA,    /* no native stack: sp not in a mapping */
	GP_CNT_NATIVE_VMA_ERROR, /* no native stack: other bpf_find_vma error */
	GP_CNT_NATIVE_READ_FAULT,/* no native stack: no page of it readable */
	GP_CNT_NATIVE_HOLES,     /* stack copy has zero-filled pages (not present) */
	GP_CNT_NATIVE_CUT,       /* stack copy cut at stack_bytes */
	GP_CNT_KSTACK_FAULT,     /* bpf_get_stack failed */
	GP_CNT_GIL_UNKNOWN,      /* GIL address not known yet: state not decided */
	GP_CNT_SWITCH_OTHER,     /* sched_switch between tasks outside the target */
	GP_CNT_SWITCH_OUT,       /* target thread left the CPU: stack recorded */
	GP_CNT_SWITCH_IN,        /* target thread came on a CPU */
	GP_CNT_THREAD_EXIT,      /* target thread switched out for the last time(s) */
	GP_CNT_SNAPSHOT,         /* threads recorded by the start snapshot */
	GP_CNT_ITER_OTHER,       /* iterator visited a task outside the target */
	GP_CNT_PROC_OTHER,       /* fork/exec/exit of a process not profiled */
	GP_CNT_FORK,             /* a profiled process forked */
	GP_CNT_FORK_FULL,        /* ... and its child could not be followed: procs map full */
	GP_CNT_EXEC,             /* a profiled process exec'd: no longer sampled until found again */
	GP_CNT_PROC_EXIT,        /* a profiled process exited */
	GP_CNT_GIL_ACQUIRED,     /* GIL acquisitions recorded (timeline) */
	GP_CNT_GIL_RELEASED,     /* GIL releases recorded */
	GP_CNT_GIL_OTHER,        /* GIL probe hit outside the target */
	GP_CNT_GIL_NOT_MAIN,     /* not the main GIL changing hands: another
				    interpreter's GIL, or gil->locked set to
				    neither 0 nor 1 (created, destroyed) */
	GP_CNT_GIL_NO_SLOT,      /* hand-off sent without its stack: the CPU's
				    stack slot was in use (preempted probe) */
	GP_CNT_BLAME,            /* waiting records followed by their GIL holder's */
	GP_CNT_BLAME_NO_HOLDER,  /* ... nobody held the GIL then (a hand-off under way) */
	GP_CNT_BLAME_UNREADABLE, /* ... the GIL could not be read */
	GP_CNT_KFIELD_FALLBACK,  /* a kernel field gil-prof reads is missing: a
				    fallback answered (bpf/kcompat.bpf.h) */
	GP_CNT_HOST_PROC,        /* fork/exec of any process reported (agent discovery) */
	GP_CNT_WALK_NO_BASE,     /* walks whose chain ended before the base frame */
	GP_CNT_CODE_MEMO_HIT,    /* frames whose code object was not read again:
				    found valid by this CPU's walks just before */
	GP_CNT__MAX,
};

#endif /* GILPROF_H */
