// The live view end to end: the real ipctop in a real terminal (a tmux pane
// on a tmux server of our own), real traffic from ipcgen, keys pressed and
// the screen read back after each; the terminal restored after signals; a
// hostile process name shown as text, never interpreted.
#include <sys/prctl.h>

#include <atomic>
#include <functional>

#include "harness.h"

namespace e2e {
namespace {

// Runs argv (no shell), returns its stdout; bounded.
std::string run_capture(const std::vector<std::string>& argv, int* status = nullptr) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return "";
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    dup2(devnull, 0);
    dup2(devnull, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  auto deadline = Clock::now() + std::chrono::seconds(10);
  char buf[4096];
  fcntl(fds[0], F_SETFL, O_NONBLOCK);
  for (;;) {
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n > 0) {
      out.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n == 0 || Clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  close(fds[0]);
  Exit e = wait_bounded(pid, std::chrono::seconds(5));
  if (status) *status = e.exited ? e.code : -1;
  return out;
}

// A tmux server and session of our own (own socket, no user config), with
// a plain shell in a pane of the given size, in a scratch directory.
class Tmux {
 public:
  Tmux(int width, int height) {
    static std::atomic<int> counter{0};
    name_ = "ipctop-e2e-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
    int status = -1;
    run_capture({"tmux",
                 "-L",
                 name_,
                 "-f",
                 "/dev/null",
                 "new-session",
                 "-d",
                 "-s",
                 name_,
                 "-x",
                 std::to_string(width),
                 "-y",
                 std::to_string(height),
                 "-c",
                 dir_.file(""),
                 "env",
                 "-i",
                 "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
                 "HOME=/root",
                 "TERM=screen",
                 "LANG=C.UTF-8",
                 "PS1=SHELL$ ",
                 "bash",
                 "--norc",
                 "--noprofile"},
                &status);
    started_ = status == 0;
  }
  ~Tmux() {
    // Only our server: its own socket.
    run_capture({"tmux", "-L", name_, "kill-server"});
  }
  bool started() const { return started_; }
  const TempDir& dir() const { return dir_; }

  std::string screen() {
    return run_capture({"tmux", "-L", name_, "capture-pane", "-p", "-t", name_});
  }
  // With the attributes as SGR escape sequences.
  std::string screen_with_attributes() {
    return run_capture({"tmux", "-L", name_, "capture-pane", "-e", "-p", "-t", name_});
  }
  std::string format(const std::string& f) {
    std::string out = run_capture({"tmux", "-L", name_, "display-message", "-p", "-t", name_, f});
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }
  // Keys by tmux name ("Enter", "Escape", "C-c", "F1") or literal text.
  void keys(const std::string& k) {
    run_capture({"tmux", "-L", name_, "send-keys", "-t", name_, k});
  }
  void text(const std::string& t) {
    run_capture({"tmux", "-L", name_, "send-keys", "-l", "-t", name_, t});
  }
  void line(const std::string& t) {
    text(t);
    keys("Enter");
  }

  // Polls the screen until `pred` holds; bounded.
  bool wait(const std::function<bool(const std::string&)>& pred,
            std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      last_ = screen();
      if (pred(last_)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    last_ = screen();
    return pred(last_);
  }
  bool wait_for(const std::string& text,
                std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    return wait([&](const std::string& s) { return s.find(text) != std::string::npos; }, timeout);
  }
  const std::string& last() const { return last_; }
  void resize(int w, int h) {
    run_capture({"tmux", "-L", name_, "resize-window", "-t", name_, "-x", std::to_string(w), "-y",
                 std::to_string(h)});
  }

  // The ipctop the pane's shell started: a child of the shell.
  pid_t child_of_shell() {
    std::string shell = format("#{pane_pid}");
    std::string children = read_file("/proc/" + shell + "/task/" + shell + "/children");
    std::istringstream in(children);
    pid_t pid = 0;
    while (in >> pid)
      if (read_file("/proc/" + std::to_string(pid) + "/comm") == "ipctop\n") return pid;
    return 0;
  }

 private:
  TempDir dir_;
  std::string name_;
  bool started_ = false;
  std::string last_;
};

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  std::string l;
  while (std::getline(in, l)) out.push_back(l);
  return out;
}

bool has_line_with(const std::string& screen, const std::vector<std::string>& parts) {
  for (const auto& l : lines_of(screen)) {
    bool all = true;
    for (const auto& p : parts) all = all && l.find(p) != std::string::npos;
    if (all) return true;
  }
  return false;
}

// The rows of the table under the heading line that has `heading`, without
// the status line.
std::vector<std::string> table_rows(const std::string& screen, const std::string& heading) {
  auto ls = lines_of(screen);
  size_t head = 0;
  while (head < ls.size() && ls[head].find(heading) == std::string::npos) ++head;
  std::vector<std::string> rows;
  for (size_t i = head + 1; i + 1 < ls.size(); ++i)
    if (ls[i].find_first_not_of(' ') != std::string::npos) rows.push_back(ls[i]);
  return rows;
}

std::string start_command(const std::string& args) {
  return std::string(IPCTOP_BIN) + " " + args + "; echo IPCTOP_EXIT=$?";
}

// The header is drawn and the first interval is in.
bool wait_header(Tmux& t) {
  return t.wait(
      [](const std::string& s) {
        return s.find("probes ") != std::string::npos && s.find(" active") != std::string::npos &&
               s.find("waiting for the first interval") == std::string::npos;
      },
      std::chrono::seconds(20));
}

bool terminal_is_sane(Tmux& t) {
  // Back in the shell, off the alternate screen, the cursor shown, and the
  // line discipline cooked with echo (stty prints -echo / -icanon if not).
  if (t.format("#{alternate_on}") != "0" || t.format("#{cursor_flag}") != "1") return false;
  t.line(
      "stty -a | tr ' ' '\\n' | grep -x -e echo -e icanon -e isig | tr '\\n' ' '; echo STTY_DONE");
  return t.wait_for("echo icanon isig STTY_DONE", std::chrono::seconds(5)) ||
         t.wait_for("isig icanon echo STTY_DONE", std::chrono::seconds(1)) ||
         t.wait_for("icanon isig echo STTY_DONE", std::chrono::seconds(1));
}

TEST(Tui, ShowsRealFlowsAndAnswersEveryKey) {
  Tmux t(200, 50);
  ASSERT_TRUE(t.started()) << "tmux did not start: packaging/install-deps.sh installs it";
  t.line(start_command("-d 2"));
  ASSERT_TRUE(wait_header(t)) << t.last();
  EXPECT_EQ(t.format("#{alternate_on}"), "1");
  EXPECT_TRUE(has_line_with(t.last(), {"cpu0", "cs/s", "vol", "IPC"})) << t.last();
  EXPECT_TRUE(has_line_with(t.last(), {"PID", "USER", "COMM", "CPU%", "TX/s", "RX/s"})) << t.last();

  // View 2, then real traffic: a unix stream between two ipcgen processes.
  t.keys("2");
  ASSERT_TRUE(t.wait([](const std::string& s) {
    return has_line_with(s, {"SRC", "DST", "KIND", "BYTES/s"});
  })) << t.last();
  // The flow is shown for one 2 s interval: pause on it. Should the interval
  // turn over between seeing it and pausing, resume and generate again.
  json truth;
  std::string src, dst;
  bool frozen = false;
  for (int attempt = 0; attempt < 3 && !frozen; ++attempt) {
    truth = run_ipcgen({"--kind", "unix_stream", "--msgs", "3000", "--size", "700"});
    ASSERT_TRUE(truth.contains("flows")) << truth.dump();
    const auto& fl = truth.at("flows").at(0);
    src = "ipcgen:" + std::to_string(fl.at("src_pid").get<int>());
    dst = "ipcgen:" + std::to_string(fl.at("dst_pid").get<int>());
    ASSERT_TRUE(t.wait(
        [&](const std::string& s) {
          return has_line_with(s, {src, dst, "unix/str"});
        },
        std::chrono::seconds(8)))
        << "the flow " << src << " -> " << dst << " is not shown:\n"
        << t.last();
    t.keys("Space");
    ASSERT_TRUE(t.wait_for("PAUSED")) << t.last();
    frozen = has_line_with(t.screen(), {src, dst});
    if (!frozen) {
      t.keys("Space");
      ASSERT_TRUE(
          t.wait([](const std::string& s) { return s.find("PAUSED") == std::string::npos; }));
    }
  }
  ASSERT_TRUE(frozen) << t.last();
  const auto& f = truth.at("flows").at(0);

  // p: only the sender's flows.
  const std::string src_pid = std::to_string(f.at("src_pid").get<int>());
  t.keys("p");
  t.text(src_pid);
  t.keys("Enter");
  ASSERT_TRUE(t.wait_for("pid:" + src_pid)) << t.last();
  {
    auto rows = table_rows(t.last(), "SRC");
    EXPECT_GE(rows.size(), 1u) << t.last();
    for (const auto& r : rows)
      EXPECT_NE(r.find(":" + src_pid), std::string::npos)
          << "not a flow of " << src_pid << ": " << r;
  }

  // Sort: < moves from BYTES/s to CHANNEL (text: A-Z), I inverts.
  t.keys("<");
  EXPECT_TRUE(t.wait_for("CHANNEL▲")) << t.last();
  t.keys("I");
  EXPECT_TRUE(t.wait_for("CHANNEL▼")) << t.last();
  t.keys(">");
  EXPECT_TRUE(t.wait_for("BYTES/s▼")) << t.last();

  // Esc clears the pid filter; / filters by name as typed.
  t.keys("Escape");
  EXPECT_TRUE(t.wait([&](const std::string& s) {
    return s.find("pid:" + src_pid) == std::string::npos;
  })) << t.last();
  t.keys("/");
  t.text("ipcgen");
  EXPECT_TRUE(t.wait_for("Filter: ipcgen_")) << t.last();
  t.keys("Enter");
  EXPECT_TRUE(t.wait_for("filter:ipcgen")) << t.last();
  EXPECT_TRUE(has_line_with(t.last(), {src, dst, "unix/str"})) << t.last();
  for (const auto& r : table_rows(t.last(), "SRC"))
    EXPECT_NE(r.find("ipcgen"), std::string::npos) << "should be filtered out: " << r;

  // View 1: the two processes, by name and pid, under the same filter.
  t.keys("1");
  EXPECT_TRUE(t.wait([&](const std::string& s) {
    return has_line_with(s, {src_pid, "ipcgen"}) && has_line_with(s, {"PID", "COMM"});
  })) << t.last();
  // Enter on the selected process: its flows; Esc goes back.
  t.keys("p");
  t.text(src_pid);
  t.keys("Enter");
  ASSERT_TRUE(t.wait_for("pid:" + src_pid)) << t.last();
  t.keys("Enter");
  EXPECT_TRUE(t.wait_for("Flows of " + src_pid + " (ipcgen)")) << t.last();
  EXPECT_TRUE(has_line_with(t.last(), {src, dst})) << t.last();
  t.keys("Tab");
  EXPECT_TRUE(t.wait_for("Channels of " + src_pid)) << t.last();
  t.keys("Escape");
  EXPECT_TRUE(t.wait([](const std::string& s) {
    return has_line_with(s, {"PID", "USER", "COMM"});
  })) << t.last();

  // The other views.
  t.keys("4");
  EXPECT_TRUE(t.wait_for("Cross-core IPC")) << t.last();
  t.keys("6");
  EXPECT_TRUE(t.wait([](const std::string& s) {
    return has_line_with(s, {"LIMIT", "VALUE", "USED"});
  })) << t.last();
  t.keys("Tab");
  EXPECT_TRUE(t.wait([](const std::string& s) {
    return has_line_with(s, {"PID", "USER", "COMM"});
  })) << "Tab wraps to view 1\n"
      << t.last();

  // Help lists the keys; any key closes it.
  t.keys("h");
  EXPECT_TRUE(t.wait_for("invert the sort order")) << t.last();
  t.keys("x");
  EXPECT_TRUE(t.wait([](const std::string& s) {
    return s.find("invert the sort order") == std::string::npos;
  })) << t.last();

  // s: the view's data, in the shell's directory, 0600.
  t.keys("2");
  t.keys("s");
  ASSERT_TRUE(t.wait_for("saved ./ipctop-")) << t.last();
  std::string saved;
  for (const auto& entry : std::filesystem::directory_iterator(t.dir().file("")))
    if (entry.path().filename().string().rfind("ipctop-", 0) == 0) saved = entry.path();
  ASSERT_FALSE(saved.empty());
  struct stat st {};
  ASSERT_EQ(lstat(saved.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  json doc = json::parse(read_file(saved));
  EXPECT_EQ(doc.at("schema"), "ipctop-screen/1");
  EXPECT_EQ(doc.at("view"), "Flows");
  bool found = false;
  for (const auto& row : doc.at("rows"))
    found = found || (row.at("src") == src && row.at("dst") == dst);
  EXPECT_TRUE(found) << doc.at("rows").dump();

  // q quits, and the terminal is the shell's again.
  t.keys("q");
  ASSERT_TRUE(t.wait_for("IPCTOP_EXIT=0")) << t.last();
  EXPECT_TRUE(terminal_is_sane(t)) << t.last();
}

TEST(Tui, TerminalRestoredAfterSignals) {
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) {
    SCOPED_TRACE(strsignal(sig));
    Tmux t(80, 24);
    ASSERT_TRUE(t.started());
    t.line(start_command("-d 0.5"));
    ASSERT_TRUE(wait_header(t)) << t.last();
    EXPECT_EQ(t.format("#{alternate_on}"), "1");
    EXPECT_EQ(t.format("#{cursor_flag}"), "0") << "the cursor is hidden while running";
    pid_t pid = t.child_of_shell();
    ASSERT_GT(pid, 0);
    if (sig == SIGINT)
      t.keys("C-c");  // from the keyboard, as a user would
    else
      kill(pid, sig);
    ASSERT_TRUE(t.wait_for("IPCTOP_EXIT=0")) << t.last();
    EXPECT_TRUE(terminal_is_sane(t)) << t.last();
  }
}

// A crash restores the terminal too, then dies of its signal (no core: the
// shell's limit is 0; core_pattern would put one in the scratch directory).
TEST(Tui, TerminalRestoredAfterACrash) {
  for (int sig : {SIGSEGV, SIGABRT}) {
    SCOPED_TRACE(strsignal(sig));
    Tmux t(80, 24);
    ASSERT_TRUE(t.started());
    t.line("ulimit -c 0; " + start_command("-d 0.5"));
    ASSERT_TRUE(wait_header(t)) << t.last();
    pid_t pid = t.child_of_shell();
    ASSERT_GT(pid, 0);
    kill(pid, sig);
    ASSERT_TRUE(t.wait_for("IPCTOP_EXIT=" + std::to_string(128 + sig))) << t.last();
    EXPECT_TRUE(terminal_is_sane(t)) << t.last();
  }
}

TEST(Tui, SmallAndResizedTerminals) {
  Tmux t(80, 24);
  ASSERT_TRUE(t.started());
  t.line(start_command("-d 0.5"));
  ASSERT_TRUE(wait_header(t)) << t.last();
  // 80x24 is usable: the status line is at the bottom, the help fits.
  auto ls = lines_of(t.last());
  ASSERT_EQ(ls.size(), 24u);
  EXPECT_NE(ls.back().find("F1 help"), std::string::npos) << t.last();
  t.keys("F1");
  EXPECT_TRUE(t.wait_for("replay: 10 snapshots back / forward")) << "all keys fit 80x24\n"
                                                                 << t.last();
  t.keys("Escape");
  // Resized below the minimum, then larger, at any time.
  t.resize(30, 8);
  EXPECT_TRUE(t.wait_for("terminal too small: 30x8")) << t.last();
  t.resize(150, 40);
  EXPECT_TRUE(t.wait([](const std::string& s) {
    auto rows = lines_of(s);
    return rows.size() == 40 && rows.back().find("F1 help") != std::string::npos &&
           s.find("1 Processes") != std::string::npos;  // full tab names from 120 columns
  })) << t.last();
  t.keys("q");
  ASSERT_TRUE(t.wait_for("IPCTOP_EXIT=0")) << t.last();
  EXPECT_TRUE(terminal_is_sane(t)) << t.last();
}

// Colors (SGR 30-37 / 40-47) unless NO_COLOR or --no-color; then bold and
// reverse only.
TEST(Tui, NoColorAndNoColorOptionAreMonochrome) {
  auto colored = [](const std::string& s) {
    for (size_t i = s.find("\x1b["); i != std::string::npos; i = s.find("\x1b[", i + 1)) {
      size_t end = s.find('m', i);
      std::string params = ";" + s.substr(i + 2, end == std::string::npos ? 0 : end - i - 2) + ";";
      for (const char* c : {";31;", ";32;", ";33;", ";36;", ";44;", ";46;", ";41;", ";42;"})
        if (params.find(c) != std::string::npos) return true;
    }
    return false;
  };
  for (const std::string prefix : {"", "NO_COLOR=1 ", "--no-color"}) {
    SCOPED_TRACE(prefix.empty() ? "colors" : prefix);
    Tmux t(100, 30);
    ASSERT_TRUE(t.started());
    bool option = prefix == "--no-color";
    t.line((option ? "" : prefix) + start_command(option ? "-d 0.5 --no-color" : "-d 0.5"));
    ASSERT_TRUE(wait_header(t)) << t.last();
    std::string attrs = t.screen_with_attributes();
    EXPECT_EQ(colored(attrs), prefix.empty()) << attrs;
    if (!prefix.empty()) {
      EXPECT_NE(attrs.find("\x1b[7m"), std::string::npos) << "reverse video for the title";
    }
    t.keys("q");
    ASSERT_TRUE(t.wait_for("IPCTOP_EXIT=0")) << t.last();
  }
}

TEST(Tui, HostileProcessNameIsShownAsText) {
  // Two children of ours: one renamed with a terminal title (OSC 2) and a
  // clear-screen (CSI 2J) sequence writes to a pipe every 50 ms for at most
  // 20 s, the other reads it.
  int p[2];
  ASSERT_EQ(pipe(p), 0);
  const char kName[] = "\x1b]2;PWNED\x07\x1b[2J";
  pid_t writer = fork();
  if (writer == 0) {
    close(p[0]);
    prctl(PR_SET_NAME, kName);
    for (int i = 0; i < 400; ++i) {
      if (write(p[1], "hello", 5) != 5) _exit(1);
      usleep(50'000);
    }
    _exit(0);
  }
  pid_t reader = fork();
  if (reader == 0) {
    close(p[1]);
    char buf[64];
    while (read(p[0], buf, sizeof buf) > 0) {
    }
    _exit(0);
  }
  close(p[0]);
  close(p[1]);

  {
    Tmux t(120, 30);
    ASSERT_TRUE(t.started());
    std::string title = t.format("#{pane_title}");
    t.line(start_command("-d 0.5"));
    ASSERT_TRUE(wait_header(t)) << t.last();
    t.keys("p");
    t.text(std::to_string(writer));
    t.keys("Enter");
    const std::string shown = "\\x1b]2;PWNED\\x07\\x1b[2J";
    EXPECT_TRUE(t.wait([&](const std::string& s) {
      return has_line_with(s, {std::to_string(writer), shown});
    })) << t.last();
    t.keys("2");
    EXPECT_TRUE(t.wait([&](const std::string& s) {
      return has_line_with(s, {shown, "pipe", "ipctop_e2e_test:" + std::to_string(reader)});
    })) << t.last();
    EXPECT_EQ(t.format("#{pane_title}"), title) << "the OSC 2 sequence reached the terminal";
    EXPECT_NE(t.screen().find("F1 help"), std::string::npos) << "the screen was cleared by CSI 2J";
    t.keys("q");
    EXPECT_TRUE(t.wait_for("IPCTOP_EXIT=0")) << t.last();
  }
  kill(writer, SIGKILL);
  kill(reader, SIGKILL);
  wait_bounded(writer, std::chrono::seconds(5));
  wait_bounded(reader, std::chrono::seconds(5));
}

// The driver fed from recorded snapshots (tests/tools/tui_replay.cpp): the
// replay keys step, seek and pause.
TEST(Tui, ReplayStepsAndSeeks) {
  Tmux t(100, 30);
  ASSERT_TRUE(t.started());
  t.line(std::string(TUI_REPLAY_BIN) + " 5; echo IPCTOP_EXIT=$?");
  ASSERT_TRUE(t.wait_for("replay 1/5")) << t.last();
  t.keys("2");
  t.keys("[");  // pauses (and stays on the first)
  ASSERT_TRUE(t.wait([](const std::string& s) {
    return s.find("replay 1/5") != std::string::npos && s.find("PAUSED") != std::string::npos;
  })) << t.last();
  EXPECT_TRUE(has_line_with(t.last(), {"nginx:1200", "php-fpm:1300", "1.0 MiB"})) << t.last();
  EXPECT_NE(t.last().find("no loss"), std::string::npos) << t.last();
  t.keys("]");
  ASSERT_TRUE(t.wait_for("replay 2/5")) << t.last();
  EXPECT_TRUE(t.wait([](const std::string& s) {
    return has_line_with(s, {"nginx:1200", "2.0 MiB"});
  })) << t.last();
  EXPECT_NE(t.last().find("LOST 7 events"), std::string::npos) << t.last();
  t.keys("}");
  ASSERT_TRUE(t.wait_for("replay 5/5 (end)")) << t.last();
  EXPECT_TRUE(has_line_with(t.last(), {"nginx:1200", "5.0 MiB"})) << t.last();
  t.keys("[");
  ASSERT_TRUE(t.wait_for("replay 4/5")) << t.last();
  t.keys("{");
  ASSERT_TRUE(t.wait_for("replay 1/5")) << t.last();
  // Still paused: nothing moves on its own.
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_NE(t.screen().find("replay 1/5"), std::string::npos);
  t.keys("q");
  ASSERT_TRUE(t.wait_for("IPCTOP_EXIT=0")) << t.last();
  EXPECT_TRUE(terminal_is_sane(t)) << t.last();
}

// The same, through `ipctop --replay FILE`: the recording is read by the
// JSON parser and played in the view without root.
TEST(Tui, IpctopReplayOpensTheRecordingInTheView) {
  TempDir dir;
  const std::string file = dir.file("run.ndjson");
  pid_t pid = spawn({TUI_REPLAY_BIN, "5", file}, dir.file("o"), dir.file("e"));
  Exit e = wait_bounded(pid, std::chrono::seconds(10));
  ASSERT_TRUE(e.exited && e.code == 0) << read_file(dir.file("e"));
  Tmux t(100, 30);
  ASSERT_TRUE(t.started());
  t.line(std::string(IPCTOP_BIN) + " --replay " + file + "; echo IPCTOP_EXIT=$?");
  ASSERT_TRUE(t.wait_for("replay 1/5")) << t.last();
  t.keys("2");
  t.keys("[");
  ASSERT_TRUE(t.wait([](const std::string& s) {
    return s.find("replay 1/5") != std::string::npos && s.find("PAUSED") != std::string::npos;
  })) << t.last();
  EXPECT_TRUE(has_line_with(t.last(), {"nginx:1200", "php-fpm:1300", "1.0 MiB"})) << t.last();
  t.keys("}");
  ASSERT_TRUE(t.wait_for("replay 5/5 (end)")) << t.last();
  EXPECT_TRUE(has_line_with(t.last(), {"nginx:1200", "5.0 MiB"})) << t.last();
  t.keys("q");
  ASSERT_TRUE(t.wait_for("IPCTOP_EXIT=0")) << t.last();
  EXPECT_TRUE(terminal_is_sane(t)) << t.last();
}

TEST(Tui, NoTerminalGivesAClearMessage) {
  TempDir dir;
  pid_t pid = spawn({IPCTOP_BIN}, dir.file("o"), dir.file("e"));
  Exit e = wait_bounded(pid, std::chrono::seconds(10));
  ASSERT_TRUE(e.exited);
  EXPECT_EQ(e.code, 2);
  std::string err = read_file(dir.file("e"));
  EXPECT_NE(err.find("not a terminal"), std::string::npos) << err;
  EXPECT_NE(err.find("--json"), std::string::npos) << err;
}

}  // namespace
}  // namespace e2e
