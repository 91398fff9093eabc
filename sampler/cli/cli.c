// SPDX-License-Identifier: BSD-2-Clause
/*
 * cli.c — gil-prof's command line. Everything is validated here, before a
 * process is touched, so a typo never costs a recording.
 */
#include <stdio.h>

#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../bpf/gilprof.h"
#include "../common/exitcodes.h"
#include "../common/gp_log.h"

enum { OPT_BTF = 1000, OPT_NATIVE, OPT_NATIVE_ALL, OPT_KERNEL, OPT_STACK_SIZE, OPT_MODE,
       OPT_SPLIT_GIL, OPT_SUBPROCESSES, OPT_RING_SIZE, OPT_GIL_TRACE, OPT_PAUSE, OPT_JSON,
       OPT_INTERVAL, OPT_NO_BLAME, OPT_LOCALS };

static const struct option long_opts[] = {
	{ "pid", required_argument, NULL, 'p' },
	{ "duration", required_argument, NULL, 'd' },
	{ "rate", required_argument, NULL, 'r' },
	{ "output", required_argument, NULL, 'o' },
	{ "format", required_argument, NULL, 'f' },
	{ "btf", required_argument, NULL, OPT_BTF },
	{ "native", no_argument, NULL, OPT_NATIVE },
	{ "native-all", no_argument, NULL, OPT_NATIVE_ALL },
	{ "kernel", no_argument, NULL, OPT_KERNEL },
	{ "stack-size", required_argument, NULL, OPT_STACK_SIZE },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "split-gil", no_argument, NULL, OPT_SPLIT_GIL },
	{ "no-blame", no_argument, NULL, OPT_NO_BLAME },
	{ "subprocesses", no_argument, NULL, OPT_SUBPROCESSES },
	{ "ring-size", required_argument, NULL, OPT_RING_SIZE },
	{ "gil-trace", required_argument, NULL, OPT_GIL_TRACE },
	{ "pause", no_argument, NULL, OPT_PAUSE },
	{ "locals", no_argument, NULL, OPT_LOCALS },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "interval", required_argument, NULL, OPT_INTERVAL },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static void usage_dump(FILE *f)
{
	fprintf(f,
		"Usage: gil-prof dump [OPTIONS] -p PID\n"
		"\n"
		"Print every thread of PID once: its id and Python name, what it does with\n"
		"the GIL (holding it; waiting for it, and which thread holds it; released;\n"
		"idle), what an off-CPU thread waits in (the GIL, a lock, select/poll/epoll,\n"
		"sleep, I/O), and its stack, innermost frame first, with exact lines. The\n"
		"threads are not stopped unless --pause is given: each stack is exact, but\n"
		"the threads are caught at slightly different moments.\n"
		"\n"
		"Options:\n"
		"  -p, --pid PID          the process to dump\n"
		"      --pause            stop every thread (ptrace) while they are read, for\n"
		"                         one consistent moment; they always resume\n"
		"      --native           also native (C) frames: of threads caught on a CPU,\n"
		"                         and with --pause of every thread\n"
		"      --kernel           also kernel frames (where an off-CPU thread sleeps)\n"
		"      --locals           each Python frame's arguments and local variables\n"
		"                         (implies --pause; of the process itself)\n"
		"      --subprocesses     also every descendant process that runs Python\n"
		"      --json             one JSON document (layout: output/dump.schema.json)\n"
		"  -q, --quiet            no notes on stderr\n"
		"  -v, --verbose          print libbpf messages and the sampler's counters\n"
		"  -h, --help             show this help\n"
		"\n"
		"Examples:\n"
		"  sudo gil-prof dump -p 1234\n"
		"  sudo gil-prof dump -p 1234 --pause --native\n"
		"  sudo gil-prof dump -p 1234 --locals\n"
		"  sudo gil-prof dump -p 1234 --json > threads.json\n");
}

