/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Resolve an open file to the channel it moves data through. Included twice
 * by ipc.bpf.h: RESOLVE, RD and AS select plain loads through typed
 * pointers, or bpf_probe_read_kernel() on kernels without bpf_rdonly_cast.
 */
/*
 * Resolve an fd to the channel it moves data through, for the given
 * direction. Returns RES_NONE for anything that is not a pipe, FIFO or unix
 * socket, and for unix datagram receives (seen at the skb copy instead);
 * RES_INET for an IPv4 or IPv6 socket (net.bpf.h);
 * RES_FILE for a regular file when --files is on (files.bpf.h).
 */
static __always_inline int RESOLVE(struct file *f, enum dir dir, struct chan *c)
{
	struct inode *inode = RD(f, f_inode);
	unsigned short mode = RD(inode, i_mode);

	if ((mode & S_IFMT) == S_IFIFO) {
		bool anon = RD(inode, i_sb, s_magic) == PIPEFS_MAGIC;

		c->kind = anon ? IPCTOP_KIND_PIPE : IPCTOP_KIND_FIFO;
		c->ino = RD(inode, i_ino);
		c->dev = anon ? 0 : RD(inode, i_sb, s_dev);
		c->messages = false;
		c->q.obj = c->ino;
		c->q.dev = c->dev;
		c->q.kind = c->kind;
		return RES_CHAN;
	}
	if ((mode & S_IFMT) != S_IFSOCK) {
		if (!files_enabled || (mode & S_IFMT) != S_IFREG)
			return RES_NONE;
		c->ino = RD(inode, i_ino);
		c->dev = RD(inode, i_sb, s_dev);
		return RES_FILE;
	}

	struct socket *sock = AS(RD(f, private_data), socket);
	struct sock *sk = RD(sock, sk);

	if (!sk)
		return RES_NONE;
	unsigned short family = RD(sk, __sk_common.skc_family);

	if (family == AF_INET || family == AF_INET6)
		return RES_INET;
	if (family != AF_UNIX)
		return RES_NONE;
	c->dev = 0;
	unsigned short type = RD(sk, sk_type);

	switch (type) {
	case SOCK_STREAM:
		c->kind = IPCTOP_KIND_UNIX_STREAM;
		c->messages = false;
		if (dir == DIR_SEND) {
			struct sock *peer = RD(AS(sk, unix_sock), peer);

			if (!peer)
				return RES_NONE;
			c->q.obj = (__u64)peer;
			c->ino = 0;
		} else {
			c->q.obj = (__u64)sk;
			c->ino = RD(inode, i_ino);
		}
		break;
	case SOCK_DGRAM:
	case SOCK_SEQPACKET:
		if (dir == DIR_RECV)
			return RES_NONE;
		c->kind = type == SOCK_DGRAM ?
			IPCTOP_KIND_UNIX_DGRAM : IPCTOP_KIND_UNIX_SEQPACKET;
		c->messages = true;
		/* Queued at the sending socket: the receiver finds it as skb->sk. */
		c->q.obj = (__u64)sk;
		c->ino = 0;
		break;
	default:
		return RES_NONE;
	}
	c->q.dev = 0;
	c->q.kind = c->kind;
	return RES_CHAN;
}

