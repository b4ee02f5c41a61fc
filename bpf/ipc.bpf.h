/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Data movement over pipes, FIFOs and unix sockets.
 *
 * Byte counts come from syscall return values at sys_exit. Each channel
 * direction has an attribution queue (struct ipctop_queue): a write appends a
 * segment (writer, CPU, bytes), a read consumes segments in FIFO order and
 * credits a flow writer -> reader for each. Whichever side's syscall exit is
 * seen second completes the match, so a reader that runs before its writer's
 * sys_exit (common across CPUs) still gets the right writer.
 *
 * Streams (pipe, FIFO, unix stream) match bytes. Message sockets (unix dgram
 * and seqpacket) match one datagram per receive; the receive is seen at
 * skb_copy_datagram_iovec, where skb->sk is the sending socket (unix skbs are
 * charged to the sender), so unconnected senders are joined too.
 */
#ifndef IPCTOP_IPC_BPF_H
#define IPCTOP_IPC_BPF_H

#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define S_IFIFO 0010000
#define PIPEFS_MAGIC 0x50495045
#define FMODE_WRITE 0x2
#define AF_UNIX 1
#define SOCK_STREAM 1
#define SOCK_DGRAM 2
#define SOCK_SEQPACKET 5
#define MSG_PEEK 2
#define S_IFREG 0100000
#define AF_INET 2
#define AF_INET6 10

/* What an fd resolves to (resolve.bpf.h). */
enum res { RES_NONE = 0, RES_CHAN, RES_INET, RES_FILE };

/*
 * Set by the loader (--files) before load: the verifier drops the regular
 * file path entirely when it is off. In its own section so the loader finds
 * it at offset 0 whatever else is read-only.
 */
const volatile bool files_enabled SEC(".rodata.files") = false;

/*
 * Set by the loader when the fexit variant of the pipe data path (pipe.bpf.h)
 * is loaded and attached: reads and writes of pipes and FIFOs are then
 * counted there, and transfer() leaves them alone so nothing counts twice.
 * splice, tee, vmsplice and sendfile move pipe data without the kernel's
 * pipe read and write functions: they say so with XFER_SPLICE and stay here.
 */
const volatile bool pipe_fexit SEC(".rodata.pipe") = false;
#define XFER_SPLICE 0x100
#define XFER_DIR 0xff

/* struct mmsghdr in the user ABI (LP64): 56-byte msghdr, then msg_len. */
#define MMSGHDR_SIZE 64
#define MMSGHDR_LEN_OFF 56
#define MMSG_MAX 64

#define MATCH_ROUNDS IPCTOP_QUEUE_SEGS
#define SEG_MASK (IPCTOP_QUEUE_SEGS - 1)

enum dir { DIR_SEND = 0, DIR_RECV = 1 };

struct party {
	__u32 tgid;
	__u32 tid;
	__u32 cpu;
};

struct match {
	__u32 src_tgid, src_tid, src_cpu;
	__u32 dst_tgid, dst_tid, dst_cpu;
	__u64 bytes;
	__u64 msgs;
	__u64 chan_ino;
};

struct chan {
	struct ipctop_queue_key q;
	__u64 ino; /* the receiving object's inode; 0 when the sender cannot know it */
	__u32 dev;
	__u32 kind;
	bool messages; /* datagram semantics */
	bool net; /* TCP, UDP: the addresses (conn_scratch) are noted with each new flow */
};

/*
 * The struct file behind `fd`, as an address (a number to the verifier).
 * The fd array is a double pointer, which the verifier does not type; where
 * bpf_rdonly_cast exists the 8-byte slot is read as the first member of a
 * struct timespec64 (a 64-bit integer at offset 0 on every kernel, checked
 * by CO-RE): a plain load where a probe read would cost a helper call on
 * every IPC syscall.
 */
