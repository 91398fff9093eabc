// SPDX-License-Identifier: BSD-2-Clause
/*
 * processes.c — the processes of one recording: the target, and with
 * --subprocesses its children. The kernel side adds a forked child to its
 * procs map itself (before the child runs) and drops a process that exec'd
 * or exited (bpf/procevents.h); here each process gets its own code-object
 * cache and thread names, a process that exec'd is looked at again, and
 * what happened is kept for the end.
 */
#define _GNU_SOURCE
#include "processes.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/exitcodes.h"
#include "../common/gp_log.h"
#include "../target/procinfo.h"
#include "../../unwind/pyobj.h"

/* How long a process that exec'd may take to load its interpreter. */
#define FIND_TIMEOUT_NS (5ULL * 1000 * 1000 * 1000)
/* ... looking at it this often meanwhile (a probe reads its maps and ELF files). */
#define PROBE_INTERVAL_NS (20ULL * 1000 * 1000)
/* threading._active is read again for a new thread at most this often. */
#define PYTHREADS_INTERVAL_NS (250ULL * 1000 * 1000)

void gp_read_cmdline(pid_t pid, char *buf, size_t len)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	n = gp_read_proc(path, buf, len);
	if (n <= 0)
		return;
	for (ssize_t i = 0; i < n; i++)
		if (!buf[i])
			buf[i] = ' ';
	while (n > 0 && buf[n - 1] == ' ')
		n--;
	buf[n] = '\0';
}

void gp_describe_status(int status, char *buf, size_t len)
{
	if (WIFEXITED(status))
		snprintf(buf, len, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, len, "was killed by signal %d (%s)%s", WTERMSIG(status),
			 strsignal(WTERMSIG(status)), WCOREDUMP(status) ? ", core dumped" : "");
	else
		snprintf(buf, len, "ended (status 0x%x)", (unsigned int)status);
}

__attribute__((format(printf, 3, 4))) static void add_note(struct gp_processes *ps, bool warn,
							  const char *fmt, ...)
{
	va_list ap;
	char *s, *line;

	if (ps->nnotes == GP_PROC_NOTES_MAX) {
		ps->notes_dropped++;
		return;
	}
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	/* The first character says which kind: '!' a warning, ' ' a note. */
	if (!s || asprintf(&line, "%c%s", warn ? '!' : ' ', s) < 0)
		line = NULL;
	free(s);
	if (line)
		ps->notes[ps->nnotes++] = line;
}

static struct gp_tracked *find(struct gp_processes *ps, pid_t pid)
{
	struct gp_tracked *tr;

	HASH_FIND_INT(ps->by_pid, &pid, tr);
	return tr;
}

/* A process's own copy of its layouts: they may point into another's. */
static void own_layout(struct gp_target *t)
{
	if (t->layout != &t->live)
		t->live = *t->layout;
	t->layout = &t->live;
	if (t->objects && t->objects != &t->objects_live)
		t->objects_live = *t->objects;
	if (t->objects)
		t->objects = &t->objects_live;
}

static void set_up(struct gp_processes *ps, struct gp_tracked *tr)
{
	tr->mem_pid = tr->pid;
	gp_symbolizer_init(&tr->sym, ps->prof, tr->t.layout, gp_mem_process(&tr->mem_pid),
			   tr->t.code_type, ps->max_frames);
	gp_pythreads_init(&tr->pythreads, tr->t.layout, tr->t.objects,
			  gp_mem_process(&tr->mem_pid), tr->t.runtime);
	tr->pythreads_ns = 0;
	tr->ready = true;
}

static void tear_down(struct gp_tracked *tr)
{
	if (!tr->ready)
		return;
	gp_symbolizer_free(&tr->sym);
	gp_pythreads_free(&tr->pythreads);
	tr->ready = false;
}

