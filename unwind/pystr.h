/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_PYSTR_H
#define GP_PYSTR_H

#include <stddef.h>
#include <stdint.h>

#include "targetmem.h"

struct py_layout;

/* Code points copied from one Python str at most; longer names are cut. */
#define GP_STR_MAX_CHARS 1024

/*
 * Transcode n characters of width kind (1 = Latin-1, 2 = UCS-2, 4 = UCS-4)
 * to NUL-terminated UTF-8 in out[0..outsz). Invalid code points (surrogates,
 * > U+10FFFF) become U+FFFD. Returns the UTF-8 length, truncated at a
 * character boundary to fit.
 */
size_t gp_ucs_to_utf8(int kind, const uint8_t *data, size_t n, char *out, size_t outsz);

/*
 * Read the str object at addr (PEP 393 layout from L) as UTF-8 into out.
 * Returns 0, or -1 if it is unreadable or not a valid str header.
 */
int gp_read_pystr(const struct py_layout *L, const struct gp_mem *m, uint64_t addr,
		  char *out, size_t outsz);

#endif
