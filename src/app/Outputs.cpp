#include "app/Outputs.h"

#include "render/tui/Driver.h"
#include "render/tui/Source.h"

#include <signal.h>

#include <csignal>

#include <iostream>
#include <sstream>

#include <fmt/format.h>

#include "app/App.h"
#include "record/Replay.h"
#include "render/json/Json.h"

#ifndef IPCTOP_VERSION
#define IPCTOP_VERSION "0.0.0"
#endif

namespace ipctop::app {

std::variant<std::unique_ptr<Outputs>, std::string> Outputs::open(const cli::Options& opts,
                                                                  size_t probes_attached,
                                                                  size_t probes_total) {
  std::unique_ptr<Outputs> out(new Outputs());
  if (opts.record) {
    auto f = record::OutputFile::create(
        *opts.record, {opts.force, opts.compress || record::wants_gzip(*opts.record)});
    if (auto* err = std::get_if<record::FileError>(&f)) return "--record: " + err->message;
    out->record_ = std::move(std::get<std::unique_ptr<record::OutputFile>>(f));
  }
  if (opts.dot) {
    // Created now, written at exit: a name that cannot be used fails before the run.
    if (*opts.dot != "-") {
      auto f = record::OutputFile::create(*opts.dot, {opts.force, false});
      if (auto* err = std::get_if<record::FileError>(&f)) return "--dot: " + err->message;
      out->dot_file_ = std::move(std::get<std::unique_ptr<record::OutputFile>>(f));
    }
    out->graph_.emplace();
  }
  if (opts.prometheus) {
    out->metrics_.emplace(render::prom::Config{opts.prom_top});
    out->health_ = {IPCTOP_VERSION, probes_attached, probes_total};
    Outputs* self = out.get();
    auto started =
        render::prom::HttpServer::listen(opts.prometheus->host, opts.prometheus->port, [self] {
          std::lock_guard lock(self->prom_mutex_);
          return self->metrics_->render(self->health_);
        });
    if (auto* err = std::get_if<std::string>(&started)) return "--prometheus: " + *err;
    out->server_ = std::move(std::get<std::unique_ptr<render::prom::HttpServer>>(started));
    std::cerr << fmt::format("ipctop: serving Prometheus metrics at {}\n", out->server_->url());
  }
  return out;
}

void Outputs::start_serving() {
  if (server_) server_->serve();
}

Outputs::~Outputs() {
  server_.reset();  // the thread uses metrics_: stop it first
}

std::optional<std::string> Outputs::on_snapshot(const Snapshot& snap) {
  if (record_) {
    std::ostringstream line;
    render::write_ndjson(snap, line);
    if (auto err = record_->write(line.str()))
      return "--record: " + err->message + "; recording stopped";
  }
  if (graph_) graph_->add(snap);
  if (metrics_) {
    std::lock_guard lock(prom_mutex_);
    metrics_->add(snap);
  }
  return std::nullopt;
}

std::optional<std::string> Outputs::finish() {
  if (finished_) return std::nullopt;
  finished_ = true;
  std::optional<std::string> error;
  if (record_)
    if (auto err = record_->close()) error = "--record: " + err->message;
  if (graph_) {
    std::string text = graph_->render("ipctop " IPCTOP_VERSION);
    if (dot_file_) {
      auto err = dot_file_->write(text);
      if (!err) err = dot_file_->close();
      if (err && !error) error = "--dot: " + err->message;
    } else {
      std::cout << text << std::flush;
    }
  }
  return error;
}

namespace {

volatile std::sig_atomic_t g_replay_stop = 0;

void on_replay_stop(int) { g_replay_stop = 1; }

// ipctop --replay FILE in the live view: every snapshot read first, then
// stepped, paused and sought with the view's replay keys.
int replay_in_tui(const cli::Options& opts) {
  if (std::string why = tui::tui_unavailable(); !why.empty()) {
    std::cerr << "ipctop: " << why << '\n';
    return 2;
  }
  auto opened = record::Replay::open(*opts.replay);
  if (auto* err = std::get_if<record::FileError>(&opened)) {
    std::cerr << "ipctop: --replay: " << err->message << '\n';
    return 1;
  }
  auto replay = std::move(std::get<std::unique_ptr<record::Replay>>(opened));
  std::vector<Snapshot> snaps;
  for (;;) {
    auto next = replay->next();
    if (std::holds_alternative<record::EndOfRecording>(next)) break;
    if (auto* err = std::get_if<record::FileError>(&next)) {
      std::cerr << "ipctop: --replay: " << err->message << '\n';
      return 1;
    }
    snaps.push_back(std::move(std::get<Snapshot>(next)));
    snaps.back().source = "replay";
  }
  if (snaps.empty()) {
    std::cerr << "ipctop: --replay: " << *opts.replay << " holds no snapshot\n";
    return 1;
  }
  // Ctrl-C, SIGTERM and SIGHUP end the view, which restores the terminal.
  struct sigaction sa {};
  sa.sa_handler = on_replay_stop;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);
  tui::ReplaySource source(std::move(snaps));
  tui::TuiOptions tui_opts;
  tui_opts.raw = opts.raw;
  tui_opts.color = !opts.no_color;
  tui_opts.stop = &g_replay_stop;
  return tui::run_tui(source, tui_opts) == 0 ? 0 : 2;
}

}  // namespace

int run_replay(const cli::Options& opts) {
  if (!opts.json && !opts.no_tui) return replay_in_tui(opts);
  signal(SIGPIPE, SIG_IGN);
  auto opened = record::Replay::open(*opts.replay);
  if (auto* err = std::get_if<record::FileError>(&opened)) {
    std::cerr << "ipctop: --replay: " << err->message << '\n';
    return kExitCannotTrace;
  }
  auto replay = std::move(std::get<std::unique_ptr<record::Replay>>(opened));
  auto made = Outputs::open(opts, 0, 0);
  if (auto* err = std::get_if<std::string>(&made)) {
    std::cerr << "ipctop: " << *err << '\n';
    return kExitCannotTrace;
  }
  auto outputs = std::move(std::get<std::unique_ptr<Outputs>>(made));
  int status = 0;
  uint64_t emitted = 0;
  while (!opts.count || emitted < *opts.count) {
    auto next = replay->next();
    if (std::holds_alternative<record::EndOfRecording>(next)) break;
    if (auto* err = std::get_if<record::FileError>(&next)) {
      std::cerr << "ipctop: --replay: " << err->message << '\n';
      status = kExitCannotTrace;
      break;
    }
    const Snapshot& snap = std::get<Snapshot>(next);
    if (opts.json) {
      render::write_ndjson(snap, std::cout);
      if (!std::cout.good()) break;  // the reader went away
    }
    if (auto err = outputs->on_snapshot(snap)) {
      std::cerr << "ipctop: " << *err << '\n';
      status = kExitCannotTrace;
      break;
    }
    ++emitted;
  }
  if (auto err = outputs->finish()) {
    std::cerr << "ipctop: " << *err << '\n';
    status = kExitCannotTrace;
  }
  return status;
}

}  // namespace ipctop::app
