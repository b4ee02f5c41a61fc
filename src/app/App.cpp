#include "app/App.h"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "app/Outputs.h"
#include "app/Privileges.h"
#include "app/ProcNames.h"
#include "cli/Options.h"
#include "limits/Limits.h"
#include "model/Aggregator.h"
#include "nobpf/Collector.h"
#include "probe/Probes.h"
#include "procfs/FdInode.h"
#include "procfs/ShmMaps.h"
#include "render/json/Json.h"
#include "render/tui/Driver.h"

#ifndef IPCTOP_VERSION
#define IPCTOP_VERSION "0.0.0"
#endif

namespace ipctop::app {

namespace {

volatile std::sig_atomic_t g_stop = 0;

void on_stop_signal(int) { g_stop = 1; }

void install_signals() {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  // No SA_RESTART: a signal must interrupt the poll so the final interval
  // is printed at once.
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);
  // A closed output pipe (ipctop --json | head -1) shows up as a write
  // error, handled as a normal end.
  signal(SIGPIPE, SIG_IGN);
}

double monotonic_s() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double unix_s() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void print_features(const probe::Report& r, std::ostream& out) {
  out << fmt::format("kernel BTF:     {} ({})\n", r.btf_present ? "present" : "missing",
                     r.btf_path);
  out << fmt::format(
      "capabilities:   {}\n",
      r.capabilities.empty() ? "none" : fmt::format("{}", fmt::join(r.capabilities, ", ")));
  out << fmt::format("possible CPUs:  {}\n", r.possible_cpus);
  for (const auto& [feature, found] : r.kernel)
    out << fmt::format("{:<16} {}\n", feature + ":", found);
  out << fmt::format("object variant: {}\n", r.object_variant.empty() ? "none" : r.object_variant);
  for (const auto& note : r.notes) out << fmt::format("  passed over:  {}\n", note);
  out << "probes:\n";
  for (const auto& p : r.probes)
    out << fmt::format("  {:<22} {:<24} {:<8} {:<9} {}\n", p.name, p.tracepoint,
                       p.attached ? p.variant : "MISSING", p.essential ? "essential" : "optional",
                       p.reason);
}

// --features --json: the same report as one JSON object, for scripts (the
// kernel-matrix run records which pipe data variant was active from it).
void print_features_json(const probe::Report& r, std::ostream& out) {
  nlohmann::json j;
  j["btf"] = {{"path", r.btf_path}, {"present", r.btf_present}};
  j["capabilities"] = r.capabilities;
  j["possible_cpus"] = r.possible_cpus;
  j["kernel"] = nlohmann::json::object();
  for (const auto& [feature, found] : r.kernel) j["kernel"][feature] = found;
  j["object_variant"] = r.object_variant;
  j["passed_over"] = r.notes;
  j["probes"] = nlohmann::json::array();
  for (const auto& p : r.probes)
    j["probes"].push_back({{"name", p.name},
                           {"hook", p.tracepoint},
                           {"variant", p.attached ? p.variant : ""},
                           {"attached", p.attached},
                           {"essential", p.essential},
                           {"reason", p.reason}});
  out << j.dump(2) << '\n';
}

// The current limits, to diagnose an interval's failed IPC syscalls: read
// only for an interval that has some, so at most once per interval.
FailureLimits failure_limits() {
  const limits::Roots roots;
  limits::Host host = limits::current_host(roots);
  // Walks of every process's fds: not once per interval, and not needed to diagnose.
  host.pipe_usage = nullptr;
  host.process_users = false;
  const limits::Report report = limits::collect(roots, host);
  FailureLimits out;
  for (const auto& l : report.limits) {
    if (l.value) out.values[l.name] = *l.value;
    if (l.used) out.used[l.name] = *l.used;
  }
  for (const auto& q : report.objects.sysv_msg)
    out.msg_queues[q.msqid] = {q.qbytes.value_or(0), q.cbytes, q.qnum};
  return out;
}

int run_limits(const cli::Options& opts) {
  auto report = limits::collect(limits::Roots{});
  if (opts.json)
    std::cout << limits::to_json(report).dump(2) << '\n';
  else
    std::cout << limits::render_table(report, opts.raw);
  return std::cout.good() ? 0 : 1;
}

// Without BPF: what /proc and sock_diag tell, once per interval, for the
// live view: the same snapshots as run_procfs prints.
class ProcfsSource final : public tui::SnapshotSource {
 public:
  ProcfsSource(nobpf::Collector& collector, double interval_s, double start)
      : collector_(collector), interval_(interval_s), last_(start), next_(start + interval_s) {}
  int ms_until_next() override {
    double left = next_ - monotonic_s();
    return left <= 0 ? 0 : static_cast<int>(std::ceil(left * 1000));
  }
  std::optional<Snapshot> next() override {
    double now = monotonic_s();
    Snapshot snap = collector_.collect(unix_s(), now - last_);
    collector_.take_new_errors();  // the view shows what it has; stderr is the screen
    last_ = now;
    next_ += interval_;
    if (next_ < now) next_ = now + interval_;
    return snap;
  }
  double interval() const override { return interval_; }
  void set_interval(double seconds) override {
    interval_ = seconds;
    next_ = last_ + seconds;
  }
  bool live() const override { return true; }
  std::string label() const override { return "procfs, no traffic"; }

