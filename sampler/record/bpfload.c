// SPDX-License-Identifier: BSD-2-Clause
/*
 * bpfload.c — loading the BPF programs and attaching them, after the
 * pattern of libbpf-tools' profile.c: configuration goes into .rodata before
 * load, one CPU-clock perf event per online CPU, links owned by fds so
 * nothing outlives the process (even SIGKILL leaves nothing attached).
 */
#define _GNU_SOURCE
#include "bpfload.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "bpflog.h"
#include "../common/exitcodes.h"
#include "gilprof.skel.h"
#include "../common/gp_log.h"

#define DEFAULT_BTF "/sys/kernel/btf/vmlinux"
/* The verifier's limit on instructions processed per program (BPF_COMPLEXITY_LIMIT_INSNS). */
#define VERIFIER_LIMIT 1000000

/*
 * Why the load failed, in one line. A program the verifier refused has its
 * own exit code: it is a kernel (or gil-prof) matter, not privileges.
 */
static int load_failed(int err)
{
	const struct gp_bpf_rejection *rej = gp_bpflog_rejection();

	if (rej && err != EPERM) {
		gp_error("the kernel's BPF verifier refused program %s (%s)%s%s%s", rej->prog,
			 strerror(err), rej->reason[0] ? ": " : "", rej->reason,
			 gp_log_verbose ? "" : "; run with -v for the verifier log");
		return GP_EXIT_VERIFIER;
	}
	gp_error("the kernel refused the BPF programs (%s)%s", strerror(err),
		 gp_log_verbose ? "" : "; run with -v for libbpf's messages");
	return gp_exit_for_errno(err);
}

/*
 * Refuse a kernel that lacks what this recording needs, in one line, before
 * libbpf's and the verifier's pages of log: decided by probing, not by the
 * version string (distributions backport).
 */
static int check_features(struct gp_bpf *b, const struct gp_bpf_config *cfg)
{
	struct gp_feature_needs needs = { .native = cfg->stack_bytes > 0, .wall = cfg->wall };
	char why[512];

	gp_features_probe(&b->features, cfg->btf_path);
	if (!gp_features_refusal(&b->features, &needs, why, sizeof(why)))
		return 0;
	gp_error("%s: gil-prof needs Linux %s or newer (README \"Kernels\")", why,
		 cfg->wall ? "5.18" : "5.17");
	return GP_EXIT_KERNEL;
}

/*
 * Bytes of verifier log per program with -v. The statistics are a few
 * lines, but the kernel fails the load (ENOSPC) when the log ever needed
 * more than the buffer while verifying, and --native's programs needed
 * between 4 and 8 KiB on 6.18: 8 times that, allocated only with -v.
 */
#define STATS_LOG_BYTES 65536

/*
 * -v: the verifier's statistics of every program (BPF_LOG_STATS: the
 * "processed N insns ... total_states" line, no trace), so the headroom
 * under its limit and the states behind it are visible.
 */
static char *ask_stats(struct gp_bpf *b)
{
	struct bpf_program *prog;
	char *logs;
	int i = 0;

	if (!gp_log_verbose)
		return NULL;
	logs = calloc(GP_PROG__MAX + 8, STATS_LOG_BYTES);
	if (!logs)
		return NULL;
	bpf_object__for_each_program(prog, b->skel->obj) {
		if (i >= GP_PROG__MAX + 8)
			break;
		bpf_program__set_log_buf(prog, logs + (size_t)i++ * STATS_LOG_BYTES,
					 STATS_LOG_BYTES);
		bpf_program__set_log_level(prog, 4);
	}
	return logs;
}

