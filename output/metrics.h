/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_METRICS_H
#define GP_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "../sampler/account/profile.h"

/*
 * The agent's metrics, as the Prometheus text exposition format (0.0.4)
 * shows them: what every profiled process spent in each GIL state, the
 * processes found and why some are not profiled, and the agent's own cost.
 * Filled by the agent (sampler/cmd/agent.c) from the sampler's sessions;
 * written here. Text from targets (names, thread names) is escaped and
 * cleaned to UTF-8.
 */

struct gp_metrics_thread {
	pid_t tid;
	const char *name;
	uint64_t state_ns[GP_STATE__MAX];
};

struct gp_metrics_proc {
	pid_t pid;
	const char *process;       /* command name */
	const char *container;     /* "" on the host */
	const char *python_version;/* "" if unknown */
	bool supported;            /* profiled */
	const char *reason;        /* !supported: why not (a label value) */
	/* supported only: */
	uint64_t state_ns[GP_STATE__MAX]; /* thread time by GIL state, summed */
	bool contention_known;     /* wall mode */
	uint64_t contended_ns;
	bool switches_known;       /* the GIL's own switch counter was read */
	uint64_t switches;
	const struct gp_metrics_thread *threads; /* --per-thread, else NULL */
	size_t nthreads;
};

struct gp_metrics_error {
	const char *reason;
	uint64_t count;
};

struct gp_metrics {
	const struct gp_metrics_proc *procs;
	size_t nprocs;
	const char *mode;          /* "wall" or "cpu" */
	unsigned int rate_hz;
	/* The agent's health. */
	size_t attached;           /* processes being sampled */
	uint64_t samples;          /* CPU-clock samples read, all processes ever */
	uint64_t lost;             /* samples the kernel could not hand over */
	bool bpf_known;            /* run-time statistics on (kernel.bpf_stats_enabled) */
	uint64_t bpf_run_ns, bpf_runs;
	double user_cpu_s, system_cpu_s;
	uint64_t rss_bytes;
	uint64_t discovery_events; /* fork and exec records read */
	uint64_t profiles_written;
	const struct gp_metrics_error *errors;
	size_t nerrors;
};

/* Write m to out. 0, or -1 with errno set. */
int gp_write_metrics(const struct gp_metrics *m, FILE *out);

/* The Content-Type of what gp_write_metrics writes. */
#define GP_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#endif
