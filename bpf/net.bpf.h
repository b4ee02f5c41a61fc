/* SPDX-License-Identifier: GPL-2.0 */
/*
 * TCP and UDP, IPv4 and IPv6, seen at the same sys_exit as the other data
 * syscalls (ipc.bpf.h resolves the fd to an inet socket and calls
 * net_transfer).
 *
 * A connection direction (saddr:sport -> daddr:dport, in the socket's network
 * namespace) is one channel, identified by a hash of that directed tuple;
 * user space reads the tuple behind the hash from `conns`, written when a
 * flow or a queue of the channel is created. TCP hashes the whole 4-tuple;
 * UDP only the ports, because an unconnected UDP sender does not know its
 * source address and a receiver on a wildcard address does not know the
 * destination.
 *
 * When both ends are in this network namespace (the peer is a loopback
 * address, an address of the machine that user space loaded into
 * local_addrs, or for TCP the socket's own address), the send appends to
 * the channel's attribution queue and the receive consumes it, exactly as
 * for pipes and unix sockets: TCP as a byte stream, UDP one datagram per
 * receive. Otherwise the other end is a remote
 * peer: the flow is credited at once, to (send) or from (receive) the
 * peer's address.
 */
#ifndef IPCTOP_NET_BPF_H
#define IPCTOP_NET_BPF_H

#define IPPROTO_TCP 6
#define IPPROTO_UDP 17

/* Directed connection hash -> its addresses. LRU: no clean-up needed. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, struct ipctop_conn);
} conns SEC(".maps");

/* This machine's addresses, from user space (see struct ipctop_local_addr). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct ipctop_local_addr);
	__type(value, __u8);
} local_addrs SEC(".maps");

/*
 * The connection being resolved, off the BPF stack: sys_exit -> net_transfer
 * -> the matching loop's callback would otherwise exceed the verifier's
 * 512-byte limit for a call chain. Only net_transfer (sys_exit, which does
 * not nest) writes it; credit() and match_op() read it back through
 * note_conn() within the same run.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ipctop_conn);
} conn_scratch SEC(".maps");

/* struct sockaddr_in and the first part of sockaddr_in6 (user ABI). */
struct net_user_addr {
	__u16 family;
	__u16 port; /* network order */
	__u32 addr4_or_flowinfo;
};

static __always_inline void addr_v4(__u32 *w, __u32 a)
{
	w[0] = 0;
	w[1] = 0;
	w[2] = bpf_htonl(0xffff);
	w[3] = a;
}

static __always_inline bool addr_zero(const __u32 *w)
{
	return !w[0] && !w[1] && (!w[2] || w[2] == bpf_htonl(0xffff)) && !w[3];
}

/* 127.0.0.0/8 (plain or IPv4-mapped) or ::1. */
static __always_inline bool addr_loopback(const __u32 *w)
{
	if (w[0] || w[1])
		return false;
	if (w[2] == bpf_htonl(0xffff))
		return (bpf_ntohl(w[3]) >> 24) == 127;
	return !w[2] && w[3] == bpf_htonl(1);
}

static __always_inline bool addr_eq(const __u32 *a, const __u32 *b)
{
	return a[0] == b[0] && a[1] == b[1] && a[2] == b[2] && a[3] == b[3];
}

/* Whether `w` is an address of this machine in network namespace `netns`. */
static __always_inline bool addr_local(__u32 netns, const __u32 *w)
{
	struct ipctop_local_addr k = { .netns = netns };

	__builtin_memcpy(k.addr, w, 16);
	return bpf_map_lookup_elem(&local_addrs, &k) != NULL;
}

/*
 * The address a user sockaddr names, into w and port; left as they are when
 * there is none. (An IPv6 address that cannot be read after the syscall
 * succeeded with it leaves w zeroed and the port as it was.)
 */
