// SPDX-License-Identifier: BSD-2-Clause
/*
 * agent.c — `gil-prof agent`: every CPython process on the host, all the
 * time. Processes come from the discovery (record/discovery.c); each one
 * found is recorded by a session of the one sampler (record/session.c),
 * the same as `record -p PID` would, and its time by GIL state is read
 * from the sessions' accounting (account/wallclock.c) when /metrics is
 * scraped. With --profile-dir, each session is stopped every period, its
 * finished profile written, and a new one started (counters carry on).
 *
 * One loop serves the discovery and the sessions' ring buffers, holding
 * the agent's lock; the HTTP server's thread takes it to render, so a
 * scrape always sees the sessions between two polls. SIGTERM and SIGINT
 * arrive on a signalfd (blocked in every thread).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uthash.h>

#include "agent_http.h"
#include "agent_profiles.h"
#include "commands.h"
#include "../account/wallclock.h"
#include "../cli/agentcli.h"
#include "../common/exitcodes.h"
#include "../common/gp_log.h"
#include "../record/discovery.h"
#include "../record/session.h"
#include "../../output/metrics.h"
#include "../../unwind/targetmem.h"
#include "../common/gp_clock.h"

#define TICK_MS 100
/*
 * Without --profile-dir a session is still renewed this often (nothing
 * written): a profile kept since attaching would grow with every thread
 * and stack a long-lived process ever had.
 */
#define RESET_NS (10ULL * 60 * 1000 * 1000 * 1000)

/* A thread's exported time, for --per-thread. */
struct agent_thread {
	pid_t tid;
	char name[64];
	uint64_t base[GP_STATE__MAX];  /* from the sessions already stopped */
	uint64_t shown[GP_STATE__MAX]; /* last exported: counters never go back */
	bool live;                     /* seen in the current session */
	UT_hash_handle hh;
};

/* A process being profiled: one session at a time. */
struct agent_proc {
	pid_t pid;
	struct gp_target t;
	struct gp_profile prof;
	struct gp_session *s;
	char comm[64], container[80], version[32];
	uint64_t base[GP_STATE__MAX], shown[GP_STATE__MAX];
	uint64_t base_contended, shown_contended;
	uint64_t base_samples, base_lost, base_bpf_ns, base_bpf_runs;
	uint64_t next_profile_ns;
	struct agent_thread *threads;
	bool loading;              /* its session loads, the lock released: hands off */
	bool switches_known;       /* the GIL's switch_number read once at least */
	uint64_t switches;
	UT_hash_handle hh;
};

#define MAX_ERRORS 16

struct agent {
	const struct gp_agent_options *o;
	struct gp_discovery disc;
	struct agent_proc *procs;
	struct gp_http *http;
	/* Totals of the processes gone, so the agent's counters never go back. */
	uint64_t done_samples, done_lost, done_bpf_ns, done_bpf_runs;
	uint64_t profiles_written;
	struct gp_metrics_error errors[MAX_ERRORS];
	size_t nerrors;
	uint64_t now_ns;
	bool started_this_tick;    /* a session was loaded in this tick */
	pthread_mutex_t lock;      /* the loop's, except while it sleeps */
};

static void count_error(struct agent *a, const char *reason)
{
	for (size_t i = 0; i < a->nerrors; i++) {
		if (!strcmp(a->errors[i].reason, reason)) {
			a->errors[i].count++;
			return;
		}
	}
	if (a->nerrors < MAX_ERRORS)
		a->errors[a->nerrors++] = (struct gp_metrics_error){ .reason = reason, .count = 1 };
}

/* The label value of a session that could not start, from its exit code. */
static const char *start_reason(int rc)
{
	switch (rc) {
	case GP_EXIT_PERMISSION:
		return "permission";
	case GP_EXIT_KERNEL:
		return "kernel_refused";
	case GP_EXIT_UNSUPPORTED:
		return "unsupported_version";
	default:
		return "attach_failed";
	}
}

/* --- time by GIL state ------------------------------------------------------ */

static struct agent_thread *thread_of(struct agent_proc *p, pid_t tid)
{
	struct agent_thread *th;

