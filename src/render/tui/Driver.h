// The thin ncurses part: draws the screen model, reads keys, waits on the
// keyboard and the snapshot source together. The only code that includes
// curses.
#pragma once

#include <csignal>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "render/tui/Frame.h"
#include "render/tui/Source.h"

namespace ipctop::tui {

struct TuiOptions {
  bool raw = false;   // exact numbers
  bool color = true;  // false: --no-color (NO_COLOR and TERM=dumb are checked here too)
  std::vector<ProbeState> probes;
  const volatile std::sig_atomic_t* stop = nullptr;  // set by SIGINT/SIGTERM/SIGHUP
  std::optional<uint64_t> max_snapshots;             // --count: quit after this many
};

// Why the TUI cannot start, or "" when it can: stdout is not a terminal,
// TERM is unset or cannot address the cursor.
std::string tui_unavailable();

// Runs until q, F10 or *stop; restores the terminal on every way out,
// including a crash (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT: endwin, then
// the signal's default action). Returns 0, or 2 when the terminal cannot be
// set up (curses refuses TERM).
int run_tui(SnapshotSource& source, const TuiOptions& options);

}  // namespace ipctop::tui
