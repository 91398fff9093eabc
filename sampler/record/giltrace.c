// SPDX-License-Identifier: BSD-2-Clause
/*
 * giltrace.c — attaching the GIL transition programs (bpf/gilevents.h)
 * for a timeline: uprobes on take_gil/drop_gil where the interpreter has
 * their symbols, else a hardware write watchpoint on gil->locked in every
 * thread of the target. See giltrace.h for the costs.
 */
#define _GNU_SOURCE
#include "giltrace.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "../common/exitcodes.h"
#include "gilprof.skel.h"
#include "../common/gp_log.h"
#include "../account/grow.h"
#include "../../unwind/elfsyms.h"
#include "../../unwind/procmaps.h"

/* Passes over /proc/PID/task while threads keep appearing. */
#define MAX_THREAD_SCANS 16

enum { SYM_TAKE, SYM_DROP, SYM__MAX };

/* The reason the last call failed, for the caller to print. */
__attribute__((format(printf, 2, 3))) static void fail(struct gp_giltrace *g, const char *fmt,
							  ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(g->why, sizeof(g->why), fmt, ap);
	va_end(ap);
}

/* Only uprobes open the file: a zeroed, unused struct has no fd 0 to close. */
static void close_file(struct gp_giltrace *g)
{
	if (g->kind == GP_GIL_EVENTS_UPROBES && g->fd >= 0)
		close(g->fd);
	g->fd = -1;
}

/* File offset of a function, for attaching by offset in a path. */
static uint64_t file_offset(const struct gp_elf_sym *s)
{
	return s->value - s->seg_vaddr + s->seg_offset;
}

/*
 * take_gil and drop_gil are static: only a symbol table (.symtab) has
 * them. Found: the interpreter's file, open (opened as the other target
 * files are: through map_files or inside the target's root), a path to
 * it for the uprobes (/proc/self/fd/N reaches that very file), their
 * offsets, and true.
 */
static bool find_functions(struct gp_giltrace *g, const struct gp_target *t)
{
	struct gp_elf_sym syms[SYM__MAX] = { { .name = "take_gil" }, { .name = "drop_gil" } };
	struct gp_maps maps = { 0 };
	struct gp_elf_info info;
	bool found = false;

	if (gp_maps_read(t->pid, &maps))
		return false;
	for (size_t i = 0; i < maps.n; i++) {
		if (!maps.v[i].path || strcmp(maps.v[i].path, t->python_path))
			continue;
		g->fd = gp_maps_open(t->pid, &maps.v[i]);
		found = g->fd >= 0 && !gp_elf_lookup_fd(g->fd, syms, SYM__MAX, &info) &&
			syms[SYM_TAKE].found && syms[SYM_DROP].found;
		break;
	}
	gp_maps_free(&maps);
	if (!found) {
		if (g->fd >= 0)
			close(g->fd);
		g->fd = -1;
		return false;
	}
	snprintf(g->path, sizeof(g->path), "/proc/self/fd/%d", g->fd);
	g->take_off = file_offset(&syms[SYM_TAKE]);
	g->drop_off = file_offset(&syms[SYM_DROP]);
	return true;
}

int gp_giltrace_choose(struct gp_giltrace *g, const struct gp_target *t, enum gp_gil_trace want)
{
	memset(g, 0, sizeof(*g));
	g->fd = -1;
	g->pid = t->pid;
	if (want == GP_GIL_TRACE_WATCHPOINT) {
		g->kind = GP_GIL_EVENTS_WATCHPOINT;
		return 0;
	}
	if (find_functions(g, t)) {
		g->kind = GP_GIL_EVENTS_UPROBES;
		return 0;
	}
	if (want == GP_GIL_TRACE_UPROBES) {
		fail(g, "cannot trace the GIL with uprobes in process %d: %s has no take_gil and "
			 "drop_gil symbols (stripped?); use --gil-trace watchpoint",
			 (int)t->pid, t->python_path);
		return GP_EXIT_UNSUPPORTED;
	}
	g->kind = GP_GIL_EVENTS_WATCHPOINT;
	gp_debug("%s has no take_gil/drop_gil symbols: tracing the GIL with a watchpoint",
		 t->python_path);
	return 0;
}

const char *gp_giltrace_name(const struct gp_giltrace *g)
{
	return g->kind == GP_GIL_EVENTS_UPROBES ? "uprobes" : "watchpoint";
}

bool gp_giltrace_active(const struct gp_giltrace *g)
{
	return g->nlinks > 0;
}

static int keep_link(struct gp_giltrace *g, struct bpf_link *link)
{
	if (GP_GROW(g->links, g->nlinks, g->caplinks, 16)) {
		bpf_link__destroy(link);
		return -1;
	}
	g->links[g->nlinks++] = link;
	return 0;
}

static int attach_uprobe(struct gp_giltrace *g, struct bpf_program *prog, uint64_t off,
			 bool ret, const char *func)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = ret);
	struct bpf_link *link;

	/* pid: only the target's copy of the library gets the breakpoint. */
	link = bpf_program__attach_uprobe_opts(prog, g->pid, g->path, (size_t)off, &opts);
	if (!link) {
		int err = errno;

		fail(g, "cannot attach a uprobe to %s in %s: %s", func, g->path, strerror(err));
		return gp_exit_for_errno(err);
	}
	if (keep_link(g, link)) {
		fail(g, "out of memory");
		return GP_EXIT_FAILURE;
	}
	return 0;
}

/* ---- watchpoint -------------------------------------------------------- */

static bool watched(const struct gp_giltrace *g, pid_t tid)
{
	for (size_t i = 0; i < g->ntids; i++)
		if (g->tids[i] == tid)
			return true;
	return false;
}

