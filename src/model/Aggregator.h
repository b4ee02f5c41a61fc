// Turns cumulative kernel counters into per-interval snapshots:
// processes -> threads, channels with their endpoints, flows writer -> reader.
// Pure C++: names come through the NameSource interface (procfs in the app,
// fakes in tests), time comes in the sample.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/FdPass.h"
#include "model/Sample.h"
#include "model/Shm.h"
#include "model/Snapshot.h"

namespace ipctop {

class NameSource {
 public:
  virtual ~NameSource() = default;
  virtual std::optional<std::string> comm(uint32_t pid, uint32_t tid) = 0;
  virtual std::optional<uint32_t> ppid(uint32_t pid) = 0;
  virtual std::vector<std::string> cmdline(uint32_t pid) = 0;
  // Path of a FIFO (searched among the fds of `pids`) or of a unix socket.
  virtual std::string channel_path(Kind kind, uint64_t ino, uint32_t dev,
                                   const std::set<uint32_t>& pids) = 0;
  // For grouping processes into applications: the session id and the
  // executable's path (nullopt / "" when unknown).
  virtual std::optional<uint32_t> session(uint32_t /*pid*/) { return std::nullopt; }
  virtual std::string exe(uint32_t /*pid*/) { return ""; }
};

struct Filter {
  std::set<uint32_t> pids;  // empty: everything
  bool wants(uint32_t pid) const { return pids.empty() || pids.contains(pid); }
};

// Kernel map entries the model no longer needs; the probe layer deletes them.
struct GcPlan {
  std::vector<uint32_t> tids;
  std::vector<ipctop_flow_key> flows;
  std::vector<ipctop_wakeup_key> wakeups;  // idle waker -> wakee pairs
  std::vector<uint32_t> tgids;             // exited processes' concurrency state
};

struct WakeupKeyLess {
  bool operator()(const ipctop_wakeup_key& a, const ipctop_wakeup_key& b) const noexcept;
};

struct FlowKeyHash {
  size_t operator()(const ipctop_flow_key& k) const noexcept;
};
struct FlowKeyEq {
  bool operator()(const ipctop_flow_key& a, const ipctop_flow_key& b) const noexcept;
};

std::string channel_id(Kind kind, uint64_t ino, uint32_t dev);

// "127.0.0.1:5000" or "[::1]:5000" (IPv4-mapped addresses as IPv4).
std::string address(const uint8_t (&addr)[16], uint16_t port);
// A TCP/UDP channel: "tcp:127.0.0.1:40312->127.0.0.1:5000", and its path
// without the kind.
std::string net_channel_id(Kind kind, const ipctop_conn& c);
std::string net_path(const ipctop_conn& c);

class Aggregator {
 public:
  Aggregator(NameSource& names, Filter filter) : names_(names), filter_(std::move(filter)) {}

  Snapshot update(const KernelSample& sample, double interval_s);

  // What may be deleted from the kernel maps after the last update; the
  // model forgets the entries at once, so a reused key starts from zero.
  GcPlan collect_garbage();

  size_t tracked_flows() const { return prev_flows_.size(); }

  // Where shared memory attachments are read from /proc (none: records only).
  void set_shm_source(ShmSource* source) { shm_ = ShmTracker(source); }
  // Where received descriptors are checked for a close (none: never dropped but at exit).
  void set_fd_source(FdSource* source) { fdpass_ = FdPassTracker(source); }

 private:
  struct Task {
    uint32_t tgid = 0;
    uint32_t ppid = 0;
    std::string comm;
    bool exited = false;
    uint64_t exit_seen_update = 0;  // update number in which the exit was seen
    bool born_traced = false;       // its fork was seen: lifetime counters are all new
  };
  struct FlowPrev {
    uint64_t bytes = 0;
    uint64_t messages = 0;
    uint64_t last_change = 0;  // update number
  };
  struct Process {
    uint32_t ppid = 0;
    std::string comm;
    std::vector<std::string> cmdline;
    bool cmdline_read = false;
    bool exited = false;
    // For applications: read once per exec.
    std::optional<uint32_t> session;
    std::string exe;
    bool identity_read = false;
  };
  struct WakeupPrev {
    uint64_t count = 0;
    uint64_t cross_cpu = 0;
    LatCounters latency;
    uint64_t last_change = 0;  // update number
  };
  struct ProcRunPrev {
    uint64_t busy_ns = 0;
    uint64_t multi_ns = 0;
  };

  void apply(const TaskRecord& r);
  Task& task(uint32_t tgid, uint32_t tid);
  Process& process(uint32_t pid);
  TaskRef ref(uint32_t pid, uint32_t tid);
  const std::string& path_of(Kind kind, uint64_t ino, uint32_t dev, const std::set<uint32_t>& pids);

  NameSource& names_;
  Filter filter_;
  uint64_t updates_ = 0;
  std::unordered_map<uint32_t, Task> tasks_;         // by tid
  std::unordered_map<uint32_t, Process> processes_;  // by tgid
  std::unordered_map<ipctop_flow_key, FlowPrev, FlowKeyHash, FlowKeyEq> prev_flows_;
  std::unordered_map<uint32_t, std::vector<ThreadCounters>> prev_threads_;
  std::vector<CpuCounters> prev_cpus_;
  uint64_t prev_malformed_ = 0;
  uint64_t prev_orphan_bytes_ = 0;
  uint64_t prev_orphan_messages_ = 0;
  std::unordered_map<std::string, std::string> paths_;  // channel id -> path
  std::unordered_map<uint64_t, ipctop_conn> conns_;      // TCP/UDP channel hash -> addresses
  ShmTracker shm_;  // shared memory segments and who is attached (model/Shm.cpp)
  FdPassTracker fdpass_;  // descriptors received over unix sockets (model/FdPass.cpp)
  std::map<ipctop_wakeup_key, WakeupPrev, WakeupKeyLess> prev_wakeups_;
  std::unordered_map<uint32_t, ProcRunPrev> prev_proc_runs_;
  std::vector<std::array<uint64_t, 2>> prev_cpu_migrations_;
};

}  // namespace ipctop
