// The screen model: what the TUI shows, as lines of styled text, built by a
// pure function so golden tests compare it as text without a terminal. Only
// Driver.cpp turns it into ncurses calls.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ipctop::tui {

// Meanings, not colors: the driver maps each to a color pair, or to
// bold/reverse/underline on a monochrome terminal.
enum class Style : uint8_t {
  normal,
  dim,
  bold,
  title,       // the top line
  tab,         // an inactive view tab
  tab_active,  // the current view tab
  column,      // column headings
  selected,    // the selected row
  good,
  warn,
  bad,  // the loss badge when something was lost
  accent,
  bar_low,
  bar_high,
  count_,  // number of styles, not a style
};

struct Span {
  std::string text;  // sanitized UTF-8, no control characters
  Style style = Style::normal;
};

struct Line {
  std::vector<Span> spans;
};

class LineBuilder {
 public:
  explicit LineBuilder(int width) : width_(width) {}
  // Appends `text` cut to the space left (never half a wide character).
  LineBuilder& add(std::string_view text, Style style = Style::normal);
  // Appends `text` cut or padded to exactly `cols` columns (or the space left).
  LineBuilder& field(std::string_view text, int cols, bool right, Style style = Style::normal);
  // Pads with spaces in `style` to the full width.
  LineBuilder& fill(Style style);
  int used() const { return used_; }
  int left() const { return width_ - used_; }
  Line take() { return std::move(line_); }

 private:
  int width_;
  int used_ = 0;
  Line line_;
};

struct ScreenModel {
  int width = 0;
  int height = 0;
  std::vector<Line> lines;  // at most `height`
  // What the key handler needs to know about the table just drawn.
  int table_rows = 0;        // rows in the current table, after the filters
  int page_rows = 1;         // rows visible at once
  int scroll = 0;            // first visible row
  int selected = 0;          // the selected row, clamped
  std::string selected_key;  // its identity, to keep the selection across refreshes
  uint32_t selected_pid = 0;
};

// One line of text per screen line, trailing spaces removed; the attributes
// are dropped unless `with_styles`, which marks each styled span as
// «style:text».
std::string to_text(const ScreenModel& screen, bool with_styles = false);

std::string_view style_name(Style s);

// Cut or pad `text` to exactly `cols` display columns.
std::string fit(std::string_view text, int cols, bool right = false);

}  // namespace ipctop::tui
