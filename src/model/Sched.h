// Scheduler detail of a snapshot: latency histograms and percentiles, the
// cross-CPU matrix, and multi-process applications with their roles.
// Pure functions over plain data, unit-tested without a kernel.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/Sample.h"
#include "model/Snapshot.h"

namespace ipctop {

// A latency distribution being summed over CPUs, threads or intervals.
struct LatAcc {
  uint64_t count = 0;
  uint64_t max_ns = 0;
  std::array<uint64_t, IPCTOP_LAT_BUCKETS> hist{};
  void add(const LatAcc& o);
};

// now - before of one kernel histogram (u32 bucket counts wrap: differences
// are taken modulo 2^32). The max counts when it was stamped in `epoch` (the
// interval that just ended) or later.
LatAcc lat_delta(const LatCounters& now, const LatCounters& before, uint64_t epoch);

// Upper bound in microseconds of histogram bucket i (the last bucket is
// open-ended: keyed by the interval's max, at least its nominal bound).
uint64_t lat_bucket_bound_us(size_t i);

// p50/p99 are the upper bound of the bucket holding that rank, never above
// the exact max; hist is keyed by bucket upper bound.
LatencyRow latency_row(const LatAcc& acc);

// Bytes from threads on src_cpu to threads receiving on dst_cpu.
std::vector<MatrixCell> cross_cpu_matrix(const std::vector<FlowSample>& deltas);

// The role a process's command line gives it within its application: the
// Chromium/Electron --type=, Firefox -contentproc, and the process titles of
// postgres, nginx, sshd and systemd. Empty when unknown.
std::string process_role(const std::vector<std::string>& cmdline, uint32_t pid);

// What the app grouping needs to know about a process.
struct AppProcess {
  uint32_t pid = 0;
  uint32_t ppid = 0;
  std::optional<uint32_t> session;
  std::string exe;  // executable path, else argv[0], else comm
  std::string comm;
  std::vector<std::string> cmdline;
};

// Groups processes into multi-process applications: a process joins its
// parent's application when both run the same executable, or when it has a
// role argument (--type=, -contentproc) and shares its parent's session.
// `active` are the processes of the interval; `lookup` describes any pid
// (parents not active in the interval included), nullopt when unknown.
// Applications have at least two members; bytes are split by the flows.
std::vector<AppRow> group_apps(const std::vector<uint32_t>& active,
                               const std::function<std::optional<AppProcess>(uint32_t)>& lookup,
                               const std::vector<FlowRow>& flows);

}  // namespace ipctop
