#include "render/tui/Tables.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "model/Text.h"
#include "render/tui/Format.h"

namespace ipctop::tui {

namespace {

// Column tables, one per view. Widths fit 80 columns once the columns of
// priority 3 are dropped.
constexpr ColumnDef kProcessCols[] = {
    {"PID", "pid", 7, true, false, 0},
    {"USER", "user", 8, false, false, 2},
    {"COMM", "comm", 12, false, true, 0},
    {"THR", "threads", 4, true, false, 3},
    {"CPU%", "cpu_pct", 5, true, false, 1},
    {"CORES", "cores", 5, true, false, 3},
    {"CTX/s v/i", "ctx_per_s", 11, true, false, 1},
    {"TX/s", "tx_bytes_per_s", 9, true, false, 0},
    {"RX/s", "rx_bytes_per_s", 9, true, false, 0},
    {"TOP PEER", "top_peer", 12, false, true, 2},
};
constexpr ColumnDef kFlowCols[] = {
    {"SRC", "src", 14, false, true, 0},
    {"DST", "dst", 14, false, true, 0},
    {"KIND", "kind", 9, false, false, 0},
    {"CHANNEL", "channel", 10, false, true, 2},
    {"BYTES/s", "bytes_per_s", 9, true, false, 0},
    {"MSGS/s", "messages_per_s", 7, true, false, 1},
    {"LAT p50/p99", "latency_p99_us", 13, true, false, 2},
};
constexpr ColumnDef kChannelCols[] = {
    {"CHANNEL", "id", 14, false, true, 0},         {"KIND", "kind", 9, false, false, 0},
    {"PATH", "path", 10, false, true, 2},          {"ENDPOINTS", "endpoints", 16, false, true, 1},
    {"BYTES/s", "bytes_per_s", 9, true, false, 0}, {"MSGS/s", "messages_per_s", 7, true, false, 1},
    {"FILL", "fill", 8, true, false, 2},
};
constexpr ColumnDef kCoreCols[] = {
    {"CPU", "cpu", 4, true, false, 0},
    {"CTX/s", "ctx_per_s", 8, true, false, 0},
    {"VOL%", "voluntary_pct", 6, true, false, 0},
    {"IDLE%", "idle_pct", 6, true, false, 1},
    {"MIGR/s", "migrations_per_s", 7, true, false, 1},
    {"RUNQ p50/p99", "runq_p99_us", 14, true, false, 2},
    {"TX/s", "tx_bytes_per_s", 9, true, false, 0},
    {"RX/s", "rx_bytes_per_s", 9, true, false, 0},
};
constexpr ColumnDef kAppCols[] = {
    {"APPLICATION", "name", 14, false, true, 0},
    {"ROOT", "root_pid", 7, true, false, 1},
    {"PROCS", "members", 5, true, false, 0},
    {"ROLES", "roles", 16, false, true, 2},
    {"INTERNAL/s", "internal_bytes_per_s", 10, true, false, 0},
    {"EXTERNAL/s", "external_bytes_per_s", 10, true, false, 0},
};
constexpr ColumnDef kLimitCols[] = {
    {"LIMIT", "name", 24, false, false, 0},
    {"VALUE", "value", 11, true, false, 0},
    {"USED", "used", 11, true, false, 0},
    {"USE%", "used_pct", 6, true, false, 0},
    {"DESCRIPTION", "description", 12, false, true, 2},
};

constexpr std::string_view kViewTitles[] = {"Processes", "Flows", "Channels",
                                            "Cores",     "Apps",  "Limits"};

struct KindLabel {
  Kind kind;
  std::string_view label;
};
constexpr KindLabel kKindLabels[] = {
    {Kind::pipe, "pipe"},
    {Kind::fifo, "fifo"},
    {Kind::unix_stream, "unix/str"},
    {Kind::unix_dgram, "unix/dgr"},
    {Kind::unix_seqpacket, "unix/seq"},
    {Kind::tcp, "tcp"},
    {Kind::udp, "udp"},
    {Kind::sysv_msg, "sysv_msg"},
    {Kind::posix_mq, "posix_mq"},
    {Kind::sysv_shm, "sysv_shm"},
    {Kind::posix_shm, "posix_shm"},
    {Kind::file, "file"},
    {Kind::signal, "signal"},
};

Cell text_cell(std::string s) { return Cell{std::move(s), 0, false}; }
Cell num_cell(std::string s, double v) { return Cell{std::move(s), v, true}; }

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Case-insensitive substring of any of `texts` (sanitized display text).
bool matches(const std::string& needle_lower, std::initializer_list<std::string_view> texts) {
  if (needle_lower.empty()) return true;
  for (auto t : texts)
    if (lower(t).find(needle_lower) != std::string::npos) return true;
  return false;
}

std::string task_label(const TaskRef& t) {
  if (!t.addr.empty()) return sanitize(t.addr);
  if (t.pid == 0 && t.tid == 0) return "(unknown)";
  std::string s = fmt::format("{}:{}", sanitize(t.comm), t.pid);
  if (t.tid && t.tid != t.pid) s += fmt::format("/{}", t.tid);
  return s;
}

struct Ctx {
  const Frame& frame;
  const ViewState& state;
  const Snapshot& snap;
  double interval;
  bool raw;
  std::string needle;
  std::optional<uint32_t> pid;  // the pid filter, or the drilled process

