// The snapshot ipctop shows without BPF (--no-bpf, or when BPF is not permitted): channel
// endpoints from /proc/PID/fd and sock_diag, IPC objects from /proc/sysvipc and /dev/shm, and
// per-thread context switches and run time from /proc, as deltas over the interval. No flows,
// no byte counts: Snapshot::source is "procfs".
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "limits/Limits.h"
#include "model/Snapshot.h"
#include "procfs/ProcFs.h"
#include "procfs/SockDiag.h"

namespace ipctop::nobpf {

struct Config {
  std::string proc_root = "/proc";
  std::set<uint32_t> pids;  // empty: every process
  // Both default to the live system (sock_diag; limits::collect under proc_root).
  std::function<procfs::SocketTables()> sockets;
  std::function<limits::Objects()> objects;
};

// SysV queues and segments and POSIX shared memory as channels: their last users (SysV) or
// the processes that have them open or mapped (POSIX). POSIX queues are found through fds;
// `queued` of their channels is set from the objects.
void add_object_channels(const limits::Objects& objects, std::vector<ChannelRow>& channels);

class Collector {
 public:
  // Reads the first context-switch counters: the first snapshot covers the time from here.
  explicit Collector(Config config);

  Snapshot collect(double unix_time, double interval_s);

  // What could not be read in the last collect() and was not reported before (a missing
  // sock_diag module, say): the caller prints each once.
  std::vector<std::string> take_new_errors();

 private:
  struct Counters {
    uint64_t voluntary = 0;
    uint64_t involuntary = 0;
    uint64_t oncpu_ns = 0;
  };
  struct Task {
    uint32_t pid = 0;
    std::string comm;
    Counters counters;
  };
  std::map<uint32_t, Task> read_tasks(std::map<uint32_t, procfs::TaskStatus>& processes) const;

  Config config_;
  procfs::ProcFs proc_;
  std::map<uint32_t, Task> previous_;  // by tid
  std::set<std::string> reported_;
  std::vector<std::string> new_errors_;
};

}  // namespace ipctop::nobpf
