// SPDX-License-Identifier: BSD-2-Clause
/*
 * ELF files of the target (possibly hostile): symbol and program-header
 * lookup through libelf, and the function symbol tables and build-id of
 * the native-stack file cache. The input is the file, served from a memfd.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "elfcache.h"
#include "elfsyms.h"

static void lookup_functions(const char *path, const uint8_t *data, size_t size)
{
	struct gp_elf_cache c;
	struct gp_elf_file *f;

	gp_elf_cache_init(&c);
	c.debug_dir = NULL; /* nothing from the host */
	f = gp_elf_cache_open(&c, path, "/fuzz/input.so");
	for (size_t i = 0; f && i + 8 <= size && i < 64; i += 8) {
		uint64_t addr;
		const char *name;

		memcpy(&addr, data + i, 8);
		name = gp_symtab_lookup(&f->syms, addr % 0x100000, NULL);
		if (name && gp_symbol_func_len(name) > strlen(name))
			__builtin_trap();
	}
	gp_elf_cache_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gp_elf_sym syms[] = { { .name = "_PyRuntime" }, { .name = "PyCode_Type" },
				     { .name = "Py_Version" } };
	struct gp_elf_info info;
	char path[64];
	int fd = memfd_create("fuzz-elf", MFD_CLOEXEC);

	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		gp_elf_lookup(path, syms, 3, &info);
		lookup_functions(path, data, size);
	}
	close(fd);
	return 0;
}
