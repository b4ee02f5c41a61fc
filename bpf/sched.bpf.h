/* SPDX-License-Identifier: GPL-2.0 */
/* Scheduler: context switches, on-CPU time, task lifecycle. */
#ifndef IPCTOP_SCHED_BPF_H
#define IPCTOP_SCHED_BPF_H

/*
 * The kernel counts a switch as voluntary (nvcsw) when the task blocks:
 * not a preemption and a state other than TASK_RUNNING; everything else is
 * involuntary (nivcsw), sched_yield included. Same rule as __schedule().
 */
static __always_inline void on_sched_switch(bool preempt, struct task_struct *prev,
					    struct task_struct *next)
{
	__u32 zero = 0;
	struct cpu_state *cpu = bpf_map_lookup_elem(&cpu_states, &zero);
	__u32 tid = KREAD(prev, pid);
	bool voluntary = !preempt && task_state(prev) != 0;
	__u64 ran = 0;

	/* update_curr() has just brought prev's run time up to date. */
	if (cpu) {
		if (cpu->in_tid == tid && tid)
			ran = KREAD(prev, se.sum_exec_runtime) - cpu->in_runtime;
		cpu->in_tid = KREAD(next, pid);
		cpu->in_runtime = KREAD(next, se.sum_exec_runtime);
	}
	count(IPCTOP_CNT_SWITCHES, 1);
	count(voluntary ? IPCTOP_CNT_VOLUNTARY : IPCTOP_CNT_INVOLUNTARY, 1);
	if (tid == 0)
		return;

	struct ipctop_thread_val *t = thread_stats(tid, KREAD(prev, tgid));

	if (!t)
		return;
	t->switches++;
	if (voluntary)
		t->voluntary++;
	else
		t->involuntary++;
	t->oncpu_ns += ran;
}

static __always_inline void emit_task_record(__u16 type, struct task_struct *t,
					     __u32 ppid, const char *comm)
{
	struct ipctop_rec_task *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);

	if (!r) {
		count(IPCTOP_LOST_RINGBUF_FULL, 1);
		return;
	}
	r->hdr.type = type;
	r->hdr.size = sizeof(*r);
	r->hdr.cpu = bpf_get_smp_processor_id();
	r->hdr.ts_ns = bpf_ktime_get_ns();
	r->hdr.tgid = BPF_CORE_READ(t, tgid);
	r->hdr.tid = BPF_CORE_READ(t, pid);
	r->ppid = ppid;
	r->pad = 0;
	if (comm)
		bpf_probe_read_kernel_str(r->comm, sizeof(r->comm), comm);
	else
		BPF_CORE_READ_STR_INTO(&r->comm, t, comm);
	bpf_ringbuf_submit(r, 0);
}

#endif