  double rate(double v) const { return interval > 0 ? v / interval : 0; }
  Cell bytes_cell(uint64_t v) const {
    return num_cell(bytes_rate(rate(double(v)), raw), rate(double(v)));
  }
  Cell count_cell(uint64_t v) const {
    return num_cell(count_rate(rate(double(v)), raw), rate(double(v)));
  }
};

bool flow_has_pid(const FlowRow& f, uint32_t pid) { return f.src.pid == pid || f.dst.pid == pid; }

bool flow_wanted(const Ctx& c, const FlowRow& f, std::string_view path) {
  if (c.pid && !flow_has_pid(f, *c.pid)) return false;
  if (c.state.kind_filter && f.kind != *c.state.kind_filter) return false;
  return matches(c.needle, {f.src.comm, f.dst.comm, f.src.addr, f.dst.addr, f.channel, path});
}

// Sorts by the view's sort column; ties keep the snapshot's order (by pid,
// by CPU, ...), so rows do not jump between refreshes.
void sort_rows(std::vector<Row>& rows, const SortSpec& s) {
  std::stable_sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) {
    if (s.column < 0 || size_t(s.column) >= a.cells.size() || size_t(s.column) >= b.cells.size())
      return false;
    const Cell& x = a.cells[size_t(s.column)];
    const Cell& y = b.cells[size_t(s.column)];
    int cmp = 0;
    if (x.numeric && y.numeric)
      cmp = x.num < y.num ? -1 : (x.num > y.num ? 1 : 0);
    else
      cmp = lower(x.text).compare(lower(y.text));
    if (cmp == 0) return false;
    return s.descending ? cmp > 0 : cmp < 0;
  });
}

// ---- Processes ----

struct Peers {
  // pid -> peer label -> bytes both ways
  std::unordered_map<uint32_t, std::map<std::string, uint64_t>> by_pid;
  void add(uint32_t pid, const TaskRef& peer, uint64_t bytes) {
    if (pid == 0) return;
    std::string label = peer.addr.empty() ? task_label(TaskRef{peer.pid, peer.pid, peer.comm, {}})
                                          : sanitize(peer.addr);
    by_pid[pid][label] += bytes;
  }
  std::string top(uint32_t pid) const {
    auto it = by_pid.find(pid);
    if (it == by_pid.end()) return "";
    const std::pair<const std::string, uint64_t>* best = nullptr;
    for (const auto& e : it->second)
      if (!best || e.second > best->second) best = &e;
    return best ? best->first : "";
  }
};

std::vector<uint32_t> union_cpus(const ProcessRow& p) {
  if (!p.cpus_used.empty()) return p.cpus_used;
  std::set<uint32_t> all;
  for (const auto& t : p.threads) all.insert(t.cpus_used.begin(), t.cpus_used.end());
  return {all.begin(), all.end()};
}

