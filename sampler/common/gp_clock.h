/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_CLOCK_H
#define GP_CLOCK_H

#include <stdint.h>
#include <time.h>

/*
 * The two clocks gil-prof reads: CLOCK_MONOTONIC is the clock of the BPF
 * records (bpf_ktime_get_ns), so every interval is measured on it;
 * CLOCK_REALTIME only stamps a profile with when it was taken.
 */
static inline uint64_t gp_clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static inline uint64_t gp_mono_ns(void)
{
	return gp_clock_ns(CLOCK_MONOTONIC);
}

static inline uint64_t gp_unix_ns(void)
{
	return gp_clock_ns(CLOCK_REALTIME);
}

#endif
