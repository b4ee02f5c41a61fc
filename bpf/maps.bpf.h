/* SPDX-License-Identifier: GPL-2.0 */
/* Maps, configuration and the counters every drop point increments. */
#ifndef IPCTOP_MAPS_BPF_H
#define IPCTOP_MAPS_BPF_H

/* Sizes are defaults; the loader resizes them from the options. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 65536);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ipctop_flow_key);
	__type(value, struct ipctop_flow_val);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 32768);
	__type(key, __u32);
	__type(value, struct ipctop_thread_val);
} threads SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ipctop_queue_key);
	__type(value, struct ipctop_queue);
} queues SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, IPCTOP_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* A zeroed queue to insert from: too large for the BPF stack. Never written. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u8[sizeof(struct ipctop_queue)]);
} queue_zero SEC(".maps");

/*
 * The interval counter, written by user space at each drain: a plain load
 * where a clock read would cost a helper call on every IPC syscall.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} epoch SEC(".maps");

/*
 * The task switched in last on each CPU and its run time then: on-CPU time
 * is the scheduler's own se.sum_exec_runtime difference, no clock read.
 */
struct cpu_state {
	__u64 in_runtime;
	__u32 in_tid;
	__u32 seq; /* switches on this CPU, wrapping */
	/* Scheduler detail (sched.bpf.h): the task's run_delay at switch-in,
	 * its process, and whether its process's concurrency counts it. */
	__u64 in_run_delay;
	__u32 in_tgid;
	__u32 in_counted;
	__u64 scratch; /* an address turned into a number */
	/* A unix datagram receive matched at the skb copy (ipc.bpf.h) by
	 * this thread, with no switch since: its syscall exit has nothing
	 * left to do. */
	__u32 dgram_tid;
	__u32 dgram_seq;
	__u32 switched; /* a switch was seen on this CPU since attach */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cpu_state);
} cpu_states SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

static __always_inline void count(__u32 counter, __u64 n)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &counter);

	if (c)
		*c += n;
}

/*
 * Look a key up, inserting a zeroed value first when it is missing. A full
 * map increments `lost` and returns NULL: the caller accounts the data as
 * unattributed.
 */
static __always_inline void *lookup_or_init(void *map, const void *key,
					     const void *init, __u32 lost)
{
	void *v = bpf_map_lookup_elem(map, key);
	int err;

	if (v)
		return v;
	err = bpf_map_update_elem(map, key, init, BPF_NOEXIST);
	if (err && err != -17 /* EEXIST: another CPU won the race */) {
		count(lost, 1);
		return NULL;
	}
	return bpf_map_lookup_elem(map, key);
}

static __always_inline struct ipctop_thread_val *thread_stats(__u32 tid, __u32 tgid)
{
	struct ipctop_thread_val init = { .tgid = tgid };

	return lookup_or_init(&threads, &tid, &init, IPCTOP_LOST_THREAD_MAP_FULL);
}

#endif
