// SPDX-License-Identifier: GPL-2.0
/*
 * ipctop's probes. Thin SEC() wrappers over the families in *.bpf.h.
 * Built twice: IPCTOP_TP_BTF=1 attaches as tp_btf (typed arguments),
 * IPCTOP_TP_BTF=0 as raw_tp for kernels that refuse tp_btf; the loader picks
 * the first that loads (src/probe/Loader.cpp). The IPC probes exist only in
 * the tp_btf build: their attribution queues need bpf_spin_lock, which the
 * verifier refuses in raw_tp programs ("tracing progs cannot use
 * bpf_spin_lock yet").
 */
#include <linux/types.h>
#include <stdbool.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "ipctop/abi.h"
#include "compat.bpf.h"
#include "maps.bpf.h"
#include "sched.bpf.h"
#if IPCTOP_TP_BTF
#include "ipc.bpf.h"
#include "net.bpf.h"
#include "msgq.bpf.h"
#include "files.bpf.h"
#include "failures.bpf.h"
#include "signal.bpf.h"
#include "shm.bpf.h"
#include "scm.bpf.h"
#include "pipe.bpf.h"
#endif

#if IPCTOP_TP_BTF
#define TP(name) SEC("tp_btf/" #name)
#else
#define TP(name) SEC("raw_tp/" #name)
#endif

char LICENSE[] SEC("license") = "GPL";

TP(sched_switch)
int BPF_PROG(handle_sched_switch, bool preempt, struct task_struct *prev,
	     struct task_struct *next)
{
	on_sched_switch(preempt, prev, next);
#if IPCTOP_TP_BTF
	on_block(preempt, prev);
#endif
	return 0;
}

TP(sched_migrate_task)
int BPF_PROG(handle_sched_migrate_task, struct task_struct *p, int dest_cpu)
{
	on_sched_migrate(p, dest_cpu);
	return 0;
}

TP(sched_process_fork)
int BPF_PROG(handle_sched_process_fork, struct task_struct *parent,
	     struct task_struct *child)
{
	emit_task_record(IPCTOP_REC_TASK_NEW, child,
			 BPF_CORE_READ(parent, tgid), NULL);
	return 0;
}

TP(sched_process_exec)
int BPF_PROG(handle_sched_process_exec, struct task_struct *p)
{
	emit_task_record(IPCTOP_REC_TASK_EXEC, p,
			 BPF_CORE_READ(p, real_parent, tgid), NULL);
	return 0;
}

TP(sched_process_exit)
int BPF_PROG(handle_sched_process_exit, struct task_struct *p)
{
	emit_task_record(IPCTOP_REC_TASK_EXIT, p, 0, NULL);
	return 0;
}

TP(task_rename)
int BPF_PROG(handle_task_rename, struct task_struct *task, const char *comm)
{
	emit_task_record(IPCTOP_REC_TASK_RENAME, task, 0, comm);
	return 0;
}

#if IPCTOP_TP_BTF
TP(sys_exit)
int BPF_PROG(handle_sys_exit, struct pt_regs *regs, long ret)
{
	/* Failed and empty transfers move no data; failures.bpf.h diagnoses
	 * failed IPC syscalls (and pipes created shrunk, which return 0). */
	/* shmdt, shmctl and shmget can return 0 on success. */
	on_shm_syscall_exit(regs, ret);
	on_fds_received(regs, ret);
	if (ret <= 0) {
		dgram_recv_end(regs);
		/* msgsnd and mq_timedsend move a message and return 0. */
		if (ret == 0 && on_message_sent(regs))
			return 0;
		return on_syscall_failure(regs, ret);
	}
	on_syscall_exit(regs, ret);
	return 0;
}

TP(sched_waking)
int BPF_PROG(handle_sched_waking, struct task_struct *p)
{
	/* Runs in the waker's context: who woke whom (sched.bpf.h), and
	 * wakeups between processes through shared memory (shm.bpf.h). Both
	 * look at the waker's syscall, read once here (-1 for none: kernel
	 * threads have zeroed user registers, interrupts someone else's). */
	struct task_struct *cur = bpf_get_current_task_btf();
	bool task_ctx = in_task_context(ctx, cur);
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(cur);
	long nr = task_ctx && !(cur->flags & PF_KTHREAD) ? syscall_nr(regs) : -1;

	on_sched_waking(cur, p, task_ctx, nr);
	on_shm_waking(cur, regs, nr, p);
	return 0;
}

TP(skb_copy_datagram_iovec)
int BPF_PROG(handle_skb_copy_datagram_iovec, const struct sk_buff *skb, int len)
{
	on_datagram_copy(skb, len);
	return 0;
}

TP(signal_generate)
int BPF_PROG(handle_signal_generate, int sig, struct kernel_siginfo *info,
	     struct task_struct *task, int group, int result)
{
	on_signal_generate(sig, info, task, result);
	return 0;
}

/*
 * The pipe data path's fexit variant (pipe.bpf.h). The loader points these
 * at anon_pipe_write/anon_pipe_read where the kernel has those names, and
 * does not load them where fexit is refused (sys_exit counts pipes then).
 */
SEC("fexit/pipe_write")
int BPF_PROG(handle_pipe_write, struct kiocb *iocb, struct iov_iter *from, long ret)
{
	on_pipe_rw(iocb, ret, DIR_SEND);
	return 0;
}

SEC("fexit/pipe_read")
int BPF_PROG(handle_pipe_read, struct kiocb *iocb, struct iov_iter *to, long ret)
{
	on_pipe_rw(iocb, ret, DIR_RECV);
	return 0;
}

#endif
