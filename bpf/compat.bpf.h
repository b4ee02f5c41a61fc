/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Everything that differs between kernels or architectures lives here, and
 * nowhere else. Each shim names the change it follows.
 */
#ifndef IPCTOP_COMPAT_BPF_H
#define IPCTOP_COMPAT_BPF_H

#include "kernel.bpf.h"

/*
 * tp_btf programs get BTF-typed pointers and read kernel memory with plain
 * loads, which the verifier turns into fault-safe PROBE_MEM loads; raw_tp
 * programs must call bpf_probe_read_kernel() for each field, several times
 * slower on the hot path.
 */
#if IPCTOP_TP_BTF
#define KREAD(...) ___arrow(__VA_ARGS__)
#define current_task() bpf_get_current_task_btf()
#else
#define KREAD(...) BPF_CORE_READ(__VA_ARGS__)
#define current_task() ((struct task_struct *)bpf_get_current_task())
#endif

/*
 * bpf_rdonly_cast (6.2, commit fd264ca02094) turns an address into a typed
 * pointer, so a struct file taken from the fd table can be read with plain
 * loads too. Older kernels resolve it to 0 and take the probe-read path.
 */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

/*
 * Syscall numbers and arguments at sys_exit. On x86-64 the argument
 * registers still hold the arguments at syscall exit; on arm64 x0 holds the
 * return value by then and the first argument survives in orig_x0.
 */
#if defined(__TARGET_ARCH_x86)
#define NR_read 0
#define NR_write 1
#define NR_readv 19
#define NR_writev 20
#define NR_sendfile 40
#define NR_sendto 44
#define NR_recvfrom 45
#define NR_sendmsg 46
#define NR_recvmsg 47
#define NR_splice 275
#define NR_tee 276
#define NR_vmsplice 278
#define NR_recvmmsg 299
#define NR_sendmmsg 307
#define NR_preadv2 327
#define NR_pwritev2 328

static __always_inline long syscall_nr(struct pt_regs *regs)
{
	return KREAD(regs, orig_ax);
}

static __always_inline unsigned long syscall_arg(struct pt_regs *regs, int n)
{
	switch (n) {
	case 0: return KREAD(regs, di);
	case 1: return KREAD(regs, si);
	case 2: return KREAD(regs, dx);
	case 4: return KREAD(regs, r8);
	case 5: return KREAD(regs, r9);
	default: return KREAD(regs, r10);
	}
}
#elif defined(__TARGET_ARCH_arm64)
#define NR_read 63
#define NR_write 64
#define NR_readv 65
#define NR_writev 66
#define NR_sendfile 71
#define NR_vmsplice 75
#define NR_splice 76
#define NR_tee 77
#define NR_sendto 206
#define NR_recvfrom 207
#define NR_sendmsg 211
#define NR_recvmsg 212
#define NR_recvmmsg 243
#define NR_sendmmsg 269
#define NR_preadv2 286
#define NR_pwritev2 287

static __always_inline long syscall_nr(struct pt_regs *regs)
{
	return KREAD(regs, syscallno);
}

static __always_inline unsigned long syscall_arg(struct pt_regs *regs, int n)
{
	if (n == 0)
		return KREAD(regs, orig_x0);
	return BPF_CORE_READ(regs, regs[n & 7]);
}
#else
#error "ipctop's BPF code supports x86 and arm64"
#endif

/*
 * Syscalls whose failures are diagnosed (failures.bpf.h). arm64 has no
 * pipe(2): NR_pipe is left undefined there.
 */
#if defined(__TARGET_ARCH_x86)
#define NR_pipe 22
#define NR_shmget 29
#define NR_shmat 30
#define NR_shmctl 31
#define NR_socket 41
#define NR_accept 43
#define NR_socketpair 53
#define NR_msgget 68
#define NR_msgsnd 69
#define NR_msgrcv 70
#define NR_fcntl 72
#define NR_mq_open 240
#define NR_mq_timedsend 242
#define NR_mq_timedreceive 243
#define NR_pread64 17
#define NR_pwrite64 18
#define NR_preadv 295
#define NR_pwritev 296
#define NR_accept4 288
#define NR_pipe2 293
#elif defined(__TARGET_ARCH_arm64)
#define NR_fcntl 25
#define NR_pipe2 59
#define NR_mq_open 180
#define NR_mq_timedsend 182
#define NR_mq_timedreceive 183
#define NR_pread64 67
#define NR_pwrite64 68
#define NR_preadv 69
#define NR_pwritev 70
#define NR_msgget 186
#define NR_msgrcv 188
#define NR_msgsnd 189
#define NR_shmget 194
#define NR_shmctl 195
#define NR_shmat 196
#define NR_socket 198
#define NR_socketpair 199
#define NR_accept 202
#define NR_accept4 242
#endif

/* The CPU a task is on, or last ran on: task_cpu(). */
static __always_inline __u32 task_cpu_of(struct task_struct *t)
{
	if (bpf_core_field_exists(t->thread_info.cpu))
		return KREAD(t, thread_info.cpu);
	struct task_struct___pre_5_16 *old = (void *)t;
	return BPF_CORE_READ(old, cpu);
}

/* Signals, for the send syscalls that wake a receiver (sched.bpf.h). */
#if defined(__TARGET_ARCH_x86)
#define NR_kill 62
#define NR_tkill 200
#define NR_tgkill 234
#elif defined(__TARGET_ARCH_arm64)
#define NR_kill 129
#define NR_tkill 130
#define NR_tgkill 131
#endif

/* task_struct.state was renamed __state in 5.14 (commit 2f064a59a11f). */
static __always_inline unsigned int task_state(struct task_struct *t)
{
	if (bpf_core_field_exists(t->__state))
		return KREAD(t, __state);
	struct task_struct___pre_5_14 *old = (void *)t;
	return (unsigned int)BPF_CORE_READ(old, state);
}

/*
 * Shared memory and its synchronization (shm.bpf.h). futex_waitv (5.16),
 * futex_wake and futex_wait (6.7) have the same number on every
 * architecture.
 */
#if defined(__TARGET_ARCH_x86)
#define NR_mmap 9
#define NR_semop 65
#define NR_shmdt 67
#define NR_futex 202
#define NR_semtimedop 220
#elif defined(__TARGET_ARCH_arm64)
#define NR_semtimedop 192
#define NR_semop 193
#define NR_shmdt 197
#define NR_futex 98
#define NR_mmap 222
#endif
#define NR_futex_waitv 449
#define NR_futex_wake 454
#define NR_futex_wait 455

#endif
