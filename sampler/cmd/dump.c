// SPDX-License-Identifier: BSD-2-Clause
/*
 * dump.c — the `dump` command: every thread's stack and GIL state once.
 *
 * It is a short wall-mode session of the one sampler: the start snapshot
 * (a task iterator) reads the stack and GIL state of every thread off CPU,
 * and a thread on a CPU is caught by its first CPU sample (or its next
 * switch-out). What the kernel says about each blocked thread (its
 * syscall, wchan and kernel stack under /proc) is read first, before the
 * sampler or --pause touches it. --pause stops every thread with ptrace
 * (PTRACE_SEIZE + PTRACE_INTERRUPT) so that all are read at one moment,
 * and lets them go as soon as the sampler has them, on every path; if
 * gil-prof dies meanwhile, the kernel detaches them.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "../../output/dump.h"
#include "../common/exitcodes.h"
#include "../common/gp_log.h"
#include "../record/privileges.h"
#include "../record/processes.h"
#include "../record/session.h"
#include "../target/target.h"
#include "../target/pythreads.h"
#include "../../unwind/pylocals.h"
#include "../common/gp_clock.h"

/* Samples per second while waiting for the threads on a CPU. */
#define DUMP_RATE_HZ 997
/* How long threads on a CPU may take to be sampled. */
#define DUMP_WAIT_NS (2ULL * 1000 * 1000 * 1000)
/* How long a thread may take to stop for --pause. */
#define PAUSE_WAIT_NS (1ULL * 1000 * 1000 * 1000)
#define MAX_THREADS 4096

struct dumper {
	struct gp_dump d;
	size_t cap;
	size_t unseen;             /* listed threads the sampler has not reported yet */
	pid_t *paused;             /* --pause: threads seized */
	size_t npaused;
	uint64_t paused_ns;        /* when stopping them began */
	uint64_t stopped_ns;       /* when all were stopped: older records are not the dump */
	bool native;               /* --native with --pause: unwind the stopped threads too */
	struct gp_sample **raw;    /* ... their records (header and Python frames), by thread */
	size_t *raw_size;
	struct gp_target *t;
	bool locals;               /* --locals: read the stopped threads' frames */
};

/* x86-64 syscall numbers a blocked Python thread is typically in. */
static const struct {
	int nr;
	const char *name;
	enum gp_wait_kind kind;
} syscalls[] = {
	{ 0, "read", GP_WAIT_READ },           { 1, "write", GP_WAIT_WRITE },
	{ 7, "poll", GP_WAIT_POLL },           { 17, "pread64", GP_WAIT_READ },
	{ 19, "readv", GP_WAIT_READ },         { 20, "writev", GP_WAIT_WRITE },
	{ 23, "select", GP_WAIT_SELECT },      { 34, "pause", GP_WAIT_SIGNAL },
	{ 35, "nanosleep", GP_WAIT_SLEEP },    { 42, "connect", GP_WAIT_CONNECT },
	{ 43, "accept", GP_WAIT_ACCEPT },      { 44, "sendto", GP_WAIT_WRITE },
	{ 45, "recvfrom", GP_WAIT_READ },      { 46, "sendmsg", GP_WAIT_WRITE },
	{ 47, "recvmsg", GP_WAIT_READ },       { 61, "wait4", GP_WAIT_CHILD },
	{ 128, "rt_sigtimedwait", GP_WAIT_SIGNAL },
	{ 130, "rt_sigsuspend", GP_WAIT_SIGNAL },
	{ 202, "futex", GP_WAIT_LOCK },        { 230, "clock_nanosleep", GP_WAIT_SLEEP },
	{ 232, "epoll_wait", GP_WAIT_EPOLL },  { 247, "waitid", GP_WAIT_CHILD },
	{ 270, "pselect6", GP_WAIT_SELECT },   { 271, "ppoll", GP_WAIT_POLL },
	{ 281, "epoll_pwait", GP_WAIT_EPOLL }, { 288, "accept4", GP_WAIT_ACCEPT },
	{ 299, "recvmmsg", GP_WAIT_READ },     { 307, "sendmmsg", GP_WAIT_WRITE },
	{ 441, "epoll_pwait2", GP_WAIT_EPOLL },
	{ 449, "futex_waitv", GP_WAIT_LOCK },
};

