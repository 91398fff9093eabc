/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_SESSION_H
#define GP_SESSION_H

#include "bpfload.h"
#include "../cli/cli.h"
#include "nativestack.h"
#include "../account/profile.h"
#include "../account/trust.h"
#include "../target/target.h"

enum gp_stop_reason {
	GP_STOP_DURATION = 0,
	GP_STOP_SIGNAL,
	GP_STOP_TARGET_EXIT,
	GP_STOP_TARGET_EXEC,       /* the target exec'd a program that is not followed */
	GP_STOP_ERROR,
};

struct gp_session_result {
	enum gp_stop_reason reason;
	int signal;                /* for GP_STOP_SIGNAL */
	uint64_t counters[GP_CNT__MAX];
	uint64_t bpf_run_ns, bpf_runs;
	struct gp_prog_stats progs[GP_PROG__MAX]; /* every program's run time */
	uint64_t malformed;        /* records user space could not decode */
	struct gp_native_stats native; /* with --native / --kernel */
	struct gp_trust_verdict trust; /* did most records come with their Python stack? */
};

/*
 * Load the sampler, record until the duration elapses, a signal arrives or
 * the target exits, and aggregate everything into prof. Returns 0 (even when
 * the target exited: what was collected is in prof) or an exit code.
 */
int gp_session_run(const struct gp_options *o, struct gp_target *t, struct gp_profile *prof,
		   struct gp_session_result *res);

#endif
