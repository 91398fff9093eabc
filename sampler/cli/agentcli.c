// SPDX-License-Identifier: BSD-2-Clause
/*
 * agentcli.c — the command line of `gil-prof agent`, checked whole before
 * anything is loaded, like record's (cli.c, whose parsers it reuses).
 */
#include "agentcli.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "../common/exitcodes.h"
#include "../common/gp_log.h"

enum { OPT_LISTEN = 2000, OPT_PER_THREAD, OPT_PROFILE_DIR, OPT_PROFILE_EVERY, OPT_PROFILE_KEEP,
       OPT_PROFILE_MAX_BYTES, OPT_MODE, OPT_RING_SIZE, OPT_BTF };

static const struct option long_opts[] = {
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "rate", required_argument, NULL, 'r' },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "per-thread", no_argument, NULL, OPT_PER_THREAD },
	{ "profile-dir", required_argument, NULL, OPT_PROFILE_DIR },
	{ "profile-every", required_argument, NULL, OPT_PROFILE_EVERY },
	{ "profile-keep", required_argument, NULL, OPT_PROFILE_KEEP },
	{ "profile-max-bytes", required_argument, NULL, OPT_PROFILE_MAX_BYTES },
	{ "ring-size", required_argument, NULL, OPT_RING_SIZE },
	{ "duration", required_argument, NULL, 'd' },
	{ "btf", required_argument, NULL, OPT_BTF },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

void gp_agent_usage(FILE *f)
{
	fprintf(f,
		"Usage: gil-prof agent [OPTIONS]\n"
		"\n"
		"Watch every CPython process on the host, in containers too, all the time:\n"
		"processes are found at the start and as they start, exec and exit, and\n"
		"sampled without stopping them. Their time by GIL state (holding, waiting,\n"
		"released, idle) is served as Prometheus metrics at /metrics; with\n"
		"--profile-dir, a pprof profile of each process is written periodically.\n"
		"SIGTERM or SIGINT: last profiles written, everything detached, exit 0.\n"
		"\n"
		"Options:\n"
		"      --listen ADDR      serve /metrics at ADDR: 127.0.0.1:9464 (default),\n"
		"                         :9464 (every address), [::1]:9464\n"
		"  -r, --rate HZ          samples per second per thread (default %d)\n"
		"      --mode MODE        wall (default): every thread's whole time, on and\n"
		"                         off CPU; cpu: on-CPU samples only\n"
		"      --per-thread       also per-thread series (one per thread and state:\n"
		"                         mind the label cardinality)\n"
		"      --profile-dir DIR  write a pprof profile of every process there every\n"
		"                         --profile-every, named TIME-PROCESS-PID.pb.gz\n"
		"      --profile-every TIME  period of the profiles: 60s (default), 10m, ...\n"
		"      --profile-keep N   profiles kept at most, the oldest removed first\n"
		"                         (default %d)\n"
		"      --profile-max-bytes SIZE  their total size at most: 256M (default)\n"
		"      --ring-size SIZE   sample buffer per process: 1M (default), 64K to 1G,\n"
		"                         a power of two\n"
		"  -d, --duration TIME    stop after TIME (default: until SIGTERM or SIGINT)\n"
		"      --btf PATH         kernel BTF file (default /sys/kernel/btf/vmlinux)\n"
		"  -q, --quiet            no notes about processes found and gone\n"
		"  -v, --verbose          print libbpf messages and debugging notes\n"
		"  -h, --help             show this help\n"
		"\n"
		"Examples:\n"
		"  sudo gil-prof agent\n"
		"  sudo gil-prof agent --listen :9464 --profile-dir /var/lib/gil-prof\n"
		"  sudo gil-prof agent -r 49 --per-thread --profile-dir /tmp/p --profile-every 5m\n"
		"\n"
		"Needs root: it attaches to processes as they appear.\n",
		GP_AGENT_DEFAULT_RATE, GP_AGENT_DEFAULT_KEEP);
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "gil-prof: error: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'gil-prof agent --help' for more information.\n");
	return GP_EXIT_USAGE;
}

static int parse_count(const char *s, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!s[0] || s[0] == '-')
		return -1;
	v = strtoul(s, &end, 10);
	if (*end || !v || v > 1000000)
		return -1;
	*out = v;
	return 0;
}

