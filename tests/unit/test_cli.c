// SPDX-License-Identifier: BSD-2-Clause
/* Command-line parsing: durations, sizes, options, conflicts, formats. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "cli.h"
#include "exitcodes.h"

static void test_durations(void **state)
{
	uint64_t ns;

	(void)state;
	assert_int_equal(gp_parse_duration("30", &ns), 0);
	assert_int_equal(ns, 30000000000ULL);
	assert_int_equal(gp_parse_duration("30s", &ns), 0);
	assert_int_equal(ns, 30000000000ULL);
	assert_int_equal(gp_parse_duration("2m", &ns), 0);
	assert_int_equal(ns, 120000000000ULL);
	assert_int_equal(gp_parse_duration("500ms", &ns), 0);
	assert_int_equal(ns, 500000000ULL);
	assert_int_equal(gp_parse_duration("1.5s", &ns), 0);
	assert_int_equal(ns, 1500000000ULL);
	assert_int_equal(gp_parse_duration("1h", &ns), 0);
	assert_int_equal(ns, 3600000000000ULL);
	const char *bad[] = { "", "0", "-1", "5x", "s", "1e3", "0.1ms", "nan", "31d", "99999h",
			      " 5", "5 s" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!gp_parse_duration(bad[i], &ns))
			fail_msg("duration '%s' accepted", bad[i]);
}

static int parse(struct gp_options *o, int argc, const char **argv)
{
	return gp_cli_parse(argc, (char **)argv, o);
}

static void test_record_and_plain_forms(void **state)
{
	struct gp_options o;

	(void)state;
	const char *a1[] = { "gil-prof", "-p", "42", "-d", "30s", NULL };
	assert_int_equal(parse(&o, 5, a1), 0);
	assert_int_equal(o.pid, 42);
	assert_int_equal(o.duration_ns, 30000000000ULL);
	assert_int_equal(o.rate_hz, GP_DEFAULT_RATE);
	assert_int_equal(o.noutputs, 0);

	const char *a2[] = { "gil-prof", "record", "-p", "7", "-r", "999", "-o", "x.folded", NULL };
	assert_int_equal(parse(&o, 8, a2), 0);
	assert_int_equal(o.pid, 7);
	assert_int_equal(o.rate_hz, 999);
	assert_int_equal(o.noutputs, 1);
	assert_int_equal(o.outputs[0].format, GP_FORMAT_FOLDED);

	const char *a3[] = { "gil-prof", "record", "-o", "out.txt", "--", "python3", "app.py",
			     "-p", NULL };
	assert_int_equal(parse(&o, 8, a3), 0);
	assert_int_equal(o.pid, 0);
	assert_non_null(o.command);
	assert_string_equal(o.command[0], "python3");
	assert_string_equal(o.command[2], "-p"); /* the command's own options stay its own */

	const char *a4[] = { "gil-prof", "-p", "1", "-o", "profile.data", "--format", "folded",
			     NULL };
	assert_int_equal(parse(&o, 7, a4), 0);
	assert_int_equal(o.outputs[0].format, GP_FORMAT_FOLDED);
}

static void test_several_outputs(void **state)
{
	struct gp_options o;

	(void)state;
	const char *a[] = { "gil-prof", "-p", "1", "-o", "x.pb.gz", "-o", "x.svg", "-o",
			    "x.speedscope.json", "-o", "x.html", "-o", "x.folded", NULL };
	assert_int_equal(parse(&o, 13, a), 0);
	assert_int_equal(o.noutputs, 5);
	assert_int_equal(o.outputs[0].format, GP_FORMAT_PPROF);
	assert_int_equal(o.outputs[1].format, GP_FORMAT_SVG);
	assert_int_equal(o.outputs[2].format, GP_FORMAT_SPEEDSCOPE);
	assert_int_equal(o.outputs[3].format, GP_FORMAT_HTML);
	assert_int_equal(o.outputs[4].format, GP_FORMAT_FOLDED);

	/* --format alone names the default file's format */
	const char *b[] = { "gil-prof", "-p", "1", "-f", "pprof", NULL };
	assert_int_equal(parse(&o, 5, b), 0);
	assert_int_equal(o.noutputs, 0);
	assert_int_equal(o.outputs[0].format, GP_FORMAT_PPROF);
}

