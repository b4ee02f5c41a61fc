// The TUI's screens as text: golden files at 80x24 and 200x50 for every
// view, and properties every screen must have (fits the terminal, carries
// no control character, keeps wide characters whole).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "model/Text.h"
#include "render/tui/Format.h"
#include "render/tui/Render.h"
#include "render/tui/Save.h"
#include "render/tui/Source.h"
#include "render/tui/Tables.h"
#include "tui_fixture.h"

namespace {

using namespace ipctop;
using namespace ipctop::tui;

std::string GoldenDir() { return std::string(IPCTOP_FIXTURES) + "/../golden/tui/"; }

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void ExpectGolden(const std::string& name, const std::string& text) {
  const std::string path = GoldenDir() + name + ".txt";
  const char* update = std::getenv("IPCTOP_UPDATE_GOLDEN");
  if (update && std::string(update) == "1") {
    std::filesystem::create_directories(GoldenDir());
    std::ofstream(path, std::ios::binary) << text;
  }
  ASSERT_TRUE(std::filesystem::exists(path))
      << path << " is missing; run with IPCTOP_UPDATE_GOLDEN=1 to create it";
  const std::string golden = ReadFile(path);
  if (text == golden) return;
  std::istringstream got(text), want(golden);
  std::string got_line, want_line;
  int line = 0;
  while (true) {
    ++line;
    bool more_got = static_cast<bool>(std::getline(got, got_line));
    bool more_want = static_cast<bool>(std::getline(want, want_line));
    if (!more_got && !more_want) break;
    if (!more_got) got_line = "(end of output)";
    if (!more_want) want_line = "(end of golden file)";
    if (got_line != want_line) break;
  }
  ADD_FAILURE() << name << " differs from " << path << " at line " << line
                << ":\n  golden: " << want_line << "\n  output: " << got_line
                << "\nif the change is intended, rerun with IPCTOP_UPDATE_GOLDEN=1 and review "
                   "the diff";
}

// What every screen must be, whatever it shows.
void ExpectSane(const ScreenModel& m, int w, int h) {
  EXPECT_LE(static_cast<int>(m.lines.size()), h);
  for (size_t y = 0; y < m.lines.size(); ++y) {
    int width = 0;
    for (const auto& span : m.lines[y].spans) {
      EXPECT_TRUE(is_clean(span.text)) << "line " << y << ": " << sanitize(span.text);
      for (unsigned char c : span.text)
        EXPECT_FALSE(c < 0x20 || c == 0x7f) << "control byte on line " << y;
      width += display_width(span.text);
    }
    EXPECT_LE(width, w) << "line " << y << " is wider than the screen";
  }
}

struct Case {
  const char* name;
  View view;
  int w, h;
  void (*tweak)(ViewState&);
};

void none(ViewState&) {}

class TuiGolden : public testing::Test {
 protected:
  Snapshot snap_ = tui_fixture::Fixed();
  limits::Report limits_ = tui_fixture::Limits();
  Frame frame_ = tui_fixture::FrameOf(&snap_, &limits_);

