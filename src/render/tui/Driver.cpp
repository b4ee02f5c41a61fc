#include "render/tui/Driver.h"

#include <langinfo.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <clocale>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <unordered_map>

#include <curses.h>

#include "limits/Limits.h"
#include "model/Text.h"
#include "render/tui/Render.h"
#include "render/tui/Save.h"
#include "render/tui/Terminfo.h"

namespace ipctop::tui {

namespace {

constexpr double kLimitsEvery = 5.0;  // seconds between two reads of the limits

// ---- the terminal, restored on every way out ----

volatile std::sig_atomic_t g_curses_on = 0;
constexpr std::array kCrashSignals = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
struct sigaction g_old_crash[kCrashSignals.size()];

// A crash must not leave the terminal in raw mode on the alternate screen.
// endwin() is not async-signal-safe, but the process is dying anyway (as in
// htop's CRT handler); then the default action runs (core dump).
void on_crash(int sig) {
  if (g_curses_on) {
    g_curses_on = 0;
    endwin();
  }
  signal(sig, SIG_DFL);
  raise(sig);
}

class Terminal {
 public:
  Terminal(bool color) {
    screen_ = newterm(nullptr, stdout, stdin);
    if (!screen_) return;
    g_curses_on = 1;
    struct sigaction sa {};
    sa.sa_handler = on_crash;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND | SA_NODEFER;
    for (size_t i = 0; i < kCrashSignals.size(); ++i)
      sigaction(kCrashSignals[i], &sa, &g_old_crash[i]);
    cbreak();  // Ctrl-C still sends SIGINT, handled as a stop
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    const char* locale = nl_langinfo(CODESET);
    utf8_ = locale && std::strcmp(locale, "UTF-8") == 0;
    setup_styles(color && has_colors());
  }
  ~Terminal() {
    if (!screen_) return;
    g_curses_on = 0;
    endwin();
    delscreen(screen_);
    for (size_t i = 0; i < kCrashSignals.size(); ++i)
      sigaction(kCrashSignals[i], &g_old_crash[i], nullptr);
  }
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;
  bool ok() const { return screen_ != nullptr; }

  void draw(const ScreenModel& m) {
    erase();
    for (size_t y = 0; y < m.lines.size(); ++y) {
      move(static_cast<int>(y), 0);
      for (const auto& span : m.lines[y].spans) {
        attrset(attrs_[static_cast<size_t>(span.style)]);
        if (utf8_)
          addstr(span.text.c_str());
        else
          addstr(ascii(span.text).c_str());
      }
    }
    attrset(A_NORMAL);
    refresh();
  }

 private:
  void setup_styles(bool color) {
    auto set = [&](Style s, attr_t mono) { attrs_[static_cast<size_t>(s)] = mono; };
    set(Style::dim, A_DIM);
    set(Style::bold, A_BOLD);
    set(Style::title, A_REVERSE);
    set(Style::tab, A_NORMAL);
    set(Style::tab_active, A_REVERSE | A_BOLD);
    set(Style::column, A_BOLD | A_UNDERLINE);
    set(Style::selected, A_REVERSE);
    set(Style::warn, A_BOLD);
    set(Style::bad, A_REVERSE | A_BOLD);
    set(Style::accent, A_BOLD);
    set(Style::bar_high, A_BOLD);
    if (!color) return;
    start_color();
    use_default_colors();
    struct Pair {
      Style style;
      short fg, bg;
      attr_t extra;
    };
    const Pair pairs[] = {
        {Style::title, COLOR_WHITE, COLOR_BLUE, A_BOLD},
        {Style::tab_active, COLOR_BLACK, COLOR_CYAN, 0},
        {Style::column, COLOR_BLACK, COLOR_GREEN, 0},
        {Style::selected, COLOR_BLACK, COLOR_CYAN, 0},
        {Style::good, COLOR_GREEN, -1, 0},
        {Style::warn, COLOR_YELLOW, -1, A_BOLD},
        {Style::bad, COLOR_WHITE, COLOR_RED, A_BOLD},
        {Style::accent, COLOR_CYAN, -1, 0},
        {Style::bar_low, COLOR_GREEN, -1, 0},
        {Style::bar_high, COLOR_RED, -1, 0},
    };
    short n = 1;
    for (const auto& p : pairs) {
      if (n >= COLOR_PAIRS) break;
      init_pair(n, p.fg, p.bg);
      attrs_[static_cast<size_t>(p.style)] = COLOR_PAIR(n) | p.extra;
      ++n;
    }
  }

