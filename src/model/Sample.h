// What the probe layer hands the model each interval: cumulative kernel
// counters (never reset, so the model computes deltas) and the lifecycle
// records read from the ring buffer since the last interval. Plain data, no
// libbpf types, so unit tests can build samples by hand.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "ipctop/abi.h"
#include "model/Failures.h"

namespace ipctop {

struct FlowSample {
  ipctop_flow_key key{};
  uint64_t bytes = 0;
  uint64_t messages = 0;
};

// A kernel latency histogram (struct ipctop_lat): monotonic counts, and the
// largest value seen during epoch max_epoch.
struct LatCounters {
  uint64_t count = 0;
  uint64_t sum_ns = 0;
  uint64_t max_ns = 0;
  uint64_t max_epoch = 0;
  std::array<uint32_t, IPCTOP_LAT_BUCKETS> hist{};
};

// Scheduler counters of one thread on one CPU. IPC bytes per thread come
// from the flows.
struct ThreadCounters {
  uint64_t switches = 0;
  uint64_t voluntary = 0;
  uint64_t involuntary = 0;
  uint64_t oncpu_ns = 0;
  LatCounters runq;            // run-queue waits of the runs that ended on this CPU
  uint64_t nr_migrations = 0;  // the task's lifetime migrations at its last switch-out here
  uint64_t handoffs = 0;       // switches straight to another thread of its process
};

// Wakeups of one waker -> wakee pair, summed over CPUs (cumulative).
struct WakeupSample {
  ipctop_wakeup_key key{};
  uint64_t count = 0;
  uint64_t cross_cpu = 0;
  LatCounters latency;  // max_ns: the largest of the slots written in the ended epoch
};

// How a multi-threaded process's threads shared the CPUs (cumulative).
struct ProcRunSample {
  uint32_t tgid = 0;
  uint64_t busy_ns = 0;   // time with at least one of its threads on a CPU
  uint64_t multi_ns = 0;  // time with two or more
};

struct ThreadSample {
  uint32_t tid = 0;
  uint32_t tgid = 0;
  std::vector<ThreadCounters> per_cpu;  // indexed by CPU
};

using CpuCounters = std::array<uint64_t, IPCTOP_CNT_MAX>;

struct TaskRecord {
  uint16_t type = 0;  // ipctop_rec_type
  uint32_t tgid = 0;
  uint32_t tid = 0;
  uint32_t ppid = 0;
  uint32_t cpu = 0;
  uint64_t ts_ns = 0;
  std::string comm;  // raw bytes from the kernel: hostile until sanitized
};

// A shared memory lifecycle event (struct ipctop_rec_shm), see bpf/shm.bpf.h.
struct ShmRecord {
  uint32_t op = 0;    // ipctop_shm_op
  uint32_t kind = 0;  // IPCTOP_KIND_SYSV_SHM or IPCTOP_KIND_POSIX_SHM
  uint32_t tgid = 0;
  uint32_t tid = 0;
  uint64_t ts_ns = 0;
  uint64_t ino = 0;  // SysV: the shmid
  uint32_t dev = 0;  // kernel dev_t
  int32_t key = 0;
  uint64_t size = 0;
  uint64_t addr = 0;
  uint64_t len = 0;
  uint32_t flags = 0;
  std::string name;  // raw bytes from the kernel: hostile until sanitized
};

// A descriptor received over a unix socket (struct ipctop_rec_fd), see
// bpf/scm.bpf.h.
struct FdRecord {
  uint32_t tgid = 0;
  uint32_t tid = 0;
  uint64_t ts_ns = 0;
  uint32_t fd = 0;
  uint32_t kind = 0;  // ipctop_kind
  uint64_t ino = 0;
  uint64_t peer_ino = 0;  // unix sockets: the connected peer's inode
  uint32_t dev = 0;       // kernel dev_t
  uint32_t f_mode = 0;
  uint32_t flags = 0;  // of the receive call
  uint64_t size = 0;
  std::string name;  // raw bytes from the kernel: hostile until sanitized
};

struct KernelSample {
  double time = 0;  // unix seconds at the end of the interval
  std::vector<FlowSample> flows;
  std::vector<ThreadSample> threads;
  std::vector<CpuCounters> cpus;  // indexed by CPU
  std::vector<TaskRecord> records;
  std::vector<ShmRecord> shm_records;  // in ring order, interleaved with `records` by ts_ns
  std::vector<FdRecord> fd_records;    // in ring order, interleaved with `records` by ts_ns
  // Losses that happen in user space, cumulative like the kernel counters.
  uint64_t records_malformed = 0;
  uint64_t orphan_read_bytes = 0;
  uint64_t orphan_read_messages = 0;
  FailureSamples failures;  // IPC syscalls that failed in the interval (not cumulative)
  // TCP/UDP: the addresses of each channel hash (flow key chan_ino) in `flows`.
  std::unordered_map<uint64_t, ipctop_conn> conns;
  // Scheduler detail (cumulative). epoch: the kernel's interval counter
  // during the interval that just ended (a latency max stamped with it or
  // later belongs to this interval).
  uint64_t epoch = 0;
  std::vector<WakeupSample> wakeups;
  std::vector<ProcRunSample> proc_runs;
  std::vector<std::array<uint64_t, 2>> cpu_migrations;  // per CPU: moved in, moved out
};

}  // namespace ipctop