Row process_row(const Ctx& c, const ProcessRow& p, const Peers& peers) {
  uint64_t oncpu = 0, vol = 0, inv = 0;
  for (const auto& t : p.threads) {
    oncpu += t.oncpu_ns;
    vol += t.voluntary;
    inv += t.involuntary;
  }
  oncpu = std::max(oncpu, p.oncpu_ns);
  double cpu_pct = c.interval > 0 ? double(oncpu) / (c.interval * 1e9) * 100 : 0;
  auto cpus = union_cpus(p);
  auto user = c.frame.users.find(p.pid);
  Row r;
  r.key = fmt::format("p:{}", p.pid);
  r.pid = p.pid;
  r.style = p.exited ? Style::dim : Style::normal;
  r.cells = {
      num_cell(fmt::format("{}", p.pid), p.pid),
      text_cell(user == c.frame.users.end() ? "-" : sanitize(user->second)),
      text_cell(sanitize(p.comm)),
      num_cell(fmt::format("{}", p.threads.size()), double(p.threads.size())),
      num_cell(percent(cpu_pct), cpu_pct),
      num_cell(cpus.empty() ? "-" : fmt::format("{}", cpus.size()), double(cpus.size())),
      num_cell(fmt::format("{}/{}", count_rate(c.rate(double(vol)), c.raw),
                           count_rate(c.rate(double(inv)), c.raw)),
               c.rate(double(vol + inv))),
      c.bytes_cell(p.tx_bytes),
      c.bytes_cell(p.rx_bytes),
      text_cell(peers.top(p.pid)),
  };
  return r;
}

Row thread_row(const Ctx& c, const ProcessRow& p, const ThreadRow& t) {
  double cpu_pct = c.interval > 0 ? double(t.oncpu_ns) / (c.interval * 1e9) * 100 : 0;
  Row r;
  r.key = fmt::format("t:{}:{}", p.pid, t.tid);
  r.pid = p.pid;
  r.depth = 1;
  r.thread = true;
  r.style = t.exited ? Style::dim : Style::normal;
  auto user = c.frame.users.find(p.pid);
  r.cells = {
      num_cell(fmt::format("{}", t.tid), t.tid),
      text_cell(user == c.frame.users.end() ? "-" : sanitize(user->second)),
      text_cell(sanitize(t.comm)),
      num_cell("", 0),
      num_cell(percent(cpu_pct), cpu_pct),
      num_cell(t.cpus_used.empty() ? "-" : fmt::format("{}", t.cpus_used.size()),
               double(t.cpus_used.size())),
      num_cell(fmt::format("{}/{}", count_rate(c.rate(double(t.voluntary)), c.raw),
                           count_rate(c.rate(double(t.involuntary)), c.raw)),
               c.rate(double(t.ctx_switches))),
      c.bytes_cell(t.tx_bytes),
      c.bytes_cell(t.rx_bytes),
      text_cell(""),
  };
  return r;
}

void processes(const Ctx& c, Table& out) {
  Peers peers;
  std::set<uint32_t> with_kind;
  for (const auto& f : c.snap.flows) {
    peers.add(f.src.pid, f.dst, f.bytes);
    peers.add(f.dst.pid, f.src, f.bytes);
    if (c.state.kind_filter && f.kind == *c.state.kind_filter) {
      with_kind.insert(f.src.pid);
      with_kind.insert(f.dst.pid);
    }
  }
  struct Group {
    Row row;
    std::vector<Row> threads;
    uint32_t ppid = 0;
  };
  std::vector<Group> groups;
  for (const auto& p : c.snap.processes) {
    if (c.pid && p.pid != *c.pid) continue;
    if (c.state.kind_filter && !with_kind.count(p.pid)) continue;
    std::string cmd;
    for (const auto& a : p.cmdline) cmd += a + " ";
    if (!c.needle.empty()) {
      bool hit = matches(c.needle, {p.comm, cmd});
      for (const auto& t : p.threads) hit = hit || matches(c.needle, {t.comm});
      if (!hit) continue;
    }
    Group g{process_row(c, p, peers), {}, p.ppid};
    if (c.state.threads)
      for (const auto& t : p.threads) g.threads.push_back(thread_row(c, p, t));
    groups.push_back(std::move(g));
  }
  const SortSpec& s = c.state.sort[size_t(View::processes)];
  // Sort the process rows, then put each group back in that order.
  std::vector<Row> heads;
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < groups.size(); ++i) {
    heads.push_back(groups[i].row);
    index[groups[i].row.key] = i;
  }
  sort_rows(heads, s);
  auto emit = [&](Group& g, int depth) {
    g.row.depth = depth;
    out.rows.push_back(g.row);
    sort_rows(g.threads, s);
    for (auto& t : g.threads) {
      t.depth = depth + 1;
      out.rows.push_back(t);
    }
  };
  if (!c.state.tree) {
    for (const auto& h : heads) emit(groups[index[h.key]], 0);
    return;
  }
  // Tree: children under their parent, siblings in sort order; a process
  // whose parent is not shown is a root.
  std::unordered_map<uint32_t, size_t> by_pid;
  for (size_t i = 0; i < groups.size(); ++i) by_pid[groups[i].row.pid] = i;
  std::unordered_map<uint32_t, std::vector<size_t>> children;
  std::vector<size_t> roots;
  for (const auto& h : heads) {
    size_t i = index[h.key];
    uint32_t ppid = groups[i].ppid;
    if (ppid && ppid != groups[i].row.pid && by_pid.count(ppid))
      children[ppid].push_back(i);
    else
      roots.push_back(i);
  }
  std::vector<bool> done(groups.size(), false);
  std::function<void(size_t, int)> walk = [&](size_t i, int depth) {
    if (done[i] || depth > 64) return;  // a cycle in stale parent data
    done[i] = true;
    emit(groups[i], depth);
    for (size_t child : children[groups[i].row.pid]) walk(child, depth + 1);
  };
  for (size_t r : roots) walk(r, 0);
  for (size_t i = 0; i < groups.size(); ++i)
    if (!done[i]) walk(i, 0);
}

