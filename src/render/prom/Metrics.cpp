#include "render/prom/Metrics.h"

#include <algorithm>
#include <chrono>
#include <initializer_list>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "model/Text.h"

namespace ipctop::render::prom {

namespace {

using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

// The text format is line-oriented: every family once, its samples together.
class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  void family(std::string_view name, std::string_view type, std::string_view help) {
    name_ = name;
    fmt::format_to(std::back_inserter(out_), "# HELP {} {}\n# TYPE {} {}\n", name, help, name,
                   type);
  }

  template <typename V>
  void sample(Labels labels, V value) {
    out_ += name_;
    if (labels.size()) {
      out_ += '{';
      bool first = true;
      for (const auto& [k, v] : labels) {
        if (!first) out_ += ',';
        first = false;
        fmt::format_to(std::back_inserter(out_), "{}=\"{}\"", k, v);
      }
      out_ += '}';
    }
    fmt::format_to(std::back_inserter(out_), " {}\n", value);
  }

 private:
  std::string& out_;
  std::string name_;
};

std::string pid_label(const TaskRef& t) {
  // A remote peer (TCP/UDP) has an address in place of a process.
  return t.addr.empty() ? std::to_string(t.pid) : "remote";
}

// The process's name where the snapshot has it (a flow names its thread).
std::string comm_label(const TaskRef& t, const std::map<uint32_t, const std::string*>& names) {
  if (!t.addr.empty()) return label_value(t.addr);
  auto it = names.find(t.pid);
  return label_value(it != names.end() ? *it->second : t.comm);
}

constexpr Kind kAllKinds[] = {
    Kind::pipe,      Kind::fifo, Kind::unix_stream, Kind::unix_dgram, Kind::unix_seqpacket,
    Kind::tcp,       Kind::udp,  Kind::sysv_msg,    Kind::posix_mq,   Kind::sysv_shm,
    Kind::posix_shm, Kind::file, Kind::signal};

}  // namespace

std::string label_value(std::string_view raw) {
  std::string clean = sanitize(raw);
  std::string out;
  out.reserve(clean.size());
  for (char c : clean) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

void Metrics::admit(const std::map<FlowKey, Counts>& fresh, double now) {
  std::vector<std::pair<FlowKey, Counts>> candidates(fresh.begin(), fresh.end());
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const auto& a, const auto& b) { return a.second.bytes > b.second.bytes; });
  size_t next = 0;
  while (next < candidates.size()) {
    if (exported_.size() >= cfg_.top_n) {
      // Make room: the series idle the longest, if idle long enough.
      auto idlest = exported_.end();
      for (auto it = exported_.begin(); it != exported_.end(); ++it)
        if (idlest == exported_.end() || it->second.last_active < idlest->second.last_active)
          idlest = it;
      if (idlest == exported_.end() || now - idlest->second.last_active < cfg_.idle_evict_s) break;
      retired_[idlest->first] = {idlest->second.total, now};
      exported_.erase(idlest);
      ++evictions_;
      if (retired_.size() > cfg_.retired_cap) {
        auto oldest = std::min_element(
            retired_.begin(), retired_.end(),
            [](const auto& a, const auto& b) { return a.second.since < b.second.since; });
        retired_.erase(oldest);
      }
    }
    const auto& [key, counts] = candidates[next++];
    Series s;
    if (auto r = retired_.find(key); r != retired_.end()) {
      s.total = r->second.total;
      retired_.erase(r);
    }
    s.total.bytes += counts.bytes;
    s.total.messages += counts.messages;
    s.last_active = now;
    exported_[key] = s;
  }
  for (; next < candidates.size(); ++next) {
    Counts& o = other_[candidates[next].first.kind];
    o.bytes += candidates[next].second.bytes;
    o.messages += candidates[next].second.messages;
  }
}

void Metrics::add(const Snapshot& snap) {
  ++snapshots_;
  last_time_ = snap.time;
  // Threads of one process share a series: the process is the unit people alert on.
  std::map<uint32_t, const std::string*> names;
  for (const auto& p : snap.processes) names[p.pid] = &p.comm;
  std::map<FlowKey, Counts> interval;
  for (const auto& f : snap.flows) {
    FlowKey key{f.kind, pid_label(f.src), comm_label(f.src, names), pid_label(f.dst),
                comm_label(f.dst, names)};
    Counts& c = interval[key];
    c.bytes += f.bytes;
    c.messages += f.messages;
    by_kind_[f.kind].bytes += f.bytes;
    by_kind_[f.kind].messages += f.messages;
  }
  std::map<FlowKey, Counts> fresh;
  for (const auto& [key, counts] : interval) {
    auto it = exported_.find(key);
    if (it == exported_.end()) {
      fresh.emplace(key, counts);
      continue;
    }
    it->second.total.bytes += counts.bytes;
    it->second.total.messages += counts.messages;
    it->second.last_active = snap.time;
  }
  admit(fresh, snap.time);

  for (const auto& c : snap.cpus) {
    CpuTotals& t = cpus_[c.cpu];
    t.voluntary += c.voluntary;
    t.involuntary += c.involuntary;
    t.idle_ns += c.idle_ns;
    t.tx_bytes += c.tx_bytes;
    t.rx_bytes += c.rx_bytes;
  }
  for (const auto& [point, n] : snap.lost.by_point) lost_[point] += n;
  for (const auto& f : snap.failures)
    failures_[{f.syscall, f.err.empty() ? "none" : f.err}] += f.count;
  unattributed_.bytes += snap.unattributed_bytes;
  unattributed_.messages += snap.unattributed_messages;
}

