// What the user chose to see: the view, its sort, the filters, the
// selection. Changed only by handle_key(), a pure function, so every key is
// unit-tested without a terminal.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "model/Snapshot.h"

namespace ipctop::tui {

enum class View : uint8_t { processes, flows, channels, cores, apps, limits };
inline constexpr int kViews = 6;
std::string_view view_title(View v);

enum class Mode : uint8_t {
  normal,
  help,         // the key list over the view
  filter_edit,  // typing after '/'
  pid_edit,     // typing after 'p'
  sort_pick,    // the F6 column picker
};

// Keys as the driver reports them: a Unicode code point for a typed
// character, or one of these (above the Unicode range).
namespace key {
enum : int {
  enter = '\n',
  escape = 27,
  tab = '\t',
  up = 0x110000,
  down,
  left,
  right,
  page_up,
  page_down,
  home,
  end,
  backspace,
  back_tab,
  f1,
  f6,
  f10,
  resize,
};
}  // namespace key

struct SortSpec {
  int column = 0;
  bool descending = true;
};

struct ViewState {
  View view = View::processes;
  Mode mode = Mode::normal;
  std::array<SortSpec, kViews> sort{};

  std::string filter;  // '/': substring of names and paths, case-insensitive
  std::string edit;    // the text being typed in filter_edit / pid_edit
  std::optional<uint32_t> pid_filter;
  std::optional<Kind> kind_filter;

  bool threads = false;  // 't': threads under their process
  bool tree = false;     // 'T': processes under their parent

  // The selection: an index into the current table, and the identity of
  // the row it was on, so it follows its row across refreshes. A key that
  // moves the selection clears the identity.
  int selected = 0;
  int scroll = 0;
  std::string selected_key;
  uint32_t selected_pid = 0;
  int table_rows = 0;  // from the last render
  int page_rows = 1;   // from the last render
  int pick = 0;        // cursor in the sort picker

  // Enter on a process: its flows and channels; Esc goes back.
  std::optional<uint32_t> drill_pid;
  View drill_from = View::processes;
  int drill_selected = 0;
  std::string drill_key;

  bool paused = false;
  double interval_s = 1.0;
  bool raw = false;
  bool replay = false;  // the source is a recording: [ ] { } step and seek

  // Requests for the driver, which clears them once done.
  bool quit = false;
  bool save = false;
  int seek = 0;  // replay: snapshots to move by

  std::string message;  // one-shot status line text (e.g. the saved file name)
};

ViewState initial_state();

// The intervals '+' and '-' step through.
double next_interval(double current, int direction);

ViewState handle_key(ViewState state, int key);

}  // namespace ipctop::tui