static void test_mode_and_split(void **state)
{
	struct gp_options o;
	FILE *saved = stderr;

	(void)state;
	const char *a1[] = { "gil-prof", "-p", "1", NULL };
	assert_int_equal(parse(&o, 3, a1), 0);
	assert_int_equal(o.mode, GP_MODE_WALL);
	assert_false(o.split_gil);
	const char *a2[] = { "gil-prof", "-p", "1", "--mode", "cpu", "--split-gil", "-f", "folded",
			     NULL };
	assert_int_equal(parse(&o, 8, a2), 0);
	assert_int_equal(o.mode, GP_MODE_CPU);
	assert_true(o.split_gil);
	const char *a3[] = { "gil-prof", "-p", "1", "--split-gil", "-o", "a.report", "-o",
			     "b.folded", NULL };
	assert_int_equal(parse(&o, 8, a3), 0);
	assert_int_equal(o.outputs[0].format, GP_FORMAT_REPORT);

	stderr = fopen("/dev/null", "w");
	const char *bad[] = { "gil-prof", "-p", "1", "--mode", "idle", NULL };
	assert_int_equal(parse(&o, 5, bad), GP_EXIT_USAGE);
	const char *nofold[] = { "gil-prof", "-p", "1", "--split-gil", "-o", "a.report", NULL };
	assert_int_equal(parse(&o, 6, nofold), GP_EXIT_USAGE);
	const char *nofold2[] = { "gil-prof", "-p", "1", "--split-gil", "-f", "report", NULL };
	assert_int_equal(parse(&o, 6, nofold2), GP_EXIT_USAGE);
	const char *nofold3[] = { "gil-prof", "-p", "1", "--split-gil", NULL }; /* default: svg */
	assert_int_equal(parse(&o, 4, nofold3), GP_EXIT_USAGE);
	fclose(stderr);
	stderr = saved;
}

static void test_timeline_options(void **state)
{
	struct gp_options o;
	FILE *saved = stderr;

	(void)state;
	const char *a1[] = { "gil-prof", "-p", "1", "-o", "a.svg", NULL };
	assert_int_equal(parse(&o, 5, a1), 0);
	assert_false(o.timeline);
	const char *a2[] = { "gil-prof", "-p", "1", "-o", "a.svg", "-o", "gil.trace.json", NULL };
	assert_int_equal(parse(&o, 7, a2), 0);
	assert_true(o.timeline);
	assert_int_equal(o.outputs[1].format, GP_FORMAT_CHROMETRACE);
	assert_int_equal(o.gil_trace, GP_GIL_TRACE_AUTO);
	const char *a3[] = { "gil-prof", "-p", "1", "-f", "chrometrace", "--gil-trace",
			     "watchpoint", NULL };
	assert_int_equal(parse(&o, 7, a3), 0);
	assert_true(o.timeline);
	assert_int_equal(o.gil_trace, GP_GIL_TRACE_WATCHPOINT);

	stderr = fopen("/dev/null", "w");
	const char *cpu[] = { "gil-prof", "-p", "1", "--mode", "cpu", "-o", "a.trace.json", NULL };
	assert_int_equal(parse(&o, 7, cpu), GP_EXIT_USAGE);
	const char *how[] = { "gil-prof", "-p", "1", "-o", "a.trace.json", "--gil-trace", "ptrace",
			      NULL };
	assert_int_equal(parse(&o, 7, how), GP_EXIT_USAGE);
	const char *alone[] = { "gil-prof", "-p", "1", "--gil-trace", "uprobes", NULL };
	assert_int_equal(parse(&o, 5, alone), GP_EXIT_USAGE);
	const char *subs[] = { "gil-prof", "--subprocesses", "-o", "a.trace.json", "--", "python3",
			       NULL };
	assert_int_equal(parse(&o, 6, subs), GP_EXIT_USAGE);
	fclose(stderr);
	stderr = saved;
}

