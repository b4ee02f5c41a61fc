/* SPDX-License-Identifier: GPL-2.0 */
/*
 * File descriptors passed over unix sockets (SCM_RIGHTS).
 *
 * The kernel installs the passed files in the receiver during recvmsg
 * (scm_detach_fds -> receive_fd), which has no tracepoint; kprobes and
 * fentry are not available everywhere. So this looks at the same sys_exit
 * as the data syscalls: when recvmsg (or recvmmsg) returns, the user msghdr
 * holds the control data the kernel wrote (msg_controllen is updated to its
 * length), and an SCM_RIGHTS message lists the new descriptor numbers, which
 * are resolved through the receiver's fd table to the channel behind them:
 * a pipe, a FIFO, a unix socket, a shared memory file (tmpfs or hugetlbfs:
 * /dev/shm, memfd) or, with --files, a regular file. Each becomes one ring
 * record (struct ipctop_rec_fd), rare by nature; user space makes the
 * receiver an endpoint of that channel (src/model/FdPass.cpp).
 *
 * Cost on the hot path: the syscall number test, and for each recvmsg one
 * 16-byte user read (msg_control, msg_controllen); nothing more unless
 * control data came back.
 */
#ifndef IPCTOP_SCM_BPF_H
#define IPCTOP_SCM_BPF_H

#define SCM_SOL_SOCKET 1
#define SCM_RIGHTS 1
#define SCM_CMSG_HDR 16 /* struct cmsghdr on LP64: size_t len, int level, int type */
#define SCM_MAX_CMSGS 4
#define SCM_MAX_FDS 16 /* per control message; the rest is counted as lost */
#define SCM_MMSG_MAX 8 /* recvmmsg: the messages looked at */
#define SCM_MSGHDR_CONTROL 32 /* offsetof(struct user_msghdr, msg_control) */
#define SCM_TMPFS_MAGIC 0x01021994
#define SCM_HUGETLBFS_MAGIC 0x958458f6

struct scm_user_cmsg {
	__u64 len;
	__s32 level;
	__s32 type;
};

/* The file at `fd` of the current task, just received: one record. */
__noinline int scm_fd_received(__u32 fd, __u32 flags)
{
	struct file *f = fd_file(current_task(), fd);
	struct ipctop_rec_fd *r;
	unsigned short mode;
	unsigned long magic;
	__u64 id;

	if (!f)
		return 0;
	r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
	if (!r) {
		count(IPCTOP_LOST_RINGBUF_FULL, 1);
		return 0;
	}
	__builtin_memset(r, 0, sizeof(*r));
	mode = BPF_CORE_READ(f, f_inode, i_mode) & S_IFMT;
	magic = BPF_CORE_READ(f, f_inode, i_sb, s_magic);
	r->ino = BPF_CORE_READ(f, f_inode, i_ino);
	r->dev = BPF_CORE_READ(f, f_inode, i_sb, s_dev);
	if (mode == S_IFIFO) {
		r->kind = magic == PIPEFS_MAGIC ? IPCTOP_KIND_PIPE : IPCTOP_KIND_FIFO;
		if (r->kind == IPCTOP_KIND_PIPE)
			r->dev = 0;
	} else if (mode == S_IFSOCK) {
		struct socket *sock = BPF_CORE_READ(f, private_data);
		struct sock *sk = BPF_CORE_READ(sock, sk);
		unsigned short type;

		if (!sk || BPF_CORE_READ(sk, __sk_common.skc_family) != AF_UNIX)
			goto drop;
		type = BPF_CORE_READ(sk, sk_type);
		r->kind = type == SOCK_STREAM ? IPCTOP_KIND_UNIX_STREAM :
			  type == SOCK_DGRAM ? IPCTOP_KIND_UNIX_DGRAM :
			  type == SOCK_SEQPACKET ? IPCTOP_KIND_UNIX_SEQPACKET : 0;
		if (!r->kind)
			goto drop;
		r->dev = 0;
		/* The channel it sends into is named by the receiving end. */
		r->peer_ino = BPF_CORE_READ((struct unix_sock *)sk, peer, sk_socket, file,
					    f_inode, i_ino);
	} else if (mode == S_IFREG &&
		   (magic == SCM_TMPFS_MAGIC || magic == SCM_HUGETLBFS_MAGIC)) {
		r->kind = IPCTOP_KIND_POSIX_SHM;
		r->size = BPF_CORE_READ(f, f_inode, i_size);
		bpf_probe_read_kernel_str(r->name, sizeof(r->name),
					  BPF_CORE_READ(f, f_path.dentry, d_name.name));
	} else if (mode == S_IFREG && files_enabled) {
		r->kind = IPCTOP_KIND_FILE;
	} else {
		goto drop;
	}
	id = bpf_get_current_pid_tgid();
	r->hdr.type = IPCTOP_REC_FD_RECV;
	r->hdr.size = sizeof(*r);
	r->hdr.cpu = bpf_get_smp_processor_id();
	r->hdr.ts_ns = bpf_ktime_get_ns();
	r->hdr.tgid = id >> 32;
	r->hdr.tid = (__u32)id;
	r->fd = fd;
	r->f_mode = BPF_CORE_READ(f, f_mode);
	r->flags = flags;
	bpf_ringbuf_submit(r, 0);
	return 0;
drop:
	bpf_ringbuf_discard(r, 0);
	return 0;
}

