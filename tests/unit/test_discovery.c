// SPDX-License-Identifier: BSD-2-Clause
/*
 * The agent's container label, from /proc/PID/cgroup texts of the
 * container runtimes (cgroup v2 systemd and cgroupfs drivers, cgroup v1).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "discovery.h"

#define ID "4f6c2a1b9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b"

static void expect(const char *cgroup, const char *want)
{
	char buf[80];

	gp_container_from_cgroup(cgroup, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void test_runtimes(void **state)
{
	(void)state;
	expect("0::/system.slice/docker-" ID ".scope\n", "4f6c2a1b9e8d");
	expect("0::/docker/" ID "\n", "4f6c2a1b9e8d");
	expect("0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234.slice/"
	       "cri-containerd-" ID ".scope\n",
	       "4f6c2a1b9e8d");
	expect("0::/kubepods/burstable/pod5678/" ID "\n", "4f6c2a1b9e8d");
	expect("0::/kubepods.slice/kubepods-pod1.slice/crio-" ID ".scope\n", "4f6c2a1b9e8d");
	expect("0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID
	       ".scope/container\n",
	       "4f6c2a1b9e8d");
	expect("0::/machine.slice/machine-web\\x2d1.scope/payload\n", "web-1");
	expect("0::/lxc.payload.box/init.scope\n", "box");
	expect("12:pids:/lxc/box2\n", "box2");
	/* cgroup v1: the first controller line that names one */
	expect("12:pids:/\n11:memory:/docker/" ID "\n", "4f6c2a1b9e8d");
}

static void test_host(void **state)
{
	(void)state;
	expect("0::/user.slice/user-0.slice/session-3.scope\n", "");
	expect("0::/system.slice/nginx.service\n", "");
	expect("0::/\n", "");
	expect("", "");
	/* not 64 hex digits: no id */
	expect("0::/system.slice/docker-4f6c2a.scope\n", "");
	expect("0::/system.slice/docker-" ID "zz.scope\n", "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runtimes),
		cmocka_unit_test(test_host),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