/* The profile's record of pid: who started it and its command line now. */
static void describe_process(struct gp_processes *ps, pid_t pid, pid_t ppid, const char *comm)
{
	struct gp_process *pr = gp_profile_process(ps->prof, pid);

	if (!pr)
		return;
	if (ppid)
		pr->ppid = ppid;
	if (comm && comm[0])
		snprintf(pr->comm, sizeof(pr->comm), "%s", comm);
	gp_read_cmdline(pid, pr->cmdline, sizeof(pr->cmdline));
}

static const char *label(struct gp_processes *ps, pid_t pid, char *buf, size_t len)
{
	gp_profile_process_label(ps->prof, pid, buf, len);
	return buf;
}

static struct gp_tracked *add(struct gp_processes *ps, pid_t pid, const struct gp_target *t)
{
	struct gp_tracked *tr = calloc(1, sizeof(*tr));

	if (!tr)
		return NULL;
	tr->pid = pid;
	tr->t = *t;
	tr->t.pid = pid;
	tr->t.pidfd = -1; /* the target's pidfd stays with main.c */
	tr->t.launched = false;
	tr->t.exited = false;
	tr->t.status_known = false;
	own_layout(&tr->t);
	tr->proc.runtime = tr->t.runtime;
	tr->proc.code_type = tr->t.code_type;
	HASH_ADD_INT(ps->by_pid, pid, tr);
	return tr;
}

int gp_processes_init(struct gp_processes *ps, struct gp_profile *prof, struct gp_bpf *b,
		      struct gp_target *t, uint32_t max_frames, bool follow)
{
	struct gp_tracked *tr;
	struct gp_mem mem;

	memset(ps, 0, sizeof(*ps));
	ps->prof = prof;
	ps->b = b;
	ps->target = t;
	ps->layout = t->layout;
	ps->max_frames = max_frames;
	ps->follow = follow;
	prof->multiprocess = follow;
	tr = add(ps, t->pid, t);
	if (!tr)
		return -1;
	ps->main = tr;
	set_up(ps, tr);
	mem = gp_mem_process(&tr->mem_pid);
	tr->proc_done = gp_procinfo_resolve(tr->t.layout, &mem, &tr->proc);
	describe_process(ps, t->pid, 0, t->comm);
	return 0;
}

void gp_processes_free(struct gp_processes *ps)
{
	struct gp_tracked *tr, *tmp;

	HASH_ITER(hh, ps->by_pid, tr, tmp) {
		HASH_DEL(ps->by_pid, tr);
		tear_down(tr);
		free(tr);
	}
	for (size_t i = 0; i < ps->nnotes; i++)
		free(ps->notes[i]);
	memset(ps, 0, sizeof(*ps));
}

/* A child of parent, sampled since the kernel added it (fork). */
static struct gp_tracked *adopt(struct gp_processes *ps, pid_t pid, struct gp_tracked *parent)
{
	struct gp_tracked *tr = add(ps, pid, &parent->t);
	struct gp_mem mem;

	if (!tr)
		return NULL;
	/*
	 * The kernel copied the parent's entry when the child was made; that
	 * copy, not the parent's entry now, is what it samples with.
	 */
	if (gp_bpf_get_proc(ps->b, (uint32_t)pid, &tr->proc))
		tr->proc = parent->proc;
	set_up(ps, tr);
	mem = gp_mem_process(&tr->mem_pid);
	tr->proc_done = gp_procinfo_resolve(tr->t.layout, &mem, &tr->proc);
	describe_process(ps, pid, parent->pid, parent->t.comm);
	ps->followed++;
	return tr;
}

/* PPid from /proc/PID/status, 0 if unknown. */
static pid_t parent_of(pid_t pid)
{
	char path[64], line[128];
	int ppid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "PPid: %d", &ppid) == 1)
			break;
	fclose(f);
	return (pid_t)ppid;
}

struct gp_tracked *gp_processes_get(struct gp_processes *ps, pid_t pid, uint64_t now_ns)
{
	struct gp_tracked *tr = find(ps, pid), *parent;

