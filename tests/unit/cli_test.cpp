// cli::parse is a pure function: every option, every spelling, every bad value.
#include "cli/Options.h"

#include <gtest/gtest.h>

#include "long_options.h"

#include <cstdint>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace {

using ipctop::cli::Command;
using ipctop::cli::help_text;
using ipctop::cli::Options;
using ipctop::cli::parse;
using ipctop::cli::UsageError;

using Args = std::vector<std::string>;

// Every long option the parser accepts. Kept by hand: the parser has no
// enumeration API, so OptionTable.EveryListedOptionIsAccepted keeps this list
// honest in one direction and HelpText.* in the other.
const std::vector<std::string> kLongOptions = {
    "--json",         "--interval",     "--count",       "--pid",
    "--max-flows",    "--max-threads",  "--max-channels", "--ringbuf-size",
    "--fail-on-loss", "--raw",          "--features",    "--help",
    "--version",      "--files",        "--no-bpf",      "--no-color",
    "--version",      "--prometheus",   "--prom-top",    "--no-tui",
    "--record",       "--compress",     "--force",       "--replay",
    "--dot",
};

::testing::AssertionResult Parses(const Args& args, Options* out = nullptr) {
  auto r = parse(args);
  if (auto* err = std::get_if<UsageError>(&r)) {
    std::string joined;
    for (const auto& a : args) joined += "'" + a + "' ";
    return ::testing::AssertionFailure() << "args " << joined << "rejected: " << err->message;
  }
  if (out) *out = std::get<Options>(r);
  return ::testing::AssertionSuccess();
}

Options Ok(const Args& args) {
  Options o;
  EXPECT_TRUE(Parses(args, &o));
  return o;
}

// The usage error, or a failure naming the args when they were accepted.
std::string Err(const Args& args) {
  auto r = parse(args);
  if (auto* err = std::get_if<UsageError>(&r)) {
    EXPECT_FALSE(err->message.empty());
    return err->message;
  }
  std::string joined;
  for (const auto& a : args) joined += "'" + a + "' ";
  ADD_FAILURE() << "args " << joined << "accepted, expected a usage error";
  return {};
}

// A usage error whose message names `flag`.
void ExpectRejected(const Args& args, const std::string& flag) {
  std::string msg = Err(args);
  std::string joined;
  for (const auto& a : args) joined += "'" + a + "' ";
  EXPECT_NE(msg.find(flag), std::string::npos)
      << "args " << joined << ": message '" << msg << "' does not name " << flag;
}

// ---------------------------------------------------------------- defaults

TEST(CliDefaults, NoArguments) {
  Options o = Ok({});
  EXPECT_EQ(o.command, Command::run);
  EXPECT_FALSE(o.json);
  EXPECT_FALSE(o.raw);
  EXPECT_DOUBLE_EQ(o.interval_s, 1.0);
  EXPECT_FALSE(o.count.has_value());
  EXPECT_TRUE(o.pids.empty());
  EXPECT_EQ(o.max_flows, 65536u);
  EXPECT_EQ(o.max_threads, 32768u);
  EXPECT_EQ(o.max_channels, 16384u);
  EXPECT_EQ(o.ringbuf_bytes, 256u * 1024u);
  EXPECT_FALSE(o.fail_on_loss);
}

// ---------------------------------------------------------------- flags without values

TEST(CliFlags, Json) {
  EXPECT_TRUE(Ok({"--json"}).json);
  EXPECT_EQ(Ok({"--json"}).command, Command::run);
}

TEST(CliFlags, FailOnLoss) { EXPECT_TRUE(Ok({"--fail-on-loss"}).fail_on_loss); }

TEST(CliFlags, Raw) { EXPECT_TRUE(Ok({"--raw"}).raw); }

TEST(CliFlags, NoColor) {
  EXPECT_FALSE(Ok({}).no_color);
  EXPECT_TRUE(Ok({"--no-color"}).no_color);
  EXPECT_TRUE(Ok({"--no-color", "-d", "0.5", "--raw"}).raw);
  ExpectRejected({"--no-color=1"}, "--no-color");
}

TEST(CliFlags, Features) { EXPECT_EQ(Ok({"--features"}).command, Command::features); }

TEST(CliFlags, RepeatedFlagIsHarmless) {
  Options o = Ok({"--json", "--json"});
  EXPECT_TRUE(o.json);
}

