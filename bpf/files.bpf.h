/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Regular files used as IPC (--files): a read of a file by one process
 * credits a flow from the thread that last wrote that file (per inode)
 * during the run, for all the bytes read. Reads by the writer's own process,
 * and reads of files nobody wrote while ipctop ran, are not flows.
 *
 * Only with --files: the loader sets files_enabled (ipc.bpf.h) and
 * resolve() returns RES_FILE for regular files; otherwise the verifier
 * removes the path and a regular file costs one branch more than before.
 */
#ifndef IPCTOP_FILES_BPF_H
#define IPCTOP_FILES_BPF_H

struct file_key {
	__u64 ino;
	__u32 dev;
	__u32 pad;
};

/* The last writer of each file written during the run. LRU: files written
 * once and never read again age out by themselves. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct file_key);
	__type(value, struct party);
} file_writers SEC(".maps");

__noinline int file_transfer(__u64 ino, __u32 dev, __u32 dir, __u64 bytes)
{
	struct file_key k = { .ino = ino, .dev = dev };
	__u64 id = bpf_get_current_pid_tgid();
	struct party me = {
		.tgid = id >> 32,
		.tid = (__u32)id,
		.cpu = bpf_get_smp_processor_id(),
	};
	struct party *w = bpf_map_lookup_elem(&file_writers, &k);

	if (dir == DIR_SEND) {
		if (!w) {
			bpf_map_update_elem(&file_writers, &k, &me, BPF_ANY);
		} else if (w->tid != me.tid || w->cpu != me.cpu) {
			w->tgid = me.tgid;
			w->tid = me.tid;
			w->cpu = me.cpu;
		}
		return 0;
	}
	if (!w || w->tgid == me.tgid)
		return 0;

	struct match m = {
		.src_tgid = w->tgid,
		.src_tid = w->tid,
		.src_cpu = w->cpu,
		.dst_tgid = me.tgid,
		.dst_tid = me.tid,
		.dst_cpu = me.cpu,
		.bytes = bytes,
		.msgs = 1,
		.chan_ino = ino,
	};
	struct chan c = { .kind = IPCTOP_KIND_FILE, .dev = dev };

	credit(&m, &c);
	return 0;
}

#endif
