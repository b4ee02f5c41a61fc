// Privileged end-to-end tests: the real probes on the running kernel, real
// processes moving real bytes, and exact equality with the generator's own
// count of what it moved.
#include <grp.h>
#include <sys/prctl.h>

#include <set>

#include "harness.h"

namespace e2e {
namespace {

// Ground truth flows (ipcgen) must appear in ipctop's snapshots exactly.
void expect_exact(const json& truth, const std::vector<json>& snaps) {
  ASSERT_TRUE(truth.contains("flows")) << truth.dump();
  auto totals = flow_totals(snaps);
  for (const auto& f : truth.at("flows")) {
    FlowId id{truth.at("kind"), f.at("src_pid"), f.at("src_tid"), f.at("dst_pid"), f.at("dst_tid")};
    auto it = totals.find(id);
    ASSERT_NE(it, totals.end()) << "no flow for " << f.dump();
    EXPECT_EQ(it->second.bytes, f.at("bytes").get<uint64_t>()) << f.dump();
    EXPECT_EQ(it->second.messages, f.at("messages").get<uint64_t>()) << f.dump();
  }
  EXPECT_EQ(total_lost(snaps), 0u);
}

std::vector<json> trace(const std::vector<std::string>& gen_args, json& truth,
                        std::vector<std::string> tracer_args = {"--json", "-d", "0.5"}) {
  Tracer tracer(tracer_args);
  EXPECT_TRUE(tracer.wait_attached()) << tracer.err();
  truth = run_ipcgen(gen_args);
  // Let one whole interval pass so everything is drained, then stop: the
  // final partial interval is printed on SIGINT.
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  Exit e = tracer.stop();
  EXPECT_TRUE(e.exited && e.code == 0) << tracer.err();
  return tracer.snapshots();
}

const json* find_channel(const std::vector<json>& snaps, const std::string& id) {
  for (const auto& s : snaps)
    for (const auto& c : s.at("channels"))
      if (c.at("id") == id) return &c;
  return nullptr;
}

std::string channel_of(const std::vector<json>& snaps, const json& truth) {
  auto totals = flow_totals(snaps);
  const auto& f = truth.at("flows").at(0);
  FlowId id{truth.at("kind"), f.at("src_pid"), f.at("src_tid"), f.at("dst_pid"), f.at("dst_tid")};
  return totals.count(id) ? totals[id].channel : "";
}

TEST(Flows, AnonymousPipe) {
  json truth;
  auto snaps = trace({"--kind", "pipe", "--msgs", "2000", "--size", "100"}, truth);
  expect_exact(truth, snaps);
  EXPECT_EQ(channel_of(snaps, truth).rfind("pipe:[", 0), 0u);
}

TEST(Flows, FifoBetweenUnrelatedProcesses) {
  json truth;
  // The endpoints linger so the FIFO's path can still be read from their fds.
  auto snaps =
      trace({"--kind", "fifo", "--msgs", "1000", "--size", "300", "--linger-ms", "1500"}, truth);
  expect_exact(truth, snaps);
  const json* ch = find_channel(snaps, channel_of(snaps, truth));
  ASSERT_NE(ch, nullptr);
  EXPECT_EQ(ch->at("kind"), "fifo");
  EXPECT_EQ(ch->value("path", ""), truth.at("path"));
}

TEST(Flows, UnixStream) {
  json truth;
  auto snaps = trace(
      {"--kind", "unix_stream", "--msgs", "1500", "--size", "777", "--linger-ms", "1000"}, truth);
  expect_exact(truth, snaps);
  const json* ch = find_channel(snaps, channel_of(snaps, truth));
  ASSERT_NE(ch, nullptr);
  EXPECT_EQ(ch->value("path", ""), truth.at("path"));
}

TEST(Flows, UnixDgramUnconnectedSender) {
  json truth;
  auto snaps = trace(
      {"--kind", "unix_dgram", "--msgs", "1000", "--size", "512", "--linger-ms", "1000"}, truth);
  expect_exact(truth, snaps);
  const json* ch = find_channel(snaps, channel_of(snaps, truth));
  ASSERT_NE(ch, nullptr);
  EXPECT_EQ(ch->at("kind"), "unix_dgram");
  EXPECT_EQ(ch->value("path", ""), truth.at("path"));
}

TEST(Flows, UnixSeqpacket) {
  json truth;
  auto snaps = trace({"--kind", "unix_seqpacket", "--msgs", "1000", "--size", "64"}, truth);
  expect_exact(truth, snaps);
}

TEST(Flows, MultiThreadedSenderAttributedPerThread) {
  for (const char* kind : {"pipe", "fifo", "unix_stream", "unix_dgram"}) {
    SCOPED_TRACE(kind);
    json truth;
    auto snaps = trace({"--kind", kind, "--threads", "4", "--msgs", "3000", "--size", "64"}, truth);
    ASSERT_EQ(truth.at("flows").size(), 4u);
    std::set<uint64_t> tids;
    for (const auto& f : truth.at("flows")) tids.insert(f.at("src_tid").get<uint64_t>());
    EXPECT_EQ(tids.size(), 4u) << "four distinct sender threads";
    expect_exact(truth, snaps);
  }
}

TEST(Flows, SenderAndReceiverOnDifferentCpus) {
  if (std::thread::hardware_concurrency() < 2) GTEST_FAIL() << "needs two CPUs";
  for (const char* kind : {"pipe", "unix_stream", "unix_dgram"}) {
    SCOPED_TRACE(kind);
    json truth;
    auto snaps = trace({"--kind", kind, "--msgs", "2000", "--size", "128", "--writer-cpu", "0",
                        "--reader-cpu", "1"},
                       truth);
    expect_exact(truth, snaps);
    const auto& f = truth.at("flows").at(0);
    FlowId id{truth.at("kind"), f.at("src_pid"), f.at("src_tid"), f.at("dst_pid"), f.at("dst_tid")};
    auto t = flow_totals(snaps)[id];
    std::map<std::string, uint64_t> all_on_0{{"0", f.at("bytes")}}, all_on_1{{"1", f.at("bytes")}};
    EXPECT_EQ(t.cpus, all_on_0) << "bytes are sent on CPU 0";
    EXPECT_EQ(t.rx_cpus, all_on_1) << "and received on CPU 1";

    // The per-CPU totals carry the same split.
    uint64_t tx0 = 0, rx1 = 0;
    for (const auto& s : snaps)
      for (const auto& c : s.at("cpus")) {
        if (c.at("cpu") == 0) tx0 += c.at("tx_bytes").get<uint64_t>();
        if (c.at("cpu") == 1) rx1 += c.at("rx_bytes").get<uint64_t>();
      }
    EXPECT_GE(tx0, f.at("bytes").get<uint64_t>());
    EXPECT_GE(rx1, f.at("bytes").get<uint64_t>());
  }
}

TEST(Flows, ProcessesThatExitBeforeTheIntervalEnds) {
  json truth;
  // One long interval: the generator's processes start, move their data and
  // exit inside it; the final interval printed on SIGINT still has them.
  auto snaps = trace({"--kind", "unix_stream", "--msgs", "500", "--size", "1000"}, truth,
                     {"--json", "-d", "30"});
  ASSERT_EQ(snaps.size(), 1u) << "only the final, partial interval";
  EXPECT_LT(snaps.back().at("interval_s").get<double>(), 30.0);
  expect_exact(truth, {snaps.back()});
  bool sender_exited = false;
  for (const auto& p : snaps.back().at("processes"))
    if (p.at("pid") == truth.at("sender_pid")) sender_exited = p.at("exited").get<bool>();
  EXPECT_TRUE(sender_exited);
}

TEST(ContextSwitches, PingPongMatchesProcStatus) {
  json truth;
  constexpr int kRoundTrips = 3000;
  auto snaps = trace({"--kind", "pingpong", "--msgs", std::to_string(kRoundTrips), "--writer-cpu",
                      "0", "--reader-cpu", "1"},
                     truth);
  ASSERT_EQ(truth.at("sides").size(), 2u);
  for (const auto& side : truth.at("sides")) {
    uint64_t voluntary = 0, involuntary = 0;
    for (const auto& s : snaps)
      for (const auto& p : s.at("processes"))
        for (const auto& t : p.at("threads"))
          if (t.at("tid") == side.at("tid")) {
            voluntary += t.at("voluntary").get<uint64_t>();
            involuntary += t.at("involuntary").get<uint64_t>();
          }
    // /proc's count since the thread was forked, taken at the end of the
    // round trips; ipctop, attached before the fork, sees all of those and
    // the few switches of the thread's exit.
    uint64_t life = side.at("voluntary_life");
    EXPECT_GE(voluntary, life) << side.dump();
    EXPECT_LE(voluntary, life + 10) << side.dump();
    // Nearly every round trip blocks (not all: a reply can arrive first).
    EXPECT_GE(voluntary, static_cast<uint64_t>(kRoundTrips) * 9 / 10);
    EXPECT_LE(involuntary, side.at("involuntary").get<uint64_t>() + 25);
  }
  // Every CPU's switches are split into voluntary and involuntary.
  for (const auto& s : snaps)
    for (const auto& c : s.at("cpus"))
      EXPECT_EQ(c.at("ctx_switches").get<uint64_t>(),
                c.at("voluntary").get<uint64_t>() + c.at("involuntary").get<uint64_t>());
  EXPECT_EQ(total_lost(snaps), 0u);
}

// Traffic from ordinary programs, not only from ipcgen.
TEST(Flows, ShellPipelineOfOrdinaryTools) {
  TempDir dir;
  Tracer tracer;
  ASSERT_TRUE(tracer.wait_attached()) << tracer.err();
  pid_t sh = spawn({"/bin/sh", "-c", "head -c 1234567 /dev/zero | cat > /dev/null"}, dir.file("o"),
                   dir.file("e"));
  Exit e = wait_bounded(sh, std::chrono::seconds(20));
  ASSERT_TRUE(e.exited && e.code == 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  ASSERT_TRUE(tracer.stop().exited);
  auto snaps = tracer.snapshots();
  // head and cat are children of our sh: find them by parent and name.
  std::set<uint64_t> children;
  for (const auto& s : snaps)
    for (const auto& p : s.at("processes"))
      if (p.at("ppid") == sh) children.insert(p.at("pid").get<uint64_t>());
  uint64_t bytes = 0;
  for (const auto& s : snaps)
    for (const auto& f : s.at("flows"))
      if (f.at("kind") == "pipe" && children.count(f.at("src").at("pid")) &&
          children.count(f.at("dst").at("pid"))) {
        EXPECT_EQ(f.at("src").at("comm"), "head");
        EXPECT_EQ(f.at("dst").at("comm"), "cat");
        bytes += f.at("bytes").get<uint64_t>();
      }
  EXPECT_EQ(bytes, 1234567u);
  EXPECT_EQ(total_lost(snaps), 0u);
}

TEST(Output, CountGivesThatManyValidSnapshots) {
  Tracer tracer({"--json", "-d", "0.2", "-n", "3"});
  pid_t pid = tracer.pid();
  Exit e = wait_bounded(pid, std::chrono::seconds(20));
  ASSERT_TRUE(e.exited);
  EXPECT_EQ(e.code, 0);
  auto snaps = tracer.snapshots();
  ASSERT_EQ(snaps.size(), 3u);
  double last_time = 0;
  for (const auto& s : snaps) {
    EXPECT_EQ(s.at("schema"), "ipctop/1");
    for (const char* key : {"time", "interval_s", "cpus", "processes", "channels", "flows", "lost"})
      EXPECT_TRUE(s.contains(key)) << key;
    EXPECT_GT(s.at("time").get<double>(), last_time);
    last_time = s.at("time");
    EXPECT_EQ(s.at("cpus").size(), std::thread::hardware_concurrency());
    EXPECT_EQ(s.at("lost").at("events"), 0);
  }
}

// Tracing falls back to the /proc view (tests/e2e/nobpf_test.cpp); --features, which is
// about the probes, fails. Both name what is missing.
TEST(Privileges, UnprivilegedUserGetsAClearError) {
  TempDir dir;
  chmod(dir.file("").c_str(), 0777);
  auto as_nobody = [] {
    // Drop to nobody, with no capabilities left.
    return setgroups(0, nullptr) == 0 && setresgid(65534, 65534, 65534) == 0 &&
           setresuid(65534, 65534, 65534) == 0;
  };
  pid_t pid = spawn({IPCTOP_BIN, "--json", "-n", "1", "-d", "0.2"}, dir.file("o"), dir.file("e"),
                    as_nobody);
  Exit e = wait_bounded(pid, std::chrono::seconds(10));
  ASSERT_TRUE(e.exited);
  EXPECT_EQ(e.code, 0);
  std::string err = read_file(dir.file("e"));
  EXPECT_NE(err.find("CAP_BPF"), std::string::npos) << err;
  EXPECT_NE(err.find("root"), std::string::npos) << err;
  auto snaps = parse_ndjson(read_file(dir.file("o")));
  ASSERT_EQ(snaps.size(), 1u);
  EXPECT_EQ(snaps[0].at("source"), "procfs");

  pid = spawn({IPCTOP_BIN, "--features"}, dir.file("o"), dir.file("e"), as_nobody);
  e = wait_bounded(pid, std::chrono::seconds(10));
  ASSERT_TRUE(e.exited);
  EXPECT_EQ(e.code, 1);
  err = read_file(dir.file("e"));
  EXPECT_NE(err.find("CAP_BPF"), std::string::npos) << err;
  EXPECT_TRUE(read_file(dir.file("o")).empty());
}

TEST(Usage, BadFlagsExitWithStatus2) {
  TempDir dir;
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"--interval", "0"}, {"--bogus"}, {"-n", "-1"}, {"--pid", "x"}, {}}) {
    std::vector<std::string> argv{IPCTOP_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    pid_t pid = spawn(argv, dir.file("o"), dir.file("e"));
    Exit e = wait_bounded(pid, std::chrono::seconds(10));
    ASSERT_TRUE(e.exited);
    EXPECT_EQ(e.code, 2) << (args.empty() ? "(no args, no terminal)" : args.front());
    EXPECT_FALSE(read_file(dir.file("e")).empty());
  }
}

}  // namespace
}  // namespace e2e