  // A terminal that is not UTF-8: every non-ASCII character becomes as many
  // '?' as it is wide, so columns stay aligned.
  static std::string ascii(const std::string& s) {
    std::string out;
    size_t i = 0;
    while (i < s.size()) {
      unsigned char c = static_cast<unsigned char>(s[i]);
      if (c < 0x80) {
        out += static_cast<char>(c);
        ++i;
        continue;
      }
      size_t len = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 1;
      len = std::min(len, s.size() - i);
      int w = display_width(std::string_view(s).substr(i, len));
      out.append(static_cast<size_t>(w), '?');
      i += len;
    }
    return out;
  }

  SCREEN* screen_ = nullptr;
  bool utf8_ = true;
  std::array<attr_t, static_cast<size_t>(Style::count_)> attrs_{};
};

int translate(int rc, wint_t ch) {
  if (rc == KEY_CODE_YES) {
    switch (ch) {
      case KEY_UP:
        return key::up;
      case KEY_DOWN:
        return key::down;
      case KEY_LEFT:
        return key::left;
      case KEY_RIGHT:
        return key::right;
      case KEY_PPAGE:
        return key::page_up;
      case KEY_NPAGE:
        return key::page_down;
      case KEY_HOME:
        return key::home;
      case KEY_END:
        return key::end;
      case KEY_BACKSPACE:
        return key::backspace;
      case KEY_BTAB:
        return key::back_tab;
      case KEY_ENTER:
        return key::enter;
      case KEY_RESIZE:
        return key::resize;
      default:
        break;
    }
    if (ch == KEY_F(1)) return key::f1;
    if (ch == KEY_F(6)) return key::f6;
    if (ch == KEY_F(10)) return key::f10;
    return -1;
  }
  if (ch == '\r') return key::enter;
  return static_cast<int>(ch);
}

// ---- what the frame needs from the live system ----

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "?";
  return buf;
}

double read_uptime() {
  std::ifstream in("/proc/uptime");
  double up = -1;
  in >> up;
  return in ? up : -1;
}

// Owners of processes: stat(/proc/PID) once per pid, names once per uid.
class Users {
 public:
  void refresh(const Snapshot& snap, std::map<uint32_t, std::string>& out) {
    out.clear();
    std::unordered_map<uint32_t, uint32_t> seen;
    for (const auto& p : snap.processes) {
      auto it = uid_of_.find(p.pid);
      std::optional<uint32_t> uid;
      if (it != uid_of_.end()) {
        uid = it->second;
      } else {
        struct stat st {};
        std::string path = "/proc/" + std::to_string(p.pid);
        if (::stat(path.c_str(), &st) == 0) uid = st.st_uid;
      }
      if (!uid) continue;
      seen[p.pid] = *uid;
      out[p.pid] = name(*uid);
    }
    uid_of_ = std::move(seen);  // forget pids no longer shown: they may be reused
  }

 private:
  std::string name(uint32_t uid) {
    auto it = names_.find(uid);
    if (it != names_.end()) return it->second;
    std::string n = std::to_string(uid);
    struct passwd pw {};
    struct passwd* res = nullptr;
    std::array<char, 4096> buf{};
    if (getpwuid_r(uid, &pw, buf.data(), buf.size(), &res) == 0 && res) n = res->pw_name;
    return names_[uid] = n;
  }
  std::unordered_map<uint32_t, uint32_t> uid_of_;
  std::unordered_map<uint32_t, std::string> names_;
};

// https://no-color.org: set and not empty means no color.
bool no_color_env() {
  const char* nc = std::getenv("NO_COLOR");
  return nc && *nc;
}

}  // namespace