 private:
  nobpf::Collector& collector_;
  double interval_;
  double last_;
  double next_;
};

// Without BPF: what /proc and sock_diag tell, once per interval. The first
// snapshot covers the time since the start, like the traced ones.
// `fallback`: BPF was refused, and the caller said why.
int run_procfs(const cli::Options& opts, bool fallback) {
  // The first counters are read while the collector is built: the interval starts before.
  double last = monotonic_s();
  nobpf::Collector collector(nobpf::Config{"/proc", opts.pids, {}, {}});
  std::cerr << fmt::format(
      "ipctop: {}reading /proc every {} s: who holds which channel, and context switches; "
      "no traffic; interrupt to stop\n",
      fallback ? "continuing without BPF (as with --no-bpf), " : "", opts.interval_s);
  if (!opts.json && !opts.no_tui) {
    tui::TuiOptions tui_opts;
    tui_opts.raw = opts.raw;
    tui_opts.color = !opts.no_color;
    tui_opts.stop = &g_stop;
    tui_opts.max_snapshots = opts.count;
    ProcfsSource source(collector, opts.interval_s, last);
    if (tui::run_tui(source, tui_opts) != 0) {
      std::cerr << "ipctop: cannot start the live view on this terminal: use --json\n";
      return kExitUsage;
    }
    return 0;
  }
  uint64_t printed = 0;
  double next = last + opts.interval_s;
  for (;;) {
    bool stopping = g_stop != 0;
    double now = monotonic_s();
    if (!stopping && now < next) {
      poll(nullptr, 0, static_cast<int>(std::ceil((next - now) * 1000)));  // a signal ends it
      continue;
    }
    now = monotonic_s();
    Snapshot snap = collector.collect(unix_s(), now - last);
    for (const auto& err : collector.take_new_errors())
      std::cerr << "ipctop: cannot read " << err << '\n';
    last = now;
    next += opts.interval_s;
    if (next < now) next = now + opts.interval_s;
    render::write_ndjson(snap, std::cout);
    if (!std::cout.good()) break;
    ++printed;
    if (stopping || (opts.count && printed >= *opts.count)) break;
  }
  return 0;
}

// One tracing run: the probes and the model that turns their counters into
// Snapshots, shared by the NDJSON loop and the live view.
class Tracing {
 public:
  Tracing(probe::Probes& probes, const cli::Options& opts, Outputs& outputs)
      : probes_(probes),
        outputs_(outputs),
        aggregator_(names_, Filter{opts.pids}),
        last_(monotonic_s()) {
    aggregator_.set_shm_source(&shm_source_);
    aggregator_.set_fd_source(&fd_source_);
  }

  // The single place where a Snapshot is produced: drain the kernel,
  // aggregate over the time since the previous one, free what the model no
  // longer needs. Whatever must see every snapshot (an exporter, a
  // recorder) hooks in here, whether the TUI shows it or --json prints it.
  Snapshot next_snapshot() {
    double now = monotonic_s();
    KernelSample sample = probes_.drain(unix_s());
    if (!sample.failures.entries.empty()) sample.failures.limits = failure_limits();
    Snapshot snap = aggregator_.update(sample, now - last_);
    probes_.collect_garbage(aggregator_.collect_garbage());
    last_ = now;
    lost_total_ += snap.lost.events;
    // --prometheus, --record, --dot: a failed recording ends the run (see failed()).
    if (auto err = outputs_.on_snapshot(snap); err && !output_error_) output_error_ = *err;
    return snap;
  }

