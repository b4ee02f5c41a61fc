/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared memory: the lifecycle of SysV segments and of POSIX shared memory
 * files (ring-buffer records, rare), and the synchronization between the
 * processes that share them (flows of wakeups, in the kernel's flow table).
 *
 * Lifecycle, at sys_exit: shmget, shmat, shmdt, shmctl(IPC_RMID), and mmap
 * MAP_SHARED of a file on tmpfs or hugetlbfs (shm_open's /dev/shm, memfd).
 * User space keeps the set of attached processes (src/model/Shm.cpp);
 * fork, exec and exit come from the task records.
 *
 * Wakeups, at sched_waking, which runs in the waker's context: when current
 * is inside a futex wake on a futex without FUTEX_PRIVATE_FLAG (a POSIX
 * semaphore, a process-shared mutex or condition variable) and the task it
 * wakes is inside a futex wait, the futex address is mapped through the
 * waker's VMA to the file behind it (the SysV segment, the /dev/shm file, the
 * memfd), and a flow waker -> wakee is credited to it. semop/semtimedop
 * waking a task blocked in semop is credited to the semaphore set.
 */
#ifndef IPCTOP_SHM_BPF_H
#define IPCTOP_SHM_BPF_H

#define SHM_MAP_TYPE 0x0f
#define SHM_MAP_SHARED 0x01
#define SHM_MAP_SHARED_VALIDATE 0x03
#define SHM_IPC_RMID 0
#define SHM_IPC_64 0x100
#define SHM_TMPFS_MAGIC 0x01021994
#define SHM_HUGETLBFS_MAGIC 0x958458f6
#define SHM_MAX_ERRNO 4095

#define FUTEX_WAKE 1
#define FUTEX_REQUEUE 3
#define FUTEX_CMP_REQUEUE 4
#define FUTEX_WAKE_OP 5
#define FUTEX_UNLOCK_PI 7
#define FUTEX_WAKE_BITSET 10
#define FUTEX_CMP_REQUEUE_PI 12
#define FUTEX_PRIVATE_FLAG 128
#define FUTEX_CMD_MASK 0x7f /* without FUTEX_PRIVATE_FLAG and FUTEX_CLOCK_REALTIME */
#define FUTEX2_PRIVATE 128

struct shm_event {
	__u32 op;
	__u32 kind;
	__u64 ino;
	__u32 dev;
	__s32 key;
	__u64 size;
	__u64 addr;
	__u64 len;
	__u32 flags;
	const unsigned char *name; /* kernel pointer, or NULL */
};

static __always_inline void shm_emit(const struct shm_event *e)
{
	struct ipctop_rec_shm *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	__u64 id = bpf_get_current_pid_tgid();

	if (!r) {
		count(IPCTOP_LOST_RINGBUF_FULL, 1);
		return;
	}
	r->hdr.type = IPCTOP_REC_SHM;
	r->hdr.size = sizeof(*r);
	r->hdr.cpu = bpf_get_smp_processor_id();
	r->hdr.ts_ns = bpf_ktime_get_ns();
	r->hdr.tgid = id >> 32;
	r->hdr.tid = (__u32)id;
	r->op = e->op;
	r->kind = e->kind;
	r->ino = e->ino;
	r->dev = e->dev;
	r->key = e->key;
	r->size = e->size;
	r->addr = e->addr;
	r->len = e->len;
	r->flags = e->flags;
	r->pad = 0;
	r->name[0] = 0;
	if (e->name)
		bpf_probe_read_kernel_str(r->name, sizeof(r->name), e->name);
	bpf_ringbuf_submit(r, 0);
}

/* mmap(addr, len, prot, flags, fd, off) returned `ret`: a shared memory file? */
static __noinline int shm_mmap(struct pt_regs *regs, long ret)
{
	unsigned long flags = syscall_arg(regs, 3);
	struct shm_event e = { .op = IPCTOP_SHM_ATTACH, .kind = IPCTOP_KIND_POSIX_SHM };
	unsigned long magic;
	struct file *f;
	long fd;

	if ((flags & SHM_MAP_TYPE) != SHM_MAP_SHARED &&
	    (flags & SHM_MAP_TYPE) != SHM_MAP_SHARED_VALIDATE)
		return 0;
#if defined(__TARGET_ARCH_x86)
	fd = (int)KREAD(regs, r8);
#else
	fd = (int)BPF_CORE_READ(regs, regs[4]);
#endif
	if (fd < 0)
		return 0;
	f = fd_file(current_task(), fd);
	if (!f)
		return 0;
	magic = BPF_CORE_READ(f, f_inode, i_sb, s_magic);
	if (magic != SHM_TMPFS_MAGIC && magic != SHM_HUGETLBFS_MAGIC)
		return 0;
	e.ino = BPF_CORE_READ(f, f_inode, i_ino);
	e.dev = BPF_CORE_READ(f, f_inode, i_sb, s_dev);
	e.size = BPF_CORE_READ(f, f_inode, i_size);
	e.addr = ret;
	e.len = syscall_arg(regs, 1);
	e.flags = flags;
	e.name = BPF_CORE_READ(f, f_path.dentry, d_name.name);
	shm_emit(&e);
	return 0;
}

/* A SysV shared memory syscall succeeded. */
static __noinline int shm_sysv(struct pt_regs *regs, long nr, long ret)
{
	struct shm_event e = { .kind = IPCTOP_KIND_SYSV_SHM };

	switch (nr) {
	case NR_shmget: /* shmget(key, size, shmflg) -> shmid */
		e.op = IPCTOP_SHM_GET;
		e.ino = ret;
		e.key = (int)syscall_arg(regs, 0);
		e.size = syscall_arg(regs, 1);
		e.flags = (unsigned int)syscall_arg(regs, 2);
		break;
	case NR_shmat: /* shmat(shmid, addr, shmflg) -> address */
		e.op = IPCTOP_SHM_ATTACH;
		e.ino = (int)syscall_arg(regs, 0);
		e.addr = ret;
		e.flags = (unsigned int)syscall_arg(regs, 2);
		break;
	case NR_shmdt: /* shmdt(addr) */
		e.op = IPCTOP_SHM_DETACH;
		e.addr = syscall_arg(regs, 0);
		break;
	default: /* shmctl(shmid, cmd, buf) */
		if ((syscall_arg(regs, 1) & ~SHM_IPC_64) != SHM_IPC_RMID)
			return 0;
		e.op = IPCTOP_SHM_RMID;
		e.ino = (int)syscall_arg(regs, 0);
		break;
	}
	shm_emit(&e);
	return 0;
}

struct shm_vma {
	__u64 ino;
	__u32 dev;
	__u32 kind; /* 0: no file behind it */
};

/* Futex keys are per page and offset in it; pages of at least 4 KiB. */
#define SHM_PAGE_SHIFT 12
#define SHM_PAGE_MASK ((1UL << SHM_PAGE_SHIFT) - 1)

/* bpf_find_vma() callback: the file behind the futex address. */
static long shm_vma_file(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	struct shm_vma *out = data;
	struct file *f = vma->vm_file;
	char name[4] = {};

	if (!f)
		return 0;
	out->ino = f->f_inode->i_ino;
	/* A SysV segment's file is "SYSV%08x" on the kernel's internal shm
	 * mount, and its inode number is the shmid (ipc/shm.c newseg()). */
	bpf_probe_read_kernel(name, sizeof(name), f->f_path.dentry->d_name.name);
	if (name[0] == 'S' && name[1] == 'Y' && name[2] == 'S' && name[3] == 'V') {
		out->kind = IPCTOP_KIND_SYSV_SHM;
		out->dev = 0;
	} else {
		out->kind = IPCTOP_KIND_POSIX_SHM;
		out->dev = f->f_inode->i_sb->s_dev;
	}
	return 0;
}

/*
 * Resolve `addr` in `task`'s address space. False when the mmap lock could
 * not be taken without waiting (counted) or nothing is mapped there.
 */
static __always_inline bool shm_resolve(struct task_struct *task, __u64 addr, struct shm_vma *v)
{
	long err;

	err = bpf_find_vma(task, addr, shm_vma_file, v, 0);
	if (err == -16 /* EBUSY: the mmap lock is taken */) {
		count(IPCTOP_LOST_SHM_UNRESOLVED, 1);
		return false;
	}
	return !err;
}

/*
 * Futex wakeups wait in `shm_pending` until the waker's futex syscall exits:
 * resolving the futex address to its file (bpf_find_vma) here, with the
 * wakee's pi_lock held and interrupts off, would have to defer the mmap
 * unlock to an irq_work, a self-IPI that costs microseconds in a VM; at
 * sys_exit it is a plain trylock and unlock, once per syscall however many
 * tasks it woke. Kept in the waker thread's own task storage, touched only
 * by that thread: a lookup, with no hash insert or delete per wakeup.
 */
#define SHM_PENDING_MAX 8

struct shm_wakee {
	__u32 tgid;
	__u32 tid;
	__u32 cpu;
};

struct shm_pending {
	__u64 uaddr;
	__u32 src_cpu;
	__u32 n;
	struct shm_wakee wakee[SHM_PENDING_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct shm_pending);
} shm_pending SEC(".maps");

static __always_inline void shm_pend(struct task_struct *waker, struct task_struct *wakee,
				     unsigned long uaddr)
{
	struct shm_pending *p = bpf_task_storage_get(&shm_pending, waker, 0,
						     BPF_LOCAL_STORAGE_GET_F_CREATE);
	__u32 n;

	if (!p) {
		count(IPCTOP_LOST_SHM_UNRESOLVED, 1);
		return;
	}
	n = p->n;
	if (n >= SHM_PENDING_MAX) {
		count(IPCTOP_LOST_SHM_UNRESOLVED, 1);
		return;
	}
	p->uaddr = uaddr;
	p->src_cpu = bpf_get_smp_processor_id();
	p->wakee[n].tgid = wakee->tgid;
	p->wakee[n].tid = wakee->pid;
	p->wakee[n].cpu = wakee->thread_info.cpu;
	p->n = n + 1;
}

struct shm_credit_ctx {
	struct match m;
	struct shm_pending pend;
	__u32 kind, dev;
};

static long shm_credit_wakee(__u64 i, void *data)
{
	struct shm_credit_ctx *x = data;

	if (i >= x->pend.n || i >= SHM_PENDING_MAX)
		return 1;
	x->m.dst_tgid = x->pend.wakee[i].tgid;
	x->m.dst_tid = x->pend.wakee[i].tid;
	x->m.dst_cpu = x->pend.wakee[i].cpu;
	credit_sync(&x->m, x->kind, x->dev);
	return 0;
}

/* The waker's process-shared futex syscall returned: credit its wakeups. */
static __noinline int shm_futex_exit(void)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;
	struct task_struct *cur = bpf_get_current_task_btf();
	struct shm_pending *p = bpf_task_storage_get(&shm_pending, cur, 0, 0);
	struct shm_vma v = {};
	struct shm_credit_ctx x = {};

	if (!p || !p->n)
		return 0;
	x.pend = *p;
	p->n = 0;
	if (!shm_resolve(cur, x.pend.uaddr, &v) || !v.kind)
		return 0; /* no file: private memory, not shared between processes */
	x.m.src_tgid = id >> 32;
	x.m.src_tid = tid;
	x.m.src_cpu = x.pend.src_cpu;
	x.m.msgs = 1;
	x.m.chan_ino = v.ino;
	x.kind = v.kind;
	x.dev = v.dev;
	/* bpf_loop, not a for loop: clang closes that loop with a fall-through
	 * into its header, which Linux 6.1's verifier refuses as a "back-edge"
	 * (bpf/check_cfg61.py fails the build on such loops). */
	bpf_loop(SHM_PENDING_MAX, shm_credit_wakee, &x, 0);
	return 0;
}

