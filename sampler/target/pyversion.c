// SPDX-License-Identifier: BSD-2-Clause
/*
 * pyversion.c — which CPython a target runs, and the layout row for it.
 * Versions are told apart by data (the rows), never by code paths.
 */
#include "pyversion.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct py_layout *gp_layout_for(uint32_t version_hex, bool free_threaded)
{
	for (size_t i = 0; i < gp_py_layouts_count; i++) {
		const struct py_layout *L = &gp_py_layouts[i];

		if ((L->version_hex & 0xffff0000u) == (version_hex & 0xffff0000u) &&
		    !!L->free_threaded == free_threaded)
			return L;
	}
	return NULL;
}

const char *gp_supported_versions(void)
{
	static char buf[128];
	uint32_t lo = 0xffffffffu, hi = 0;
	size_t len = 0;

	if (buf[0])
		return buf;
	for (size_t i = 0; i < gp_py_layouts_count; i++) {
		uint32_t v = gp_py_layouts[i].version_hex & 0xffff0000u;

		if (gp_py_layouts[i].free_threaded)
			continue;
		lo = v < lo ? v : lo;
		hi = v > hi ? v : hi;
	}
	len = (size_t)snprintf(buf, sizeof(buf), "%u.%u to %u.%u", GP_PY_MAJOR(lo),
			       GP_PY_MINOR(lo), GP_PY_MAJOR(hi), GP_PY_MINOR(hi));
	for (size_t i = 0; i < gp_py_layouts_count && len < sizeof(buf); i++)
		if (gp_py_layouts[i].untested)
			len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%u.%u",
						strchr(buf, '(') ? ", " : " (untested: ",
						GP_PY_MAJOR(gp_py_layouts[i].version_hex),
						GP_PY_MINOR(gp_py_layouts[i].version_hex));
	if (strchr(buf, '(') && len + 1 < sizeof(buf))
		strcat(buf, ")");
	return buf;
}

int gp_version_from_name(const char *name, uint32_t *hex, bool *free_threaded)
{
	const char *base = strrchr(name, '/'), *p;
	unsigned long major, minor;
	char *end;

	base = base ? base + 1 : name;
	p = strstr(base, "python");
	if (!p)
		return -1;
	p += strlen("python");
	if (!isdigit((unsigned char)*p))
		return -1;
	major = strtoul(p, &end, 10);
	if (*end != '.' || !isdigit((unsigned char)end[1]))
		return -1;
	minor = strtoul(end + 1, &end, 10);
	if (major > 9 || minor > 99)
		return -1;
	*free_threaded = *end == 't';
	*hex = (uint32_t)(major << 24 | minor << 16);
	return 0;
}

void gp_version_format(uint32_t hex, char *buf, size_t len)
{
	static const char *const levels[16] = { [0xA] = "a", [0xB] = "b", [0xC] = "rc" };
	unsigned int level = (hex >> 4) & 0xf, serial = hex & 0xf;

	if (!(hex & 0xffff))
		snprintf(buf, len, "%u.%u", GP_PY_MAJOR(hex), GP_PY_MINOR(hex));
	else if (levels[level])
		snprintf(buf, len, "%u.%u.%u%s%u", GP_PY_MAJOR(hex), GP_PY_MINOR(hex),
			 GP_PY_MICRO(hex), levels[level], serial);
	else
		snprintf(buf, len, "%u.%u.%u", GP_PY_MAJOR(hex), GP_PY_MINOR(hex),
			 GP_PY_MICRO(hex));
}