	HASH_FIND_INT(p->threads, &tid, th);
	if (th)
		return th;
	th = calloc(1, sizeof(*th));
	if (!th)
		return NULL;
	th->tid = tid;
	HASH_ADD_INT(p->threads, tid, th);
	return th;
}

/*
 * The session's time per thread and state, now: the live accounting in
 * wall mode; the stacks' measured time otherwise (cpu mode, and a
 * finished wall-mode profile). out has prof->nthreads rows. -1 on ENOMEM.
 */
static uint64_t (*session_times(struct agent_proc *p, uint64_t now,
				uint64_t *contended))[GP_STATE__MAX]
{
	const struct gp_profile *prof = &p->prof;
	uint64_t(*out)[GP_STATE__MAX] = calloc(prof->nthreads + 1, sizeof(*out));
	struct gp_session_view v = { 0 };

	if (!out)
		return NULL;
	*contended = 0;
	if (p->s)
		gp_session_peek(p->s, &v);
	if (v.wallclock) {
		gp_wall_peek(v.wallclock, now, out, prof->nthreads);
		*contended = gp_wall_contended_now(v.wallclock, now);
		return out;
	}
	for (size_t i = 0; i < prof->nstacks; i++) {
		const struct gp_stack *s = prof->stacks[i];

		if (s->thread < prof->nthreads && s->state < GP_STATE__MAX)
			out[s->thread][s->state] += s->wall_ns;
	}
	*contended = prof->contention_known ? prof->gil_contended_ns : 0;
	return out;
}

static void raise_to(uint64_t *shown, uint64_t v)
{
	if (v > *shown)
		*shown = v;
}

/* Bring p's exported counters up to now. */
static void update_times(struct agent *a, struct agent_proc *p)
{
	uint64_t contended, sum[GP_STATE__MAX] = { 0 };
	uint64_t(*t)[GP_STATE__MAX] = session_times(p, a->now_ns, &contended);
	struct agent_thread *th, *tmp;

	if (!t)
		return;
	HASH_ITER(hh, p->threads, th, tmp) {
		th->live = false;
	}
	for (size_t i = 0; i < p->prof.nthreads; i++) {
		const struct gp_thread *pt = p->prof.threads[i];

		for (int s = 0; s < GP_STATE__MAX; s++)
			sum[s] += t[i][s];
		if (!a->o->per_thread || !(th = thread_of(p, pt->tid)))
			continue;
		th->live = true;
		if (pt->name[0])
			snprintf(th->name, sizeof(th->name), "%s", pt->name);
		for (int s = 0; s < GP_STATE__MAX; s++)
			raise_to(&th->shown[s], th->base[s] + t[i][s]);
	}
	for (int s = 0; s < GP_STATE__MAX; s++)
		raise_to(&p->shown[s], p->base[s] + sum[s]);
	raise_to(&p->shown_contended, p->base_contended + contended);
	free(t);
}

/* --- sessions ---------------------------------------------------------------- */

/*
 * Called with the loop's lock held; released while the sampler loads (the
 * verifier takes 0.2-2 s), so a scrape meanwhile is not held up: it shows
 * p's counters as they were (p->loading), and touches nothing else of p.
 */
static int start_session(struct agent *a, struct agent_proc *p, char *why, size_t len)
{
	struct gp_session *s = NULL;
	int rc;

	p->loading = true;
	p->s = NULL;
	pthread_mutex_unlock(&a->lock);
	gp_profile_init(&p->prof);
	gp_log_capture(why, len);
	rc = gp_session_start(&a->o->rec, &p->t, &p->prof, &s);
	gp_log_capture(NULL, 0);
	if (rc) {
		s = NULL;
		gp_profile_free(&p->prof);
		gp_profile_init(&p->prof);
	}
	pthread_mutex_lock(&a->lock);
	p->s = s;
	p->loading = false;
	p->next_profile_ns = gp_mono_ns() + (a->o->profile_dir ? a->o->profile_every_ns : RESET_NS);
	return rc;
}

