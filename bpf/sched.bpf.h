/* SPDX-License-Identifier: GPL-2.0 */
/* Scheduler: context switches, on-CPU time, task lifecycle. */
#ifndef IPCTOP_SCHED_BPF_H
#define IPCTOP_SCHED_BPF_H

#define PF_KTHREAD 0x00200000
#define SCHED_NORMAL 0
#define SCHED_BATCH 3
#define SCHED_IDLE 5

/*
 * Migrations per CPU: slot 2*cpu counts tasks moved onto the CPU, 2*cpu+1
 * tasks moved off it. Per-CPU by where the migration was done (often the
 * waker's CPU), so no atomics; user space sums the slots. The loader sizes
 * it to 2 * possible CPUs.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2 * 1024);
	__type(key, __u32);
	__type(value, __u64);
} cpu_migrations SEC(".maps");

static __always_inline __u64 current_epoch(void)
{
	__u32 zero = 0;
	__u64 *e = bpf_map_lookup_elem(&epoch, &zero);

	return e ? *e : 0;
}

/* Log2 bucket of a latency in microseconds (see struct ipctop_lat). */
static __always_inline __u32 lat_bucket(__u64 ns)
{
	__u64 us = ns / 1000;
	__u32 v, b = 0;

	if (us >= (1ULL << (IPCTOP_LAT_BUCKETS - 2)))
		return IPCTOP_LAT_BUCKETS - 1;
	v = us;
	if (v >= 1 << 16) {
		b += 16;
		v >>= 16;
	}
	if (v >= 1 << 8) {
		b += 8;
		v >>= 8;
	}
	if (v >= 1 << 4) {
		b += 4;
		v >>= 4;
	}
	if (v >= 1 << 2) {
		b += 2;
		v >>= 2;
	}
	if (v >= 1 << 1)
		b += 1;
	return us ? b + 1 : 0;
}

static __always_inline void lat_add(struct ipctop_lat *l, __u64 ns, __u64 epoch)
{
	__u32 b = lat_bucket(ns);

	l->count++;
	l->sum_ns += ns;
	if (l->max_epoch != epoch) {
		l->max_epoch = epoch;
		l->max_ns = ns;
	} else if (ns > l->max_ns) {
		l->max_ns = ns;
	}
	if (b < IPCTOP_LAT_BUCKETS)
		l->hist[b]++;
}

#if IPCTOP_TP_BTF
/*
 * Wakeups. At sched_waking the waker is current (unless in an interrupt);
 * the wakee's task storage remembers who woke it, on which CPU and whether
 * the wakeup came from inside a send syscall; its next switch-in credits the
 * (waker, wakee) pair and times a send's wakeup. Only wakeups of a sleeping
 * user task are followed.
 *
 * Timing without clock reads where possible: a wakee last run on the
 * waker's CPU (a ping-pong on one core) is put on a run queue right away,
 * and sched_info.last_queued holds that run queue's clock at the enqueue;
 * at switch-in, before sched_info_arrive() clears it, the run-queue clock
 * minus last_queued is the wait. A wakee last run elsewhere is usually
 * queued by an IPI on its own CPU, later than the send, so those wakeups
 * are stamped with the monotonic clock on both sides instead.
 */
enum wake_timing { WAKE_UNTIMED = 0, WAKE_RQ_CLOCK, WAKE_KTIME };

struct wake_stamp {
	__u64 ts; /* bpf_ktime_get_ns() at the waking (WAKE_KTIME) */
	__u32 waker_tgid;
	__u32 waker_tid;
	__u32 waker_cpu;
	__u16 pending;
	__u16 timing; /* enum wake_timing */
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct wake_stamp);
} wake_stamps SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ipctop_wakeup_key);
	__type(value, struct ipctop_wakeup_val);
} wakeups SEC(".maps");

/* Concurrency of multi-threaded processes, by tgid. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u32);
	__type(value, struct ipctop_proc_run);
} proc_runs SEC(".maps");

/*
 * This CPU's run-queue clock, fresh at sched_switch (__schedule() has just
 * updated it), without a clock read: a task picked here has its fair-class
 * entity on this CPU's cfs_rq, which points to the rq (the run queues are
 * not reachable as a ksym without CONFIG_KALLSYMS_ALL). Kernels without
 * CONFIG_FAIR_GROUP_SCHED read the clock instead.
 */
static __always_inline __u64 rq_clock_of(struct task_struct *t)
{
	if (bpf_core_field_exists(t->se.cfs_rq))
		return t->se.cfs_rq->rq->clock;
	return bpf_ktime_get_ns();
}

/*
 * Interrupt context without the per-CPU preempt count (a data ksym, not
 * resolvable without CONFIG_KALLSYMS_ALL): the tracepoint's arguments are
 * on the stack the program runs on, which is the task's own stack in task
 * context and the CPU's IRQ stack in hard and soft interrupts (x86-64 and
 * arm64 both switch stacks). The cpu_state slot turns the address into a
 * number (allowed with CAP_PERFMON).
 */
