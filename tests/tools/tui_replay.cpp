// tui_replay: the live view's driver fed from recorded snapshots (a
// ReplaySource) instead of the probes, so the e2e tests drive replay keys in
// a real terminal. The snapshots are the unit tests' fixture (2 s intervals);
// the busiest flow of the i-th one moves i+1 MiB/s and every other one has
// lost events, so the screen tells them apart.
//
//   tui_replay [COUNT]             the view, fed directly
//   tui_replay COUNT FILE          write the snapshots to FILE as NDJSON, for
//                                  `ipctop --replay FILE`
#include <signal.h>

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>

#include "render/json/Json.h"
#include "render/tui/Driver.h"
#include "render/tui/Source.h"
#include "tui_fixture.h"

namespace {
volatile std::sig_atomic_t g_stop = 0;
void on_stop(int) { g_stop = 1; }
}  // namespace

int main(int argc, char** argv) {
  int count = argc > 1 ? std::atoi(argv[1]) : 5;
  if (count < 1 || count > 1000) {
    std::cerr << "usage: tui_replay [COUNT 1..1000 [FILE]]\n";
    return 2;
  }
  const bool to_file = argc > 2;
  if (!to_file) {
    if (std::string why = ipctop::tui::tui_unavailable(); !why.empty()) {
      std::cerr << "tui_replay: " << why << '\n';
      return 2;
    }
  }
  struct sigaction sa {};
  sa.sa_handler = on_stop;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);

  std::vector<ipctop::Snapshot> snaps;
  for (int i = 0; i < count; ++i) {
    ipctop::Snapshot s = tui_fixture::Fixed(i % 2 == 1);  // every other one lost events
    s.source = "replay";
    s.time += i;
    s.flows[0].bytes = static_cast<uint64_t>(i + 1) * 2 * 1024 * 1024;
    snaps.push_back(std::move(s));
  }
  if (to_file) {
    std::ofstream out(argv[2], std::ios::trunc);
    for (const auto& s : snaps) ipctop::render::write_ndjson(s, out);
    return out.good() ? 0 : 1;
  }
  ipctop::tui::ReplaySource source(std::move(snaps));
  ipctop::tui::TuiOptions options;
  options.stop = &g_stop;
  options.probes = {{"replay", true, ""}};
  return ipctop::tui::run_tui(source, options);
}
