#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "limits/Limits.h"

namespace ipctop::limits {
namespace {

std::string read_trimmed(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Live system: no root needed; values must be carried as exact integers end to end.
TEST(LimitsLive, ShmmaxMatchesProcExactly) {
  const std::string text = read_trimmed("/proc/sys/kernel/shmmax");
  ASSERT_FALSE(text.empty()) << "no /proc/sys/kernel/shmmax: a kernel without SysV IPC";
  const uint64_t expected = std::stoull(text);

  const Report report = collect(Roots{});
  const Limit* shmmax = find_limit(report, "kernel.shmmax");
  ASSERT_NE(shmmax, nullptr);
  ASSERT_TRUE(shmmax->value.has_value()) << shmmax->error;
  EXPECT_EQ(*shmmax->value, expected);

  const std::string json = to_json(report).dump();
  EXPECT_NE(json.find("\"value\":" + text + ","), std::string::npos) << text;
  EXPECT_EQ(nlohmann::json::parse(json)["limits"][0]["value"].get<uint64_t>(), expected);
}

TEST(LimitsLive, TableAndJsonWorkOnThisMachine) {
  const Report report = collect(Roots{});
  const Limit* page = find_limit(report, "page_size");
  ASSERT_NE(page, nullptr);
  EXPECT_GT(page->value.value_or(0), 0u);
  const Limit* memlock = find_limit(report, "rlimit.memlock");
  ASSERT_NE(memlock, nullptr);
  EXPECT_TRUE(memlock->value.has_value());
  EXPECT_FALSE(render_table(report, false).empty());
  EXPECT_NO_THROW((void)to_json(report).dump());
}

}  // namespace
}  // namespace ipctop::limits
