// SPDX-License-Identifier: BSD-2-Clause
/*
 * session.c — one recording: load and attach the sampler, drain its ring
 * buffer into the profile until a stop condition, then detach and drain
 * what is left so nothing collected is lost.
 */
#define _GNU_SOURCE
#include "session.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "bpfload.h"
#include "exitcodes.h"
#include "gp_log.h"
#include "interpreters.h"
#include "pythreads.h"
#include "symbolize.h"

#define POLL_MS 100
#define STATUS_INTERVAL_NS (250ULL * 1000 * 1000)
#define RINGBUF_BYTES (16u << 20)
/* threading._active is read again for a new thread at most this often. */
#define PYTHREADS_INTERVAL_NS (250ULL * 1000 * 1000)
/* Records carry stack copies (~6 KiB typical): a few seconds of slack. */
#define NATIVE_RINGBUF_BYTES (64u << 20)

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: the poll must return so the loop sees the signal. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t unix_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

struct recorder {
	const struct gp_options *o;
	struct gp_target *t;
	struct gp_profile *prof;
	struct gp_symbolizer sym;
	struct gp_native_ctx native;  /* with --native / --kernel */
	bool has_native;
	struct gp_session_result *res;
	pid_t mem_pid;
	char main_comm[64];
	struct gp_pythreads pythreads;
	uint64_t pythreads_ns;     /* last read of threading._active */
	uint32_t locs[GP_STACK_MAX];
	struct gp_interps subinterps;
};

/* The thread's name in Python's threading module, read again if unknown. */
static const char *python_name(struct recorder *r, const struct gp_thread *th, bool force)
{
	int64_t id = gp_ns_tid(th->pid, th->tid);
	const char *name = force ? NULL : gp_pythreads_name(&r->pythreads, id);
	uint64_t now = mono_ns();

	if (name || (!force && now - r->pythreads_ns < PYTHREADS_INTERVAL_NS))
		return name;
	r->pythreads_ns = now;
	gp_pythreads_refresh(&r->pythreads);
	return gp_pythreads_name(&r->pythreads, id);
}

/*
 * Thread names: Python's (threading) where it has one; else the main
 * thread's comm, and other threads' only if they set their own.
 */
static void name_thread(struct recorder *r, struct gp_thread *th, bool force)
{
	const char *py = python_name(r, th, force);
	char comm[64];

	if (py) {
		snprintf(th->name, sizeof(th->name), "%s", py);
		return;
	}
	gp_target_thread_name(th->pid, th->tid, comm, sizeof(comm));
	if (!comm[0])
		return;
	if (th->tid == th->pid || strcmp(comm, r->main_comm))
		snprintf(th->name, sizeof(th->name), "%s", comm);
}

static int handle_sample(void *ctx, void *data, size_t size)
{
	struct recorder *r = ctx;
	const struct gp_sample *s = data;
	struct gp_thread *th;
	uint32_t n;

	if (size < GP_SAMPLE_HDR_SIZE || s->type != GP_EV_SAMPLE || s->nframes > GP_MAX_FRAMES ||
	    size < GP_SAMPLE_HDR_SIZE + s->nframes * sizeof(struct gp_frame)) {
		r->res->malformed++;
		return 0;
	}
	th = gp_profile_thread(r->prof, (pid_t)s->pid, (pid_t)s->tid);
	if (!th)
		return -ENOMEM;
	if (!th->first_ns) {
		th->first_ns = s->ts;
		name_thread(r, th, false);
	}
	th->last_ns = s->ts;
	if (r->has_native && (s->flags & GP_SAMPLE_HAS_NATIVE))
		n = gp_native_symbolize(&r->native, s, size, mono_ns(), r->locs);
	else
		n = gp_symbolize_python(&r->sym, s, mono_ns(), r->locs);
	if (gp_profile_add(r->prof, th->idx, GP_STATE_NONE, false, r->locs, n, 1,
			   r->prof->period_ns, r->prof->period_ns))
		return -ENOMEM;
	return 0;
}

static void status_line(const struct recorder *r, uint64_t elapsed, uint64_t lost)
{
	char total[32] = "";

	if (r->o->duration_ns)
		snprintf(total, sizeof(total), " / %.1fs", r->o->duration_ns / 1e9);
	fprintf(stderr,
		"\rgil-prof: recording %d: %.1fs%s, %" PRIu64 " samples, %" PRIu64
		" lost, %zu threads\033[K",
		(int)r->t->pid, elapsed / 1e9, total, r->prof->samples, lost, r->prof->nthreads);
	fflush(stderr);
}

static uint64_t lost_now(struct gp_bpf *b)
{
	uint64_t c[GP_CNT__MAX];

	gp_bpf_counters(b, c);
	return c[GP_CNT_RB_FULL] + c[GP_CNT_NO_SCRATCH];
}

static void record_loop(struct recorder *r, struct gp_bpf *b, struct ring_buffer *rb)
{
	bool tty = isatty(STDERR_FILENO) && !r->o->quiet;
	uint64_t t0 = mono_ns(), next_status = t0 + STATUS_INTERVAL_NS, now;

	for (;;) {
		/*
		 * Records are submitted without wakeups (see gilprof.bpf.c): the
		 * poll returns early only when the ring is filling up, so drain
		 * it on every tick too, while the target's memory is readable.
		 */
		int err = ring_buffer__poll(rb, POLL_MS);

		if (err >= 0)
			err = ring_buffer__consume(rb);
		now = mono_ns();
		if (err < 0 && err != -EINTR) {
			gp_error("reading samples failed: %s", strerror(-err));
			r->res->reason = GP_STOP_ERROR;
			break;
		}
		if (stop_signal) {
			r->res->reason = GP_STOP_SIGNAL;
			r->res->signal = stop_signal;
			break;
		}
		if (gp_target_exited(r->t)) {
			r->res->reason = GP_STOP_TARGET_EXIT;
			break;
		}
		if (r->o->duration_ns && now - t0 >= r->o->duration_ns) {
			r->res->reason = GP_STOP_DURATION;
			break;
		}
		if (tty && now >= next_status) {
			status_line(r, now - t0, lost_now(b));
			next_status = now + STATUS_INTERVAL_NS;
		}
	}
	if (tty)
		fprintf(stderr, "\r\033[K");
	r->prof->duration_ns = mono_ns() - t0;
}