	(void)now_ns;
	if (tr)
		return tr->state == GP_PROC_LIVE ? tr : NULL;
	if (!ps->follow)
		return NULL;
	/* Sampled, so the kernel followed its fork; the record of it was lost. */
	parent = find(ps, parent_of(pid));
	if (!parent || !parent->ready)
		parent = ps->main;
	ps->forks++;
	return adopt(ps, pid, parent);
}

static void proc_forked(struct gp_processes *ps, const struct gp_proc_event *e)
{
	struct gp_tracked *parent = find(ps, (pid_t)e->ppid);

	if (!parent || find(ps, (pid_t)e->pid))
		return;
	ps->forks++;
	if (e->followed)
		adopt(ps, (pid_t)e->pid, parent);
}

static void proc_execd(struct gp_processes *ps, const struct gp_proc_event *e, uint64_t now_ns)
{
	struct gp_tracked *tr = find(ps, (pid_t)e->pid);
	char comm[sizeof(e->comm) + 1], who[320];

	if (!tr || tr->state == GP_PROC_EXITED)
		return;
	/* Its code objects, threads and addresses were the old program's. */
	tear_down(tr);
	tr->state = GP_PROC_FINDING;
	tr->proc_done = false;
	tr->find_until_ns = now_ns + FIND_TIMEOUT_NS;
	tr->next_probe_ns = 0;
	memcpy(comm, e->comm, sizeof(e->comm));
	comm[sizeof(e->comm)] = '\0';
	/* Said now: a program that is not Python may exit before it is given up on. */
	add_note(ps, false, "%s exec'd %s", label(ps, tr->pid, who, sizeof(who)), comm);
	describe_process(ps, tr->pid, 0, comm);
}

static void proc_exited(struct gp_processes *ps, const struct gp_proc_event *e)
{
	struct gp_tracked *tr = find(ps, (pid_t)e->pid);
	char how[128], who[320];

	if (!tr || tr->state == GP_PROC_EXITED)
		return;
	tr->state = GP_PROC_EXITED;
	/* Gone from the kernel's map already; make sure of it (a pid is reused). */
	gp_bpf_del_proc(ps->b, (uint32_t)tr->pid);
	if (tr == ps->main) {
		/* The target: main.c tells how it ended, from this or from waitpid. */
		if (!ps->target->status_known) {
			ps->target->wait_status = e->status;
			ps->target->status_known = true;
		}
		return;
	}
	ps->exits++;
	/* Its thread names stay; its memory is gone with it. */
	tear_down(tr);
	if (WIFEXITED(e->status) && WEXITSTATUS(e->status) == 0)
		return;
	gp_describe_status(e->status, how, sizeof(how));
	add_note(ps, false, "child %s %s", label(ps, tr->pid, who, sizeof(who)), how);
}

void gp_processes_event(struct gp_processes *ps, const void *data, size_t size,
			uint64_t now_ns)
{
	const struct gp_proc_event *e = data;

	if (size < sizeof(*e))
		return;
	switch (e->type) {
	case GP_EV_FORK:
		proc_forked(ps, e);
		break;
	case GP_EV_EXEC:
		proc_execd(ps, e, now_ns);
		break;
	case GP_EV_PROC_EXIT:
		proc_exited(ps, e);
		break;
	default:
		break;
	}
}

/* Same layout as the sampler's (its rodata): the only kind it can read. */
static bool same_layout(const struct gp_processes *ps, const struct gp_target *t)
{
	return !memcmp(t->layout, ps->layout, sizeof(*ps->layout));
}

