#include "render/json/Json.h"

#include <fmt/format.h>

#include "model/Signals.h"
#include "model/Text.h"

namespace ipctop::render {

namespace {

using nlohmann::json;

// A remote TCP/UDP peer is its address, in place of a task.
json task_ref(const TaskRef& t) {
  if (!t.addr.empty()) return {{"addr", sanitize(t.addr)}};
  return {{"pid", t.pid}, {"tid", t.tid}, {"comm", sanitize(t.comm)}};
}

json cpu_split(const std::map<uint32_t, uint64_t>& split) {
  json out = json::object();
  for (const auto& [cpu, bytes] : split) out[std::to_string(cpu)] = bytes;
  return out;
}

// A latency distribution: p50/p99/max in microseconds, hist keyed by each
// log2 bucket's upper bound in microseconds.
json latency_json(const LatencyRow& l) {
  json hist = json::object();
  for (const auto& [bound, n] : l.hist) hist[std::to_string(bound)] = n;
  return {{"count", l.count}, {"p50", l.p50_us}, {"p99", l.p99_us}, {"max", l.max_us}, {"hist", hist}};
}

double seconds(uint64_t ns) { return static_cast<double>(ns) / 1e9; }

json thread_json(const ThreadRow& t) {
  return {{"tid", t.tid},
          {"comm", sanitize(t.comm)},
          {"ctx_switches", t.ctx_switches},
          {"voluntary", t.voluntary},
          {"involuntary", t.involuntary},
          {"on_cpu_ns", t.oncpu_ns},
          {"tx_bytes", t.tx_bytes},
          {"rx_bytes", t.rx_bytes},
          {"tx_messages", t.tx_messages},
          {"rx_messages", t.rx_messages},
          {"on_cpu_s", seconds(t.oncpu_ns)},
          {"cpus_used", t.cpus_used},
          {"runq_latency_us", latency_json(t.runq_latency)},
          {"migrations", t.migrations},
          {"handoffs", t.handoffs},
          {"exited", t.exited}};
}

json process_json(const ProcessRow& p) {
  json threads = json::array();
  for (const auto& t : p.threads) threads.push_back(thread_json(t));
  json cmdline = json::array();
  for (const auto& arg : p.cmdline) cmdline.push_back(sanitize(arg));
  return {{"pid", p.pid},
          {"ppid", p.ppid},
          {"comm", sanitize(p.comm)},
          {"cmdline", cmdline},
          {"threads", threads},
          {"tx_bytes", p.tx_bytes},
          {"rx_bytes", p.rx_bytes},
          {"on_cpu_s", seconds(p.oncpu_ns)},
          {"parallelism", p.parallelism},
          {"busy_s", seconds(p.busy_ns)},
          {"concurrent_s", seconds(p.concurrent_ns)},
          {"handoffs", p.handoffs},
          {"cpus_used", p.cpus_used},
          {"runq_latency_us", latency_json(p.runq_latency)},
          {"migrations", p.migrations},
          {"exited", p.exited}};
}

// Shared memory segments: SysV key and id, creator, IPC_RMID done (size is
// written for every channel that has one).
void shm_channel_fields(const ChannelRow& c, json& out) {
  if (c.kind != Kind::sysv_shm && c.kind != Kind::posix_shm) return;
  if (c.shm_key) out["key"] = fmt::format("0x{:08x}", *c.shm_key);
  if (c.shmid) out["shmid"] = *c.shmid;
  if (c.creator) out["creator"] = *c.creator;
  if (c.kind == Kind::sysv_shm && c.shmid) out["removed"] = c.removed;
}

// Signals: the name, and the ones the kernel discarded (not in messages).
void signal_flow_fields(const FlowRow& f, json& out) {
  if (f.kind != Kind::signal) return;
  out["signal"] = signal_name(f.signo);
  out["discarded"] = {{"ignored", f.signals_ignored},
                      {"coalesced", f.signals_coalesced},
                      {"overflow", f.signals_overflow}};
}

json channel_json(const ChannelRow& c) {
  json endpoints = json::array();
  for (const auto& e : c.endpoints) {
    json ep = {{"pid", e.pid}, {"tid", e.tid}, {"role", e.role}};
    if (!e.fds.empty()) ep["fds"] = e.fds;
    endpoints.push_back(std::move(ep));
  }
  json out = {{"id", sanitize(c.id)},
              {"kind", kind_name(c.kind)},
              {"bytes", c.bytes},
              {"messages", c.messages},
              {"endpoints", endpoints}};
  if (!c.path.empty()) out["path"] = sanitize(c.path);
  if (c.size) out["size"] = *c.size;
  if (c.queued) out["queued"] = *c.queued;
  if (c.capacity) out["capacity"] = *c.capacity;
  shm_channel_fields(c, out);
  return out;
}

// A procfs snapshot has no traffic: its byte and message keys are left out
// rather than written as zeros a reader could take for "idle".
json without_traffic(json j) {
  for (const char* key : {"bytes", "messages", "tx_bytes", "rx_bytes", "tx_messages",
                          "rx_messages"})
    j.erase(key);
  if (j.contains("threads"))
    for (auto& t : j["threads"]) t = without_traffic(std::move(t));
  return j;
}

json process_json_procfs(const ProcessRow& p) { return without_traffic(process_json(p)); }

json channel_json_procfs(const ChannelRow& c) { return without_traffic(channel_json(c)); }

json flow_json(const FlowRow& f) {
  json out = {{"kind", kind_name(f.kind)}, {"channel", sanitize(f.channel)},
              {"src", task_ref(f.src)},    {"dst", task_ref(f.dst)},
              {"bytes", f.bytes},          {"messages", f.messages},
              {"cpus", cpu_split(f.cpus)}, {"rx_cpus", cpu_split(f.rx_cpus)}};
  signal_flow_fields(f, out);
  if (f.wakeup_latency) out["wakeup_latency_us"] = latency_json(*f.wakeup_latency);
  return out;
}

json matrix_json(const MatrixCell& c) {
  return {{"src_cpu", c.src_cpu}, {"dst_cpu", c.dst_cpu}, {"bytes", c.bytes}, {"messages", c.messages}};
}

json wakeup_json(const WakeupRow& w) {
  return {{"waker", task_ref(w.waker)},
          {"wakee", task_ref(w.wakee)},
          {"count", w.count},
          {"cross_cpu", w.cross_cpu}};
}

json app_json(const AppRow& a) {
  json members = json::array();
  for (const auto& m : a.members) members.push_back({{"pid", m.pid}, {"role", sanitize(m.role)}});
  return {{"name", sanitize(a.name)},
          {"root_pid", a.root_pid},
          {"members", members},
          {"internal_bytes", a.internal_bytes},
          {"external_bytes", a.external_bytes}};
}

json failure_json(const FailureRow& f) {
  auto or_null = [](const std::optional<std::string>& s) {
    return s ? json(sanitize(*s)) : json(nullptr);
  };
  return {{"syscall", f.syscall},
          {"errno", f.err.empty() ? json(nullptr) : json(f.err)},
          {"pid", f.pid},
          {"tid", f.tid},
          {"comm", sanitize(f.comm)},
          {"count", f.count},
          {"blocked", f.blocked},
          {"limit", or_null(f.diagnosis.limit)},
          {"detail", sanitize(f.diagnosis.detail)},
          {"fix", or_null(f.diagnosis.fix)}};
}

// Everything but the arrays that grow with the number of tasks and flows.
json head_json(const Snapshot& snap) {
  json cpus = json::array();
  for (const auto& c : snap.cpus)
    cpus.push_back({{"cpu", c.cpu},
                    {"ctx_switches", c.ctx_switches},
                    {"voluntary", c.voluntary},
                    {"involuntary", c.involuntary},
                    {"idle_ns", c.idle_ns},
                    {"idle_s", seconds(c.idle_ns)},
                    {"tx_bytes", c.tx_bytes},
                    {"rx_bytes", c.rx_bytes},
                    {"migrations", c.migrations},
                    {"migrations_out", c.migrations_out},
                    {"switches_untraced", c.switches_untraced},
                    {"runq_latency_us", latency_json(c.runq_latency)}});
  json failures = json::array();
  for (const auto& f : snap.failures) failures.push_back(failure_json(f));
  json lost = {{"events", snap.lost.events}};
  for (const auto& [point, n] : snap.lost.by_point) lost[point] = n;
  if (snap.source == "procfs")
    return {{"schema", kSchema},
            {"source", snap.source},
            {"time", snap.time},
            {"interval_s", snap.interval_s},
            {"cpus", cpus},
            {"unreadable_processes", snap.unreadable_processes},
            {"lost", lost},
            {"failures", failures}};
  return {{"schema", kSchema},
          {"source", snap.source},
          {"time", snap.time},
          {"interval_s", snap.interval_s},
          {"cpus", cpus},
          {"unattributed",
           {{"bytes", snap.unattributed_bytes}, {"messages", snap.unattributed_messages}}},
          {"lost", lost},
          {"failures", failures}};
}

template <typename Rows, typename ToJson>
json array_json(const Rows& rows, ToJson to_row) {
  json out = json::array();
  for (const auto& r : rows) out.push_back(to_row(r));
  return out;
}

// One element at a time: the peak memory is one row's tree, not the
// snapshot's (10 000 threads make a line of more than a megabyte).
template <typename Rows, typename ToJson>
void stream_array(std::ostream& out, const char* key, const Rows& rows, ToJson to_row) {
  out << ",\"" << key << "\":[";
  bool first = true;
  for (const auto& r : rows) {
    if (!first) out << ',';
    first = false;
    out << to_row(r).dump();
  }
  out << ']';
}

}  // namespace

json to_json(const Snapshot& snap) {
  json out = head_json(snap);
  const bool procfs = snap.source == "procfs";
  out["processes"] = array_json(snap.processes, procfs ? process_json_procfs : process_json);
  out["channels"] = array_json(snap.channels, procfs ? channel_json_procfs : channel_json);
  out["flows"] = array_json(snap.flows, flow_json);
  out["matrix"] = array_json(snap.matrix, matrix_json);
  out["wakeups"] = array_json(snap.wakeups, wakeup_json);
  out["apps"] = array_json(snap.apps, app_json);
  return out;
}

void write_ndjson(const Snapshot& snap, std::ostream& out) {
  std::string head = head_json(snap).dump();
  head.pop_back();  // the closing brace: the large arrays follow
  out << head;
  const bool procfs = snap.source == "procfs";
  stream_array(out, "processes", snap.processes, procfs ? process_json_procfs : process_json);
  stream_array(out, "channels", snap.channels, procfs ? channel_json_procfs : channel_json);
  stream_array(out, "flows", snap.flows, flow_json);
  stream_array(out, "matrix", snap.matrix, matrix_json);
  stream_array(out, "wakeups", snap.wakeups, wakeup_json);
  stream_array(out, "apps", snap.apps, app_json);
  out << "}\n";
  out.flush();
}

}  // namespace ipctop::render
