/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * synthetic_profile.h — a small profile with everything the writers carry:
 * all four GIL states, a GC label, a native frame in a mapping with a
 * build-id, a marker frame, thread names (one not valid UTF-8) and
 * comments. Used by the unit tests and by tests/tools/write_synthetic.c,
 * whose files the functional tests hand to the real consumers (go tool
 * pprof, the speedscope rules, Chromium).
 *
 * The numbers, for assertions:
 *   thread 4242 "MainThread": idle 100 samples in wait_for_work (20 of them
 *                             with gc=1), holding 10 in main
 *   thread 4243 "worker-1":   holding 30, waiting 70, both in compute
 *   thread 4244 "hash\xffer": released 80 in a native frame
 *                             sha256_block_data_order (libcrypto.so.3)
 *   thread 4245 (no name):    holding 5 under a "[truncated ...]" marker
 * wall_ns = samples * 10 ms; cpu_ns = wall_ns except idle and waiting (0).
 */
#ifndef GP_SYNTHETIC_PROFILE_H
#define GP_SYNTHETIC_PROFILE_H

#include <stdio.h>
#include <string.h>

#include "../../sampler/account/profile.h"

#define SYN_PERIOD_NS 10000000ULL

static inline int syn_add(struct gp_profile *p, struct gp_thread *t, enum gp_gil_state st, bool gc,
		   const uint32_t *locs, uint32_t n, uint64_t samples)
{
	bool on_cpu = st != GP_STATE_IDLE && st != GP_STATE_WAITING;

	return gp_profile_add(p, t->idx, st, gc, locs, n, samples, samples * SYN_PERIOD_NS,
			      on_cpu ? samples * SYN_PERIOD_NS : 0);
}

static inline int synthetic_profile(struct gp_profile *p)
{
	uint32_t f_mod, f_main, f_wait, f_run, f_compute, f_hash, f_native, f_trunc;
	uint32_t s[8], map;
	struct gp_thread *main_t, *worker, *hasher, *anon;
	int rc = 0;

	gp_profile_init(p);
	p->pid = 4242;
	p->rate_hz = 100;
	p->period_ns = SYN_PERIOD_NS;
	p->start_unix_ns = 1700000000000000000ULL;
	p->duration_ns = 2000000000ULL;
	p->lost = 3;
	snprintf(p->python_version, sizeof(p->python_version), "3.12.1");
	snprintf(p->comm, sizeof(p->comm), "python3");
	gp_profile_comment(p, "target exited with status 0");

	f_mod = gp_profile_function(p, GP_FUNC_PYTHON, "<module>", "<module>", "/srv/app.py", 1);
	f_main = gp_profile_function(p, GP_FUNC_PYTHON, "main", "main", "/srv/app.py", 40);
	f_wait = gp_profile_function(p, GP_FUNC_PYTHON, "Queue.wait_for_work", "wait_for_work",
				     "/srv/jobs.py", 12);
	f_run = gp_profile_function(p, GP_FUNC_PYTHON, "Worker.run", "run", "/srv/jobs.py", 30);
	f_compute = gp_profile_function(p, GP_FUNC_PYTHON, "compute", "compute",
					"/srv/<kernels> & \"math\".py", 50);
	f_hash = gp_profile_function(p, GP_FUNC_PYTHON, "checksum", "checksum", "/srv/jobs.py",
				     70);
	f_native = gp_profile_function(p, GP_FUNC_NATIVE, "sha256_block_data_order",
				       "sha256_block_data_order", "", 0);
	f_trunc = gp_profile_function(p, GP_FUNC_MARKER, "[truncated: deeper than 1024 frames]",
				      NULL, "", 0);
	map = gp_profile_mapping(p, 0x7f0000000000ULL, 0x7f0000400000ULL, 0x1000,
				 "/usr/lib/x86_64-linux-gnu/libcrypto.so.3",
				 "1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c");

	main_t = gp_profile_thread(p, 4242, 4242);
	worker = gp_profile_thread(p, 4242, 4243);
	hasher = gp_profile_thread(p, 4242, 4244);
	anon = gp_profile_thread(p, 4242, 4245);
	snprintf(main_t->name, sizeof(main_t->name), "MainThread");
	snprintf(worker->name, sizeof(worker->name), "worker-1");
	snprintf(hasher->name, sizeof(hasher->name), "hash\xff" "er");

	s[0] = gp_profile_location(p, f_mod, 90, 0, 0);
	s[1] = gp_profile_location(p, f_main, 44, 0, 0);
	s[2] = gp_profile_location(p, f_wait, 15, 0, 0);
	rc |= syn_add(p, main_t, GP_STATE_IDLE, false, s, 3, 80);
	rc |= syn_add(p, main_t, GP_STATE_IDLE, true, s, 3, 20);
	rc |= syn_add(p, main_t, GP_STATE_HOLDING, false, s, 2, 10);

	s[1] = gp_profile_location(p, f_run, 33, 0, 0);
	s[2] = gp_profile_location(p, f_compute, 52, 0, 0);
	rc |= syn_add(p, worker, GP_STATE_HOLDING, false, s + 1, 2, 30);
	rc |= syn_add(p, worker, GP_STATE_WAITING, false, s + 1, 2, 70);

	s[2] = gp_profile_location(p, f_hash, 72, 0, 0);
	s[3] = gp_profile_location(p, f_native, 0, 0x7f0000012340ULL, map);
	rc |= syn_add(p, hasher, GP_STATE_RELEASED, false, s + 1, 3, 80);

	s[0] = gp_profile_location(p, f_trunc, 0, 0, 0);
	s[1] = gp_profile_location(p, f_compute, 51, 0, 0);
	rc |= syn_add(p, anon, GP_STATE_HOLDING, false, s, 2, 5);

	gp_profile_sort_stacks(p);
	return rc;
}

#endif
