// Privileged end-to-end test of descriptor passing (SCM_RIGHTS): a pipe's
// write end and a memfd passed to a real process, which is an endpoint of
// both channels before it moves anything, and whose later writes are
// attributed to it exactly.
#include "harness.h"

namespace e2e {
namespace {

bool has_endpoint(const json& snap, const std::string& channel, uint64_t pid, const std::string& role) {
  for (const auto& c : snap.at("channels")) {
    if (c.at("id") != channel) continue;
    for (const auto& e : c.at("endpoints"))
      if (e.at("pid") == pid && e.at("role") == role) return true;
  }
  return false;
}

bool has_flow_from(const json& snap, const std::string& channel, uint64_t pid) {
  for (const auto& f : snap.at("flows"))
    if (f.at("channel") == channel && f.at("src").value("pid", uint64_t{0}) == pid) return true;
  return false;
}

TEST(FdPass, ReceiverIsAnEndpointBeforeItWritesAndItsFlowIsExact) {
  Tracer tracer;
  ASSERT_TRUE(tracer.wait_attached()) << tracer.err();
  json truth = run_ipcgen({"--kind", "fdpass", "--msgs", "300", "--size", "1000", "--linger-ms", "1500"});
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  Exit e = tracer.stop();
  ASSERT_TRUE(e.exited && e.code == 0) << tracer.err();
  ASSERT_TRUE(truth.contains("receiver_pid")) << truth.dump();
  const auto snaps = tracer.snapshots();
  const uint64_t r = truth.at("receiver_pid"), parent = truth.at("parent_pid");
  const std::string pipe = "pipe:[" + std::to_string(truth.at("pipe_ino").get<uint64_t>()) + "]";
  const std::string memfd = "posix_shm:" + truth.at("memfd_dev").get<std::string>() + ":" +
                            std::to_string(truth.at("memfd_ino").get<uint64_t>());

  // Received, and nothing written yet: a snapshot in the quiet phase.
  bool pipe_quiet = false, memfd_unmapped = false, mapped = false;
  for (const auto& s : snaps) {
    if (has_flow_from(s, pipe, r)) break;
    if (has_endpoint(s, pipe, r, "received")) pipe_quiet = true;
    if (has_endpoint(s, memfd, r, "received") && !has_endpoint(s, memfd, r, "attached"))
      memfd_unmapped = true;
  }
  for (const auto& s : snaps) mapped = mapped || has_endpoint(s, memfd, r, "attached");
  EXPECT_TRUE(pipe_quiet) << pipe << " never listed " << r << " as received before its first write";
  EXPECT_TRUE(memfd_unmapped) << memfd << " never listed " << r << " as received before it mapped it";
  EXPECT_TRUE(mapped) << memfd << " never listed " << r << " as attached";
  // The descriptor numbers it holds them by.
  for (const auto& s : snaps) {
    for (const auto& c : s.at("channels")) {
      if (c.at("id") != pipe) continue;
      for (const auto& ep : c.at("endpoints")) {
        if (ep.at("role") == "received") {
          EXPECT_TRUE(ep.contains("fds")) << ep.dump();
        }
      }
    }
  }

  // Its writes through the received descriptor: exact.
  auto totals = flow_totals(snaps);
  auto it = totals.find(FlowId{"pipe", r, r, parent, parent});
  ASSERT_NE(it, totals.end()) << "no flow receiver -> parent";
  EXPECT_EQ(it->second.channel, pipe);
  EXPECT_EQ(it->second.bytes, truth.at("bytes").get<uint64_t>());
  EXPECT_EQ(it->second.messages, truth.at("read_calls").get<uint64_t>());
  for (const auto& s : snaps)
    EXPECT_EQ(s.at("lost").at("events"), 0u) << s.at("lost").dump();

  // Gone with the process.
  ASSERT_FALSE(snaps.empty());
  EXPECT_FALSE(has_endpoint(snaps.back(), pipe, r, "received"));
  EXPECT_FALSE(has_endpoint(snaps.back(), memfd, r, "received"));
}

}  // namespace
}  // namespace e2e
