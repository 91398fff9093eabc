/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_PROFILE_H
#define GP_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uthash.h>

/*
 * The aggregated profile every output writer reads: interned functions and
 * locations (pprof's model), threads, and distinct stacks with their counts.
 */

enum gp_gil_state {
	GP_STATE_NONE = 0,  /* not determined (mode without GIL tracking) */
	GP_STATE_HOLDING,
	GP_STATE_WAITING,
	GP_STATE_RELEASED,
	GP_STATE_IDLE,
	GP_STATE_NOGIL,     /* free-threaded interpreter */
	GP_STATE__MAX,
};

const char *gp_state_name(enum gp_gil_state s);

/* What a recording covered. */
enum gp_mode {
	GP_MODE_WALL = 0,   /* every thread's whole lifetime, on and off CPU */
	GP_MODE_CPU,        /* on-CPU samples only */
};

const char *gp_mode_name(enum gp_mode m);

enum gp_func_kind {
	GP_FUNC_PYTHON = 0,
	GP_FUNC_NATIVE,
	GP_FUNC_KERNEL,
	GP_FUNC_MARKER,     /* made up by gil-prof: "[truncated ...]" and the like */
};

struct gp_function {
	uint32_t id;           /* 1-based, index + 1 in gp_profile.functions */
	uint8_t kind;          /* enum gp_func_kind */
	char *name;            /* shown name (qualified where known) */
	char *system_name;     /* raw name (co_name, mangled symbol) */
	char *filename;        /* source file or module; may be "" */
	int32_t start_line;
	char *key;             /* interning key */
	UT_hash_handle hh;
};

struct gp_location {
	uint32_t id;           /* 1-based */
	uint32_t func;
	int32_t line;          /* 0 = unknown */
	uint64_t address;      /* native PC, 0 for Python frames */
	uint32_t mapping;      /* 0 = none */
	UT_hash_handle hh;
};

struct gp_mapping {
	uint32_t id;           /* 1-based */
	uint64_t start, limit, offset;
	char *filename;
	char *build_id;        /* hex, may be "" */
};

struct gp_thread {
	uint32_t idx;          /* position in gp_profile.threads */
	pid_t pid, tid;        /* host ids */
	char name[64];         /* "" if none */
	uint64_t samples[GP_STATE__MAX];
	/* first and last sample; in wall mode, the lifetime in the recording */
	uint64_t first_ns, last_ns;
	UT_hash_handle hh;
};

/*
 * A process whose threads are in the profile: the target and, with
 * --subprocesses, its children. Text is the target's: writers clean it.
 */
struct gp_process {
	pid_t pid, ppid;       /* host ids; ppid 0 for the target itself */
	char comm[64];
	char cmdline[256];     /* its arguments joined by spaces (cut), as /proc shows them */
};

struct gp_timeline;
struct gp_blames;

struct gp_stack {
	uint32_t thread;       /* index into gp_profile.threads */
	uint8_t state;         /* enum gp_gil_state */
	uint8_t gc;            /* a collection was running */
	uint32_t n;
	uint32_t *locs;        /* location ids, root first */
	uint64_t samples;      /* count (equivalent samples in wall mode) */
	uint64_t wall_ns;
	uint64_t cpu_ns;
	uint64_t pending_ns;   /* wall mode: time still to be turned into samples */
	uint64_t raw_samples;  /* wall mode: CPU-clock samples, to share the thread's on-CPU time */
	uint64_t unsampled_ns; /* wall mode: runs ended here, used if the thread has no samples */
	void *key;
	size_t keylen;
	UT_hash_handle hh;
};

struct gp_profile {
	struct gp_function **functions;
	size_t nfunctions, cap_functions;
	struct gp_location **locations;
	size_t nlocations, cap_locations;
	struct gp_mapping **mappings;
	size_t nmappings, cap_mappings;
	struct gp_thread **threads;
	size_t nthreads, cap_threads;
	struct gp_stack **stacks;
	size_t nstacks, cap_stacks;
	struct gp_process **procs;
	size_t nprocs, cap_procs;

	struct gp_function *func_index;
	struct gp_location *loc_index;
	struct gp_thread *thread_index;
	struct gp_stack *stack_index;