static __always_inline void user_addr(unsigned long uaddr, __u32 *w, __u16 *port)
{
	struct net_user_addr sa;

	if (!uaddr || bpf_probe_read_user(&sa, sizeof(sa), (void *)uaddr))
		return;
	if (sa.family == AF_INET)
		addr_v4(w, sa.addr4_or_flowinfo);
	else if (sa.family != AF_INET6 ||
		 bpf_probe_read_user(w, 16, (void *)(uaddr + sizeof(sa))))
		return;
	*port = bpf_ntohs(sa.port);
}

/* msg_name of a user msghdr (also the first of an mmsghdr vector). */
static __always_inline unsigned long user_msg_name(unsigned long msghdr)
{
	unsigned long name = 0;

	if (msghdr)
		bpf_probe_read_user(&name, sizeof(name), (void *)msghdr);
	return name;
}

static __always_inline __u64 net_mix(__u64 h, __u64 v)
{
	h ^= v;
	h *= 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 31);
}

static __always_inline __u64 conn_hash(const struct ipctop_conn *t, __u32 net)
{
	const __u32 *s = (const __u32 *)t->saddr;
	const __u32 *d = (const __u32 *)t->daddr;
	__u64 h = net_mix(net, ((__u64)t->sport << 32) | ((__u64)t->dport << 8) | t->kind);

	if (t->kind == IPCTOP_KIND_TCP) {
		h = net_mix(h, ((__u64)s[0] << 32) | s[1]);
		h = net_mix(h, ((__u64)s[2] << 32) | s[3]);
		h = net_mix(h, ((__u64)d[0] << 32) | d[1]);
		h = net_mix(h, ((__u64)d[2] << 32) | d[3]);
	}
	return h;
}

/*
 * Called when a flow or queue of a connection is created (rare), with the
 * connection in conn_scratch: each side of a UDP exchange may know a
 * different part of the tuple, so fill what is missing.
 */
static __always_inline void note_conn(__u64 chan)
{
	__u32 zero = 0;
	struct ipctop_conn *conn = bpf_map_lookup_elem(&conn_scratch, &zero);
	struct ipctop_conn *old = bpf_map_lookup_elem(&conns, &chan);

	if (!conn)
		return;
	if (!old) {
		if (!bpf_map_update_elem(&conns, &chan, conn, BPF_NOEXIST))
			return;
		/* The other side, on another CPU, noted its view first:
		 * merge into that one rather than lose this view. */
		old = bpf_map_lookup_elem(&conns, &chan);
		if (!old)
			return;
	}
	if (addr_zero((__u32 *)old->saddr) && !addr_zero((__u32 *)conn->saddr))
		__builtin_memcpy(old->saddr, conn->saddr, 16);
	if (addr_zero((__u32 *)old->daddr) && !addr_zero((__u32 *)conn->daddr))
		__builtin_memcpy(old->daddr, conn->daddr, 16);
}

/* A transfer to or from a remote peer: credited at once. */
static __noinline void net_credit_remote(const struct chan *c, const struct party *me,
					 __u32 dir, __u64 bytes, __u64 msgs)
{
	struct match m = {
		.bytes = bytes,
		.msgs = msgs,
		.chan_ino = c->ino,
	};

	if (dir == DIR_SEND) {
		m.src_tgid = me->tgid;
		m.src_tid = me->tid;
		m.src_cpu = me->cpu;
		m.dst_tid = IPCTOP_REMOTE_TID;
		m.dst_cpu = IPCTOP_REMOTE_TID;
	} else {
		m.src_tid = IPCTOP_REMOTE_TID;
		m.src_cpu = IPCTOP_REMOTE_TID;
		m.dst_tgid = me->tgid;
		m.dst_tid = me->tid;
		m.dst_cpu = me->cpu;
	}
	credit(&m, c);
}

/*
 * The channel is the direction the data moves in: this end is its source
 * when sending, its destination when receiving. Addresses and ports are
 * worked on in the per-CPU scratch, not on the stack: net_transfer is in the
 * call chain of match_round, and Linux 6.1 rounds each frame of a chain up
 * to 32 bytes before it checks the 512-byte limit.
 */
