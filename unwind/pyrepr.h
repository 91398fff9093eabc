/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_PYREPR_H
#define GP_PYREPR_H

#include <stddef.h>
#include <stdint.h>

#include "pyobj.h"

/*
 * repr() of an object in a target's memory, for `dump --locals`: None,
 * bool, int (any size), float, str (any kind), bytes, and shallow list,
 * tuple, dict, set and frozenset; any other object as <TypeName at 0x...>.
 * Everything read is bounded and checked; what is cut says so: a long str
 * or bytes ends in "...' (N chars)", a container shows its first items
 * and "... (N items)", nesting deeper than GP_REPR_DEPTH shows as [...].
 */
#define GP_REPR_STR_CHARS 80       /* of a str or bytes value */
#define GP_REPR_ITEMS 8            /* of a container */
#define GP_REPR_DEPTH 2            /* containers inside containers */
#define GP_REPR_INT_DIGITS 2048    /* 30-bit digits of an int converted (~18k decimal) */
#define GP_REPR_INT_CHARS 60       /* decimal digits of an int shown */

/*
 * Write the repr of obj as NUL-terminated UTF-8 into buf (cut at len - 1
 * at a character boundary). Returns 0, or -1 if obj could not be read at
 * all (buf then says <unreadable at 0x...>).
 */
int gp_pyrepr(const struct gp_pyobj *r, uint64_t obj, char *buf, size_t len);

#endif
