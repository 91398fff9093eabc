// SPDX-License-Identifier: BSD-2-Clause
/*
 * linecheck — decodes the line tables that tests/targets/dump_lines.py
 * printed with gil-prof's own decoder (unwind/linetable.c), picking the
 * format from the generated layout row of the dump's version, and compares
 * every instruction offset with the line the interpreter itself gave.
 *
 *   python3 tests/targets/dump_lines.py | linecheck
 *
 * Prints "checked N code objects, M offsets, K mismatches"; exits 1 on any
 * mismatch, on malformed input, or when nothing was checked.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linetable.h"
#include "pyversion.h"

#define SHOW_MAX 20

struct code {
	char name[128];
	int firstlineno;
	uint8_t *table;
	size_t len;
};

struct totals {
	unsigned long codes, offsets, mismatches;
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int parse_code(char *line, struct code *c)
{
	char *hex = NULL;
	size_t n;

	free(c->table);
	memset(c, 0, sizeof(*c));
	if (sscanf(line, "C %127s %d %ms", c->name, &c->firstlineno, &hex) != 3)
		return -1;
	n = strcmp(hex, "-") ? strlen(hex) : 0;
	c->table = malloc(n / 2 + 1);
	if (!c->table || n % 2) {
		free(hex);
		return -1;
	}
	for (size_t i = 0; i < n / 2; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			free(hex);
			return -1;
		}
		c->table[i] = (uint8_t)(hi << 4 | lo);
	}
	c->len = n / 2;
	free(hex);
	return 0;
}

/* Compare one "E ..." or "P ..." line of expected lines with the decoder. */
static int check_lines(char *line, int format, const struct code *c, struct totals *t)
{
	char kind = line[0], *p = line + 1, *end;
	long off = 0;

	for (;; off += 2) {
		long want = strtol(p, &end, 10);
		int got;

		if (end == p)
			break;
		p = end;
		got = gp_line_for(format, c->table, c->len, c->firstlineno, (int)off);
		t->offsets++;
		if (got == want)
			continue;
		if (t->mismatches++ < SHOW_MAX)
			fprintf(stderr, "mismatch (%c): %s (first line %d) at byte offset %ld: "
					"interpreter says %ld, gil-prof %d\n",
				kind, c->name, c->firstlineno, off, want, got);
	}
	while (*p == ' ' || *p == '\n')
		p++;
	return *p ? -1 : 0;
}

int main(void)
{
	struct totals t = { 0 };
	struct code c = { 0 };
	char *line = NULL;
	size_t cap = 0;
	int format = -1, lineno = 0;
	bool have_code = false;

	while (getline(&line, &cap, stdin) > 0) {
		unsigned long hex;

		lineno++;
		if (line[0] == 'V' && sscanf(line, "V %lu", &hex) == 1) {
			const struct py_layout *L = gp_layout_for((uint32_t)hex, false);

			if (!L) {
				fprintf(stderr, "linecheck: no layout row for version 0x%lx\n", hex);
				return 1;
			}
			format = L->code_linetable_format;
		} else if (line[0] == 'C' && format >= 0 && !parse_code(line, &c)) {
			have_code = true;
			t.codes++;
		} else if ((line[0] == 'E' || line[0] == 'P') && have_code) {
			if (check_lines(line, format, &c, &t))
				goto bad;
		} else {
			goto bad;
		}
	}
	free(line);
	free(c.table);
	printf("checked %lu code objects, %lu offsets, %lu mismatches\n", t.codes, t.offsets,
	       t.mismatches);
	return t.mismatches || !t.codes || !t.offsets ? 1 : 0;
bad:
	fprintf(stderr, "linecheck: malformed input at line %d\n", lineno);
	free(line);
	free(c.table);
	return 1;
}