#define CONN_OWN(ch, dir) ((__u32 *)((dir) == DIR_SEND ? (ch)->saddr : (ch)->daddr))
#define CONN_PEER(ch, dir) ((__u32 *)((dir) == DIR_SEND ? (ch)->daddr : (ch)->saddr))
#define CONN_OWN_PORT(ch, dir) ((dir) == DIR_SEND ? &(ch)->sport : &(ch)->dport)
#define CONN_PEER_PORT(ch, dir) ((dir) == DIR_SEND ? &(ch)->dport : &(ch)->sport)

static __always_inline __u32 net_kind(unsigned short type, unsigned short proto)
{
	if (type == SOCK_STREAM && proto == IPPROTO_TCP)
		return IPCTOP_KIND_TCP;
	if (type == SOCK_DGRAM && proto == IPPROTO_UDP)
		return IPCTOP_KIND_UDP;
	return 0;
}

/*
 * The socket behind `file`: its network namespace (0: no socket), and into
 * the scratch its kind (TCP, UDP, else 0), both addresses, its own port in
 * host order and its peer's in network order. Plain loads through typed
 * pointers (6.2+, bpf_rdonly_cast).
 */
static __always_inline __u32 net_sock_direct(__u64 file, struct ipctop_conn *ch, __u32 dir)
{
	struct file *f = bpf_rdonly_cast((void *)file, bpf_core_type_id_kernel(struct file));
	struct socket *sock = bpf_rdonly_cast(f->private_data, bpf_core_type_id_kernel(struct socket));
	struct sock *sk = sock->sk;
	__u32 *own = CONN_OWN(ch, dir), *peer = CONN_PEER(ch, dir);

	if (!sk)
		return 0;
	if (sk->__sk_common.skc_family == AF_INET6) {
		for (int i = 0; i < 4; i++) {
			own[i] = sk->__sk_common.skc_v6_rcv_saddr.in6_u.u6_addr32[i];
			peer[i] = sk->__sk_common.skc_v6_daddr.in6_u.u6_addr32[i];
		}
	} else {
		addr_v4(own, sk->__sk_common.skc_rcv_saddr);
		addr_v4(peer, sk->__sk_common.skc_daddr);
	}
	*CONN_OWN_PORT(ch, dir) = sk->__sk_common.skc_num;
	*CONN_PEER_PORT(ch, dir) = sk->__sk_common.skc_dport;
	ch->kind = net_kind(sk->sk_type, sk->sk_protocol);
	return sk->__sk_common.skc_net.net->ns.inum;
}

/*
 * The same with probe reads, for kernels without bpf_rdonly_cast: a call of
 * its own, so that its read buffer is not in net_transfer's frame.
 */
