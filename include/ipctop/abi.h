/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The kernel <-> user contract of ipctop.
 * C only, fixed-width types, explicit padding: compiled by clang for the BPF
 * target and by the C++ compiler, which static_asserts the layout
 * (src/probe/AbiCheck.cpp).
 */
#ifndef IPCTOP_ABI_H
#define IPCTOP_ABI_H

#include <linux/types.h>
#include <linux/bpf.h> /* struct bpf_spin_lock */

#define IPCTOP_ABI_VERSION 1
#define IPCTOP_COMM_LEN 16

/* Channel kinds; the JSON names are in src/model/Kinds.cpp. */
enum ipctop_kind {
	IPCTOP_KIND_NONE = 0,
	IPCTOP_KIND_PIPE = 1,
	IPCTOP_KIND_FIFO = 2,
	IPCTOP_KIND_UNIX_STREAM = 3,
	IPCTOP_KIND_UNIX_DGRAM = 4,
	IPCTOP_KIND_UNIX_SEQPACKET = 5,
	IPCTOP_KIND_MAX = 6,
};

/*
 * A flow: bytes the receiver (dst) consumed that the sender (src) wrote,
 * over one channel, split by the sender's CPU at send and the receiver's CPU
 * at receive. The channel is identified by the inode of the receiving object:
 * the pipe, the FIFO (with its device), or the receiving unix socket.
 * Stored in a per-CPU hash; the CPU slot is only where the update ran, so
 * user space sums the slots.
 */
struct ipctop_flow_key {
	__u64 chan_ino;
	__u32 chan_dev;
	__u32 kind;
	__u32 src_tgid;
	__u32 src_tid;
	__u32 dst_tgid;
	__u32 dst_tid;
	__u32 src_cpu;
	__u32 dst_cpu;
};

struct ipctop_flow_val {
	__u64 bytes;
	__u64 messages;
};

/*
 * Scheduler figures per thread, per CPU (the map is per-CPU, keyed by tid).
 * A thread's IPC bytes are not counted here: user space sums them from the
 * flows, which keeps one hash update off every IPC syscall.
 */
struct ipctop_thread_val {
	__u32 tgid;
	__u32 pad;
	__u64 switches;
	__u64 voluntary;
	__u64 involuntary;
	__u64 oncpu_ns;
};

/*
 * Per-CPU counters, one slot of a per-CPU array indexed by this enum.
 * All counters are monotonic: user space computes deltas and never resets.
 */
enum ipctop_counter {
	IPCTOP_CNT_SWITCHES = 0,
	IPCTOP_CNT_VOLUNTARY,
	IPCTOP_CNT_INVOLUNTARY,
	IPCTOP_CNT_IDLE_NS,
	/* Bytes and messages consumed whose flow could not be recorded. */
	IPCTOP_CNT_UNATTRIBUTED_BYTES,
	IPCTOP_CNT_UNATTRIBUTED_MESSAGES,
	/* Drop points: each one is a loss reported in the JSON `lost` object. */
	IPCTOP_LOST_FLOW_MAP_FULL,
	IPCTOP_LOST_THREAD_MAP_FULL,
	IPCTOP_LOST_QUEUE_MAP_FULL,
	IPCTOP_LOST_QUEUE_OVERFLOW,
	IPCTOP_LOST_RINGBUF_FULL,
	IPCTOP_LOST_MMSG_TRUNCATED,
	IPCTOP_LOST_UNSUPPORTED,
	IPCTOP_CNT_MAX,
};
#define IPCTOP_LOST_FIRST IPCTOP_LOST_FLOW_MAP_FULL

/*
 * The attribution queue of one channel direction: segments of bytes written
 * and not yet read (or read before the writer's syscall exit was seen, which
 * happens when the reader runs first on another CPU). Writers and readers are
 * matched in FIFO order, which is exact for pipes and sockets.
 */
#define IPCTOP_QUEUE_SEGS 16

struct ipctop_seg {
	__u32 tgid;
	__u32 tid;
	__u32 cpu;
	__u32 ops;
	__u64 bytes;
	__u64 chan_ino; /* pending reads: the receiving channel */
};

struct ipctop_queue_key {
	__u64 obj; /* pipe/FIFO inode, or unix socket address (never shown) */
	__u32 dev;
	__u32 kind;
};

struct ipctop_queue {
	struct bpf_spin_lock lock;
	__u32 head;
	__u32 len;
	__u32 reads; /* 1 when the pending segments are reads */
	__u32 overflow; /* appends merged into an unknown party, not yet counted */
	__u64 last_epoch; /* user space's interval counter when last touched */
	struct ipctop_seg seg[IPCTOP_QUEUE_SEGS];
};

/* Low-rate lifecycle records through the ring buffer. */
enum ipctop_rec_type {
	IPCTOP_REC_TASK_NEW = 1,  /* fork or clone: pid/tid is the child */
	IPCTOP_REC_TASK_EXEC = 2,
	IPCTOP_REC_TASK_EXIT = 3, /* a thread exited */
	IPCTOP_REC_TASK_RENAME = 4,
};

struct ipctop_rec_hdr {
	__u16 type;
	__u16 size; /* of the whole record */
	__u32 cpu;
	__u64 ts_ns;
	__u32 tgid;
	__u32 tid;
};

struct ipctop_rec_task {
	struct ipctop_rec_hdr hdr;
	__u32 ppid; /* tgid of the parent (TASK_NEW, TASK_EXEC) */
	__u32 pad;
	char comm[IPCTOP_COMM_LEN];
};

#endif /* IPCTOP_ABI_H */