TEST(CliFlags, FlagsTakeNoValue) {
  for (const char* f : {"--json", "--fail-on-loss", "--raw", "--features", "--help", "--version"}) {
    ExpectRejected({std::string(f) + "=1"}, f);
    ExpectRejected({std::string(f) + "="}, f);
  }
  // A short flag with glued characters is a value for a flag that takes none.
  ExpectRejected({"-hV"}, "--help");
  ExpectRejected({"-Vh"}, "--version");
}

// ---------------------------------------------------------------- --interval / -d

TEST(CliInterval, AllSpellings) {
  EXPECT_DOUBLE_EQ(Ok({"--interval", "2"}).interval_s, 2.0);
  EXPECT_DOUBLE_EQ(Ok({"--interval=3"}).interval_s, 3.0);
  EXPECT_DOUBLE_EQ(Ok({"-d", "4"}).interval_s, 4.0);
  EXPECT_DOUBLE_EQ(Ok({"-d0.5"}).interval_s, 0.5);
}

TEST(CliInterval, Fractions) {
  EXPECT_DOUBLE_EQ(Ok({"-d", "0.5"}).interval_s, 0.5);
  EXPECT_DOUBLE_EQ(Ok({"--interval=0.25"}).interval_s, 0.25);
  EXPECT_DOUBLE_EQ(Ok({"-d", ".1"}).interval_s, 0.1);
  EXPECT_DOUBLE_EQ(Ok({"-d", "1.5"}).interval_s, 1.5);
  EXPECT_DOUBLE_EQ(Ok({"-d", "2.5e-1"}).interval_s, 0.25);
}

TEST(CliInterval, Bounds) {
  EXPECT_DOUBLE_EQ(Ok({"-d", "0.01"}).interval_s, 0.01);
  EXPECT_DOUBLE_EQ(Ok({"-d", "86400"}).interval_s, 86400.0);
  ExpectRejected({"-d", "0.009"}, "--interval");
  ExpectRejected({"-d", "86400.5"}, "--interval");
}

TEST(CliInterval, LastOneWins) {
  EXPECT_DOUBLE_EQ(Ok({"-d", "2", "--interval=0.5"}).interval_s, 0.5);
}

TEST(CliInterval, BadValuesNameTheFlag) {
  const std::vector<std::string> bad = {
      "0",     "-1",   "1e309", "nan", "NaN",  "inf", "-inf", "99999999999999999999",
      "",      "abc",  "1s",    "1,5", "0x",   "1e-400", "-0", "0.0",
  };
  for (const auto& v : bad) {
    ExpectRejected({"--interval", v}, "--interval");
    ExpectRejected({"--interval=" + v}, "--interval");
    ExpectRejected({"-d", v}, "--interval");
    if (!v.empty()) ExpectRejected({"-d" + v}, "--interval");
  }
}

TEST(CliInterval, MissingValue) {
  ExpectRejected({"--interval"}, "--interval");
  ExpectRejected({"-d"}, "--interval");
  ExpectRejected({"--json", "-d"}, "--interval");
}

TEST(CliInterval, ValueIsTheNextArgumentEvenIfItLooksLikeAFlag) {
  // "--json" is taken as the value of -d, and it is not a number.
  ExpectRejected({"-d", "--json"}, "--interval");
}

// ---------------------------------------------------------------- --count / -n

TEST(CliCount, AllSpellings) {
  EXPECT_EQ(Ok({"--count", "3"}).count, 3u);
  EXPECT_EQ(Ok({"--count=4"}).count, 4u);
  EXPECT_EQ(Ok({"-n", "5"}).count, 5u);
  EXPECT_EQ(Ok({"-n6"}).count, 6u);
  EXPECT_EQ(Ok({"-n", "1"}).count, 1u);
  EXPECT_EQ(Ok({"-n", "18446744073709551615"}).count, UINT64_MAX);
}

TEST(CliCount, BadValues) {
  for (const std::string v :
       {"0", "-1", "1.5", "", "abc", "+3", " 3", "3 ", "18446744073709551616",
        "99999999999999999999", "1e3", "0x10"}) {
    ExpectRejected({"--count", v}, "--count");
    ExpectRejected({"--count=" + v}, "--count");
    ExpectRejected({"-n", v}, "--count");
  }
  ExpectRejected({"--count"}, "--count");
  ExpectRejected({"-n"}, "--count");
}

// ---------------------------------------------------------------- --pid / -p