static void read_syscall(struct gp_dump_thread *th)
{
	char path[96], buf[256];
	unsigned long long arg0 = 0;
	int nr;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", (int)th->pid, (int)th->tid);
	if (gp_read_proc(path, buf, sizeof(buf)) <= 0 || !strncmp(buf, "running", 7))
		return;
	if (sscanf(buf, "%d %llx", &nr, &arg0) < 1 || nr < 0) {
		th->wait = GP_WAIT_OTHER; /* blocked in the kernel, outside a syscall */
		return;
	}
	th->wait = GP_WAIT_OTHER;
	snprintf(th->syscall, sizeof(th->syscall), "syscall %d", nr);
	for (size_t i = 0; i < sizeof(syscalls) / sizeof(syscalls[0]); i++) {
		if (syscalls[i].nr != nr)
			continue;
		snprintf(th->syscall, sizeof(th->syscall), "%s", syscalls[i].name);
		th->wait = syscalls[i].kind;
	}
	if (th->wait == GP_WAIT_LOCK)
		th->futex = arg0;
	/* select() on no descriptor is how time.sleep() waits before 3.11. */
	if (th->wait == GP_WAIT_SELECT && arg0 == 0)
		th->wait = GP_WAIT_SLEEP;
}

/* The kernel's stack of a blocked thread, innermost first ("[<0>] f+0x1/0x2"). */
static void read_kernel_stack(struct gp_dump_thread *th)
{
	char path[96], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stack", (int)th->pid, (int)th->tid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (th->nkernel < GP_DUMP_KFRAMES && fgets(line, sizeof(line), f)) {
		char *sym = strchr(line, ']');

		sym = sym ? sym + 1 : line;
		sym += strspn(sym, " ");
		sym[strcspn(sym, "\n")] = '\0';
		if (*sym && !(th->kernel[th->nkernel] = strdup(sym)))
			break;
		if (*sym)
			th->nkernel++;
	}
	fclose(f);
}

/* What /proc says about one thread, before anything stops it. */
static void read_thread(struct gp_dump_thread *th, bool kernel)
{
	char path[96], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)th->pid, (int)th->tid);
	if (gp_read_proc(path, buf, sizeof(buf)) > 0 && (p = strrchr(buf, ')')) && p[1] && p[2])
		th->sched = p[2];
	gp_target_thread_name(th->pid, th->tid, th->name, sizeof(th->name));
	if (th->sched == 'R')
		return;
	snprintf(path, sizeof(path), "/proc/%d/task/%d/wchan", (int)th->pid, (int)th->tid);
	if (gp_read_proc(path, th->wchan, sizeof(th->wchan)) > 0 && !strcmp(th->wchan, "0"))
		th->wchan[0] = '\0';
	read_syscall(th);
	if (kernel)
		read_kernel_stack(th);
}

static struct gp_dump_thread *add_thread(struct dumper *dp, pid_t pid, pid_t tid)
{
	struct gp_dump_thread *th;

	if (dp->d.nthreads == dp->cap) {
		size_t cap = dp->cap ? dp->cap * 2 : 64;
		struct gp_dump_thread *t;

		if (cap > MAX_THREADS)
			return NULL;
		t = realloc(dp->d.threads, cap * sizeof(*t));
		if (!t)
			return NULL;
		dp->d.threads = t;
		dp->cap = cap;
	}
	th = &dp->d.threads[dp->d.nthreads++];
	memset(th, 0, sizeof(*th));
	th->pid = pid;
	th->tid = tid;
	dp->unseen++;
	return th;
}

