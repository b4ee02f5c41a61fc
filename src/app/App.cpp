#include "app/App.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstring>
#include <ctime>
#include <iostream>

#include <fmt/format.h>

#include "app/Outputs.h"
#include "app/ProcNames.h"
#include "cli/Options.h"
#include "limits/Limits.h"
#include "model/Aggregator.h"
#include "probe/Probes.h"
#include "render/json/Json.h"

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

// The current limits, to diagnose an interval's failed IPC syscalls: read
// only for an interval that has some, so at most once per interval.
FailureLimits failure_limits() {
  const limits::Report report = limits::collect(limits::Roots{});
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

int run_trace(const cli::Options& opts) {
  if (!opts.json && !opts.no_tui) {
    std::cerr << "ipctop: the interactive view is not built yet; use 'ipctop --json' for "
                 "NDJSON snapshots, or --no-tui with --prometheus, --record or --dot (see "
                 "'ipctop --help')\n";
    return kExitUsage;
  }
  install_signals();
  auto started = probe::Probes::start(
      {opts.max_flows, opts.max_threads, opts.max_channels, opts.ringbuf_bytes});
  if (auto* err = std::get_if<probe::Error>(&started)) {
    std::cerr << "ipctop: " << err->message << '\n';
    return kExitCannotTrace;
  }
  auto probes = std::move(std::get<std::unique_ptr<probe::Probes>>(started));
  size_t attached = 0;
  for (const auto& p : probes->report().probes) {
    attached += p.attached;
    if (!p.attached)
      std::cerr << fmt::format("ipctop: probe {} ({}) not attached: {}\n", p.name, p.tracepoint,
                               p.reason);
  }
  std::cerr << fmt::format("ipctop: tracing ({} of {} probes attached, {}); interrupt to stop\n",
                           attached, probes->report().probes.size(),
                           probes->report().object_variant);
  auto made = Outputs::open(opts, attached, probes->report().probes.size());
  if (auto* err = std::get_if<std::string>(&made)) {
    std::cerr << "ipctop: " << *err << '\n';
    return kExitCannotTrace;
  }
  auto outputs = std::move(std::get<std::unique_ptr<Outputs>>(made));

  ProcNames names;
  Aggregator aggregator(names, Filter{opts.pids});
  uint64_t printed = 0;
  uint64_t lost_total = 0;
  double last = monotonic_s();
  double next = last + opts.interval_s;
  for (;;) {
    bool stopping = g_stop != 0;
    double now = monotonic_s();
    if (!stopping && now < next) {
      int wait_ms = static_cast<int>(std::ceil((next - now) * 1000));
      int rc = probes->poll(wait_ms);
      if (rc < 0 && rc != -EINTR) {
        std::cerr << "ipctop: reading the ring buffer failed: " << strerror(-rc) << '\n';
        return kExitCannotTrace;
      }
      continue;
    }
    now = monotonic_s();
    KernelSample sample = probes->drain(unix_s());
    if (!sample.failures.entries.empty()) sample.failures.limits = failure_limits();
    Snapshot snap = aggregator.update(sample, now - last);
    probes->collect_garbage(aggregator.collect_garbage());
    last = now;
    next += opts.interval_s;
    if (next < now) next = now + opts.interval_s;  // suspended or overloaded: do not burst
    lost_total += snap.lost.events;
    if (auto err = outputs->on_snapshot(snap)) {
      std::cerr << "ipctop: " << *err << '\n';
      return kExitCannotTrace;
    }
    if (opts.json) render::write_ndjson(snap, std::cout);
    if (!std::cout.good()) break;  // the reader went away
    ++printed;
    if (stopping || (opts.count && printed >= *opts.count)) break;
  }
  if (auto err = outputs->finish()) {
    std::cerr << "ipctop: " << *err << '\n';
    return kExitCannotTrace;
  }
  if (lost_total)
    std::cerr << fmt::format("ipctop: {} events were lost (see the 'lost' object)\n", lost_total);
  return opts.fail_on_loss && lost_total ? kExitLoss : 0;
}

int run_features(const cli::Options& opts) {
  auto started = probe::Probes::start(
      {opts.max_flows, opts.max_threads, opts.max_channels, opts.ringbuf_bytes});
  if (auto* err = std::get_if<probe::Error>(&started)) {
    std::cerr << "ipctop: " << err->message << '\n';
    return kExitCannotTrace;
  }
  print_features(std::get<std::unique_ptr<probe::Probes>>(started)->report(), std::cout);
  return 0;
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
