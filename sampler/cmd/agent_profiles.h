/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_AGENT_PROFILES_H
#define GP_AGENT_PROFILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../account/profile.h"

/*
 * The agent's --profile-dir: one pprof file per process and period, named
 * TIME-PROCESS-PID.pb.gz (TIME in UTC, 20261202T150800.123Z, so names sort
 * by time), written atomically; the oldest are removed first while there
 * are more than keep files or more than max_bytes in all. Only files named
 * so are counted or removed: the directory may hold others.
 */

/* Write prof; its path in path. 0, or -1 with errno set. */
int gp_agent_profile_write(const char *dir, const struct gp_profile *prof, pid_t pid,
			   const char *process, uint64_t unix_ns, char *path, size_t len);

/* Apply the retention limits. Returns the number of files removed. */
size_t gp_agent_profile_retain(const char *dir, unsigned long keep, uint64_t max_bytes);

/* Is name one of the agent's profile file names? */
bool gp_agent_profile_named(const char *name);

#endif
