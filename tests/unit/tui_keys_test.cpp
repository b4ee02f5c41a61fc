// Every key of the TUI, as the pure function (ViewState, key) -> ViewState.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "render/tui/Render.h"
#include "render/tui/Tables.h"
#include "render/tui/ViewState.h"

namespace {

using namespace ipctop;
using namespace ipctop::tui;

ViewState Press(ViewState s, std::initializer_list<int> keys) {
  for (int k : keys) s = handle_key(std::move(s), k);
  return s;
}

ViewState WithRows(int rows, int page) {
  ViewState s = initial_state();
  s.table_rows = rows;
  s.page_rows = page;
  return s;
}

TEST(TuiKeys, NumberKeysAndTabSwitchViews) {
  ViewState s = initial_state();
  EXPECT_EQ(s.view, View::processes);
  EXPECT_EQ(Press(s, {'2'}).view, View::flows);
  EXPECT_EQ(Press(s, {'3'}).view, View::channels);
  EXPECT_EQ(Press(s, {'4'}).view, View::cores);
  EXPECT_EQ(Press(s, {'5'}).view, View::apps);
  EXPECT_EQ(Press(s, {'6'}).view, View::limits);
  EXPECT_EQ(Press(s, {'7'}).view, View::processes) << "no view 7";
  EXPECT_EQ(Press(s, {key::tab}).view, View::flows);
  EXPECT_EQ(Press(s, {'6', key::tab}).view, View::processes) << "wraps";
  EXPECT_EQ(Press(s, {key::back_tab}).view, View::limits);
  // A new view starts at its first row.
  ViewState moved = Press(WithRows(10, 5), {key::down, key::down});
  EXPECT_EQ(moved.selected, 2);
  EXPECT_EQ(Press(moved, {'2'}).selected, 0);
}

TEST(TuiKeys, QuitAndHelp) {
  EXPECT_TRUE(Press(initial_state(), {'q'}).quit);
  EXPECT_TRUE(Press(initial_state(), {key::f10}).quit);
  for (int k : std::initializer_list<int>{'h', '?', key::f1}) {
    ViewState s = Press(initial_state(), {k});
    EXPECT_EQ(s.mode, Mode::help);
    s = Press(s, {'q'});
    EXPECT_EQ(s.mode, Mode::normal) << "any key closes the help";
    EXPECT_FALSE(s.quit) << "q in the help closes the help only";
  }
  EXPECT_TRUE(Press(initial_state(), {'h', key::f10}).quit);
}

TEST(TuiKeys, MovingTheSelectionStaysInTheTable) {
  ViewState s = WithRows(50, 10);
  s.selected_key = "p:1";
  s = Press(s, {key::down});
  EXPECT_EQ(s.selected, 1);
  EXPECT_TRUE(s.selected_key.empty()) << "a moved selection no longer follows the old row";
  EXPECT_EQ(Press(s, {key::up, key::up, key::up}).selected, 0);
  EXPECT_EQ(Press(s, {key::page_down}).selected, 11);
  EXPECT_EQ(Press(s, {key::page_down, key::page_down, key::page_down, key::page_down,
                      key::page_down, key::page_down})
                .selected,
            49);
  EXPECT_EQ(Press(s, {key::end}).selected, 49);
  EXPECT_EQ(Press(s, {key::end, key::page_up}).selected, 39);
  EXPECT_EQ(Press(s, {key::end, key::home}).selected, 0);
  EXPECT_EQ(Press(WithRows(0, 10), {key::down, key::end}).selected, 0) << "empty table";
}

TEST(TuiKeys, SortColumnsInvertAndPicker) {
  ViewState s = initial_state();
  const int start = s.sort[size_t(View::processes)].column;
  s = Press(s, {'>'});
  EXPECT_EQ(s.sort[size_t(View::processes)].column, start + 1);
  s = Press(s, {'<', '<'});
  EXPECT_EQ(s.sort[size_t(View::processes)].column, start - 1);
  // Wraps at both ends.
  ViewState first = initial_state();
  first.sort[size_t(View::processes)].column = 0;
  EXPECT_EQ(Press(first, {'<'}).sort[size_t(View::processes)].column,
            int(columns(View::processes).size()) - 1);
  // Text columns sort A-Z first, number columns largest first.
  first = Press(first, {'>'});  // USER
  EXPECT_FALSE(first.sort[size_t(View::processes)].descending);
  first = Press(first, {'>', '>', '>'});  // CPU%
  EXPECT_TRUE(first.sort[size_t(View::processes)].descending);
  EXPECT_FALSE(Press(first, {'I'}).sort[size_t(View::processes)].descending);
  EXPECT_TRUE(Press(first, {'I', 'I'}).sort[size_t(View::processes)].descending);
  // Each view keeps its own sort.
  EXPECT_EQ(Press(first, {'2'}).sort[size_t(View::flows)].column,
            initial_state().sort[size_t(View::flows)].column);

  ViewState p = Press(initial_state(), {'2', key::f6});
  EXPECT_EQ(p.mode, Mode::sort_pick);
  EXPECT_EQ(p.pick, initial_state().sort[size_t(View::flows)].column);
  p = Press(p, {key::home, key::down, key::down});  // KIND
  EXPECT_EQ(p.pick, 2);
  ViewState chosen = Press(p, {key::enter});
  EXPECT_EQ(chosen.mode, Mode::normal);
  EXPECT_EQ(chosen.sort[size_t(View::flows)].column, 2);
  EXPECT_EQ(Press(chosen, {key::f6, key::enter}).sort[size_t(View::flows)].descending,
            !chosen.sort[size_t(View::flows)].descending)
      << "picking the current column inverts it";
  ViewState cancelled = Press(p, {key::escape});
  EXPECT_EQ(cancelled.mode, Mode::normal);
  EXPECT_EQ(cancelled.sort[size_t(View::flows)].column,
            initial_state().sort[size_t(View::flows)].column);
}

TEST(TuiKeys, IncrementalFilter) {
  ViewState s = Press(initial_state(), {'/', 'n', 'g', 'i'});
  EXPECT_EQ(s.mode, Mode::filter_edit);
  EXPECT_EQ(s.filter, "ngi") << "applied as typed";
  s = Press(s, {'q', '1'});
  EXPECT_EQ(s.filter, "ngiq1") << "keys are text while typing";
  EXPECT_FALSE(s.quit);
  EXPECT_EQ(s.view, View::processes);
  s = Press(s, {key::backspace, 0x7f});
  EXPECT_EQ(s.filter, "ngi");
  ViewState kept = Press(s, {key::enter});
  EXPECT_EQ(kept.mode, Mode::normal);
  EXPECT_EQ(kept.filter, "ngi");
  ViewState cleared = Press(s, {key::escape});
  EXPECT_EQ(cleared.mode, Mode::normal);
  EXPECT_EQ(cleared.filter, "");
  // Non-ASCII text, removed a whole character at a time.
  ViewState wide = Press(initial_state(), {'/', 0x6570, 0x636e});
  EXPECT_EQ(wide.filter, "数据");
  EXPECT_EQ(Press(wide, {key::backspace}).filter, "数");
  // Control characters never enter the filter.
  EXPECT_EQ(Press(initial_state(), {'/', 0x1b + 0x80, 0x07}).filter, "");
}

TEST(TuiKeys, PidFilter) {
  ViewState s = Press(initial_state(), {'p', '1', 'x', '2', '3', key::enter});
  EXPECT_EQ(s.mode, Mode::normal);
  ASSERT_TRUE(s.pid_filter);
  EXPECT_EQ(*s.pid_filter, 123u) << "digits only";
  ViewState edit = Press(s, {'p'});
  EXPECT_EQ(edit.edit, "123") << "starts from the current one";
  EXPECT_FALSE(Press(edit, {key::backspace, key::backspace, key::backspace, key::enter}).pid_filter)
      << "empty clears";
  EXPECT_EQ(*Press(edit, {'4', key::escape}).pid_filter, 123u) << "Esc cancels the edit";
  EXPECT_FALSE(Press(initial_state(), {'p', '0', key::enter}).pid_filter) << "pid 0 is no pid";
}

TEST(TuiKeys, KindFilterCyclesThroughEveryKindThenOff) {
  ViewState s = Press(initial_state(), {'k'});
  ASSERT_TRUE(s.kind_filter);
  EXPECT_EQ(*s.kind_filter, Kind::pipe);
  EXPECT_EQ(*Press(s, {'k'}).kind_filter, Kind::fifo);
  int n = 1;
  while (s.kind_filter && n < 100) {
    s = Press(s, {'k'});
    ++n;
  }
  EXPECT_EQ(n, 14) << "13 kinds, then off";
}

TEST(TuiKeys, EnterDrillsIntoAProcessAndEscGoesBack) {
  ViewState s = WithRows(20, 10);
  s = Press(s, {key::down, key::down, key::down});
  s.selected_pid = 1200;  // the render reports the selected row's pid
  s.selected_key = "p:1200";
  ViewState d = Press(s, {key::enter});
  ASSERT_TRUE(d.drill_pid);
  EXPECT_EQ(*d.drill_pid, 1200u);
  EXPECT_EQ(d.view, View::flows);
  EXPECT_EQ(Press(d, {key::tab}).view, View::channels) << "its flows and its channels";
  EXPECT_EQ(Press(d, {key::tab, key::tab}).view, View::flows);
  EXPECT_EQ(Press(d, {'3'}).drill_pid, d.drill_pid);
  for (int back : std::initializer_list<int>{key::escape, key::backspace, 0x7f}) {
    ViewState b = Press(d, {key::down, back});
    EXPECT_FALSE(b.drill_pid);
    EXPECT_EQ(b.view, View::processes);
    EXPECT_EQ(b.selected, 3) << "back on the process it came from";
    EXPECT_EQ(b.selected_key, "p:1200");
  }
  EXPECT_FALSE(Press(d, {'4'}).drill_pid) << "another view leaves the process";
  // Only processes (and applications) drill; nothing selected, nothing happens.
  ViewState flows = Press(initial_state(), {'2'});
  flows.selected_pid = 5;
  EXPECT_FALSE(Press(flows, {key::enter}).drill_pid);
  EXPECT_FALSE(Press(initial_state(), {key::enter}).drill_pid);
}

TEST(TuiKeys, EscWithNothingToGoBackToClearsTheFilters) {
  ViewState s = Press(initial_state(), {'/', 'x', key::enter, 'p', '9', key::enter, 'k'});
  EXPECT_FALSE(s.filter.empty());
  s = Press(s, {key::escape});
  EXPECT_TRUE(s.filter.empty());
  EXPECT_FALSE(s.pid_filter);
  EXPECT_FALSE(s.kind_filter);
}

TEST(TuiKeys, PauseIntervalSaveThreadsTree) {
  ViewState s = initial_state();
  EXPECT_TRUE(Press(s, {' '}).paused);
  EXPECT_FALSE(Press(s, {' ', ' '}).paused);
  EXPECT_DOUBLE_EQ(Press(s, {'+'}).interval_s, 2);
  EXPECT_DOUBLE_EQ(Press(s, {'-'}).interval_s, 0.5);
  EXPECT_DOUBLE_EQ(Press(s, {'-', '-', '-', '-', '-'}).interval_s, 0.1) << "bounded below";
  EXPECT_DOUBLE_EQ(Press(s, {'+', '+', '+', '+', '+', '+', '+', '+'}).interval_s, 60)
      << "bounded above";
  s.interval_s = 0.75;  // from -d: the next step either way
  EXPECT_DOUBLE_EQ(Press(s, {'+'}).interval_s, 1);
  EXPECT_DOUBLE_EQ(Press(s, {'-'}).interval_s, 0.5);
  EXPECT_TRUE(Press(s, {'s'}).save);
  EXPECT_TRUE(Press(s, {'t'}).threads);
  EXPECT_TRUE(Press(s, {'T'}).tree);
  EXPECT_FALSE(Press(s, {'t', 't'}).threads);
}

TEST(TuiKeys, ReplayStepsAndSeeksOnlyInAReplay) {
  ViewState live = initial_state();
  EXPECT_EQ(Press(live, {']', '}'}).seek, 0);
  ViewState r = initial_state();
  r.replay = true;
  ViewState stepped = Press(r, {']'});
  EXPECT_EQ(stepped.seek, 1);
  EXPECT_TRUE(stepped.paused) << "stepping pauses";
  EXPECT_EQ(Press(r, {'['}).seek, -1);
  EXPECT_EQ(Press(r, {'}'}).seek, 10);
  EXPECT_EQ(Press(r, {'{'}).seek, -10);
}

TEST(TuiKeys, ResizeChangesNothingAndMessagesLastOneKey) {
  ViewState s = initial_state();
  s.message = "saved x.json";
  EXPECT_EQ(Press(s, {key::resize}).message, "saved x.json");
  EXPECT_EQ(Press(s, {key::down}).message, "");
}

TEST(TuiKeys, TheHelpListsEveryKey) {
  std::string all;
  for (const auto& k : key_help()) all += std::string(k.keys) + " ";
  for (const char* k :
       {"h",         "?",     "F1", "q", "F10", "Tab", "Up", "PgUp", "PgDn", "Home",  "End",
        "<",         ">",     "F6", "I", "/",   "p",   "k",  "t",    "T",    "Enter", "Esc",
        "Backspace", "space", "+",  "-", "s",   "[",   "]",  "{",    "}"})
    EXPECT_NE(all.find(k), std::string::npos) << k;
}

}  // namespace

namespace {

// Every key of the help screen is in the man page's TUI KEYS section.
TEST(TuiKeys, TheManPageListsEveryKey) {
  std::ifstream in(std::string(IPCTOP_FIXTURES) + "/../../man/ipctop.8");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string man;
  const std::string src = ss.str();
  for (size_t i = 0; i < src.size(); ++i) {
    if (src[i] == '\\' && i + 1 < src.size() && src[i + 1] == '-') {
      man += '-';
      ++i;
    } else {
      man += src[i];
    }
  }
  size_t begin = man.find(".SH \"TUI KEYS\"");
  ASSERT_NE(begin, std::string::npos) << "no TUI KEYS section";
  size_t end = man.find("\n.SH ", begin + 1);
  std::string section = man.substr(begin, end - begin);
  for (const auto& k : ipctop::tui::key_help()) {
    std::istringstream words(k.keys);
    std::string word;
    while (words >> word)
      EXPECT_NE(section.find(word), std::string::npos) << word << " is not in TUI KEYS";
  }
}

}  // namespace