namespace e2e {
namespace {

TEST(Features, EveryProbeAttachesHereWithItsVariantAndReason) {
  TempDir dir;
  pid_t pid = spawn({IPCTOP_BIN, "--features"}, dir.file("o"), dir.file("e"));
  Exit e = wait_bounded(pid, std::chrono::seconds(20));
  ASSERT_TRUE(e.exited);
  EXPECT_EQ(e.code, 0) << read_file(dir.file("e"));
  std::string out = read_file(dir.file("o"));
  for (const char* probe : {"sched_switch", "task_fork", "task_exec", "task_exit", "task_rename",
                            "ipc_syscalls", "unix_datagram_receive", "signals", "wakeups",
                            "sched_migrate"}) {
    auto line_start = out.find(std::string("  ") + probe + " ");
    ASSERT_NE(line_start, std::string::npos) << probe << "\n" << out;
    std::string line = out.substr(line_start, out.find('\n', line_start) - line_start);
    // This machine offers tp_btf for every probe (see docs/architecture).
    EXPECT_NE(line.find("tp_btf"), std::string::npos) << line;
    EXPECT_EQ(line.find("MISSING"), std::string::npos) << line;
    EXPECT_NE(line.find("kernel BTF"), std::string::npos) << "the reason is given: " << line;
  }
}

}  // namespace
}  // namespace e2e