/* Every thread of pid, main thread first. */
static void list_threads(struct dumper *dp, pid_t pid, bool kernel)
{
	char path[64];
	struct dirent *de;
	size_t first = dp->d.nthreads;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		struct gp_dump_thread *th;
		int tid = atoi(de->d_name);

		if (tid <= 0)
			continue;
		th = add_thread(dp, pid, tid);
		if (!th) {
			gp_warn("process %d: only the first %zu threads are dumped", (int)pid,
				dp->d.nthreads);
			break;
		}
		read_thread(th, kernel);
		/* The main thread leads its process. */
		if (tid == pid && th != &dp->d.threads[first]) {
			struct gp_dump_thread tmp = *th;

			*th = dp->d.threads[first];
			dp->d.threads[first] = tmp;
		}
	}
	closedir(d);
}

static struct gp_dump_thread *find(struct dumper *dp, pid_t tid)
{
	for (size_t i = 0; i < dp->d.nthreads; i++)
		if (dp->d.threads[i].tid == tid)
			return &dp->d.threads[i];
	return NULL;
}

/* --pause --native: a stopped thread's record, for its native frames. */
static void keep_raw(struct dumper *dp, size_t i, const struct gp_session_stack *st)
{
	if (!dp->native || !dp->raw || st->type != GP_EV_OFF_CPU || !st->raw)
		return;
	dp->raw[i] = malloc(st->raw_size);
	if (!dp->raw[i])
		return;
	memcpy(dp->raw[i], st->raw, st->raw_size);
	dp->raw_size[i] = st->raw_size;
}

/* The sampler's first stack of each listed thread is its dump. */
static void on_stack(void *ctx, const struct gp_session_stack *st)
{
	struct dumper *dp = ctx;
	struct gp_dump_thread *th = find(dp, st->thread->tid);
	uint32_t *locs;

	if (!th || th->seen || (st->type != GP_EV_SAMPLE && st->type != GP_EV_OFF_CPU) ||
	    st->ts < dp->stopped_ns)
		return;
	locs = st->n ? malloc(st->n * sizeof(*locs)) : NULL;
	if (st->n && !locs)
		return;
	if (st->n)
		memcpy(locs, st->locs, st->n * sizeof(*locs));
	th->locs = locs;
	th->n = st->n;
	th->state = st->state;
	th->walk_end = st->walk_end;
	th->on_cpu = st->type == GP_EV_SAMPLE;
	th->seen = true;
	keep_raw(dp, (size_t)(th - dp->d.threads), st);
	if (th->state == GP_STATE_WAITING)
		th->wait = GP_WAIT_GIL;
	dp->unseen--;
}

/* --pause: stop every listed thread (they resume in resume_all). */
static int pause_all(struct dumper *dp)
{
	uint64_t deadline;

	dp->paused = calloc(dp->d.nthreads ? dp->d.nthreads : 1, sizeof(*dp->paused));
	if (!dp->paused)
		return GP_EXIT_FAILURE;
	for (size_t i = 0; i < dp->d.nthreads; i++) {
		pid_t tid = dp->d.threads[i].tid;

		if (ptrace(PTRACE_SEIZE, tid, 0, 0)) {
			gp_warn("cannot stop thread %d: %s", (int)tid, strerror(errno));
			continue;
		}
		dp->paused[dp->npaused++] = tid;
		if (ptrace(PTRACE_INTERRUPT, tid, 0, 0))
			gp_debug("PTRACE_INTERRUPT %d: %s", (int)tid, strerror(errno));
	}
	/* Each stops at its next return to user mode or in its sleep. */
	dp->paused_ns = gp_mono_ns();
	deadline = dp->paused_ns + PAUSE_WAIT_NS;
	for (size_t i = 0; i < dp->npaused; i++) {
		int status;

		while (waitpid(dp->paused[i], &status, __WALL | WNOHANG) == 0) {
			if (gp_mono_ns() > deadline) {
				gp_warn("thread %d did not stop (uninterruptible?): read running",
					(int)dp->paused[i]);
				break;
			}
			usleep(1000);
		}
	}
	dp->stopped_ns = gp_mono_ns();
	return 0;
}

static void resume_all(struct dumper *dp)
{
	for (size_t i = 0; i < dp->npaused; i++)
		if (ptrace(PTRACE_DETACH, dp->paused[i], 0, 0) && errno != ESRCH)
			gp_warn("cannot resume thread %d: %s", (int)dp->paused[i], strerror(errno));
	if (dp->npaused)
		gp_debug("%zu threads resumed after %.1f ms", dp->npaused,
			 (gp_mono_ns() - dp->paused_ns) / 1e6);
	dp->npaused = 0;
}

