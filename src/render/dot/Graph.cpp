#include "render/dot/Graph.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "model/Text.h"

namespace ipctop::render::dot {

namespace {

struct KindStyle {
  Kind kind;
  const char* color;
};
// One colour per kind, so a picture tells the mechanisms apart at a glance.
constexpr KindStyle kStyles[] = {
    {Kind::pipe, "#1f77b4"},
    {Kind::fifo, "#17becf"},
    {Kind::unix_stream, "#2ca02c"},
    {Kind::unix_dgram, "#98df8a"},
    {Kind::unix_seqpacket, "#bcbd22"},
    {Kind::tcp, "#d62728"},
    {Kind::udp, "#ff9896"},
    {Kind::sysv_msg, "#9467bd"},
    {Kind::posix_mq, "#c5b0d5"},
    {Kind::sysv_shm, "#8c564b"},
    {Kind::posix_shm, "#c49c94"},
    {Kind::file, "#7f7f7f"},
    {Kind::signal, "#e377c2"},
};

const char* color_of(Kind k) {
  for (const auto& s : kStyles)
    if (s.kind == k) return s.color;
  return "black";
}

}  // namespace

std::string quote(std::string_view raw) {
  std::string clean = sanitize(raw);
  std::string out;
  out.reserve(clean.size() + 2);
  for (char c : clean) {
    if (c == '\\' || c == '"') out += '\\';
    out += c;
  }
  return out;
}

std::string human_bytes(uint64_t bytes) {
  constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return fmt::format("{} B", bytes);
  double v = static_cast<double>(bytes);
  size_t unit = 0;
  v /= 1024;
  while (v >= 1024 && unit + 1 < std::size(kUnits)) {
    v /= 1024;
    ++unit;
  }
  return fmt::format("{:.1f} {}", v, kUnits[unit]);
}

std::string Graph::node_for(const TaskRef& t, const std::map<uint32_t, const ProcessRow*>& procs) {
  if (!t.addr.empty()) {
    std::string id = "a" + t.addr;
    Node& n = nodes_[id];
    n.label = t.addr;
    n.remote = true;
    return id;
  }
  if (t.pid == 0) {
    nodes_["unknown"].label = "(unknown)";
    return "unknown";
  }
  std::string id = fmt::format("p{}", t.pid);
  Node& n = nodes_[id];
  n.pid = t.pid;
  auto it = procs.find(t.pid);
  if (it != procs.end()) {
    n.label = it->second->comm;  // the process's name, not the thread's
    n.exited = n.exited || it->second->exited;
  } else if (n.label.empty()) {
    n.label = t.comm;
  }
  return id;
}

void Graph::add(const Snapshot& snap) {
  ++snapshots_;
  seconds_ += snap.interval_s;
  std::map<uint32_t, const ProcessRow*> procs;
  for (const auto& p : snap.processes) procs[p.pid] = &p;
  for (const auto& f : snap.flows) {
    std::string src = node_for(f.src, procs);
    std::string dst = node_for(f.dst, procs);
    Edge& e = edges_[{src, dst, f.kind}];
    e.bytes += f.bytes;
    e.messages += f.messages;
  }
}

std::string Graph::render(std::string_view title) const {
  std::string out = "digraph ipctop {\n";
  fmt::format_to(std::back_inserter(out),
                 "  graph [rankdir=LR, fontname=\"Helvetica\", labelloc=t, "
                 "label=\"{}: {} interval{} over {:.1f} s\"];\n",
                 quote(title), snapshots_, snapshots_ == 1 ? "" : "s", seconds_);
  out += "  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n";
  out += "  edge [fontname=\"Helvetica\", fontsize=10];\n";
  for (const auto& [id, n] : nodes_) {
    std::string label = n.pid ? fmt::format("{}\\n{}", quote(n.label), n.pid) : quote(n.label);
    std::string style = n.exited ? ", style=\"rounded,dashed\"" : "";
    if (n.remote) style = ", shape=ellipse";
    fmt::format_to(std::back_inserter(out), "  \"{}\" [label=\"{}\"{}];\n", quote(id), label,
                   style);
  }
  uint64_t heaviest = 1;
  for (const auto& [key, e] : edges_) heaviest = std::max(heaviest, e.bytes);
  for (const auto& [key, e] : edges_) {
    const auto& [src, dst, kind] = key;
    // Width grows with the log of the bytes: 1 for a trickle, 6 for the busiest.
    double width = 1 + 5 * std::log1p(static_cast<double>(e.bytes)) /
                           std::log1p(static_cast<double>(heaviest));
    fmt::format_to(std::back_inserter(out),
                   "  \"{}\" -> \"{}\" [label=\"{}\\n{}, {} msg\", color=\"{}\", "
                   "penwidth={:.2f}, ipctop_kind=\"{}\", ipctop_bytes={}, ipctop_messages={}];\n",
                   quote(src), quote(dst), kind_name(kind), human_bytes(e.bytes), e.messages,
                   color_of(kind), width, kind_name(kind), e.bytes, e.messages);
  }
  out += "}\n";
  return out;
}

}  // namespace ipctop::render::dot
