// Privileged end-to-end tests of signals and shared memory: the real probes,
// real processes sending real signals and sharing real segments, compared
// with the generator's own ground truth.
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "harness.h"

namespace e2e {
namespace {

std::vector<json> trace_gen(const std::vector<std::string>& gen_args, json& truth) {
  Tracer tracer({"--json", "-d", "0.5"});
  EXPECT_TRUE(tracer.wait_attached()) << tracer.err();
  truth = run_ipcgen(gen_args);
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  Exit e = tracer.stop();
  EXPECT_TRUE(e.exited && e.code == 0) << tracer.err();
  return tracer.snapshots();
}

struct SyncTotal {
  uint64_t messages = 0;
  uint64_t bytes = 0;
  uint64_t discarded = 0;
  std::set<std::string> channels;
};

// Sums the flows of `kind` from src to dst (pid and tid), optionally of one signal.
SyncTotal sum_flows(const std::vector<json>& snaps, const std::string& kind, const json& f,
                    const std::string& signal = "") {
  SyncTotal t;
  for (const auto& s : snaps)
    for (const auto& x : s.at("flows")) {
      if (x.at("kind") != kind || x.at("src").at("pid") != f.at("src_pid") ||
          x.at("src").at("tid") != f.at("src_tid") || x.at("dst").at("pid") != f.at("dst_pid") ||
          x.at("dst").at("tid") != f.at("dst_tid"))
        continue;
      if (!signal.empty() && x.value("signal", "") != signal) continue;
      t.messages += x.at("messages").get<uint64_t>();
      t.bytes += x.at("bytes").get<uint64_t>();
      if (x.contains("discarded"))
        for (const auto& [k, v] : x.at("discarded").items()) t.discarded += v.get<uint64_t>();
      t.channels.insert(x.at("channel").get<std::string>());
    }
  return t;
}

// The snapshot rows of channel `id` (one per snapshot that lists it).
std::vector<json> channel_rows(const std::vector<json>& snaps, const std::string& id) {
  std::vector<json> out;
  for (const auto& s : snaps)
    for (const auto& c : s.at("channels"))
      if (c.at("id") == id) out.push_back(c);
  return out;
}

std::set<uint64_t> attached(const json& channel) {
  std::set<uint64_t> pids;
  for (const auto& e : channel.at("endpoints"))
    if (e.at("role") == "attached") pids.insert(e.at("pid").get<uint64_t>());
  return pids;
}

std::set<uint64_t> truth_pids(const json& truth) {
  std::set<uint64_t> pids;
  for (const auto& p : truth.at("attached")) pids.insert(p.get<uint64_t>());
  return pids;
}

// Some snapshot lists the channel with both processes attached.
bool seen_with_both(const std::vector<json>& rows, const json& truth) {
  for (const auto& r : rows)
    if (attached(r) == truth_pids(truth)) return true;
  return false;
}

const json* channel_by_path(const std::vector<json>& snaps, const std::string& path) {
  for (const auto& s : snaps)
    for (const auto& c : s.at("channels"))
      if (c.value("path", "") == path && attached(c).size() == 2) return &c;
  return nullptr;
}

// The channel of a signal flow: the target process and the signal.
std::string fmt_channel(const json& f) {
  return "signal:" + std::to_string(f.at("dst_pid").get<uint64_t>()) + ":" +
         f.at("signal").get<std::string>();
}

TEST(Signals, EveryAcknowledgedSignalCountedWithItsNumber) {
  json truth;
  auto snaps = trace_gen({"--kind", "signal", "--msgs", "300"}, truth);
  ASSERT_EQ(truth.at("flows").size(), 2u) << truth.dump();
  for (const auto& f : truth.at("flows")) {
    SCOPED_TRACE(f.dump());
    SyncTotal t = sum_flows(snaps, "signal", f, f.at("signal"));
    EXPECT_EQ(t.messages, f.at("messages").get<uint64_t>());
    EXPECT_EQ(t.bytes, 0u);
    EXPECT_EQ(t.discarded, 0u) << "acknowledged signals never coalesce";
    ASSERT_EQ(t.channels.size(), 1u);
    EXPECT_EQ(*t.channels.begin(), fmt_channel(f));
  }
  EXPECT_EQ(total_lost(snaps), 0u);
}

// Sets kernel.shm_next_id for the next shmget and restores it (the kernel
// resets it to -1 once it is used; this puts back -1 if it was not).
class NextShmid {
 public:
  explicit NextShmid(int id) { set(id); }
  ~NextShmid() { set(-1); }