/* One file descriptor per thread watched: allow as many as the hard limit. */
static bool raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= rl.rlim_max)
		return false;
	rl.rlim_cur = rl.rlim_max;
	return !setrlimit(RLIMIT_NOFILE, &rl);
}

static void watch_error(struct gp_giltrace *g, pid_t tid, int err)
{
	if (err == ENOSPC)
		fail(g, "cannot watch the GIL in thread %d of process %d: no free hardware "
			 "debug register (a debugger's watchpoints?)",
			 (int)tid, (int)g->pid);
	else if (err == ENOENT || err == ENODEV || err == EOPNOTSUPP || err == EINVAL)
		fail(g, "cannot watch the GIL in process %d: this machine has no hardware "
			 "watchpoints (%s); use --gil-trace uprobes with an interpreter that has "
			 "symbols",
			 (int)g->pid, strerror(err));
	else
		fail(g, "cannot watch the GIL in thread %d of process %d: %s", (int)tid,
			 (int)g->pid, strerror(err));
}

/*
 * A write watchpoint on the GIL's locked word in thread tid, inherited by
 * the threads it starts (but not by child processes, nor across exec).
 * 0, 1 if the thread is gone, or an exit code.
 */
static int watch_thread(struct gp_giltrace *g, struct gp_bpf *b, pid_t tid)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_BREAKPOINT,
		.size = sizeof(attr),
		.bp_type = HW_BREAKPOINT_W,
		.bp_addr = g->addr,
		.bp_len = HW_BREAKPOINT_LEN_4,
		.sample_period = 1,
		.exclude_kernel = 1,
		.exclude_hv = 1,
		.inherit = 1,
		.inherit_thread = 1,
		.remove_on_exec = 1,
	};
	struct bpf_link *link;
	int fd = gp_perf_event_open(&attr, tid, -1), err;

	if (fd < 0 && errno == EMFILE && raise_fd_limit())
		fd = gp_perf_event_open(&attr, tid, -1);
	if (fd < 0) {
		/* Saved at once: building the message below may change errno. */
		err = errno;
		if (err == ESRCH)
			return 1;
		watch_error(g, tid, err);
		return gp_exit_for_errno(err);
	}
	link = bpf_program__attach_perf_event(b->skel->progs.gil_written, fd);
	if (!link) {
		err = errno;
		close(fd);
		fail(g, "cannot attach to the GIL watchpoint of thread %d: %s", (int)tid,
			 strerror(err));
		return gp_exit_for_errno(err);
	}
	if (keep_link(g, link)) {
		fail(g, "out of memory");
		return GP_EXIT_FAILURE;
	}
	return 0;
}

static int remember(struct gp_giltrace *g, pid_t tid)
{
	if (GP_GROW(g->tids, g->ntids, g->captids, 64))
		return -1;
	g->tids[g->ntids++] = tid;
	return 0;
}

/* One pass over the threads: watch the new ones. Sets *added. */
static int watch_new_threads(struct gp_giltrace *g, struct gp_bpf *b, bool *added)
{
	char dir[64];
	struct dirent *d;
	DIR *dp;
	int rc = 0;

	*added = false;
	snprintf(dir, sizeof(dir), "/proc/%d/task", (int)g->pid);
	dp = opendir(dir);
	if (!dp)
		return 0; /* the target is gone; the recording notices */
	while (!rc && (d = readdir(dp))) {
		pid_t tid = (pid_t)atoi(d->d_name);

		if (tid <= 0 || watched(g, tid))
			continue;
		rc = watch_thread(g, b, tid);
		if (rc == 1) {
			rc = 0;
			continue;
		}
		if (!rc && remember(g, tid)) {
			fail(g, "out of memory");
			rc = GP_EXIT_FAILURE;
		}
		*added = *added || !rc;
	}
	closedir(dp);
	return rc;
}

/*
 * Threads started from now on inherit the watchpoint; threads started
 * while the existing ones are being watched may not: look again until a
 * pass finds none new.
 */
static int watch_all(struct gp_giltrace *g, struct gp_bpf *b)
{
	bool added = true;
	int rc = 0;

	for (int pass = 0; added && !rc && pass < MAX_THREAD_SCANS; pass++)
		rc = watch_new_threads(g, b, &added);
	if (!rc)
		gp_debug("GIL watchpoint at 0x%llx in %zu threads", (unsigned long long)g->addr,
			 g->ntids);
	return rc;
}

int gp_giltrace_attach(struct gp_giltrace *g, struct gp_bpf *b, uint64_t gil, int32_t locked_off)
{
	int rc;

	if (gp_giltrace_active(g))
		return 0;
	if (g->kind == GP_GIL_EVENTS_UPROBES) {
		rc = attach_uprobe(g, b->skel->progs.gil_taken, g->take_off, true, "take_gil");
		if (!rc)
			rc = attach_uprobe(g, b->skel->progs.gil_dropping, g->drop_off, false,
					   "drop_gil");
		if (!rc)
			gp_debug("GIL uprobes on take_gil (+0x%llx) and drop_gil (+0x%llx) in %s",
				 (unsigned long long)g->take_off, (unsigned long long)g->drop_off,
				 g->path);
		/* The probes hold the file's inode now. */
		close_file(g);
		return rc;
	}
	if (!gil)
		return 0;
	g->addr = gil + (uint64_t)locked_off;
	return watch_all(g, b);
}

void gp_giltrace_detach(struct gp_giltrace *g)
{
	close_file(g);
	/* Closing a watchpoint's event also removes the copies its threads inherited. */
	for (size_t i = 0; i < g->nlinks; i++)
		bpf_link__destroy(g->links[i]);
	free(g->links);
	free(g->tids);
	g->links = NULL;
	g->tids = NULL;
	g->nlinks = g->caplinks = g->ntids = g->captids = 0;
}