#define TASK_STACK_SPAN (32 * 1024) /* THREAD_SIZE is 16 KiB, 32 KiB with KASAN */

static __always_inline bool in_task_context(void *ctx, struct task_struct *cur)
{
	__u32 zero = 0;
	struct cpu_state *cpu = bpf_map_lookup_elem(&cpu_states, &zero);
	__u64 stack = (__u64)cur->stack;

	if (!cpu)
		return true;
	cpu->scratch = (__u64)ctx;
	/* Read back as a number: the compiler must not reuse ctx itself. */
	return *(volatile __u64 *)&cpu->scratch - stack < TASK_STACK_SPAN;
}

/* The syscalls that send a message or signal: a wakeup inside one is an
 * IPC delivery, timed from here until the receiver runs. */
static __always_inline bool is_send_syscall(long nr)
{
	switch (nr) {
	case NR_write:
	case NR_writev:
	case NR_pwritev2:
	case NR_sendto:
	case NR_sendmsg:
	case NR_sendmmsg:
	case NR_sendfile:
	case NR_splice:
	case NR_tee:
	case NR_vmsplice:
	case NR_msgsnd:
	case NR_mq_timedsend:
	case NR_kill:
	case NR_tkill:
	case NR_tgkill:
		return true;
	}
	return false;
}

/*
 * `task_ctx`: the waker is `cur`, not an interrupt. `nr` is its syscall (-1
 * in an interrupt or a kernel thread), read once by the caller.
 */
static __always_inline void on_sched_waking(struct task_struct *cur, struct task_struct *p,
					    bool task_ctx, long nr)
{
	struct wake_stamp *w;
	__u32 cpu;

	/* Still on a run queue (about to sleep): nothing to wake, no run follows. */
	if (KREAD(p, on_rq) || (KREAD(p, flags) & PF_KTHREAD))
		return;
	w = bpf_task_storage_get(&wake_stamps, p, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!w) {
		count(IPCTOP_LOST_WAKE_STAMP, 1);
		return;
	}
	cpu = bpf_get_smp_processor_id();
	/* An interrupt (a timer, a device, a softirq such as loopback TCP
	 * delivery) wakes on nobody's behalf. */
	w->waker_tgid = task_ctx ? cur->tgid : 0;
	w->waker_tid = task_ctx ? cur->pid : 0;
	w->waker_cpu = cpu;
	w->pending = 1;
	w->timing = WAKE_UNTIMED;
	if (is_send_syscall(nr)) {
		if (task_cpu_of(p) == cpu &&
		    bpf_core_field_exists(p->sched_info.last_queued)) {
			w->timing = WAKE_RQ_CLOCK;
		} else {
			w->timing = WAKE_KTIME;
			w->ts = bpf_ktime_get_ns();
		}
	}
}

/* `now` is this CPU's run-queue clock (rq_clock_of). */
static __always_inline void on_switch_in(struct task_struct *next, __u32 tid, __u32 tgid,
					 __u64 now)
{
	struct wake_stamp *w = bpf_task_storage_get(&wake_stamps, next, 0, 0);
	struct ipctop_wakeup_val zero = {}, *v;
	struct ipctop_wakeup_key k;
	__u64 since = 0;

	if (!w || !w->pending)
		return;
	w->pending = 0;
	k.waker_tgid = w->waker_tgid;
	k.waker_tid = w->waker_tid;
	k.wakee_tgid = tgid;
	k.wakee_tid = tid;
	v = lookup_or_init(&wakeups, &k, &zero, IPCTOP_LOST_WAKEUP_MAP_FULL);
	if (!v)
		return;
	v->count++;
	if (bpf_get_smp_processor_id() != w->waker_cpu)
		v->cross_cpu++;
	if (w->timing == WAKE_RQ_CLOCK) {
		/* 0 when it was queued otherwise (dequeued and requeued by a
		 * migration, or sched_info off): no sample. */
		since = KREAD(next, sched_info.last_queued);
	} else if (w->timing == WAKE_KTIME) {
		since = w->ts;
		now = bpf_ktime_get_ns();
	}
	if (since)
		lat_add(&v->latency, now > since ? now - since : 0, current_epoch());
}

/*
 * A multi-threaded process's threads entering (in) or leaving a CPU: the
 * time since the last change is added to busy_ns when any of its threads
 * ran, to multi_ns when two or more did. Returns whether it is counted.
 */
static __always_inline bool proc_run_update(__u32 tgid, bool in, __u64 now)
{
	struct ipctop_proc_run init = {}, *p;

	if (in)
		p = lookup_or_init(&proc_runs, &tgid, &init, IPCTOP_LOST_PROC_MAP_FULL);
	else
		p = bpf_map_lookup_elem(&proc_runs, &tgid);
	if (!p)
		return false;
	bpf_spin_lock(&p->lock);
	if (p->running) {
		__u64 dt = now > p->since ? now - p->since : 0;

		p->busy_ns += dt;
		if (p->running >= 2)
			p->multi_ns += dt;
	}
	if (in)
		p->running++;
	else if (p->running)
		p->running--;
	if (now > p->since)
		p->since = now;
	bpf_spin_unlock(&p->lock);
	return true;
}

