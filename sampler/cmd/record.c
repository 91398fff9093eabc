// SPDX-License-Identifier: BSD-2-Clause
/*
 * record.c — the `record` command: check privileges and output paths before
 * touching the target, attach (or launch), record with the one sampler
 * (record/session.c), write every requested output, and summarise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "commands.h"
#include "../account/profile.h"
#include "../common/exitcodes.h"
#include "../common/gp_log.h"
#include "../record/privileges.h"
#include "../record/processes.h"
#include "../record/session.h"
#include "../target/target.h"
#include "../common/gp_clock.h"

static int check_outputs(const struct gp_options *o)
{
	char why[PATH_MAX + 64];

	for (int i = 0; i < o->noutputs; i++) {
		if (gp_output_check(o->outputs[i].path, why, sizeof(why))) {
			gp_error("cannot write %s: %s", o->outputs[i].path, why);
			return GP_EXIT_OUTPUT;
		}
	}
	return 0;
}

/* Without -o: gil-prof-PID-TIMESTAMP.EXT in the current directory. */
static void default_output(struct gp_options *o, pid_t pid, char *buf, size_t len)
{
	enum gp_format f = o->outputs[0].format ? o->outputs[0].format : GP_FORMAT_DEFAULT;
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	snprintf(buf, len, "gil-prof-%d-%04d%02d%02dT%02d%02d%02d%s", (int)pid,
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 gp_format_extension(f));
	o->outputs[0].path = buf;
	o->outputs[0].format = f;
	o->noutputs = 1;
}

static void describe_stop(const struct gp_target *t, const struct gp_session_result *res,
			  struct gp_profile *prof)
{
	char how[128];

	switch (res->reason) {
	case GP_STOP_SIGNAL:
		gp_note("stopped by %s", strsignal(res->signal));
		break;
	case GP_STOP_TARGET_EXIT:
		/* How it ended: waitpid for a launched target, the kernel's exit record else. */
		if (t->status_known) {
			gp_describe_status(t->wait_status, how, sizeof(how));
			gp_note("process %d %s", (int)t->pid, how);
			gp_profile_comment(prof, "target %s", how);
		} else {
			gp_note("process %d exited", (int)t->pid);
			gp_profile_comment(prof, "target exited during the recording");
		}
		break;
	case GP_STOP_TARGET_EXEC:
		gp_note("recording stopped: process %d no longer runs a Python gil-prof follows",
			(int)t->pid);
		break;
	default:
		break;
	}
}

/* Counters worth a word to the user, with what to do about them. */
static void advise(const struct gp_session_result *res, const struct gp_profile *prof)
{
	const uint64_t *c = res->counters;

	if (prof->lost)
		gp_warn("%" PRIu64 " samples lost: the ring buffer was full; lower --rate or "
			"raise --ring-size",
			prof->lost);
	if (c[GP_CNT_WALK_DEPTH])
		gp_warn("%" PRIu64 " stacks deeper than %d frames were truncated (marked "
			"[truncated] at the root)",
			c[GP_CNT_WALK_DEPTH], GP_MAX_FRAMES);
	if (c[GP_CNT_TSTATE_SCAN_LIMIT])
		gp_warn("%" PRIu64 " samples from threads not found among the first %d Python "
			"threads; their stacks are missing",
			c[GP_CNT_TSTATE_SCAN_LIMIT], GP_MAX_THREAD_SCAN);
	if (c[GP_CNT_WALK_READ_FAULT] + c[GP_CNT_WALK_LOOP] + c[GP_CNT_WALK_GARBAGE] +
	    c[GP_CNT_WALK_NO_BASE] > prof->samples / 100 + 10)
		gp_warn("%" PRIu64 " stacks cut by unreadable, looping, garbage or torn frame "
			"chains (memory changing while read); shown with a [stack cut] root",
			c[GP_CNT_WALK_READ_FAULT] + c[GP_CNT_WALK_LOOP] + c[GP_CNT_WALK_GARBAGE] +
			c[GP_CNT_WALK_NO_BASE]);
	/* Counted apart: no stack at all, not a cut one (e.g. across an exec). */
	if (c[GP_CNT_TSTATE_READ_FAULT] > prof->samples / 100 + 10)
		gp_warn("%" PRIu64 " samples have no Python stack: the interpreter's thread list "
			"was unreadable (memory changing while read, or a program exec'd)",
			c[GP_CNT_TSTATE_READ_FAULT]);
	if (c[GP_CNT_GIL_UNKNOWN] > c[GP_CNT_SAMPLES] / 100 + 10)
		gp_warn("%" PRIu64 " samples were taken before the interpreter's GIL could be "
			"found; their GIL state is shown as unknown",
			c[GP_CNT_GIL_UNKNOWN]);
	if (c[GP_CNT_FORK_FULL])
		gp_warn("%" PRIu64 " child processes were not followed: at most %d processes are "
			"profiled at once",
			c[GP_CNT_FORK_FULL], GP_MAX_PROCS);
	if (res->malformed)
		gp_warn("%" PRIu64 " malformed sample records were dropped", res->malformed);
}

