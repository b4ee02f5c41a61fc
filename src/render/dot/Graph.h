// The process/IPC graph of a whole run as Graphviz DOT: processes as nodes,
// one edge per sender process, receiver process and kind with the bytes and
// messages moved over the run. Pure: fed snapshots, renders text.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>

#include "model/Snapshot.h"

namespace ipctop::render::dot {

// A DOT double-quoted string's contents: sanitized (names are chosen by
// arbitrary processes), then `\` and `"` escaped so a name can neither end
// the string nor start a label escape such as \N.
std::string quote(std::string_view raw);

// "1.2 MiB": the edge labels' size.
std::string human_bytes(uint64_t bytes);

class Graph {
 public:
  void add(const Snapshot& snap);
  std::string render(std::string_view title) const;

 private:
  struct Node {
    std::string label;  // comm (or the remote address), raw
    uint32_t pid = 0;
    bool remote = false;
    bool exited = false;
  };
  struct Edge {
    uint64_t bytes = 0;
    uint64_t messages = 0;
  };
  // "p1234", "unknown" or "a<address>": DOT ids never built from a comm.
  std::string node_for(const TaskRef& t, const std::map<uint32_t, const ProcessRow*>& procs);

  std::map<std::string, Node> nodes_;
  std::map<std::tuple<std::string, std::string, Kind>, Edge> edges_;
  uint64_t snapshots_ = 0;
  double seconds_ = 0;
};

}  // namespace ipctop::render::dot
