#include "render/tui/Render.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <span>

#include <fmt/format.h>

#include "model/Text.h"
#include "render/tui/Format.h"
#include "render/tui/Tables.h"

namespace ipctop::tui {

namespace {

constexpr KeyHelp kKeys[] = {
    {"h ? F1", "this help (any key closes it)"},
    {"q F10", "quit"},
    {"1 .. 6", "view: Processes, Flows, Channels, Cores, Apps, Limits"},
    {"Tab Shift-Tab", "next / previous view"},
    {"Up Down", "select a row"},
    {"PgUp PgDn", "a page up / down"},
    {"Home End", "first / last row"},
    {"< >", "sort by the previous / next column"},
    {"F6", "pick the sort column"},
    {"I", "invert the sort order"},
    {"/", "filter by name or path as you type (Enter keeps, Esc clears)"},
    {"p", "show one process id only (empty clears)"},
    {"k", "filter by IPC kind, cycling through the kinds"},
    {"t", "threads under their process"},
    {"T", "processes as a tree by parent"},
    {"Enter", "the selected process's flows and channels"},
    {"Esc Backspace", "back from a process; else clear the filters"},
    {"space", "pause / resume the display"},
    {"+ -", "longer / shorter interval"},
    {"s", "save the current view's data as JSON"},
    {"[ ]", "replay: previous / next snapshot"},
    {"{ }", "replay: 10 snapshots back / forward"},
};

constexpr int kMeterMin = 40;  // columns of one CPU meter

// Columns that fit `width`: drop the least important until the fixed
// widths fit, then give flexible columns the space left.
struct Layout {
  std::vector<size_t> cols;  // indexes into columns(view)
  std::vector<int> widths;
};

Layout layout(std::span<const ColumnDef> defs, int width) {
  Layout l;
  for (size_t i = 0; i < defs.size(); ++i) l.cols.push_back(i);
  auto needed = [&] {
    int sum = 0;
    for (size_t i : l.cols) sum += defs[i].width;
    return sum + static_cast<int>(l.cols.size()) - 1;
  };
  while (needed() > width) {
    auto worst = std::max_element(l.cols.rbegin(), l.cols.rend(), [&](size_t a, size_t b) {
      return defs[a].priority < defs[b].priority;
    });
    if (worst == l.cols.rend() || defs[*worst].priority == 0) break;
    l.cols.erase(std::next(worst).base());
  }
  int extra = std::max(0, width - needed());
  int flex = 0;
  for (size_t i : l.cols) flex += defs[i].flex;
  for (size_t i : l.cols) {
    int w = defs[i].width;
    if (defs[i].flex && flex) {
      int share = extra / flex;
      w += share;
      extra -= share;
      --flex;
    }
    l.widths.push_back(w);
  }
  return l;
}

// Children of a process get a branch, its threads a dot.
std::string indent_text(const std::string& text, int depth, bool thread) {
  if (depth <= 0) return text;
  std::string pad;
  for (int i = 1; i < depth; ++i) pad += "  ";
  return pad + (thread ? "· " : "└ ") + text;
}

std::string bar(double fill, int width) {
  int n = std::clamp(static_cast<int>(std::lround(fill * width)), 0, width);
  return std::string(static_cast<size_t>(n), '|') +
         std::string(static_cast<size_t>(width - n), ' ');
}

struct Painter {
  const Frame& frame;
  const ViewState& state;
  int w = 0;
  int h = 0;
  ScreenModel screen;
  const Snapshot* snap() const { return frame.snap; }
  double interval() const { return snap() ? snap()->interval_s : 0; }
  double rate(uint64_t v) const { return interval() > 0 ? double(v) / interval() : 0; }
  void push(Line l) {
    if (static_cast<int>(screen.lines.size()) < h) screen.lines.push_back(std::move(l));
  }
  int room() const { return h - static_cast<int>(screen.lines.size()); }
};

void title_line(Painter& p) {
  LineBuilder b(p.w);
  std::string left = fmt::format(" ipctop  {}  up {}  interval {}s  {}", sanitize(p.frame.host),
                                 uptime(p.frame.uptime_s), fmt::format("{:g}", p.state.interval_s),
                                 p.frame.source);
  std::string badge;
  Style badge_style = Style::good;
  if (!p.snap()) {
    badge = " waiting for the first interval ";
    badge_style = Style::dim;
  } else {
    const Snapshot& s = *p.snap();
    if (s.lost.events || s.unattributed_bytes) {
      badge_style = Style::bad;
      badge = fmt::format(" LOST {} events, {} unattributed ", s.lost.events,
                          bytes(s.unattributed_bytes, p.state.raw));
    } else {
      badge = " no loss ";
    }
  }
  std::string paused = p.state.paused ? " PAUSED " : "";
  int right = display_width(badge) + display_width(paused);
  b.field(left, std::max(0, p.w - right), false, Style::title);
  if (!paused.empty()) b.add(paused, Style::warn);
  b.add(badge, badge_style);
  b.fill(Style::title);
  p.push(b.take());
}

void cpu_lines(Painter& p) {
  if (!p.snap()) return;
  const auto& cpus = p.snap()->cpus;
  if (cpus.empty()) return;
  int per_line = std::max(1, p.w / (kMeterMin + 26));
  int meter_w = p.w / per_line;
  int lines_needed = (static_cast<int>(cpus.size()) + per_line - 1) / per_line;
  int max_lines = std::clamp(p.h - 16, 1, 8);
  bool more = lines_needed > max_lines;
  int lines = more ? max_lines - 1 : lines_needed;
  size_t shown = 0;
  for (int l = 0; l < lines; ++l) {
    LineBuilder b(p.w);
    for (int m = 0; m < per_line && shown < cpus.size(); ++m, ++shown) {
      const CpuRow& c = cpus[shown];
      double ctx = p.rate(c.ctx_switches);
      double vol = c.ctx_switches ? double(c.voluntary) / double(c.ctx_switches) : 0;
      std::string label = fmt::format("cpu{:<3}", c.cpu);
      std::string tail =
          fmt::format(" {:>6} cs/s vol {:>3.0f}% IPC {:>9}/s", count_rate(ctx, p.state.raw),
                      vol * 100, bytes_rate(p.rate(c.tx_bytes + c.rx_bytes), p.state.raw));
      int bar_w = std::max(4, meter_w - display_width(label) - display_width(tail) - 3);
      // Log scale: 1 switch/s .. 1M switches/s fills the bar.
      double fill = ctx > 0 ? std::log10(ctx + 1) / 6 : 0;
      std::string full = bar(std::min(1.0, fill), bar_w);
      int vol_chars = static_cast<int>(
          std::lround(vol * static_cast<double>(std::count(full.begin(), full.end(), '|'))));
      b.add(label, Style::accent).add("[");
      b.add(full.substr(0, static_cast<size_t>(vol_chars)), Style::bar_low);
      b.add(full.substr(static_cast<size_t>(vol_chars)), Style::bar_high);
      b.add("]").add(tail);
      if (m + 1 < per_line)
        b.add(std::string(static_cast<size_t>(std::max(0, meter_w * (m + 1) - b.used())), ' '));
    }
    p.push(b.take());
  }
  if (more) {
    LineBuilder b(p.w);
    b.add(fmt::format("  ... {} more CPUs: view 4 (Cores)", cpus.size() - shown), Style::dim);
    p.push(b.take());
  }
}

void totals_line(Painter& p) {
  if (!p.snap()) return;
  const Snapshot& s = *p.snap();
  std::map<Kind, std::pair<uint64_t, uint64_t>> by_kind;
  uint64_t bytes_all = 0, msgs_all = 0;
  for (const auto& f : s.flows) {
    by_kind[f.kind].first += f.bytes;
    by_kind[f.kind].second += f.messages;
    bytes_all += f.bytes;
    msgs_all += f.messages;
  }
  std::vector<std::pair<Kind, std::pair<uint64_t, uint64_t>>> kinds(by_kind.begin(), by_kind.end());
  std::stable_sort(kinds.begin(), kinds.end(),
                   [](const auto& a, const auto& b) { return a.second.first > b.second.first; });
  LineBuilder b(p.w);
  b.add("IPC ", Style::bold)
      .add(fmt::format("{}/s {} msg/s", bytes_rate(p.rate(bytes_all), p.state.raw),
                       count_rate(p.rate(msgs_all), p.state.raw)),
           Style::bold);
  for (const auto& [k, v] : kinds)
    b.add("  ")
        .add(std::string(short_kind(k)), Style::accent)
        .add(fmt::format(" {}/s {}/s", bytes_rate(p.rate(v.first), p.state.raw),
                         count_rate(p.rate(v.second), p.state.raw)));
  p.push(b.take());
}

void probes_line(Painter& p) {
  LineBuilder b(p.w);
  size_t on = 0;
  std::string missing;
  for (const auto& pr : p.frame.probes) {
    if (pr.attached) {
      ++on;
      continue;
    }
    if (!missing.empty()) missing += ", ";
    missing += sanitize(pr.name);
    if (!pr.reason.empty()) missing += " (" + sanitize(pr.reason) + ")";
  }
  if (p.frame.probes.empty()) {
    b.add("probes: none (" + p.frame.source + ")", Style::dim);
  } else {
    b.add(fmt::format("probes {}/{} active", on, p.frame.probes.size()),
          missing.empty() ? Style::good : Style::warn);
    if (!missing.empty()) b.add("  missing: " + missing, Style::warn);
  }
  p.push(b.take());
}

void tabs_line(Painter& p, const Table& t) {
  LineBuilder b(p.w);
  bool narrow = p.w < 120;
  for (int v = 0; v < kViews; ++v) {
    bool active = static_cast<int>(p.state.view) == v;
    static constexpr std::string_view kShort[] = {"Procs", "Flows", "Chans",
                                                  "Cores", "Apps",  "Limits"};
    std::string name(narrow ? kShort[v] : view_title(static_cast<View>(v)));
    b.add(fmt::format(" {} {} ", v + 1, name), active ? Style::tab_active : Style::tab);
  }
  if (t.title != view_title(p.state.view)) {
    b.add(" " + t.title, Style::accent);
    if (b.left() >= 11) b.add("  Esc back", Style::dim);
  }
  p.push(b.take());
}

void table_header(Painter& p, const Layout& l, std::span<const ColumnDef> defs) {
  LineBuilder b(p.w);
  const SortSpec& s = p.state.sort[size_t(p.state.view)];
  for (size_t j = 0; j < l.cols.size(); ++j) {
    size_t i = l.cols[j];
    std::string title = defs[i].title;
    if (static_cast<int>(i) == s.column) title += s.descending ? "▼" : "▲";
    if (j) b.add(" ", Style::column);
    b.field(title, l.widths[j], defs[i].right, Style::column);
  }
  b.fill(Style::column);
  p.push(b.take());
}

Line table_row(int width, const Layout& l, std::span<const ColumnDef> defs, const Row& r,
               bool selected) {
  LineBuilder b(width);
  Style style = selected ? Style::selected : r.style;
  bool indented = false;
  for (size_t j = 0; j < l.cols.size(); ++j) {
    size_t i = l.cols[j];
    std::string text = i < r.cells.size() ? r.cells[i].text : "";
    if (!indented && defs[i].flex && r.depth) {
      text = indent_text(text, r.depth, r.thread);
      indented = true;
    }
    if (j) b.add(" ", style);
    b.field(text, l.widths[j], defs[i].right, style);
  }
  if (selected) b.fill(style);
  return b.take();
}

// Bytes/s from each sender CPU (rows) to each receiver CPU (columns).
void matrix_lines(Painter& p) {
  if (!p.snap() || p.room() < 3) return;
  const auto& m = p.snap()->matrix;
  LineBuilder head(p.w);
  if (m.empty()) {
    head.add("Cross-core IPC matrix: nothing in this interval.", Style::dim);
    p.push(head.take());
    return;
  }
  std::map<std::pair<uint32_t, uint32_t>, uint64_t> cell;
  uint32_t max_cpu = 0;
  for (const auto& c : m) {
    cell[{c.src_cpu, c.dst_cpu}] += c.bytes;
    max_cpu = std::max({max_cpu, c.src_cpu, c.dst_cpu});
  }
  for (const auto& c : p.snap()->cpus) max_cpu = std::max(max_cpu, c.cpu);
  constexpr int kCell = 10;
  int fit = std::max(1, (p.w - 8) / kCell);
  uint32_t ncols = std::min<uint32_t>(max_cpu + 1, static_cast<uint32_t>(fit));
  head.add("Cross-core IPC bytes/s: sender CPU (rows) → receiver CPU (columns)", Style::bold);
  p.push(head.take());
  LineBuilder cols(p.w);
  cols.field("from\\to", 8, false, Style::column);
  for (uint32_t d = 0; d < ncols; ++d)
    cols.field(fmt::format("cpu{}", d), kCell, true, Style::column);
  if (ncols <= max_cpu) cols.add(fmt::format("  (+{} CPUs)", max_cpu + 1 - ncols), Style::dim);
  p.push(cols.take());
  for (uint32_t s = 0; s <= max_cpu && p.room() > 1; ++s) {
    LineBuilder b(p.w);
    b.field(fmt::format("cpu{}", s), 8, false, Style::accent);
    for (uint32_t d = 0; d < ncols; ++d) {
      auto it = cell.find({s, d});
      uint64_t v = it == cell.end() ? 0 : it->second;
      b.field(v ? bytes_rate(p.rate(v), p.state.raw) : ".", kCell, true,
              s == d ? Style::normal : (v ? Style::warn : Style::dim));
    }
    p.push(b.take());
  }
}

void help_body(Painter& p) {
  for (const auto& k : kKeys) {
    if (p.room() <= 1) break;
    LineBuilder b(p.w);
    b.add("  ").field(k.keys, 14, false, Style::accent).add(k.what);
    p.push(b.take());
  }
}

void sort_picker(Painter& p) {
  auto defs = columns(p.state.view);
  LineBuilder t(p.w);
  t.add(" Sort by ", Style::tab_active).add("  Up/Down, Enter (again: invert), Esc", Style::dim);
  p.push(t.take());
  const SortSpec& s = p.state.sort[size_t(p.state.view)];
  for (size_t i = 0; i < defs.size() && p.room() > 1; ++i) {
    LineBuilder b(p.w);
    std::string mark = static_cast<int>(i) == s.column ? (s.descending ? " ▼" : " ▲") : "";
    b.field(std::string("  ") + defs[i].title + mark, 24, false,
            static_cast<int>(i) == p.state.pick ? Style::selected : Style::normal);
    p.push(b.take());
  }
}

void status_line(Painter& p) {
  LineBuilder b(p.w);
  switch (p.state.mode) {
    case Mode::filter_edit:
      b.add(" Filter: ", Style::tab_active).add(sanitize(p.state.filter) + "_", Style::bold);
      b.add("  Enter keeps, Esc clears", Style::dim);
      break;
    case Mode::pid_edit:
      b.add(" PID: ", Style::tab_active).add(p.state.edit + "_", Style::bold);
      b.add("  Enter applies (empty: all), Esc cancels", Style::dim);
      break;
    case Mode::help:
      b.add(" Keys ", Style::tab_active).add("  any key closes this help", Style::dim);
      break;
    default: {
      b.add(" F1", Style::accent).add(" help ").add("q", Style::accent).add(" quit ");
      b.add("/", Style::accent).add(" filter ").add("Tab", Style::accent).add(" view ");
      b.add("s", Style::accent).add(" save ");
      if (!p.state.filter.empty()) b.add(" filter:" + sanitize(p.state.filter) + " ", Style::warn);
      if (p.state.pid_filter) b.add(fmt::format(" pid:{} ", *p.state.pid_filter), Style::warn);
      if (p.state.kind_filter)
        b.add(fmt::format(" kind:{} ", kind_name(*p.state.kind_filter)), Style::warn);
      if (p.state.threads) b.add(" threads ", Style::accent);
      if (p.state.tree) b.add(" tree ", Style::accent);
      if (!p.state.message.empty()) b.add(" " + sanitize(p.state.message), Style::bold);
      break;
    }
  }
  b.fill(Style::normal);
  while (p.room() > 1) p.push(Line{});
  p.push(b.take());
}

}  // namespace

std::span<const KeyHelp> key_help() { return kKeys; }

ScreenModel render(const Frame& frame, const ViewState& state, int width, int height) {
  Painter p{frame, state, std::max(0, width), std::max(0, height), {}};
  p.screen.width = p.w;
  p.screen.height = p.h;
  if (p.w < kMinWidth || p.h < kMinHeight) {
    for (const std::string& text :
         {fmt::format("terminal too small: {}x{}", width, height),
          fmt::format("ipctop needs {}x{}", kMinWidth, kMinHeight), std::string("q quits")}) {
      LineBuilder b(p.w);
      b.add(text, Style::warn);
      p.push(b.take());
    }
    return std::move(p.screen);
  }
  title_line(p);
  if (state.mode == Mode::help) {  // the whole screen: every key fits at 80x24
    help_body(p);
    status_line(p);
    return std::move(p.screen);
  }
  Table table = build_table(frame, state);
  cpu_lines(p);
  totals_line(p);
  probes_line(p);
  tabs_line(p, table);

  if (state.mode == Mode::sort_pick) {
    sort_picker(p);
    status_line(p);
    return std::move(p.screen);
  }

  int max_notes = std::max(0, p.room() / 3);
  for (size_t i = 0; i < table.notes.size() && static_cast<int>(i) < max_notes; ++i) {
    LineBuilder b(p.w);
    b.add(table.notes[i], table.note_styles[i]);
    p.push(b.take());
  }

  auto defs = columns(state.view);
  Layout l = layout(defs, p.w);
  table_header(p, l, defs);

  int rows = static_cast<int>(table.rows.size());
  int reserve = 1;  // the status line
  if (state.view == View::cores)
    reserve +=
        std::min(p.room() / 2, 4 + static_cast<int>(frame.snap ? frame.snap->cpus.size() : 0));
  int page = std::max(1, p.room() - reserve);
  if (state.view == View::cores) page = std::min(page, std::max(1, rows));

  int selected = state.selected;
  if (!state.selected_key.empty())
    for (int i = 0; i < rows; ++i)
      if (table.rows[size_t(i)].key == state.selected_key) selected = i;
  selected = std::clamp(selected, 0, std::max(0, rows - 1));
  int scroll = std::clamp(state.scroll, 0, std::max(0, rows - page));
  if (selected < scroll) scroll = selected;
  if (selected >= scroll + page) scroll = selected - page + 1;

  if (rows == 0) {
    LineBuilder b(p.w);
    b.add(frame.snap ? "  nothing to show (filters: Esc clears them)" : "  waiting for data…",
          Style::dim);
    p.push(b.take());
  }
  for (int i = scroll; i < rows && i < scroll + page; ++i)
    p.push(table_row(p.w, l, defs, table.rows[size_t(i)], i == selected));
  if (state.view == View::cores) matrix_lines(p);
  status_line(p);

  p.screen.table_rows = rows;
  p.screen.page_rows = page;
  p.screen.scroll = scroll;
  p.screen.selected = selected;
  if (rows) {
    p.screen.selected_key = table.rows[size_t(selected)].key;
    p.screen.selected_pid = table.rows[size_t(selected)].pid;
  }
  return std::move(p.screen);
}

}  // namespace ipctop::tui
