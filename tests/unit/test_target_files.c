// SPDX-License-Identifier: BSD-2-Clause
/* /proc/PID/maps parsing, load bias, ELF symbols and version names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "elfsyms.h"
#include "procmaps.h"
#include "pyversion.h"

static const char MAPS[] =
	"00400000-00401000 r--p 00000000 08:01 100 /usr/bin/python3.11\n"
	"7f0000000000-7f0000100000 r--p 00000000 08:01 200 /lib/libpython3.12.so.1.0\n"
	"7f0000100000-7f0000300000 r-xp 00100000 08:01 200 /lib/libpython3.12.so.1.0\n"
	"7f0000300000-7f0000301000 rw-p 00305000 08:01 200 /lib/libpython3.12.so.1.0\n"
	"7f0000301000-7f0000400000 rw-p 00000000 00:00 0 \n"
	"7f0000500000-7f0000501000 r--p 00000000 08:01 300 /tmp/gone.so (deleted)\n"
	"7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]\n";

static void test_parse_and_find(void **state)
{
	struct gp_maps m;
	const struct gp_map *lib;

	(void)state;
	assert_int_equal(gp_maps_parse(MAPS, &m), 0);
	assert_int_equal(m.n, 7);
	assert_null(m.v[4].path);
	assert_null(m.v[6].path); /* [stack] is not a file */
	assert_string_equal(m.v[5].path, "/tmp/gone.so");
	lib = gp_maps_find_prefix(&m, "libpython");
	assert_non_null(lib);
	assert_int_equal(lib->start, 0x7f0000000000ULL);
	assert_null(gp_maps_find_prefix(&m, "libfoo"));
	gp_maps_free(&m);
}

static void test_bias(void **state)
{
	struct gp_maps m;
	uint64_t bias;

	(void)state;
	assert_int_equal(gp_maps_parse(MAPS, &m), 0);
	/* data segment: p_offset 0x305e40, p_vaddr 0x306e40 -> mapped at 0x7f0000300000 */
	assert_int_equal(gp_maps_bias(&m, "/lib/libpython3.12.so.1.0", 0x305e40, 0x306e40, &bias), 0);
	assert_int_equal(bias, 0x7f0000300000ULL - 0x306000ULL);
	/* non-PIE executable: bias 0 */
	assert_int_equal(gp_maps_bias(&m, "/usr/bin/python3.11", 0, 0x400000, &bias), 0);
	assert_int_equal(bias, 0);
	assert_int_equal(gp_maps_bias(&m, "/lib/libpython3.12.so.1.0", 0x900000, 0, &bias), -1);
	gp_maps_free(&m);
}

static void test_parse_rejects_garbage(void **state)
{
	struct gp_maps m;

	(void)state;
	assert_int_equal(gp_maps_parse("not a maps line\n", &m), -1);
	assert_int_equal(gp_maps_parse("2000-1000 r--p 0 0:0 0\n", &m), -1);
	assert_int_equal(gp_maps_parse("", &m), 0);
	assert_int_equal(m.n, 0);
	gp_maps_free(&m);
}

static void test_own_maps_and_elf(void **state)
{
	struct gp_elf_sym syms[] = { { .name = "main" }, { .name = "no_such_symbol_here" } };
	struct gp_elf_info info;
	char exe[4096];
	ssize_t n;

	(void)state;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	assert_int_equal(gp_elf_lookup(exe, syms, 2, &info), 0);
	assert_true(syms[0].found);
	assert_false(syms[1].found);
	assert_true(info.has_symtab);
	assert_int_equal(gp_elf_lookup("/proc/self/status", syms, 2, &info), -1);
	assert_int_equal(gp_elf_lookup("/nonexistent", syms, 2, &info), -1);
}

