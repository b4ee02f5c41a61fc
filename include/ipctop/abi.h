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
	IPCTOP_KIND_TCP = 6,
	IPCTOP_KIND_UDP = 7,
	IPCTOP_KIND_SYSV_MSG = 8,
	IPCTOP_KIND_POSIX_MQ = 9,
	IPCTOP_KIND_SYSV_SHM = 10,
	IPCTOP_KIND_POSIX_SHM = 11,
	IPCTOP_KIND_FILE = 12,
	IPCTOP_KIND_SIGNAL = 13,
	IPCTOP_KIND_MAX = 14,
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
 * A latency distribution in log2 buckets of microseconds: bucket 0 counts
 * values below 1 us, bucket i (1 <= i < IPCTOP_LAT_BUCKETS - 1) values in
 * [2^(i-1), 2^i) us, the last bucket everything from 2^(IPCTOP_LAT_BUCKETS-2)
 * us up. Counts are monotonic (u32: user space takes differences modulo
 * 2^32); max_ns is the largest value seen while the epoch map held max_epoch.
 */
#define IPCTOP_LAT_BUCKETS 20

struct ipctop_lat {
	__u64 count;
	__u64 sum_ns;
	__u64 max_ns;
	__u64 max_epoch;
	__u32 hist[IPCTOP_LAT_BUCKETS];
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
	/* Scheduler detail (bpf/sched.bpf.h), for the runs that ended on this CPU. */
	struct ipctop_lat runq;  /* run-queue wait before each run */
	__u64 nr_migrations;     /* the task's se.nr_migrations at its last switch-out here */
	__u64 handoffs;          /* switches straight to another thread of its process */
};

/*
 * Per-CPU counters, one slot of a per-CPU array indexed by this enum.
 * All counters are monotonic: user space computes deltas and never resets.
 */