TEST(CliPid, AllSpellings) {
  EXPECT_EQ(Ok({"--pid", "1234"}).pids, (std::set<uint32_t>{1234}));
  EXPECT_EQ(Ok({"--pid=1"}).pids, (std::set<uint32_t>{1}));
  EXPECT_EQ(Ok({"-p", "7"}).pids, (std::set<uint32_t>{7}));
  EXPECT_EQ(Ok({"-p8"}).pids, (std::set<uint32_t>{8}));
}

TEST(CliPid, ListsAndDuplicates) {
  EXPECT_EQ(Ok({"-p", "3,1,2"}).pids, (std::set<uint32_t>{1, 2, 3}));
  EXPECT_EQ(Ok({"-p", "5,5,5"}).pids, (std::set<uint32_t>{5}));
  // Repeated options accumulate.
  EXPECT_EQ(Ok({"-p", "1", "--pid=2,3", "-p4"}).pids, (std::set<uint32_t>{1, 2, 3, 4}));
  EXPECT_EQ(Ok({"-p", "1", "-p", "1"}).pids, (std::set<uint32_t>{1}));
}

TEST(CliPid, Bounds) {
  EXPECT_EQ(Ok({"-p", "4194304"}).pids, (std::set<uint32_t>{4194304}));
  ExpectRejected({"-p", "4194305"}, "--pid");
  ExpectRejected({"-p", "4294967295"}, "--pid");
  ExpectRejected({"-p", "4294967296"}, "--pid");
  ExpectRejected({"-p", "99999999999999999999"}, "--pid");
  ExpectRejected({"-p", "0"}, "--pid");
  ExpectRejected({"-p", "1,0"}, "--pid");
}

TEST(CliPid, BadLists) {
  for (const std::string v : {"", ",", "1,", ",1", "1,,2", "1;2", "1 2", " 1", "1 ", "-1", "+1",
                              "a", "1,a", "0x10", "1.0", "1,2,"}) {
    ExpectRejected({"--pid", v}, "--pid");
    ExpectRejected({"--pid=" + v}, "--pid");
  }
  ExpectRejected({"--pid"}, "--pid");
  ExpectRejected({"-p"}, "--pid");
}

TEST(CliPid, HundredThousandEntries) {
  std::string list;
  for (uint32_t pid = 1; pid <= 100000; ++pid) {
    if (pid > 1) list += ',';
    list += std::to_string(pid);
  }
  Options o = Ok({"--pid", list});
  ASSERT_EQ(o.pids.size(), 100000u);
  EXPECT_EQ(*o.pids.begin(), 1u);
  EXPECT_EQ(*o.pids.rbegin(), 100000u);

  // The same list with one bad entry at the very end is rejected as a whole.
  ExpectRejected({"--pid", list + ",0"}, "--pid");
  ExpectRejected({"--pid", list + ","}, "--pid");
}

// ---------------------------------------------------------------- table sizes

struct SizeCase {
  const char* flag;
  uint32_t Options::*field;
  uint32_t lo;
  uint32_t hi;
};

TEST(CliSizes, MaxTablesAllSpellingsAndBounds) {
  const SizeCase cases[] = {
      {"--max-flows", &Options::max_flows, 16, 1u << 24},
      {"--max-threads", &Options::max_threads, 16, 1u << 24},
      {"--max-channels", &Options::max_channels, 16, 1u << 22},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.flag);
    std::string f = c.flag;
    EXPECT_EQ(Ok({f, "1000"}).*c.field, 1000u);
    EXPECT_EQ(Ok({f + "=2000"}).*c.field, 2000u);
    EXPECT_EQ(Ok({f, std::to_string(c.lo)}).*c.field, c.lo);
    EXPECT_EQ(Ok({f, std::to_string(c.hi)}).*c.field, c.hi);
    ExpectRejected({f, std::to_string(c.lo - 1)}, f);
    ExpectRejected({f, std::to_string(uint64_t{c.hi} + 1)}, f);
    for (const std::string v : {"", "0", "-16", "abc", "1e3", "4294967296", "99999999999999999999"})
      ExpectRejected({f, v}, f);
    ExpectRejected({f}, f);
  }
}