/*
 * A profile whose samples mostly lack their Python stack says nothing true
 * about the program: said in words, and in the exit status.
 */
static int judge_trust(const struct gp_session_result *res, struct gp_profile *prof)
{
	const struct gp_trust_verdict *v = &res->trust;
	const uint64_t *c = res->counters;
	uint64_t lookup = c[GP_CNT_NO_TSTATE] + c[GP_CNT_TSTATE_SCAN_LIMIT] +
			  c[GP_CNT_TSTATE_READ_FAULT];
	uint64_t walk = c[GP_CNT_NO_FRAME] + c[GP_CNT_WALK_READ_FAULT] + c[GP_CNT_WALK_GARBAGE];
	char why[192];

	if (v->trusted)
		return 0;
	if (lookup >= walk)
		snprintf(why, sizeof(why),
			 "the sampler did not find the threads' Python thread states "
			 "(no_tstate %" PRIu64 ", tstate_scan_limit %" PRIu64
			 ", tstate_read_fault %" PRIu64 ")",
			 c[GP_CNT_NO_TSTATE], c[GP_CNT_TSTATE_SCAN_LIMIT], c[GP_CNT_TSTATE_READ_FAULT]);
	else
		snprintf(why, sizeof(why),
			 "the sampler found no readable Python frame (no_frame %" PRIu64
			 ", walk_read_fault %" PRIu64 ", walk_garbage %" PRIu64 ")",
			 c[GP_CNT_NO_FRAME], c[GP_CNT_WALK_READ_FAULT], c[GP_CNT_WALK_GARBAGE]);
	gp_warn("this profile cannot be trusted: %.0f%% of the samples (%" PRIu64 " of %" PRIu64
		") have no Python stack, because %s; it does not show where "
		"the program spent its time (README \"Kernels\" lists the kernels gil-prof "
		"serves)",
		100.0 * v->missing / v->records, v->missing, v->records, why);
	gp_profile_comment(prof, "not trustworthy: %" PRIu64 " of %" PRIu64
			   " samples have no Python stack",
			   v->missing, v->records);
	return GP_EXIT_UNTRUSTED;
}

