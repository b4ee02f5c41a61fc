// Command line: a pure function from argv to Options or a usage error, so it
// is tested without a terminal or a kernel.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace ipctop::cli {

enum class Command { run, limits, features, help, version };

struct Options {
  Command command = Command::run;
  bool json = false;
  bool raw = false;                // limits and the TUI: exact numbers instead of human units
  double interval_s = 1.0;
  std::optional<uint64_t> count;   // snapshots to print, then exit
  std::set<uint32_t> pids;         // empty: all
  uint32_t max_flows = 65536;
  uint32_t max_threads = 32768;
  uint32_t max_channels = 16384;
  uint32_t ringbuf_bytes = 256 * 1024;
  bool fail_on_loss = false;
  bool files = false;  // follow regular files used as IPC (costs more)
  bool no_bpf = false;  // endpoints and context switches from /proc, no traffic
  bool no_color = false;           // TUI: monochrome
};

struct UsageError {
  std::string message;
};

std::variant<Options, UsageError> parse(const std::vector<std::string>& args);

// The --help text (kept in step with man/ipctop.8).
std::string help_text();

}  // namespace ipctop::cli