// ---- Flows ----

void flows(const Ctx& c, Table& out) {
  // A flow's channel path lives in its ChannelRow: shown instead of the id.
  std::unordered_map<std::string_view, std::string_view> paths;
  for (const auto& ch : c.snap.channels)
    if (!ch.path.empty()) paths[ch.id] = ch.path;
  for (const auto& f : c.snap.flows) {
    auto path = paths.find(f.channel);
    std::string_view path_text = path == paths.end() ? std::string_view{} : path->second;
    if (!flow_wanted(c, f, path_text)) continue;
    Row r;
    r.key = fmt::format("f:{}:{}:{}:{}:{}:{}", kind_name(f.kind), f.channel, f.src.pid, f.src.tid,
                        f.dst.pid, f.dst.tid);
    r.pid = f.src.pid;
    std::string lat = "-";
    double lat_num = 0;
    if (f.wakeup_latency && f.wakeup_latency->count) {
      lat = micros(f.wakeup_latency->p50_us) + "/" + micros(f.wakeup_latency->p99_us);
      lat_num = double(f.wakeup_latency->p99_us);
    }
    r.cells = {
        text_cell(task_label(f.src)),
        text_cell(task_label(f.dst)),
        text_cell(std::string(short_kind(f.kind))),
        text_cell(sanitize(path_text.empty() ? std::string_view(f.channel) : path_text)),
        c.bytes_cell(f.bytes),
        c.count_cell(f.messages),
        num_cell(lat, lat_num),
    };
    out.rows.push_back(std::move(r));
  }
  sort_rows(out.rows, c.state.sort[size_t(View::flows)]);
}

// ---- Channels ----

void channels(const Ctx& c, Table& out) {
  std::unordered_map<uint64_t, std::string> comm;  // pid<<32|tid -> name
  for (const auto& p : c.snap.processes) {
    comm[uint64_t(p.pid) << 32 | p.pid] = p.comm;
    for (const auto& t : p.threads) comm[uint64_t(p.pid) << 32 | t.tid] = t.comm;
  }
  auto name_of = [&](const EndpointRow& e) {
    auto it = comm.find(uint64_t(e.pid) << 32 | e.tid);
    if (it == comm.end()) it = comm.find(uint64_t(e.pid) << 32 | e.pid);
    std::string s = fmt::format("{}:{}", it == comm.end() ? "?" : sanitize(it->second), e.pid);
    if (e.tid && e.tid != e.pid) s += fmt::format("/{}", e.tid);
    return s;
  };
  for (const auto& ch : c.snap.channels) {
    if (c.state.kind_filter && ch.kind != *c.state.kind_filter) continue;
    if (c.pid && std::none_of(ch.endpoints.begin(), ch.endpoints.end(),
                              [&](const EndpointRow& e) { return e.pid == *c.pid; }))
      continue;
    std::string from, to;
    for (const auto& e : ch.endpoints) {
      bool sending = e.role == "writer" || e.role == "sender";
      std::string& side = sending ? from : to;
      if (!side.empty()) side += ",";
      side += name_of(e);
    }
    if (!matches(c.needle, {ch.id, ch.path, from, to})) continue;
    std::string fill = "-";
    double fill_num = -1;
    if (ch.queued && ch.capacity && *ch.capacity) {
      fill_num = double(*ch.queued) / double(*ch.capacity) * 100;
      fill = percent(fill_num) + "%";
    } else if (ch.size) {
      fill = bytes(*ch.size, c.raw);
      fill_num = double(*ch.size);
    } else if (ch.queued) {
      fill = bytes(*ch.queued, c.raw);
      fill_num = double(*ch.queued);
    }
    Row r;
    r.key = "c:" + ch.id;
    r.cells = {
        text_cell(sanitize(ch.id)),
        text_cell(std::string(short_kind(ch.kind))),
        text_cell(ch.path.empty() ? "-" : sanitize(ch.path)),
        text_cell((from.empty() ? "?" : from) + " → " + (to.empty() ? "?" : to)),
        c.bytes_cell(ch.bytes),
        c.count_cell(ch.messages),
        num_cell(fill, fill_num),
    };
    if (fill_num >= 90 && ch.capacity) r.style = Style::warn;
    out.rows.push_back(std::move(r));
  }
  sort_rows(out.rows, c.state.sort[size_t(View::channels)]);
}

