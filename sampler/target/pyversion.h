/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_PYVERSION_H
#define GP_PYVERSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../bpf/gilprof.h"

/* The generated rows (sampler/pylayouts.c), one per minor version. */
extern const struct py_layout gp_py_layouts[];
extern const size_t gp_py_layouts_count;

/* The row for version_hex's major.minor (and build kind), or NULL. */
const struct py_layout *gp_layout_for(uint32_t version_hex, bool free_threaded);

/* "3.9 to 3.15" (with "(untested: ...)" for such rows): the default-build rows. */
const char *gp_supported_versions(void);

/*
 * Version from a file name such as "libpython3.10.so.1.0", "python3.9" or
 * "libpython3.13t.so": sets *hex to major.minor (micro 0) and *free_threaded.
 * -1 if the name carries no version.
 */
int gp_version_from_name(const char *name, uint32_t *hex, bool *free_threaded);

/* "3.11.7", or "3.10" when the micro version is unknown (0 with no level). */
void gp_version_format(uint32_t hex, char *buf, size_t len);

#define GP_PY_MAJOR(hex) (((hex) >> 24) & 0xff)
#define GP_PY_MINOR(hex) (((hex) >> 16) & 0xff)
#define GP_PY_MICRO(hex) (((hex) >> 8) & 0xff)

#endif
