/* SPDX-License-Identifier: GPL-2.0 */
/*
 * IPC syscalls that fail, caught at sys_exit (ret < 0), and pipes created
 * shrunk (ret 0 of pipe/pipe2), aggregated per thread, syscall, errno and
 * channel kind with the arguments and kernel state of the last failure.
 * User space (src/model/Failures.cpp) maps each to the limit that most
 * likely caused it.
 *
 * None of this runs for a syscall that returned > 0, and for the ones that
 * returned <= 0 the only cost before leaving is a switch on the syscall
 * number: everything else is on the failure path, so kernel memory is read
 * with BPF_CORE_READ (probe reads), which needs no typed pointer.
 */
#ifndef IPCTOP_FAILURES_BPF_H
#define IPCTOP_FAILURES_BPF_H

/* Deleted by user space as it reads them: only one interval's worth. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	/* Entries are freed after an RCU grace period, so an increment racing
	 * with user space's delete lands in memory that is still valid. */
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct ipctop_fail_key);
	__type(value, struct ipctop_fail_val);
} failures SEC(".maps");

/* Failures not recorded because `failures` was full (monotonic). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} failure_drops SEC(".maps");

#define FAIL_EPERM 1
#define FAIL_EINTR 4
#define FAIL_EAGAIN 11
#define FAIL_EEXIST 17
#define FAIL_ENFILE 23
#define FAIL_EMFILE 24
#define FAIL_ERESTART_FIRST 512 /* ERESTARTSYS..: kernel-internal, restarted */
#define FAIL_F_SETPIPE_SZ 1031
#define FAIL_O_CREAT 0100
#define FAIL_RLIMIT_NOFILE 7
#define FAIL_RLIMIT_MSGQUEUE 12
#define FAIL_IPC_MSG_IDS 1
#define FAIL_IPC_SHM_IDS 2
#define FAIL_PIPE_DEF_BUFFERS 16
#define FAIL_S_IFMT 00170000
#define FAIL_S_IFSOCK 0140000
#define FAIL_S_IFIFO 0010000
#define FAIL_PIPEFS_MAGIC 0x50495045
#define FAIL_AF_UNIX 1
#define FAIL_MQUEUE_MAGIC 0x19800202
#define FAIL_TASK_INTERRUPTIBLE 0x1
#define FAIL_TASK_UNINTERRUPTIBLE 0x2
#define FAIL_PF_KTHREAD 0x00200000

/*
 * Fields read only here. Flavours (___ipctop_fail): CO-RE matches them to
 * the kernel's types by the name before the ___.
 */
#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)
struct fail_rlimit {
	unsigned long rlim_cur;
	unsigned long rlim_max;
};

struct signal_struct___ipctop_fail {
	struct fail_rlimit rlim[16];
};

struct ipc_ids___ipctop_fail {
	int in_use;
};

struct ipc_namespace___ipctop_fail {
	struct ipc_ids___ipctop_fail ids[3];
	unsigned long shm_tot;
	unsigned int mq_queues_count;
};

struct nsproxy___ipctop_fail {
	struct ipc_namespace___ipctop_fail *ipc_ns;
};

struct fail_atomic_long {
	long counter;
};

struct user_struct___ipctop_fail {
	struct fail_atomic_long pipe_bufs;
};

struct cred___ipctop_fail {
	struct user_struct___ipctop_fail *user;
};

struct files_struct___ipctop_fail {
	unsigned int next_fd;
};

struct task_struct___ipctop_fail {
	unsigned int flags;
	struct signal_struct___ipctop_fail *signal;
	const struct cred___ipctop_fail *cred;
	struct nsproxy___ipctop_fail *nsproxy;
	struct files_struct___ipctop_fail *files;
};

struct pipe_inode_info___ipctop_fail {
	unsigned int head;
	unsigned int tail;
	unsigned int max_usage;
	struct user_struct___ipctop_fail *user;
};

