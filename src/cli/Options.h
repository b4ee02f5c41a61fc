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

// Where --prometheus listens: a numeric IPv4 or IPv6 address (no brackets).
struct ListenAddress {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0: a free port, printed at start
};

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
  std::optional<ListenAddress> prometheus;  // serve /metrics
  uint32_t prom_top = 100;                  // flow series before `other`
  bool no_tui = false;                      // headless: no view, no JSON unless --json
  std::optional<std::string> record;        // write every snapshot to this file
  bool compress = false;                    // gzip the recording (also when it ends in .gz)
  bool force = false;                       // replace an existing --record/--dot file
  std::optional<std::string> replay;        // read snapshots from a recording instead
  std::optional<std::string> dot;           // write the run's graph here at exit ("-": stdout)
};

// "PORT", ":PORT", "ADDR:PORT" or "[IPV6]:PORT"; the address defaults to 127.0.0.1.
std::optional<ListenAddress> parse_listen_address(const std::string& spec);

struct UsageError {
  std::string message;
};

std::variant<Options, UsageError> parse(const std::vector<std::string>& args);

// The --help text (kept in step with man/ipctop.8).
std::string help_text();

}  // namespace ipctop::cli
