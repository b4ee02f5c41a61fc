// Prometheus exposition (text format 0.0.4) of what ipctop saw since it
// started. Snapshots carry per-interval deltas; this accumulates them into
// counters. Pure: no sockets, no clock but the snapshots' own time.
//
// Bounded cardinality with monotonic counters: a flow (kind, sender process,
// receiver process) gets its own series while fewer than `top_n` flow series
// are exported, the busiest of an interval's new flows first; the bytes of a
// flow without a series go to the `other` series of its kind. A series only
// ever counts what its flow moved while it was exported, so it never goes
// down, and the flow series plus `other` add up to every byte. A series whose
// flow was idle for `idle_evict_s` gives its place up to a new flow; its
// value is remembered (up to `retired_cap` of them), so if the flow comes
// back and gets a series again it continues where it stopped.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>

#include "model/Snapshot.h"

namespace ipctop::render::prom {

inline constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

struct Config {
  uint32_t top_n = 100;
  double idle_evict_s = 600;  // longer than Prometheus' 5 minutes of staleness
  size_t retired_cap = 4096;
};

// ipctop's own state, set by the app.
struct Health {
  std::string version;
  size_t probes_attached = 0;
  size_t probes_total = 0;
};

// A label value as the format wants it: sanitized (no control characters,
// valid UTF-8: comm names are chosen by arbitrary processes), then `\`, `"`
// and newline escaped.
std::string label_value(std::string_view raw);

class Metrics {
 public:
  explicit Metrics(Config cfg = {}) : cfg_(cfg) {}

  void add(const Snapshot& snap);
  // The whole /metrics body; its last sample is the time this render took.
  std::string render(const Health& health) const;

  size_t flow_series() const { return exported_.size(); }

 private:
  struct FlowKey {
    Kind kind = Kind::pipe;
    std::string src_pid, src_comm, dst_pid, dst_comm;  // label values, escaped
    bool operator<(const FlowKey& o) const {
      return std::tie(kind, src_pid, src_comm, dst_pid, dst_comm) <
             std::tie(o.kind, o.src_pid, o.src_comm, o.dst_pid, o.dst_comm);
    }
  };
  struct Counts {
    uint64_t bytes = 0;
    uint64_t messages = 0;
  };
  struct Series {
    Counts total;
    double last_active = 0;
  };
  struct Retired {
    Counts total;
    double since = 0;
  };
  struct CpuTotals {
    uint64_t voluntary = 0, involuntary = 0, idle_ns = 0, tx_bytes = 0, rx_bytes = 0;
  };

  void admit(const std::map<FlowKey, Counts>& fresh, double now);

  Config cfg_;
  std::map<FlowKey, Series> exported_;
  std::map<FlowKey, Retired> retired_;
  std::map<Kind, Counts> other_;
  std::map<Kind, Counts> by_kind_;
  std::map<uint32_t, CpuTotals> cpus_;
  std::map<std::string, uint64_t> lost_;
  std::map<std::pair<std::string, std::string>, uint64_t> failures_;  // (syscall, errno)
  Counts unattributed_;
  uint64_t snapshots_ = 0;
  double last_time_ = 0;
  uint64_t evictions_ = 0;
};

}  // namespace ipctop::render::prom