static __noinline __u32 net_sock_probe(__u64 file, struct ipctop_conn *ch, __u32 dir)
{
	__u32 *own = CONN_OWN(ch, dir), *peer = CONN_PEER(ch, dir);
	__u16 *own_port = CONN_OWN_PORT(ch, dir), *peer_port = CONN_PEER_PORT(ch, dir);
	struct sock *sk;
	__u64 t = 0;

	bpf_core_read(&t, sizeof(t), &((struct file *)file)->private_data);
	bpf_core_read(&t, sizeof(t), &((struct socket *)t)->sk);
	sk = (struct sock *)t;
	if (!sk)
		return 0;
	t = 0;
	bpf_core_read(&t, sizeof(sk->__sk_common.skc_family), &sk->__sk_common.skc_family);
	if (t == AF_INET6) {
		bpf_core_read(own, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(peer, 16, &sk->__sk_common.skc_v6_daddr);
	} else {
		bpf_core_read(&own[3], 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(&peer[3], 4, &sk->__sk_common.skc_daddr);
		addr_v4(own, own[3]);
		addr_v4(peer, peer[3]);
	}
	/* type and protocol through the port fields, then the ports */
	bpf_core_read(own_port, 2, &sk->sk_type);
	bpf_core_read(peer_port, 2, &sk->sk_protocol);
	ch->kind = net_kind(*own_port, *peer_port);
	bpf_core_read(own_port, 2, &sk->__sk_common.skc_num);
	bpf_core_read(peer_port, 2, &sk->__sk_common.skc_dport);
	bpf_core_read(&t, sizeof(t), &sk->__sk_common.skc_net.net);
	bpf_core_read(&t, 4, &((struct net *)t)->ns.inum);
	return (__u32)t;
}

/*
 * A datagram's peer from the user sockaddr of its syscall (`ptr`, or the
 * msg_name of the msghdr at `ptr`), into the scratch when there is one. A
 * call of its own: its read buffers are not in net_transfer's frame.
 */
static __noinline int net_udp_peer(struct ipctop_conn *ch, __u32 dir, unsigned long ptr,
				   bool msghdr)
{
	user_addr(msghdr ? user_msg_name(ptr) : ptr, CONN_PEER(ch, dir), CONN_PEER_PORT(ch, dir));
	return 0;
}

/*
 * One side of a TCP or UDP transfer by the current task through the struct
 * file at address `file`, an inet socket (resolve()). A global function:
 * verified once.
 */
__noinline int net_transfer(__u64 file, __u32 dir, __u64 bytes, __u32 ops)
{
	__u32 zero = 0;
	struct ipctop_conn *ch = bpf_map_lookup_elem(&conn_scratch, &zero);
	__u32 netns;
	bool local;

	if (!ch)
		return 0;
	/* Probe reads cost more than the rest of the path: plain loads where
	 * the kernel has bpf_rdonly_cast. */
	netns = bpf_rdonly_cast ? net_sock_direct(file, ch, dir) : net_sock_probe(file, ch, dir);
	if (!netns || !ch->kind)
		return 0;
	*CONN_PEER_PORT(ch, dir) = bpf_ntohs(*CONN_PEER_PORT(ch, dir));

	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(current_task());
	long nr = syscall_nr(regs);

	if (dir == DIR_RECV) {
		unsigned long flags = nr == NR_recvmsg ? syscall_arg(regs, 2) :
				      nr == NR_recvfrom || nr == NR_recvmmsg ?
				      syscall_arg(regs, 3) : 0;

		if (flags & MSG_PEEK)
			return 0;
	}
	if (ch->kind == IPCTOP_KIND_UDP) {
		/* The datagram's peer: the address passed with it, else the
		 * connected peer. */
		if (nr == NR_sendto || nr == NR_recvfrom)
			net_udp_peer(ch, dir, syscall_arg(regs, 4), false);
		else if (nr == NR_sendmsg || nr == NR_recvmsg || nr == NR_sendmmsg ||
			 nr == NR_recvmmsg)
			net_udp_peer(ch, dir, syscall_arg(regs, 1), true);
		if (!*CONN_PEER_PORT(ch, dir)) {
			/* An unconnected receive without an address: the
			 * source is unknown, and so is the channel. */
			count(IPCTOP_CNT_UNATTRIBUTED_BYTES, bytes);
			count(IPCTOP_CNT_UNATTRIBUTED_MESSAGES, ops);
			return 0;
		}
	}

	/* Local: a loopback address, the socket's own address (TCP; UDP may
	 * not know its own), or any other address of this machine. */
	__u32 *own = CONN_OWN(ch, dir), *peer = CONN_PEER(ch, dir);

	local = addr_loopback(peer) || (ch->kind == IPCTOP_KIND_TCP && addr_eq(peer, own)) ||
		addr_local(netns, peer);

	__u64 id = bpf_get_current_pid_tgid();
	struct party me = {
		.tgid = id >> 32,
		.tid = (__u32)id,
		.cpu = bpf_get_smp_processor_id(),
	};
	__u64 chan = conn_hash(ch, netns);
	bool udp = ch->kind == IPCTOP_KIND_UDP;
	struct chan c = {
		.q = { .obj = chan, .dev = 0, .kind = ch->kind },
		.ino = chan,
		.kind = ch->kind,
		.messages = udp,
		.net = true,
	};

	if (local) {
		match_op(&c, &me, dir, bytes, ops);
		return 0;
	}
	net_credit_remote(&c, &me, dir, bytes, udp ? ops : 1);
	return 0;
}

#endif
