/* SPDX-License-Identifier: GPL-2.0 */
/*
 * SysV message queues (msgsnd/msgrcv) and POSIX message queues
 * (mq_timedsend/mq_timedreceive), at sys_exit like the other data syscalls.
 * A send appends one message to the queue's attribution queue, a receive
 * consumes one: datagram matching in FIFO order, bytes from the receive's
 * return value (the message text it got). msgsnd and mq_timedsend return 0:
 * the size sent is their msgsz / msg_len argument, used only when a receive
 * ran first and waits for its sender.
 *
 * The kernel's own order is FIFO per queue for SysV msgrcv with msgtyp 0
 * and for POSIX queues whose messages share one priority; a msgtyp selection
 * or mixed priorities reorder messages, and then the sender a message is
 * credited to may be another sender of the same queue (per-receiver bytes
 * and messages stay exact; see the README).
 */
#ifndef IPCTOP_MSGQ_BPF_H
#define IPCTOP_MSGQ_BPF_H

static __always_inline void msgq_match(struct chan *c, enum dir dir, __u64 bytes)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct party me = {
		.tgid = id >> 32,
		.tid = (__u32)id,
		.cpu = bpf_get_smp_processor_id(),
	};

	c->messages = true;
	c->q.kind = c->kind;
	match_op(c, &me, dir, bytes, 1);
}

/*
 * A SysV message sent to or received from queue `msqid`. The queue is keyed
 * by msqid and the IPC namespace, so queues of two containers stay apart.
 */
static __always_inline void on_sysv_msg(long msqid, enum dir dir, __u64 bytes)
{
	struct chan c = {
		.q = { .obj = (__u32)msqid, .dev = KREAD(current_task(), nsproxy, ipc_ns, ns.inum) },
		.ino = (__u32)msqid,
		.kind = IPCTOP_KIND_SYSV_MSG,
	};

	if (msqid < 0 || !bytes)
		return;
	msgq_match(&c, dir, bytes);
}

/* A POSIX message sent to or received from the queue open as `fd`. */
static __always_inline void on_posix_mq(unsigned long fd, enum dir dir, __u64 bytes)
{
	struct file *f = fd_file(current_task(), fd);
	struct chan c = { .kind = IPCTOP_KIND_POSIX_MQ };

	if (!f || !bytes)
		return;
	if (bpf_rdonly_cast) {
		struct file *typed = bpf_rdonly_cast(f, bpf_core_type_id_kernel(struct file));

		c.ino = typed->f_inode->i_ino;
		c.dev = typed->f_inode->i_sb->s_dev;
	} else {
		c.ino = BPF_CORE_READ(f, f_inode, i_ino);
		c.dev = BPF_CORE_READ(f, f_inode, i_sb, s_dev);
	}
	c.q.obj = c.ino;
	c.q.dev = c.dev;
	msgq_match(&c, dir, bytes);
}

/*
 * msgsnd and mq_timedsend return 0 on success: handle_sys_exit sends each
 * return of 0 here first. Returns true when the syscall was one of them.
 */
static __always_inline bool on_message_sent(struct pt_regs *regs)
{
	long nr = syscall_nr(regs);

	if (nr == NR_msgsnd) {
		on_sysv_msg((int)syscall_arg(regs, 0), DIR_SEND, syscall_arg(regs, 2));
		return true;
	}
	if (nr == NR_mq_timedsend) {
		on_posix_mq(syscall_arg(regs, 0), DIR_SEND, syscall_arg(regs, 2));
		return true;
	}
	return false;
}

#endif
