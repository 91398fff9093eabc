/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * nativestack.bpf.h — the native part of a sample (--native, --kernel):
 * user registers, kernel return addresses and a copy of the user stack,
 * appended to the record after its Python frames. User space unwinds the
 * copy with DWARF CFI; the kernel only copies.
 *
 * Included by gilprof.bpf.c after the maps and count(): one BPF object.
 */
#ifndef GILPROF_NATIVESTACK_BPF_H
#define GILPROF_NATIVESTACK_BPF_H

/* vmlinux.h has no errno values. */
#define GP_ENOENT 2
#define GP_EBUSY 16

/* The mapping a thread's stack pointer was last found in. */
struct stack_vma {
	__u64 start, end;
};

/*
 * Host tid -> its stack mapping. bpf_find_vma costs several microseconds
 * from a perf event (the mmap lock is released through irq_work); a
 * thread's stack mapping does not move, so it is looked up again only when
 * sp leaves it (a new thread with the tid, a stack switch, growth).
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, GP_MAX_THREADS);
	__type(key, __u32);
	__type(value, struct stack_vma);
} stack_vmas SEC(".maps");

static long vma_cb(struct task_struct *task __attribute__((unused)), struct vm_area_struct *vma,
		   void *data)
{
	((struct stack_vma *)data)->start = vma->vm_start;
	((struct stack_vma *)data)->end = vma->vm_end;
	return 0;
}

/* pt_regs -> DWARF x86-64 register order (see GP_NATIVE_REGS). */
static __always_inline void copy_user_regs(struct gp_native *nat, struct task_struct *task)
{
	struct pt_regs r;

	if (bpf_probe_read_kernel(&r, sizeof(r), (void *)bpf_task_pt_regs(task))) {
		__builtin_memset(&r, 0, sizeof(r));
	}
	nat->regs[0] = r.ax;
	nat->regs[1] = r.dx;
	nat->regs[2] = r.cx;
	nat->regs[3] = r.bx;
	nat->regs[4] = r.si;
	nat->regs[5] = r.di;
	nat->regs[6] = r.bp;
	nat->regs[7] = r.sp;
	nat->regs[8] = r.r8;
	nat->regs[9] = r.r9;
	nat->regs[10] = r.r10;
	nat->regs[11] = r.r11;
	nat->regs[12] = r.r12;
	nat->regs[13] = r.r13;
	nat->regs[14] = r.r14;
	nat->regs[15] = r.r15;
	nat->regs[16] = r.ip;
}

/*
 * Bytes of user stack to copy from sp: up to the end of its mapping (the
 * copy is all-or-nothing and the page after vm_end is not readable), at
 * most cfg.stack_bytes. 0 with nat->status set when it cannot be known.
 */
static __always_inline __u64 user_stack_len(struct gp_native *nat, struct task_struct *task,
					     __u32 tid, __u64 sp)
{
	struct stack_vma v = {}, *cached = bpf_map_lookup_elem(&stack_vmas, &tid);
	long err = 0;
	__u64 len;

	if (cached && sp >= cached->start && sp < cached->end) {
		v = *cached;
		goto found;
	}
	err = bpf_find_vma(task, sp, vma_cb, &v, 0);
	if (err == -GP_EBUSY) {
		nat->status = GP_NATIVE_VMA_BUSY;
		count(GP_CNT_NATIVE_VMA_BUSY);
		return 0;
	}
	if (err == -GP_ENOENT || (!err && v.end <= sp)) {
		nat->status = GP_NATIVE_NO_VMA;
		count(GP_CNT_NATIVE_NO_VMA);
		return 0;
	}
	if (err) {
		nat->status = GP_NATIVE_VMA_ERROR;
		count(GP_CNT_NATIVE_VMA_ERROR);
		return 0;
	}
	bpf_map_update_elem(&stack_vmas, &tid, &v, BPF_ANY);
found:
	len = v.end - sp;
	if (len > cfg.stack_bytes) {
		len = cfg.stack_bytes;
		nat->flags |= GP_NATIVE_CUT;
		count(GP_CNT_NATIVE_CUT);
	}
	return len;
}

struct page_copy_ctx {
	__u8 *dst;
	__u64 src;
	__u64 len;
	__u64 first;   /* bytes from sp to the next page boundary */
	__u32 ok;
	__u32 holes;
};

/*
 * Copy chunk i: [0, first), then whole pages. The offset comes from i, not
 * from state carried between iterations, so the verifier sees every
 * iteration alike however large the copy may be.
 */