/* The SCM_RIGHTS descriptors in the control data of one received msghdr. */
__noinline int scm_msghdr(__u64 msghdr, __u32 flags)
{
	struct {
		__u64 control;
		__u64 controllen;
	} c;
	__u64 off = 0;

	if (bpf_probe_read_user(&c, sizeof(c), (void *)(msghdr + SCM_MSGHDR_CONTROL)))
		return 0;
	if (!c.control || c.controllen < SCM_CMSG_HDR + sizeof(int))
		return 0;
	for (int i = 0; i < SCM_MAX_CMSGS; i++) {
		struct scm_user_cmsg h;
		__u64 n;

		if (off + SCM_CMSG_HDR > c.controllen ||
		    bpf_probe_read_user(&h, sizeof(h), (void *)(c.control + off)))
			break;
		if (h.len < SCM_CMSG_HDR || h.len > c.controllen - off)
			break;
		if (h.level == SCM_SOL_SOCKET && h.type == SCM_RIGHTS) {
			n = (h.len - SCM_CMSG_HDR) / sizeof(int);
			for (int j = 0; j < SCM_MAX_FDS; j++) {
				int fd = -1;

				if (j >= n)
					break;
				if (bpf_probe_read_user(&fd, sizeof(fd),
							(void *)(c.control + off + SCM_CMSG_HDR +
								 j * sizeof(int))) || fd < 0)
					continue;
				scm_fd_received(fd, flags);
			}
			if (n > SCM_MAX_FDS)
				count(IPCTOP_LOST_FD_PASS, n - SCM_MAX_FDS);
		}
		off += (h.len + 7) & ~7ULL;
	}
	return 0;
}

/* Every syscall exit: leaves at once unless it is a successful recvmsg or recvmmsg. */
static __always_inline void on_fds_received(struct pt_regs *regs, long ret)
{
	long nr = syscall_nr(regs);

	if (ret < 0)
		return;
	if (nr == NR_recvmsg) {
		scm_msghdr(syscall_arg(regs, 1), (__u32)syscall_arg(regs, 2));
	} else if (nr == NR_recvmmsg) {
		unsigned long vec = syscall_arg(regs, 1);
		__u32 flags = (__u32)syscall_arg(regs, 3);

		for (int i = 0; i < SCM_MMSG_MAX; i++) {
			if (i >= ret)
				break;
			scm_msghdr(vec + i * MMSGHDR_SIZE, flags);
		}
	}
}

#endif
