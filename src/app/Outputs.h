// The outputs that run beside the view or the JSON: --prometheus, --record
// and --dot. The run loop hands every snapshot to on_snapshot(); everything
// else about these outputs lives here.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <variant>

#include "cli/Options.h"
#include "model/Snapshot.h"
#include "record/OutputFile.h"
#include "render/dot/Graph.h"
#include "render/prom/HttpServer.h"
#include "render/prom/Metrics.h"

namespace ipctop::app {

class Outputs {
 public:
  // Creates the files and listens for Prometheus; an error names the option and the cause.
  static std::variant<std::unique_ptr<Outputs>, std::string> open(const cli::Options& opts,
                                                                  size_t probes_attached,
                                                                  size_t probes_total);
  // Starts the Prometheus server's thread: after the capability drop, so
  // the thread has the reduced set.
  void start_serving();
  ~Outputs();

  // An error stops the run: a recording the user asked for is not dropped silently.
  std::optional<std::string> on_snapshot(const Snapshot& snap);
  // Writes the graph and closes the recording.
  std::optional<std::string> finish();

 private:
  Outputs() = default;

  std::unique_ptr<record::OutputFile> record_;
  std::unique_ptr<record::OutputFile> dot_file_;  // null with --dot - (stdout)
  std::optional<render::dot::Graph> graph_;
  std::mutex prom_mutex_;  // the server thread renders while the loop adds
  std::optional<render::prom::Metrics> metrics_;
  render::prom::Health health_;
  std::unique_ptr<render::prom::HttpServer> server_;
  bool finished_ = false;
};

// ipctop --replay FILE: re-emits a recording through the same outputs.
int run_replay(const cli::Options& opts);

}  // namespace ipctop::app