static void verbose_counters(const struct gp_session_result *res)
{
	static const char *const names[GP_CNT__MAX] = {
		[GP_CNT_OTHER_TASK] = "other_task",       [GP_CNT_SAMPLES] = "samples",
		[GP_CNT_EMITTED] = "emitted",             [GP_CNT_RB_FULL] = "ringbuf_full",
		[GP_CNT_NO_SCRATCH] = "no_scratch",       [GP_CNT_NO_TSTATE] = "no_tstate",
		[GP_CNT_TSTATE_SCAN_LIMIT] = "tstate_scan_limit",
		[GP_CNT_TSTATE_READ_FAULT] = "tstate_read_fault",
		[GP_CNT_NO_FRAME] = "no_frame",           [GP_CNT_WALK_READ_FAULT] = "walk_read_fault",
		[GP_CNT_WALK_BAD_CODE] = "walk_bad_code", [GP_CNT_WALK_LOOP] = "walk_loop",
		[GP_CNT_WALK_DEPTH] = "walk_depth",       [GP_CNT_WALK_GARBAGE] = "walk_garbage",
		[GP_CNT_NATIVE_VMA_BUSY] = "native_vma_busy",
		[GP_CNT_NATIVE_NO_VMA] = "native_no_vma",
		[GP_CNT_NATIVE_VMA_ERROR] = "native_vma_error",
		[GP_CNT_NATIVE_READ_FAULT] = "native_read_fault",
		[GP_CNT_NATIVE_HOLES] = "native_holes",
		[GP_CNT_NATIVE_CUT] = "native_cut",
		[GP_CNT_KSTACK_FAULT] = "kstack_fault",
		[GP_CNT_GIL_UNKNOWN] = "gil_unknown",
		[GP_CNT_SWITCH_OTHER] = "switch_other",   [GP_CNT_SWITCH_OUT] = "switch_out",
		[GP_CNT_SWITCH_IN] = "switch_in",         [GP_CNT_THREAD_EXIT] = "thread_exit",
		[GP_CNT_SNAPSHOT] = "snapshot",           [GP_CNT_ITER_OTHER] = "iter_other",
		[GP_CNT_PROC_OTHER] = "proc_other",       [GP_CNT_FORK] = "fork",
		[GP_CNT_FORK_FULL] = "fork_full",         [GP_CNT_EXEC] = "exec",
		[GP_CNT_PROC_EXIT] = "proc_exit",        [GP_CNT_HOST_PROC] = "host_proc",
		[GP_CNT_GIL_ACQUIRED] = "gil_acquired",   [GP_CNT_GIL_RELEASED] = "gil_released",
		[GP_CNT_GIL_OTHER] = "gil_other",         [GP_CNT_GIL_NOT_MAIN] = "gil_not_main",
		[GP_CNT_GIL_NO_SLOT] = "gil_no_slot",
		[GP_CNT_BLAME] = "blame",                 [GP_CNT_BLAME_NO_HOLDER] = "blame_no_holder",
		[GP_CNT_BLAME_UNREADABLE] = "blame_unreadable",
		[GP_CNT_KFIELD_FALLBACK] = "kfield_fallback",
		[GP_CNT_WALK_NO_BASE] = "walk_no_base",
		[GP_CNT_CODE_MEMO_HIT] = "code_memo_hit",
	};

	for (int i = 0; i < GP_CNT__MAX; i++)
		gp_debug("counter %-18s %" PRIu64, names[i], res->counters[i]);
	if (res->bpf_runs)
		gp_debug("bpf: %" PRIu64 " runs, %.2f us per run, %.2f us per target sample",
			 res->bpf_runs, res->bpf_run_ns / 1e3 / res->bpf_runs,
			 res->counters[GP_CNT_SAMPLES]
				 ? res->bpf_run_ns / 1e3 / res->counters[GP_CNT_SAMPLES]
				 : 0.0);
	for (int p = 0; p < GP_PROG__MAX; p++)
		if (res->progs[p].runs)
			gp_debug("bpf prog %-14s %" PRIu64 " runs, %" PRIu64 " ns, %.2f us per run",
				 gp_prog_name((enum gp_prog)p), res->progs[p].runs,
				 res->progs[p].run_ns, res->progs[p].run_ns / 1e3 / res->progs[p].runs);
}

/* --split-gil files (always folded). */
static void wrote_split(const char *path)
{
	gp_note("wrote %s (folded)", path);
}

/* A file that could not be written goes to the temporary directory instead. */
static void rescue(const struct gp_profile *prof, const char *path, enum gp_format f)
{
	char saved[PATH_MAX + 64];

	if (gp_output_rescue(prof, path, f, saved, sizeof(saved)))
		gp_error("cannot save it elsewhere either (%s): %s", saved, strerror(errno));
	else
		gp_note("saved the %s profile to %s instead", gp_format_name(f), saved);
}

static int write_outputs(const struct gp_options *o, const struct gp_profile *prof)
{
	int rc = 0;

	for (int i = 0; i < o->noutputs; i++) {
		char failed[PATH_MAX + 64];

		if (o->split_gil && o->outputs[i].format == GP_FORMAT_FOLDED) {
			if (gp_output_write_split(prof, o->outputs[i].path, o->outputs[i].format,
						  wrote_split, failed, sizeof(failed))) {
				gp_error("cannot write %s: %s", failed, strerror(errno));
				/* All states in one file: nothing is lost. */
				rescue(prof, o->outputs[i].path, o->outputs[i].format);
				rc = GP_EXIT_OUTPUT;
			}
			continue;
		}
		if (gp_output_write(prof, o->outputs[i].path, o->outputs[i].format)) {
			gp_error("cannot write %s: %s", o->outputs[i].path, strerror(errno));
			rescue(prof, o->outputs[i].path, o->outputs[i].format);
			rc = GP_EXIT_OUTPUT;
			continue;
		}
		gp_note("wrote %s (%s)", o->outputs[i].path, gp_format_name(o->outputs[i].format));
	}
	return rc;
}

