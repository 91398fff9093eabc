// SPDX-License-Identifier: BSD-2-Clause
/*
 * metrics.c — the agent's metrics in the Prometheus text exposition format
 * (version 0.0.4, which Prometheus and OpenMetrics scrapers both read):
 * a HELP and a TYPE line per family, then its samples. Label values are
 * the targets' own text: cleaned to UTF-8 and escaped (\\, \", \n).
 */
#include "metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

/* The GIL states shown, as their label values. */
static const enum gp_gil_state shown[] = {
	GP_STATE_HOLDING, GP_STATE_WAITING, GP_STATE_RELEASED, GP_STATE_IDLE,
};
#define NSHOWN (sizeof(shown) / sizeof(shown[0]))

static int family(FILE *out, const char *name, const char *type, const char *help)
{
	return fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type) < 0 ? -1 : 0;
}

/* name="value", the value cleaned and escaped. */
static int label(FILE *out, const char *name, const char *value, bool first)
{
	char *clean = gp_text_clean(value ? value : "");
	int rc = 0;

	if (!clean)
		return -1;
	if (fprintf(out, "%s%s=\"", first ? "" : ",", name) < 0)
		rc = -1;
	for (const char *c = clean; !rc && *c; c++) {
		if (*c == '\\' || *c == '"')
			rc = fprintf(out, "\\%c", *c) < 0 ? -1 : 0;
		else if (*c == '\n')
			rc = fputs("\\n", out) < 0 ? -1 : 0;
		else
			rc = fputc(*c, out) == EOF ? -1 : 0;
	}
	free(clean);
	if (!rc && fputc('"', out) == EOF)
		rc = -1;
	return rc;
}

static int proc_labels(FILE *out, const struct gp_metrics_proc *p)
{
	char pid[16];

	snprintf(pid, sizeof(pid), "%d", (int)p->pid);
	return label(out, "pid", pid, true) || label(out, "process", p->process, false) ||
	       label(out, "container", p->container, false);
}

static int seconds(FILE *out, uint64_t ns)
{
	return fprintf(out, "} %.6f\n", ns / 1e9) < 0 ? -1 : 0;
}

static int state_series(FILE *out, const struct gp_metrics *m)
{
	if (family(out, "gil_prof_seconds_total", "counter",
		   "Thread time of the process by GIL state (holding, waiting, released, idle), "
		   "summed over its threads, in seconds"))
		return -1;
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct gp_metrics_proc *p = &m->procs[i];

		for (size_t s = 0; p->supported && s < NSHOWN; s++)
			if (fputs("gil_prof_seconds_total{", out) == EOF || proc_labels(out, p) ||
			    label(out, "state", gp_state_name(shown[s]), false) ||
			    seconds(out, p->state_ns[shown[s]]))
				return -1;
	}
	return 0;
}

static int thread_series(FILE *out, const struct gp_metrics *m)
{
	bool any = false;

	for (size_t i = 0; i < m->nprocs; i++)
		any |= m->procs[i].threads != NULL;
	if (!any)
		return 0;
	if (family(out, "gil_prof_thread_seconds_total", "counter",
		   "Time of one thread by GIL state, in seconds (--per-thread)"))
		return -1;
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct gp_metrics_proc *p = &m->procs[i];

		for (size_t t = 0; p->threads && t < p->nthreads; t++) {
			const struct gp_metrics_thread *th = &p->threads[t];
			char tid[16];

			snprintf(tid, sizeof(tid), "%d", (int)th->tid);
			for (size_t s = 0; s < NSHOWN; s++)
				if (fputs("gil_prof_thread_seconds_total{", out) == EOF ||
				    proc_labels(out, p) || label(out, "tid", tid, false) ||
				    label(out, "thread", th->name, false) ||
				    label(out, "state", gp_state_name(shown[s]), false) ||
				    seconds(out, th->state_ns[shown[s]]))
					return -1;
		}
	}
	return 0;
}

static int contention_series(FILE *out, const struct gp_metrics *m)
{
	bool any = false;

	for (size_t i = 0; i < m->nprocs; i++)
		any |= m->procs[i].supported && m->procs[i].contention_known;
	if (!any)
		return 0;
	if (family(out, "gil_prof_contention_seconds_total", "counter",
		   "Wall time in which at least one thread of the process waited for the GIL, "
		   "in seconds (wall mode)"))
		return -1;
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct gp_metrics_proc *p = &m->procs[i];

		if (p->supported && p->contention_known &&
		    (fputs("gil_prof_contention_seconds_total{", out) == EOF || proc_labels(out, p) ||
		     seconds(out, p->contended_ns)))
			return -1;
	}
	return 0;
}

