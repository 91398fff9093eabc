// SPDX-License-Identifier: BSD-2-Clause
/*
 * gil-prof — a sampling profiler for CPython, on eBPF.
 *
 * main.c only parses the command line and hands it to the front end it
 * names (sampler/cmd/). Every front end drives the same sampler.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cmd/commands.h"
#include "common/exitcodes.h"
#include "common/gp_log.h"

#ifndef GP_VERSION
#define GP_VERSION "0.1.0"
#endif

int main(int argc, char **argv)
{
	struct gp_options o;
	int rc;

	if (argc > 1 && !strcmp(argv[1], "agent"))
		return gp_cmd_agent(argc - 1, argv + 1);
	rc = gp_cli_parse(argc, argv, &o);
	if (rc)
		return rc;
	if (o.help) {
		gp_cli_usage(stdout, o.cmd);
		return GP_EXIT_OK;
	}
	if (o.version) {
		printf("gil-prof %s\n", GP_VERSION);
		return GP_EXIT_OK;
	}
	gp_log_verbose = o.verbose;
	gp_log_quiet = o.quiet;
	switch (o.cmd) {
	case GP_CMD_DUMP:
		return gp_cmd_dump(&o);
	case GP_CMD_CHECK:
		return gp_cmd_check(&o);
	case GP_CMD_TOP:
		return gp_cmd_top(&o);
	default:
		return gp_cmd_record(&o);
	}
}
