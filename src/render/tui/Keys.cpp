#include <algorithm>
#include <array>
#include <charconv>

#include "render/tui/Tables.h"
#include "render/tui/ViewState.h"

namespace ipctop::tui {

namespace {

constexpr std::array<double, 9> kIntervals = {0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60};

constexpr Kind kKindCycle[] = {
    Kind::pipe,      Kind::fifo, Kind::unix_stream, Kind::unix_dgram, Kind::unix_seqpacket,
    Kind::tcp,       Kind::udp,  Kind::sysv_msg,    Kind::posix_mq,   Kind::sysv_shm,
    Kind::posix_shm, Kind::file, Kind::signal};

void append_utf8(std::string& s, int cp) {
  auto u = static_cast<unsigned>(cp);
  if (u < 0x80) {
    s += static_cast<char>(u);
  } else if (u < 0x800) {
    s += static_cast<char>(0xc0 | (u >> 6));
    s += static_cast<char>(0x80 | (u & 0x3f));
  } else if (u < 0x10000) {
    s += static_cast<char>(0xe0 | (u >> 12));
    s += static_cast<char>(0x80 | ((u >> 6) & 0x3f));
    s += static_cast<char>(0x80 | (u & 0x3f));
  } else {
    s += static_cast<char>(0xf0 | (u >> 18));
    s += static_cast<char>(0x80 | ((u >> 12) & 0x3f));
    s += static_cast<char>(0x80 | ((u >> 6) & 0x3f));
    s += static_cast<char>(0x80 | (u & 0x3f));
  }
}

// Removes the last code point.
void pop_utf8(std::string& s) {
  while (!s.empty()) {
    unsigned char c = static_cast<unsigned char>(s.back());
    s.pop_back();
    if ((c & 0xc0) != 0x80) break;
  }
}

bool printable(int k) { return k >= 0x20 && k != 0x7f && k < 0x110000 && !(k >= 0x80 && k < 0xa0); }

bool is_backspace(int k) { return k == key::backspace || k == 0x7f || k == 8; }

void move_to(ViewState& s, int row) {
  int last = std::max(0, s.table_rows - 1);
  s.selected = std::clamp(row, 0, last);
  s.selected_key.clear();
}

void set_view(ViewState& s, View v) {
  if (s.drill_pid && v != View::flows && v != View::channels) s.drill_pid.reset();
  if (s.view == v) return;
  s.view = v;
  s.selected = 0;
  s.scroll = 0;
  s.selected_key.clear();
}

void cycle_view(ViewState& s, int dir) {
  if (s.drill_pid) {  // a drilled process has two views: its flows and its channels
    set_view(s, s.view == View::flows ? View::channels : View::flows);
    return;
  }
  int v = (static_cast<int>(s.view) + dir + kViews) % kViews;
  set_view(s, static_cast<View>(v));
}

void go_back(ViewState& s) {
  if (s.drill_pid) {
    s.drill_pid.reset();
    s.view = s.drill_from;
    s.selected = s.drill_selected;
    s.selected_key = s.drill_key;
    s.scroll = 0;
    return;
  }
  // Nothing to go back to: Esc clears the filters.
  s.filter.clear();
  s.pid_filter.reset();
  s.kind_filter.reset();
}

void drill(ViewState& s) {
  if ((s.view != View::processes && s.view != View::apps) || s.selected_pid == 0) return;
  s.drill_from = s.view;
  s.drill_selected = s.selected;
  s.drill_key = s.selected_key;
  s.drill_pid = s.selected_pid;
  s.view = View::flows;
  s.selected = 0;
  s.scroll = 0;
  s.selected_key.clear();
}

void cycle_kind(ViewState& s) {
  if (!s.kind_filter) {
    s.kind_filter = kKindCycle[0];
    return;
  }
  auto it = std::find(std::begin(kKindCycle), std::end(kKindCycle), *s.kind_filter);
  if (it == std::end(kKindCycle) || it + 1 == std::end(kKindCycle))
    s.kind_filter.reset();
  else
    s.kind_filter = *(it + 1);
}

void sort_step(ViewState& s, int dir) {
  int n = static_cast<int>(columns(s.view).size());
  auto& spec = s.sort[static_cast<size_t>(s.view)];
  spec.column = (spec.column + dir + n) % n;
  spec.descending =
      columns(s.view)[static_cast<size_t>(spec.column)].right;  // numbers: largest first
}

ViewState normal_key(ViewState s, int k) {
  switch (k) {
    case 'q':
    case key::f10:
      s.quit = true;
      return s;
    case 'h':
    case '?':
    case key::f1:
      s.mode = Mode::help;
      return s;
    case key::tab:
      cycle_view(s, 1);
      return s;
    case key::back_tab:
      cycle_view(s, -1);
      return s;
    case key::up:
      move_to(s, s.selected - 1);
      return s;
    case key::down:
      move_to(s, s.selected + 1);
      return s;
    case key::page_up:
      move_to(s, s.selected - std::max(1, s.page_rows));
      return s;
    case key::page_down:
      move_to(s, s.selected + std::max(1, s.page_rows));
      return s;
    case key::home:
      move_to(s, 0);
      return s;
    case key::end:
      move_to(s, s.table_rows - 1);
      return s;
    case '<':
      sort_step(s, -1);
      return s;
    case '>':
      sort_step(s, 1);
      return s;
    case key::f6:
      s.mode = Mode::sort_pick;
      s.pick = s.sort[static_cast<size_t>(s.view)].column;
      return s;
    case 'I': {
      auto& spec = s.sort[static_cast<size_t>(s.view)];
      spec.descending = !spec.descending;
      return s;
    }
    case '/':
      s.mode = Mode::filter_edit;
      return s;
    case 'p':
      s.mode = Mode::pid_edit;
      s.edit = s.pid_filter ? std::to_string(*s.pid_filter) : "";
      return s;
    case 'k':
      cycle_kind(s);
      return s;
    case 't':
      s.threads = !s.threads;
      return s;
    case 'T':
      s.tree = !s.tree;
      return s;
    case key::enter:
    case '\r':
      drill(s);
      return s;
    case key::escape:
      go_back(s);
      return s;
    case ' ':
      s.paused = !s.paused;
      return s;
    case '+':
    case '=':
      s.interval_s = next_interval(s.interval_s, 1);
      return s;
    case '-':
      s.interval_s = next_interval(s.interval_s, -1);
      return s;
    case 's':
      s.save = true;
      return s;
    case ']':
      if (s.replay) {
        s.seek += 1;
        s.paused = true;
      }
      return s;
    case '[':
      if (s.replay) {
        s.seek -= 1;
        s.paused = true;
      }
      return s;
    case '}':
      if (s.replay) s.seek += 10;
      return s;
    case '{':
      if (s.replay) s.seek -= 10;
      return s;
    default:
      break;
  }
  if (k >= '1' && k < '1' + kViews) {
    set_view(s, static_cast<View>(k - '1'));
    return s;
  }
  if (is_backspace(k)) go_back(s);
  return s;
}

}  // namespace

ViewState initial_state() {
  ViewState s;
  // Busiest first: TX/s for processes, bytes/s for flows and channels.
  s.sort[static_cast<size_t>(View::processes)] = {7, true};
  s.sort[static_cast<size_t>(View::flows)] = {4, true};
  s.sort[static_cast<size_t>(View::channels)] = {4, true};
  s.sort[static_cast<size_t>(View::cores)] = {0, false};
  s.sort[static_cast<size_t>(View::apps)] = {4, true};
  s.sort[static_cast<size_t>(View::limits)] = {3, true};
  return s;
}

double next_interval(double current, int direction) {
  if (direction > 0) {
    for (double v : kIntervals)
      if (v > current + 1e-9) return v;
    return kIntervals.back();
  }
  for (auto it = kIntervals.rbegin(); it != kIntervals.rend(); ++it)
    if (*it < current - 1e-9) return *it;
  return kIntervals.front();
}

ViewState handle_key(ViewState s, int k) {
  if (k == key::resize) return s;
  s.message.clear();
  switch (s.mode) {
    case Mode::help:
      s.mode = Mode::normal;
      if (k == key::f10) s.quit = true;
      return s;
    case Mode::filter_edit:
      if (k == key::enter || k == '\r') {
        s.mode = Mode::normal;
      } else if (k == key::escape) {
        s.filter.clear();
        s.mode = Mode::normal;
      } else if (is_backspace(k)) {
        pop_utf8(s.filter);
      } else if (printable(k) && s.filter.size() < 64) {
        append_utf8(s.filter, k);
      }
      s.selected = 0;
      s.selected_key.clear();
      return s;
    case Mode::pid_edit:
      if (k == key::enter || k == '\r') {
        uint32_t pid = 0;
        auto [end, ec] = std::from_chars(s.edit.data(), s.edit.data() + s.edit.size(), pid);
        if (s.edit.empty() || ec != std::errc{} || end != s.edit.data() + s.edit.size() || !pid)
          s.pid_filter.reset();
        else
          s.pid_filter = pid;
        s.mode = Mode::normal;
        s.selected = 0;
        s.selected_key.clear();
      } else if (k == key::escape) {
        s.mode = Mode::normal;
      } else if (is_backspace(k)) {
        if (!s.edit.empty()) s.edit.pop_back();
      } else if (k >= '0' && k <= '9' && s.edit.size() < 7) {
        s.edit += static_cast<char>(k);
      }
      return s;
    case Mode::sort_pick: {
      int n = static_cast<int>(columns(s.view).size());
      if (k == key::up)
        s.pick = std::max(0, s.pick - 1);
      else if (k == key::down)
        s.pick = std::min(n - 1, s.pick + 1);
      else if (k == key::home)
        s.pick = 0;
      else if (k == key::end)
        s.pick = n - 1;
      else if (k == key::enter || k == '\r') {
        auto& spec = s.sort[static_cast<size_t>(s.view)];
        if (spec.column == s.pick)
          spec.descending = !spec.descending;
        else
          spec = {s.pick, columns(s.view)[static_cast<size_t>(s.pick)].right};
        s.mode = Mode::normal;
      } else if (k == key::escape || k == 'q' || k == key::f6) {
        s.mode = Mode::normal;
      }
      return s;
    }
    case Mode::normal:
      break;
  }
  return normal_key(std::move(s), k);
}

}  // namespace ipctop::tui