static int switch_series(FILE *out, const struct gp_metrics *m)
{
	bool any = false;

	for (size_t i = 0; i < m->nprocs; i++)
		any |= m->procs[i].supported && m->procs[i].switches_known;
	if (!any)
		return 0;
	if (family(out, "gil_prof_gil_switches_total", "counter",
		   "GIL switches: the GIL taken by another thread than its last holder, "
		   "as the interpreter counts them (switch_number, since the process started)"))
		return -1;
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct gp_metrics_proc *p = &m->procs[i];

		if (p->supported && p->switches_known &&
		    (fputs("gil_prof_gil_switches_total{", out) == EOF || proc_labels(out, p) ||
		     fprintf(out, "} %" PRIu64 "\n", p->switches) < 0))
			return -1;
	}
	return 0;
}

static int info_series(FILE *out, const struct gp_metrics *m)
{
	if (family(out, "gil_prof_target_info", "gauge",
		   "Every CPython process found; supported=\"0\" with the reason when it is "
		   "not profiled"))
		return -1;
	for (size_t i = 0; i < m->nprocs; i++) {
		const struct gp_metrics_proc *p = &m->procs[i];

		if (fputs("gil_prof_target_info{", out) == EOF || proc_labels(out, p) ||
		    label(out, "python_version", p->python_version, false) ||
		    label(out, "supported", p->supported ? "1" : "0", false) ||
		    label(out, "reason", p->supported ? "" : p->reason, false) ||
		    fputs("} 1\n", out) == EOF)
			return -1;
	}
	return 0;
}

static int counter(FILE *out, const char *name, const char *help, uint64_t v)
{
	return family(out, name, "counter", help) ||
	       fprintf(out, "%s %" PRIu64 "\n", name, v) < 0;
}

static int health(FILE *out, const struct gp_metrics *m)
{
	if (family(out, "gil_prof_agent_info", "gauge",
		   "The agent's sampling configuration") ||
	    fprintf(out, "gil_prof_agent_info{mode=\"%s\",rate_hz=\"%u\"} 1\n", m->mode,
		    m->rate_hz) < 0)
		return -1;
	if (family(out, "gil_prof_agent_attached_processes", "gauge",
		   "Processes being sampled now") ||
	    fprintf(out, "gil_prof_agent_attached_processes %zu\n", m->attached) < 0)
		return -1;
	if (counter(out, "gil_prof_agent_samples_total", "CPU-clock samples read", m->samples) ||
	    counter(out, "gil_prof_agent_lost_samples_total",
		    "Samples lost in the kernel (ring buffer full)", m->lost) ||
	    counter(out, "gil_prof_agent_discovery_events_total",
		    "Fork and exec records read by the process discovery", m->discovery_events) ||
	    counter(out, "gil_prof_agent_profiles_written_total",
		    "Profiles written to --profile-dir", m->profiles_written))
		return -1;
	if (m->bpf_known &&
	    (family(out, "gil_prof_agent_bpf_seconds_total", "counter",
		    "Kernel CPU time of the agent's BPF programs (bpf_stats), in seconds") ||
	     fprintf(out, "gil_prof_agent_bpf_seconds_total %.6f\n", m->bpf_run_ns / 1e9) < 0 ||
	     counter(out, "gil_prof_agent_bpf_runs_total", "Runs of the agent's BPF programs",
		     m->bpf_runs)))
		return -1;
	if (family(out, "gil_prof_agent_cpu_seconds_total", "counter",
		   "CPU time of the agent's own process, in seconds") ||
	    fprintf(out,
		    "gil_prof_agent_cpu_seconds_total{mode=\"user\"} %.6f\n"
		    "gil_prof_agent_cpu_seconds_total{mode=\"system\"} %.6f\n",
		    m->user_cpu_s, m->system_cpu_s) < 0)
		return -1;
	if (family(out, "gil_prof_agent_resident_memory_bytes", "gauge",
		   "Resident memory of the agent's process") ||
	    fprintf(out, "gil_prof_agent_resident_memory_bytes %" PRIu64 "\n", m->rss_bytes) < 0)
		return -1;
	if (family(out, "gil_prof_agent_errors_total", "counter",
		   "Errors by reason (processes not profiled, sessions that failed, ...)"))
		return -1;
	for (size_t i = 0; i < m->nerrors; i++)
		if (fputs("gil_prof_agent_errors_total{", out) == EOF ||
		    label(out, "reason", m->errors[i].reason, true) ||
		    fprintf(out, "} %" PRIu64 "\n", m->errors[i].count) < 0)
			return -1;
	return 0;
}

int gp_write_metrics(const struct gp_metrics *m, FILE *out)
{
	if (state_series(out, m) || thread_series(out, m) || contention_series(out, m) ||
	    switch_series(out, m) || info_series(out, m) || health(out, m))
		return -1;
	return fflush(out) ? -1 : 0;
}
