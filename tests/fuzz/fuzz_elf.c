// SPDX-License-Identifier: BSD-2-Clause
/*
 * ELF files of the target (possibly hostile): symbol and program-header
 * lookup through libelf. The input is the file, served from a memfd.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "elfsyms.h"

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
	}
	close(fd);
	return 0;
}
