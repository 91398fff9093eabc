/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_AGENTCLI_H
#define GP_AGENTCLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cli.h"

/* Always on: a low rate, off the round numbers other samplers use. */
#define GP_AGENT_DEFAULT_RATE 19
#define GP_AGENT_DEFAULT_LISTEN "127.0.0.1:9464"
/* Per process: the agent runs one sampler session per process. */
#define GP_AGENT_DEFAULT_RING (1u << 20)
#define GP_AGENT_DEFAULT_EVERY_NS (60ULL * 1000 * 1000 * 1000)
#define GP_AGENT_DEFAULT_KEEP 500
#define GP_AGENT_DEFAULT_MAX_BYTES (256ULL << 20)

/* `gil-prof agent ...`: the options of `record` it shares, and its own. */
struct gp_agent_options {
	struct gp_options rec;        /* rate, mode, ring size, btf, verbose, quiet */
	const char *listen;           /* --listen ADDR:PORT */
	bool per_thread;              /* --per-thread: thread series too */
	const char *profile_dir;      /* --profile-dir: NULL for none */
	uint64_t profile_every_ns;    /* --profile-every */
	unsigned long profile_keep;   /* --profile-keep: files kept at most */
	uint64_t profile_max_bytes;   /* --profile-max-bytes: their total size at most */
	uint64_t duration_ns;         /* -d: stop after (tests); 0: until a signal */
	bool help;
};

/* argv starts at "agent". 0, or an exit code after a one-line error. */
int gp_agent_cli_parse(int argc, char **argv, struct gp_agent_options *o);
void gp_agent_usage(FILE *f);

#endif
