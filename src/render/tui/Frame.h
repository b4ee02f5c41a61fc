// Everything one screen is drawn from: the interval's Snapshot and what the
// driver knows about the host, the probes and the limits.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "limits/Limits.h"
#include "model/Snapshot.h"

namespace ipctop::tui {

// A logical probe and whether it runs (from probe::Report).
struct ProbeState {
  std::string name;
  bool attached = false;
  std::string reason;  // why not, when not attached
};

struct Frame {
  const Snapshot* snap = nullptr;  // null until the first interval ends
  std::string host;
  double uptime_s = -1;  // < 0: unknown
  std::vector<ProbeState> probes;
  std::map<uint32_t, std::string> users;  // pid -> owner's user name, where known
  const limits::Report* limits = nullptr;
  std::string source;  // "live", or "replay 12/340"
};

}  // namespace ipctop::tui
