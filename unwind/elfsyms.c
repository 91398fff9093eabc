// SPDX-License-Identifier: BSD-2-Clause
/*
 * elfsyms.c — symbols of the target's ELF files, read with libelf. Files
 * come from the target (possibly hostile): libelf bounds its own parsing,
 * and names are compared only after gelf_getsym/elf_strptr succeed.
 */
#include "elfsyms.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int find_segment(Elf *e, uint64_t vaddr, struct gp_elf_sym *sym)
{
	size_t nphdr;

	if (elf_getphdrnum(e, &nphdr))
		return -1;
	for (size_t i = 0; i < nphdr; i++) {
		GElf_Phdr ph;

		if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (vaddr >= ph.p_vaddr && vaddr - ph.p_vaddr < ph.p_memsz) {
			sym->seg_vaddr = ph.p_vaddr;
			sym->seg_offset = ph.p_offset;
			return 0;
		}
	}
	return -1;
}

/* sym is at vaddr, size bytes, if a loaded segment holds it. */
static void take(Elf *e, struct gp_elf_sym *sym, uint64_t vaddr, uint64_t size)
{
	if (find_segment(e, vaddr, sym))
		return;
	sym->found = true;
	sym->value = vaddr;
	sym->size = size;
}

static void scan_symbols(Elf *e, Elf_Scn *scn, const GElf_Shdr *sh,
			 struct gp_elf_sym *syms, size_t n)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t count;

	if (!data || !sh->sh_entsize)
		return;
	count = sh->sh_size / sh->sh_entsize;
	for (size_t i = 0; i < count; i++) {
		GElf_Sym s;
		const char *name;

		if (!gelf_getsym(data, (int)i, &s) || !s.st_name || s.st_shndx == SHN_UNDEF)
			continue;
		name = elf_strptr(e, sh->sh_link, s.st_name);
		if (!name)
			continue;
		for (size_t k = 0; k < n; k++) {
			if (!syms[k].found && !strcmp(name, syms[k].name))
				take(e, &syms[k], s.st_value, s.st_size);
		}
	}
}

/*
 * Symbols not found that live at the start of a section of their own:
 * CPython 3.14+ puts _PyRuntime in .PyRuntime, which a binary stripped of
 * its symbols (even of .dynsym exports) still has.
 */
static void find_sections(Elf *e, struct gp_elf_sym *syms, size_t n)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(e, &shstrndx))
		return;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type == SHT_NOBITS || !sh.sh_addr)
			continue;
		name = elf_strptr(e, shstrndx, sh.sh_name);
		if (!name)
			continue;
		for (size_t k = 0; k < n; k++) {
			if (!syms[k].found && syms[k].section && !strcmp(name, syms[k].section))
				take(e, &syms[k], sh.sh_addr, sh.sh_size);
		}
	}
}

static void read_soname(Elf *e, Elf_Scn *scn, const GElf_Shdr *sh, struct gp_elf_info *info)
{
	Elf_Data *data = elf_getdata(scn, NULL);
	size_t count;

	if (!data || !sh->sh_entsize)
		return;
	count = sh->sh_size / sh->sh_entsize;
	for (size_t i = 0; i < count; i++) {
		GElf_Dyn d;
		const char *s;

		if (!gelf_getdyn(data, (int)i, &d) || d.d_tag != DT_SONAME)
			continue;
		s = elf_strptr(e, sh->sh_link, d.d_un.d_val);
		if (s)
			snprintf(info->soname, sizeof(info->soname), "%s", s);
	}
}

int gp_elf_lookup_fd(int fd, struct gp_elf_sym *syms, size_t n, struct gp_elf_info *info)
{
	Elf_Scn *scn = NULL;
	GElf_Ehdr eh;
	Elf *e = NULL;
	int rc = -1;

	memset(info, 0, sizeof(*info));
	for (size_t k = 0; k < n; k++)
		syms[k].found = false;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -1;
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF || !gelf_getehdr(e, &eh))
		goto out;
	info->is_exec = eh.e_type == ET_EXEC;
	/* .symtab first: it has the local symbols .dynsym lacks. */
	for (int pass = 0; pass < 2; pass++) {
		Elf32_Word want = pass == 0 ? SHT_SYMTAB : SHT_DYNSYM;

		scn = NULL;
		while ((scn = elf_nextscn(e, scn))) {
			GElf_Shdr sh;

			if (!gelf_getshdr(scn, &sh))
				continue;
			if (sh.sh_type == SHT_SYMTAB)
				info->has_symtab = true;
			if (pass == 0 && sh.sh_type == SHT_DYNAMIC)
				read_soname(e, scn, &sh, info);
			if (sh.sh_type == want)
				scan_symbols(e, scn, &sh, syms, n);
		}
	}
	find_sections(e, syms, n);
	rc = 0;
out:
	if (e)
		elf_end(e);
	return rc;
}

int gp_elf_lookup(const char *path, struct gp_elf_sym *syms, size_t n,
		  struct gp_elf_info *info)
{
	struct stat st;
	int fd, rc = -1;

	memset(info, 0, sizeof(*info));
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -1;
	if (!fstat(fd, &st) && S_ISREG(st.st_mode))
		rc = gp_elf_lookup_fd(fd, syms, n, info);
	close(fd);
	return rc;
}
