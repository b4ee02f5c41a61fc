/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel types ipctop reads, and only the fields it reads.
 * preserve_access_index makes every access a CO-RE relocation resolved
 * against the running kernel's BTF at load time, so this header documents
 * exactly what ipctop depends on and the build never needs the build
 * machine's kernel.
 */
#ifndef IPCTOP_KERNEL_BPF_H
#define IPCTOP_KERNEL_BPF_H

#pragma clang attribute push(__attribute__((preserve_access_index)), apply_to = record)

struct pt_regs {
#if defined(__TARGET_ARCH_x86)
	unsigned long di, si, dx, r10, r8, r9;
	unsigned long orig_ax;
#elif defined(__TARGET_ARCH_arm64)
	unsigned long regs[31];
	unsigned long orig_x0;
	int syscallno;
#endif
};

struct super_block {
	unsigned long s_magic;
	unsigned int s_dev;
};

struct inode {
	unsigned short i_mode;
	unsigned long i_ino;
	struct super_block *i_sb;
	long long i_size; /* shm.bpf.h: a shared memory file's size */
};

/* shm.bpf.h: a shared memory file's name. */
struct qstr {
	const unsigned char *name;
};

struct dentry {
	struct qstr d_name;
};

struct path {
	struct dentry *dentry;
};

struct file {
	struct inode *f_inode;
	unsigned int f_mode;
	void *private_data;
	struct path f_path;
};

/* ipc.bpf.h: its first member types a slot of an fd array (fd_file). */
struct timespec64 {
	long long tv_sec;
};

/* shm.bpf.h: the mapping behind a futex address. */
struct vm_area_struct {
	struct file *vm_file;
};

/* signal.bpf.h: who sent a signal (in the kernel, inside an anonymous struct). */
struct kernel_siginfo {
	int si_code;
};

struct fdtable {
	unsigned int max_fds;
	struct file **fd;
};

struct files_struct {
	struct fdtable *fdt;
};

struct rq;

struct cfs_rq {
	struct rq *rq; /* CONFIG_FAIR_GROUP_SCHED */
};

struct sched_entity {
	unsigned long long sum_exec_runtime;
	unsigned long long prev_sum_exec_runtime; /* sum_exec_runtime when last picked (fair class) */
	unsigned long long nr_migrations;
	struct cfs_rq *cfs_rq; /* CONFIG_FAIR_GROUP_SCHED */
};

/* CONFIG_SCHED_INFO: the task's cumulative run-queue wait and its runs. */
struct sched_info {
	unsigned long pcount;
	unsigned long long run_delay;
	unsigned long long last_queued;
};

struct signal_struct {
	int nr_threads;
};

struct thread_info {
	unsigned int cpu; /* 5.16+ (commit bcf9033e5449) on x86 */
};

/* The run queue: its clock is updated at the top of every __schedule(). */
struct rq {
	unsigned long long clock;
};

/* Namespaces are told apart by their inode number (as in /proc/PID/ns). */
struct ns_common {
	unsigned int inum;
};

struct ipc_namespace {
	struct ns_common ns;
};

struct nsproxy {
	struct ipc_namespace *ipc_ns;
};

struct task_struct {
	struct thread_info thread_info;
	void *stack;
	unsigned int flags;
	int on_rq;
	struct sched_entity se;
	struct sched_info sched_info;
	struct signal_struct *signal;
	int pid;
	int tgid;
	unsigned int policy;
	unsigned int __state;
	char comm[16];
	struct task_struct *real_parent;
	struct task_struct *group_leader;
	struct files_struct *files;
	struct nsproxy *nsproxy;
};

/* Before 5.14 (commit 2f064a59a11f) the field was called state. */
struct task_struct___pre_5_14 {
	long state;
};

/* The members of sock_common's anonymous unions, found by name (CO-RE). */
struct in6_addr {
	union {
		__u8 u6_addr8[16];
		__u32 u6_addr32[4];
	} in6_u;
};

struct net {
	struct ns_common ns;
};

typedef struct {
	struct net *net;
} possible_net_t;

/* Before 5.16 (commit bcf9033e5449) the CPU was in task_struct. */
struct task_struct___pre_5_16 {
	unsigned int cpu;
};

struct sock_common {
	__u32 skc_daddr;
	__u32 skc_rcv_saddr;
	__u16 skc_dport; /* network order */
	__u16 skc_num;   /* host order */
	unsigned short skc_family;
	possible_net_t skc_net;
	struct in6_addr skc_v6_daddr;
	struct in6_addr skc_v6_rcv_saddr;
};

struct socket;

struct sock {
	struct sock_common __sk_common;
	unsigned short sk_type;
	unsigned short sk_protocol;
	struct socket *sk_socket;
};

struct socket {
	struct sock *sk;
	struct file *file;
};

struct unix_sock {
	struct sock sk;
	struct sock *peer;
};

struct sk_buff {
	struct sock *sk;
	unsigned int len;
};

#pragma clang attribute pop

#endif