#define STATUS_INTERVAL_NS (250ULL * 1000 * 1000)

static void status_line(const struct gp_options *o, const struct gp_target *t,
			const struct gp_session_view *v)
{
	char total[32] = "";

	if (o->duration_ns)
		snprintf(total, sizeof(total), " / %.1fs", o->duration_ns / 1e9);
	fprintf(stderr,
		"\rgil-prof: recording %d: %.1fs%s, %" PRIu64 " samples, %" PRIu64
		" lost, %zu threads\033[K",
		(int)t->pid, v->elapsed_ns / 1e9, total, v->samples, v->lost, v->nthreads);
	fflush(stderr);
}

/* Sample until a stop condition, with a status line on a terminal. */
static int record(struct gp_options *o, struct gp_target *t, struct gp_profile *prof,
		  struct gp_session_result *res)
{
	bool tty = isatty(STDERR_FILENO) && !o->quiet;
	uint64_t next_status = gp_mono_ns() + STATUS_INTERVAL_NS;
	struct gp_session_view v;
	struct gp_session *s;
	int rc;

	memset(res, 0, sizeof(*res));
	/* The report's GIL durations without a GIL trace (wall mode only). */
	o->estimate_gil = !o->timeline;
	rc = gp_session_start(o, t, prof, &s);
	if (rc)
		return rc;
	/* The tree already running; the kernel side follows what it starts. */
	if (o->subprocesses)
		gp_session_add_descendants(s);
	while (!gp_session_poll(s, -1)) {
		if (tty && gp_mono_ns() >= next_status) {
			gp_session_peek(s, &v);
			status_line(o, t, &v);
			next_status = gp_mono_ns() + STATUS_INTERVAL_NS;
		}
	}
	if (tty)
		fprintf(stderr, "\r\033[K");
	rc = gp_session_stop(s, res);
	gp_session_free(s);
	return rc;
}

/* " and 3 child processes" when other processes' threads are in the profile. */
static const char *children_text(const struct gp_profile *prof, char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (size_t k = 0; k < prof->nprocs; k++) {
		if (prof->procs[k]->pid == prof->pid)
			continue;
		for (size_t i = 0; i < prof->nthreads; i++) {
			if (prof->threads[i]->pid == prof->procs[k]->pid) {
				n++;
				break;
			}
		}
	}
	if (n)
		snprintf(buf, len, " and %zu child process%s", n, n == 1 ? "" : "es");
	return buf;
}

int gp_cmd_record(struct gp_options *o)
{
	char default_path[128], children[64];
	struct gp_session_result res;
	struct gp_profile prof;
	struct gp_target t;
	int rc, trust_rc;

	rc = gp_require_privileges();
	if (!rc)
		rc = check_outputs(o);
	if (rc)
		return rc;
	rc = o->command ? gp_target_launch(o->command, &t) : gp_target_attach(o->pid, &t);
	if (rc) {
		gp_target_close(&t);
		return rc;
	}
	if (!o->noutputs || !o->outputs[0].path)
		default_output(o, t.pid, default_path, sizeof(default_path));

	gp_profile_init(&prof);
	rc = record(o, &t, &prof, &res);
	if (rc) {
		gp_target_abandon(&t);
		goto out;
	}
	describe_stop(&t, &res, &prof);
	gp_note("%" PRIu64 " samples (%" PRIu64 " lost) from %zu threads of process %d%s "
		"(%s, Python %s) in %.1f s",
		prof.samples, prof.lost, prof.nthreads, (int)t.pid,
		children_text(&prof, children, sizeof(children)), t.comm, t.version,
		prof.duration_ns / 1e9);
	advise(&res, &prof);
	verbose_counters(&res);
	gp_native_advise(&res.native, res.counters);
	trust_rc = judge_trust(&res, &prof);
	rc = write_outputs(o, &prof);
	if (!rc)
		rc = trust_rc;
	if (!o->quiet) {
		fflush(stderr);
		fputc('\n', stdout);
		gp_write_report(&prof, stdout);
		fflush(stdout);
	}
out:
	gp_profile_free(&prof);
	gp_target_close(&t);
	return rc;
}