static void write_profile(struct agent *a, struct agent_proc *p)
{
	char path[4096];

	if (!a->o->profile_dir || !p->prof.nstacks)
		return;
	if (gp_agent_profile_write(a->o->profile_dir, &p->prof, p->pid, p->comm, gp_unix_ns(), path,
				   sizeof(path))) {
		gp_warn("cannot write a profile of process %d to %s: %s", (int)p->pid,
			a->o->profile_dir, strerror(errno));
		count_error(a, "profile_write");
		return;
	}
	a->profiles_written++;
	gp_debug("wrote %s", path);
	gp_agent_profile_retain(a->o->profile_dir, a->o->profile_keep, a->o->profile_max_bytes);
}

/*
 * Stop p's session and take what it finished into p's counters: its time
 * (the same accounting as peek, completed) and its sampler counters.
 * Returns why it stopped.
 */
static enum gp_stop_reason stop_session(struct agent *a, struct agent_proc *p)
{
	struct gp_session_result res;
	struct agent_thread *th, *tmp;
	enum gp_stop_reason why;
	uint64_t contended;
	uint64_t(*t)[GP_STATE__MAX];

	bool quiet = gp_log_quiet;
	char notes[256];

	/* Its notes are record's (children not followed: the agent finds them itself). */
	gp_log_quiet = true;
	gp_log_capture(notes, sizeof(notes));
	gp_session_stop(p->s, &res);
	gp_log_capture(NULL, 0);
	gp_log_quiet = quiet;
	why = res.reason;
	gp_session_free(p->s);
	p->s = NULL;
	t = session_times(p, a->now_ns, &contended);
	if (t) {
		HASH_ITER(hh, p->threads, th, tmp) {
			th->live = false;
		}
		for (size_t i = 0; i < p->prof.nthreads; i++) {
			const struct gp_thread *pt = p->prof.threads[i];

			for (int s = 0; s < GP_STATE__MAX; s++)
				p->base[s] += t[i][s];
			if (!a->o->per_thread || !(th = thread_of(p, pt->tid)))
				continue;
			for (int s = 0; s < GP_STATE__MAX; s++) {
				th->base[s] += t[i][s];
				raise_to(&th->shown[s], th->base[s]);
			}
		}
		p->base_contended += contended;
		free(t);
	}
	for (int s = 0; s < GP_STATE__MAX; s++)
		raise_to(&p->shown[s], p->base[s]);
	raise_to(&p->shown_contended, p->base_contended);
	p->base_samples += res.counters[GP_CNT_SAMPLES];
	p->base_lost += res.counters[GP_CNT_RB_FULL] + res.counters[GP_CNT_NO_SCRATCH];
	for (int i = 0; i < GP_PROG__MAX; i++) {
		p->base_bpf_ns += res.progs[i].run_ns;
		p->base_bpf_runs += res.progs[i].runs;
	}
	write_profile(a, p);
	gp_profile_free(&p->prof);
	gp_profile_init(&p->prof);
	return why;
}

static void drop_proc(struct agent *a, struct agent_proc *p)
{
	struct agent_thread *th, *tmp;

	if (p->s)
		stop_session(a, p);
	a->done_samples += p->base_samples;
	a->done_lost += p->base_lost;
	a->done_bpf_ns += p->base_bpf_ns;
	a->done_bpf_runs += p->base_bpf_runs;
	HASH_ITER(hh, p->threads, th, tmp) {
		HASH_DEL(p->threads, th);
		free(th);
	}
	gp_profile_free(&p->prof);
	gp_target_close(&p->t);
	HASH_DEL(a->procs, p);
	free(p);
}

/*
 * Discovery found a process: profile it, or list it as not profiled.
 * Loading a session takes a while (the verifier): one per tick, so the
 * rings of the sessions already running are drained meanwhile. False:
 * ask again at the next tick.
 */