/* The interpreter of a process that exec'd: follow it, or let it go. */
static void find_again(struct gp_processes *ps, struct gp_tracked *tr, uint64_t now_ns)
{
	char why[512], who[320];
	struct gp_target found;
	struct gp_mem mem;
	int rc;

	if (now_ns < tr->next_probe_ns)
		return;
	tr->next_probe_ns = now_ns + PROBE_INTERVAL_NS;
	rc = gp_target_probe(tr->pid, &found, now_ns >= tr->find_until_ns, why, sizeof(why));
	if (rc == GP_TARGET_NOT_YET)
		return;
	label(ps, tr->pid, who, sizeof(who));
	if (rc) {
		tr->state = GP_PROC_DROPPED;
		add_note(ps, false, "%s exec'd a program that is not profiled (%s)", who,
			 why[0] ? why : "not a CPython interpreter");
		goto dropped;
	}
	if (!same_layout(ps, &found)) {
		tr->state = GP_PROC_DROPPED;
		add_note(ps, true, "%s exec'd Python %s, which is laid out unlike the Python %s "
			 "being profiled: not followed (profile it on its own)",
			 who, found.version, ps->target->version);
		goto dropped;
	}
	found.pidfd = -1;
	tr->t = found;
	own_layout(&tr->t);
	memset(&tr->proc, 0, sizeof(tr->proc));
	tr->proc.runtime = found.runtime;
	tr->proc.code_type = found.code_type;
	set_up(ps, tr);
	mem = gp_mem_process(&tr->mem_pid);
	tr->proc_done = gp_procinfo_resolve(tr->t.layout, &mem, &tr->proc);
	if (gp_bpf_add_proc(ps->b, (uint32_t)tr->pid, &tr->proc)) {
		tr->state = GP_PROC_DROPPED;
		add_note(ps, true, "%s exec'd Python %s but cannot be registered: %s", who,
			 found.version, strerror(errno));
		goto dropped;
	}
	tr->state = GP_PROC_LIVE;
	add_note(ps, false, "%s exec'd Python %s: followed", who, found.version);
	if (tr == ps->main) {
		/* main.c and the session read the target's addresses at the end. */
		ps->target->runtime = found.runtime;
		ps->target->code_type = found.code_type;
		snprintf(ps->target->comm, sizeof(ps->target->comm), "%s", found.comm);
	}
	return;
dropped:
	if (tr == ps->main)
		ps->main_gone = true;
}

/* Append the children of every thread of pid (the children files). */
static size_t children_of(pid_t pid, pid_t *pids, pid_t *ppids, size_t n, size_t max)
{
	char path[96];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return n;
	while ((de = readdir(d)) && n < max) {
		FILE *f;
		int child;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.20s/children", (int)pid, de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (n < max && fscanf(f, "%d", &child) == 1) {
			pids[n] = (pid_t)child;
			ppids[n++] = pid;
		}
		fclose(f);
	}
	closedir(d);
	return n;
}

size_t gp_list_descendants(pid_t pid, pid_t *pids, pid_t *ppids, size_t max)
{
	size_t n = children_of(pid, pids, ppids, 0, max);

	/* Each one's children after it: the list grows while it is walked. */
	for (size_t i = 0; i < n && n < max; i++)
		n = children_of(pids[i], pids, ppids, n, max);
	return n;
}

int gp_processes_attach(struct gp_processes *ps, pid_t pid, pid_t ppid, char *why, size_t len)
{
	struct gp_tracked *tr;
	struct gp_target found;
	struct gp_mem mem;
	int rc;

	why[0] = '\0';
	if (find(ps, pid))
		return 0;
	rc = gp_target_probe(pid, &found, true, why, len);
	if (rc)
		return rc == GP_TARGET_NOT_YET ? GP_EXIT_NOT_PYTHON : rc;
	if (!same_layout(ps, &found)) {
		snprintf(why, len, "it runs Python %s, laid out unlike the Python %s being profiled",
			 found.version, ps->target->version);
		return GP_EXIT_UNSUPPORTED;
	}
	found.pidfd = -1;
	tr = add(ps, pid, &found);
	if (!tr) {
		snprintf(why, len, "out of memory");
		return GP_EXIT_FAILURE;
	}
	set_up(ps, tr);
	mem = gp_mem_process(&tr->mem_pid);
	tr->proc_done = gp_procinfo_resolve(tr->t.layout, &mem, &tr->proc);
	describe_process(ps, pid, ppid, found.comm);
	if (gp_bpf_add_proc(ps->b, (uint32_t)pid, &tr->proc)) {
		snprintf(why, len, "cannot register it with the sampler: %s", strerror(errno));
		tr->state = GP_PROC_DROPPED;
		return GP_EXIT_FAILURE;
	}
	ps->followed++;
	add_note(ps, false, "%s was already running: profiled too",
		 label(ps, pid, (char[320]){ 0 }, 320));
	return 0;
}