enum ipctop_counter {
	/* Switches out of a task whose switch onto the CPU the kernel did not
	 * trace (see bpf/sched.bpf.h); its run is still counted. */
	IPCTOP_CNT_SWITCHES_UNTRACED = 0,
	IPCTOP_CNT_VOLUNTARY,
	IPCTOP_CNT_INVOLUNTARY,
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
	/* A process-shared futex wake whose address could not be resolved to
	 * its mapping (the waker's mmap lock was busy): bpf/shm.bpf.h. */
	IPCTOP_LOST_SHM_UNRESOLVED,
	IPCTOP_LOST_WAKEUP_MAP_FULL, /* a waker -> wakee pair not recorded */
	IPCTOP_LOST_PROC_MAP_FULL,   /* a process's concurrency not tracked */
	IPCTOP_LOST_WAKE_STAMP,      /* a wakeup's waker not stored (task storage refused) */
	IPCTOP_LOST_FD_PASS,         /* SCM_RIGHTS descriptors beyond what one receive is looked at for */
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

/*
 * TCP and UDP (bpf/net.bpf.h). A flow end that is a remote peer (not a
 * thread of this machine's same network namespace) has tgid 0 and this tid;
 * its address is in the connection's ipctop_conn. A flow's chan_ino is then
 * a hash of the directed connection, the key of the `conns` table.
 */
#define IPCTOP_REMOTE_TID 0xffffffffu

/* One direction of a connection: data from saddr:sport to daddr:dport. */
struct ipctop_conn {
	__u8 saddr[16]; /* IPv6, or IPv4 mapped as ::ffff:a.b.c.d; zero when unknown */
	__u8 daddr[16];
	__u16 sport; /* host order */
	__u16 dport;
	__u32 kind;  /* IPCTOP_KIND_TCP or IPCTOP_KIND_UDP */
};

/*
 * An address of this machine in a network namespace (by its inode number),
 * written by user space from getifaddrs() for its own namespace: a TCP or
 * UDP peer at such an address is local, and its traffic is joined thread to
 * thread (bpf/net.bpf.h).
 */
struct ipctop_local_addr {
	__u32 netns;
	__u8 addr[16]; /* as in ipctop_conn */
};

/* ---- Scheduler (bpf/sched.bpf.h) ---- */

/*
 * Wakeups: who made a thread runnable. Per-CPU hash; the CPU slot is where
 * the wakee ran next. waker_tid 0 is an interrupt (hard or soft IRQ not on
 * behalf of a sending thread).
 */
struct ipctop_wakeup_key {
	__u32 waker_tgid;
	__u32 waker_tid;
	__u32 wakee_tgid;
	__u32 wakee_tid;
};

struct ipctop_wakeup_val {
	__u64 count;
	__u64 cross_cpu; /* the wakee ran next on another CPU than the waker's */
	/* From the waking to the wakee running, for wakeups made inside a send
	 * syscall (write, sendmsg, ... see bpf/sched.bpf.h): an IPC message's
	 * delivery to a sleeping receiver. */
	struct ipctop_lat latency;
};

/*
 * How a multi-threaded process's threads shared the CPUs (hash keyed by
 * tgid): time with at least one, and with at least two, of its threads on
 * a CPU at once, integrated at every switch with the run-queue clock.
 */
struct ipctop_proc_run {
	struct bpf_spin_lock lock;
	__u32 running; /* its threads on a CPU now */
	__u64 since;   /* rq clock of the last change of running */
	__u64 busy_ns;  /* time with running >= 1 */
	__u64 multi_ns; /* time with running >= 2 */
};

/* Low-rate lifecycle records through the ring buffer. */
enum ipctop_rec_type {
	IPCTOP_REC_TASK_NEW = 1,  /* fork or clone: pid/tid is the child */
	IPCTOP_REC_TASK_EXEC = 2,
	IPCTOP_REC_TASK_EXIT = 3, /* a thread exited */
	IPCTOP_REC_TASK_RENAME = 4,
	IPCTOP_REC_SHM = 5,       /* struct ipctop_rec_shm */
	IPCTOP_REC_FD_RECV = 6,   /* struct ipctop_rec_fd */
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

/* ---- Shared memory (bpf/shm.bpf.h, src/model/Shm.cpp) ---- */

/* What a shared-memory record says happened, in the process of hdr.tgid. */
enum ipctop_shm_op {
	IPCTOP_SHM_GET = 1,    /* shmget returned ino (the shmid); key, size, flags are its arguments */
	IPCTOP_SHM_ATTACH = 2, /* shmat of shmid ino at addr, or a MAP_SHARED mmap of a shm file at addr */
	IPCTOP_SHM_DETACH = 3, /* shmdt(addr) succeeded */
	IPCTOP_SHM_RMID = 4,   /* shmctl(ino, IPC_RMID) succeeded */
};

#define IPCTOP_SHM_NAME_LEN 64

/*
 * One shared-memory lifecycle event. SysV segments are identified by their
 * shmid (ino; dev 0), POSIX ones (files on tmpfs or hugetlbfs mapped
 * MAP_SHARED: /dev/shm, memfd) by the file's inode and device.
 */
struct ipctop_rec_shm {
	struct ipctop_rec_hdr hdr;
	__u32 op;   /* enum ipctop_shm_op */
	__u32 kind; /* IPCTOP_KIND_SYSV_SHM or IPCTOP_KIND_POSIX_SHM */
	__u64 ino;
	__u32 dev;  /* kernel dev_t (major << 20 | minor) */
	__s32 key;  /* shmget's key */
	__u64 size; /* shmget's size; mmap: the file's size */
	__u64 addr;
	__u64 len;  /* mmap's length */
	__u32 flags; /* shmget's shmflg, shmat's shmflg, mmap's flags */
	__u32 pad;
	char name[IPCTOP_SHM_NAME_LEN]; /* mmap: the file's name (dentry), raw bytes */
};

/* ---- Descriptors passed over unix sockets (bpf/scm.bpf.h, src/model/FdPass.cpp) ---- */

/*
 * A file descriptor the task hdr.tgid/hdr.tid received with SCM_RIGHTS
 * (seen when its recvmsg or recvmmsg returned), and the channel behind it,
 * named as the flows name it: a pipe by its inode (dev 0), a FIFO or a file
 * by inode and device, a unix socket by its own inode (the channel it
 * receives on) and peer_ino (its connected peer's: the channel it sends
 * into), a shared memory file (tmpfs, hugetlbfs) by inode and device as
 * struct ipctop_rec_shm does.
 */
struct ipctop_rec_fd {
	struct ipctop_rec_hdr hdr;
	__u32 fd;     /* the descriptor number in the receiver */
	__u32 kind;   /* enum ipctop_kind */
	__u64 ino;
	__u64 peer_ino; /* unix sockets: the connected peer's inode, else 0 */
	__u32 dev;    /* kernel dev_t (major << 20 | minor); 0 for pipes and sockets */
	__u32 f_mode; /* the file's f_mode: 1 readable, 2 writable */
	__u32 flags;  /* the receive call's flags (MSG_CMSG_CLOEXEC: closed at exec) */
	__u32 pad;
	__u64 size;   /* shared memory files: the file's size */
	char name[IPCTOP_SHM_NAME_LEN]; /* shared memory files: the dentry's name, raw bytes */
};

/*
 * Wakeups on shared memory are flows (struct ipctop_flow_key) of kind
 * SYSV_SHM or POSIX_SHM with bytes 0 and one message per wakeup: chan_ino is
 * the shmid (chan_dev 0), the semaphore set's semid (chan_dev
 * IPCTOP_SHM_DEV_SEMSET), or the POSIX file's inode (chan_dev its device).
 */
#define IPCTOP_SHM_DEV_SEMSET 1

/*
 * Signals are flows of kind SIGNAL: chan_ino is the signal number, chan_dev
 * what became of it (enum ipctop_sig_result), src the sender (tid 0 when it
 * was sent from interrupt context, by the kernel), dst the task it was sent
 * to, dst_cpu the CPU that task last ran on.
 */
enum ipctop_sig_result {
	IPCTOP_SIG_DELIVERED = 0, /* queued for the target (also without its siginfo) */
	IPCTOP_SIG_IGNORED = 1,   /* discarded: ignored by the target */
	IPCTOP_SIG_COALESCED = 2, /* discarded: the same standard signal was already pending */
	IPCTOP_SIG_OVERFLOW = 3,  /* discarded: the real-time signal queue was full */
};

/* ---- IPC failures (bpf/failures.bpf.h, src/model/Failures.cpp) ---- */

/* The syscalls whose failures are diagnosed, independent of the arch. */
enum ipctop_fail_sys {
	IPCTOP_FAIL_SHMGET = 1,
	IPCTOP_FAIL_SHMAT,
	IPCTOP_FAIL_MSGGET,
	IPCTOP_FAIL_MSGSND,
	IPCTOP_FAIL_MQ_OPEN,
	IPCTOP_FAIL_MQ_TIMEDSEND,
	IPCTOP_FAIL_PIPE,
	IPCTOP_FAIL_PIPE2,
	IPCTOP_FAIL_FCNTL, /* F_SETPIPE_SZ only */
	IPCTOP_FAIL_SOCKET,
	IPCTOP_FAIL_SOCKETPAIR,
	IPCTOP_FAIL_ACCEPT,
	IPCTOP_FAIL_ACCEPT4,
	IPCTOP_FAIL_WRITE, /* EAGAIN on a full pipe, FIFO or unix socket */
	IPCTOP_FAIL_WRITEV,
	IPCTOP_FAIL_SENDTO,
	IPCTOP_FAIL_SENDMSG,
	IPCTOP_FAIL_SENDMMSG, /* EAGAIN or blocked, like the write family */
	IPCTOP_FAIL_PWRITEV2,
	IPCTOP_FAIL_SPLICE,   /* blocked only: into a full pipe or socket */
	IPCTOP_FAIL_VMSPLICE,
	IPCTOP_FAIL_TEE,
	IPCTOP_FAIL_SYS_MAX,
};

/*
 * One entry per thread, syscall, errno and channel kind. err is the positive
 * errno, or 0 for a pipe()/pipe2() that succeeded with a shrunk buffer (its
 * user was over fs.pipe-user-pages-soft), or 0 for a write-family call,
 * msgsnd or mq_timedsend that went to sleep because its channel was full
 * (seen at sched_switch; count counts the sleeps).
 */
struct ipctop_fail_key {
	__u32 tgid;
	__u32 tid;
	__u16 sys; /* enum ipctop_fail_sys */
	__u16 err;
	__u32 kind; /* enum ipctop_kind of the fd or queue, for the send calls; else 0 */
};

/*
 * Values at the last failure of the key (0 where they do not apply); count
 * counts failures since user space last read the entry, which it deletes as
 * it reads it (failures are rare: the map stays small without a GC).
 */
struct ipctop_fail_val {
	__u64 count;
	/* Arguments. */
	__u64 size;  /* bytes asked for: shmget size, msgsnd msgsz, F_SETPIPE_SZ
		      * argument, mq_attr.mq_msgsize, mq_timedsend msg_len */
	__u64 nmsg;  /* mq_attr.mq_maxmsg */
	__u64 flags; /* shmflg, msgflg, mq_open oflag, pipe2/accept4 flags, socket type */
	__s64 id;    /* shmid, msqid, fd, mq descriptor, socket domain */
	/* State of the task and of the kernel objects at the failure. */
	__u64 nofile_cur;     /* RLIMIT_NOFILE of the task (EMFILE, ENFILE) */
	__u64 nofile_max;
	__u64 next_fd;        /* lowest fd that may be free: >= nofile_cur means the fd table is full */
	__u64 msgqueue_cur;   /* RLIMIT_MSGQUEUE of the task (mq_open) */
	__u64 msgqueue_max;
	__u64 ids_in_use;     /* shmget, msgget: ids in the IPC namespace; mq_open: POSIX queues */
	__u64 shm_pages;      /* shmget: pages in all segments of the IPC namespace */
	__u64 user_pipe_pages; /* pipe buffers (pages) held by the task's user */
	__u64 chan_used;      /* write family: bytes in flight (sockets), slots in use (pipes);
			       * mq_timedsend: mq_curmsgs */
	__u64 chan_capacity;  /* write family: SO_SNDBUF (sockets) or slots (pipes); pipe shrunk: its
			       * slots; mq_timedsend: mq_maxmsg */
	__u32 uid;
	__u32 attr;           /* mq_open: 1 when an mq_attr was passed */
	char comm[IPCTOP_COMM_LEN];
};

#endif /* IPCTOP_ABI_H */