 private:
  static void set(int id) {
    std::ofstream("/proc/sys/kernel/shm_next_id") << id << "\n";
  }
};

void check_sysv_segment(bool shmid_zero) {
  json truth;
  std::optional<NextShmid> next;
  if (shmid_zero) {
    // A segment with id 0 would make that shmget fail (ENOSPC): say so plainly.
    bool taken = false;
    std::istringstream lines(read_file("/proc/sysvipc/shm"));
    for (std::string line; std::getline(lines, line);) {
      std::istringstream in(line);
      std::string key, id;
      if (in >> key >> id && id == "0") taken = true;
    }
    ASSERT_FALSE(taken) << "a SysV segment with shmid 0 exists (ipcs -m): remove it to run this test";
    next.emplace(0);
  }
  auto snaps = trace_gen({"--kind", "sysv_shm", "--size", "123456", "--linger-ms", "1500"}, truth);
  if (shmid_zero) {
    EXPECT_EQ(truth.at("shmid"), 0) << truth.dump();
  }
  auto rows = channel_rows(snaps, "sysv_shm:" + std::to_string(truth.at("shmid").get<int>()));
  ASSERT_FALSE(rows.empty()) << truth.dump();
  EXPECT_TRUE(seen_with_both(rows, truth)) << rows.back().dump();
  const json& c = rows.front();
  EXPECT_EQ(c.at("kind"), "sysv_shm");
  EXPECT_EQ(c.at("size"), 123456);
  EXPECT_EQ(c.at("key"), truth.at("key"));
  EXPECT_EQ(c.at("creator"), truth.at("creator"));
  // The last row saw the detaches and IPC_RMID.
  EXPECT_TRUE(attached(rows.back()).empty()) << rows.back().dump();
  EXPECT_EQ(rows.back().at("removed"), true);
}

TEST(Shm, SysvSegmentWithSizeKeyCreatorAndBothAttached) { check_sysv_segment(false); }

// shmid 0 (the first segment after boot) is also the inode number in
// /proc/<pid>/maps; ipctop's first scan of the maps once took it for no file
// and dropped both attachments.
TEST(Shm, SysvSegmentWithShmidZero) { check_sysv_segment(true); }

TEST(Shm, SysvSegmentAttachedBeforeIpctopStarts) {
  TempDir dir;
  pid_t gen = spawn({IPCGEN_BIN, "--kind", "sysv_shm", "--size", "65536", "--linger-ms", "4000"},
                    dir.file("out"), dir.file("err"));
  json truth;
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline) {
    auto lines = parse_ndjson(read_file(dir.file("out")));
    if (!lines.empty()) {
      truth = lines.front();
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_FALSE(truth.is_null()) << read_file(dir.file("err"));
  std::vector<json> snaps;
  {
    Tracer tracer({"--json", "-d", "0.5"});
    ASSERT_TRUE(tracer.wait_attached()) << tracer.err();
    std::this_thread::sleep_for(std::chrono::milliseconds(1200));
    EXPECT_TRUE(tracer.stop().exited);
    snaps = tracer.snapshots();
  }
  Exit e = wait_bounded(gen, std::chrono::seconds(20));
  EXPECT_TRUE(e.exited && e.code == 0) << read_file(dir.file("err"));
  auto rows = channel_rows(snaps, "sysv_shm:" + std::to_string(truth.at("shmid").get<int>()));
  ASSERT_FALSE(rows.empty()) << truth.dump();
  EXPECT_TRUE(seen_with_both(rows, truth)) << rows.front().dump();
  EXPECT_EQ(rows.front().at("size"), 65536);
  EXPECT_EQ(rows.front().at("key"), truth.at("key"));
  EXPECT_EQ(rows.front().at("creator"), truth.at("creator"));
}

TEST(Shm, PosixShmOpenAndMemfdPassedOverUnixSocket) {
  for (const char* kind : {"posix_shm", "memfd"}) {
    SCOPED_TRACE(kind);
    json truth;
    auto snaps = trace_gen({"--kind", kind, "--size", "40960", "--linger-ms", "1500"}, truth);
    const json* c = channel_by_path(snaps, truth.at("path"));
    ASSERT_NE(c, nullptr) << truth.dump();
    EXPECT_EQ(c->at("kind"), "posix_shm");
    EXPECT_EQ(c->at("size"), 40960);
    EXPECT_EQ(attached(*c), truth_pids(truth));
  }
}

// Every post is made once the peer sleeps in sem_wait (ipcgen checks its
// state in /proc), so each one is a futex wake of a queued waiter: exact.
TEST(Shm, SemaphorePingPongWakeupsExact) {
  for (const char* segment : {"posix", "sysv"}) {
    SCOPED_TRACE(segment);
    json truth;
    auto snaps =
        trace_gen({"--kind", "sem_pingpong", "--msgs", "200", "--segment", segment}, truth);
    const std::string kind = truth.at("segment");
    for (const auto& f : truth.at("flows")) {
      SCOPED_TRACE(f.dump());
      SyncTotal t = sum_flows(snaps, kind, f);
      EXPECT_EQ(t.messages, f.at("messages").get<uint64_t>());
      ASSERT_EQ(t.channels.size(), 1u);
      if (kind == "sysv_shm")
        EXPECT_EQ(*t.channels.begin(), "sysv_shm:" + std::to_string(truth.at("shmid").get<int>()));
      else
        EXPECT_EQ(channel_rows(snaps, *t.channels.begin()).front().value("path", ""),
                  truth.at("path"));
    }
    EXPECT_EQ(total_lost(snaps), 0u);
  }
}

TEST(Shm, SemopPingPongWakeupsExact) {
  json truth;
  auto snaps = trace_gen({"--kind", "semop_pingpong", "--msgs", "200"}, truth);
  for (const auto& f : truth.at("flows")) {
    SCOPED_TRACE(f.dump());
    SyncTotal t = sum_flows(snaps, "sysv_shm", f);
    EXPECT_EQ(t.messages, f.at("messages").get<uint64_t>());
    ASSERT_EQ(t.channels.size(), 1u);
    EXPECT_EQ(*t.channels.begin(), "sysv_sem:" + std::to_string(truth.at("semid").get<int>()));
  }
  EXPECT_EQ(total_lost(snaps), 0u);
}

}  // namespace
}  // namespace e2e
