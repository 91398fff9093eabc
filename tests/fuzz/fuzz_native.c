// SPDX-License-Identifier: BSD-2-Clause
/*
 * The native part of a sample through unwinding, naming and merging, as
 * gil-prof gets it from the BPF program: registers, kernel addresses and a
 * copy of the user stack, every byte chosen by the input (the target
 * controls its stack). The process unwound is this one, with its real CFI
 * and symbols; words can be made to point into its code (anchors) or into
 * the copy itself, so unwinding follows real rules over hostile data.
 *
 * Input: 8 header bytes (flags, Python frames, walk end, copy status, entry
 * bits, native flags, kernel frames, bytes cut off the record), 17 register
 * words, then kernel addresses and the stack copy. A word 0xAA0k....XXXX is
 * anchor k + 0xXXXX; 0xBB......XXXX is the copy's base + 0xXXXX.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "merge.h"
#include "native.h"
#include "nativestack.h"
#include "profile.h"
#include "pyversion.h"
#include "symbolize.h"

#define STACK_BASE 0x7ff012340000ULL
#define MAX_COPY 8192
#define RESET_EVERY 100000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t anchors[8];
static struct gp_profile prof;
static struct gp_symbolizer sym;
static struct gp_native_ctx ctx;
static struct gp_mem_buf nomem;
static unsigned long runs;
static uint8_t record[sizeof(struct gp_scratch)];

static uint64_t decode(uint64_t w)
{
	if (w >> 56 == 0xAA)
		return anchors[(w >> 48) & 7] + (w & 0xffff);
	if (w >> 56 == 0xBB)
		return STACK_BASE + (w & 0xffff);
	return w;
}

static void setup(void)
{
	if (runs++ % RESET_EVERY) {
		return;
	}
	if (runs > 1) {
		gp_native_free(&ctx);
		gp_symbolizer_free(&sym);
		gp_profile_free(&prof);
	}
	anchors[0] = (uintptr_t)LLVMFuzzerTestOneInput;
	anchors[1] = (uintptr_t)gp_merge;
	anchors[2] = (uintptr_t)gp_unwind;
	anchors[3] = (uintptr_t)gp_native_symbolize;
	anchors[4] = (uintptr_t)qsort;
	anchors[5] = (uintptr_t)malloc;
	anchors[6] = (uintptr_t)nanosleep;
	anchors[7] = (uintptr_t)setup;
	gp_profile_init(&prof);
	/* Code objects are unreadable: Python frames become markers. */
	gp_symbolizer_init(&sym, &prof, &gp_py_layouts[0], gp_mem_buffer(&nomem), 0x1234,
			   GP_MAX_FRAMES);
	if (gp_native_init(&ctx, &sym, true, true, false))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gp_sample *s = (struct gp_sample *)record;
	const uint8_t *hdr = data;
	uint32_t locs[GP_STACK_MAX], nframes, nkernel, n, copy;
	struct gp_native *nat;
	uint64_t *words;
	size_t len, off;

	if (size < 8 + GP_NATIVE_REGS * 8)
		return 0;
	setup();
	ctx.show_plumbing = data[0] & 4;
	nframes = data[1] % 9;
	nkernel = (data[0] & 2) ? data[6] % 8 : 0;
	memset(record, 0, GP_SAMPLE_HDR_SIZE);
	s->type = GP_EV_SAMPLE;
	s->pid = (uint32_t)getpid();
	s->tid = (uint32_t)gettid();
	s->flags = GP_SAMPLE_HAS_NATIVE | ((data[0] & 1) ? GP_SAMPLE_HAS_TSTATE : 0);
	s->walk_end = data[2] % 6;
	s->nframes = (uint16_t)nframes;
	for (uint32_t i = 0; i < nframes; i++) {
		memset(&s->frames[i], 0, sizeof(s->frames[i]));
		s->frames[i].code = 0x1000 + i;
		s->frames[i].flags = (data[4] >> i) & 1 ? GP_FRAME_ENTRY : 0;
	}
	off = GP_SAMPLE_HDR_SIZE + nframes * sizeof(struct gp_frame);
	nat = (struct gp_native *)(record + off);
	memset(nat, 0, sizeof(*nat));
	for (int r = 0; r < GP_NATIVE_REGS; r++) {
		uint64_t w;

		memcpy(&w, data + 8 + r * 8, 8);
		nat->regs[r] = decode(w);
	}
	nat->status = data[3] % 6;
	nat->flags = data[5];
	data += 8 + GP_NATIVE_REGS * 8;
	size -= 8 + GP_NATIVE_REGS * 8;

	/* Kernel addresses, then the stack copy, both from the input. */
	words = (uint64_t *)(nat + 1);
	nat->nkernel = (uint16_t)(nkernel * 8 <= size ? nkernel : size / 8);
	memcpy(words, data, nat->nkernel * 8);
	data += nat->nkernel * 8;
	size -= nat->nkernel * 8;
	copy = (uint32_t)(size < MAX_COPY ? size : MAX_COPY) & ~7u;
	for (uint32_t i = 0; i < copy; i += 8) {
		uint64_t w;

		memcpy(&w, data + i, 8);
		w = decode(w);
		memcpy((uint8_t *)(words + nat->nkernel) + i, &w, 8);
	}
	nat->stack_len = copy;
	if (nat->regs[GP_REG_SP] >> 32 == STACK_BASE >> 32)
		nat->regs[GP_REG_SP] = STACK_BASE; /* the copy is what is at sp */
	len = off + sizeof(*nat) + nat->nkernel * 8 + copy;
	/* A record cut short must be refused, not read past. */
	len -= hdr[7] % 2 ? hdr[7] % 64 : 0;

	n = gp_native_symbolize(&ctx, s, len, 1, locs);
	if (n > GP_STACK_MAX)
		__builtin_trap();
	for (uint32_t i = 0; i < n; i++)
		if (!locs[i] || locs[i] > prof.nlocations)
			__builtin_trap();
	return 0;
}
