// SPDX-License-Identifier: BSD-2-Clause
/*
 * gilwait — the tests' exact GIL tracer (see gilwait.bpf.c).
 *
 *   gilwait PID LIBPYTHON SECONDS [INTERVAL_MS]
 *
 * attaches to take_gil and drop_gil in LIBPYTHON (a library with a symbol
 * table: pyenv's builds) for process PID, prints "ready", then every
 * INTERVAL_MS (default 20) and once at the end a snapshot of the totals:
 *
 *   at NOW_NS
 *   TID NS_IN_TAKE_OR_DROP_GIL CALLS
 *
 * one line per thread, time inside counted from the start of tracing
 * (CLOCK_MONOTONIC ns, the clock of bpf_ktime_get_ns), open intervals up
 * to NOW. A reader can take the difference of two snapshots to get any
 * window. Exit 0, or 1 with a message on stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "gilwait.skel.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int attach(struct bpf_program *prog, pid_t pid, const char *lib, const char *func,
		  bool ret)
{
	LIBBPF_OPTS(bpf_uprobe_opts, opts, .func_name = func, .retprobe = ret);

	if (!bpf_program__attach_uprobe_opts(prog, pid, lib, 0, &opts)) {
		fprintf(stderr, "gilwait: cannot attach to %s in %s: %s\n", func, lib,
			strerror(errno));
		return -1;
	}
	return 0;
}

static void snapshot(struct gilwait_bpf *skel, uint64_t start)
{
	int fd = bpf_map__fd(skel->maps.times);
	uint64_t now = mono_ns();
	__u32 key, next, *prev = NULL;
	struct {
		__u64 since, total, calls;
	} t;

	printf("at %llu\n", (unsigned long long)now);
	while (!bpf_map_get_next_key(fd, prev, &next)) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &t))
			continue;
		/* Inside now: count up to now. */
		if (t.since && t.since < now)
			t.total += now - (t.since > start ? t.since : start);
		printf("%u %llu %llu\n", key, (unsigned long long)t.total,
		       (unsigned long long)t.calls);
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct gilwait_bpf *skel;
	uint64_t start, end;
	double seconds, interval_ms = 20;
	pid_t pid;
	int rc = 1;

	if ((argc != 4 && argc != 5) || (pid = atoi(argv[1])) <= 0 ||
	    (seconds = atof(argv[3])) <= 0 || (argc == 5 && (interval_ms = atof(argv[4])) <= 0)) {
		fprintf(stderr, "usage: gilwait PID LIBPYTHON SECONDS [INTERVAL_MS]\n");
		return 2;
	}
	skel = gilwait_bpf__open();
	if (!skel) {
		fprintf(stderr, "gilwait: cannot open the BPF object\n");
		return 1;
	}
	skel->rodata->target_tgid = (__u32)pid;
	if (gilwait_bpf__load(skel)) {
		fprintf(stderr, "gilwait: cannot load the BPF object\n");
		goto out;
	}
	if (attach(skel->progs.take_enter, pid, argv[2], "take_gil", false) ||
	    attach(skel->progs.take_leave, pid, argv[2], "take_gil", true) ||
	    attach(skel->progs.drop_enter, pid, argv[2], "drop_gil", false) ||
	    attach(skel->progs.drop_leave, pid, argv[2], "drop_gil", true))
		goto out;
	/* Measure from when every probe is in. */
	start = mono_ns();
	skel->bss->start_ns = start;
	printf("ready\n");
	fflush(stdout);
	end = start + (uint64_t)(seconds * 1e9);
	while (mono_ns() < end) {
		usleep((useconds_t)(interval_ms * 1e3));
		snapshot(skel, start);
	}
	rc = 0;
out:
	gilwait_bpf__destroy(skel);
	return rc;
}