static void usage_top(FILE *f)
{
	fprintf(f,
		"Usage: gil-prof top [OPTIONS] -p PID\n"
		"       gil-prof top [OPTIONS] -- COMMAND [ARG...]\n"
		"\n"
		"A live view of PID, refreshed every second: the functions using the time\n"
		"(own and total share of the samples) and how their samples held or waited\n"
		"for the GIL, with the threads holding and waiting for it now. Keys: o, t,\n"
		"h, w, n sort by own, total, holding, waiting, name; i shows or hides idle\n"
		"time; T shows per-thread rows; p pauses; q quits. Without a terminal it\n"
		"prints one plain table per interval.\n"
		"\n"
		"Options:\n"
		"  -p, --pid PID          the process to watch\n"
		"  -r, --rate HZ          samples per second per thread (default %d, at most %d)\n"
		"      --mode MODE        wall: on- and off-CPU time (default); cpu: on-CPU only\n"
		"      --interval TIME    refresh every TIME (default 1s)\n"
		"  -d, --duration TIME    stop after TIME (default: until q, Ctrl-C or the\n"
		"                         target exits)\n"
		"      --native           also native (C) frames\n"
		"      --subprocesses     also the child processes the target starts\n"
		"  -q, --quiet            no notes on stderr\n"
		"  -v, --verbose          print libbpf messages\n"
		"  -h, --help             show this help\n"
		"\n"
		"Examples:\n"
		"  sudo gil-prof top -p 1234\n"
		"  sudo gil-prof top -- python3 app.py\n",
		GP_DEFAULT_RATE, GP_MAX_RATE);
}

static void usage_check(FILE *f)
{
	fprintf(f,
		"Usage: gil-prof check [OPTIONS] [-p PID]\n"
		"\n"
		"Say whether profiling works here and, if not, why and what to do: the\n"
		"kernel, its BTF and BPF features, privileges and capabilities,\n"
		"perf_event_paranoid, lockdown, ptrace_scope, containers; with -p, the\n"
		"target's interpreter, version and build and whether its memory is\n"
		"readable. One line per check, ok or the problem; the exit status is\n"
		"non-zero when a recording would fail (the code record would exit with).\n"
		"\n"
		"Options:\n"
		"  -p, --pid PID          also check the process PID\n"
		"  -v, --verbose          print libbpf messages\n"
		"  -h, --help             show this help\n"
		"\n"
		"Examples:\n"
		"  sudo gil-prof check\n"
		"  sudo gil-prof check -p 1234\n");
}

static void usage_record(FILE *f)
{
	fprintf(f,
		"Usage: gil-prof [record] [OPTIONS] -p PID\n"
		"       gil-prof [record] [OPTIONS] -- COMMAND [ARG...]\n"
		"\n"
		"Sample the Python stacks of a running CPython process (or of a command it\n"
		"starts) with eBPF, without stopping the target, and write a profile.\n"
		"\n"
		"Commands:\n"
		"  record                 record a profile and write it (the default)\n"
		"  dump                   print every thread's stack and GIL state once\n"
		"  top                    a live view of the functions and the GIL\n"
		"  check                  say whether profiling works here, and why not\n"
		"  agent                  every Python process on the host, all the time:\n"
		"                         Prometheus metrics and periodic profiles\n"
		"\n"
		"Options:\n"
		"  -p, --pid PID          profile the running process PID\n"
		"  -d, --duration TIME    stop after TIME: 30, 30s, 2m, 500ms (default: until\n"
		"                         the target exits or Ctrl-C)\n"
		"  -r, --rate HZ          samples per second per thread (default %d, at most %d)\n"
		"      --mode MODE        wall: every thread's whole time, on and off CPU,\n"
		"                         off-CPU time as equivalent samples (default);\n"
		"                         cpu: on-CPU samples only\n"
		"  -o, --output FILE      write the profile to FILE; the format comes from the\n"
		"                         extension unless --format is given. Repeat for\n"
		"                         several formats from one recording (at most %d).\n"
		"                         Default: gil-prof-PID-TIMESTAMP.svg\n"
		"  -f, --format FORMAT    output format (with one -o, or for the default file):\n"
		"                           svg         flame graph (.svg)\n"
		"                           html        flame graph page (.html)\n"
		"                           pprof       go tool pprof, gzipped (.pb.gz, .pprof)\n"
		"                           speedscope  speedscope JSON (.speedscope.json)\n"
		"                           folded      folded stacks (.folded, .txt)\n"
		"                           blame       who held the GIL while others waited,\n"
		"                                       folded (.blame.folded)\n"
		"                           report      the end-of-run GIL report (.report)\n"
		"                           chrometrace GIL timeline for Perfetto (.trace.json):\n"
		"                                       traces every GIL acquisition and release\n"
		"      --native           also native (C) frames, unwound with DWARF CFI and\n"
		"                         merged with the Python frames in call order\n"
		"      --native-all       like --native, also the interpreter's call plumbing\n"
		"                         (_PyEval_Vector, PyObject_Vectorcall, ...)\n"
		"      --kernel           also kernel frames (with /proc/kallsyms names)\n"
		"      --stack-size SIZE  user stack copied per sample for --native: 16K\n"
		"                         (default), 1K to 128K\n"
		"      --split-gil        folded output: one file per GIL state\n"
		"                         (FILE.holding.folded, FILE.waiting.folded, ...)\n"
		"      --no-blame         do not record who held the GIL while threads waited\n"
		"                         (saves a second stack walk per waiting record)\n"
		"      --subprocesses     also profile the target's descendants: those running\n"
		"                         already and those it starts (fork, multiprocessing;\n"
		"                         exec'd ones if they run the same Python); stacks are\n"
		"                         labelled by process\n"
		"      --ring-size SIZE   kernel-to-gil-prof sample buffer, 64K to 1G, a\n"
		"                         power of two (default: 400 ms of samples at the\n"
		"                         rate on every CPU, 16M to 256M); larger if\n"
		"                         samples are lost\n"
		"      --gil-trace HOW    how the timeline traces the GIL: auto (default:\n"
		"                         uprobes if the interpreter has take_gil/drop_gil\n"
		"                         symbols, else watchpoint), uprobes, watchpoint\n"
		"                         (a hardware watchpoint: any build, costlier)\n"
		"      --btf PATH         kernel BTF file (default /sys/kernel/btf/vmlinux)\n"
		"  -q, --quiet            no status line, no summary and no report\n"
		"  -v, --verbose          print libbpf messages and the sampler's counters\n"
		"  -h, --help             show this help\n"
		"  -V, --version          show the version\n"
		"\n"
		"Examples:\n"
		"  sudo gil-prof -p 1234 -d 30s\n"
		"  sudo gil-prof record -p 1234 -d 10 -o out.pb.gz -o out.svg\n"
		"  sudo gil-prof record -o out.folded -- python3 app.py arg1\n"
		"  sudo gil-prof -p 1234 -d 5s -o gil.trace.json -o out.svg\n"
		"\n"
		"Needs root, or CAP_BPF, CAP_PERFMON and CAP_SYS_PTRACE.\n",
		GP_DEFAULT_RATE, GP_MAX_RATE, GP_MAX_OUTPUTS);
}

