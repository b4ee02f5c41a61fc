/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The pipe and FIFO data path as function hooks, a richer variant of the
 * syscall-exit path (ipc.bpf.h): fexit on the kernel's pipe write and read
 * functions, pipe_write and pipe_read (anon_pipe_write and anon_pipe_read
 * since 6.15, commit "pipe: don't update {a,c,m}time for anonymous pipes",
 * with fifo_pipe_* wrapping them for FIFOs; the loader picks whichever name
 * the running kernel's BTF has).
 *
 * The pipe's file comes straight from the kiocb and the byte count from the
 * return value: no syscall decoding, no fd table walk. And it sees reads and
 * writes no syscall exit shows as one: io_uring (IORING_OP_READ, _WRITE and
 * their vectored forms, done inline or by an io-wq worker thread of the
 * process), AIO, and kernel writers such as a core dump piped to a helper.
 *
 * When the loader attaches these, it sets pipe_fexit and transfer() leaves
 * pipe reads and writes to them. Attribution is the same as there: the
 * current thread, its CPU, the pipe inode as channel, the same queues.
 */
#ifndef IPCTOP_PIPE_BPF_H
#define IPCTOP_PIPE_BPF_H

struct iov_iter;

struct kiocb {
	struct file *ki_filp;
} __attribute__((preserve_access_index));

static __always_inline void on_pipe_rw(struct kiocb *iocb, long ret, enum dir dir)
{
	if (ret <= 0)
		return;

	/* fexit arguments are BTF-typed: plain loads, no helper calls. */
	struct inode *inode = iocb->ki_filp->f_inode;
	bool anon = inode->i_sb->s_magic == PIPEFS_MAGIC;
	struct chan c = {};

	c.kind = anon ? IPCTOP_KIND_PIPE : IPCTOP_KIND_FIFO;
	c.ino = inode->i_ino;
	c.dev = anon ? 0 : inode->i_sb->s_dev;
	c.q.obj = c.ino;
	c.q.dev = c.dev;
	c.q.kind = c.kind;

	__u64 id = bpf_get_current_pid_tgid();
	struct party me = {
		.tgid = id >> 32,
		.tid = (__u32)id,
		.cpu = bpf_get_smp_processor_id(),
	};

	match_op(&c, &me, dir, ret, 1);
}

#endif