/* The thread holding its process's GIL, for those waiting for it. */
static void link_holders(struct gp_dump *d)
{
	for (size_t i = 0; i < d->nthreads; i++) {
		struct gp_dump_thread *w = &d->threads[i];

		if (w->state != GP_STATE_WAITING)
			continue;
		for (size_t j = 0; j < d->nthreads; j++)
			if (d->threads[j].pid == w->pid && d->threads[j].state == GP_STATE_HOLDING)
				w->holder = d->threads[j].tid;
	}
}

/* Python's names for the threads, as the session found them at its end. */
static void name_threads(struct gp_dump *d, const struct gp_profile *prof)
{
	for (size_t i = 0; i < prof->nthreads; i++) {
		const struct gp_thread *pt = prof->threads[i];

		for (size_t j = 0; j < d->nthreads; j++)
			if (d->threads[j].tid == pt->tid && pt->name[0])
				snprintf(d->threads[j].name, sizeof(d->threads[j].name), "%s",
					 pt->name);
	}
}

static void free_dump(struct dumper *dp)
{
	for (size_t i = 0; i < dp->d.nthreads; i++) {
		free(dp->d.threads[i].locs);
		gp_pylocals_free(dp->d.threads[i].frames, dp->d.threads[i].nframes);
		free(dp->d.threads[i].frames);
		free(dp->d.threads[i].vars);
		for (size_t k = 0; k < dp->d.threads[i].nkernel; k++)
			free(dp->d.threads[i].kernel[k]);
	}
	free(dp->d.threads);
	free(dp->paused);
	for (size_t i = 0; dp->raw && i < dp->d.nthreads; i++)
		free(dp->raw[i]);
	free(dp->raw);
	free(dp->raw_size);
}

/* Bytes of pid's memory at addr, page by page until one is unreadable. */
static size_t read_stack(pid_t pid, uint64_t addr, uint8_t *dst, size_t len)
{
	size_t got = 0;

	while (got < len) {
		size_t chunk = GP_STACK_PAGE - ((addr + got) & (GP_STACK_PAGE - 1));
		struct iovec local, remote;

		if (chunk > len - got)
			chunk = len - got;
		local.iov_base = dst + got;
		local.iov_len = chunk;
		remote.iov_base = (void *)(uintptr_t)(addr + got);
		remote.iov_len = chunk;
		if (process_vm_readv(pid, &local, 1, &remote, 1, 0) != (ssize_t)chunk)
			break;
		got += chunk;
	}
	return got;
}

/*
 * A stopped thread's native stack: its user registers (ptrace) and a copy
 * of its stack, appended to its snapshot record as the BPF program does
 * for a CPU sample, and unwound by the same code (gp_session_symbolize).
 */
