/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Signals, at signal_generate (every kill, tgkill, rt_sigqueueinfo, and every
 * signal the kernel raises): a flow sender -> target per signal number and
 * result, counted in the kernel's flow table like any other flow (bytes 0,
 * one message per signal).
 *
 * The sender is current when the signal comes from a task: kill, tgkill,
 * sigqueue and mq_notify (si_code SI_USER, SI_TKILL, SI_QUEUE, SI_MESGQ), the
 * kernel on behalf of current (no siginfo: SIGPIPE, SIGXFSZ), a fault
 * (SIGSEGV, SIGBUS, ...) or a child's exit or stop (SIGCHLD). Signals the
 * kernel raises itself (SEND_SIG_PRIV, SI_KERNEL: timers' SIGALRM, the OOM
 * killer's SIGKILL; SI_TIMER, SI_ASYNCIO, SI_SIGIO; SIGIO and SIGPOLL) may run
 * in an interrupt, where current is whichever task was interrupted: their src
 * is 0, the kernel. (BPF cannot read the preempt count here: on x86 it is a
 * per-CPU variable that kallsyms lists only with CONFIG_KALLSYMS_ALL.)
 * The target is the task the signal was addressed to: for a process-directed
 * signal (kill), the thread group leader; the kernel picks the thread that
 * runs the handler later, at delivery.
 */
#ifndef IPCTOP_SIGNAL_BPF_H
#define IPCTOP_SIGNAL_BPF_H

/* include/trace/events/signal.h */
#define TRACE_SIGNAL_DELIVERED 0
#define TRACE_SIGNAL_IGNORED 1
#define TRACE_SIGNAL_ALREADY_PENDING 2
#define TRACE_SIGNAL_OVERFLOW_FAIL 3
#define TRACE_SIGNAL_LOSE_INFO 4

/* include/uapi/asm-generic/siginfo.h */
#define SIG_SI_USER 0
#define SIG_SI_QUEUE (-1)
#define SIG_SI_MESGQ (-3)
#define SIG_SI_TKILL (-6)
#define SIG_SI_KERNEL 0x80
#define SIG_SIGIO 29
#define SIG_SEND_SIG_PRIV 1 /* the special siginfo pointer of kernel-raised signals */

/*
 * Signals and wakeups on shared memory are counted in their own flow table,
 * preallocated: they are counted with a spinlock held and interrupts off
 * (the target's siglock, the wakee's pi_lock), where an allocating insert
 * into the shared, non-preallocated `flows` can fail for want of memory in
 * a burst of new keys (a make spawning children, each its own SIGCHLD key).
 * User space reads both tables the same way.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct ipctop_flow_key);
	__type(value, struct ipctop_flow_val);
} sync_flows SEC(".maps");

static __always_inline void credit_sync(const struct match *m, __u32 kind, __u32 dev)
{
	struct ipctop_flow_key k = {
		.chan_ino = m->chan_ino,
		.chan_dev = dev,
		.kind = kind,
		.src_tgid = m->src_tgid,
		.src_tid = m->src_tid,
		.dst_tgid = m->dst_tgid,
		.dst_tid = m->dst_tid,
		.src_cpu = m->src_cpu,
		.dst_cpu = m->dst_cpu,
	};
	struct ipctop_flow_val zero = {};
	struct ipctop_flow_val *v;

	v = lookup_or_init(&sync_flows, &k, &zero, IPCTOP_LOST_FLOW_MAP_FULL);
	if (!v) {
		count(IPCTOP_CNT_UNATTRIBUTED_MESSAGES, m->msgs);
		return;
	}
	v->messages += m->msgs;
}

static __always_inline bool sent_by_current(int sig, struct kernel_siginfo *info)
{
	int code;

	if (!info)
		return true; /* SEND_SIG_NOINFO: si_code SI_USER, from current */
	if ((unsigned long)info == SIG_SEND_SIG_PRIV)
		return false;
	code = BPF_CORE_READ(info, si_code);
	switch (code) {
	case SIG_SI_USER: case SIG_SI_QUEUE: case SIG_SI_MESGQ: case SIG_SI_TKILL:
		return true;
	case SIG_SI_KERNEL:
		return false;
	}
	return code > 0 && sig != SIG_SIGIO;
}

static __always_inline void on_signal_generate(int sig, struct kernel_siginfo *info,
					       struct task_struct *target, int result)
{
	struct match m = {};
	__u32 outcome;

	switch (result) {
	case TRACE_SIGNAL_DELIVERED:
	case TRACE_SIGNAL_LOSE_INFO: /* queued, without its siginfo */
		outcome = IPCTOP_SIG_DELIVERED;
		break;
	case TRACE_SIGNAL_IGNORED:
		outcome = IPCTOP_SIG_IGNORED;
		break;
	case TRACE_SIGNAL_ALREADY_PENDING:
		outcome = IPCTOP_SIG_COALESCED;
		break;
	default:
		outcome = IPCTOP_SIG_OVERFLOW;
		break;
	}
	if (sent_by_current(sig, info)) {
		__u64 id = bpf_get_current_pid_tgid();

		m.src_tgid = id >> 32;
		m.src_tid = (__u32)id;
	}
	m.src_cpu = bpf_get_smp_processor_id();
	m.dst_tgid = KREAD(target, tgid);
	m.dst_tid = KREAD(target, pid);
	m.dst_cpu = KREAD(target, thread_info.cpu);
	m.chan_ino = sig;
	m.msgs = 1;
	credit_sync(&m, IPCTOP_KIND_SIGNAL, outcome);
}

#endif