static void test_version_names(void **state)
{
	uint32_t hex;
	bool ft;
	char buf[32];

	(void)state;
	assert_int_equal(gp_version_from_name("/usr/lib/libpython3.10.so.1.0", &hex, &ft), 0);
	assert_int_equal(hex, 0x030a0000);
	assert_false(ft);
	assert_int_equal(gp_version_from_name("/usr/bin/python3.9", &hex, &ft), 0);
	assert_int_equal(hex, 0x03090000);
	assert_int_equal(gp_version_from_name("libpython3.13t.so", &hex, &ft), 0);
	assert_true(ft);
	assert_int_equal(gp_version_from_name("/opt/python3.12/bin/python3", &hex, &ft), -1);
	assert_int_equal(gp_version_from_name("/usr/bin/python3", &hex, &ft), -1);
	assert_int_equal(gp_version_from_name("/usr/bin/sleep", &hex, &ft), -1);
	gp_version_format(0x030b07f0, buf, sizeof(buf));
	assert_string_equal(buf, "3.11.7");
	gp_version_format(0x030d00c1, buf, sizeof(buf));
	assert_string_equal(buf, "3.13.0rc1");
	gp_version_format(0x030a0000, buf, sizeof(buf));
	assert_string_equal(buf, "3.10");
}

static void test_layout_rows(void **state)
{
	(void)state;
	for (unsigned int minor = 9; minor <= 13; minor++) {
		const struct py_layout *L = gp_layout_for(0x03000000u | minor << 16 | 0x05f0, false);

		assert_non_null(L);
		assert_int_equal((L->version_hex >> 16) & 0xff, minor);
		/* the BPF program copies at most 128 bytes of frame */
		assert_true(L->frame_size > 0 && L->frame_size <= 128);
		assert_true(L->ob_type + 8 <= 80 && L->code_firstlineno + 4 <= 80);
	}
	assert_null(gp_layout_for(0x03080000, false));
	assert_null(gp_layout_for(0x030d0000, true));
}

/* Files of a target are opened inside its root: nothing planted there leads out. */
static void test_open_inside_root(void **state)
{
	char dir[] = "/tmp/gp-root-XXXXXX", path[PATH_MAX], buf[32];
	struct gp_map m = { .start = 1, .end = 2 }; /* no such map_files entry: by path */
	int fd, go[2];
	pid_t child;
	ssize_t n;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/inside", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "inside\n", 7), 7);
	close(fd);
	/* absolute and relative symlinks out of the root, one to a file inside */
	snprintf(path, sizeof(path), "%s/to-host", dir);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	snprintf(path, sizeof(path), "%s/up", dir);
	assert_int_equal(symlink("../../../../etc/passwd", path), 0);
	snprintf(path, sizeof(path), "%s/etc-inside", dir);
	assert_int_equal(symlink("/inside", path), 0);
	snprintf(path, sizeof(path), "%s/fifo", dir);
	assert_int_equal(mkfifo(path, 0644), 0);

	/* The "target": a child chrooted into dir (as a container would be). */
	assert_int_equal(pipe(go), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		char c;

		close(go[1]);
		if (chroot(dir) || chdir("/"))
			_exit(1);
		n = read(go[0], &c, 1); /* until the parent is done */
		_exit(0);
	}
	close(go[0]);
	/* wait until its root is dir */
	for (int i = 0; i < 1000; i++) {
		char link[64];

		snprintf(link, sizeof(link), "/proc/%d/root", (int)child);
		n = readlink(link, path, sizeof(path) - 1);
		if (n > 0 && (path[n] = '\0', !strcmp(path, dir)))
			break;
		usleep(1000);
	}

	m.path = "/inside";
	fd = gp_maps_open(child, &m);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 7);
	close(fd);
	m.path = "/etc-inside"; /* an absolute symlink means the target's root */
	fd = gp_maps_open(child, &m);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 7);
	assert_memory_equal(buf, "inside\n", 7);
	close(fd);
	m.path = "/to-host";
	assert_int_equal(gp_maps_open(child, &m), -1);
	m.path = "/up";
	assert_int_equal(gp_maps_open(child, &m), -1);
	m.path = "/../../../etc/passwd";
	assert_int_equal(gp_maps_open(child, &m), -1);
	m.path = "/fifo"; /* not a regular file: never opened for reading (would block) */
	assert_int_equal(gp_maps_open(child, &m), -1);

	close(go[1]);
	waitpid(child, NULL, 0);
	for (const char *f = "inside\0to-host\0up\0etc-inside\0fifo\0"; *f; f += strlen(f) + 1) {
		snprintf(path, sizeof(path), "%s/%s", dir, f);
		unlink(path);
	}
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_and_find),     cmocka_unit_test(test_bias),
		cmocka_unit_test(test_parse_rejects_garbage), cmocka_unit_test(test_own_maps_and_elf),
		cmocka_unit_test(test_version_names),      cmocka_unit_test(test_layout_rows),
		cmocka_unit_test(test_open_inside_root),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