void gp_cli_usage(FILE *f, enum gp_command cmd)
{
	switch (cmd) {
	case GP_CMD_DUMP:
		usage_dump(f);
		break;
	case GP_CMD_TOP:
		usage_top(f);
		break;
	case GP_CMD_CHECK:
		usage_check(f);
		break;
	default:
		usage_record(f);
		break;
	}
}

int gp_parse_duration(const char *s, uint64_t *ns)
{
	static const struct {
		const char *suffix;
		double scale;
	} units[] = {
		{ "", 1e9 }, { "s", 1e9 }, { "ms", 1e6 }, { "m", 60e9 }, { "h", 3600e9 },
	};
	size_t digits;
	char *end;
	double v;

	/* Plain decimals only: strtod would also take "1e3", "0x10" and "inf". */
	if (!s || !isdigit((unsigned char)s[0]))
		return -1;
	digits = strspn(s, "0123456789");
	if (s[digits] == '.')
		digits += 1 + strspn(s + digits + 1, "0123456789");
	errno = 0;
	v = strtod(s, &end);
	if (end != s + digits)
		return -1;
	if (errno || !isfinite(v) || v <= 0)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		double t;

		if (strcmp(end, units[i].suffix))
			continue;
		t = v * units[i].scale;
		/* Shorter than 1 ms or longer than 30 days is not a recording. */
		if (t < 1e6 || t > 30.0 * 86400e9)
			return -1;
		*ns = (uint64_t)t;
		return 0;
	}
	return -1;
}

int gp_parse_mode(const char *s, enum gp_mode *mode)
{
	if (!strcmp(s, "wall"))
		*mode = GP_MODE_WALL;
	else if (!strcmp(s, "cpu"))
		*mode = GP_MODE_CPU;
	else
		return -1;
	return 0;
}

int gp_parse_size(const char *s, uint64_t *bytes)
{
	static const struct {
		const char *suffix;
		uint64_t scale;
	} units[] = {
		{ "", 1 },          { "k", 1024 },          { "K", 1024 },   { "KiB", 1024 },
		{ "KB", 1024 },     { "M", 1024 * 1024 },   { "MiB", 1024 * 1024 },
		{ "G", 1024 * 1024 * 1024 }, { "GiB", 1024 * 1024 * 1024 },
	};
	unsigned long long v;
	char *end;

	if (!s || !isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || v > (1ull << 40))
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix))
			continue;
		*bytes = v * units[i].scale;
		return 0;
	}
	return -1;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (!s || !isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v == 0 || v > max)
		return -1;
	*out = v;
	return 0;
}

