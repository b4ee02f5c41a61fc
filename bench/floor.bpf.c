// SPDX-License-Identifier: GPL-2.0
/*
 * The "floor": the least a tp_btf tracer of IPC must do. At every syscall
 * exit, add the return value of the IPC syscalls to a per-CPU hash keyed by
 * tgid; count context switches in a per-CPU array. Built by bench/run.py
 * against the running kernel's vmlinux.h (bench only).
 *
 * With the loader's "wake" argument, also the least a tracer of wakeups must
 * do (the "floor_wake" mode): at every sched_waking, count the wakeup in a
 * per-CPU hash keyed by (waker tgid, wakee tgid). ipctop needs that hook for
 * waker -> wakee pairs, wakeup latency and futex wakeups on shared memory.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

#if defined(__TARGET_ARCH_x86)
#define NR(regs) BPF_CORE_READ(regs, orig_ax)
enum { R = 0, W = 1, SENDTO = 44, RECVFROM = 45, SENDMSG = 46, RECVMSG = 47,
       MSGSND = 69, MSGRCV = 70, MQ_SEND = 242, MQ_RECV = 243 };
#elif defined(__TARGET_ARCH_arm64)
#define NR(regs) BPF_CORE_READ(regs, syscallno)
enum { R = 63, W = 64, SENDTO = 206, RECVFROM = 207, SENDMSG = 211, RECVMSG = 212,
       MSGSND = 189, MSGRCV = 188, MQ_SEND = 182, MQ_RECV = 183 };
#endif

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u64);
} bytes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} switches SEC(".maps");

SEC("tp_btf/sys_exit")
int BPF_PROG(floor_sys_exit, struct pt_regs *regs, long ret)
{
	__u32 tgid;
	__u64 *v, val;

	if (ret <= 0)
		return 0;
	switch (NR(regs)) {
	case R: case W: case SENDTO: case RECVFROM: case SENDMSG: case RECVMSG:
	case MSGSND: case MSGRCV: case MQ_SEND: case MQ_RECV:
		break;
	default:
		return 0;
	}
	tgid = bpf_get_current_pid_tgid() >> 32;
	v = bpf_map_lookup_elem(&bytes, &tgid);
	if (v) {
		*v += ret;
	} else {
		val = ret;
		bpf_map_update_elem(&bytes, &tgid, &val, BPF_NOEXIST);
	}
	return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(floor_sched_switch, bool preempt, struct task_struct *prev,
	     struct task_struct *next)
{
	__u32 zero = 0;
	__u64 *c = bpf_map_lookup_elem(&switches, &zero);

	if (c)
		*c += 1;
	return 0;
}

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u64);
} wakeups SEC(".maps");

SEC("tp_btf/sched_waking")
int BPF_PROG(floor_sched_waking, struct task_struct *p)
{
	__u64 key = (bpf_get_current_pid_tgid() >> 32) << 32 | (__u32)p->tgid;
	__u64 *v, one = 1;

	v = bpf_map_lookup_elem(&wakeups, &key);
	if (v)
		*v += 1;
	else
		bpf_map_update_elem(&wakeups, &key, &one, BPF_NOEXIST);
	return 0;
}