static bool on_found(void *ctx, struct gp_disc_proc *d)
{
	struct agent *a = ctx;
	struct agent_proc *p;
	char why[512];
	int rc;

	HASH_FIND_INT(a->procs, &d->pid, p);
	/* Its session followed the exec itself (the same Python). */
	if (p)
		return true;
	if (d->verdict == GP_DISC_UNSUPPORTED) {
		gp_note("process %d (%s) is not profiled: %s", (int)d->pid, d->comm,
			d->why[0] ? d->why : d->reason);
		count_error(a, d->reason);
		return true;
	}
	if (a->started_this_tick)
		return false;
	a->started_this_tick = true;
	p = calloc(1, sizeof(*p));
	if (!p) {
		count_error(a, "out_of_memory");
		return true;
	}
	p->pid = d->pid;
	snprintf(p->comm, sizeof(p->comm), "%s", d->comm);
	snprintf(p->container, sizeof(p->container), "%s", d->container);
	snprintf(p->version, sizeof(p->version), "%s", d->version);
	gp_log_capture(why, sizeof(why));
	rc = gp_target_attach(d->pid, &p->t);
	gp_log_capture(NULL, 0);
	if (!rc)
		rc = start_session(a, p, why, sizeof(why));
	if (rc) {
		gp_target_close(&p->t);
		free(p);
		/* Gone meanwhile: nothing to list. */
		if (rc == GP_EXIT_TARGET_GONE || rc == GP_EXIT_NO_PROCESS)
			return true;
		gp_note("process %d (%s) is not profiled: %s", (int)d->pid, d->comm, why);
		gp_discovery_refuse(&a->disc, d->pid, start_reason(rc), why);
		count_error(a, start_reason(rc));
		return true;
	}
	HASH_ADD_INT(a->procs, pid, p);
	gp_note("profiling process %d (%s, Python %s%s%s)", (int)p->pid, p->comm, p->version,
		p->container[0] ? ", container " : "", p->container);
	return true;
}

/* A session that stopped by itself: the process exited, or exec'd away. */
static void session_ended(struct agent *a, struct agent_proc *p)
{
	enum gp_stop_reason why = stop_session(a, p);
	pid_t pid = p->pid;

	if (why == GP_STOP_ERROR)
		count_error(a, "session_error");
	gp_note("process %d (%s) %s", (int)pid, p->comm,
		why == GP_STOP_TARGET_EXEC ? "exec'd another program" : "exited");
	drop_proc(a, p);
	/* It may run another Python now: looked at again. */
	if (why == GP_STOP_TARGET_EXEC || why == GP_STOP_ERROR)
		gp_discovery_recheck(&a->disc, pid, a->now_ns);
}

/* The period is over: write it (--profile-dir) and go on in a new session. */
static void rotate(struct agent *a, struct agent_proc *p)
{
	char why[512];
	int rc;

	stop_session(a, p);
	rc = start_session(a, p, why, sizeof(why));
	if (rc) {
		gp_debug("process %d: no new session (%s)", (int)p->pid, why);
		if (rc != GP_EXIT_TARGET_GONE)
			count_error(a, start_reason(rc));
		drop_proc(a, p);
	}
}

static void poll_sessions(struct agent *a)
{
	struct agent_proc *p, *tmp, *due = NULL;

	HASH_ITER(hh, a->procs, p, tmp) {
		if (gp_session_poll(p->s, 0)) {
			session_ended(a, p);
			continue;
		}
		if (a->now_ns >= p->next_profile_ns &&
		    (!due || p->next_profile_ns < due->next_profile_ns))
			due = p;
	}
	/* One reload per tick, the most overdue: the others keep being drained. */
	if (due && !a->started_this_tick) {
		a->started_this_tick = true;
		rotate(a, due);
	}
}

/* --- metrics ----------------------------------------------------------------- */

/* The interpreter's own count of GIL acquisitions (switch_number). */
static bool gil_switches(struct agent_proc *p, uint64_t gil, uint64_t *out)
{
	pid_t pid = p->pid;
	struct gp_mem mem = gp_mem_process(&pid);
	int32_t off = p->t.layout ? p->t.layout->gil_switch_number : GP_ABSENT;

	/* 0 is the GIL's interval: a row without the field. */
	if (!gil || off <= 0)
		return false;
	return !gp_mem_read_u64(&mem, gil + (uint64_t)off, out);
}