/* Sub-interpreters, looked for at the start and at the end of a recording. */
static void scan_interpreters(struct recorder *r)
{
	gp_interps_scan(r->t->layout, &r->sym.codes.mem, r->t->runtime, &r->subinterps);
}

static void warn_interpreters(const struct recorder *r)
{
	char ids[256];

	if (!r->subinterps.n)
		return;
	gp_interps_format(&r->subinterps, ids, sizeof(ids));
	gp_warn("process %d also runs sub-interpreters (ids %s): a thread that entered one "
		"is shown with the main-interpreter stack that entered it; threads started "
		"inside one are shown with their own",
		(int)r->t->pid, ids);
}

static void finish_threads(struct recorder *r)
{
	for (size_t i = 0; i < r->prof->nthreads; i++) {
		struct gp_thread *th = r->prof->threads[i];
		char before[64];

		/* Threads may have renamed themselves since first seen. */
		snprintf(before, sizeof(before), "%s", th->name);
		name_thread(r, th, i == 0);
		if (!th->name[0])
			snprintf(th->name, sizeof(th->name), "%s", before);
	}
}

int gp_session_run(const struct gp_options *o, struct gp_target *t, struct gp_profile *prof,
		   struct gp_session_result *res)
{
	struct gp_bpf_config cfg = {
		.btf_path = o->btf_path,
		.layout = t->layout,
		.rate_hz = o->rate_hz,
		.max_frames = GP_MAX_FRAMES,
		.ringbuf_bytes = o->native ? NATIVE_RINGBUF_BYTES : RINGBUF_BYTES,
		.stack_bytes = o->native ? o->stack_bytes : 0,
		.kernel_stack = o->kernel,
	};
	struct gp_proc proc = { .runtime = t->runtime, .code_type = t->code_type };
	struct recorder r = { .o = o, .t = t, .prof = prof, .res = res };
	struct ring_buffer *rb = NULL;
	struct gp_bpf b = { 0 };
	int rc;

	memset(res, 0, sizeof(*res));
	r.mem_pid = t->pid;
	prof->pid = t->pid;
	prof->rate_hz = o->rate_hz;
	prof->period_ns = 1000000000ULL / o->rate_hz;
	snprintf(prof->python_version, sizeof(prof->python_version), "%s", t->version);
	snprintf(prof->comm, sizeof(prof->comm), "%s", t->comm);
	snprintf(r.main_comm, sizeof(r.main_comm), "%s", t->comm);
	gp_symbolizer_init(&r.sym, prof, t->layout, gp_mem_process(&r.mem_pid), t->code_type,
			   cfg.max_frames);
	gp_pythreads_init(&r.pythreads, t->layout, gp_objlayout_for(t->version_hex),
			  gp_mem_process(&r.mem_pid), t->runtime);
	if (o->native || o->kernel) {
		if (gp_native_init(&r.native, &r.sym, o->native, o->kernel, o->native_all)) {
			gp_error("out of memory");
			rc = GP_EXIT_FAILURE;
			goto out;
		}
		r.has_native = true;
	}

	rc = gp_bpf_load(&b, &cfg);
	if (rc)
		goto out;
	if (gp_bpf_add_proc(&b, (uint32_t)t->pid, &proc)) {
		gp_error("cannot register process %d with the sampler: %s", (int)t->pid,
			 strerror(errno));
		rc = GP_EXIT_FAILURE;
		goto out;
	}
	rb = ring_buffer__new(gp_bpf_ringbuf_fd(&b), handle_sample, &r, NULL);
	if (!rb) {
		gp_error("cannot open the sample ring buffer: %s", strerror(errno));
		rc = GP_EXIT_FAILURE;
		goto out;
	}
	install_signals();
	rc = gp_bpf_attach(&b, o->rate_hz);
	if (rc)
		goto out;
	if (!t->launched && gp_target_exited(t)) {
		gp_error("process %d exited before it could be attached", (int)t->pid);
		rc = GP_EXIT_TARGET_GONE;
		goto out;
	}
	prof->start_unix_ns = unix_ns();
	scan_interpreters(&r);
	gp_target_resume(t);
	gp_debug("sampling started");
	record_loop(&r, &b, rb);
	scan_interpreters(&r);
	warn_interpreters(&r);

	/* Stop sampling, then take everything still in the ring buffer. */
	gp_bpf_detach(&b);
	gp_debug("sampling stopped");
	ring_buffer__consume(rb);
	finish_threads(&r);
	gp_bpf_counters(&b, res->counters);
	gp_bpf_prog_stats(&b, &res->bpf_run_ns, &res->bpf_runs);
	prof->lost = res->counters[GP_CNT_RB_FULL] + res->counters[GP_CNT_NO_SCRATCH];
	if (r.has_native)
		res->native = *gp_native_finish(&r.native);
	gp_profile_sort_stacks(prof);
out:
	ring_buffer__free(rb);
	if (b.skel)
		gp_bpf_destroy(&b);
	if (r.has_native)
		gp_native_free(&r.native);
	gp_symbolizer_free(&r.sym);
	gp_pythreads_free(&r.pythreads);
	return rc;
}
