// The rows of each view, as a table of cells: built from a Frame by the
// view's filters and sort, then laid out by Render.cpp or saved as JSON.
// Columns are data (one table per view), not code.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "render/tui/Frame.h"
#include "render/tui/Screen.h"
#include "render/tui/ViewState.h"

namespace ipctop::tui {

struct ColumnDef {
  const char* title;
  const char* json;  // key in the saved JSON
  int width;         // fixed width, or the minimum of a flexible column
  bool right;        // right-aligned (numbers)
  bool flex;         // takes a share of the width left over
  int priority;      // on a narrow screen the highest numbers go first
};

std::span<const ColumnDef> columns(View v);

struct Cell {
  std::string text;  // sanitized, formatted for display
  double num = 0;    // exact value for sorting and saving
  bool numeric = false;
};

struct Row {
  std::vector<Cell> cells;
  std::string key;   // identity across refreshes ("p:123", "t:123:124", ...)
  uint32_t pid = 0;  // the process a row is about, for Enter
  int depth = 0;     // indent (threads, tree)
  bool thread = false;
  Style style = Style::normal;
};

struct Table {
  View view = View::processes;
  std::string title;  // e.g. "Flows of 1234 (nginx)"
  std::vector<Row> rows;
  std::vector<std::string> notes;  // lines shown above the table (Limits: failures, warnings)
  std::vector<Style> note_styles;
};

Table build_table(const Frame& frame, const ViewState& state);

// Human name of a kind, at most 9 columns.
std::string_view short_kind(Kind k);

}  // namespace ipctop::tui