/* The GIL and gc.collecting of an interpreter still starting. */
static void resolve(struct gp_processes *ps, struct gp_tracked *tr)
{
	struct gp_mem mem = gp_mem_process(&tr->mem_pid);
	struct gp_proc before = tr->proc;

	tr->proc_done = gp_procinfo_resolve(tr->t.layout, &mem, &tr->proc);
	if (!before.gil && tr->proc.gil)
		tr->gil_found = true;
	if (memcmp(&before, &tr->proc, sizeof(before)) &&
	    gp_bpf_add_proc(ps->b, (uint32_t)tr->pid, &tr->proc))
		gp_debug("cannot update process %d in the sampler: %s", (int)tr->pid,
			 strerror(errno));
}

bool gp_processes_tick(struct gp_processes *ps, uint64_t now_ns)
{
	struct gp_tracked *tr, *tmp;
	bool busy = false;

	HASH_ITER(hh, ps->by_pid, tr, tmp) {
		if (tr->state == GP_PROC_FINDING)
			find_again(ps, tr, now_ns);
		if (tr->state == GP_PROC_LIVE && !tr->proc_done)
			resolve(ps, tr);
		busy |= tr->state == GP_PROC_FINDING || (tr->state == GP_PROC_LIVE && !tr->proc_done);
	}
	return busy;
}

static const char *python_name(struct gp_tracked *tr, const struct gp_thread *th, bool force,
			       uint64_t now_ns)
{
	int64_t id = gp_ns_tid(th->pid, th->tid);
	const char *name = force ? NULL : gp_pythreads_name(&tr->pythreads, id);

	if (name || (!force && now_ns - tr->pythreads_ns < PYTHREADS_INTERVAL_NS))
		return name;
	tr->pythreads_ns = now_ns;
	gp_pythreads_refresh(&tr->pythreads);
	return gp_pythreads_name(&tr->pythreads, id);
}

void gp_processes_name_thread(struct gp_processes *ps, struct gp_thread *th, bool force,
			      uint64_t now_ns)
{
	struct gp_tracked *tr = find(ps, th->pid);
	const char *py = tr && tr->ready ? python_name(tr, th, force, now_ns) : NULL;
	char comm[64];

	if (py) {
		snprintf(th->name, sizeof(th->name), "%s", py);
		return;
	}
	gp_target_thread_name(th->pid, th->tid, comm, sizeof(comm));
	if (!comm[0])
		return;
	if (th->tid == th->pid || !tr || strcmp(comm, tr->t.comm))
		snprintf(th->name, sizeof(th->name), "%s", comm);
}

void gp_processes_report(struct gp_processes *ps)
{
	char line[160];

	if (ps->forks && ps->follow)
		snprintf(line, sizeof(line),
			 "%" PRIu64 " child process%s started during the recording, %" PRIu64
			 " followed",
			 ps->forks, ps->forks == 1 ? "" : "es", ps->followed);
	else if (ps->forks)
		snprintf(line, sizeof(line),
			 "%" PRIu64 " child process%s started during the recording, not profiled "
			 "(--subprocesses follows them)",
			 ps->forks, ps->forks == 1 ? "" : "es");
	if (ps->forks) {
		gp_note("%s", line);
		gp_profile_comment(ps->prof, "%s", line);
	}
	for (size_t i = 0; i < ps->nnotes; i++) {
		const char *text = ps->notes[i] + 1;

		if (ps->notes[i][0] == '!')
			gp_warn("%s", text);
		else
			gp_note("%s", text);
		gp_profile_comment(ps->prof, "%s", text);
	}
	if (ps->notes_dropped)
		gp_note("(%" PRIu64 " more process events not shown)", ps->notes_dropped);
}