TEST(CliSizes, RingbufSize) {
  EXPECT_EQ(Ok({"--ringbuf-size", "4096"}).ringbuf_bytes, 4096u);
  EXPECT_EQ(Ok({"--ringbuf-size=1048576"}).ringbuf_bytes, 1048576u);
  EXPECT_EQ(Ok({"--ringbuf-size", "1073741824"}).ringbuf_bytes, 1u << 30);
  for (uint32_t shift = 12; shift <= 30; ++shift)
    EXPECT_EQ(Ok({"--ringbuf-size", std::to_string(1u << shift)}).ringbuf_bytes, 1u << shift);
}

TEST(CliSizes, RingbufSizeMustBeAPowerOfTwo) {
  for (const std::string v : {"4097", "12288", "6144", "262143", "262145", "1000000",
                              "1073741823", "3221225472"}) {
    ExpectRejected({"--ringbuf-size", v}, "--ringbuf-size");
  }
  // Powers of two outside the range.
  for (const std::string v : {"0", "1", "2", "2048", "2147483648", "4294967296"})
    ExpectRejected({"--ringbuf-size", v}, "--ringbuf-size");
  ExpectRejected({"--ringbuf-size", ""}, "--ringbuf-size");
  ExpectRejected({"--ringbuf-size"}, "--ringbuf-size");
}

// ---------------------------------------------------------------- unknown input

TEST(CliUnknown, UnknownOptionsAreNamed) {
  EXPECT_NE(Err({"--bogus"}).find("--bogus"), std::string::npos);
  EXPECT_NE(Err({"--bogus=1"}).find("--bogus"), std::string::npos);
  EXPECT_NE(Err({"-x"}).find("-x"), std::string::npos);
  EXPECT_NE(Err({"-xyz"}).find("-x"), std::string::npos);
  EXPECT_NE(Err({"--json", "--jsonx"}).find("--jsonx"), std::string::npos);
  // Prefixes are not abbreviations.
  EXPECT_NE(Err({"--js"}).find("--js"), std::string::npos);
  EXPECT_NE(Err({"--inter", "1"}).find("--inter"), std::string::npos);
  // Case matters.
  EXPECT_NE(Err({"--JSON"}).find("--JSON"), std::string::npos);
  EXPECT_NE(Err({"-D", "1"}).find("-D"), std::string::npos);
  Err({"-"});
  Err({"--"});
}

TEST(CliUnknown, StrayArguments) {
  EXPECT_NE(Err({"foo"}).find("foo"), std::string::npos);
  EXPECT_NE(Err({"--json", "bar"}).find("bar"), std::string::npos);
  EXPECT_NE(Err({""}).find("''"), std::string::npos);
  // "limits" is a command only in first position.
  EXPECT_NE(Err({"--json", "limits"}).find("limits"), std::string::npos);
  EXPECT_NE(Err({"limits", "limits"}).find("limits"), std::string::npos);
}

// ---------------------------------------------------------------- limits command

TEST(CliLimits, Plain) {
  Options o = Ok({"limits"});
  EXPECT_EQ(o.command, Command::limits);
  EXPECT_FALSE(o.json);
  EXPECT_FALSE(o.raw);
}

TEST(CliLimits, JsonAndRaw) {
  Options o = Ok({"limits", "--json"});
  EXPECT_EQ(o.command, Command::limits);
  EXPECT_TRUE(o.json);
  EXPECT_FALSE(o.raw);
  o = Ok({"limits", "--raw"});
  EXPECT_EQ(o.command, Command::limits);
  EXPECT_TRUE(o.raw);
  o = Ok({"limits", "--raw", "--json"});
  EXPECT_EQ(o.command, Command::limits);
  EXPECT_TRUE(o.raw);
  EXPECT_TRUE(o.json);
}

TEST(CliLimits, FeaturesDoesNotGoWithLimits) {
  EXPECT_NE(Err({"limits", "--features"}).find("--features"), std::string::npos);
}

TEST(CliLimits, BadOptionAfterLimits) {
  EXPECT_NE(Err({"limits", "--bogus"}).find("--bogus"), std::string::npos);
  EXPECT_NE(Err({"limits", "extra"}).find("extra"), std::string::npos);
}

// ---------------------------------------------------------------- help and version

TEST(CliHelp, AllSpellings) {
  EXPECT_EQ(Ok({"--help"}).command, Command::help);
  EXPECT_EQ(Ok({"-h"}).command, Command::help);
  EXPECT_EQ(Ok({"--version"}).command, Command::version);
  EXPECT_EQ(Ok({"-V"}).command, Command::version);
}