static void self_usage(struct gp_metrics *m)
{
	struct rusage ru;
	char buf[256];
	long pages = 0;
	FILE *f;

	if (!getrusage(RUSAGE_SELF, &ru)) {
		m->user_cpu_s = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
		m->system_cpu_s = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	}
	f = fopen("/proc/self/statm", "re");
	if (f) {
		if (fgets(buf, sizeof(buf), f) && sscanf(buf, "%*d %ld", &pages) == 1)
			m->rss_bytes = (uint64_t)pages * (uint64_t)sysconf(_SC_PAGESIZE);
		fclose(f);
	}
}

static int fill_proc(struct agent *a, struct agent_proc *p, struct gp_metrics *m,
		     struct gp_metrics_proc *mp)
{
	struct gp_session_view v = { 0 };

	/* Loading: its counters as they were, nothing else read. */
	if (!p->loading && p->s) {
		update_times(a, p);
		gp_session_peek(p->s, &v);
	}
	*mp = (struct gp_metrics_proc){
		.pid = p->pid, .process = p->comm, .container = p->container,
		.python_version = p->version, .supported = true,
		.contention_known = a->o->rec.mode == GP_MODE_WALL,
		.contended_ns = p->shown_contended,
	};
	memcpy(mp->state_ns, p->shown, sizeof(mp->state_ns));
	/* While its session loads, the last count read (a series never blinks). */
	if (!p->loading && gil_switches(p, v.gil, &p->switches))
		p->switches_known = true;
	mp->switches_known = p->switches_known;
	mp->switches = p->switches;
	m->samples += p->base_samples + v.counters[GP_CNT_SAMPLES];
	m->lost += p->base_lost + v.lost;
	m->bpf_run_ns += p->base_bpf_ns + v.bpf_run_ns;
	m->bpf_runs += p->base_bpf_runs + v.bpf_runs;
	if (a->o->per_thread) {
		struct gp_metrics_thread *ts = calloc(HASH_COUNT(p->threads) + 1, sizeof(*ts));
		struct agent_thread *th, *tmp;
		size_t n = 0;

		if (!ts)
			return -1;
		HASH_ITER(hh, p->threads, th, tmp) {
			/* Threads that exited stay in the process's sums only. */
			if (!th->live)
				continue;
			ts[n].tid = th->tid;
			ts[n].name = th->name;
			memcpy(ts[n].state_ns, th->shown, sizeof(ts[n].state_ns));
			n++;
		}
		mp->threads = ts;
		mp->nthreads = n;
	}
	return 0;
}

static int render(void *ctx, char **buf, size_t *len)
{
	struct agent *a = ctx;
	struct gp_metrics_proc *mp;
	size_t cap, n = 0;
	struct gp_metrics m;
	struct agent_proc *p, *tmp;
	struct gp_disc_proc *d, *dtmp;
	FILE *f;
	int rc = -1;

	/* The loop's state from here on: counted and read under its lock. */
	pthread_mutex_lock(&a->lock);
	cap = HASH_COUNT(a->procs) + HASH_COUNT(a->disc.by_pid) + 1;
	mp = calloc(cap, sizeof(*mp));
	if (!mp) {
		pthread_mutex_unlock(&a->lock);
		return -1;
	}
	m = (struct gp_metrics){
		.mode = gp_mode_name(a->o->rec.mode), .rate_hz = a->o->rec.rate_hz,
		.attached = HASH_COUNT(a->procs), .samples = a->done_samples, .lost = a->done_lost,
		.bpf_run_ns = a->done_bpf_ns, .bpf_runs = a->done_bpf_runs,
		.discovery_events = a->disc.events, .profiles_written = a->profiles_written,
		.errors = a->errors, .nerrors = a->nerrors,
	};
	a->now_ns = gp_mono_ns();
	HASH_ITER(hh, a->procs, p, tmp) {
		if (fill_proc(a, p, &m, &mp[n]))
			goto out;
		n++;
	}
	HASH_ITER(hh, a->disc.by_pid, d, dtmp) {
		if (d->verdict != GP_DISC_UNSUPPORTED || n == cap)
			continue;
		mp[n++] = (struct gp_metrics_proc){
			.pid = d->pid, .process = d->comm, .container = d->container,
			.python_version = d->version, .supported = false, .reason = d->reason,
		};
	}
	m.procs = mp;
	m.nprocs = n;
	m.bpf_known = m.bpf_runs > 0;
	self_usage(&m);
	*buf = NULL;
	*len = 0;
	f = open_memstream(buf, len);
	if (!f)
		goto out;
	rc = gp_write_metrics(&m, f);
	if (fclose(f))
		rc = -1;
	if (rc) {
		free(*buf);
		*buf = NULL;
	}
out:
	pthread_mutex_unlock(&a->lock);
	for (size_t i = 0; i < n; i++)
		free((void *)mp[i].threads);
	free(mp);
	return rc;
}