static int usage_error(const char *fmt, const char *arg)
{
	gp_error(fmt, arg);
	fprintf(stderr, "Try 'gil-prof --help' for more information.\n");
	return GP_EXIT_USAGE;
}

static int unknown_format(const char *name)
{
	char known[128];

	gp_format_list(known, sizeof(known));
	gp_error("unknown output format '%s' (known: %s)", name, known);
	fprintf(stderr, "Try 'gil-prof --help' for more information.\n");
	return GP_EXIT_USAGE;
}

/* --split-gil splits folded files; without one it would do nothing. */
static int check_split(const struct gp_options *o)
{
	/* Without -o, outputs[0].format is what --format asked for, if anything. */
	int n = o->noutputs ? o->noutputs : 1;

	if (!o->split_gil)
		return 0;
	for (int i = 0; i < n; i++)
		if (o->outputs[i].format == GP_FORMAT_FOLDED)
			return 0;
	return usage_error("%s", "--split-gil needs a folded output (-o FILE.folded)");
}

/* A blame output would be empty: nothing says who held the GIL. */
static int check_blame(const struct gp_options *o)
{
	int n = o->noutputs ? o->noutputs : 1;

	for (int i = 0; o->no_blame && i < n; i++)
		if (o->outputs[i].format == GP_FORMAT_BLAME)
			return usage_error("%s", "--no-blame and a blame output (.blame.folded) "
					   "exclude each other");
	return 0;
}

/* A timeline traces the GIL on top of wall mode's switch records. */
static int check_timeline(struct gp_options *o)
{
	int n = o->noutputs ? o->noutputs : 1;

	for (int i = 0; i < n; i++)
		if (o->outputs[i].format == GP_FORMAT_CHROMETRACE)
			o->timeline = true;
	if (o->timeline && o->mode == GP_MODE_CPU)
		return usage_error("%s", "the GIL timeline (.trace.json) needs --mode wall "
				   "(the default)");
	/* GIL transitions are traced in the target only (uprobes and
	 * watchpoints are per process): a child's timeline would lack them. */
	if (o->timeline && o->subprocesses)
		return usage_error("%s", "the GIL timeline (.trace.json) covers one process: "
				   "it does not go with --subprocesses");
	if (o->gil_trace_set && !o->timeline)
		return usage_error("%s", "--gil-trace goes with a timeline output "
				   "(-o FILE.trace.json)");
	return 0;
}

static int resolve_formats(struct gp_options *o, const char *format)
{
	enum gp_format forced = GP_FORMAT_NONE;

	if (format) {
		forced = gp_format_from_name(format);
		/* Which of several files would it apply to? Extensions say it better. */
		if (o->noutputs > 1)
			return usage_error("%s", "--format goes with one -o only; name several "
					   "outputs by their extensions");
	}
	for (int i = 0; i < o->noutputs; i++) {
		o->outputs[i].format = forced ? forced : gp_format_from_path(o->outputs[i].path);
		if (o->outputs[i].format == GP_FORMAT_NONE)
			return usage_error("cannot tell the format of '%s' from its extension; "
					   "use --format",
					   o->outputs[i].path);
		for (int j = 0; j < i; j++)
			if (!strcmp(o->outputs[i].path, o->outputs[j].path))
				return usage_error("output '%s' given twice", o->outputs[i].path);
	}
	if (!o->noutputs && forced)
		o->outputs[0].format = forced; /* default path, chosen later */
	return check_split(o) || check_blame(o) ? GP_EXIT_USAGE : check_timeline(o);
}