/*
 * A wakeup by a waker known to be in a process-shared futex wake or a semop.
 * The wakee must be blocked on the same object: in a futex wait at the same
 * offset within its page (futex keys are per page and offset), or in a semop
 * on the same semaphore set. That rules out all but a vanishing share of the
 * wakeups an interrupt makes while the waker is in its syscall (a timed-out
 * futex waiter woken by its timer at that instant, at the same offset within
 * a page), which BPF cannot tell apart otherwise.
 */
static __noinline int shm_wake(struct task_struct *waker, struct task_struct *wakee,
			       long nr, unsigned long arg0)
{
	struct pt_regs *wregs = (struct pt_regs *)bpf_task_pt_regs(wakee);
	long wnr = syscall_nr(wregs);
	unsigned long warg0 = syscall_arg(wregs, 0);
	struct shm_vma v = {};
	struct match m = {};
	__u32 dev;

	if (nr == NR_semop || nr == NR_semtimedop) {
		if ((wnr != NR_semop && wnr != NR_semtimedop) || (int)warg0 != (int)arg0)
			return 0;
		v.kind = IPCTOP_KIND_SYSV_SHM;
		v.ino = (int)arg0;
		dev = IPCTOP_SHM_DEV_SEMSET;
	} else {
		/* futex_waitv waits on a vector: not matched. */
		if (wnr != NR_futex && wnr != NR_futex_wait)
			return 0;
		if ((warg0 & SHM_PAGE_MASK) != (arg0 & SHM_PAGE_MASK))
			return 0;
		shm_pend(waker, wakee, arg0);
		return 0;
	}
	m.src_tgid = waker->tgid;
	m.src_tid = waker->pid;
	m.src_cpu = bpf_get_smp_processor_id();
	m.dst_tgid = wakee->tgid;
	m.dst_tid = wakee->pid;
	m.dst_cpu = wakee->thread_info.cpu;
	m.msgs = 1;
	m.chan_ino = v.ino;
	credit_sync(&m, v.kind, dev);
	return 0;
}