// ---- Cores ----

void cores(const Ctx& c, Table& out) {
  for (const auto& cpu : c.snap.cpus) {
    double vol_pct = cpu.ctx_switches ? double(cpu.voluntary) * 100 / double(cpu.ctx_switches) : 0;
    double idle_pct =
        c.interval > 0 ? std::min(100.0, double(cpu.idle_ns) / (c.interval * 1e9) * 100) : 0;
    std::string runq = "-";
    if (cpu.runq_latency.count)
      runq = micros(cpu.runq_latency.p50_us) + "/" + micros(cpu.runq_latency.p99_us);
    Row r;
    r.key = fmt::format("cpu:{}", cpu.cpu);
    r.cells = {
        num_cell(fmt::format("{}", cpu.cpu), cpu.cpu),
        c.count_cell(cpu.ctx_switches),
        num_cell(cpu.ctx_switches ? percent(vol_pct) : "-", vol_pct),
        num_cell(percent(idle_pct), idle_pct),
        c.count_cell(cpu.migrations),
        num_cell(runq, double(cpu.runq_latency.p99_us)),
        c.bytes_cell(cpu.tx_bytes),
        c.bytes_cell(cpu.rx_bytes),
    };
    out.rows.push_back(std::move(r));
  }
  sort_rows(out.rows, c.state.sort[size_t(View::cores)]);
}

// ---- Applications ----

void apps(const Ctx& c, Table& out) {
  for (const auto& a : c.snap.apps) {
    if (c.pid && a.root_pid != *c.pid &&
        std::none_of(a.members.begin(), a.members.end(),
                     [&](const AppMember& m) { return m.pid == *c.pid; }))
      continue;
    std::map<std::string, int> roles;
    for (const auto& m : a.members) roles[m.role.empty() ? "?" : sanitize(m.role)]++;
    std::string role_text;
    for (const auto& [role, n] : roles) {
      if (!role_text.empty()) role_text += " ";
      role_text += n > 1 ? fmt::format("{}×{}", role, n) : role;
    }
    if (!matches(c.needle, {a.name, role_text})) continue;
    Row r;
    r.key = fmt::format("a:{}:{}", a.root_pid, a.name);
    r.pid = a.root_pid;
    r.cells = {
        text_cell(sanitize(a.name)),
        num_cell(fmt::format("{}", a.root_pid), a.root_pid),
        num_cell(fmt::format("{}", a.members.size()), double(a.members.size())),
        text_cell(role_text),
        c.bytes_cell(a.internal_bytes),
        c.bytes_cell(a.external_bytes),
    };
    out.rows.push_back(std::move(r));
  }
  sort_rows(out.rows, c.state.sort[size_t(View::apps)]);
}

// ---- Limits ----

std::string limit_value(const limits::Limit& l, std::optional<uint64_t> v, bool raw) {
  if (!v) return "-";
  if (l.unit == "bytes") return bytes(*v, raw);
  if (l.unit == "pages" && !raw) return fmt::format("{} pg", count_rate(double(*v), false));
  if (l.unit == "bool") return *v ? "yes" : "no";
  return raw ? fmt::format("{}", *v) : count_rate(double(*v), false);
}

