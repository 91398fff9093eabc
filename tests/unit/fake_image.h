/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A fake target image for unit tests of the object readers: IMAGE bytes
 * standing at address BASE, objects bump-allocated in it and laid out with
 * the layout rows L and O that the test picks per version.
 * Include after cmocka.h, pyobj.h and pyversion.h.
 */
#ifndef GP_FAKE_IMAGE_H
#define GP_FAKE_IMAGE_H

#include <stdint.h>
#include <string.h>

#define BASE 0x100000ULL
#define IMAGE (4u << 20)

static uint8_t image[IMAGE];
static uint64_t brk_at;
static const struct py_layout *L;
static const struct py_objlayout *O;
static struct gp_mem_buf membuf = { BASE, image, IMAGE };

/* Every version row the readers know. */
static const uint32_t versions[] = { 0x03090000, 0x030a0000, 0x030b0000, 0x030c0000,
				     0x030d0000, 0x030e0000, 0x030f0000 };

static inline uint64_t alloc(size_t n)
{
	uint64_t at = (brk_at + 15) & ~15ULL;

	assert_true(at + n - BASE <= IMAGE);
	brk_at = at + n;
	return at;
}

static inline void w(uint64_t addr, const void *v, size_t n)
{
	if (!n) /* nothing to copy (and v may be NULL, as zero's digits are) */
		return;
	memcpy(image + (addr - BASE), v, n);
}

static inline void w64(uint64_t addr, uint64_t v)
{
	w(addr, &v, 8);
}

static inline void w32(uint64_t addr, int32_t v)
{
	w(addr, &v, 4);
}

static inline uint64_t mk_type(const char *name)
{
	uint64_t t = alloc(1024), s = alloc(strlen(name) + 1);

	w(s, name, strlen(name) + 1);
	w64(t + O->type_name, s);
	return t;
}

static inline uint64_t obj_of(uint64_t type, size_t size)
{
	uint64_t o = alloc(size);

	w64(o + O->ob_type, type);
	return o;
}

#endif
