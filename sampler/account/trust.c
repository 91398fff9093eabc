// SPDX-License-Identifier: BSD-2-Clause
/*
 * trust.c — is the profile what happened? See trust.h.
 */
#include "trust.h"

#include <stdlib.h>
#include <string.h>

#include "grow.h"

int gp_trust_add(struct gp_trust *t, uint32_t idx, pid_t pid, bool has_stack)
{
	struct gp_trust_thread *th;

	if (GP_GROW_INDEX(t->v, t->n, idx, 16))
		return -1;
	th = &t->v[idx];
	th->pid = pid;
	th->records++;
	th->with_stack += has_stack;
	return 0;
}

/* Did any thread of pid come with a Python stack? Then the lookup works there. */
static bool process_resolves(const struct gp_trust *t, pid_t pid)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->v[i].pid == pid && t->v[i].with_stack)
			return true;
	return false;
}

void gp_trust_judge(const struct gp_trust *t, struct gp_trust_verdict *v)
{
	memset(v, 0, sizeof(*v));
	for (size_t i = 0; i < t->n; i++) {
		const struct gp_trust_thread *th = &t->v[i];

		if (!th->records)
			continue;
		v->records += th->records;
		if (!th->with_stack && process_resolves(t, th->pid))
			v->c_threads += th->records;
		else
			v->missing += th->records - th->with_stack;
	}
	v->trusted = v->records < GP_TRUST_MIN_RECORDS || 2 * v->missing <= v->records;
}

void gp_trust_free(struct gp_trust *t)
{
	free(t->v);
	t->v = NULL;
	t->n = 0;
}