static int parse_option(struct gp_agent_options *o, int c)
{
	uint64_t bytes;
	unsigned long v;

	switch (c) {
	case OPT_LISTEN:
		if (!optarg[0] || !strchr(optarg, ':'))
			return usage_error("invalid --listen '%s' (examples: 127.0.0.1:9464, :9464, "
					   "[::1]:9464)",
					   optarg);
		o->listen = optarg;
		return 0;
	case 'r':
		if (parse_count(optarg, &v) || v > GP_MAX_RATE)
			return usage_error("invalid rate '%s' (1 to 20000 samples per second)",
					   optarg);
		o->rec.rate_hz = (unsigned int)v;
		return 0;
	case OPT_MODE:
		if (gp_parse_mode(optarg, &o->rec.mode))
			return usage_error("unknown mode '%s' (known: wall, cpu)", optarg);
		return 0;
	case OPT_PER_THREAD:
		o->per_thread = true;
		return 0;
	case OPT_PROFILE_DIR:
		if (!optarg[0])
			return usage_error("%s", "empty --profile-dir");
		o->profile_dir = optarg;
		return 0;
	case OPT_PROFILE_EVERY:
		if (gp_parse_duration(optarg, &o->profile_every_ns) ||
		    o->profile_every_ns < 1000000000ULL)
			return usage_error("invalid --profile-every '%s' (1s or more: 60s, 10m)",
					   optarg);
		return 0;
	case OPT_PROFILE_KEEP:
		if (parse_count(optarg, &o->profile_keep))
			return usage_error("invalid --profile-keep '%s' (1 to 1000000)", optarg);
		return 0;
	case OPT_PROFILE_MAX_BYTES:
		if (gp_parse_size(optarg, &bytes) || bytes < (64u << 10))
			return usage_error("invalid --profile-max-bytes '%s' (64K or more: 256M, 1G)",
					   optarg);
		o->profile_max_bytes = bytes;
		return 0;
	case OPT_RING_SIZE:
		if (gp_parse_size(optarg, &bytes) || bytes < GP_MIN_RING_BYTES ||
		    bytes > GP_MAX_RING_BYTES || (bytes & (bytes - 1)))
			return usage_error("invalid ring size '%s' (a power of two, 64K to 1G)",
					   optarg);
		o->rec.ring_bytes = (uint32_t)bytes;
		return 0;
	case 'd':
		if (gp_parse_duration(optarg, &o->duration_ns))
			return usage_error("invalid duration '%s' (examples: 30, 30s, 2m, 500ms)",
					   optarg);
		return 0;
	case OPT_BTF:
		o->rec.btf_path = optarg;
		return 0;
	case 'v':
		o->rec.verbose = true;
		return 0;
	case 'q':
		o->rec.quiet = true;
		return 0;
	case 'h':
		o->help = true;
		return 0;
	default:
		fprintf(stderr, "Try 'gil-prof agent --help' for more information.\n");
		return GP_EXIT_USAGE;
	}
}

int gp_agent_cli_parse(int argc, char **argv, struct gp_agent_options *o)
{
	int c, rc;

	memset(o, 0, sizeof(*o));
	o->rec.rate_hz = GP_AGENT_DEFAULT_RATE;
	o->rec.mode = GP_MODE_WALL;
	o->rec.ring_bytes = GP_AGENT_DEFAULT_RING;
	o->rec.keep_privileges = true;
	o->listen = GP_AGENT_DEFAULT_LISTEN;
	o->profile_every_ns = GP_AGENT_DEFAULT_EVERY_NS;
	o->profile_keep = GP_AGENT_DEFAULT_KEEP;
	o->profile_max_bytes = GP_AGENT_DEFAULT_MAX_BYTES;
	optind = 1;
	while ((c = getopt_long(argc, argv, "r:d:vqh", long_opts, NULL)) != -1) {
		rc = parse_option(o, c);
		if (rc)
			return rc;
	}
	if (o->help)
		return 0;
	if (optind < argc)
		return usage_error("unexpected argument '%s': the agent watches every process "
				   "(record profiles one)",
				   argv[optind]);
	if (o->rec.verbose && o->rec.quiet)
		return usage_error("%s", "--verbose and --quiet contradict each other");
	return 0;
}
