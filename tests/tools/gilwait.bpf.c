// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * gilwait.bpf.c — the tests' exact GIL tracer: per thread, the time spent
 * inside take_gil and drop_gil of one process, from uprobes on their entry
 * and return. A thread inside either does not hold the GIL for most of it
 * and cannot run Python until take_gil returns: that is what gil-prof's
 * sampled "waiting" state estimates. (drop_gil's part before it clears
 * gil->locked is a few instructions.)
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

const volatile __u32 target_tgid = 0;
/* Set by user space once every probe is attached; nothing counts before. */
__u64 start_ns = 0;

struct gil_time {
	__u64 since;   /* inside take_gil/drop_gil since, 0: outside */
	__u64 total;   /* ns inside, closed intervals */
	__u64 calls;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct gil_time);
} times SEC(".maps");

static __always_inline int enter(void)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct gil_time fresh = {}, *t;

	if ((id >> 32) != target_tgid)
		return 0;
	t = bpf_map_lookup_elem(&times, &tid);
	if (!t) {
		bpf_map_update_elem(&times, &tid, &fresh, BPF_NOEXIST);
		t = bpf_map_lookup_elem(&times, &tid);
		if (!t)
			return 0;
	}
	t->since = bpf_ktime_get_ns();
	t->calls++;
	return 0;
}

static __always_inline int leave(void)
{
	__u64 id = bpf_get_current_pid_tgid(), now = bpf_ktime_get_ns(), since;
	__u32 tid = (__u32)id;
	struct gil_time fresh = {}, *t;

	if ((id >> 32) != target_tgid)
		return 0;
	t = bpf_map_lookup_elem(&times, &tid);
	if (!start_ns) {
		if (t)
			t->since = 0;
		return 0;
	}
	if (!t) {
		/* Entered before the probes were attached. */
		fresh.total = now - start_ns;
		bpf_map_update_elem(&times, &tid, &fresh, BPF_NOEXIST);
		return 0;
	}
	since = t->since > start_ns ? t->since : start_ns;
	t->total += now > since ? now - since : 0;
	t->since = 0;
	return 0;
}

SEC("uprobe")
int take_enter(void *ctx __attribute__((unused)))
{
	return enter();
}

SEC("uretprobe")
int take_leave(void *ctx __attribute__((unused)))
{
	return leave();
}

SEC("uprobe")
int drop_enter(void *ctx __attribute__((unused)))
{
	return enter();
}

SEC("uretprobe")
int drop_leave(void *ctx __attribute__((unused)))
{
	return leave();
}
