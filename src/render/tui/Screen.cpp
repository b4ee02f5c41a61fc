#include "render/tui/Screen.h"

#include <algorithm>

#include "model/Text.h"

namespace ipctop::tui {

namespace {
constexpr std::string_view kStyleNames[] = {
    "normal",   "dim",  "bold", "title", "tab",    "tab_active", "column",
    "selected", "good", "warn", "bad",   "accent", "bar_low",    "bar_high",
};
static_assert(std::size(kStyleNames) == static_cast<size_t>(Style::count_));
}  // namespace

std::string_view style_name(Style s) { return kStyleNames[static_cast<size_t>(s)]; }

std::string fit(std::string_view text, int cols, bool right) {
  if (cols <= 0) return {};
  std::string cut = truncate_to_width(text, cols);
  int pad = cols - display_width(cut);
  if (pad <= 0) return cut;
  return right ? std::string(static_cast<size_t>(pad), ' ') + cut
               : cut + std::string(static_cast<size_t>(pad), ' ');
}

LineBuilder& LineBuilder::add(std::string_view text, Style style) {
  if (left() <= 0 || text.empty()) return *this;
  std::string cut = truncate_to_width(text, left());
  used_ += display_width(cut);
  if (!line_.spans.empty() && line_.spans.back().style == style)
    line_.spans.back().text += cut;
  else
    line_.spans.push_back({std::move(cut), style});
  return *this;
}

LineBuilder& LineBuilder::field(std::string_view text, int cols, bool right, Style style) {
  return add(fit(text, std::min(cols, left()), right), style);
}

LineBuilder& LineBuilder::fill(Style style) {
  if (left() > 0) add(std::string(static_cast<size_t>(left()), ' '), style);
  return *this;
}

std::string to_text(const ScreenModel& screen, bool with_styles) {
  std::string out;
  for (const auto& line : screen.lines) {
    std::string text;
    for (const auto& span : line.spans) {
      if (with_styles && span.style != Style::normal) {
        text += "«";
        text += style_name(span.style);
        text += ":";
        text += span.text;
        text += "»";
      } else {
        text += span.text;
      }
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text;
    out += '\n';
  }
  return out;
}

}  // namespace ipctop::tui