TEST(CliHelp, HelpWinsOverEverything) {
  const std::vector<Args> cases = {
      {"--help", "--version"}, {"--version", "--help"}, {"-V", "-h", "-V"},
      {"--json", "-n", "3", "--help"}, {"--help", "--json"}, {"--features", "--help"},
      {"--help", "--features"}, {"limits", "--help"}, {"limits", "--json", "-h"},
      {"-d", "0.5", "-p", "1", "--fail-on-loss", "-h"},
  };
  for (const auto& args : cases) {
    Options o = Ok(args);
    EXPECT_EQ(o.command, Command::help) << args.front() << " " << args.back();
  }
}

TEST(CliHelp, VersionWinsOverCommands) {
  EXPECT_EQ(Ok({"--json", "--version"}).command, Command::version);
  EXPECT_EQ(Ok({"--version", "--features"}).command, Command::version);
  EXPECT_EQ(Ok({"--features", "--version"}).command, Command::version);
  EXPECT_EQ(Ok({"limits", "--version"}).command, Command::version);
}

// ---------------------------------------------------------------- everything at once

TEST(CliCombined, EveryRunOption) {
  Options o = Ok({"--json", "-d0.5", "-n", "3", "-p", "10,20", "--max-flows=1024",
                  "--max-threads", "2048", "--max-channels=512", "--ringbuf-size", "65536",
                  "--fail-on-loss"});
  EXPECT_EQ(o.command, Command::run);
  EXPECT_TRUE(o.json);
  EXPECT_DOUBLE_EQ(o.interval_s, 0.5);
  EXPECT_EQ(o.count, 3u);
  EXPECT_EQ(o.pids, (std::set<uint32_t>{10, 20}));
  EXPECT_EQ(o.max_flows, 1024u);
  EXPECT_EQ(o.max_threads, 2048u);
  EXPECT_EQ(o.max_channels, 512u);
  EXPECT_EQ(o.ringbuf_bytes, 65536u);
  EXPECT_TRUE(o.fail_on_loss);
}

TEST(CliFiles, OffByDefaultOnWithTheFlag) {
  Options o;
  ASSERT_TRUE(Parses({"--json"}, &o));
  EXPECT_FALSE(o.files);
  ASSERT_TRUE(Parses({"--json", "--files"}, &o));
  EXPECT_TRUE(o.files);
  EXPECT_NE(Err({"--files=yes"}), "");
}

TEST(CliCombined, FirstErrorStopsParsing) {
  // The bad --count is reported, not the unknown option after it.
  std::string msg = Err({"-n", "0", "--bogus"});
  EXPECT_NE(msg.find("--count"), std::string::npos) << msg;
}

// ---------------------------------------------------------------- help text vs parser


TEST(OptionTable, EveryListedOptionIsAccepted) {
  for (const auto& opt : kLongOptions) {
    auto r = parse({opt, "1"});  // a value for those that need one, a stray arg otherwise
    if (auto* err = std::get_if<UsageError>(&r)) {
      EXPECT_EQ(err->message.find("unknown option"), std::string::npos)
          << opt << ": " << err->message;
    }
  }
}

TEST(HelpText, MentionsEveryParserOption) {
  auto in_help = long_options_in(help_text());
  for (const auto& opt : kLongOptions) EXPECT_TRUE(in_help.contains(opt)) << opt;
}

TEST(HelpText, MentionsOnlyParserOptions) {
  std::set<std::string> known(kLongOptions.begin(), kLongOptions.end());
  for (const auto& opt : long_options_in(help_text())) {
    EXPECT_TRUE(known.contains(opt)) << opt << " is in --help but not in the option list";
    auto r = parse({opt, "1"});
    if (auto* err = std::get_if<UsageError>(&r)) {
      EXPECT_EQ(err->message.find("unknown option"), std::string::npos)
          << opt << " is in --help but the parser does not know it: " << err->message;
    }
  }
}

TEST(HelpText, ShortOptionsMatchTheParser) {
  const std::string help = help_text();
  const std::pair<const char*, const char*> pairs[] = {
      {"-d, --interval", "-d"}, {"-n, --count", "-n"}, {"-p, --pid", "-p"},
      {"-h, --help", "-h"},     {"-V, --version", "-V"},
  };
  for (const auto& [line, flag] : pairs) EXPECT_NE(help.find(line), std::string::npos) << line;
  EXPECT_DOUBLE_EQ(Ok({"-d", "2"}).interval_s, 2.0);
  EXPECT_EQ(Ok({"-n", "2"}).count, 2u);
  EXPECT_EQ(Ok({"-p", "2"}).pids.size(), 1u);
}

