// Reliability end-to-end tests: churn, overload made visible, signals and
// faults, two instances, detaching, least privilege, hostile names and
// paths. Real probes, real processes (tests/tools/loadgen, ipcgen); only
// what our own children did is asserted, so other tracers and traffic on the
// machine do not matter.
#include "reliability.h"

namespace e2e {
namespace {

std::vector<json> stop_and_read(Tracer& tracer, int expect_code = 0) {
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  Exit e = tracer.stop();
  EXPECT_TRUE(e.exited) << tracer.err();
  EXPECT_EQ(e.code, expect_code) << tracer.err();
  return tracer.snapshots();
}

// ---- churn ----

// Entries of the kernel tables that belong to a churn run: flows and
// threads of its processes, attribution queues of its pipes.
struct Leftovers {
  size_t flows = 0, threads = 0, queues = 0;
  bool none() const { return !flows && !threads && !queues; }
};

Leftovers leftovers(pid_t tracer, const json& truth) {
  std::set<uint64_t> tids, inodes;
  for (const auto& f : truth.at("flows")) {
    tids.insert(f.at("src_tid").get<uint64_t>());
    tids.insert(f.at("src_pid").get<uint64_t>());
  }
  tids.erase(truth.at("pid").get<uint64_t>());  // the parent still lives
  for (const auto& i : truth.at("pipe_inodes")) inodes.insert(i.get<uint64_t>());
  Leftovers l;
  for (const auto& k : map_keys(tracer, "flows"))
    l.flows += tids.count(k.at("src_tid").get<uint64_t>()) || tids.count(k.at("dst_tid").get<uint64_t>());
  for (const auto& k : map_keys(tracer, "threads")) l.threads += tids.count(k.get<uint64_t>());
  for (const auto& k : map_keys(tracer, "queues")) l.queues += inodes.count(k.at("obj").get<uint64_t>());
  return l;
}

TEST(Churn, ThousandsOfShortLivedProcessesAndThreadsEveryByteAndTheirEntriesExpire) {
  Tracer tracer({"--json", "-d", "0.5"});
  ASSERT_TRUE(tracer.wait_attached()) << tracer.err();

  // 2000 processes and 4000 threads, each moving its bytes and exiting.
  Loadgen gen({"churn", "--procs", "2000", "--threads", "2", "--bytes", "3000", "--parallel", "4"});
  json truth = gen.result();
  ASSERT_TRUE(truth.contains("flows")) << truth.dump();
  ASSERT_EQ(truth.at("flows").size(), 2000u * 3);
  const Leftovers right_after = leftovers(tracer.pid(), truth);

  // Entries of exited tasks expire: flows and threads within a few
  // intervals, idle attribution queues after 10 s.
  Leftovers now;
  auto deadline = Clock::now() + std::chrono::seconds(20);
  do {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    now = leftovers(tracer.pid(), truth);
  } while (!now.none() && Clock::now() < deadline);
  auto snaps = stop_and_read(tracer);
  std::printf("CHURN: %s s for 2000 processes / 4000 threads; their kernel table entries right after: "
              "%zu flows, %zu threads, %zu queues; at the end: %zu, %zu, %zu\n",
              truth.at("seconds").dump().c_str(), right_after.flows, right_after.threads, right_after.queues,
              now.flows, now.threads, now.queues);
  std::string points;
  if (!snaps.empty())
    for (const auto& item : snaps.front().at("lost").items())
      if (item.key() != "events" && lost_sum(snaps, item.key()))
        points += " " + item.key() + "=" + std::to_string(lost_sum(snaps, item.key()));
  std::printf("CHURN: lost.events %llu (%s), unattributed bytes %llu (all processes)\n",
              static_cast<unsigned long long>(lost_sum(snaps, "events")), points.c_str(),
              static_cast<unsigned long long>(unattributed_bytes(snaps)));
  EXPECT_TRUE(now.none()) << "entries of exited processes left in the kernel tables";
  EXPECT_EQ(count_mismatches(truth, snaps), 0u);
  EXPECT_EQ(lost_sum(snaps, "events"), 0u);

  // The children's names come from the kernel even though they are gone
  // from /proc by the time the interval is printed.
  std::set<uint64_t> children;
  for (const auto& f : truth.at("flows")) children.insert(f.at("src_pid").get<uint64_t>());
  size_t named = 0, seen = 0;
  for (const auto& s : snaps)
    for (const auto& f : s.at("flows"))
      if (children.count(f.at("src").at("pid").get<uint64_t>())) {
        ++seen;
        if (f.at("src").at("comm") == "loadgen")
          ++named;
        else if (seen - named < 5)
          ADD_FAILURE() << "sender not named loadgen: " << f.dump();
      }
  EXPECT_GT(seen, 0u);
  EXPECT_EQ(named, seen) << "every short-lived sender named";
}

// Pipes written and never read (`producer | head -1`) keep their data's
// writer in the attribution queue table; once it is half full the longest
// idle of them expire (src/probe/QueueExpiry.h), so channels in use still
// find room. Data read after its queue expired is `unattributed`: every byte
// is still counted.
TEST(Churn, NeverReadPipesDoNotFillTheQueueTable) {
  constexpr size_t kCapacity = 1024;
  Tracer tracer({"--json", "-d", "0.5", "--max-channels", std::to_string(kCapacity)});
  ASSERT_TRUE(tracer.wait_attached()) << tracer.err();
  // 1500 never-read pipes in 10 s (more than the table holds), 16 pipes read
  // only at the end, and real traffic that must stay exact meanwhile.
  Loadgen unread({"unread", "--pipes", "1500", "--rate", "150", "--bytes", "100", "--late", "16"});
  Loadgen load({"load", "--seconds", "10", "--kinds", "pipe,unix_stream", "--rate", "2000"});
  json truth = load.result();
  json u = unread.result();
  ASSERT_TRUE(u.contains("pipe_inodes")) << u.dump();
  std::set<uint64_t> never_read;
  for (const auto& i : u.at("pipe_inodes")) never_read.insert(i.get<uint64_t>());
  ASSERT_EQ(never_read.size(), 1500u);
  size_t held = 0;
  for (const auto& k : map_keys(tracer.pid(), "queues")) held += never_read.count(k.at("obj").get<uint64_t>());
  // A read with no writer in its queue waits 2 s for one before it is
  // credited to `unattributed`.
  std::this_thread::sleep_for(std::chrono::seconds(4));
  auto snaps = stop_and_read(tracer);

  const pid_t upid = u.at("pid").get<pid_t>();
  uint64_t late_attributed = 0;
  for (const auto& [id, t] : flow_totals(snaps))
    if (std::get<1>(id) == static_cast<uint64_t>(upid) && std::get<3>(id) == static_cast<uint64_t>(upid))
      late_attributed += t.bytes;
  const uint64_t late = u.at("late_bytes").get<uint64_t>();
  std::printf("UNREAD: %zu of 1500 never-read pipes still in the %zu-entry queue table; queue_map_full %llu; "
              "late reads: %llu of %llu bytes attributed, unattributed (all processes) %llu\n",
              held, kCapacity, static_cast<unsigned long long>(lost_sum(snaps, "queue_map_full")),
              static_cast<unsigned long long>(late_attributed), static_cast<unsigned long long>(late),
              static_cast<unsigned long long>(unattributed_bytes(snaps)));
  // On a shared machine, another process that opens over a thousand
  // channels within 2 s fills this small table by itself (seen once in 8
  // runs, with 61 KB of others' reads in `unattributed`): rerun then.
  EXPECT_EQ(lost_sum(snaps, "queue_map_full"), 0u) << "the table filled up";
  // Each expiry pass (once a second) leaves at most half the table, those
  // idle less than 2 s aside; pipes keep coming at 150/s in between.
  EXPECT_LE(held, kCapacity * 3 / 4) << "never-read pipes keep about half the table";
  EXPECT_EQ(count_mismatches(truth, snaps), 0u) << "channels in use keep their entries";
  // The late pipes were the longest idle: their queues went first, and
  // their data, read at the end, is in `unattributed`.
  EXPECT_EQ(late, 16u * 100);
  EXPECT_EQ(late_attributed, 0u);
  EXPECT_GE(unattributed_bytes(snaps), late);
}

// ---- overload: tiny tables and ring, losses counted per drop point ----

struct Overload {
  std::vector<json> snaps;
  json truth;
  Exit exit;
  std::string err;
};

uint64_t flow_bytes_of(const json& truth, const std::vector<json>& snaps) {
  auto totals = flow_totals(snaps);
  uint64_t n = 0;
  for (const auto& f : truth.at("flows")) {
    auto it = totals.find(truth_id(f, truth));
    if (it != totals.end()) n += it->second.bytes;
  }
  return n;
}

// Truth bytes = bytes in our flows + our share of `unattributed`. Other
// processes' reads also land in `unattributed` when the tables are full, so
// the check is that the shortfall is covered, never that bytes vanished.
void expect_conserved(const json& truth, const std::vector<json>& snaps) {
  const uint64_t want = truth.at("bytes").get<uint64_t>();
  const uint64_t ours = flow_bytes_of(truth, snaps);
  const uint64_t unattributed = unattributed_bytes(snaps);
  EXPECT_LE(ours, want) << "no flow over-counted";
  EXPECT_GE(ours + unattributed, want) << "flows " << ours << " + unattributed " << unattributed
                                       << " must cover all " << want << " bytes read";
}

TEST(Overload, FullFlowTableCountedAndBytesGoToUnattributed) {
  Tracer tracer({"--json", "-d", "0.5", "--max-flows", "16", "--fail-on-loss"});
  ASSERT_TRUE(tracer.wait_attached()) << tracer.err();
  json truth = Loadgen({"load", "--seconds", "2", "--pairs", "6", "--rate", "20000"}).result();
  auto snaps = stop_and_read(tracer, 3);
  EXPECT_GT(lost_sum(snaps, "flow_map_full"), 0u);
  EXPECT_EQ(lost_sum(snaps, "events"), [&] {
    uint64_t n = 0;
    for (const auto& s : snaps)
      for (const auto& [k, v] : s.at("lost").items())
        if (k != "events") n += v.get<uint64_t>();
    return n;
  }()) << "events is the sum of the drop points";
  EXPECT_LT(flow_bytes_of(truth, snaps), truth.at("bytes").get<uint64_t>()) << "30 flows in 16 slots";
  expect_conserved(truth, snaps);
  EXPECT_NE(tracer.err().find("events were lost"), std::string::npos) << tracer.err();
}

TEST(Overload, FullQueueTableCountedAndConserved) {
  Tracer tracer({"--json", "-d", "0.5", "--max-channels", "16", "--fail-on-loss"});
  ASSERT_TRUE(tracer.wait_attached()) << tracer.err();
  json truth = Loadgen({"load", "--seconds", "2", "--pairs", "6", "--rate", "20000"}).result();
  auto snaps = stop_and_read(tracer, 3);
  EXPECT_GT(lost_sum(snaps, "queue_map_full"), 0u);
  expect_conserved(truth, snaps);
}

TEST(Overload, FullThreadTableCountedFlowsStillExact) {
  Tracer tracer({"--json", "-d", "0.5", "--max-threads", "16", "--fail-on-loss"});
  ASSERT_TRUE(tracer.wait_attached()) << tracer.err();
  json truth = Loadgen({"churn", "--procs", "200", "--threads", "2", "--bytes", "1000"}).result();
  auto snaps = stop_and_read(tracer, 3);
  EXPECT_GT(lost_sum(snaps, "thread_map_full"), 0u);
  // Scheduler counters are lost, bytes are not: flows have their own table.
  EXPECT_EQ(count_mismatches(truth, snaps), 0u);
}

TEST(Overload, StalledReaderOverflowsTheSmallestRing) {
  Tracer tracer({"--json", "-d", "0.5", "--ringbuf-size", "4096", "--fail-on-loss"});
  ASSERT_TRUE(tracer.wait_attached()) << tracer.err();
  // Stop ipctop while 300 processes come and go: their fork, exec and exit
  // records cannot all fit in 4 KiB.
  ASSERT_EQ(kill(tracer.pid(), SIGSTOP), 0);
  json truth = Loadgen({"churn", "--procs", "300", "--threads", "1", "--bytes", "100"}).result();
  ASSERT_EQ(kill(tracer.pid(), SIGCONT), 0);
  auto snaps = stop_and_read(tracer, 3);
  EXPECT_GT(lost_sum(snaps, "ringbuf_full"), 0u);
  // Lifecycle records carry names, not bytes: every byte is still there.
  EXPECT_EQ(count_mismatches(truth, snaps), 0u);
}

TEST(Overload, NoLossMeansFailOnLossExitsZero) {
  Tracer tracer({"--json", "-d", "0.5", "--fail-on-loss"});
  ASSERT_TRUE(tracer.wait_attached()) << tracer.err();
  json truth = run_ipcgen({"--kind", "pipe", "--msgs", "500"});
  auto snaps = stop_and_read(tracer, 0);
  EXPECT_EQ(lost_sum(snaps, "events"), 0u);
}

// ---- signals, SIGPIPE, detaching ----

TEST(Faults, EachStopSignalFlushesTheLastIntervalExitsZeroAndDetaches) {
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    SCOPED_TRACE(strsignal(sig));
    Tracer tracer({"--json", "-d", "60"});
    ASSERT_TRUE(tracer.wait_attached()) << tracer.err();
    const BpfObjects held = bpf_objects_of(tracer.pid());
    EXPECT_GE(held.progs.size(), 2u);
    EXPECT_EQ(held.links.size(), held.progs.size()) << "one link per attached program";
    json truth = run_ipcgen({"--kind", "pipe", "--msgs", "300", "--size", "100"});
    Exit e = tracer.stop(sig);
    ASSERT_TRUE(e.exited) << "killed instead of exiting";
    EXPECT_EQ(e.code, 0) << tracer.err();
    auto snaps = tracer.snapshots();
    ASSERT_EQ(snaps.size(), 1u) << "the final, partial interval";
    EXPECT_EQ(count_mismatches(truth, snaps), 0u);
    // FD-based links and programs die with their last holder.
    EXPECT_TRUE(all_gone("prog", held.progs));
    EXPECT_TRUE(all_gone("link", held.links));
    EXPECT_TRUE(all_gone("map", held.maps));
  }
}

TEST(Faults, SigkillLeavesNothingAttached) {
  Tracer tracer({"--json", "-d", "0.5"});
  ASSERT_TRUE(tracer.wait_attached()) << tracer.err();
  const BpfObjects held = bpf_objects_of(tracer.pid());
  ASSERT_FALSE(held.empty());
  tracer.stop(SIGKILL);
  EXPECT_TRUE(all_gone("prog", held.progs));
  EXPECT_TRUE(all_gone("link", held.links));
  EXPECT_TRUE(all_gone("map", held.maps));
}

TEST(Faults, ClosedOutputPipeEndsCleanly) {
  // ipctop --json | head -1: the reader goes away after one line.
  int p[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
  TempDir dir;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(p[1], 1);
    int e = open(dir.file("err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(e, 2);
    execl(IPCTOP_BIN, IPCTOP_BIN, "--json", "-d", "0.2", nullptr);
    _exit(127);
  }
  close(p[1]);
  std::string line;
  char c;
  auto deadline = Clock::now() + std::chrono::seconds(20);
  while (Clock::now() < deadline && read(p[0], &c, 1) == 1 && c != '\n') line += c;
  close(p[0]);  // as head does after its line
  Exit e = wait_bounded(pid, std::chrono::seconds(10));
  EXPECT_TRUE(e.exited) << "killed (by SIGPIPE?) instead of exiting: " << read_file(dir.file("err"));
  EXPECT_EQ(e.code, 0) << read_file(dir.file("err"));
  EXPECT_NO_THROW(json::parse(line));
}

TEST(Faults, TwoInstancesAtOnceBothExact) {
  Tracer a({"--json", "-d", "0.5"});
  Tracer b({"--json", "-d", "0.3"});
  ASSERT_TRUE(a.wait_attached()) << a.err();
  ASSERT_TRUE(b.wait_attached()) << b.err();
  json pipe = run_ipcgen({"--kind", "pipe", "--msgs", "1000", "--size", "200"});
  json stream = run_ipcgen({"--kind", "unix_stream", "--threads", "2", "--msgs", "500"});
  auto sa = stop_and_read(a), sb = stop_and_read(b);
  for (const auto* snaps : {&sa, &sb}) {
    for (const auto* truth : {&pipe, &stream}) EXPECT_EQ(count_mismatches(*truth, *snaps), 0u);
    EXPECT_EQ(lost_sum(*snaps, "events"), 0u);
  }
}

TEST(Faults, NothingPinnedNoFileWritten) {
  auto listing = [](const std::string& dir) {
    std::set<std::string> names;
    std::error_code ec;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec)) names.insert(e.path());
    return names;
  };
  const auto bpffs = listing("/sys/fs/bpf");
  TempDir cwd;
  pid_t pid = spawn({IPCTOP_BIN, "--json", "-d", "0.2", "-n", "2"}, cwd.file("out"), cwd.file("err"),
                    [&] { return chdir(cwd.file("").c_str()) == 0; });
  Exit e = wait_bounded(pid, std::chrono::seconds(20));
  ASSERT_TRUE(e.exited && e.code == 0) << read_file(cwd.file("err"));
  EXPECT_EQ(listing("/sys/fs/bpf"), bpffs) << "no pinned objects";
  std::set<std::string> mine{cwd.file("out"), cwd.file("err")};
  EXPECT_EQ(listing(cwd.file("")), mine) << "no file written in the working directory";
}

// ---- least privilege ----

uint64_t hex_mask(const std::string& s) { return std::stoull(s, nullptr, 16); }

TEST(Privileges, CapabilitiesDroppedOnceAttachedAndTracingGoesOn) {
  // With every thread ipctop can start: the ring reader and the Prometheus server.
  Tracer tracer({"--json", "-d", "0.3", "--prometheus", "127.0.0.1:0"});
  ASSERT_TRUE(tracer.wait_attached()) << tracer.err();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const pid_t pid = tracer.pid();
  const uint64_t eff = hex_mask(status_field(pid, "CapEff"));
  const uint64_t prm = hex_mask(status_field(pid, "CapPrm"));
  const uint64_t bnd = hex_mask(status_field(pid, "CapBnd"));
  constexpr int kCapDacReadSearch = 2, kCapIpcOwner = 15, kCapSysPtrace = 19;
  const uint64_t kept = (1ull << kCapDacReadSearch) | (1ull << kCapIpcOwner) | (1ull << kCapSysPtrace);
  std::printf("PRIVILEGES: CapEff %016llx CapPrm %016llx CapBnd %016llx NoNewPrivs %s\n",
              static_cast<unsigned long long>(eff), static_cast<unsigned long long>(prm),
              static_cast<unsigned long long>(bnd), status_field(pid, "NoNewPrivs").c_str());
  EXPECT_EQ(eff & ~kept, 0u) << "only what reading /proc and IPC objects needs";
  EXPECT_EQ(prm & ~kept, 0u) << "dropped for good, not just lowered";
  EXPECT_EQ(bnd & ~kept, 0u) << "an exec could not regain them";
  EXPECT_EQ(status_field(pid, "NoNewPrivs"), "1");
  EXPECT_EQ(status_field(pid, "CapAmb"), "0000000000000000");
  // Capabilities are per thread: every thread has dropped them.
  size_t threads = 0;
  for (const auto& t : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    const std::string status = read_file(t.path() / "status");
    const auto at = status.find("CapEff:\t");
    ASSERT_NE(at, std::string::npos);
    EXPECT_EQ(hex_mask(status.substr(at + 8, 16)) & ~kept, 0u) << "thread " << t.path();
    ++threads;
  }
  EXPECT_GE(threads, 3u) << "main, ring reader and Prometheus server";
  // The held programs, maps and ring keep working without CAP_BPF.
  json truth = run_ipcgen({"--kind", "unix_dgram", "--msgs", "400", "--size", "99"});
  auto snaps = stop_and_read(tracer);
  EXPECT_EQ(count_mismatches(truth, snaps), 0u);
  EXPECT_EQ(lost_sum(snaps, "events"), 0u);
}

// ---- hostile names and paths ----

std::string hex(const std::string& raw) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += d[c >> 4];
    out += d[c & 15];
  }
  return out;
}

