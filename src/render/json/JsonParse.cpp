#include "render/json/JsonParse.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>

#include <fmt/format.h>

#include "model/Signals.h"
#include "render/json/Json.h"

namespace ipctop::render {

namespace {

using nlohmann::json;

// Thrown inside this file only, caught by from_json: a malformed recording
// is an ordinary error value for the caller.
struct Bad {
  std::string message;
};

[[noreturn]] void fail(const std::string& where, const std::string& what) {
  throw Bad{fmt::format("{}: {}", where, what)};
}

std::string at(const std::string& where, const std::string& key) {
  return where.empty() ? key : where + "." + key;
}

std::string at(const std::string& where, size_t i) { return fmt::format("{}[{}]", where, i); }

const json& field(const json& obj, const std::string& where, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end()) fail(at(where, key), "missing");
  return *it;
}

const json& object(const json& v, const std::string& where) {
  if (!v.is_object()) fail(where, "not an object");
  return v;
}

const json& array(const json& obj, const std::string& where, const char* key) {
  const json& v = field(obj, where, key);
  if (!v.is_array()) fail(at(where, key), "not an array");
  return v;
}

template <typename T = uint64_t>
T unsigned_value(const json& v, const std::string& where) {
  if (!v.is_number_unsigned()) fail(where, "not an unsigned integer");
  uint64_t n = v.get<uint64_t>();
  if (n > std::numeric_limits<T>::max()) fail(where, fmt::format("{} is out of range", n));
  return static_cast<T>(n);
}

template <typename T = uint64_t>
T unsigned_field(const json& obj, const std::string& where, const char* key) {
  return unsigned_value<T>(field(obj, where, key), at(where, key));
}

double number_field(const json& obj, const std::string& where, const char* key) {
  const json& v = field(obj, where, key);
  if (!v.is_number()) fail(at(where, key), "not a number");
  return v.get<double>();
}

std::string string_value(const json& v, const std::string& where) {
  if (!v.is_string()) fail(where, "not a string");
  return v.get<std::string>();
}

std::string string_field(const json& obj, const std::string& where, const char* key) {
  return string_value(field(obj, where, key), at(where, key));
}

std::optional<std::string> nullable_string(const json& obj, const std::string& where,
                                           const char* key) {
  const json& v = field(obj, where, key);
  if (v.is_null()) return std::nullopt;
  return string_value(v, at(where, key));
}

bool bool_field(const json& obj, const std::string& where, const char* key) {
  const json& v = field(obj, where, key);
  if (!v.is_boolean()) fail(at(where, key), "not true or false");
  return v.get<bool>();
}

Kind kind_field(const json& obj, const std::string& where) {
  std::string name = string_field(obj, where, "kind");
  for (auto k = static_cast<uint8_t>(Kind::pipe); k <= static_cast<uint8_t>(Kind::signal); ++k)
    if (kind_name(static_cast<Kind>(k)) == name) return static_cast<Kind>(k);
  fail(at(where, "kind"), fmt::format("unknown kind '{}'", name));
}

TaskRef task_ref(const json& v, const std::string& where) {
  object(v, where);
  TaskRef t;
  if (v.contains("addr") && !v.contains("pid")) {  // a remote peer
    t.addr = string_field(v, where, "addr");
    return t;
  }
  t.pid = unsigned_field<uint32_t>(v, where, "pid");
  t.tid = unsigned_field<uint32_t>(v, where, "tid");
  t.comm = string_field(v, where, "comm");
  if (v.contains("addr")) t.addr = string_field(v, where, "addr");
  return t;
}

std::map<uint32_t, uint64_t> cpu_split(const json& obj, const std::string& where, const char* key) {
  const json& v = field(obj, where, key);
  if (!v.is_object()) fail(at(where, key), "not an object");
  std::map<uint32_t, uint64_t> out;
  for (auto it = v.begin(); it != v.end(); ++it) {
    const std::string here = at(at(where, key), it.key());
    uint32_t cpu = 0;
    const std::string& k = it.key();
    if (k.empty() || k.size() > 10 || k.find_first_not_of("0123456789") != std::string::npos ||
        (k.size() > 1 && k[0] == '0') || std::stoull(k) > UINT32_MAX)
      fail(here, "the key is not a CPU number");
    cpu = static_cast<uint32_t>(std::stoull(k));
    out[cpu] = unsigned_value(it.value(), here);
  }
  return out;
}

// The writer prints some durations in seconds only (ns / 1e9): back to ns.
uint64_t seconds_as_ns(const json& obj, const std::string& where, const char* key) {
  double s = number_field(obj, where, key);
  if (!(s >= 0) || s > 1.8e10) fail(at(where, key), "not a duration in seconds");
  return static_cast<uint64_t>(std::llround(s * 1e9));
}

template <typename T>
std::vector<T> unsigned_list(const json& obj, const std::string& where, const char* key) {
  const json& list = array(obj, where, key);
  std::vector<T> out;
  for (size_t i = 0; i < list.size(); ++i)
    out.push_back(unsigned_value<T>(list[i], at(at(where, key), i)));
  return out;
}

LatencyRow latency(const json& obj, const std::string& where, const char* key) {
  const std::string w = at(where, key);
  const json& v = object(field(obj, where, key), w);
  LatencyRow l;
  l.count = unsigned_field(v, w, "count");
  l.p50_us = unsigned_field(v, w, "p50");
  l.p99_us = unsigned_field(v, w, "p99");
  l.max_us = unsigned_field(v, w, "max");
  const json& hist = object(field(v, w, "hist"), at(w, "hist"));
  for (auto it = hist.begin(); it != hist.end(); ++it) {
    const std::string& k = it.key();
    if (k.empty() || k.size() > 20 || k.find_first_not_of("0123456789") != std::string::npos)
      fail(at(at(w, "hist"), k), "the key is not a bucket bound");
    l.hist[std::stoull(k)] = unsigned_value(it.value(), at(at(w, "hist"), k));
  }
  return l;
}

// Keys a procfs snapshot leaves out (it has no traffic): zero when absent.
uint64_t traffic_field(const json& obj, const std::string& where, const char* key) {
  return obj.contains(key) ? unsigned_field(obj, where, key) : 0;
}

ThreadRow thread_row(const json& v, const std::string& w) {
  object(v, w);
  ThreadRow t;
  t.tid = unsigned_field<uint32_t>(v, w, "tid");
  t.comm = string_field(v, w, "comm");
  t.ctx_switches = unsigned_field(v, w, "ctx_switches");
  t.voluntary = unsigned_field(v, w, "voluntary");
  t.involuntary = unsigned_field(v, w, "involuntary");
  t.oncpu_ns = unsigned_field(v, w, "on_cpu_ns");
  t.tx_bytes = traffic_field(v, w, "tx_bytes");
  t.rx_bytes = traffic_field(v, w, "rx_bytes");
  t.tx_messages = traffic_field(v, w, "tx_messages");
  t.rx_messages = traffic_field(v, w, "rx_messages");
  t.cpus_used = unsigned_list<uint32_t>(v, w, "cpus_used");
  t.runq_latency = latency(v, w, "runq_latency_us");
  t.migrations = unsigned_field(v, w, "migrations");
  t.handoffs = unsigned_field(v, w, "handoffs");
  t.exited = bool_field(v, w, "exited");
  return t;
}

ProcessRow process_row(const json& v, const std::string& w) {
  object(v, w);
  ProcessRow p;
  p.pid = unsigned_field<uint32_t>(v, w, "pid");
  p.ppid = unsigned_field<uint32_t>(v, w, "ppid");
  p.comm = string_field(v, w, "comm");
  const json& cmdline = array(v, w, "cmdline");
  for (size_t i = 0; i < cmdline.size(); ++i)
    p.cmdline.push_back(string_value(cmdline[i], at(at(w, "cmdline"), i)));
  const json& threads = array(v, w, "threads");
  for (size_t i = 0; i < threads.size(); ++i)
    p.threads.push_back(thread_row(threads[i], at(at(w, "threads"), i)));
  p.tx_bytes = traffic_field(v, w, "tx_bytes");
  p.rx_bytes = traffic_field(v, w, "rx_bytes");
  p.oncpu_ns = seconds_as_ns(v, w, "on_cpu_s");
  p.parallelism = number_field(v, w, "parallelism");
  p.busy_ns = seconds_as_ns(v, w, "busy_s");
  p.concurrent_ns = seconds_as_ns(v, w, "concurrent_s");
  p.handoffs = unsigned_field(v, w, "handoffs");
  p.cpus_used = unsigned_list<uint32_t>(v, w, "cpus_used");
  p.runq_latency = latency(v, w, "runq_latency_us");
  p.migrations = unsigned_field(v, w, "migrations");
  p.exited = bool_field(v, w, "exited");
  return p;
}

ChannelRow channel_row(const json& v, const std::string& w) {
  object(v, w);
  ChannelRow c;
  c.id = string_field(v, w, "id");
  c.kind = kind_field(v, w);
  if (v.contains("path")) {
    c.path = string_field(v, w, "path");
    if (c.path.empty()) fail(at(w, "path"), "empty (written only when there is one)");
  }
  c.bytes = traffic_field(v, w, "bytes");
  c.messages = traffic_field(v, w, "messages");
  if (v.contains("key")) {
    const std::string key = string_field(v, w, "key");
    if (key.size() != 10 || key.compare(0, 2, "0x") != 0 ||
        key.find_first_not_of("0123456789abcdef", 2) != std::string::npos)
      fail(at(w, "key"), "not a SysV key (0x and 8 hex digits)");
    c.shm_key = static_cast<uint32_t>(std::stoul(key.substr(2), nullptr, 16));
  }
  if (v.contains("shmid")) c.shmid = unsigned_field(v, w, "shmid");
  if (v.contains("creator")) c.creator = unsigned_field<uint32_t>(v, w, "creator");
  if (v.contains("removed")) c.removed = bool_field(v, w, "removed");
  for (const char* key : {"size", "queued", "capacity"})
    if (v.contains(key)) {
      uint64_t n = unsigned_field(v, w, key);
      (key[0] == 's' ? c.size : key[0] == 'q' ? c.queued : c.capacity) = n;
    }
  const json& endpoints = array(v, w, "endpoints");
  for (size_t i = 0; i < endpoints.size(); ++i) {
    const std::string here = at(at(w, "endpoints"), i);
    object(endpoints[i], here);
    EndpointRow e{unsigned_field<uint32_t>(endpoints[i], here, "pid"),
                  unsigned_field<uint32_t>(endpoints[i], here, "tid"),
                  string_field(endpoints[i], here, "role")};
    if (endpoints[i].contains("fds")) e.fds = unsigned_list<uint32_t>(endpoints[i], here, "fds");
    c.endpoints.push_back(std::move(e));
  }
  return c;
}

FlowRow flow_row(const json& v, const std::string& w) {
  object(v, w);
  FlowRow f;
  f.kind = kind_field(v, w);
  f.channel = string_field(v, w, "channel");
  f.src = task_ref(field(v, w, "src"), at(w, "src"));
  f.dst = task_ref(field(v, w, "dst"), at(w, "dst"));
  f.bytes = unsigned_field(v, w, "bytes");
  f.messages = unsigned_field(v, w, "messages");
  f.cpus = cpu_split(v, w, "cpus");
  f.rx_cpus = cpu_split(v, w, "rx_cpus");
  if (f.kind == Kind::signal) {
    // Named as signal_name() writes it: a known name, or SIG<N>.
    const std::string name = string_field(v, w, "signal");
    bool known = false;
    for (int n = 1; n <= 64 && !known; ++n)
      if (signal_name(n) == name) f.signo = n, known = true;
    if (!known && name.size() > 3 && name.size() < 13 && name.compare(0, 3, "SIG") == 0 &&
        name.find_first_not_of("0123456789", 3) == std::string::npos)
      f.signo = std::stoi(name.substr(3)), known = true;
    if (!known) fail(at(w, "signal"), fmt::format("unknown signal '{}'", name));
    const std::string d = at(w, "discarded");
    const json& discarded = object(field(v, w, "discarded"), d);
    f.signals_ignored = unsigned_field(discarded, d, "ignored");
    f.signals_coalesced = unsigned_field(discarded, d, "coalesced");
    f.signals_overflow = unsigned_field(discarded, d, "overflow");
  }
  if (v.contains("wakeup_latency_us")) f.wakeup_latency = latency(v, w, "wakeup_latency_us");
  return f;
}

CpuRow cpu_row(const json& v, const std::string& w) {
  object(v, w);
  CpuRow c;
  c.cpu = unsigned_field<uint32_t>(v, w, "cpu");
  c.ctx_switches = unsigned_field(v, w, "ctx_switches");
  c.voluntary = unsigned_field(v, w, "voluntary");
  c.involuntary = unsigned_field(v, w, "involuntary");
  c.idle_ns = unsigned_field(v, w, "idle_ns");
  c.tx_bytes = unsigned_field(v, w, "tx_bytes");
  c.rx_bytes = unsigned_field(v, w, "rx_bytes");
  c.migrations = unsigned_field(v, w, "migrations");
  c.migrations_out = unsigned_field(v, w, "migrations_out");
  c.switches_untraced = unsigned_field(v, w, "switches_untraced");
  c.runq_latency = latency(v, w, "runq_latency_us");
  return c;
}

MatrixCell matrix_cell(const json& v, const std::string& w) {
  object(v, w);
  return {unsigned_field<uint32_t>(v, w, "src_cpu"), unsigned_field<uint32_t>(v, w, "dst_cpu"),
          unsigned_field(v, w, "bytes"), unsigned_field(v, w, "messages")};
}

WakeupRow wakeup_row(const json& v, const std::string& w) {
  object(v, w);
  return {task_ref(field(v, w, "waker"), at(w, "waker")),
          task_ref(field(v, w, "wakee"), at(w, "wakee")), unsigned_field(v, w, "count"),
          unsigned_field(v, w, "cross_cpu")};
}

AppRow app_row(const json& v, const std::string& w) {
  object(v, w);
  AppRow a;
  a.name = string_field(v, w, "name");
  a.root_pid = unsigned_field<uint32_t>(v, w, "root_pid");
  const json& members = array(v, w, "members");
  for (size_t i = 0; i < members.size(); ++i) {
    const std::string here = at(at(w, "members"), i);
    object(members[i], here);
    a.members.push_back(
        {unsigned_field<uint32_t>(members[i], here, "pid"), string_field(members[i], here, "role")});
  }
  a.internal_bytes = unsigned_field(v, w, "internal_bytes");
  a.external_bytes = unsigned_field(v, w, "external_bytes");
  return a;
}

FailureRow failure_row(const json& v, const std::string& w) {
  object(v, w);
  FailureRow f;
  f.syscall = string_field(v, w, "syscall");
  f.err = nullable_string(v, w, "errno").value_or("");
  f.pid = unsigned_field<uint32_t>(v, w, "pid");
  f.tid = unsigned_field<uint32_t>(v, w, "tid");
  f.comm = string_field(v, w, "comm");
  f.count = unsigned_field(v, w, "count");
  f.blocked = bool_field(v, w, "blocked");
  f.diagnosis.limit = nullable_string(v, w, "limit");
  f.diagnosis.detail = string_field(v, w, "detail");
  f.diagnosis.fix = nullable_string(v, w, "fix");
  return f;
}

template <typename Row, typename Parse>
void rows(const json& obj, const char* key, std::vector<Row>& out, Parse parse) {
  const json& list = array(obj, "", key);
  out.reserve(list.size());
  for (size_t i = 0; i < list.size(); ++i) out.push_back(parse(list[i], at(key, i)));
}

Snapshot snapshot(const json& obj) {
  object(obj, "the line");
  const std::string schema = string_field(obj, "", "schema");
  if (schema != kSchema)
    fail("schema", fmt::format("'{}' is not {} (a newer or older ipctop?)", schema, kSchema));
  Snapshot s;
  if (obj.contains("source")) s.source = string_field(obj, "", "source");
  s.time = number_field(obj, "", "time");
  s.interval_s = number_field(obj, "", "interval_s");
  rows(obj, "cpus", s.cpus, cpu_row);
  rows(obj, "processes", s.processes, process_row);
  rows(obj, "channels", s.channels, channel_row);
  rows(obj, "flows", s.flows, flow_row);
  rows(obj, "matrix", s.matrix, matrix_cell);
  rows(obj, "wakeups", s.wakeups, wakeup_row);
  rows(obj, "apps", s.apps, app_row);
  if (s.source == "procfs") {
    s.unreadable_processes = unsigned_field(obj, "", "unreadable_processes");
  } else {
    const json& un = object(field(obj, "", "unattributed"), "unattributed");
    s.unattributed_bytes = unsigned_field(un, "unattributed", "bytes");
    s.unattributed_messages = unsigned_field(un, "unattributed", "messages");
  }
  const json& lost = object(field(obj, "", "lost"), "lost");
  s.lost.events = unsigned_field(lost, "lost", "events");
  for (auto it = lost.begin(); it != lost.end(); ++it)
    if (it.key() != "events")
      s.lost.by_point[it.key()] = unsigned_value(it.value(), at("lost", it.key()));
  rows(obj, "failures", s.failures, failure_row);
  return s;
}

}  // namespace

std::variant<Snapshot, ParseError> from_json(const json& obj) {
  try {
    return snapshot(obj);
  } catch (const Bad& b) {
    return ParseError{b.message};
  }
}

std::variant<Snapshot, ParseError> from_json_line(std::string_view line) {
  json obj = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (obj.is_discarded()) return ParseError{"not valid JSON"};
  return from_json(obj);
}

}  // namespace ipctop::render