  // Why an output failed (then the run ends with status 1), or nullopt.
  const std::optional<std::string>& failed() const { return output_error_; }

  probe::Probes& probes() { return probes_; }
  double last() const { return last_; }
  uint64_t lost_total() const { return lost_total_; }

 private:
  probe::Probes& probes_;
  Outputs& outputs_;
  std::optional<std::string> output_error_;
  ProcNames names_;
  procfs::ProcShm shm_source_;  // segments attached before the start, and munmap
  procfs::ProcFdInode fd_source_;  // received descriptors closed since (model/FdPass.cpp)
  Aggregator aggregator_;
  double last_;
  uint64_t lost_total_ = 0;
};

// The live view's source: a snapshot every interval (changeable with + and
// -), and the ring buffer's fd to wait on with the keyboard.
class LiveSource final : public tui::SnapshotSource {
 public:
  LiveSource(Tracing& tracing, double interval_s)
      : tracing_(tracing), interval_(interval_s), next_(tracing.last() + interval_s) {}
  std::vector<int> fds() override { return {tracing_.probes().epoll_fd()}; }
  void service() override { tracing_.probes().poll(0); }
  int ms_until_next() override {
    double left = next_ - monotonic_s();
    return left <= 0 ? 0 : static_cast<int>(std::ceil(left * 1000));
  }
  std::optional<Snapshot> next() override {
    Snapshot snap = tracing_.next_snapshot();
    if (tracing_.failed()) g_stop = 1;  // said after the terminal is restored
    double now = monotonic_s();
    next_ += interval_;
    if (next_ < now) next_ = now + interval_;  // suspended or overloaded: do not burst
    return snap;
  }
  double interval() const override { return interval_; }
  void set_interval(double seconds) override {
    interval_ = seconds;
    next_ = tracing_.last() + seconds;
  }
  bool live() const override { return true; }
  std::string label() const override { return "live"; }

