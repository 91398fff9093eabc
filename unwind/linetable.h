/* SPDX-License-Identifier: BSD-2-Clause */
#ifndef GP_LINETABLE_H
#define GP_LINETABLE_H

#include <stddef.h>
#include <stdint.h>

/* Returned when the instruction has no line (or the table is malformed). */
#define GP_NO_LINE (-1)

/*
 * Line of the instruction at byte offset lasti_bytes of a code object whose
 * line table (enum gp_linetable_format) is tab[0..len). Pure and bounded by
 * len: the table comes from target memory and may be garbage.
 */
int gp_line_for(int format, const uint8_t *tab, size_t len, int firstlineno,
		int lasti_bytes);

#endif
