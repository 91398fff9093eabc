/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_DUMP_H
#define GP_DUMP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "../sampler/account/profile.h"
#include "../unwind/pylocals.h"

/*
 * What `gil-prof dump` found: every thread of the process (and of its
 * descendants), its GIL state and its stack at one moment. Stacks are
 * location ids of prof (the sampler's profile), root first, as the
 * profile keeps them; the writers print them innermost first.
 */

/* What a thread off CPU waits in, from its syscall and the GIL state. */
enum gp_wait_kind {
	GP_WAIT_NONE = 0,        /* on a CPU, or runnable */
	GP_WAIT_GIL,             /* the GIL's futex */
	GP_WAIT_LOCK,            /* another futex: a lock, a condition, a queue */
	GP_WAIT_SELECT,
	GP_WAIT_POLL,
	GP_WAIT_EPOLL,
	GP_WAIT_SLEEP,
	GP_WAIT_READ,
	GP_WAIT_WRITE,
	GP_WAIT_ACCEPT,
	GP_WAIT_CONNECT,
	GP_WAIT_CHILD,           /* wait4, waitid */
	GP_WAIT_SIGNAL,          /* pause, sigsuspend, sigtimedwait */
	GP_WAIT_OTHER,           /* another syscall, or in the kernel */
	GP_WAIT__MAX,
};

const char *gp_wait_name(enum gp_wait_kind k);

#define GP_DUMP_KFRAMES 64

struct gp_dump_thread {
	pid_t pid, tid;
	char name[64];
	char sched;              /* /proc state letter: R, S, D, T, t, Z */
	bool on_cpu;             /* caught by a CPU sample (running) */
	bool seen;               /* the sampler reported it */
	enum gp_gil_state state;
	pid_t holder;            /* waiting: the thread holding the GIL, 0 if none seen */
	enum gp_wait_kind wait;
	char syscall[24];        /* "futex", "" when not in one */
	char wchan[64];          /* the kernel function it sleeps in, "" if none */
	uint64_t futex;          /* GP_WAIT_GIL / _LOCK: the futex's address */
	uint16_t walk_end;       /* enum gp_walk_end of its Python stack */
	uint32_t n;
	uint32_t *locs;          /* root first */
	size_t nkernel;          /* --kernel, off CPU: /proc/PID/task/TID/stack */
	char *kernel[GP_DUMP_KFRAMES]; /* innermost first */
	struct gp_pyframe_vars *frames; /* --locals: its Python frames, innermost first */
	size_t nframes;
	struct gp_pyframe_vars **vars;  /* --locals: per locs[i], its frame's or NULL */
};

struct gp_dump {
	const struct gp_profile *prof;
	pid_t pid;
	bool paused;             /* --pause: every thread stopped while read */
	bool kernel;             /* kernel frames were asked for */
	bool locals;             /* --locals */
	struct gp_dump_thread *threads;
	size_t nthreads;
};

/* The dump as text (README, "dump") or as one JSON document (dump.schema.json). */
int gp_dump_write_text(const struct gp_dump *d, FILE *out);
int gp_dump_write_json(const struct gp_dump *d, FILE *out);

#endif
