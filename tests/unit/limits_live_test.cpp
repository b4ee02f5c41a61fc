#include <gtest/gtest.h>

#include <algorithm>
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

// Every sysctl, in the JSON text, is the digits of its /proc/sys file: no rounding through a
// double, whatever the size (shmmax and shmall default to nearly 2^64).
TEST(LimitsLive, EverySysctlInTheJsonIsTheProcSysTextExactly) {
  const nlohmann::json j = nlohmann::json::parse(to_json(collect(Roots{})).dump());
  const std::string sem = read_trimmed("/proc/sys/kernel/sem");
  std::vector<std::string> sem_fields;
  {
    std::istringstream in(sem);
    for (std::string f; in >> f;) sem_fields.push_back(f);
  }
  const std::vector<std::string> sem_names = {"kernel.sem.semmsl", "kernel.sem.semmns",
                                              "kernel.sem.semopm", "kernel.sem.semmni"};
  int compared = 0;
  for (const auto& l : j.at("limits")) {
    const std::string source = l.at("source");
    if (!source.starts_with("/proc/sys/")) continue;
    const std::string name = l.at("name");
    std::string expected;
    if (name.starts_with("kernel.sem.")) {
      const auto i = static_cast<std::size_t>(std::find(sem_names.begin(), sem_names.end(), name) -
                                              sem_names.begin());
      ASSERT_LT(i, sem_fields.size()) << name;
      expected = sem_fields[i];
    } else {
      expected = read_trimmed(source);
    }
    if (expected.empty()) continue;  // not on this kernel: the error case is tested elsewhere
    ASSERT_TRUE(l.at("value").is_number_unsigned()) << name << ": " << l.dump();
    EXPECT_EQ(l.at("value").dump(), expected) << name;
    ++compared;
  }
  // Every sysctl the issue lists, with kernel.sem as its four fields.
  EXPECT_GE(compared, 25);
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
