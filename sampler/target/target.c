// SPDX-License-Identifier: BSD-2-Clause
/*
 * target.c — finding the CPython runtime in a process: which file holds
 * _PyRuntime (libpython or the executable), where it is loaded, and which
 * version it is, all without running anything in the target.
 */
#define _GNU_SOURCE
#include "target.h"

#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "codetype.h"
#include "debugoffsets.h"
#include "../common/exitcodes.h"
#include "../common/gp_log.h"
#include "pyversion.h"
#include "../../unwind/elfsyms.h"
#include "../../unwind/procmaps.h"
#include "../../unwind/targetmem.h"

/* How long a launched command may take to load its interpreter. */
#define LAUNCH_FIND_TIMEOUT_MS 5000

enum { SYM_RUNTIME, SYM_CODE_TYPE, SYM_VERSION, SYM__MAX };

static const char *const sym_names[SYM__MAX] = {
	[SYM_RUNTIME] = "_PyRuntime",
	[SYM_CODE_TYPE] = "PyCode_Type",
	[SYM_VERSION] = "Py_Version",
};

struct candidate {
	const struct gp_map *map;
	struct gp_elf_sym syms[SYM__MAX];
};

static int pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

static void read_comm(pid_t pid, char *buf, size_t len)
{
	gp_target_thread_name(pid, pid, buf, len);
}

ssize_t gp_read_proc(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	buf[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* Bytes the process chose (its name, its arguments): bounded, cut. */
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0) {
		buf[0] = '\0';
		return -1;
	}
	buf[n] = '\0';
	return n;
}

void gp_target_thread_name(pid_t pid, pid_t tid, char *buf, size_t len)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/comm", (int)pid, (int)tid);
	gp_read_proc(path, buf, len);
	buf[strcspn(buf, "\n")] = '\0';
}

/* Exited but not reaped by its parent yet: no memory left to read. */
static bool is_zombie(pid_t pid)
{
	char path[64], buf[512], *end;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (gp_read_proc(path, buf, sizeof(buf)) < 0)
		return false;
	/* "PID (comm) S ...": comm is the process's own text, ')' included. */
	end = strrchr(buf, ')');
	return end && end[1] == ' ' && (end[2] == 'Z' || end[2] == 'X');
}