static void test_usage_errors(void **state)
{
	struct gp_options o;
	FILE *saved = stderr;

	(void)state;
	stderr = fopen("/dev/null", "w");
	const char *none[] = { "gil-prof", NULL };
	assert_int_equal(parse(&o, 1, none), GP_EXIT_USAGE);
	const char *both[] = { "gil-prof", "-p", "1", "--", "python3", NULL };
	assert_int_equal(parse(&o, 5, both), GP_EXIT_USAGE);
	const char *pid0[] = { "gil-prof", "-p", "0", NULL };
	assert_int_equal(parse(&o, 3, pid0), GP_EXIT_USAGE);
	const char *pidx[] = { "gil-prof", "-p", "12ab", NULL };
	assert_int_equal(parse(&o, 3, pidx), GP_EXIT_USAGE);
	const char *rate[] = { "gil-prof", "-p", "1", "-r", "0", NULL };
	assert_int_equal(parse(&o, 5, rate), GP_EXIT_USAGE);
	const char *rate2[] = { "gil-prof", "-p", "1", "-r", "20001", NULL };
	assert_int_equal(parse(&o, 5, rate2), GP_EXIT_USAGE);
	const char *fmt[] = { "gil-prof", "-p", "1", "--format", "pdf", NULL };
	assert_int_equal(parse(&o, 5, fmt), GP_EXIT_USAGE);
	const char *ext[] = { "gil-prof", "-p", "1", "-o", "out.pdf", NULL };
	assert_int_equal(parse(&o, 5, ext), GP_EXIT_USAGE);
	const char *vq[] = { "gil-prof", "-p", "1", "-v", "-q", NULL };
	assert_int_equal(parse(&o, 5, vq), GP_EXIT_USAGE);
	const char *unk[] = { "gil-prof", "-p", "1", "--frobnicate", NULL };
	assert_int_equal(parse(&o, 4, unk), GP_EXIT_USAGE);
	const char *dur[] = { "gil-prof", "-p", "1", "-d", "soon", NULL };
	assert_int_equal(parse(&o, 5, dur), GP_EXIT_USAGE);
	/* --format with several -o: which one? */
	const char *fmt2[] = { "gil-prof", "-p", "1", "-o", "a", "-o", "b", "-f", "pprof", NULL };
	assert_int_equal(parse(&o, 9, fmt2), GP_EXIT_USAGE);
	const char *twice[] = { "gil-prof", "-p", "1", "-o", "a.svg", "-o", "a.svg", NULL };
	assert_int_equal(parse(&o, 7, twice), GP_EXIT_USAGE);
	const char *nine[] = { "gil-prof", "-p", "1", "-o", "1.svg", "-o", "2.svg", "-o", "3.svg",
			       "-o", "4.svg", "-o", "5.svg", "-o", "6.svg", "-o", "7.svg",
			       "-o", "8.svg", "-o", "9.svg", NULL };
	assert_int_equal(parse(&o, 21, nine), GP_EXIT_USAGE);
	fclose(stderr);
	stderr = saved;
}

static void test_native_options(void **state)
{
	struct gp_options o;
	uint64_t b;
	FILE *saved = stderr;

	(void)state;
	assert_int_equal(gp_parse_size("16384", &b), 0);
	assert_int_equal(b, 16384);
	assert_int_equal(gp_parse_size("32K", &b), 0);
	assert_int_equal(b, 32768);
	assert_int_equal(gp_parse_size("64KiB", &b), 0);
	assert_int_equal(b, 65536);
	assert_int_equal(gp_parse_size("1M", &b), 0);
	assert_int_equal(b, 1 << 20);
	assert_int_equal(gp_parse_size("", &b), -1);
	assert_int_equal(gp_parse_size("-4K", &b), -1);
	assert_int_equal(gp_parse_size("4Q", &b), -1);
	assert_int_equal(gp_parse_size("99999999999999999999", &b), -1);

	const char *native[] = { "gil-prof", "-p", "1", "--native", NULL };
	assert_int_equal(parse(&o, 4, native), 0);
	assert_true(o.native);
	assert_false(o.native_all);
	assert_false(o.kernel);
	assert_int_equal(o.stack_bytes, 16384);
	const char *all[] = { "gil-prof", "-p", "1", "--native-all", "--kernel", "--stack-size",
			      "2001", NULL };
	assert_int_equal(parse(&o, 7, all), 0);
	assert_true(o.native && o.native_all && o.kernel);
	assert_int_equal(o.stack_bytes, 2008); /* whole words */
	const char *kernel[] = { "gil-prof", "-p", "1", "--kernel", NULL };
	assert_int_equal(parse(&o, 4, kernel), 0);
	assert_true(o.kernel);
	assert_false(o.native);
	assert_int_equal(o.stack_bytes, 0);

	stderr = fopen("/dev/null", "w");
	const char *lone[] = { "gil-prof", "-p", "1", "--stack-size", "32K", NULL };
	assert_int_equal(parse(&o, 5, lone), GP_EXIT_USAGE);
	const char *big[] = { "gil-prof", "-p", "1", "--native", "--stack-size", "256K", NULL };
	assert_int_equal(parse(&o, 6, big), GP_EXIT_USAGE);
	const char *small[] = { "gil-prof", "-p", "1", "--native", "--stack-size", "512", NULL };
	assert_int_equal(parse(&o, 6, small), GP_EXIT_USAGE);
	fclose(stderr);
	stderr = saved;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_record_and_plain_forms),
		cmocka_unit_test(test_several_outputs),
		cmocka_unit_test(test_mode_and_split),
		cmocka_unit_test(test_timeline_options),
		cmocka_unit_test(test_usage_errors),
		cmocka_unit_test(test_native_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