static __always_inline bool multi_threaded(struct task_struct *t)
{
	return t->signal->nr_threads > 1;
}
#endif /* IPCTOP_TP_BTF */

/*
 * The kernel counts a switch as voluntary (nvcsw) when the task blocks:
 * not a preemption and a state other than TASK_RUNNING; everything else is
 * involuntary (nivcsw), sched_yield included. Same rule as __schedule().
 *
 * Run-queue wait without a clock read: sched_info_arrive() adds the wait
 * before a run to the task's sched_info.run_delay right after this
 * tracepoint switches it in (prepare_task_switch() runs after it), so the
 * run_delay growth between its switch-in and its switch-out is the wait
 * that preceded this run.
 */
static __always_inline void on_sched_switch(bool preempt, struct task_struct *prev,
					    struct task_struct *next)
{
	__u32 zero = 0;
	struct cpu_state *cpu = bpf_map_lookup_elem(&cpu_states, &zero);
	__u32 tid = KREAD(prev, pid);
	__u32 tgid = KREAD(prev, tgid);
	__u32 next_tid = KREAD(next, pid);
	__u32 next_tgid = KREAD(next, tgid);
	bool voluntary = !preempt && task_state(prev) != 0;
	bool has_run_delay = bpf_core_field_exists(prev->sched_info.run_delay);
	bool timed = false, counted = false;
	__u32 counted_tgid = 0;
	__u64 ran = 0, waited = 0, now = 0;

	/* update_curr() has just brought prev's run time up to date. */
	if (cpu) {
		/* The process of the task last switched in leaves this CPU
		 * (prev's, unless that task's switch out was not traced). */
		counted = cpu->in_counted;
		counted_tgid = cpu->in_tgid;
		if (cpu->in_tid == tid && tid) {
			ran = KREAD(prev, se.sum_exec_runtime) - cpu->in_runtime;
			if (has_run_delay) {
				waited = KREAD(prev, sched_info.run_delay) - cpu->in_run_delay;
				timed = true;
			}
		} else if (tid && cpu->switched) {
			/*
			 * The switch that put prev here was not traced: some
			 * kernels leave a task's switches out of sched_switch
			 * (seen here for a sandbox's own agent threads), so the
			 * next switch-out is of a task ipctop never saw come in.
			 * Its run is then the scheduler's own figure since it was
			 * picked, kept by the fair class only.
			 */
			__u32 policy = KREAD(prev, policy);

			if (policy == SCHED_NORMAL || policy == SCHED_BATCH || policy == SCHED_IDLE)
				ran = KREAD(prev, se.sum_exec_runtime) -
				      KREAD(prev, se.prev_sum_exec_runtime);
			count(IPCTOP_CNT_SWITCHES_UNTRACED, 1);
		}
		cpu->switched = 1;
		cpu->seq++;
		cpu->in_tid = next_tid;
		cpu->in_tgid = next_tgid;
		cpu->in_runtime = KREAD(next, se.sum_exec_runtime);
		if (has_run_delay)
			cpu->in_run_delay = KREAD(next, sched_info.run_delay);
#if IPCTOP_TP_BTF
		now = rq_clock_of(next_tid ? next : prev);
		if (counted)
			proc_run_update(counted_tgid, false, now);
		cpu->in_counted = next_tid && multi_threaded(next) &&
				  proc_run_update(next_tgid, true, now);
#else
		(void)counted;
		(void)counted_tgid;
		(void)now;
#endif
	}
#if IPCTOP_TP_BTF
	if (next_tid)
		on_switch_in(next, next_tid, next_tgid, now);
#endif
	/* All switches are the sum of these two (user space adds them). */
	count(voluntary ? IPCTOP_CNT_VOLUNTARY : IPCTOP_CNT_INVOLUNTARY, 1);
	if (tid == 0)
		return;

	struct ipctop_thread_val *t = thread_stats(tid, tgid);

	if (!t)
		return;
	t->switches++;
	if (voluntary)
		t->voluntary++;
	else
		t->involuntary++;
	t->oncpu_ns += ran;
	if (timed)
		lat_add(&t->runq, waited, current_epoch());
	t->nr_migrations = KREAD(prev, se.nr_migrations);
	if (next_tgid == tgid && next_tid != tid)
		t->handoffs++;
}

static __always_inline void on_sched_migrate(struct task_struct *p, int dest_cpu)
{
	__u32 from = task_cpu_of(p);
	__u32 in = (__u32)dest_cpu * 2, out = from * 2 + 1;
	__u64 *c;

	if (from == (__u32)dest_cpu)
		return;
	c = bpf_map_lookup_elem(&cpu_migrations, &in);
	if (c)
		*c += 1;
	c = bpf_map_lookup_elem(&cpu_migrations, &out);
	if (c)
		*c += 1;
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