static void unwind_stopped(struct dumper *dp, struct gp_session *s, size_t i, uint32_t stack_bytes)
{
	struct gp_dump_thread *th = &dp->d.threads[i];
	size_t head = dp->raw_size[i], size;
	struct user_regs_struct regs;
	struct gp_native *nat;
	struct gp_sample *rec;
	uint32_t locs[GP_STACK_MAX], n;
	uint8_t probe;

	if (ptrace(PTRACE_GETREGS, th->tid, 0, &regs))
		return;
	rec = malloc(head + sizeof(*nat) + stack_bytes);
	if (!rec)
		return;
	memcpy(rec, dp->raw[i], head);
	rec->flags |= GP_SAMPLE_HAS_NATIVE;
	nat = (struct gp_native *)((uint8_t *)rec + head);
	memset(nat, 0, sizeof(*nat));
	/* DWARF x86-64 order: rax rdx rcx rbx rsi rdi rbp rsp r8-r15 rip. */
	nat->regs[0] = regs.rax;
	nat->regs[1] = regs.rdx;
	nat->regs[2] = regs.rcx;
	nat->regs[3] = regs.rbx;
	nat->regs[4] = regs.rsi;
	nat->regs[5] = regs.rdi;
	nat->regs[6] = regs.rbp;
	nat->regs[7] = regs.rsp;
	nat->regs[8] = regs.r8;
	nat->regs[9] = regs.r9;
	nat->regs[10] = regs.r10;
	nat->regs[11] = regs.r11;
	nat->regs[12] = regs.r12;
	nat->regs[13] = regs.r13;
	nat->regs[14] = regs.r14;
	nat->regs[15] = regs.r15;
	nat->regs[16] = regs.rip;
	nat->status = GP_NATIVE_OK;
	nat->stack_len = (uint32_t)read_stack(th->pid, regs.rsp, (uint8_t *)(nat + 1), stack_bytes);
	if (!nat->stack_len)
		nat->status = GP_NATIVE_READ_FAULT;
	else if (nat->stack_len == stack_bytes &&
		 read_stack(th->pid, regs.rsp + stack_bytes, &probe, 1))
		nat->flags |= GP_NATIVE_CUT;
	size = head + sizeof(*nat) + nat->stack_len;
	n = gp_session_symbolize(s, rec, size, locs);
	free(rec);
	if (!n)
		return;
	free(th->locs);
	th->locs = malloc(n * sizeof(*locs));
	th->n = th->locs ? n : 0;
	if (th->locs)
		memcpy(th->locs, locs, n * sizeof(*locs));
}

static void unwind_all_stopped(struct dumper *dp, struct gp_session *s, uint32_t stack_bytes)
{
	for (size_t i = 0; dp->raw && i < dp->d.nthreads; i++) {
		if (dp->raw[i])
			unwind_stopped(dp, s, i, stack_bytes);
		free(dp->raw[i]);
		dp->raw[i] = NULL;
	}
}

/*
 * --locals: while the threads are stopped, walk each one's frame chain in
 * user space (the BPF records keep no frame addresses) and read the
 * variables of its frames. Only threads of the process itself: the
 * descendants have runtimes of their own.
 */
static void read_locals(struct dumper *dp)
{
	struct gp_pyframe_vars buf[GP_LOCALS_FRAMES];
	struct gp_pyobj r;
	pid_t pid;

	if (!dp->locals || !dp->t->objects)
		return;
	pid = dp->t->pid;
	r.L = dp->t->layout;
	r.O = dp->t->objects;
	r.mem = gp_mem_process(&pid);
	for (size_t i = 0; i < dp->d.nthreads; i++) {
		struct gp_dump_thread *th = &dp->d.threads[i];
		struct user_regs_struct regs;
		uint64_t self = 0;
		size_t n;

		if (th->pid != pid)
			continue;
		/* x86-64: pthread_self() is the thread pointer, fs_base. */
		if (!ptrace(PTRACE_GETREGS, th->tid, 0, &regs))
			self = regs.fs_base;
		n = gp_pylocals_read(&r, dp->t->runtime, gp_ns_tid(th->pid, th->tid), self, buf,
				     GP_LOCALS_FRAMES);
		th->frames = n ? malloc(n * sizeof(*buf)) : NULL;
		if (!th->frames) {
			gp_pylocals_free(buf, n);
			continue;
		}
		memcpy(th->frames, buf, n * sizeof(*buf));
		th->nframes = n;
	}
}

/*
 * Pair the frames read with the sampler's stack: both innermost first, a
 * Python location takes the next frame of the same code name and first
 * line (a frame the walks disagree on is passed over, never guessed).
 */
static void match_locals(struct gp_dump_thread *th, const struct gp_profile *p)
{
	size_t next = 0;

	if (!th->nframes || !th->n || !(th->vars = calloc(th->n, sizeof(*th->vars))))
		return;
	for (uint32_t i = th->n; i-- > 0 && next < th->nframes;) {
		const struct gp_function *f = gp_func(p, gp_loc(p, th->locs[i])->func);

		if (f->kind != GP_FUNC_PYTHON)
			continue;
		for (size_t k = next; k < th->nframes; k++) {
			const struct gp_pyframe_vars *fr = &th->frames[k];

			if (!strcmp(fr->name, f->system_name ? f->system_name : f->name) &&
			    (f->start_line <= 0 || f->start_line == fr->firstlineno)) {
				th->vars[i] = &th->frames[k];
				next = k + 1;
				break;
			}
		}
	}
}