void limits_view(const Ctx& c, Table& out) {
  for (const auto& f : c.snap.failures) {
    if (c.pid && f.pid != *c.pid) continue;
    std::string line = fmt::format("FAILED {} {} ×{} by {}:{}{}", sanitize(f.syscall),
                                   f.err.empty() ? "(shrunk)" : f.err, f.count, sanitize(f.comm),
                                   f.pid, f.tid != f.pid ? fmt::format("/{}", f.tid) : "");
    if (f.diagnosis.limit) line += " — " + sanitize(*f.diagnosis.limit);
    if (!f.diagnosis.detail.empty()) line += ": " + sanitize(f.diagnosis.detail);
    out.notes.push_back(line);
    out.note_styles.push_back(Style::bad);
    if (f.diagnosis.fix) {
      out.notes.push_back("   fix: " + sanitize(*f.diagnosis.fix));
      out.note_styles.push_back(Style::accent);
    }
  }
  if (c.snap.failures.empty()) {
    out.notes.push_back("No failed IPC system call in this interval.");
    out.note_styles.push_back(Style::good);
  }
  const limits::Report* rep = c.frame.limits;
  if (!rep) {
    out.notes.push_back("Limits not read yet.");
    out.note_styles.push_back(Style::dim);
    return;
  }
  for (const auto& w : rep->warnings) {
    out.notes.push_back(fmt::format(
        "{} {}: {}{}", w.severity == limits::Severity::Warning ? "WARN" : "info", sanitize(w.limit),
        sanitize(w.message), w.fix.empty() ? "" : " (fix: " + sanitize(w.fix) + ")"));
    out.note_styles.push_back(w.severity == limits::Severity::Warning ? Style::warn : Style::dim);
  }
  for (const auto& l : rep->limits) {
    if (!matches(c.needle, {l.name, l.description})) continue;
    Row r;
    r.key = "l:" + l.name;
    std::string value = l.unlimited ? "unlimited" : limit_value(l, l.value, c.raw);
    if (!l.value) value = "?";
    double pct = l.used_pct.value_or(-1);
    r.cells = {
        text_cell(sanitize(l.name)),
        num_cell(value, l.value ? double(*l.value) : -1),
        num_cell(limit_value(l, l.used, c.raw), l.used ? double(*l.used) : -1),
        num_cell(l.used_pct ? percent(*l.used_pct) : "-", pct),
        text_cell(sanitize(l.description)),
    };
    if (pct >= 90)
      r.style = Style::bad;
    else if (pct >= 75)
      r.style = Style::warn;
    out.rows.push_back(std::move(r));
  }
  sort_rows(out.rows, c.state.sort[size_t(View::limits)]);
}

}  // namespace

std::string_view view_title(View v) { return kViewTitles[size_t(v)]; }

std::span<const ColumnDef> columns(View v) {
  switch (v) {
    case View::processes:
      return kProcessCols;
    case View::flows:
      return kFlowCols;
    case View::channels:
      return kChannelCols;
    case View::cores:
      return kCoreCols;
    case View::apps:
      return kAppCols;
    case View::limits:
      return kLimitCols;
  }
  return kProcessCols;
}

std::string_view short_kind(Kind k) {
  for (const auto& l : kKindLabels)
    if (l.kind == k) return l.label;
  return "?";
}

Table build_table(const Frame& frame, const ViewState& state) {
  Table out;
  out.view = state.view;
  static const Snapshot empty;
  const Snapshot& snap = frame.snap ? *frame.snap : empty;
  Ctx c{frame, state, snap, snap.interval_s, state.raw, lower(state.filter), state.pid_filter};
  if (state.drill_pid) c.pid = state.drill_pid;
  out.title = std::string(view_title(state.view));
  if (state.drill_pid) {
    std::string comm;
    for (const auto& p : snap.processes)
      if (p.pid == *state.drill_pid) comm = sanitize(p.comm);
    out.title = fmt::format("{} of {} ({})", view_title(state.view), *state.drill_pid,
                            comm.empty() ? "?" : comm);
  }
  using Builder = void (*)(const Ctx&, Table&);
  static constexpr Builder kBuilders[] = {processes, flows, channels, cores, apps, limits_view};
  kBuilders[size_t(state.view)](c, out);
  return out;
}

}  // namespace ipctop::tui