/* The mapping of the main executable, found through /proc/PID/exe. */
static const struct gp_map *exe_mapping(pid_t pid, const struct gp_maps *maps)
{
	char link[64], path[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	n = readlink(link, path, sizeof(path) - 1);
	if (n <= 0)
		return NULL;
	path[n] = '\0';
	if (n > 10 && !strcmp(path + n - 10, " (deleted)"))
		path[n - 10] = '\0';
	for (size_t i = 0; i < maps->n; i++)
		if (maps->v[i].path && !strcmp(maps->v[i].path, path))
			return &maps->v[i];
	return NULL;
}

static int inspect(pid_t pid, struct candidate *c)
{
	struct gp_elf_info info;
	int fd, rc;

	for (int k = 0; k < SYM__MAX; k++)
		c->syms[k].name = sym_names[k];
	/* 3.14+: where the symbol is not exported, its section still says. */
	c->syms[SYM_RUNTIME].section = ".PyRuntime";
	fd = gp_maps_open(pid, c->map);
	if (fd < 0)
		return -1;
	rc = gp_elf_lookup_fd(fd, c->syms, SYM__MAX, &info);
	close(fd);
	if (rc)
		return -1;
	return c->syms[SYM_RUNTIME].found ? 0 : -1;
}

static uint64_t sym_addr(const struct gp_maps *maps, const struct candidate *c,
			 const struct gp_elf_sym *s)
{
	uint64_t bias;

	if (!s->found || gp_maps_bias(maps, c->map->path, s->seg_offset, s->seg_vaddr, &bias))
		return 0;
	return bias + s->value;
}

/* A Python version without a layout row, named by the lib or exe file? */
static bool named_unsupported(const struct candidate *lib, const struct candidate *exe,
			      uint32_t *hex, bool *ft)
{
	const struct gp_map *maps[2] = { lib->map, exe->map };

	for (int i = 0; i < 2; i++) {
		if (maps[i] && !gp_version_from_name(maps[i]->path, hex, ft) &&
		    !gp_layout_for(*hex, *ft))
			return true;
	}
	return false;
}

/* Python, but not one we support? Say which, from the file names. */
static int not_found(pid_t pid, const struct gp_target *t, const struct candidate *lib,
		     const struct candidate *exe)
{
	uint32_t hex;
	bool ft;
	char v[32];

	if (named_unsupported(lib, exe, &hex, &ft)) {
		gp_version_format(hex, v, sizeof(v));
		if (ft && gp_layout_for(hex, false))
			gp_error("process %d (%s) runs a free-threaded build of Python %s; "
				 "free-threaded builds are not supported yet",
				 (int)pid, t->comm, v);
		else
			gp_error("process %d (%s) runs Python %s, which gil-prof does not support "
				 "(supported: CPython %s)",
				 (int)pid, t->comm, v, gp_supported_versions());
		return GP_EXIT_UNSUPPORTED;
	}
	gp_error("process %d (%s) is not a CPython 3 interpreter: no _PyRuntime in its "
		 "executable or a libpython",
		 (int)pid, t->comm);
	return GP_EXIT_NOT_PYTHON;
}

static int read_version(pid_t pid, const struct gp_maps *maps, const struct candidate *c,
			const struct candidate *exe, uint32_t *hex, bool *ft)
{
	uint64_t addr = sym_addr(maps, c, &c->syms[SYM_VERSION]), v;
	pid_t p = pid;
	struct gp_mem mem = gp_mem_process(&p);

	*ft = false;
	/* 3.11+: the exported Py_Version is PY_VERSION_HEX. */
	if (addr && !gp_mem_read_u64(&mem, addr, &v) && (v >> 24) == 3) {
		*hex = (uint32_t)v;
		return 0;
	}
	if (!gp_version_from_name(c->map->path, hex, ft))
		return 0;
	if (exe->map && !gp_version_from_name(exe->map->path, hex, ft))
		return 0;
	return -1;
}

static int select_layout(struct gp_target *t, uint32_t hex, bool ft)
{
	gp_version_format(hex, t->version, sizeof(t->version));
	t->version_hex = hex;
	t->layout = gp_layout_for(hex, ft);
	if (t->layout)
		return 0;
	if (ft && gp_layout_for(hex, false)) {
		gp_error("process %d runs a free-threaded build of Python %s; free-threaded "
			 "builds are not supported yet",
			 (int)t->pid, t->version);
		return GP_EXIT_UNSUPPORTED;
	}
	gp_error("process %d runs Python %s, which gil-prof does not support "
		 "(supported: CPython %s)",
		 (int)t->pid, t->version, gp_supported_versions());
	return GP_EXIT_UNSUPPORTED;
}

/*
 * 3.13+: take the offsets from the process's own _Py_DebugOffsets, after
 * checking them against the row (sampler/debugoffsets.c).
 */
static int use_debug_offsets(struct gp_target *t)
{
	pid_t p = t->pid;
	struct gp_mem mem = gp_mem_process(&p);
	const struct py_objlayout *obj = gp_objlayout_for(t->version_hex);
	struct gp_dbg_report r;

	if (obj)
		t->objects_live = *obj;
	t->objects = obj ? &t->objects_live : NULL;
	switch (gp_debug_offsets_apply(t->layout, &mem, t->runtime, &t->live,
				       obj ? &t->objects_live : NULL, &r)) {
	case GP_DBG_NONE:
		break;
	case GP_DBG_OK:
		gp_debug("process %d: _Py_DebugOffsets of Python 0x%08x: %u offsets checked, "
			 "%u differ from the table",
			 (int)t->pid, r.version, r.checked, r.differ);
		if (r.differ)
			gp_note("process %d: its own structure offsets differ from gil-prof's "
				"Python %s table in %u places (first: %s); using the process's",
				(int)t->pid, t->version, r.differ, r.first_diff);
		break;
	case GP_DBG_FREE_THREADED:
		gp_error("process %d runs a free-threaded build of Python %s (from its debug "
			 "offsets); free-threaded builds are not supported yet",
			 (int)t->pid, t->version);
		return GP_EXIT_UNSUPPORTED;
	default:
		gp_error("process %d runs Python %s, but %s; gil-prof will not read it with "
			 "the wrong layout",
			 (int)t->pid, t->version, r.why);
		return GP_EXIT_UNSUPPORTED;
	}
	t->layout = &t->live;
	if (t->live.untested)
		gp_warn("Python %s support is untested: its layout comes from CPython's "
			"headers, not from a tested interpreter",
			t->version);
	return 0;
}

/* discover() result while a launched program may still be loading Python. */
#define NOT_YET GP_TARGET_NOT_YET

/*
 * No PyCode_Type symbol (a binary stripped of its exports): learn it from
 * the code the target runs. A launched interpreter has no frame before it
 * runs its first Python code: NOT_YET, and the launch loop looks again.
 */
static int learn_code_type(struct gp_target *t, bool quiet)
{
	pid_t p = t->pid;
	struct gp_pyobj r = { .L = t->layout, .O = t->objects, .mem = gp_mem_process(&p) };

	if (!t->objects) {
		gp_error("process %d: %s exports no PyCode_Type, and gil-prof cannot learn it "
			 "for Python %s",
			 (int)t->pid, t->python_path, t->version);
		return GP_EXIT_UNSUPPORTED;
	}
	t->code_type = gp_find_code_type(&r, t->runtime);
	if (t->code_type) {
		gp_debug("process %d: PyCode_Type at 0x%" PRIx64 ", read off a running frame "
			 "(%s exports no symbol for it)",
			 (int)t->pid, t->code_type, t->python_path);
		return 0;
	}
	if (quiet)
		return NOT_YET;
	gp_error("process %d: %s exports no PyCode_Type and no thread runs Python code to "
		 "learn it from; try again once it does",
		 (int)t->pid, t->python_path);
	return GP_EXIT_NOT_PYTHON;
}

/*
 * One look at the process. Returns 0, an exit code (error printed), or with
 * quiet set NOT_YET when no interpreter is mapped (yet): the launch loop
 * polls. Once an interpreter is found, every verdict is final.
 */
static int discover(struct gp_target *t, bool quiet)
{
	struct candidate lib = { 0 }, exe = { 0 }, *use = NULL;
	struct gp_maps maps = { 0 };
	uint32_t hex = 0;
	bool ft = false;
	int rc;

	if (gp_maps_read(t->pid, &maps)) {
		if (quiet)
			return NOT_YET;
		if (errno == ENOENT || errno == ESRCH) {
			gp_error("process %d exited before it could be attached", (int)t->pid);
			return GP_EXIT_TARGET_GONE;
		}
		gp_error("cannot read the memory map of process %d: %s", (int)t->pid,
			 strerror(errno));
		return errno == EACCES ? GP_EXIT_PERMISSION : GP_EXIT_FAILURE;
	}
	read_comm(t->pid, t->comm, sizeof(t->comm));
	if (!maps.n && is_zombie(t->pid)) {
		rc = quiet ? NOT_YET : GP_EXIT_TARGET_GONE;
		if (!quiet)
			gp_error("process %d (%s) has exited (a zombie its parent has not reaped)",
				 (int)t->pid, t->comm);
		goto out;
	}
	lib.map = gp_maps_find_prefix(&maps, "libpython");
	exe.map = exe_mapping(t->pid, &maps);
	if (lib.map && !inspect(t->pid, &lib))
		use = &lib;
	else if (exe.map && !inspect(t->pid, &exe))
		use = &exe;
	if (!use) {
		if (quiet && !named_unsupported(&lib, &exe, &hex, &ft))
			rc = NOT_YET;
		else
			rc = not_found(t->pid, t, &lib, &exe);
		goto out;
	}
	snprintf(t->python_path, sizeof(t->python_path), "%s", use->map->path);
	t->runtime = sym_addr(&maps, use, &use->syms[SYM_RUNTIME]);
	t->code_type = sym_addr(&maps, use, &use->syms[SYM_CODE_TYPE]);
	if (!t->runtime || (use->syms[SYM_CODE_TYPE].found && !t->code_type)) {
		/* Mid-way through the loader's mmaps: look again. */
		rc = quiet ? NOT_YET : GP_EXIT_NOT_PYTHON;
		if (!quiet)
			gp_error("process %d: %s is not mapped where its ELF headers say",
				 (int)t->pid, use->map->path);
		goto out;
	}
	if (read_version(t->pid, &maps, use, &exe, &hex, &ft)) {
		gp_error("process %d: cannot tell the Python version of %s", (int)t->pid,
			 use->map->path);
		rc = GP_EXIT_UNSUPPORTED;
		goto out;
	}
	rc = select_layout(t, hex, ft);
	if (!rc)
		rc = use_debug_offsets(t);
	if (!rc && !t->code_type)
		rc = learn_code_type(t, quiet);
out:
	gp_maps_free(&maps);
	return rc;
}

int gp_target_attach(pid_t pid, struct gp_target *t)
{
	memset(t, 0, sizeof(*t));
	t->pid = pid;
	t->pidfd = pidfd_open(pid);
	/* Without pidfds (kernel < 5.3, valgrind), liveness falls back to kill(0). */
	if (t->pidfd < 0 && errno == ENOSYS && kill(pid, 0) && errno != EPERM)
		errno = ESRCH;
	else if (t->pidfd < 0 && errno == ENOSYS)
		errno = 0;
	if (t->pidfd < 0 && errno) {
		if (errno == ESRCH) {
			gp_error("no process with PID %d", (int)pid);
			return GP_EXIT_NO_PROCESS;
		}
		gp_error("cannot open process %d: %s", (int)pid, strerror(errno));
		return errno == EPERM ? GP_EXIT_PERMISSION : GP_EXIT_FAILURE;
	}
	return discover(t, false);
}

int gp_target_probe(pid_t pid, struct gp_target *t, bool final, char *why, size_t len)
{
	int rc;

	memset(t, 0, sizeof(*t));
	t->pid = pid;
	t->pidfd = -1;
	gp_log_capture(why, len);
	rc = discover(t, !final);
	gp_log_capture(NULL, 0);
	return rc;
}

static int spawn(char **argv, struct gp_target *t)
{
	int pipefd[2], err = 0;
	ssize_t n;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0) {
		close(pipefd[0]);
		close(pipefd[1]);
		return -1;
	}
	if (pid == 0) {
		close(pipefd[0]);
		execvp(argv[0], argv);
		err = errno;
		if (write(pipefd[1], &err, sizeof(err)) < 0)
			_exit(127);
		_exit(127);
	}
	close(pipefd[1]);
	/* EOF: exec succeeded and closed the pipe; an int: exec's errno. */
	do {
		n = read(pipefd[0], &err, sizeof(err));
	} while (n < 0 && errno == EINTR);
	close(pipefd[0]);
	t->pid = pid;
	t->launched = true;
	if (n == sizeof(err)) {
		waitpid(pid, NULL, 0);
		t->exited = true;
		errno = err;
		return -1;
	}
	return 0;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int gp_target_launch(char **argv, struct gp_target *t)
{
	uint64_t deadline = now_ms() + LAUNCH_FIND_TIMEOUT_MS;
	int rc;

	memset(t, 0, sizeof(*t));
	t->pidfd = -1;
	if (spawn(argv, t)) {
		gp_error("cannot run '%s': %s", argv[0], strerror(errno));
		return GP_EXIT_LAUNCH;
	}
	t->pidfd = pidfd_open(t->pid);
	/* Poll until the dynamic loader has mapped the interpreter. */
	while ((rc = discover(t, true)) == NOT_YET) {
		if (gp_target_exited(t)) {
			gp_error("'%s' exited before its Python runtime was found", argv[0]);
			return GP_EXIT_TARGET_GONE;
		}
		if (now_ms() > deadline) {
			rc = discover(t, false);
			break;
		}
		usleep(1000);
	}
	if (rc) {
		gp_target_abandon(t);
		return rc;
	}
	kill(t->pid, SIGSTOP);
	return 0;
}

void gp_target_resume(struct gp_target *t)
{
	if (t->launched && !t->exited)
		kill(t->pid, SIGCONT);
}

bool gp_target_exited(struct gp_target *t)
{
	struct pollfd p = { .fd = t->pidfd, .events = POLLIN };

	if (t->exited)
		return true;
	if (t->launched) {
		int status;

		if (waitpid(t->pid, &status, WNOHANG) == t->pid) {
			t->exited = true;
			t->wait_status = status;
			t->status_known = true;
		}
		return t->exited;
	}
	if (t->pidfd >= 0) {
		if (poll(&p, 1, 0) == 1)
			t->exited = true;
	} else if (kill(t->pid, 0) && errno == ESRCH) {
		t->exited = true;
	}
	return t->exited;
}

void gp_target_abandon(struct gp_target *t)
{
	if (!t->launched || t->exited)
		return;
	kill(t->pid, SIGKILL);
	waitpid(t->pid, &t->wait_status, 0);
	t->exited = true;
}

void gp_target_close(struct gp_target *t)
{
	if (t->pidfd >= 0)
		close(t->pidfd);
	t->pidfd = -1;
}