	/* what the recording was */
	pid_t pid;
	enum gp_mode mode;
	unsigned int rate_hz;
	uint64_t period_ns;
	uint64_t start_unix_ns;     /* wall-clock start */
	uint64_t duration_ns;
	uint64_t samples;           /* samples aggregated */
	uint64_t lost;              /* samples lost in the kernel */
	bool gil_tracked;           /* stacks carry GIL states */
	bool contention_known;      /* gil_contended_ns was measured (wall mode) */
	uint64_t gil_contended_ns;  /* wall time in which >= 1 thread waited for the GIL */
	char python_version[32];
	char comm[64];              /* target's command name */
	bool multiprocess;          /* --subprocesses: stacks are labelled by process */
	char *comments[16];
	int ncomments;
	struct gp_timeline *timeline; /* the GIL timeline, when one was traced (owned) */
	struct gp_blames *blames;     /* who held the GIL while others waited (owned, blame.h) */
	bool gil_switches_known;      /* the GIL's own switch counter was read at start and stop */
	uint64_t gil_switches;        /* its increase: acquisitions by another thread */
	uint64_t gil_switches_ns;     /* over this time */
};

void gp_profile_init(struct gp_profile *p);
void gp_profile_free(struct gp_profile *p);

/* Interning: the same arguments give the same id. 0 on allocation failure. */
uint32_t gp_profile_function(struct gp_profile *p, enum gp_func_kind kind, const char *name,
			     const char *system_name, const char *filename, int32_t start_line);
uint32_t gp_profile_location(struct gp_profile *p, uint32_t func, int32_t line,
			     uint64_t address, uint32_t mapping);
uint32_t gp_profile_mapping(struct gp_profile *p, uint64_t start, uint64_t limit,
			    uint64_t offset, const char *filename, const char *build_id);

struct gp_thread *gp_profile_thread(struct gp_profile *p, pid_t pid, pid_t tid);

/* The process pid, made on first use (NULL on ENOMEM). */
struct gp_process *gp_profile_process(struct gp_profile *p, pid_t pid);
const struct gp_process *gp_profile_find_process(const struct gp_profile *p, pid_t pid);
/*
 * `process PID:"cmdline"` (py-spy's label; the command name when the
 * command line is unknown), raw: writers clean it for their format.
 */
void gp_profile_process_label(const struct gp_profile *p, pid_t pid, char *buf, size_t len);

/* Add counts to the stack (thread, state, gc, locs root first). -1 on ENOMEM. */
int gp_profile_add(struct gp_profile *p, uint32_t thread, enum gp_gil_state state, bool gc,
		   const uint32_t *locs, uint32_t n, uint64_t samples, uint64_t wall_ns,
		   uint64_t cpu_ns);

/*
 * The stack (thread, state, gc, locs root first), interned on first use.
 * NULL on ENOMEM.
 */
struct gp_stack *gp_profile_stack(struct gp_profile *p, uint32_t thread,
				  enum gp_gil_state state, bool gc, const uint32_t *locs,
				  uint32_t n);

/*
 * Wall mode: add ns of measured time to a stack (on CPU, or off CPU). Its
 * samples come later, from gp_profile_apportion(): many intervals are
 * shorter than a sampling period, so they are summed before they are
 * counted.
 */
void gp_profile_add_time(struct gp_stack *s, uint64_t ns, bool on_cpu);

/*
 * Turn the measured time of every stack into equivalent samples at the
 * sampling period. Per thread the total is rounded once and handed out by
 * largest remainder, so a thread's samples add up to its time x rate.
 * Call once, after the recording.
 */
int gp_profile_apportion(struct gp_profile *p);

void gp_profile_comment(struct gp_profile *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static inline const struct gp_location *gp_loc(const struct gp_profile *p, uint32_t id)
{
	return p->locations[id - 1];
}

static inline const struct gp_function *gp_func(const struct gp_profile *p, uint32_t id)
{
	return p->functions[id - 1];
}

/* A location's file: its function's, else (a native frame) its mapping's. */
static inline const char *gp_loc_file(const struct gp_profile *p, const struct gp_location *l)
{
	const char *file = gp_func(p, l->func)->filename;

	if (!file[0] && l->mapping && l->mapping <= p->nmappings)
		file = p->mappings[l->mapping - 1]->filename;
	return file;
}

/* Stacks sorted by thread, then samples (descending): stable output order. */
void gp_profile_sort_stacks(struct gp_profile *p);

#endif