/*
 * sched_waking, in the waker's context: the hot path is one helper call and
 * one load (the waker's syscall number) for every wakeup that is not made by
 * a futex or semop syscall. Kernel threads have zeroed user registers
 * (syscall 0, read) and leave at once too.
 */
static __always_inline void on_shm_waking(struct task_struct *cur, struct pt_regs *regs,
					  long nr, struct task_struct *wakee)
{
	unsigned long op;

	switch (nr) {
	case NR_futex: /* futex(uaddr, op, ...) */
		op = syscall_arg(regs, 1);
		if (op & FUTEX_PRIVATE_FLAG)
			return;
		switch (op & FUTEX_CMD_MASK) {
		case FUTEX_WAKE: case FUTEX_REQUEUE: case FUTEX_CMP_REQUEUE:
		case FUTEX_WAKE_OP: case FUTEX_UNLOCK_PI: case FUTEX_WAKE_BITSET:
		case FUTEX_CMP_REQUEUE_PI:
			break;
		default:
			return;
		}
		break;
	case NR_futex_wake: /* futex_wake(uaddr, mask, nr, flags) */
		if (syscall_arg(regs, 3) & FUTEX2_PRIVATE)
			return;
		break;
	case NR_semop:
	case NR_semtimedop:
		break;
	default:
		return;
	}
	shm_wake(cur, wakee, nr, syscall_arg(regs, 0));
}

/*
 * Every syscall exit: one switch on the syscall number, then nothing unless
 * it is one of the five shared memory calls and it succeeded, or a
 * process-shared futex syscall (one lookup of what it woke).
 */
static __always_inline void on_shm_syscall_exit(struct pt_regs *regs, long ret)
{
	long nr = syscall_nr(regs);

	switch (nr) {
	case NR_mmap:
		if (ret > 0)
			shm_mmap(regs, ret);
		return;
	/* Whatever it returned: nothing noted may outlive the syscall. */
	case NR_futex:
		if (!(syscall_arg(regs, 1) & FUTEX_PRIVATE_FLAG))
			shm_futex_exit();
		return;
	case NR_futex_wake:
		if (!(syscall_arg(regs, 3) & FUTEX2_PRIVATE))
			shm_futex_exit();
		return;
	case NR_shmget:
	case NR_shmat:
	case NR_shmdt:
	case NR_shmctl:
		if (ret >= 0 || ret < -SHM_MAX_ERRNO)
			shm_sysv(regs, nr, ret);
		return;
	}
}

/* A futex address resolved to the file behind it. */
#endif