TEST(HelpText, StatesTheDefaults) {
  const std::string help = help_text();
  Options d;
  EXPECT_NE(help.find("(default " + std::to_string(d.max_flows) + ")"), std::string::npos);
  EXPECT_NE(help.find("(default " + std::to_string(d.max_threads) + ")"), std::string::npos);
  EXPECT_NE(help.find("(default " + std::to_string(d.max_channels) + ")"), std::string::npos);
  EXPECT_NE(help.find("(default " + std::to_string(d.ringbuf_bytes) + ")"), std::string::npos);
  EXPECT_NE(help.find("schema ipctop/1"), std::string::npos);
  EXPECT_NE(help.find("limits"), std::string::npos);
}

}  // namespace

// ---------------------------------------------------------------- outputs

namespace {

TEST(CliOutputs, PrometheusAddresses) {
  struct Case {
    const char* spec;
    const char* host;
    uint16_t port;
  };
  for (const Case& c : {Case{"9464", "127.0.0.1", 9464}, Case{":9464", "127.0.0.1", 9464},
                        Case{"0.0.0.0:80", "0.0.0.0", 80}, Case{"[::1]:9464", "::1", 9464},
                        Case{"[::]:1", "::", 1}, Case{"0", "127.0.0.1", 0},
                        Case{"10.0.0.1:65535", "10.0.0.1", 65535}}) {
    SCOPED_TRACE(c.spec);
    Options o = Ok({"--no-tui", "--prometheus", c.spec});
    ASSERT_TRUE(o.prometheus.has_value());
    EXPECT_EQ(o.prometheus->host, c.host);
    EXPECT_EQ(o.prometheus->port, c.port);
    EXPECT_TRUE(o.no_tui);
    EXPECT_EQ(o.prom_top, 100u);
  }
  for (const char* bad : {"", "65536", "-1", "x", "localhost:9464", "::1:9464", "[::1]",
                          "[::1]9464", "[127.0.0.1]:1", "1.2.3:4", "1.2.3.4:", "[zz]:1",
                          "1.2.3.4:9464x"})
    ExpectRejected({"--prometheus", bad}, "--prometheus");
  EXPECT_EQ(Ok({"--prometheus=9464", "--prom-top", "5", "--json"}).prom_top, 5u);
  ExpectRejected({"--prometheus", "1", "--prom-top", "0"}, "--prom-top");
  ExpectRejected({"--prometheus", "1", "--prom-top", "100001"}, "--prom-top");
  ExpectRejected({"--json", "--prom-top", "5"}, "--prometheus");
}

TEST(CliOutputs, RecordReplayDot) {
  Options o = Ok({"--json", "--record", "r.ndjson.gz", "--compress", "--force", "--dot", "g.dot"});
  EXPECT_EQ(o.record, "r.ndjson.gz");
  EXPECT_TRUE(o.compress);
  EXPECT_TRUE(o.force);
  EXPECT_EQ(o.dot, "g.dot");
  o = Ok({"--replay", "r.ndjson", "--json", "-n", "2"});
  EXPECT_EQ(o.replay, "r.ndjson");
  EXPECT_EQ(o.count, 2u);
  EXPECT_EQ(Ok({"--replay=-", "--no-tui", "--dot", "-"}).dot, "-");
  ExpectRejected({"--json", "--record", ""}, "--record");
  ExpectRejected({"--json", "--record"}, "--record");
  ExpectRejected({"--json", "--compress"}, "--record");
  ExpectRejected({"--json", "--force"}, "--record");
  EXPECT_EQ(Err({"--no-tui"}), "--no-tui goes with --json, --prometheus, --record or --dot");
  EXPECT_TRUE(Ok({"--no-tui", "--dot", "g.dot"}).no_tui);
  ExpectRejected({"--json", "--dot", "-"}, "--dot");
  ExpectRejected({"--json", "--dot", "x", "--record", "x"}, "same file");
  for (const Args& with : {Args{"-p", "1"}, Args{"-d", "2"}, Args{"--prometheus", "9464"},
                           Args{"--max-flows", "64"}, Args{"--fail-on-loss"}}) {
    Args args = {"--replay", "r", "--json"};
    args.insert(args.end(), with.begin(), with.end());
    ExpectRejected(args, "--replay");
  }
}

}  // namespace