std::string Metrics::render(const Health& health) const {
  auto started = std::chrono::steady_clock::now();
  std::string out;
  out.reserve(4096 + exported_.size() * 300);
  Writer w(out);

  w.family("ipctop_up", "gauge", "1 while ipctop runs and serves metrics.");
  w.sample({}, 1);
  w.family("ipctop_info", "gauge", "The ipctop version, as a label; the value is 1.");
  w.sample({{"version", label_value(health.version)}}, 1);
  w.family("ipctop_probes_attached", "gauge", "Kernel probes attached.");
  w.sample({}, health.probes_attached);
  w.family("ipctop_probes", "gauge", "Kernel probes ipctop knows, attached or not.");
  w.sample({}, health.probes_total);
  w.family("ipctop_snapshots_total", "counter", "Intervals accumulated since ipctop started.");
  w.sample({}, snapshots_);
  w.family("ipctop_last_snapshot_timestamp_seconds", "gauge",
           "Unix time at the end of the last interval accumulated.");
  w.sample({}, fmt::format("{:.3f}", last_time_));

  // One sample per exported flow, then one per kind for the rest.
  auto flow_samples = [&](uint64_t Counts::*field) {
    for (const auto& [k, s] : exported_)
      w.sample({{"kind", kind_name(k.kind)},
                {"src_pid", k.src_pid},
                {"src_comm", k.src_comm},
                {"dst_pid", k.dst_pid},
                {"dst_comm", k.dst_comm}},
               s.total.*field);
    for (const auto& [kind, c] : other_)
      w.sample({{"kind", kind_name(kind)},
                {"src_pid", "other"},
                {"src_comm", "other"},
                {"dst_pid", "other"},
                {"dst_comm", "other"}},
               c.*field);
  };
  w.family("ipctop_flow_bytes_total", "counter",
           "Bytes the receiving process consumed from the sending process, per kind; "
           "src_pid=\"other\" counts the flows without a series of their own (see --prom-top).");
  flow_samples(&Counts::bytes);
  w.family("ipctop_flow_messages_total", "counter",
           "Messages (receive calls on streams, datagrams otherwise) of the same flows.");
  flow_samples(&Counts::messages);
  w.family("ipctop_flow_series", "gauge", "Flow series exported now (at most --prom-top).");
  w.sample({}, exported_.size());
  w.family("ipctop_flow_series_evicted_total", "counter",
           "Flow series given up after their flow was idle, to make room for a new flow.");
  w.sample({}, evictions_);

  auto by_kind = [&](auto member) {
    for (Kind k : kAllKinds) {
      auto it = by_kind_.find(k);
      w.sample({{"kind", kind_name(k)}}, it == by_kind_.end() ? 0 : it->second.*member);
    }
  };
  w.family("ipctop_kind_bytes_total", "counter", "Bytes of all flows of each kind.");
  by_kind(&Counts::bytes);
  w.family("ipctop_kind_messages_total", "counter", "Messages of all flows of each kind.");
  by_kind(&Counts::messages);
  w.family("ipctop_unattributed_bytes_total", "counter",
           "Bytes read whose writer could not be recorded.");
  w.sample({}, unattributed_.bytes);
  w.family("ipctop_unattributed_messages_total", "counter",
           "Messages read whose writer could not be recorded.");
  w.sample({}, unattributed_.messages);

  w.family(
      "ipctop_cpu_context_switches_total", "counter",
      "Context switches on each CPU, voluntary (the task blocked) or involuntary (preempted).");
  for (const auto& [cpu, t] : cpus_) {
    std::string c = std::to_string(cpu);
    w.sample({{"cpu", c}, {"type", "voluntary"}}, t.voluntary);
    w.sample({{"cpu", c}, {"type", "involuntary"}}, t.involuntary);
  }
  w.family("ipctop_cpu_ipc_bytes_total", "counter",
           "Flow bytes sent (tx) from and received (rx) on each CPU.");
  for (const auto& [cpu, t] : cpus_) {
    std::string c = std::to_string(cpu);
    w.sample({{"cpu", c}, {"direction", "tx"}}, t.tx_bytes);
    w.sample({{"cpu", c}, {"direction", "rx"}}, t.rx_bytes);
  }
  w.family("ipctop_cpu_idle_seconds_total", "counter",
           "Time each CPU ran no task, from the run time of the tasks switched out on it.");
  for (const auto& [cpu, t] : cpus_)
    w.sample({{"cpu", std::to_string(cpu)}},
             fmt::format("{:.9f}", static_cast<double>(t.idle_ns) * 1e-9));

  w.family("ipctop_ipc_failures_total", "counter",
           "IPC syscalls that failed, by syscall and errno (none: a pipe created shrunk).");
  for (const auto& [key, n] : failures_)
    w.sample({{"syscall", label_value(key.first)}, {"errno", label_value(key.second)}}, n);
  w.family("ipctop_lost_events_total", "counter",
           "Events ipctop could not count, by the point where they were dropped.");
  for (const auto& [point, n] : lost_) w.sample({{"point", label_value(point)}}, n);

  w.family("ipctop_scrape_duration_seconds", "gauge", "Time taken to render this page.");
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
  w.sample({}, fmt::format("{:.6f}", took.count()));
  return out;
}

}  // namespace ipctop::render::prom
