// Every option that takes a value, with wrong, empty, huge, negative and
// hostile values: a usage error that names the option and echoes the value
// without control bytes, or a value inside the documented range; never an
// exception, never a crash.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli/Options.h"

namespace ipctop::cli {
namespace {

const std::vector<std::string> kValueOptions = {"--interval", "--count",       "--pid",         "--max-flows",
                                                "--max-threads", "--max-channels", "--ringbuf-size"};

const std::vector<std::string> kBadValues = {
    "",     "-1",    "0",      "-0",   "abc",  "1e309", "nan",   "-nan",  "inf",
    "99999999999999999999", "18446744073709551616", "4294967296", "1,", ",1", "1,,2",
    "\xff", "\x1b[2J", "\x1b]52;c;QQ==\a", "1\n2", std::string(100000, '9'), std::string("1\0", 2)};

bool has_control_bytes(const std::string& s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f || c >= 0x80) return true;
  return false;
}

TEST(CliHostile, EveryValueOptionRejectsBadValuesWithACleanMessage) {
  for (const auto& opt : kValueOptions)
    for (const auto& v : kBadValues) {
      SCOPED_TRACE(opt + " with a value of " + std::to_string(v.size()) + " bytes");
      std::variant<Options, UsageError> r;
      ASSERT_NO_THROW(r = parse({"--json", opt, v}));
      if (auto* o = std::get_if<Options>(&r)) {
        // Accepted: only where the value is really in range ("-d 1e309" is not).
        EXPECT_GE(o->interval_s, 0.01);
        EXPECT_LE(o->interval_s, 86400);
        EXPECT_EQ(o->ringbuf_bytes & (o->ringbuf_bytes - 1), 0u);
        EXPECT_GE(o->max_flows, 16u);
        continue;
      }
      const auto& err = std::get<UsageError>(r).message;
      EXPECT_NE(err.find(opt), std::string::npos) << err;
      EXPECT_FALSE(has_control_bytes(err)) << "the echoed value is escaped: " << err;
      EXPECT_LT(err.size(), 300u) << "a long value is cut: " << err.size();
    }
}

TEST(CliHostile, OutOfRangeNumbersAreErrors) {
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"--interval", "0"},          {"--interval", "0.001"},        {"--interval", "86401"},
           {"--interval", "-1"},         {"--interval", "1e309"},        {"--interval", "nan"},
           {"--count", "0"},             {"--count", "-1"},              {"--count", "18446744073709551616"},
           {"--pid", "0"},               {"--pid", "4194305"},           {"--pid", "-5"},
           {"--max-flows", "15"},        {"--max-flows", "16777217"},    {"--max-threads", "0"},
           {"--max-channels", "4194305"}, {"--ringbuf-size", "4095"},    {"--ringbuf-size", "6000"},
           {"--ringbuf-size", "2147483648"}}) {
    SCOPED_TRACE(args[0] + " " + args[1]);
    auto r = parse(args);
    EXPECT_TRUE(std::holds_alternative<UsageError>(r));
  }
}

TEST(CliHostile, EdgesOfTheRangesAreAccepted) {
  auto r = parse({"--json", "-d", "0.01", "-n", "18446744073709551615", "--max-flows", "16", "--max-threads",
                  "16777216", "--max-channels", "16", "--ringbuf-size", "4096", "--pid", "1,4194304"});
  ASSERT_TRUE(std::holds_alternative<Options>(r)) << std::get<UsageError>(r).message;
}

TEST(CliHostile, HundredThousandPidsParse) {
  std::string pids;
  for (int i = 1; i <= 100000; ++i) pids += (i > 1 ? "," : "") + std::to_string(i);
  auto r = parse({"--json", "--pid", pids});
  ASSERT_TRUE(std::holds_alternative<Options>(r));
  EXPECT_EQ(std::get<Options>(r).pids.size(), 100000u);
}

TEST(CliHostile, HostileUnknownOptionsAndArgumentsAreEscaped) {
  for (const std::string& arg : {std::string("--\x1b[2Jx"), std::string("\x1b]0;t\a"), std::string("-\xff"),
                                 std::string(5000, 'a')}) {
    auto r = parse({arg});
    ASSERT_TRUE(std::holds_alternative<UsageError>(r));
    const auto& err = std::get<UsageError>(r).message;
    EXPECT_FALSE(has_control_bytes(err)) << err;
    EXPECT_LT(err.size(), 200u);
  }
}

}  // namespace
}  // namespace ipctop::cli
