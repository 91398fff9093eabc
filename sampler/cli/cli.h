/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_CLI_H
#define GP_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../../output/output.h"
#include "../account/profile.h"

#define GP_MAX_OUTPUTS 8
#define GP_DEFAULT_RATE 100
#define GP_MAX_RATE 20000
/* --ring-size bounds: BPF ring buffers are a power of two of pages. */
#define GP_MIN_RING_BYTES (64u << 10)
#define GP_MAX_RING_BYTES (1u << 30)

/* --gil-trace: how a timeline traces GIL transitions (giltrace.c). */
enum gp_gil_trace {
	GP_GIL_TRACE_AUTO = 0,      /* uprobes where the symbols are, else a watchpoint */
	GP_GIL_TRACE_UPROBES,
	GP_GIL_TRACE_WATCHPOINT,
};

struct gp_output_spec {
	const char *path;
	enum gp_format format;
};

/* The command (the front end in sampler/cmd/). */
enum gp_command {
	GP_CMD_RECORD = 0,
	GP_CMD_DUMP,
	GP_CMD_TOP,
	GP_CMD_CHECK,
};

struct gp_options {
	enum gp_command cmd;
	pid_t pid;                    /* 0: launch command instead */
	char **command;               /* argv of the program to launch, or NULL */
	uint64_t duration_ns;         /* 0: until the target exits or a signal */
	unsigned int rate_hz;
	enum gp_mode mode;            /* --mode: wall (default) or cpu */
	bool split_gil;               /* --split-gil: one folded file per GIL state */
	bool no_blame;                /* --no-blame: no GIL holder for waiting records */
	bool timeline;                /* a GIL timeline output: trace GIL transitions */
	bool estimate_gil;            /* record: estimate holds and waits without a trace */
	enum gp_gil_trace gil_trace;  /* --gil-trace */
	bool gil_trace_set;
	struct gp_output_spec outputs[GP_MAX_OUTPUTS];
	int noutputs;
	const char *btf_path;         /* NULL: the running kernel's */
	bool native;                  /* native (C) frames, merged with Python's */
	bool native_all;              /* ... including interpreter plumbing */
	bool kernel;                  /* kernel frames */
	uint32_t stack_bytes;         /* user stack copied per sample (--stack-size) */
	uint32_t ring_bytes;          /* --ring-size; 0: the default for the mode */
	bool subprocesses;            /* --subprocesses: follow forked children */
	bool pause;                   /* dump --pause: stop the threads while reading */
	bool locals;                  /* dump --locals */
	bool json;                    /* dump --json */
	uint64_t interval_ns;         /* top --interval */
	bool keep_privileges;         /* the agent: more sessions are started later */
	bool verbose;
	bool quiet;
	bool help;
	bool version;
};

/*
 * Parse argv into opts. Returns 0, or an exit code after printing a one-line
 * error (usage errors). Paths and formats are checked, not opened.
 */
int gp_cli_parse(int argc, char **argv, struct gp_options *opts);
/* The --help text of cmd. */
void gp_cli_usage(FILE *f, enum gp_command cmd);

/*
 * "30", "30s", "2m", "500ms", "1.5s", "1h" -> nanoseconds. -1 if invalid or
 * not positive.
 */
int gp_parse_duration(const char *s, uint64_t *ns);

/* "16384", "16K", "16k", "16KiB", "1M" -> bytes. -1 if invalid. */
int gp_parse_size(const char *s, uint64_t *bytes);
/* "wall" or "cpu" into *mode. -1: neither. */
int gp_parse_mode(const char *s, enum gp_mode *mode);

#endif
