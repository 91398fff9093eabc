// SPDX-License-Identifier: BSD-2-Clause
/*
 * The agent's pieces without a kernel: --listen parsing, the metrics text
 * (escaping of target-controlled label values, series per state, what a
 * process not profiled shows), and the profile directory's names and
 * retention.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "agent_http.h"
#include "agent_profiles.h"
#include "metrics.h"

static void test_listen(void **state)
{
	struct sockaddr_storage a;
	socklen_t len;
	int port, any;

	(void)state;
	assert_int_equal(gp_http_parse_listen("127.0.0.1:9464", &a, &len, &port, &any), 0);
	assert_int_equal(port, 9464);
	assert_false(any);
	assert_int_equal(a.ss_family, AF_INET);
	assert_int_equal(ntohl(((struct sockaddr_in *)&a)->sin_addr.s_addr), 0x7f000001);
	assert_int_equal(gp_http_parse_listen(":9464", &a, &len, &port, &any), 0);
	assert_true(any);
	assert_int_equal(gp_http_parse_listen("[::1]:19464", &a, &len, &port, &any), 0);
	assert_int_equal(a.ss_family, AF_INET6);
	assert_int_equal(port, 19464);
	assert_int_equal(ntohs(((struct sockaddr_in6 *)&a)->sin6_port), 19464);
}

static void test_listen_refused(void **state)
{
	static const char *const bad[] = {
		"9464", "127.0.0.1", "127.0.0.1:", ":0", ":65536", "localhost:9464",
		"[::1:9464", "::1:9464", "1.2.3.4:9x", "[]:1",
	};
	struct sockaddr_storage a;
	socklen_t len;
	int port, any;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(gp_http_parse_listen(bad[i], &a, &len, &port, &any), -1);
}

static char *render(const struct gp_metrics *m)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(gp_write_metrics(m, f), 0);
	fclose(f);
	return buf;
}

static void test_metrics_text(void **state)
{
	struct gp_metrics_thread th = { .tid = 43, .name = "w\"1\\\n" };
	struct gp_metrics_proc p[2] = {
		{ .pid = 42, .process = "my \"app\"\\x\n", .container = "4f6c2a1b9e8d",
		  .python_version = "3.12.1", .supported = true, .contention_known = true,
		  .contended_ns = 1500000000ULL, .switches_known = true, .switches = 77,
		  .threads = &th, .nthreads = 1 },
		{ .pid = 50, .process = "py\xff", .container = "", .python_version = "3.15.0",
		  .supported = false, .reason = "unsupported_version" },
	};
	struct gp_metrics_error err = { .reason = "unsupported_version", .count = 1 };
	struct gp_metrics m = { .procs = p, .nprocs = 2, .mode = "wall", .rate_hz = 19,
				.attached = 1, .samples = 5, .errors = &err, .nerrors = 1 };
	char *text;

	(void)state;
	p[0].state_ns[GP_STATE_HOLDING] = 2500000000ULL;
	p[0].state_ns[GP_STATE_WAITING] = 1000;
	th.state_ns[GP_STATE_IDLE] = 1000000000ULL;
	text = render(&m);
	/* quotes and backslashes escaped; control characters (a newline) are
	 * spaces already (gp_text_clean); invalid UTF-8 replaced */
	assert_non_null(strstr(text, "gil_prof_seconds_total{pid=\"42\",process=\"my \\\"app\\\"\\\\x \","
				     "container=\"4f6c2a1b9e8d\",state=\"holding\"} 2.500000\n"));
	assert_non_null(strstr(text, "state=\"waiting\"} 0.000001\n"));
	assert_non_null(strstr(text, "tid=\"43\",thread=\"w\\\"1\\\\ \",state=\"idle\"} 1.000000\n"));
	assert_non_null(strstr(text, "gil_prof_contention_seconds_total{pid=\"42\","));
	assert_non_null(strstr(text, "} 1.500000\n"));
	assert_non_null(strstr(text, "gil_prof_gil_switches_total{pid=\"42\""));
	assert_non_null(strstr(text, "gil_prof_target_info{pid=\"50\",process=\"py\xef\xbf\xbd\","
				     "container=\"\",python_version=\"3.15.0\",supported=\"0\","
				     "reason=\"unsupported_version\"} 1\n"));
	assert_non_null(strstr(text, "gil_prof_target_info{pid=\"42\""));
	/* the process not profiled has no time series */
	assert_null(strstr(text, "gil_prof_seconds_total{pid=\"50\""));
	assert_non_null(strstr(text, "# TYPE gil_prof_seconds_total counter\n"));
	assert_non_null(strstr(text, "gil_prof_agent_errors_total{reason=\"unsupported_version\"} 1\n"));
	/* no raw newline inside a sample line: every line is a comment or a sample */
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
		assert_true(line[0] == '#' || !strncmp(line, "gil_prof_", 9));
	free(text);
}

static void touch(const char *dir, const char *name, size_t bytes)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	for (size_t i = 0; i < bytes; i++)
		fputc('x', f);
	fclose(f);
}

static bool exists(const char *dir, const char *name)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

static void test_profile_names_and_retention(void **state)
{
	char dir[] = "/tmp/gp-agent-test-XXXXXX";

	(void)state;
	assert_true(gp_agent_profile_named("20261202T150800.123Z-python3-1234.pb.gz"));
	assert_true(gp_agent_profile_named("20261202T150800.123Z-a-b-7.pb.gz"));
	assert_false(gp_agent_profile_named("20261202T150800.123Z-python3-.pb.gz"));
	assert_false(gp_agent_profile_named("20261202T150800Z-python3-1234.pb.gz"));
	assert_false(gp_agent_profile_named("notes.pb.gz"));
	assert_false(gp_agent_profile_named("20261202T150800.123Z-python3-1234.pb.gz.tmp"));
	assert_non_null(mkdtemp(dir));
	touch(dir, "20200101T000000.000Z-a-1.pb.gz", 100);
	touch(dir, "20200101T000001.000Z-a-1.pb.gz", 100);
	touch(dir, "20200101T000002.000Z-b-2.pb.gz", 100);
	touch(dir, "20200101T000003.000Z-a-1.pb.gz", 100);
	touch(dir, "other.pb.gz", 5000);
	/* by count: the two oldest go */
	assert_int_equal(gp_agent_profile_retain(dir, 2, 1 << 20), 2);
	assert_false(exists(dir, "20200101T000000.000Z-a-1.pb.gz"));
	assert_false(exists(dir, "20200101T000001.000Z-a-1.pb.gz"));
	assert_true(exists(dir, "20200101T000002.000Z-b-2.pb.gz"));
	/* by bytes: 200 > 150, the oldest goes; other files never count */
	assert_int_equal(gp_agent_profile_retain(dir, 10, 150), 1);
	assert_false(exists(dir, "20200101T000002.000Z-b-2.pb.gz"));
	assert_true(exists(dir, "20200101T000003.000Z-a-1.pb.gz"));
	assert_true(exists(dir, "other.pb.gz"));
	assert_int_equal(gp_agent_profile_retain(dir, 10, 150), 0);
	unlink(strcat(strcpy((char[600]){ 0 }, dir), "/20200101T000003.000Z-a-1.pb.gz"));
	unlink(strcat(strcpy((char[600]){ 0 }, dir), "/other.pb.gz"));
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listen),
		cmocka_unit_test(test_listen_refused),
		cmocka_unit_test(test_metrics_text),
		cmocka_unit_test(test_profile_names_and_retention),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