  std::string Render(View v, int w, int h, void (*tweak)(ViewState&) = none, bool styles = false) {
    ViewState s = initial_state();
    s.view = v;
    tweak(s);
    ScreenModel m = render(frame_, s, w, h);
    ExpectSane(m, w, h);
    return to_text(m, styles);
  }
};

TEST_F(TuiGolden, EveryViewAtBothSizes) {
  const Case cases[] = {
      {"processes_80x24", View::processes, 80, 24, none},
      {"processes_200x50", View::processes, 200, 50, none},
      {"processes_threads_tree_200x50", View::processes, 200, 50,
       [](ViewState& s) {
         s.threads = true;
         s.tree = true;
       }},
      {"flows_80x24", View::flows, 80, 24, none},
      {"flows_200x50", View::flows, 200, 50, none},
      {"channels_80x24", View::channels, 80, 24, none},
      {"channels_200x50", View::channels, 200, 50, none},
      {"cores_80x24", View::cores, 80, 24, none},
      {"cores_200x50", View::cores, 200, 50, none},
      {"apps_80x24", View::apps, 80, 24, none},
      {"apps_200x50", View::apps, 200, 50, none},
      {"limits_80x24", View::limits, 80, 24, none},
      {"limits_200x50", View::limits, 200, 50, none},
      {"help_80x24", View::processes, 80, 24, [](ViewState& s) { s.mode = Mode::help; }},
      {"sort_picker_80x24", View::flows, 80, 24,
       [](ViewState& s) {
         s.mode = Mode::sort_pick;
         s.pick = 2;
       }},
      {"drill_1200_flows_80x24", View::flows, 80, 24, [](ViewState& s) { s.drill_pid = 1200; }},
      {"filter_php_raw_200x50", View::processes, 200, 50,
       [](ViewState& s) {
         s.filter = "PHP";
         s.raw = true;
       }},
      {"kind_unix_stream_80x24", View::flows, 80, 24,
       [](ViewState& s) { s.kind_filter = Kind::unix_stream; }},
      {"filter_editing_80x24", View::channels, 80, 24,
       [](ViewState& s) {
         s.mode = Mode::filter_edit;
         s.filter = "php";
       }},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    ExpectGolden(c.name, Render(c.view, c.w, c.h, c.tweak));
  }
}

TEST_F(TuiGolden, LossBadgeIsRedOnlyWhenSomethingWasLost) {
  std::string clean = Render(View::processes, 80, 24, none, true);
  EXPECT_NE(clean.find("«good: no loss »"), std::string::npos) << clean;
  snap_ = tui_fixture::Fixed(true);
  std::string lossy = Render(View::processes, 80, 24, none, true);
  EXPECT_NE(lossy.find("«bad: LOST 7 events, 12.1 KiB unattributed »"), std::string::npos) << lossy;
  ExpectGolden("processes_loss_styled_80x24", lossy);
  // Unattributed bytes alone turn it red too.
  snap_.lost.events = 0;
  EXPECT_NE(Render(View::processes, 80, 24, none, true).find("«bad: LOST 0 events"),
            std::string::npos);
}

TEST_F(TuiGolden, HostileNamesAreShownEscapedNeverRaw) {
  for (View v : {View::processes, View::flows, View::channels, View::apps}) {
    for (int w : {80, 200}) {
      std::string text = Render(v, w, 50, [](ViewState& s) { s.threads = true; });
      EXPECT_EQ(text.find('\x1b'), std::string::npos);
      EXPECT_EQ(text.find('\x07'), std::string::npos);
      EXPECT_EQ(text.find('\xff'), std::string::npos);
    }
  }
  std::string procs = Render(View::processes, 200, 50);
  EXPECT_NE(procs.find("\\x1b]0;PWNED\\x07\\x1b[2J"), std::string::npos) << procs;
  EXPECT_NE(procs.find("bad\\xff\\xfeutf8"), std::string::npos) << procs;
}

TEST_F(TuiGolden, WideCharactersAreCutWholeAndColumnsStayAligned) {
  // "数据库服务器进程" is 16 columns: a 5-column field keeps two characters
  // and pads one space rather than splitting the third.
  EXPECT_EQ(fit("数据库服务器进程", 5), "数据 ");
  EXPECT_EQ(fit("数据库服务器进程", 5, true), " 数据");
  EXPECT_EQ(display_width(fit("a数据库", 4)), 4);
  // In the process table, the row of the wide name ends its COMM field at
  // the same column as every other row.
  ViewState s = initial_state();
  ScreenModel m = render(frame_, s, 80, 24);
  int cjk_row = -1, ascii_row = -1;
  for (size_t y = 0; y < m.lines.size(); ++y) {
    std::string line;
    for (const auto& span : m.lines[y].spans) line += span.text;
    if (line.find("数据") != std::string::npos) cjk_row = static_cast<int>(y);
    if (line.find(" nginx ") != std::string::npos) ascii_row = static_cast<int>(y);
  }
  ASSERT_GE(cjk_row, 0);
  ASSERT_GE(ascii_row, 0);
  auto column_of = [&](int row, const std::string& needle) {
    std::string line;
    for (const auto& span : m.lines[size_t(row)].spans) line += span.text;
    return display_width(line.substr(0, line.find(needle)));
  };
  // Both rows put their CPU% right after COMM: find where the numbers start.
  std::string cjk_line, ascii_line;
  for (const auto& span : m.lines[size_t(cjk_row)].spans) cjk_line += span.text;
  for (const auto& span : m.lines[size_t(ascii_row)].spans) ascii_line += span.text;
  EXPECT_EQ(display_width(cjk_line), display_width(ascii_line));
  EXPECT_EQ(column_of(cjk_row, "2.5"), column_of(ascii_row, "65.0") + 1) << cjk_line << "\n"
                                                                         << ascii_line;
}

TEST_F(TuiGolden, TinyTerminalsGetAMessageAndNoCrash) {
  for (auto [w, h] : {std::pair{0, 0}, {1, 1}, {10, 5}, {39, 24}, {80, 9}, {40, 10}}) {
    ViewState s = initial_state();
    ScreenModel m = render(frame_, s, w, h);
    ExpectSane(m, w, h);
  }
  ExpectGolden("too_small_30x8", Render(View::processes, 30, 8));
}

TEST_F(TuiGolden, BeforeTheFirstIntervalTheHeaderSaysSo) {
  Frame f = tui_fixture::FrameOf(nullptr, nullptr);
  ViewState s = initial_state();
  std::string text = to_text(render(f, s, 80, 24));
  EXPECT_NE(text.find("waiting for the first interval"), std::string::npos) << text;
}

TEST_F(TuiGolden, SelectionFollowsItsRowAcrossRefreshes) {
  ViewState s = initial_state();
  s.selected = 2;
  ScreenModel m = render(frame_, s, 200, 50);
  ASSERT_FALSE(m.selected_key.empty());
  std::string key = m.selected_key;
  uint32_t pid = m.selected_pid;
  // The next interval: the same processes in another order of traffic.
  std::reverse(snap_.processes.begin(), snap_.processes.end());
  for (auto& p : snap_.processes) p.tx_bytes = 1000 - p.pid % 1000;
  s.selected_key = key;
  ScreenModel next = render(frame_, s, 200, 50);
  EXPECT_EQ(next.selected_key, key);
  EXPECT_EQ(next.selected_pid, pid);
}

TEST_F(TuiGolden, SortOrdersAndInverts) {
  ViewState s = initial_state();
  s.view = View::flows;
  s.sort[size_t(View::flows)] = {4, true};  // BYTES/s, largest first
  Table t = build_table(frame_, s);
  ASSERT_GE(t.rows.size(), 3u);
  for (size_t i = 1; i < t.rows.size(); ++i)
    EXPECT_GE(t.rows[i - 1].cells[4].num, t.rows[i].cells[4].num);
  s.sort[size_t(View::flows)].descending = false;
  t = build_table(frame_, s);
  for (size_t i = 1; i < t.rows.size(); ++i)
    EXPECT_LE(t.rows[i - 1].cells[4].num, t.rows[i].cells[4].num);
  // Rates are per second: 8 MB over a 2 s interval.
  EXPECT_DOUBLE_EQ(t.rows.back().cells[4].num, 4'000'000.0);
}

TEST_F(TuiGolden, FiltersByPidKindAndText) {
  ViewState s = initial_state();
  s.view = View::flows;
  s.pid_filter = 1300;
  for (const auto& r : build_table(frame_, s).rows)
    EXPECT_TRUE(r.cells[0].text.find(":1300") != std::string::npos ||
                r.cells[1].text.find(":1300") != std::string::npos);
  s.pid_filter.reset();
  s.kind_filter = Kind::pipe;
  EXPECT_EQ(build_table(frame_, s).rows.size(), 1u);
  s.kind_filter.reset();
  s.filter = "fpm.SOCK";  // a channel path, any case
  Table t = build_table(frame_, s);
  ASSERT_EQ(t.rows.size(), 1u);
  EXPECT_EQ(t.rows[0].cells[3].text, "/run/php/php-fpm.sock");
}

TEST(TuiFormat, HumanAndRawUnits) {
  EXPECT_EQ(bytes_rate(0, false), "0");
  EXPECT_EQ(bytes_rate(512, false), "512 B");
  EXPECT_EQ(bytes_rate(1536, false), "1.5 KiB");
  EXPECT_EQ(bytes_rate(4'000'000, false), "3.8 MiB");
  EXPECT_EQ(bytes_rate(200.0 * 1024 * 1024, false), "200 MiB");
  EXPECT_EQ(bytes_rate(4'000'000, true), "4000000");
  EXPECT_EQ(count_rate(950, false), "950");
  EXPECT_EQ(count_rate(12'345, false), "12.3k");
  EXPECT_EQ(count_rate(12'345, true), "12345");
  EXPECT_EQ(micros(850), "850us");
  EXPECT_EQ(micros(12'500), "12.5ms");
  EXPECT_EQ(uptime(3 * 86400 + 4 * 3600 + 5 * 60 + 6), "3d 04:05:06");
}

TEST_F(TuiGolden, SavedJsonHoldsTheViewsRowsAndTheSnapshot) {
  ViewState s = initial_state();
  s.view = View::flows;
  s.kind_filter = Kind::unix_stream;
  auto doc = screen_json(frame_, s);
  EXPECT_EQ(doc["schema"], kScreenSchema);
  EXPECT_EQ(doc["view"], "Flows");
  EXPECT_EQ(doc["kind_filter"], "unix_stream");
  ASSERT_EQ(doc["rows"].size(), 2u);
  EXPECT_EQ(doc["rows"][0]["src"], "nginx:1200");
  EXPECT_DOUBLE_EQ(doc["rows"][0]["bytes_per_s"].get<double>(), 4'000'000.0);
  EXPECT_EQ(doc["snapshot"]["schema"], "ipctop/1");
  EXPECT_EQ(doc["sort"]["column"], "bytes_per_s");

  char tmpl[] = "/tmp/ipctop-save-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  auto first = save_new_file(doc, {dir}, "Flows");
  auto second = save_new_file(doc, {dir}, "Flows");
  ASSERT_TRUE(std::holds_alternative<std::string>(first));
  ASSERT_TRUE(std::holds_alternative<std::string>(second));
  EXPECT_NE(std::get<std::string>(first), std::get<std::string>(second)) << "never overwrites";
  struct stat st {};
  ASSERT_EQ(lstat(std::get<std::string>(first).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(nlohmann::json::parse(ReadFile(std::get<std::string>(first))), doc);
  // A directory that does not take the file: the next one does.
  auto fallback = save_new_file(doc, {dir + "/missing", dir}, "Flows");
  ASSERT_TRUE(std::holds_alternative<std::string>(fallback));
  EXPECT_EQ(std::get<std::string>(fallback).rfind(dir + "/ipctop-", 0), 0u);
  auto none = save_new_file(doc, {dir + "/missing"}, "Flows");
  EXPECT_TRUE(std::holds_alternative<SaveError>(none));
  std::filesystem::remove_all(dir);
}

TEST(TuiReplay, StepsSeeksAndPauses) {
  std::vector<Snapshot> snaps(5);
  for (size_t i = 0; i < snaps.size(); ++i) {
    snaps[i].time = 100.0 + double(i);
    snaps[i].interval_s = 1;
  }
  ReplaySource r(snaps);
  EXPECT_FALSE(r.live());
  EXPECT_EQ(r.ms_until_next(), 0);
  auto s = r.next();
  ASSERT_TRUE(s);
  EXPECT_EQ(s->time, 100.0);
  EXPECT_EQ(r.label(), "replay 1/5");
  EXPECT_GT(r.ms_until_next(), 0);
  r.set_paused(true);
  EXPECT_EQ(r.ms_until_next(), -1);
  EXPECT_EQ(r.seek(2)->time, 102.0);
  EXPECT_EQ(r.seek(-10)->time, 100.0);
  EXPECT_EQ(r.seek(10)->time, 104.0);
  EXPECT_EQ(r.label(), "replay 5/5 (end)");
  r.set_paused(false);
  EXPECT_EQ(r.ms_until_next(), -1) << "the end of the recording";
  EXPECT_FALSE(r.next());
}

}  // namespace