struct fail_atomic {
	int counter;
};

struct fail_refcount {
	struct fail_atomic refs;
};

struct sock___ipctop_fail {
	int sk_sndbuf;
	struct fail_refcount sk_wmem_alloc;
};

/* ipc/mqueue.c: a POSIX queue's inode is embedded in its info. */
struct mq_attr___ipctop_fail {
	long mq_maxmsg;
	long mq_msgsize;
	long mq_curmsgs;
};

struct mqueue_inode_info___ipctop_fail {
	struct mq_attr___ipctop_fail attr;
	struct inode vfs_inode;
};
#pragma clang attribute pop

/* The POSIX mq_attr of the user ABI (LP64). */
struct fail_mq_attr {
	long mq_flags;
	long mq_maxmsg;
	long mq_msgsize;
	long mq_curmsgs;
};

static __always_inline struct task_struct___ipctop_fail *fail_task(void)
{
	return (struct task_struct___ipctop_fail *)bpf_get_current_task();
}

/* The struct file behind `fd` of the current task, or NULL. */
static __always_inline struct file *fail_fd_file(long fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds;
	struct file *f = NULL;

	if (!fdt || fd < 0 || (unsigned long)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

/* A pipe's or FIFO's pipe_inode_info, or NULL for anything else. */
static __always_inline struct pipe_inode_info___ipctop_fail *fail_pipe_of(struct file *f,
									 __u32 *kind)
{
	unsigned short mode = BPF_CORE_READ(f, f_inode, i_mode);

	if ((mode & FAIL_S_IFMT) != FAIL_S_IFIFO)
		return NULL;
	*kind = BPF_CORE_READ(f, f_inode, i_sb, s_magic) == FAIL_PIPEFS_MAGIC ?
		IPCTOP_KIND_PIPE : IPCTOP_KIND_FIFO;
	return BPF_CORE_READ(f, private_data);
}

static __always_inline void fail_files(struct ipctop_fail_val *v)
{
	struct task_struct___ipctop_fail *t = fail_task();

	v->nofile_cur = BPF_CORE_READ(t, signal, rlim[FAIL_RLIMIT_NOFILE].rlim_cur);
	v->nofile_max = BPF_CORE_READ(t, signal, rlim[FAIL_RLIMIT_NOFILE].rlim_max);
	v->next_fd = BPF_CORE_READ(t, files, next_fd);
}

static __always_inline __u64 fail_user_pipe_pages(void)
{
	return BPF_CORE_READ(fail_task(), cred, user, pipe_bufs.counter);
}

static __always_inline struct ipc_namespace___ipctop_fail *fail_ipc_ns(void)
{
	return BPF_CORE_READ(fail_task(), nsproxy, ipc_ns);
}

/*
 * Channel state of a write that found the channel full: a pipe's slots, or a
 * unix socket's bytes in flight against its send buffer. Returns false for
 * anything else (TCP, files).
 */
static __always_inline bool fail_full_channel(long fd, __u32 *kind, struct ipctop_fail_val *v)
{
	struct file *f = fail_fd_file(fd);
	struct pipe_inode_info___ipctop_fail *pipe;
	unsigned short mode;

	if (!f)
		return false;
	pipe = fail_pipe_of(f, kind);
	if (pipe) {
		v->chan_capacity = BPF_CORE_READ(pipe, max_usage);
		v->chan_used = (__u32)(BPF_CORE_READ(pipe, head) - BPF_CORE_READ(pipe, tail));
		v->user_pipe_pages = BPF_CORE_READ(pipe, user, pipe_bufs.counter);
		return true;
	}
	mode = BPF_CORE_READ(f, f_inode, i_mode);
	if ((mode & FAIL_S_IFMT) != FAIL_S_IFSOCK)
		return false;

	struct socket *sock = BPF_CORE_READ(f, private_data);
	struct sock *sk = BPF_CORE_READ(sock, sk);
	struct sock___ipctop_fail *fsk = (void *)sk;

	if (!sk || BPF_CORE_READ(sk, __sk_common.skc_family) != FAIL_AF_UNIX)
		return false;
	switch (BPF_CORE_READ(sk, sk_type)) {
	case 1: /* SOCK_STREAM */
		*kind = IPCTOP_KIND_UNIX_STREAM;
		break;
	case 2: /* SOCK_DGRAM */
		*kind = IPCTOP_KIND_UNIX_DGRAM;
		break;
	case 5: /* SOCK_SEQPACKET */
		*kind = IPCTOP_KIND_UNIX_SEQPACKET;
		break;
	default:
		return false;
	}
	v->chan_capacity = (__u32)BPF_CORE_READ(fsk, sk_sndbuf);
	/* sk_wmem_alloc starts at 1 (a reference), then counts skb truesize:
	 * the bytes in flight are one less (sk_wmem_alloc_get()). */
	v->chan_used = (__u32)(BPF_CORE_READ(fsk, sk_wmem_alloc.refs.counter) - 1);
	return true;
}

/*
 * A POSIX queue's attributes behind descriptor `fd`: capacity (mq_maxmsg)
 * and messages queued (mq_curmsgs). False if `fd` is not a queue.
 */
static __always_inline bool fail_mq_state(long fd, struct ipctop_fail_val *v)
{
	struct file *f = fail_fd_file(fd);
	struct inode *inode;
	struct mqueue_inode_info___ipctop_fail *info;

	if (!f)
		return false;
	inode = BPF_CORE_READ(f, f_inode);
	if (!inode || BPF_CORE_READ(inode, i_sb, s_magic) != FAIL_MQUEUE_MAGIC)
		return false;
	info = (void *)((char *)inode -
			bpf_core_field_offset(struct mqueue_inode_info___ipctop_fail, vfs_inode));
	v->chan_capacity = BPF_CORE_READ(info, attr.mq_maxmsg);
	v->chan_used = BPF_CORE_READ(info, attr.mq_curmsgs);
	return true;
}

static __always_inline void fail_commit(struct ipctop_fail_key *k, struct ipctop_fail_val *v)
{
	struct ipctop_fail_val *cur;
	__u32 zero = 0;
	long err;

	v->uid = (__u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(v->comm, sizeof(v->comm));
	cur = bpf_map_lookup_elem(&failures, k);
	if (!cur) {
		v->count = 1;
		err = bpf_map_update_elem(&failures, k, v, BPF_NOEXIST);
		if (!err)
			return;
		/* EEXIST: another CPU inserted it first; add to its entry. */
		if (err == -FAIL_EEXIST)
			cur = bpf_map_lookup_elem(&failures, k);
		if (!cur) {
			__u64 *drops = bpf_map_lookup_elem(&failure_drops, &zero);

			if (drops)
				*drops += 1;
			return;
		}
	}
	v->count = 0;
	__builtin_memcpy((char *)cur + sizeof(cur->count), (char *)v + sizeof(v->count),
			 sizeof(*v) - sizeof(v->count));
	__sync_fetch_and_add(&cur->count, 1);
}

/* pipe()/pipe2() succeeded: was the pipe created shrunk? */
static __noinline int fail_pipe_created(struct pt_regs *regs, __u32 sys)
{
	struct ipctop_fail_key k = { .sys = (__u16)sys };
	struct ipctop_fail_val v = {};
	struct pipe_inode_info___ipctop_fail *pipe;
	int fds[2] = { -1, -1 };
	__u64 id;

	if (bpf_probe_read_user(fds, sizeof(fds), (void *)syscall_arg(regs, 0)))
		return 0;
	struct file *f = fail_fd_file(fds[0]);

	if (!f)
		return 0;
	pipe = BPF_CORE_READ(f, private_data);
	v.chan_capacity = BPF_CORE_READ(pipe, max_usage);
	if (!v.chan_capacity || v.chan_capacity >= FAIL_PIPE_DEF_BUFFERS)
		return 0;
	v.user_pipe_pages = BPF_CORE_READ(pipe, user, pipe_bufs.counter);
	v.id = fds[0];
	if (sys == IPCTOP_FAIL_PIPE2)
		v.flags = syscall_arg(regs, 1);
	id = bpf_get_current_pid_tgid();
	k.tgid = id >> 32;
	k.tid = (__u32)id;
	k.kind = IPCTOP_KIND_PIPE;
	fail_commit(&k, &v);
	return 0;
}

/* A diagnosed syscall failed with errno `err`. */
static __noinline int fail_syscall(struct pt_regs *regs, __u32 sys, int err)
{
	struct ipctop_fail_key k = { .sys = (__u16)sys, .err = (__u16)err };
	struct ipctop_fail_val v = {};
	struct ipc_namespace___ipctop_fail *ns;
	struct task_struct___ipctop_fail *t;
	__u64 id;

	switch (sys) {
	case IPCTOP_FAIL_SHMGET: /* shmget(key, size, shmflg) */
		v.id = (int)syscall_arg(regs, 0);
		v.size = syscall_arg(regs, 1);
		v.flags = (unsigned int)syscall_arg(regs, 2);
		ns = fail_ipc_ns();
		v.ids_in_use = (__u32)BPF_CORE_READ(ns, ids[FAIL_IPC_SHM_IDS].in_use);
		v.shm_pages = BPF_CORE_READ(ns, shm_tot);
		break;
	case IPCTOP_FAIL_SHMAT: /* shmat(shmid, addr, shmflg) */
		v.id = (int)syscall_arg(regs, 0);
		v.flags = (unsigned int)syscall_arg(regs, 2);
		break;
	case IPCTOP_FAIL_MSGGET: /* msgget(key, msgflg) */
		v.id = (int)syscall_arg(regs, 0);
		v.flags = (unsigned int)syscall_arg(regs, 1);
		ns = fail_ipc_ns();
		v.ids_in_use = (__u32)BPF_CORE_READ(ns, ids[FAIL_IPC_MSG_IDS].in_use);
		break;
	case IPCTOP_FAIL_MSGSND: /* msgsnd(msqid, msgp, msgsz, msgflg) */
		v.id = (int)syscall_arg(regs, 0);
		v.size = syscall_arg(regs, 2);
		v.flags = (unsigned int)syscall_arg(regs, 3);
		break;
	case IPCTOP_FAIL_MQ_OPEN: { /* mq_open(name, oflag, mode, attr) */
		unsigned long uattr = syscall_arg(regs, 3);
		struct fail_mq_attr attr = {};

		v.flags = (unsigned int)syscall_arg(regs, 1);
		if ((v.flags & FAIL_O_CREAT) && uattr &&
		    !bpf_probe_read_user(&attr, sizeof(attr), (void *)uattr)) {
			v.attr = 1;
			v.nmsg = attr.mq_maxmsg;
			v.size = attr.mq_msgsize;
		}
		t = fail_task();
		v.msgqueue_cur = BPF_CORE_READ(t, signal, rlim[FAIL_RLIMIT_MSGQUEUE].rlim_cur);
		v.msgqueue_max = BPF_CORE_READ(t, signal, rlim[FAIL_RLIMIT_MSGQUEUE].rlim_max);
		v.ids_in_use = BPF_CORE_READ(fail_ipc_ns(), mq_queues_count);
		fail_files(&v);
		break;
	}
	case IPCTOP_FAIL_MQ_TIMEDSEND: /* mq_timedsend(mqdes, msg, msg_len, prio, timeout) */
		v.id = (int)syscall_arg(regs, 0);
		v.size = syscall_arg(regs, 2);
		if (fail_mq_state(v.id, &v))
			k.kind = IPCTOP_KIND_POSIX_MQ;
		break;
	case IPCTOP_FAIL_PIPE:
	case IPCTOP_FAIL_PIPE2: /* pipe2(fds, flags) */
		if (sys == IPCTOP_FAIL_PIPE2)
			v.flags = (unsigned int)syscall_arg(regs, 1);
		v.user_pipe_pages = fail_user_pipe_pages();
		fail_files(&v);
		break;
	case IPCTOP_FAIL_FCNTL: { /* fcntl(fd, F_SETPIPE_SZ, size) */
		struct file *f;
		__u32 kind = 0;

		v.id = (int)syscall_arg(regs, 0);
		v.size = (unsigned int)syscall_arg(regs, 2);
		f = fail_fd_file(v.id);
		struct pipe_inode_info___ipctop_fail *pipe = f ? fail_pipe_of(f, &kind) : NULL;

		k.kind = kind;
		if (pipe) {
			v.chan_capacity = BPF_CORE_READ(pipe, max_usage);
			v.chan_used = (__u32)(BPF_CORE_READ(pipe, head) - BPF_CORE_READ(pipe, tail));
			v.user_pipe_pages = BPF_CORE_READ(pipe, user, pipe_bufs.counter);
		} else {
			v.user_pipe_pages = fail_user_pipe_pages();
		}
		break;
	}
	case IPCTOP_FAIL_SOCKET:
	case IPCTOP_FAIL_SOCKETPAIR: /* socket(domain, type, protocol) */
		v.id = (int)syscall_arg(regs, 0);
		v.flags = (unsigned int)syscall_arg(regs, 1);
		fail_files(&v);
		break;
	case IPCTOP_FAIL_ACCEPT:
	case IPCTOP_FAIL_ACCEPT4: /* accept4(fd, addr, addrlen, flags) */
		v.id = (int)syscall_arg(regs, 0);
		if (sys == IPCTOP_FAIL_ACCEPT4)
			v.flags = (unsigned int)syscall_arg(regs, 3);
		fail_files(&v);
		break;
	default: { /* the write family: EAGAIN, fd in the first argument */
		__u32 kind = 0;

		v.id = (int)syscall_arg(regs, 0);
		if (sys == IPCTOP_FAIL_WRITE || sys == IPCTOP_FAIL_SENDTO)
			v.size = syscall_arg(regs, 2);
		if (!fail_full_channel(v.id, &kind, &v))
			return 0;
		k.kind = kind;
		break;
	}
	}
	id = bpf_get_current_pid_tgid();
	k.tgid = id >> 32;
	k.tid = (__u32)id;
	fail_commit(&k, &v);
	return 0;
}

/*
 * Every syscall that returned <= 0. Leaves after one switch unless the
 * syscall is one whose failure is diagnosed (or a pipe was just created).
 */
static __always_inline int on_syscall_failure(struct pt_regs *regs, long ret)
{
	long nr = syscall_nr(regs);
	int err = (int)-ret;
	__u32 sys;

	if (ret == 0) {
#ifdef NR_pipe
		if (nr == NR_pipe)
			return fail_pipe_created(regs, IPCTOP_FAIL_PIPE);
#endif
		if (nr == NR_pipe2)
			return fail_pipe_created(regs, IPCTOP_FAIL_PIPE2);
		return 0;
	}
	if (err == FAIL_EINTR || err >= FAIL_ERESTART_FIRST)
		return 0;
	switch (nr) {
	case NR_shmget: sys = IPCTOP_FAIL_SHMGET; break;
	case NR_shmat: sys = IPCTOP_FAIL_SHMAT; break;
	case NR_msgget: sys = IPCTOP_FAIL_MSGGET; break;
	case NR_msgsnd: sys = IPCTOP_FAIL_MSGSND; break;
	case NR_mq_open: sys = IPCTOP_FAIL_MQ_OPEN; break;
	case NR_mq_timedsend: sys = IPCTOP_FAIL_MQ_TIMEDSEND; break;
	case NR_fcntl:
		if (syscall_arg(regs, 1) != FAIL_F_SETPIPE_SZ)
			return 0;
		sys = IPCTOP_FAIL_FCNTL;
		break;
#ifdef NR_pipe
	case NR_pipe:
#endif
	case NR_pipe2:
	case NR_socket:
	case NR_socketpair:
	case NR_accept:
	case NR_accept4:
		/* Only running out of file descriptors or files is a limit. */
		if (err != FAIL_EMFILE && err != FAIL_ENFILE)
			return 0;
		switch (nr) {
#ifdef NR_pipe
		case NR_pipe: sys = IPCTOP_FAIL_PIPE; break;
#endif
		case NR_pipe2: sys = IPCTOP_FAIL_PIPE2; break;
		case NR_socket: sys = IPCTOP_FAIL_SOCKET; break;
		case NR_socketpair: sys = IPCTOP_FAIL_SOCKETPAIR; break;
		case NR_accept: sys = IPCTOP_FAIL_ACCEPT; break;
		default: sys = IPCTOP_FAIL_ACCEPT4; break;
		}
		break;
	case NR_write:
	case NR_writev:
	case NR_sendto:
	case NR_sendmsg:
	case NR_sendmmsg:
	case NR_pwritev2:
		/* A full channel on a non-blocking fd. */
		if (err != FAIL_EAGAIN)
			return 0;
		sys = nr == NR_write ? IPCTOP_FAIL_WRITE :
		      nr == NR_writev ? IPCTOP_FAIL_WRITEV :
		      nr == NR_sendto ? IPCTOP_FAIL_SENDTO :
		      nr == NR_sendmsg ? IPCTOP_FAIL_SENDMSG :
		      nr == NR_sendmmsg ? IPCTOP_FAIL_SENDMMSG : IPCTOP_FAIL_PWRITEV2;
		break;
	default:
		return 0;
	}
	return fail_syscall(regs, sys, err);
}

/*
 * `current` (still the task being switched out) sleeps in a send syscall
 * that sleeps interruptibly only when its channel is full: record it as
 * blocked (err 0) with the channel's state. Why each sleep means full:
 * - pipe_write() waits on wr_wait only while pipe_full(); taking the pipe
 *   mutex sleeps uninterruptibly, and is filtered out before this;
 * - unix sockets: sock_alloc_send_pskb() waits while the sender's
 *   sk_wmem_alloc >= sk_sndbuf (bytes in flight to the reader), and a
 *   datagram sender waits in unix_wait_for_peer() while the receiver holds
 *   net.unix.max_dgram_qlen datagrams; lock_sock() is uninterruptible;
 * - do_msgsnd() sleeps only when the message does not fit in msg_qbytes;
 * - mq_timedsend() sleeps in wq_sleep() only when mq_curmsgs == mq_maxmsg;
 * - splice, tee and vmsplice also sleep on an empty input pipe: for them the
 *   output must be full at the switch too.
 * Other fds (terminals, TCP, files) are left out by the channel lookup.
 */
static __noinline int fail_blocked(struct pt_regs *regs, __u32 sys)
{
	struct ipctop_fail_key k = { .sys = (__u16)sys };
	struct ipctop_fail_val v = {};
	__u32 kind = 0;
	__u64 id;

	v.id = (int)syscall_arg(regs, 0);
	switch (sys) {
	case IPCTOP_FAIL_MSGSND: /* msgsnd(msqid, msgp, msgsz, msgflg) */
		v.size = syscall_arg(regs, 2);
		v.flags = (unsigned int)syscall_arg(regs, 3);
		kind = IPCTOP_KIND_SYSV_MSG;
		break;
	case IPCTOP_FAIL_MQ_TIMEDSEND: /* mq_timedsend(mqdes, msg, msg_len, ...) */
		v.size = syscall_arg(regs, 2);
		if (!fail_mq_state(v.id, &v))
			return 0;
		kind = IPCTOP_KIND_POSIX_MQ;
		break;
	case IPCTOP_FAIL_SPLICE: /* splice(fd_in, off_in, fd_out, off_out, len, flags) */
	case IPCTOP_FAIL_TEE:    /* tee(fd_in, fd_out, len, flags) */
	case IPCTOP_FAIL_VMSPLICE: /* vmsplice(fd, iov, nr_segs, flags) */
		if (sys == IPCTOP_FAIL_SPLICE)
			v.id = (int)syscall_arg(regs, 2);
		if (sys == IPCTOP_FAIL_TEE) {
			v.id = (int)syscall_arg(regs, 1);
			v.size = syscall_arg(regs, 2);
		}
		/* These also sleep on an empty input: only a full output
		 * counts (and vmsplice's fd may be the pipe's read end). */
		if (!fail_full_channel(v.id, &kind, &v) || v.chan_used < v.chan_capacity)
			return 0;
		break;
	default:
		if (sys == IPCTOP_FAIL_WRITE || sys == IPCTOP_FAIL_SENDTO)
			v.size = syscall_arg(regs, 2);
		if (!fail_full_channel(v.id, &kind, &v))
			return 0;
		/* Full at the switch, too: an interruptible sleep of another
		 * kind (a userfaultfd page fault while copying the data) is
		 * not a full channel. A datagram sender waiting for its
		 * receiver's queue has room in its own buffer. */
		if (v.chan_used < v.chan_capacity && kind != IPCTOP_KIND_UNIX_DGRAM &&
		    kind != IPCTOP_KIND_UNIX_SEQPACKET)
			return 0;
		break;
	}
	id = bpf_get_current_pid_tgid();
	k.tgid = id >> 32;
	k.tid = (__u32)id;
	k.kind = kind;
	fail_commit(&k, &v);
	return 0;
}

/*
 * sched_switch: is `prev` going to sleep because the channel it sends on is
 * full? Most switches leave after a load or two: preemptions, running and
 * uninterruptible tasks, kernel threads; then the syscall number of the
 * user task (bpf_task_pt_regs, a plain load) and a switch.
 */
static __always_inline void on_block(bool preempt, struct task_struct *prev)
{
	struct task_struct___ipctop_fail *t = (void *)prev;
	struct pt_regs *regs;
	__u32 sys;

	if (preempt ||
	    (task_state(prev) & (FAIL_TASK_INTERRUPTIBLE | FAIL_TASK_UNINTERRUPTIBLE)) !=
		    FAIL_TASK_INTERRUPTIBLE)
		return;
	if (KREAD(t, flags) & FAIL_PF_KTHREAD)
		return;
	regs = (struct pt_regs *)bpf_task_pt_regs(prev);
	if (!regs)
		return;
	switch (syscall_nr(regs)) {
	case NR_write: sys = IPCTOP_FAIL_WRITE; break;
	case NR_writev: sys = IPCTOP_FAIL_WRITEV; break;
	case NR_sendto: sys = IPCTOP_FAIL_SENDTO; break;
	case NR_sendmsg: sys = IPCTOP_FAIL_SENDMSG; break;
	case NR_msgsnd: sys = IPCTOP_FAIL_MSGSND; break;
	case NR_mq_timedsend: sys = IPCTOP_FAIL_MQ_TIMEDSEND; break;
	case NR_sendmmsg: sys = IPCTOP_FAIL_SENDMMSG; break;
	case NR_pwritev2: sys = IPCTOP_FAIL_PWRITEV2; break;
	case NR_splice: sys = IPCTOP_FAIL_SPLICE; break;
	case NR_vmsplice: sys = IPCTOP_FAIL_VMSPLICE; break;
	case NR_tee: sys = IPCTOP_FAIL_TEE; break;
	default: return;
	}
	fail_blocked(regs, sys);
}

#endif