static int parse_option(struct gp_options *o, int c, const char **format)
{
	unsigned long v;

	switch (c) {
	case 'p':
		if (o->pid)
			return usage_error("%s", "-p/--pid given twice");
		if (parse_uint(optarg, 0x3fffffff, &v))
			return usage_error("invalid PID '%s'", optarg);
		o->pid = (pid_t)v;
		return 0;
	case 'd':
		if (gp_parse_duration(optarg, &o->duration_ns))
			return usage_error("invalid duration '%s' (examples: 30, 30s, 2m, 500ms)",
					   optarg);
		return 0;
	case 'r':
		if (parse_uint(optarg, GP_MAX_RATE, &v))
			return usage_error("invalid rate '%s' (1 to 20000 samples per second)",
					   optarg);
		o->rate_hz = (unsigned int)v;
		return 0;
	case 'o':
		if (o->noutputs == GP_MAX_OUTPUTS)
			return usage_error("%s", "too many -o/--output options");
		if (!optarg[0])
			return usage_error("%s", "empty output path");
		o->outputs[o->noutputs++].path = optarg;
		return 0;
	case 'f':
		/* Checked here, not with the outputs: a bad name is the error to
		 * report even when the rest of the command line is incomplete. */
		if (gp_format_from_name(optarg) == GP_FORMAT_NONE)
			return unknown_format(optarg);
		*format = optarg;
		return 0;
	case OPT_BTF:
		o->btf_path = optarg;
		return 0;
	case OPT_NATIVE_ALL:
		o->native_all = true;
		/* fall through */
	case OPT_NATIVE:
		o->native = true;
		return 0;
	case OPT_KERNEL:
		o->kernel = true;
		return 0;
	case OPT_STACK_SIZE: {
		uint64_t bytes;

		if (gp_parse_size(optarg, &bytes) || bytes < GP_MIN_STACK_BYTES ||
		    bytes > GP_MAX_STACK_BYTES)
			return usage_error("invalid stack size '%s' (1K to 128K)", optarg);
		/* Whole words: the unwinder reads the copy 8 bytes at a time. */
		o->stack_bytes = (uint32_t)((bytes + 7) & ~7ull);
		return 0;
	}
	case OPT_MODE:
		if (gp_parse_mode(optarg, &o->mode))
			return usage_error("unknown mode '%s' (known: wall, cpu)", optarg);
		return 0;
	case OPT_NO_BLAME:
		o->no_blame = true;
		return 0;
	case OPT_SPLIT_GIL:
		o->split_gil = true;
		return 0;
	case OPT_SUBPROCESSES:
		o->subprocesses = true;
		return 0;
	case OPT_RING_SIZE: {
		uint64_t bytes;

		if (gp_parse_size(optarg, &bytes) || bytes < GP_MIN_RING_BYTES ||
		    bytes > GP_MAX_RING_BYTES || (bytes & (bytes - 1)))
			return usage_error("invalid ring size '%s' (a power of two, 64K to 1G)",
					   optarg);
		o->ring_bytes = (uint32_t)bytes;
		return 0;
	}
	case OPT_GIL_TRACE:
		if (!strcmp(optarg, "auto"))
			o->gil_trace = GP_GIL_TRACE_AUTO;
		else if (!strcmp(optarg, "uprobes"))
			o->gil_trace = GP_GIL_TRACE_UPROBES;
		else if (!strcmp(optarg, "watchpoint"))
			o->gil_trace = GP_GIL_TRACE_WATCHPOINT;
		else
			return usage_error("unknown --gil-trace '%s' (known: auto, uprobes, "
					   "watchpoint)",
					   optarg);
		o->gil_trace_set = true;
		return 0;
	case OPT_PAUSE:
		o->pause = true;
		return 0;
	case OPT_LOCALS:
		/* Frames are found by walking the stopped threads' chains. */
		o->locals = true;
		o->pause = true;
		return 0;
	case OPT_JSON:
		o->json = true;
		return 0;
	case OPT_INTERVAL:
		if (gp_parse_duration(optarg, &o->interval_ns) || o->interval_ns < 100000000ULL)
			return usage_error("invalid interval '%s' (at least 100ms; examples: 1s, "
					   "500ms)",
					   optarg);
		return 0;
	case 'v':
		o->verbose = true;
		return 0;
	case 'q':
		o->quiet = true;
		return 0;
	case 'h':
		o->help = true;
		return 0;
	case 'V':
		o->version = true;
		return 0;
	default:
		fprintf(stderr, "Try 'gil-prof --help' for more information.\n");
		return GP_EXIT_USAGE;
	}
}

#define CMD(c) (1u << (c))
#define ALL_CMDS (CMD(GP_CMD_RECORD) | CMD(GP_CMD_DUMP) | CMD(GP_CMD_TOP) | CMD(GP_CMD_CHECK))

static const struct {
	const char *name;
	enum gp_command cmd;
} commands[] = {
	{ "record", GP_CMD_RECORD },
	{ "dump", GP_CMD_DUMP },
	{ "top", GP_CMD_TOP },
	{ "check", GP_CMD_CHECK },
};

