// The only module that touches libbpf: probe the kernel, pick a variant for
// each logical probe, load, attach, and read the maps each interval.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "model/Aggregator.h"
#include "model/Sample.h"

namespace ipctop::probe {

struct Config {
  uint32_t max_flows = 65536;
  uint32_t max_threads = 32768;
  uint32_t max_channels = 16384;
  uint32_t ringbuf_bytes = 256 * 1024;
  bool files = false;  // --files: follow regular files used as IPC
};

// One logical probe and what became of it.
struct ProbeStatus {
  std::string name;        // e.g. "sched_switch"
  std::string tracepoint;  // kernel tracepoint it hooks
  bool essential = false;
  std::string variant;  // "tp_btf", "raw_tp" or "" when not attached
  bool attached = false;
  std::string reason;  // why it is not attached, or why this variant
};

struct Report {
  std::string btf_path;
  bool btf_present = false;
  std::vector<std::string> capabilities;  // present ones among CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN
  std::string object_variant;             // "tp_btf" or "raw_tp"
  std::vector<std::string> notes;         // why a variant was passed over
  std::vector<std::pair<std::string, std::string>> kernel;  // feature -> what was found
  std::vector<ProbeStatus> probes;
  uint32_t possible_cpus = 0;
};

struct Error {
  std::string message;  // one actionable line
  bool not_permitted = false;  // missing privileges (ipctop can fall back to /proc)
};

// Whether the running process may load tracing BPF: root, or CAP_BPF and
// CAP_PERFMON. Returns the names of what is missing.
std::vector<std::string> missing_capabilities();

class Probes {
 public:
  static std::variant<std::unique_ptr<Probes>, Error> start(const Config& config);
  ~Probes();
  Probes(const Probes&) = delete;
  Probes& operator=(const Probes&) = delete;

  const Report& report() const { return report_; }

  // Wait up to timeout_ms for lifecycle records; returns -EINTR on a signal.
  // Once start_reader() has run, it only waits (the reader consumes).
  int poll(int timeout_ms);

  // The ring buffer's epoll fd, readable when records wait: to wait on it
  // together with other fds (the TUI's keyboard), then poll(0). -1 once
  // start_reader() has run.
  int epoll_fd() const;

  // Consume the lifecycle ring from a thread of its own from now on, so a
  // slow interval (thousands of rows to render, a machine that gives
  // ipctop little CPU) does not leave the ring to overflow. Call it after
  // dropping capabilities: the thread inherits the caller's. Returns an
  // error message, or "" (then the ring is read by poll() as before).
  std::string start_reader();

  // Read every counter (cumulative) and take the records gathered so far.
  KernelSample drain(double unix_time);

  // Delete kernel entries the model no longer needs, and expire stale
  // attribution queues (reads whose writer was never seen become
  // unattributed, so no byte disappears).
  void collect_garbage(const GcPlan& plan);

 private:
  struct Impl;
  explicit Probes(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  Report report_;
};

}  // namespace ipctop::probe