/*
 * --pause: with the sampler loaded (and its start snapshot drained), stop
 * the threads and read them again, so they are stopped only for that.
 */
static int paused_snapshot(struct dumper *dp, struct gp_session *s)
{
	int rc;

	gp_session_poll(s, 0);
	rc = pause_all(dp);
	if (!rc)
		read_locals(dp);
	if (!rc)
		rc = gp_session_snapshot(s);
	return rc;
}

/* Sample until every listed thread was seen (or the wait is over). */
static int collect(struct dumper *dp, struct gp_options *o, struct gp_target *t,
		   struct gp_profile *prof)
{
	struct gp_session_result res;
	struct gp_session *s;
	uint64_t deadline;
	int rc;

	rc = gp_session_start(o, t, prof, &s);
	if (rc)
		return rc;
	if (o->subprocesses)
		gp_session_add_descendants(s);
	if (o->pause && (rc = paused_snapshot(dp, s)))
		goto out;
	dp->native = o->pause && o->native;
	if (dp->native) {
		dp->raw = calloc(dp->d.nthreads + 1, sizeof(*dp->raw));
		dp->raw_size = calloc(dp->d.nthreads + 1, sizeof(*dp->raw_size));
	}
	gp_session_observe(s, on_stack, dp);
	deadline = gp_mono_ns() + DUMP_WAIT_NS;
	while (dp->unseen && gp_mono_ns() < deadline) {
		if (gp_session_poll(s, 10))
			break;
		/* Stopped threads are all in the snapshot, read at this first poll. */
		if (dp->native)
			unwind_all_stopped(dp, s, o->stack_bytes);
		resume_all(dp);
	}
	unwind_all_stopped(dp, s, o->stack_bytes);
out:
	resume_all(dp);
	gp_session_observe(s, NULL, NULL);
	if (dp->unseen)
		gp_debug("%zu threads not seen by the sampler", dp->unseen);
	if (gp_session_stop(s, &res) && !rc)
		rc = GP_EXIT_FAILURE;
	gp_session_free(s);
	return rc;
}

int gp_cmd_dump(struct gp_options *o)
{
	pid_t pids[GP_MAX_PROCS], ppids[GP_MAX_PROCS];
	struct dumper dp = { 0 };
	struct gp_profile prof;
	struct gp_target t;
	size_t nkids = 0;
	int rc;

	rc = gp_require_privileges();
	if (rc)
		return rc;
	rc = gp_target_attach(o->pid, &t);
	if (rc) {
		gp_target_close(&t);
		return rc;
	}
	o->rate_hz = DUMP_RATE_HZ;
	gp_profile_init(&prof);
	list_threads(&dp, t.pid, o->kernel);
	if (o->subprocesses)
		nkids = gp_list_descendants(t.pid, pids, ppids, GP_MAX_PROCS);
	for (size_t i = 0; i < nkids; i++)
		list_threads(&dp, pids[i], o->kernel);
	dp.d.paused = o->pause;
	dp.t = &t;
	dp.locals = o->locals;
	rc = collect(&dp, o, &t, &prof);
	if (rc)
		goto out;
	link_holders(&dp.d);
	name_threads(&dp.d, &prof);
	dp.d.prof = &prof;
	dp.d.pid = t.pid;
	dp.d.kernel = o->kernel;
	dp.d.locals = o->locals;
	for (size_t i = 0; o->locals && i < dp.d.nthreads; i++)
		match_locals(&dp.d.threads[i], &prof);
	if ((o->json ? gp_dump_write_json : gp_dump_write_text)(&dp.d, stdout)) {
		gp_error("cannot write the dump: %s", strerror(errno));
		rc = GP_EXIT_OUTPUT;
	}
out:
	resume_all(&dp);
	free_dump(&dp);
	gp_profile_free(&prof);
	gp_target_close(&t);
	return rc;
}