/* The commands an option goes with (the ones whose --help lists it). */
static unsigned int option_commands(int c)
{
	switch (c) {
	case 'p': case 'v': case 'h': case 'V':
		return ALL_CMDS;
	case 'q': case OPT_NATIVE: case OPT_SUBPROCESSES: case OPT_BTF:
		return CMD(GP_CMD_RECORD) | CMD(GP_CMD_DUMP) | CMD(GP_CMD_TOP);
	case OPT_KERNEL:
		return CMD(GP_CMD_RECORD) | CMD(GP_CMD_DUMP);
	case 'd': case 'r':
		return CMD(GP_CMD_RECORD) | CMD(GP_CMD_TOP);
	case OPT_PAUSE: case OPT_JSON: case OPT_LOCALS:
		return CMD(GP_CMD_DUMP);
	case OPT_INTERVAL:
		return CMD(GP_CMD_TOP);
	case OPT_MODE:
		return CMD(GP_CMD_RECORD) | CMD(GP_CMD_TOP);
	default:
		return CMD(GP_CMD_RECORD);
	}
}

/* "--name" of an option, "-c" if it has no long name. */
static const char *option_name(int c, char *buf, size_t len)
{
	for (const struct option *lo = long_opts; lo->name; lo++)
		if (lo->val == c) {
			snprintf(buf, len, "--%s", lo->name);
			return buf;
		}
	snprintf(buf, len, "-%c", c);
	return buf;
}

/* The command word, if argv[1] is one: taken out of argv. */
static enum gp_command take_command(int *argc, char ***argv)
{
	if (*argc < 2)
		return GP_CMD_RECORD;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp((*argv)[1], commands[i].name))
			continue;
		(*argv)[1] = (*argv)[0];
		(*argv)++;
		(*argc)--;
		return commands[i].cmd;
	}
	return GP_CMD_RECORD;
}

static const char *command_name(enum gp_command cmd)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (commands[i].cmd == cmd)
			return commands[i].name;
	return "record";
}

/* What the commands other than record need besides the options. */
static int check_command(struct gp_options *o)
{
	switch (o->cmd) {
	case GP_CMD_CHECK:
		if (o->command)
			return usage_error("%s", "check looks at a running process (-p PID), not "
					   "at a command");
		return 0;
	case GP_CMD_DUMP:
		if (o->command)
			return usage_error("%s", "dump looks at a running process: give -p PID");
		if (!o->pid)
			return usage_error("%s", "nothing to dump: give -p PID");
		/* A snapshot of every thread: off-CPU ones from the wall-mode snapshot. */
		o->mode = GP_MODE_WALL;
		return 0;
	case GP_CMD_TOP:
		if (!o->interval_ns)
			o->interval_ns = 1000000000ULL;
		break;
	default:
		break;
	}
	if (o->pid && o->command)
		return usage_error("%s", "give either -p PID or a command after --, not both");
	if (!o->pid && !o->command)
		return usage_error("%s", "nothing to profile: give -p PID or -- COMMAND");
	return 0;
}

int gp_cli_parse(int argc, char **argv, struct gp_options *o)
{
	const char *format = NULL;
	int c, rc;

	memset(o, 0, sizeof(*o));
	o->rate_hz = GP_DEFAULT_RATE;
	o->cmd = take_command(&argc, &argv);
	optind = 1;
	/* '+': stop at the first non-option, the command to launch. */
	while ((c = getopt_long(argc, argv, "+p:d:r:o:f:vqhV", long_opts, NULL)) != -1) {
		if (c != '?' && c != ':' && !(option_commands(c) & CMD(o->cmd))) {
			char name[32];

			gp_error("%s does not go with %s", option_name(c, name, sizeof(name)),
				 command_name(o->cmd));
			fprintf(stderr, "Try 'gil-prof %s --help' for more information.\n",
				command_name(o->cmd));
			return GP_EXIT_USAGE;
		}
		rc = parse_option(o, c, &format);
		if (rc)
			return rc;
	}
	if (o->help || o->version)
		return 0;
	if (optind < argc)
		o->command = &argv[optind];
	rc = check_command(o);
	if (rc)
		return rc;
	if (o->verbose && o->quiet)
		return usage_error("%s", "--verbose and --quiet contradict each other");
	if (o->stack_bytes && !o->native)
		return usage_error("%s", "--stack-size needs --native");
	if (o->native && !o->stack_bytes)
		o->stack_bytes = GP_DEFAULT_STACK_BYTES;
	return resolve_formats(o, format);
}