/* -v: how much of the verifier's budget each program used (headroom). */
static void report_verified(struct gp_bpf *b, char *logs)
{
	struct bpf_program *prog;
	int i = 0;

	if (!gp_log_verbose)
		return;
	bpf_object__for_each_program(prog, b->skel->obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		const char *stats = logs && i < GP_PROG__MAX + 8
					    ? strstr(logs + (size_t)i * STATS_LOG_BYTES, "max_states")
					    : NULL;
		size_t n = stats ? strcspn(stats, "\n") : 0;
		const char *depth = logs && i < GP_PROG__MAX + 8
					    ? strstr(logs + (size_t)i * STATS_LOG_BYTES, "stack depth")
					    : NULL;
		size_t dn = depth ? strcspn(depth, "\n") : 0;

		i++;
		if (bpf_program__fd(prog) < 0 ||
		    bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
			continue;
		gp_debug("bpf prog %-14s verified_insns %u (%.1f%% of the verifier's limit)%s%.*s%s%.*s",
			 bpf_program__name(prog), info.verified_insns,
			 100.0 * info.verified_insns / VERIFIER_LIMIT, n ? "; " : "", (int)n,
			 stats ? stats : "", dn ? "; " : "", (int)dn, depth ? depth : "");
	}
}

int gp_bpf_load(struct gp_bpf *b, const struct gp_bpf_config *cfg)
{
	LIBBPF_OPTS(bpf_object_open_opts, open_opts);
	const char *btf = cfg->btf_path ? cfg->btf_path : DEFAULT_BTF;
	char *logs;
	int ncpus, err, rc;

	memset(b, 0, sizeof(*b));
	b->stats_fd = -1;
	gp_bpflog_install();
	if (access(btf, R_OK)) {
		gp_error("kernel BTF not readable at %s (%s): gil-prof needs a kernel built "
			 "with CONFIG_DEBUG_INFO_BTF",
			 btf, strerror(errno));
		return GP_EXIT_KERNEL;
	}
	rc = check_features(b, cfg);
	if (rc)
		return rc;
	if (cfg->btf_path)
		open_opts.btf_custom_path = cfg->btf_path;
	b->skel = gilprof_bpf__open_opts(&open_opts);
	if (!b->skel) {
		gp_error("cannot open the BPF object: %s", strerror(errno));
		return GP_EXIT_KERNEL;
	}
	ncpus = libbpf_num_possible_cpus();
	if (ncpus <= 0) {
		gp_error("cannot count the CPUs: %s", strerror(-ncpus));
		return GP_EXIT_FAILURE;
	}
	b->skel->rodata->cfg.py = *cfg->layout;
	b->skel->rodata->cfg.max_frames = cfg->max_frames;
	b->skel->rodata->cfg.stack_bytes = cfg->stack_bytes;
	b->skel->rodata->cfg.kernel_stack = cfg->kernel_stack;
	b->skel->rodata->cfg.wall = cfg->wall;
	b->skel->rodata->cfg.follow_children = cfg->follow_children;
	b->skel->rodata->cfg.host_procs = cfg->host_procs;
	b->skel->rodata->cfg.gil_events = cfg->gil_events;
	b->skel->rodata->cfg.no_blame = cfg->no_blame;
	/* cpu mode: the off-CPU programs are not even verified; nor are the
	 * GIL transition programs without a timeline. */
	bpf_program__set_autoload(b->skel->progs.on_switch, cfg->wall);
	bpf_program__set_autoload(b->skel->progs.snapshot, cfg->wall);
	bpf_program__set_autoload(b->skel->progs.gil_taken,
				  cfg->gil_events == GP_GIL_EVENTS_UPROBES);
	bpf_program__set_autoload(b->skel->progs.gil_dropping,
				  cfg->gil_events == GP_GIL_EVENTS_UPROBES);
	bpf_program__set_autoload(b->skel->progs.gil_written,
				  cfg->gil_events == GP_GIL_EVENTS_WATCHPOINT);
	b->skel->rodata->wakeup_bytes = cfg->ringbuf_bytes / 4;
	bpf_map__set_max_entries(b->skel->maps.scratch, (__u32)ncpus);
	bpf_map__set_max_entries(b->skel->maps.gil_slots, cfg->gil_events ? (__u32)ncpus : 1);
	bpf_map__set_max_entries(b->skel->maps.events, cfg->ringbuf_bytes);

	logs = ask_stats(b);
	err = gilprof_bpf__load(b->skel);
	if (err) {
		free(logs);
		return load_failed(-err);
	}
	report_verified(b, logs);
	free(logs);
	/* Run-time statistics for the summary; sampling works without them. */
	b->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	return 0;
}

int gp_bpf_add_proc(struct gp_bpf *b, uint32_t pid, const struct gp_proc *proc)
{
	return bpf_map__update_elem(b->skel->maps.procs, &pid, sizeof(pid), proc, sizeof(*proc),
				    BPF_ANY)
		       ? -1
		       : 0;
}

int gp_bpf_get_proc(struct gp_bpf *b, uint32_t pid, struct gp_proc *proc)
{
	return bpf_map__lookup_elem(b->skel->maps.procs, &pid, sizeof(pid), proc, sizeof(*proc),
				    0)
		       ? -1
		       : 0;
}

void gp_bpf_del_proc(struct gp_bpf *b, uint32_t pid)
{
	bpf_map__delete_elem(b->skel->maps.procs, &pid, sizeof(pid), 0);
}

int gp_bpf_attach_procs(struct gp_bpf *b)
{
	struct bpf_program *progs[3] = { b->skel->progs.on_fork, b->skel->progs.on_exec,
					 b->skel->progs.on_exit };

	for (int i = 0; i < 3; i++) {
		b->proc_links[i] = bpf_program__attach(progs[i]);
		if (!b->proc_links[i]) {
			int err = errno;

			gp_error("cannot attach to %s: %s", bpf_program__name(progs[i]),
				 strerror(err));
			return gp_exit_for_errno(err);
		}
	}
	return 0;
}

int gp_perf_event_open(struct perf_event_attr *attr, pid_t pid, int cpu)
{
	return (int)syscall(SYS_perf_event_open, attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

/* CPUs listed in /sys/devices/system/cpu/online ("0-3,5"), as a bitmap. */
static int online_cpus(bool *online, int n)
{
	FILE *f = fopen("/sys/devices/system/cpu/online", "re");
	int a, b, c;

	memset(online, 0, (size_t)n * sizeof(*online));
	if (!f)
		return -1;
	while (fscanf(f, "%d", &a) == 1) {
		b = a;
		c = fgetc(f);
		if (c == '-') {
			if (fscanf(f, "%d", &b) != 1)
				break;
			c = fgetc(f);
		}
		for (int i = a; i <= b && i < n; i++)
			if (i >= 0)
				online[i] = true;
		if (c != ',')
			break;
	}
	fclose(f);
	return 0;
}

static unsigned int max_sample_rate(void)
{
	FILE *f = fopen("/proc/sys/kernel/perf_event_max_sample_rate", "re");
	unsigned int v = 0;

	if (f) {
		if (fscanf(f, "%u", &v) != 1)
			v = 0;
		fclose(f);
	}
	return v;
}

int gp_bpf_attach(struct gp_bpf *b, unsigned int rate_hz)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.size = sizeof(attr),
		/*
		 * A fixed period, not a frequency: in frequency mode the kernel
		 * starts short and adjusts as it goes, so short recordings get
		 * a few percent too many samples. Each sample is exactly one
		 * period of CPU time, which wall mode's off-CPU conversion and
		 * the equivalence samples = time x rate rely on.
		 */
		.sample_period = 1000000000ULL / rate_hz,
	};
	int ncpus = libbpf_num_possible_cpus(), fd;
	unsigned int max_rate = max_sample_rate();
	bool *online;

	if (max_rate && rate_hz > max_rate) {
		gp_error("rate %u Hz is above the kernel's limit of %u Hz "
			 "(kernel.perf_event_max_sample_rate)",
			 rate_hz, max_rate);
		return GP_EXIT_USAGE;
	}
	online = calloc((size_t)ncpus, sizeof(*online));
	b->links = calloc((size_t)ncpus, sizeof(*b->links));
	if (!online || !b->links || online_cpus(online, ncpus)) {
		free(online);
		gp_error("cannot list the online CPUs");
		return GP_EXIT_FAILURE;
	}
	for (int cpu = 0; cpu < ncpus; cpu++) {
		if (!online[cpu])
			continue;
		fd = gp_perf_event_open(&attr, -1, cpu);
		if (fd < 0) {
			int err = errno;

			free(online);
			gp_error("cannot open a CPU-clock perf event on CPU %d: %s", cpu,
				 strerror(err));
			return gp_exit_for_errno(err);
		}
		b->links[b->nlinks] = bpf_program__attach_perf_event(b->skel->progs.on_cpu_sample,
								      fd);
		if (!b->links[b->nlinks]) {
			int err = errno;

			close(fd);
			free(online);
			gp_error("cannot attach the sampler on CPU %d: %s", cpu, strerror(err));
			return gp_exit_for_errno(err);
		}
		b->nlinks++;
	}
	free(online);
	return 0;
}

int gp_bpf_attach_switch(struct gp_bpf *b)
{
	b->switch_link = bpf_program__attach(b->skel->progs.on_switch);
	if (!b->switch_link) {
		int err = errno;

		gp_error("cannot attach to sched_switch: %s", strerror(err));
		return gp_exit_for_errno(err);
	}
	return 0;
}

int gp_bpf_snapshot(struct gp_bpf *b, uint32_t pid)
{
	DECLARE_LIBBPF_OPTS(bpf_iter_attach_opts, opts);
	union bpf_iter_link_info info = {};
	struct bpf_link *link;
	char buf[256];
	int fd, err = 0;
	ssize_t n;

	/*
	 * Only the target's threads (6.1+); before, every task of the system,
	 * which the program filters by process anyway.
	 */
	if (b->features.has[GP_FEAT_ITER_TASK_PID]) {
		info.task.pid = pid;
		opts.link_info = &info;
		opts.link_info_len = sizeof(info);
	}
	link = bpf_program__attach_iter(b->skel->progs.snapshot, &opts);
	if (!link) {
		err = errno;
		gp_error("cannot create the thread snapshot iterator: %s", strerror(err));
		return gp_exit_for_errno(err);
	}
	fd = bpf_iter_create(bpf_link__fd(link));
	if (fd < 0) {
		err = errno;
		bpf_link__destroy(link);
		gp_error("cannot run the thread snapshot iterator: %s", strerror(err));
		return gp_exit_for_errno(err);
	}
	/* The program writes to the ring buffer, not to the iterator's file. */
	while ((n = read(fd, buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR))
		;
	if (n < 0)
		err = errno;
	close(fd);
	bpf_link__destroy(link);
	if (err) {
		gp_error("the thread snapshot iterator failed: %s", strerror(err));
		return GP_EXIT_KERNEL;
	}
	return 0;
}

void gp_bpf_detach(struct gp_bpf *b)
{
	/* Destroying a perf link also closes its perf event fd. */
	for (int i = 0; i < b->nlinks; i++)
		bpf_link__destroy(b->links[i]);
	b->nlinks = 0;
	bpf_link__destroy(b->switch_link);
	b->switch_link = NULL;
	for (int i = 0; i < 3; i++) {
		bpf_link__destroy(b->proc_links[i]);
		b->proc_links[i] = NULL;
	}
}

void gp_bpf_counters(struct gp_bpf *b, uint64_t out[GP_CNT__MAX])
{
	int ncpus = libbpf_num_possible_cpus();
	uint64_t *vals;

	memset(out, 0, GP_CNT__MAX * sizeof(out[0]));
	if (!b->skel || ncpus <= 0)
		return;
	vals = calloc((size_t)ncpus, sizeof(*vals));
	if (!vals)
		return;
	for (__u32 k = 0; k < GP_CNT__MAX; k++) {
		if (bpf_map__lookup_elem(b->skel->maps.counters, &k, sizeof(k), vals,
					 (size_t)ncpus * sizeof(*vals), 0))
			continue;
		for (int c = 0; c < ncpus; c++)
			out[k] += vals[c];
	}
	free(vals);
}

const char *gp_prog_name(enum gp_prog p)
{
	static const char *const names[GP_PROG__MAX] = {
		[GP_PROG_SAMPLE] = "on_cpu_sample",
		[GP_PROG_SWITCH] = "on_switch",
		[GP_PROG_SNAPSHOT] = "snapshot",
		[GP_PROG_FORK] = "on_fork",
		[GP_PROG_EXEC] = "on_exec",
		[GP_PROG_EXIT] = "on_exit",
		[GP_PROG_GIL_TAKEN] = "gil_taken",
		[GP_PROG_GIL_DROPPING] = "gil_dropping",
		[GP_PROG_GIL_WRITTEN] = "gil_written",
	};

	return (unsigned int)p < GP_PROG__MAX ? names[p] : "?";
}

/* The program of p, found by the name above: one table, not two. */
static struct bpf_program *prog_of(struct gp_bpf *b, enum gp_prog p)
{
	return bpf_object__find_program_by_name(b->skel->obj, gp_prog_name(p));
}

void gp_bpf_all_prog_stats(struct gp_bpf *b, struct gp_prog_stats out[GP_PROG__MAX])
{
	memset(out, 0, GP_PROG__MAX * sizeof(out[0]));
	if (!b->skel || b->stats_fd < 0)
		return;
	for (int p = 0; p < GP_PROG__MAX; p++) {
		struct bpf_program *prog = prog_of(b, (enum gp_prog)p);
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (!prog || bpf_program__fd(prog) < 0 ||
		    bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
			continue;
		out[p].run_ns = info.run_time_ns;
		out[p].runs = info.run_cnt;
	}
}

void gp_bpf_prog_stats(struct gp_bpf *b, uint64_t *run_ns, uint64_t *runs)
{
	struct gp_prog_stats st[GP_PROG__MAX];

	gp_bpf_all_prog_stats(b, st);
	*run_ns = st[GP_PROG_SAMPLE].run_ns;
	*runs = st[GP_PROG_SAMPLE].runs;
}

int gp_bpf_ringbuf_fd(struct gp_bpf *b)
{
	return bpf_map__fd(b->skel->maps.events);
}

void gp_bpf_destroy(struct gp_bpf *b)
{
	gp_bpf_detach(b);
	free(b->links);
	b->links = NULL;
	if (b->stats_fd >= 0)
		close(b->stats_fd);
	b->stats_fd = -1;
	gilprof_bpf__destroy(b->skel);
	b->skel = NULL;
}