/* --- the loop ---------------------------------------------------------------- */

/* One session per process: its perf events, maps and links are descriptors. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int signals_fd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	/* Blocked, so read here: the sessions' own handlers never run. */
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -1;
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static int check_profile_dir(const char *dir)
{
	struct stat st;

	if (!dir)
		return 0;
	if (mkdir(dir, 0750) && errno != EEXIST) {
		gp_error("cannot create --profile-dir %s: %s", dir, strerror(errno));
		return GP_EXIT_OUTPUT;
	}
	if (stat(dir, &st) || !S_ISDIR(st.st_mode) || access(dir, W_OK | X_OK)) {
		gp_error("cannot write profiles to %s: %s", dir,
			 errno ? strerror(errno) : "not a directory");
		return GP_EXIT_OUTPUT;
	}
	return 0;
}

static void shutdown_all(struct agent *a)
{
	struct agent_proc *p, *tmp;

	/* No scrape from now on; last profiles written, every session detached. */
	gp_http_stop(a->http);
	a->http = NULL;
	HASH_ITER(hh, a->procs, p, tmp) {
		a->now_ns = gp_mono_ns();
		drop_proc(a, p);
	}
	gp_discovery_free(&a->disc);
}

int gp_cmd_agent(int argc, char **argv)
{
	struct gp_agent_options o;
	struct agent a = { .o = &o, .lock = PTHREAD_MUTEX_INITIALIZER };
	struct pollfd pfd;
	struct signalfd_siginfo si;
	uint64_t t0;
	int rc, sfd;

	rc = gp_agent_cli_parse(argc, argv, &o);
	if (rc)
		return rc;
	if (o.help) {
		gp_agent_usage(stdout);
		return GP_EXIT_OK;
	}
	gp_log_verbose = o.rec.verbose;
	gp_log_quiet = o.rec.quiet;
	if (geteuid() != 0) {
		gp_error("the agent needs root: it attaches to every Python process (try sudo)");
		return GP_EXIT_PERMISSION;
	}
	rc = check_profile_dir(o.profile_dir);
	if (rc)
		return rc;
	sfd = signals_fd();
	if (sfd < 0) {
		gp_error("cannot set up signal handling: %s", strerror(errno));
		return GP_EXIT_FAILURE;
	}
	raise_fd_limit();
	pthread_mutex_lock(&a.lock);
	rc = gp_http_start(&a.http, o.listen, render, &a);
	if (!rc)
		rc = gp_discovery_start(&a.disc, o.rec.btf_path);
	pthread_mutex_unlock(&a.lock);
	if (rc)
		goto out;
	gp_note("serving metrics at http://%s/metrics", o.listen);
	t0 = gp_mono_ns();
	for (;;) {
		pthread_mutex_lock(&a.lock);
		a.now_ns = gp_mono_ns();
		a.started_this_tick = false;
		gp_discovery_tick(&a.disc, a.now_ns, on_found, NULL, &a);
		poll_sessions(&a);
		pthread_mutex_unlock(&a.lock);
		/* The sessions' rings are drained every tick (they wake nobody). */
		pfd = (struct pollfd){ .fd = sfd, .events = POLLIN };
		if (poll(&pfd, 1, TICK_MS) == 1 && read(sfd, &si, sizeof(si)) == sizeof(si)) {
			gp_note("stopping (%s)", strsignal((int)si.ssi_signo));
			break;
		}
		if (o.duration_ns && gp_mono_ns() - t0 >= o.duration_ns)
			break;
	}
out:
	shutdown_all(&a);
	close(sfd);
	return rc;
}