// No byte of a terminal escape, C1 control or invalid UTF-8 reaches the
// output, every line parses strictly, and the names read back as the
// documented \xNN text.
void expect_clean_output(const std::string& raw) {
  for (size_t i = 0; i < raw.size(); ++i) {
    auto c = static_cast<unsigned char>(raw[i]);
    ASSERT_FALSE(c < 0x20 && c != '\n') << "control byte " << int(c) << " at " << i;
    ASSERT_NE(c, 0x7f);
  }
  EXPECT_EQ(raw.find("\xc2\x9b"), std::string::npos) << "C1 CSI";
  for (const auto& line : parse_ndjson(raw)) EXPECT_TRUE(line.is_object());  // throws on bad UTF-8
}

TEST(Hostile, EscapeSequencesAndInvalidUtf8InNamesAndPaths) {
  // Clear screen, OSC title and OSC 52 clipboard, C1 CSI, invalid UTF-8,
  // a bidi override, BEL, backspace, newline.
  const std::string comm = "\x1b[2J\x9b\xff\xc0\x80\a\b\n";   // 15 bytes at most are kept
  const std::string tag = "\x1b]0;pwn\a\x1b]52;c;QQ==\a\xe2\x80\xae\xff\x01\r\t";
  const std::string long_tag = tag + std::string(180, 'L');  // FIFO names near NAME_MAX
  Tracer tracer({"--json", "-d", "0.5"});
  ASSERT_TRUE(tracer.wait_attached()) << tracer.err();
  json fifo = Loadgen({"load", "--seconds", "1", "--kinds", "fifo", "--rate", "2000", "--comm-hex", hex(comm),
                       "--tag-hex", hex(long_tag)})
                  .result();
  json sock = Loadgen({"load", "--seconds", "1", "--kinds", "unix_stream,unix_dgram", "--rate", "2000",
                       "--comm-hex", hex(comm), "--tag-hex", hex(tag)})
                  .result();
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  ASSERT_TRUE(tracer.stop().exited);
  expect_clean_output(tracer.output());  // the raw bytes, before any JSON decoding
  auto snaps = tracer.snapshots();
  EXPECT_EQ(count_mismatches(fifo, snaps), 0u);
  EXPECT_EQ(count_mismatches(sock, snaps), 0u);
  // The comm as the kernel keeps it (15 bytes), shown escaped.
  const std::string shown_comm = "\\x1b[2J\\x9b\\xff\\xc0\\x80\\x07\\x08\\x0a";
  std::set<std::string> comms, paths;
  std::set<uint64_t> ours;
  for (const auto* t : {&fifo, &sock})
    for (const auto& f : t->at("flows")) ours.insert(f.at("src_pid").get<uint64_t>());
  for (const auto& s : snaps) {
    for (const auto& f : s.at("flows"))
      if (ours.count(f.at("src").at("pid").get<uint64_t>())) comms.insert(f.at("src").at("comm"));
    for (const auto& c : s.at("channels"))
      if (c.contains("path") && c.at("path").get<std::string>().find("LLLL") != std::string::npos)
        paths.insert(c.at("path"));
  }
  EXPECT_EQ(comms, std::set<std::string>{shown_comm});
  ASSERT_FALSE(paths.empty()) << "the FIFO's path is shown";
  for (const auto& p : paths) {
    EXPECT_NE(p.find("\\x1b]0;pwn\\x07\\x1b]52;c;QQ==\\x07\\u202e\\xff\\x01\\x0d\\x09"), std::string::npos) << p;
    EXPECT_EQ(p.find('\x1b'), std::string::npos);
  }
}

