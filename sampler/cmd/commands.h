/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * commands.h — gil-prof's front ends. Each is a thin command over the one
 * sampler (record/session.c) and the one accounting (account/); main.c
 * picks one from the command line.
 */
#ifndef GP_COMMANDS_H
#define GP_COMMANDS_H

#include "../cli/cli.h"

/* `gil-prof [record] ...`: record a profile and write it. Returns an exit code. */
int gp_cmd_record(struct gp_options *o);
/* `gil-prof dump -p PID`: every thread's stack and GIL state once. */
int gp_cmd_dump(struct gp_options *o);
/* `gil-prof top`: a live view over the sampler. */
int gp_cmd_top(struct gp_options *o);
/* `gil-prof check [-p PID]`: will profiling work here. */
int gp_cmd_check(struct gp_options *o);

/*
 * `gil-prof agent ...` (argv from "agent"): every Python process on the
 * host, as Prometheus metrics and periodic profiles. Returns an exit code.
 */
int gp_cmd_agent(int argc, char **argv);

#endif