std::string tui_unavailable() {
  if (!isatty(STDOUT_FILENO))
    return "standard output is not a terminal: use --json for NDJSON snapshots, or run "
           "ipctop in a terminal for the interactive view";
  if (!isatty(STDIN_FILENO))
    return "standard input is not a terminal: the interactive view reads keys from it; use --json";
  const char* term = std::getenv("TERM");
  if (!term || !*term) return "TERM is not set: set it to your terminal's type, or use --json";
  if (std::string why = terminal_cannot_address(term); !why.empty()) return why;
  return "";
}

int run_tui(SnapshotSource& source, const TuiOptions& options) {
  std::setlocale(LC_CTYPE, "");
  Terminal term(options.color && !no_color_env());
  if (!term.ok()) return 2;

  ViewState state = initial_state();
  state.raw = options.raw;
  state.interval_s = source.interval();
  state.replay = !source.live();

  Frame frame;
  frame.host = host_name();
  frame.probes = options.probes;
  std::optional<Snapshot> shown;
  std::optional<limits::Report> limits_report;
  double limits_at = -1e9;
  Users users;
  bool dirty = true;

  uint64_t produced = 0;
  bool last_one = false;  // --count reached: quit once it is drawn
  auto show = [&](std::optional<Snapshot> s) {
    if (!s) return;
    shown = std::move(s);
    if (options.max_snapshots && ++produced >= *options.max_snapshots) last_one = true;
    if (source.live()) users.refresh(*shown, frame.users);
    dirty = true;
  };

  while (!state.quit && !(options.stop && *options.stop)) {
    if (state.view == View::limits && monotonic_now() - limits_at >= kLimitsEvery) {
      limits_report = limits::collect(limits::Roots{});
      limits_at = monotonic_now();
      dirty = true;
    }
    if (dirty) {
      frame.snap = shown ? &*shown : nullptr;
      frame.limits = limits_report ? &*limits_report : nullptr;
      frame.uptime_s = source.live() ? read_uptime() : -1;
      frame.source = source.label();
      ScreenModel m = render(frame, state, COLS, LINES);
      state.table_rows = m.table_rows;
      state.page_rows = m.page_rows;
      state.scroll = m.scroll;
      state.selected = m.selected;
      state.selected_key = m.selected_key;
      state.selected_pid = m.selected_pid;
      term.draw(m);
      dirty = false;
      if (last_one) break;
    }

    std::vector<pollfd> fds{{STDIN_FILENO, POLLIN, 0}};
    for (int fd : source.fds()) fds.push_back({fd, POLLIN, 0});
    int wait = source.ms_until_next();
    // The limits view refreshes on its own.
    if (state.view == View::limits) wait = wait < 0 ? 1000 : std::min(wait, 1000);
    int rc = poll(fds.data(), fds.size(), wait);
    if (rc < 0 && errno != EINTR) break;
    // The terminal went away without a SIGHUP: nobody is watching.
    if (rc > 0 && (fds[0].revents & (POLLHUP | POLLERR | POLLNVAL))) break;
    for (size_t i = 1; i < fds.size(); ++i)
      if (fds[i].revents) source.service();

    // Keys (and KEY_RESIZE, which ncurses queues after SIGWINCH).
    for (;;) {
      wint_t ch = 0;
      int r = get_wch(&ch);
      if (r == ERR) break;
      int k = translate(r, ch);
      if (k < 0) continue;
      bool paused = state.paused;
      double interval = state.interval_s;
      state = handle_key(std::move(state), k);
      dirty = true;
      if (state.paused != paused) source.set_paused(state.paused);
      if (state.interval_s != interval) source.set_interval(state.interval_s);
      if (state.seek) {
        show(source.seek(state.seek));
        state.seek = 0;
      }
      if (state.save) {
        state.save = false;
        frame.snap = shown ? &*shown : nullptr;
        auto saved = save_new_file(screen_json(frame, state), default_save_dirs(),
                                   std::string(view_title(state.view)));
        if (auto* path = std::get_if<std::string>(&saved))
          state.message = "saved " + *path;
        else
          state.message = "save failed: " + std::get<SaveError>(saved).message;
      }
      if (state.quit) break;
    }
    if (source.ms_until_next() == 0) {
      auto s = source.next();
      // A live source keeps draining while the display is paused.
      if (!(state.paused && source.live())) show(std::move(s));
      dirty = true;
    }
  }
  return 0;
}

}  // namespace ipctop::tui