TEST(Hostile, RawOutputBytesHoldNoControlCharacters) {
  const std::string comm = "\x1b[31mred\x1b[0m\x9b";
  Tracer tracer({"--json", "-d", "0.3"});
  ASSERT_TRUE(tracer.wait_attached()) << tracer.err();
  json truth = Loadgen({"load", "--seconds", "1", "--kinds", "pipe,unix_seqpacket", "--rate", "2000",
                        "--comm-hex", hex(comm)})
                   .result();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_TRUE(tracer.stop().exited);
  EXPECT_EQ(count_mismatches(truth, tracer.snapshots()), 0u);
  expect_clean_output(tracer.output());
}

}  // namespace
}  // namespace e2e

namespace e2e {
namespace {

// ---- forced feature overrides: each fallback and message, on a kernel that has everything ----

struct EnvRun {
  Exit exit;
  std::string out, err;
};

EnvRun run_with_env(const std::vector<std::string>& args, const std::string& name, const std::string& value) {
  TempDir dir;
  std::vector<std::string> argv{IPCTOP_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  pid_t pid = spawn(argv, dir.file("o"), dir.file("e"), [&] { return setenv(name.c_str(), value.c_str(), 1) == 0; });
  EnvRun r;
  r.exit = wait_bounded(pid, std::chrono::seconds(30));
  r.out = read_file(dir.file("o"));
  r.err = read_file(dir.file("e"));
  return r;
}

std::string probe_line(const std::string& features, const std::string& probe) {
  auto at = features.find("  " + probe + " ");
  if (at == std::string::npos) return "";
  return features.substr(at, features.find('\n', at) - at);
}

TEST(Overrides, NoBtfIsOneClearLineAndStatus1) {
  EnvRun r = run_with_env({"--json", "-n", "1"}, "IPCTOP_FORCE_NO_BTF", "1");
  ASSERT_TRUE(r.exit.exited);
  EXPECT_EQ(r.exit.code, 1);
  EXPECT_TRUE(r.out.empty());
  EXPECT_NE(r.err.find("kernel BTF not found"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("CONFIG_DEBUG_INFO_BTF"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("IPCTOP_FORCE_NO_BTF"), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(Overrides, RefusedTpBtfFallsBackToRawTpAndSaysWhatIsMissing) {
  EnvRun f = run_with_env({"--features"}, "IPCTOP_FORCE_NO_TP_BTF", "1");
  ASSERT_TRUE(f.exit.exited && f.exit.code == 0) << f.err;
  EXPECT_NE(f.out.find("object variant: raw_tp"), std::string::npos) << f.out;
  EXPECT_NE(f.out.find("IPCTOP_FORCE_NO_TP_BTF"), std::string::npos) << f.out;
  EXPECT_NE(probe_line(f.out, "sched_switch").find("raw_tp"), std::string::npos) << f.out;
  std::string ipc = probe_line(f.out, "ipc_syscalls");
  EXPECT_NE(ipc.find("MISSING"), std::string::npos) << ipc;
  EXPECT_NE(ipc.find("needs tp_btf"), std::string::npos) << ipc;

  // It still runs: scheduler figures, a warning naming what is not traced.
  EnvRun r = run_with_env({"--json", "-d", "0.3", "-n", "2"}, "IPCTOP_FORCE_NO_TP_BTF", "1");
  ASSERT_TRUE(r.exit.exited && r.exit.code == 0) << r.err;
  EXPECT_NE(r.err.find("probe ipc_syscalls (sys_exit) not attached"), std::string::npos) << r.err;
  auto snaps = parse_ndjson(r.out);
  ASSERT_EQ(snaps.size(), 2u);
  uint64_t switches = 0;
  for (const auto& c : snaps.back().at("cpus")) switches += c.at("ctx_switches").get<uint64_t>();
  EXPECT_GT(switches, 0u);
}

TEST(Overrides, MissingTracepointsDegradeOrFailClearly) {
  EnvRun f = run_with_env({"--features"}, "IPCTOP_FORCE_NO_TRACEPOINT", "sys_exit");
  ASSERT_TRUE(f.exit.exited && f.exit.code == 0) << f.err;
  std::string ipc = probe_line(f.out, "ipc_syscalls");
  EXPECT_NE(ipc.find("MISSING"), std::string::npos) << ipc;
  EXPECT_NE(ipc.find("kernel has no tracepoint sys_exit (forced"), std::string::npos) << ipc;
  EXPECT_NE(probe_line(f.out, "sched_switch").find("tp_btf"), std::string::npos) << f.out;

  EnvRun none = run_with_env({"--json", "-n", "1"}, "IPCTOP_FORCE_NO_TRACEPOINT", "sched_switch,sys_exit");
  ASSERT_TRUE(none.exit.exited);
  EXPECT_EQ(none.exit.code, 1);
  EXPECT_NE(none.err.find("no essential probe could attach"), std::string::npos) << none.err;
  EXPECT_NE(none.err.find("sched_switch: kernel has no tracepoint sched_switch"), std::string::npos) << none.err;
}

TEST(Overrides, RefusedProgramLeavesTheOthersExact) {
  EnvRun f = run_with_env({"--features"}, "IPCTOP_FORCE_REFUSE", "handle_skb_copy_datagram_iovec");
  ASSERT_TRUE(f.exit.exited && f.exit.code == 0) << f.err;
  std::string line = probe_line(f.out, "unix_datagram_receive");
  EXPECT_NE(line.find("MISSING"), std::string::npos) << line;
  EXPECT_NE(line.find("refused by the kernel"), std::string::npos) << line;
  EXPECT_NE(probe_line(f.out, "ipc_syscalls").find("tp_btf"), std::string::npos) << f.out;
}

}  // namespace
}  // namespace e2e
