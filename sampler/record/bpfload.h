/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_BPFLOAD_H
#define GP_BPFLOAD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../../bpf/gilprof.h"
#include "kfeatures.h"

struct gilprof_bpf;
struct bpf_link;
struct perf_event_attr;

struct gp_bpf {
	struct gilprof_bpf *skel;
	struct bpf_link **links;
	int nlinks;
	struct bpf_link *switch_link;  /* wall mode: sched_switch */
	struct bpf_link *proc_links[3];/* fork, exec and exit of profiled processes */
	int stats_fd;          /* keeps BPF run-time statistics on */
	struct gp_features features; /* what the kernel offers, probed before load */
};

struct gp_bpf_config {
	const char *btf_path;  /* NULL: /sys/kernel/btf/vmlinux */
	const struct py_layout *layout;
	unsigned int rate_hz;
	uint32_t max_frames;
	uint32_t ringbuf_bytes;
	uint32_t stack_bytes;  /* user stack copied per sample; 0: no native stacks */
	bool kernel_stack;     /* kernel return addresses per sample */
	bool wall;             /* wall mode: load the off-CPU programs */
	bool follow_children;  /* --subprocesses: sample forked children too */
	bool host_procs;       /* the agent's discovery: every fork and exec, no sampling */
	uint32_t gil_events;   /* enum gp_gil_events: load the GIL transition programs */
	uint32_t no_blame;     /* --no-blame */
};

/* The BPF programs, for run-time statistics. */
enum gp_prog {
	GP_PROG_SAMPLE = 0,    /* on_cpu_sample (perf_event) */
	GP_PROG_SWITCH,        /* on_switch (tp_btf/sched_switch) */
	GP_PROG_SNAPSHOT,      /* snapshot (iter.s/task) */
	GP_PROG_FORK,          /* on_fork, on_exec, on_exit (bpf/procevents.h) */
	GP_PROG_EXEC,
	GP_PROG_EXIT,
	GP_PROG_GIL_TAKEN,     /* gil_taken (uretprobe on take_gil) */
	GP_PROG_GIL_DROPPING,  /* gil_dropping (uprobe on drop_gil) */
	GP_PROG_GIL_WRITTEN,   /* gil_written (watchpoint on gil->locked) */
	GP_PROG__MAX,
};

struct gp_prog_stats {
	uint64_t run_ns, runs;
};

/*
 * Probe the kernel's features (a kernel lacking one the recording needs is
 * refused), open, configure (rodata) and load. Returns 0 or an exit code
 * (printed).
 */
int gp_bpf_load(struct gp_bpf *b, const struct gp_bpf_config *cfg);
/* Register a process to sample. 0 or -1. */
int gp_bpf_add_proc(struct gp_bpf *b, uint32_t pid, const struct gp_proc *proc);
/* One CPU-clock perf event per online CPU. Returns 0 or an exit code. */
int gp_bpf_attach(struct gp_bpf *b, unsigned int rate_hz);
/*
 * Watch the profiled processes fork, exec and exit (bpf/procevents.h).
 * Before any process is registered. 0 or an exit code.
 */
int gp_bpf_attach_procs(struct gp_bpf *b);
/* The kernel's entry of a process (a forked child: its parent's copy). 0 or -1. */
int gp_bpf_get_proc(struct gp_bpf *b, uint32_t pid, struct gp_proc *proc);
/* Forget a process (it exec'd into something not followed). */
void gp_bpf_del_proc(struct gp_bpf *b, uint32_t pid);
/* Wall mode: start recording switch-outs and switch-ins. 0 or an exit code. */
int gp_bpf_attach_switch(struct gp_bpf *b);
/*
 * Wall mode: record the threads of pid as they are now (off-CPU ones with
 * their stacks) by running the task iterator once. 0 or an exit code.
 */
int gp_bpf_snapshot(struct gp_bpf *b, uint32_t pid);
/* Stop sampling (perf events and sched_switch off); maps stay readable. */
void gp_bpf_detach(struct gp_bpf *b);
/* Sum of the per-CPU counters. */
void gp_bpf_counters(struct gp_bpf *b, uint64_t out[GP_CNT__MAX]);
/* Run time of the sampling program: total ns and runs (0 if unknown). */
void gp_bpf_prog_stats(struct gp_bpf *b, uint64_t *run_ns, uint64_t *runs);
/* Run time of every program (zeros for programs not loaded). */
void gp_bpf_all_prog_stats(struct gp_bpf *b, struct gp_prog_stats out[GP_PROG__MAX]);
const char *gp_prog_name(enum gp_prog p);
int gp_bpf_ringbuf_fd(struct gp_bpf *b);
/* perf_event_open(2), close-on-exec: the CPU-clock events and the GIL watchpoints. */
int gp_perf_event_open(struct perf_event_attr *attr, pid_t pid, int cpu);
void gp_bpf_destroy(struct gp_bpf *b);

#endif
