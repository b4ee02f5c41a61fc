// One interval, as every renderer sees it: values are deltas over the
// interval, names are raw (renderers sanitize at output).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "model/Failures.h"

namespace ipctop {

enum class Kind : uint8_t {
  pipe = 1,
  fifo,
  unix_stream,
  unix_dgram,
  unix_seqpacket,
  tcp,
  udp,
  sysv_msg,
  posix_mq,
  sysv_shm,
  posix_shm,
  file,
  signal,
};

std::string_view kind_name(Kind k);
std::optional<Kind> kind_from_abi(uint32_t abi_kind);

struct TaskRef {
  uint32_t pid = 0;
  uint32_t tid = 0;
  std::string comm;
  std::string addr;  // a remote peer ("10.1.2.3:443"), in place of pid/tid/comm
};

// A latency distribution over the interval, in microseconds. hist maps a
// bucket's upper bound (powers of two) to the number of samples in it.
struct LatencyRow {
  uint64_t count = 0;
  uint64_t p50_us = 0;
  uint64_t p99_us = 0;
  uint64_t max_us = 0;
  std::map<uint64_t, uint64_t> hist;
};

struct ThreadRow {
  uint32_t tid = 0;
  std::string comm;
  uint64_t ctx_switches = 0;
  uint64_t voluntary = 0;
  uint64_t involuntary = 0;
  uint64_t oncpu_ns = 0;
  uint64_t tx_bytes = 0;     // IPC bytes this thread wrote that readers consumed
  uint64_t rx_bytes = 0;     // IPC bytes this thread read
  uint64_t tx_messages = 0;  // messages of its flows as sender
  uint64_t rx_messages = 0;  // and as receiver
  std::vector<uint32_t> cpus_used;  // CPUs it ran on in the interval
  uint64_t migrations = 0;
  LatencyRow runq_latency;  // wakeup to running
  uint64_t handoffs = 0;    // switches straight to another thread of its process
  bool exited = false;
};

struct ProcessRow {
  uint32_t pid = 0;
  uint32_t ppid = 0;
  std::string comm;
  std::vector<std::string> cmdline;
  std::vector<ThreadRow> threads;
  uint64_t tx_bytes = 0;
  uint64_t rx_bytes = 0;
  uint64_t oncpu_ns = 0;            // sum over its threads
  double parallelism = 0;           // oncpu / interval: ~1 time-sliced, ~N on N cores
  std::vector<uint32_t> cpus_used;  // union over its threads
  uint64_t migrations = 0;
  LatencyRow runq_latency;
  uint64_t busy_ns = 0;        // time with at least one of its threads on a CPU
  uint64_t concurrent_ns = 0;  // time with two or more of its threads on CPUs at once
  uint64_t handoffs = 0;       // a CPU passed straight from one of its threads to another
  bool exited = false;
};

struct EndpointRow {
  uint32_t pid = 0;
  uint32_t tid = 0;
  std::string role;  // "writer"/"reader" (streams) or "sender"/"receiver"
  std::vector<uint32_t> fds;  // procfs snapshots: the descriptors it holds the channel by
  bool operator<(const EndpointRow& o) const {
    return std::tie(pid, tid, role) < std::tie(o.pid, o.tid, o.role);
  }
};

struct ChannelRow {
  std::string id;
  Kind kind = Kind::pipe;
  std::string path;  // empty when the channel has none
  uint64_t bytes = 0;
  uint64_t messages = 0;
  std::optional<uint64_t> size;      // shared memory: the segment's size
  std::optional<uint64_t> queued;    // bytes waiting in it at the end of the interval, where known
  std::optional<uint64_t> capacity;  // bytes it can hold, where known (fill = queued / capacity)
  std::vector<EndpointRow> endpoints;
  // Shared memory (model/Shm.cpp): the SysV key and id, the creating process,
  // and whether IPC_RMID was done (destroyed at the last detach).
  std::optional<uint32_t> shm_key;
  std::optional<uint64_t> shmid;
  std::optional<uint32_t> creator;
  bool removed = false;
};

struct FlowRow {
  Kind kind = Kind::pipe;
  std::string channel;
  TaskRef src;
  TaskRef dst;
  uint64_t bytes = 0;
  uint64_t messages = 0;
  std::map<uint32_t, uint64_t> cpus;     // sender's CPU at send -> bytes
  std::map<uint32_t, uint64_t> rx_cpus;  // receiver's CPU at receive -> bytes
  std::optional<LatencyRow> wakeup_latency;  // send -> receiver running, where measured
  // Signals: the signal number, and signals generated but discarded by the
  // kernel (not in `messages`): ignored by the target, coalesced with the
  // same pending standard signal, real-time queue full.
  int signo = 0;
  uint64_t signals_ignored = 0;
  uint64_t signals_coalesced = 0;
  uint64_t signals_overflow = 0;
};

struct CpuRow {
  uint32_t cpu = 0;
  uint64_t ctx_switches = 0;
  uint64_t voluntary = 0;
  uint64_t involuntary = 0;
  uint64_t idle_ns = 0;
  uint64_t tx_bytes = 0;
  uint64_t rx_bytes = 0;
  uint64_t migrations = 0;  // tasks that arrived on this CPU from another
  LatencyRow runq_latency;
  uint64_t migrations_out = 0;  // tasks moved from this CPU to another
  // Switches out of a task whose switch in the kernel did not trace.
  uint64_t switches_untraced = 0;
};

// Bytes sent by threads on src_cpu and received by threads on dst_cpu.
struct MatrixCell {
  uint32_t src_cpu = 0;
  uint32_t dst_cpu = 0;
  uint64_t bytes = 0;
  uint64_t messages = 0;
};

struct WakeupRow {
  TaskRef waker;
  TaskRef wakee;
  uint64_t count = 0;
  uint64_t cross_cpu = 0;  // of count, the wakeups onto another CPU than the waker's
};

struct AppMember {
  uint32_t pid = 0;
  std::string role;  // "browser", "renderer", "gpu-process", ... or "" when unknown
};

// A multi-process application: processes grouped by tree, session and executable.
struct AppRow {
  std::string name;
  uint32_t root_pid = 0;
  std::vector<AppMember> members;
  uint64_t internal_bytes = 0;  // IPC between its members
  uint64_t external_bytes = 0;  // IPC with processes outside it
};

struct LostRow {
  uint64_t events = 0;                 // sum of all drop points
  std::map<std::string, uint64_t> by_point;  // every drop point, zero or not
};

struct Snapshot {
  // "bpf": traffic traced in the kernel; "procfs": a snapshot of endpoints
  // without traffic (no BPF); "replay": read back from a recording.
  std::string source = "bpf";
  double time = 0;
  double interval_s = 0;
  std::vector<CpuRow> cpus;
  std::vector<ProcessRow> processes;
  std::vector<ChannelRow> channels;
  std::vector<FlowRow> flows;
  std::vector<MatrixCell> matrix;
  std::vector<WakeupRow> wakeups;
  std::vector<AppRow> apps;
  uint64_t unattributed_bytes = 0;
  uint64_t unattributed_messages = 0;
  LostRow lost;
  std::vector<FailureRow> failures;  // IPC syscalls that failed, with their diagnosis
  // "procfs": processes whose fds could not be read (other users', without privileges), so
  // their channel ends are missing.
  uint64_t unreadable_processes = 0;
};

}  // namespace ipctop