static long copy_page(__u32 i, struct page_copy_ctx *c)
{
	__u64 off = i ? c->first + (__u64)(i - 1) * GP_STACK_PAGE : 0;
	__u64 chunk = i ? GP_STACK_PAGE : c->first;

	if (off >= c->len)
		return 1;
	if (chunk > c->len - off)
		chunk = c->len - off;
	asm volatile("" : "+r"(off), "+r"(chunk));
	if (off > GP_MAX_STACK_BYTES || chunk > GP_STACK_PAGE)
		return 1;
	/* A failed read zeroes its destination. */
	if (bpf_probe_read_user(c->dst + off, chunk, (void *)(c->src + off)))
		c->holes = 1;
	else
		c->ok = 1;
	return 0;
}

/*
 * Copy len bytes of user stack from sp to dst. The copy is all-or-nothing
 * and cannot fault pages in, and a stack may hold pages never touched (a
 * large local array): then copy page by page, those pages read as the
 * zeros they hold.
 */
static __always_inline void copy_user_stack(struct gp_native *nat, __u8 *dst, __u64 len)
{
	struct page_copy_ctx c = {};

	if (!bpf_probe_read_user(dst, len, (void *)nat->regs[GP_REG_SP])) {
		nat->stack_len = (__u32)len;
		return;
	}
	c.dst = dst;
	c.src = nat->regs[GP_REG_SP];
	c.len = len;
	c.first = GP_STACK_PAGE - (c.src & (GP_STACK_PAGE - 1));
	/* Unknown to the verifier: see unknown_zero. */
	c.ok = c.holes = (__u32)unknown_zero();
	bpf_loop(GP_MAX_STACK_BYTES / GP_STACK_PAGE + 2, copy_page, &c, 0);
	if (!c.ok) {
		nat->status = GP_NATIVE_READ_FAULT;
		count(GP_CNT_NATIVE_READ_FAULT);
		return;
	}
	nat->flags |= GP_NATIVE_HOLES;
	count(GP_CNT_NATIVE_HOLES);
	nat->stack_len = (__u32)len;
}

/*
 * Append the native trailer (struct gp_native, kernel addresses, user
 * stack) after s's Python frames, in the scratch record sc, for thread
 * tid (host id) = task. ctx is the program's context (for bpf_get_stack).
 * kernel: take the kernel frames too (a GIL hand-off traps in user mode,
 * where the kernel stack is only the trap's own path).
 * Returns the trailer's size in bytes; the caller sends the header, the
 * frames and that many bytes.
 */
static __always_inline __u32 copy_native(void *ctx, struct gp_scratch *sc,
					 struct task_struct *task, __u32 tid, bool kernel)
{
	__u64 nframes = sc->sample.nframes, nk = 0, len = 0;
	struct gp_native *nat;
	__u8 *dst;
	long got;

	GP_CLAMP(nframes, GP_MAX_FRAMES);
	nat = (struct gp_native *)&sc->sample.frames[nframes];
	copy_user_regs(nat, task);
	nat->status = GP_NATIVE_OFF;
	nat->nkernel = 0;
	nat->stack_len = 0;
	nat->flags = 0;
	nat->reserved = 0;
	sc->sample.flags |= GP_SAMPLE_HAS_NATIVE;

	dst = (__u8 *)(nat + 1);
	if (kernel && cfg.kernel_stack) {
		/* Kernel frames of the interrupted context; none if it was user mode. */
		got = bpf_get_stack(ctx, dst, GP_MAX_KERNEL_FRAMES * sizeof(__u64), 0);
		if (got < 0) {
			count(GP_CNT_KSTACK_FAULT);
			got = 0;
		}
		nk = (__u64)got / sizeof(__u64);
		GP_CLAMP(nk, GP_MAX_KERNEL_FRAMES);
		nat->nkernel = (__u16)nk;
		dst += nk * sizeof(__u64);
	}
	if (!cfg.stack_bytes)
		return sizeof(*nat) + nk * sizeof(__u64);

	nat->status = GP_NATIVE_OK;
	len = user_stack_len(nat, task, tid, nat->regs[GP_REG_SP]);
	/* Keep an upper bound the verifier can see. */
	GP_CLAMP(len, GP_MAX_STACK_BYTES);
	if (len)
		copy_user_stack(nat, dst, len);
	return sizeof(*nat) + nk * sizeof(__u64) + nat->stack_len;
}

#endif /* GILPROF_NATIVESTACK_BPF_H */