 private:
  Tracing& tracing_;
  double interval_;
  double next_;
};

int run_json(Tracing& tracing, const cli::Options& opts) {
  uint64_t printed = 0;
  double next = tracing.last() + opts.interval_s;
  for (;;) {
    bool stopping = g_stop != 0;
    double now = monotonic_s();
    if (!stopping && now < next) {
      int wait_ms = static_cast<int>(std::ceil((next - now) * 1000));
      int rc = tracing.probes().poll(wait_ms);
      if (rc < 0 && rc != -EINTR) {
        std::cerr << "ipctop: reading the ring buffer failed: " << strerror(-rc) << '\n';
        return kExitCannotTrace;
      }
      continue;
    }
    Snapshot snap = tracing.next_snapshot();
    now = tracing.last();
    next += opts.interval_s;
    if (next < now) next = now + opts.interval_s;  // suspended or overloaded: do not burst
    if (tracing.failed()) return kExitCannotTrace;
    if (opts.json) render::write_ndjson(snap, std::cout);
    if (!std::cout.good()) break;  // the reader went away
    ++printed;
    if (stopping || (opts.count && printed >= *opts.count)) break;
  }
  return 0;
}

int run_trace(const cli::Options& opts) {
  if (!opts.json && !opts.no_tui) {
    if (std::string why = tui::tui_unavailable(); !why.empty()) {
      std::cerr << "ipctop: " << why << '\n';
      return kExitUsage;
    }
  }
  install_signals();
  if (opts.no_bpf) return run_procfs(opts, false);
  auto started = probe::Probes::start(
      {opts.max_flows, opts.max_threads, opts.max_channels, opts.ringbuf_bytes, opts.files});
  if (auto* err = std::get_if<probe::Error>(&started)) {
    std::cerr << "ipctop: " << err->message << '\n';
    // Said once: every snapshot that follows carries "source":"procfs".
    if (err->not_permitted) return run_procfs(opts, true);
    return kExitCannotTrace;
  }
  auto probes = std::move(std::get<std::unique_ptr<probe::Probes>>(started));
  size_t attached = 0;
  for (const auto& p : probes->report().probes) attached += p.attached;
  // Opened while still privileged: a port below 1024, a file in a protected directory.
  auto made = Outputs::open(opts, attached, probes->report().probes.size());
  if (auto* err = std::get_if<std::string>(&made)) {
    std::cerr << "ipctop: " << *err << '\n';
    return kExitCannotTrace;
  }
  auto outputs = std::move(std::get<std::unique_ptr<Outputs>>(made));
  // Least privilege: everything privileged is open by now.
  if (auto problem = drop_capabilities_after_attach())
    std::cerr << "ipctop: warning: could not drop every capability: " << *problem << '\n';
  // After the drop: threads keep the capabilities they were created with.
  if (std::string problem = probes->start_reader(); !problem.empty())
    std::cerr << "ipctop: warning: " << problem << "; reading the ring between intervals\n";
  outputs->start_serving();
  Tracing tracing(*probes, opts, *outputs);
  if (opts.json || opts.no_tui) {
    for (const auto& p : probes->report().probes)
      if (!p.attached)
        std::cerr << fmt::format("ipctop: probe {} ({}) not attached: {}\n", p.name,
                                 p.tracepoint, p.reason);
    std::cerr << fmt::format("ipctop: tracing ({} of {} probes attached, {}); interrupt to stop\n",
                             attached, probes->report().probes.size(),
                             probes->report().object_variant);
    if (int status = run_json(tracing, opts)) {
      if (tracing.failed()) std::cerr << "ipctop: " << *tracing.failed() << '\n';
      return status;
    }
  } else {
    tui::TuiOptions tui_opts;
    tui_opts.raw = opts.raw;
    tui_opts.color = !opts.no_color;
    tui_opts.stop = &g_stop;
    tui_opts.max_snapshots = opts.count;
    for (const auto& p : probes->report().probes)
      tui_opts.probes.push_back({p.name, p.attached, p.reason});
    LiveSource source(tracing, opts.interval_s);
    if (tui::run_tui(source, tui_opts) != 0) {
      std::cerr << "ipctop: cannot start the live view on this terminal (TERM="
                << (std::getenv("TERM") ? std::getenv("TERM") : "") << "): use --json\n";
      return kExitUsage;
    }
    if (tracing.failed()) {
      std::cerr << "ipctop: " << *tracing.failed() << '\n';
      return kExitCannotTrace;
    }
  }
  if (auto err = outputs->finish()) {
    std::cerr << "ipctop: " << *err << '\n';
    return kExitCannotTrace;
  }
  if (tracing.lost_total())
    std::cerr << fmt::format("ipctop: {} events were lost (see the 'lost' object)\n",
                             tracing.lost_total());
  return opts.fail_on_loss && tracing.lost_total() ? kExitLoss : 0;
}

int run_features(const cli::Options& opts) {
  auto started = probe::Probes::start(
      {opts.max_flows, opts.max_threads, opts.max_channels, opts.ringbuf_bytes, opts.files});
  if (auto* err = std::get_if<probe::Error>(&started)) {
    std::cerr << "ipctop: " << err->message << '\n';
    return kExitCannotTrace;
  }
  const auto& report = std::get<std::unique_ptr<probe::Probes>>(started)->report();
  if (opts.json)
    print_features_json(report, std::cout);
  else
    print_features(report, std::cout);
  return std::cout.good() ? 0 : 1;
}

}  // namespace

int run(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = cli::parse(args);
  if (auto* err = std::get_if<cli::UsageError>(&parsed)) {
    std::cerr << "ipctop: " << err->message << "\nTry 'ipctop --help' for more information.\n";
    return kExitUsage;
  }
  const auto& opts = std::get<cli::Options>(parsed);
  switch (opts.command) {
    case cli::Command::help:
      std::cout << cli::help_text();
      return 0;
    case cli::Command::version:
      std::cout << "ipctop " << IPCTOP_VERSION << '\n';
      return 0;
    case cli::Command::limits:
      return run_limits(opts);
    case cli::Command::features:
      return run_features(opts);
    case cli::Command::run:
      break;
  }
  if (opts.replay) return run_replay(opts);
  return run_trace(opts);
}

}  // namespace ipctop::app