static __always_inline struct file *fd_file(struct task_struct *task, unsigned long fd)
{
	struct fdtable *fdt = KREAD(task, files, fdt);
	struct file **fds;
	struct file *f = NULL;

	if (!fdt || fd >= KREAD(fdt, max_fds))
		return NULL;
	fds = KREAD(fdt, fd);
	if (bpf_rdonly_cast && bpf_core_field_offset(struct timespec64, tv_sec) == 0 &&
	    bpf_core_field_size(struct timespec64, tv_sec) == sizeof(f)) {
		struct timespec64 *slot = bpf_rdonly_cast(&fds[fd],
							  bpf_core_type_id_kernel(struct timespec64));

		return (struct file *)slot->tv_sec;
	}
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

#define RESOLVE resolve_direct
#define RD(...) ___arrow(__VA_ARGS__)
#define AS(ptr, type) ((struct type *)bpf_rdonly_cast(ptr, bpf_core_type_id_kernel(struct type)))
#include "resolve.bpf.h"
#undef RESOLVE
#undef RD
#undef AS

#define RESOLVE resolve_probe
#define RD(...) BPF_CORE_READ(__VA_ARGS__)
#define AS(ptr, type) ((struct type *)(ptr))
#include "resolve.bpf.h"
#undef RESOLVE
#undef RD
#undef AS

static __always_inline int resolve(struct file *f, enum dir dir, struct chan *c)
{
	if (bpf_rdonly_cast)
		return resolve_direct(bpf_rdonly_cast(f, bpf_core_type_id_kernel(struct file)), dir, c);
	return resolve_probe(f, dir, c);
}

static __always_inline __u64 file_ino(struct file *f)
{
	if (bpf_rdonly_cast) {
		struct file *typed = bpf_rdonly_cast(f, bpf_core_type_id_kernel(struct file));

		return typed->f_inode->i_ino;
	}
	return BPF_CORE_READ(f, f_inode, i_ino);
}

static __always_inline void note_conn(__u64 chan);

static __always_inline void credit(const struct match *m, const struct chan *c)
{
	struct ipctop_flow_key k = {
		.chan_ino = m->chan_ino,
		.chan_dev = c->dev,
		.kind = c->kind,
		.src_tgid = m->src_tgid,
		.src_tid = m->src_tid,
		.dst_tgid = m->dst_tgid,
		.dst_tid = m->dst_tid,
		.src_cpu = m->src_cpu,
		.dst_cpu = m->dst_cpu,
	};
	struct ipctop_flow_val zero = {};
	struct ipctop_flow_val *v;

	v = bpf_map_lookup_elem(&flows, &k);
	if (!v) {
		/* A new flow of a connection: user space needs its addresses. */
		if (c->net)
			note_conn(m->chan_ino);
		v = lookup_or_init(&flows, &k, &zero, IPCTOP_LOST_FLOW_MAP_FULL);
	}
	if (!v) {
		count(IPCTOP_CNT_UNATTRIBUTED_BYTES, m->bytes);
		count(IPCTOP_CNT_UNATTRIBUTED_MESSAGES, m->msgs);
		return;
	}
	v->bytes += m->bytes;
	v->messages += m->msgs;
}

/*
 * Append a pending segment for `me`. Consecutive segments of one party merge
 * (streams, and datagram sends, which count datagrams in ops). Once the queue
 * is half full, data joins the party's own segment wherever it is, so only
 * parties new to the queue take slots: per-party totals stay exact and only
 * the order within the queue is lost. Only more distinct parties than slots
 * overflow into the last segment as an unknown party (tid 0), counted.
 */
static __always_inline void append(struct ipctop_queue *q, const struct party *me,
				   bool reads, bool merge, __u64 bytes, __u32 ops,
				   __u64 chan_ino)
{
	struct ipctop_seg *s;

	if (!q->len)
		q->reads = reads;
	if (merge && q->len) {
		s = &q->seg[(q->head + q->len - 1) & SEG_MASK];
		if (s->tid == me->tid && s->cpu == me->cpu)
			goto add;
	}
	if (merge && q->len >= IPCTOP_QUEUE_SEGS / 2) {
		for (__u32 i = 0; i < IPCTOP_QUEUE_SEGS; i++) {
			if (i >= q->len)
				break;
			s = &q->seg[(q->head + i) & SEG_MASK];
			if (s->tid == me->tid && s->cpu == me->cpu)
				goto add;
		}
	}
	if (q->len >= IPCTOP_QUEUE_SEGS) {
		s = &q->seg[(q->head + q->len - 1) & SEG_MASK];
		s->tgid = 0;
		s->tid = 0;
		q->overflow++; /* counted outside the lock */
		goto add;
	}
	s = &q->seg[(q->head + q->len) & SEG_MASK];
	s->tgid = me->tgid;
	s->tid = me->tid;
	s->cpu = me->cpu;
	s->ops = 0;
	s->bytes = 0;
	s->chan_ino = chan_ino;
	q->len++;
add:
	s->bytes += bytes;
	s->ops += ops;
}

struct match_ctx {
	const struct chan *c;
	const struct party *me;
	struct ipctop_queue *q;
	__u64 bytes;
	__u64 left;
	__u64 epoch;
	__u32 dir;
	__u32 prev_tid;
};

/*
 * One round of matching: under the queue's lock, consume one pending segment
 * of the other side, or append what is left as a pending segment of ours.
 * One segment per round keeps the critical section short; the flow update
 * happens after the unlock. Returns 1 (stop) when nothing is left.
 */
static long match_round(__u32 round, void *data)
{
	struct match_ctx *x = data;
	const struct chan *c = x->c;
	const struct party *me = x->me;
	struct ipctop_queue *q = x->q;
	/* A receive consumes pending writes; a send, pending reads. */
	__u32 want_reads = x->dir == DIR_SEND;
	__u64 left = x->left;
	struct match m;
	bool matched = false;
	__u32 overflow;

	bpf_spin_lock(&q->lock);
	if (q->len && q->reads == want_reads) {
		struct ipctop_seg *s = &q->seg[q->head & SEG_MASK];
		bool pop;

		matched = true;
		if (x->dir == DIR_RECV) {
			m.src_tgid = s->tgid;
			m.src_tid = s->tid;
			m.src_cpu = s->cpu;
			m.dst_tgid = me->tgid;
			m.dst_tid = me->tid;
			m.dst_cpu = me->cpu;
			m.chan_ino = c->ino;
		} else {
			m.src_tgid = me->tgid;
			m.src_tid = me->tid;
			m.src_cpu = me->cpu;
			m.dst_tgid = s->tgid;
			m.dst_tid = s->tid;
			m.dst_cpu = s->cpu;
			m.chan_ino = s->chan_ino;
		}
		if (c->messages) {
			/* A pending write segment counts datagrams; a pending
			 * read is one datagram of known size. */
			m.bytes = x->dir == DIR_RECV ? x->bytes : s->bytes;
			m.msgs = 1;
			left--;
			pop = x->dir == DIR_SEND || --s->ops == 0;
		} else {
			__u64 take = left < s->bytes ? left : s->bytes;

			m.bytes = take;
			if (x->dir == DIR_RECV) {
				/* One message per receive and sender. */
				m.msgs = s->tid != x->prev_tid;
				x->prev_tid = s->tid;
			} else {
				m.msgs = s->ops;
				s->ops = 0;
			}
			s->bytes -= take;
			left -= take;
			pop = s->bytes == 0;
		}
		if (pop) {
			q->head++;
			q->len--;
		}
	} else {
		if (x->dir == DIR_RECV)
			/* A stream receive already credited its message to the
			 * sender of the bytes it matched: the rest of it (bytes
			 * whose send is not seen yet) must not count it again. */
			append(q, me, true, !c->messages, c->messages ? x->bytes : left,
			       c->messages || x->prev_tid == (__u32)-1, c->ino);
		else
			append(q, me, false, true, c->messages ? 0 : left,
			       c->messages ? (__u32)left : 0, 0);
		left = 0;
	}
	overflow = q->overflow;
	q->overflow = 0;
	q->last_epoch = x->epoch;
	bpf_spin_unlock(&q->lock);

	x->left = left;
	if (overflow)
		count(IPCTOP_LOST_QUEUE_OVERFLOW, overflow);
	if (matched)
		credit(&m, c);
	return left ? 0 : 1;
}

/*
 * Match one operation of `me` against the queue: `bytes` of a stream, or
 * `ops` datagrams (`bytes` is then the size of a received datagram).
 */
static __always_inline void match_op(const struct chan *c, const struct party *me,
				     enum dir dir, __u64 bytes, __u32 ops)
{
	__u32 zero = 0;
	void *init = bpf_map_lookup_elem(&queue_zero, &zero);
	__u64 *now = bpf_map_lookup_elem(&epoch, &zero);
	struct match_ctx x = {
		.c = c,
		.me = me,
		.bytes = bytes,
		.left = c->messages ? ops : bytes,
		.dir = dir,
		.prev_tid = (__u32)-1,
	};

	if (!init)
		return;
	x.epoch = now ? *now : 0;
	x.q = bpf_map_lookup_elem(&queues, &c->q);
	if (!x.q) {
		/* A new TCP/UDP channel: note this side's view of its addresses
		 * (the other side's is noted with the flow, see credit()). */
		if (c->net)
			note_conn(c->ino);
		x.q = lookup_or_init(&queues, &c->q, init, IPCTOP_LOST_QUEUE_MAP_FULL);
	}
	if (!x.q) {
		if (dir == DIR_RECV) {
			count(IPCTOP_CNT_UNATTRIBUTED_BYTES, bytes);
			count(IPCTOP_CNT_UNATTRIBUTED_MESSAGES, c->messages ? ops : 1);
		}
		return;
	}
	bpf_loop(MATCH_ROUNDS, match_round, &x, 0);
	if (x.left) {
		/* More pending segments than the rounds can walk. */
		count(IPCTOP_LOST_QUEUE_OVERFLOW, 1);
		if (dir == DIR_RECV) {
			count(IPCTOP_CNT_UNATTRIBUTED_BYTES, c->messages ? bytes : x.left);
			count(IPCTOP_CNT_UNATTRIBUTED_MESSAGES, 1);
		}
	}
}

__noinline int net_transfer(__u64 file, __u32 dir, __u64 bytes, __u32 ops); /* net.bpf.h */
__noinline int file_transfer(__u64 ino, __u32 dev, __u32 dir, __u64 bytes); /* files.bpf.h */

/*
 * One side of a data transfer through `fd` by the current task. A global
 * function: the verifier checks it once, not at each of its call sites.
 * Returns the struct file's address when `fd` is an inet socket (see xfer),
 * else 0.
 */
__noinline long transfer(unsigned long fd, __u32 dir, __u64 bytes, __u32 ops)
{
	bool spliced = dir & XFER_SPLICE;

	dir &= XFER_DIR;
	struct file *f = fd_file(current_task(), fd);
	struct chan c = {};

	/* Most syscalls that get here are not IPC: leave before anything else. */
	if (!f)
		return 0;
	switch (resolve(f, dir, &c)) {
	case RES_CHAN:
		/* Counted at fexit of the pipe functions (pipe.bpf.h). */
		if (pipe_fexit && !spliced &&
		    (c.kind == IPCTOP_KIND_PIPE || c.kind == IPCTOP_KIND_FIFO))
			return 0;
		break;
	case RES_INET:
		/* Handled by the caller (xfer), which keeps the stack of
		 * the call chain within the verifier's limit. */
		return (long)f;
	case RES_FILE:
		return file_transfer(c.ino, c.dev, dir, bytes);
	default:
		return 0;
	}

	__u64 id = bpf_get_current_pid_tgid();
	struct party me = {
		.tgid = id >> 32,
		.tid = (__u32)id,
		.cpu = bpf_get_smp_processor_id(),
	};

	match_op(&c, &me, dir, bytes, ops);
	return 0;
}

/* One side of a transfer through `fd`: a channel, a file, or TCP/UDP. */
static __always_inline void xfer(unsigned long fd, __u32 dir, __u64 bytes, __u32 ops)
{
	long inet_file = transfer(fd, dir, bytes, ops);

	if (inet_file)
		net_transfer(inet_file, dir & XFER_DIR, bytes, ops);
}

/* Sum msg_len over the first `n` entries of a user mmsghdr vector. */
static __always_inline __u64 mmsg_bytes(unsigned long vec, long n)
{
	__u64 sum = 0;

	if (n > MMSG_MAX) {
		count(IPCTOP_LOST_MMSG_TRUNCATED, 1);
		n = MMSG_MAX;
	}
	for (int i = 0; i < MMSG_MAX; i++) {
		__u32 len = 0;

		if (i >= n)
			break;
		bpf_probe_read_user(&len, sizeof(len),
				    (void *)(vec + i * MMSGHDR_SIZE + MMSGHDR_LEN_OFF));
		sum += len;
	}
	return sum;
}

/* Message queues (msgq.bpf.h). */
#define MSG_COPY 040000
static __always_inline void on_sysv_msg(long msqid, enum dir dir, __u64 bytes);
static __always_inline void on_posix_mq(unsigned long fd, enum dir dir, __u64 bytes);

/*
 * Whether the current receive syscall was a unix datagram receive already
 * matched at the skb copy (on_datagram_copy): the same thread on this CPU
 * with no switch since cannot have made another syscall in between. Clears
 * the mark. Otherwise the fd is resolved as usual, which leaves datagram
 * receives alone.
 */
static __always_inline bool dgram_recv_done(__u32 tid)
{
	__u32 zero = 0;
	struct cpu_state *cpu = bpf_map_lookup_elem(&cpu_states, &zero);

	if (!cpu || cpu->dgram_tid != tid || cpu->dgram_seq != cpu->seq)
		return false;
	cpu->dgram_tid = 0;
	return true;
}

/* A receive that returned nothing or failed still ends its mark. */
static __always_inline void dgram_recv_end(struct pt_regs *regs)
{
	switch (syscall_nr(regs)) {
	case NR_read: case NR_readv: case NR_recvfrom: case NR_recvmsg: case NR_preadv2:
	case NR_recvmmsg:
		dgram_recv_done((__u32)bpf_get_current_pid_tgid());
	}
}

static __always_inline void on_syscall_exit(struct pt_regs *regs, long ret)
{
	long nr = syscall_nr(regs);
	unsigned long fd0;

	switch (nr) {
	case NR_read: case NR_readv: case NR_recvfrom: case NR_recvmsg: case NR_preadv2:
		if (!dgram_recv_done((__u32)bpf_get_current_pid_tgid()))
			xfer(syscall_arg(regs, 0), DIR_RECV, ret, 1);
		return;
	case NR_write: case NR_writev: case NR_sendto: case NR_sendmsg: case NR_pwritev2:
		xfer(syscall_arg(regs, 0), DIR_SEND, ret, 1);
		return;
	case NR_recvmmsg: case NR_sendmmsg:
		if (nr == NR_recvmmsg && dgram_recv_done((__u32)bpf_get_current_pid_tgid()))
			return;
		xfer(syscall_arg(regs, 0), nr == NR_recvmmsg ? DIR_RECV : DIR_SEND,
			 mmsg_bytes(syscall_arg(regs, 1), ret), ret);
		return;
	case NR_splice:
		/* splice(fd_in, off_in, fd_out, ...) moves data out of one, into the other. */
		xfer(syscall_arg(regs, 0), DIR_RECV | XFER_SPLICE, ret, 1);
		xfer(syscall_arg(regs, 2), DIR_SEND | XFER_SPLICE, ret, 1);
		return;
	case NR_tee:
		/* tee(fd_in, fd_out, ...) duplicates: nothing is consumed from fd_in. */
		xfer(syscall_arg(regs, 1), DIR_SEND | XFER_SPLICE, ret, 1);
		return;
	case NR_sendfile:
		/* sendfile(out_fd, in_fd, ...) */
		xfer(syscall_arg(regs, 1), DIR_RECV | XFER_SPLICE, ret, 1);
		xfer(syscall_arg(regs, 0), DIR_SEND | XFER_SPLICE, ret, 1);
		return;
	case NR_msgrcv:
		/* MSG_COPY reads a message without removing it. */
		if (!(syscall_arg(regs, 4) & MSG_COPY))
			on_sysv_msg((int)syscall_arg(regs, 0), DIR_RECV, ret);
		return;
	case NR_mq_timedreceive:
		on_posix_mq(syscall_arg(regs, 0), DIR_RECV, ret);
		return;
	case NR_pread64: case NR_preadv:
		/* Only files have offsets: nothing to see without --files. */
		if (files_enabled)
			xfer(syscall_arg(regs, 0), DIR_RECV, ret, 1);
		return;
	case NR_pwrite64: case NR_pwritev:
		if (files_enabled)
			xfer(syscall_arg(regs, 0), DIR_SEND, ret, 1);
		return;
	case NR_vmsplice: {
		struct file *f;

		fd0 = syscall_arg(regs, 0);
		f = fd_file(current_task(), fd0);
		if (f)
			xfer(fd0, (BPF_CORE_READ(f, f_mode) & FMODE_WRITE ? DIR_SEND : DIR_RECV) |
				 XFER_SPLICE, ret, 1);
		return;
	}
	}
}

/*
 * A unix datagram or seqpacket message copied to a receiver. Runs in the
 * receiver's context during its receive syscall; the syscall and its fd come
 * from the task's saved user registers.
 */
static __always_inline void on_datagram_copy(const struct sk_buff *skb, int len)
{
	struct sock *sk = KREAD(skb, sk);
	unsigned short type;

	if (!sk || KREAD(sk, __sk_common.skc_family) != AF_UNIX)
		return;
	type = KREAD(sk, sk_type);
	if (type != SOCK_DGRAM && type != SOCK_SEQPACKET)
		return;

	struct task_struct *task = current_task();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	unsigned long flags;
	__u64 id = bpf_get_current_pid_tgid();
	struct party me = {
		.tgid = id >> 32,
		.tid = (__u32)id,
		.cpu = bpf_get_smp_processor_id(),
	};

	switch (syscall_nr(regs)) {
	case NR_recvmsg:
		flags = syscall_arg(regs, 2);
		break;
	case NR_recvfrom: case NR_recvmmsg:
		flags = syscall_arg(regs, 3);
		break;
	case NR_read: case NR_readv: case NR_preadv2:
		flags = 0;
		break;
	default:
		/* io_uring, splice from a socket: not attributed, but visible. */
		count(IPCTOP_LOST_UNSUPPORTED, 1);
		return;
	}
	if (flags & MSG_PEEK)
		return;

	struct file *f = fd_file(task, syscall_arg(regs, 0));
	struct chan c = {
		.q = { .obj = (__u64)sk, .kind = type == SOCK_DGRAM ?
			IPCTOP_KIND_UNIX_DGRAM : IPCTOP_KIND_UNIX_SEQPACKET },
		.kind = type == SOCK_DGRAM ? IPCTOP_KIND_UNIX_DGRAM : IPCTOP_KIND_UNIX_SEQPACKET,
		.messages = true,
	};

	if (f)
		c.ino = file_ino(f);
	if (len < 0)
		len = 0;
	match_op(&c, &me, DIR_RECV, len, 1);

	__u32 zero = 0;
	struct cpu_state *cpu = bpf_map_lookup_elem(&cpu_states, &zero);

	if (cpu) {
		cpu->dgram_tid = me.tid;
		cpu->dgram_seq = cpu->seq;
	}
}

#endif
