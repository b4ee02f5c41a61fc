// FdPassTracker and the received-descriptor record: synthetic records in,
// channel endpoints out.
#include <gtest/gtest.h>

#include <cstring>

#include "ipctop/abi.h"
#include "model/Decode.h"
#include "model/FdPass.h"

namespace ipctop {
namespace {

class FakeFds final : public FdSource {
 public:
  std::map<std::pair<uint32_t, uint32_t>, uint64_t> open;
  std::optional<uint64_t> fd_inode(uint32_t pid, uint32_t fd) override {
    auto it = open.find({pid, fd});
    if (it == open.end()) return std::nullopt;
    return it->second;
  }
};

FdRecord rec(uint32_t pid, uint32_t fd, uint32_t kind, uint64_t ino, uint32_t flags = 0) {
  FdRecord r;
  r.tgid = r.tid = pid;
  r.fd = fd;
  r.kind = kind;
  r.ino = ino;
  r.flags = flags;
  return r;
}

TaskRecord task(uint16_t type, uint32_t pid, uint32_t ppid = 0) {
  TaskRecord t;
  t.type = type;
  t.tgid = t.tid = pid;
  t.ppid = ppid;
  return t;
}

std::map<std::string, ChannelRow> fill(const FdPassTracker& t) {
  std::map<std::string, ChannelRow> ch;
  t.fill(ch, [](uint32_t) { return true; }, [](uint32_t, const std::string& n) { return n; });
  return ch;
}

std::vector<uint32_t> received(const std::map<std::string, ChannelRow>& ch, const std::string& id) {
  std::vector<uint32_t> pids;
  auto it = ch.find(id);
  if (it == ch.end()) return pids;
  for (const auto& e : it->second.endpoints)
    if (e.role == "received") pids.push_back(e.pid);
  return pids;
}

TEST(FdPassModel, ReceiverIsAnEndpointOfAQuietChannel) {
  FdPassTracker t;
  t.apply(rec(10, 5, IPCTOP_KIND_PIPE, 777));
  auto ch = fill(t);
  ASSERT_TRUE(ch.contains("pipe:[777]"));
  EXPECT_EQ(ch["pipe:[777]"].kind, Kind::pipe);
  EXPECT_EQ(ch["pipe:[777]"].bytes, 0u);
  ASSERT_EQ(ch["pipe:[777]"].endpoints.size(), 1u);
  EXPECT_EQ(ch["pipe:[777]"].endpoints[0].fds, std::vector<uint32_t>{5});
}

TEST(FdPassModel, UnixSocketIsListedOnItsOwnAndItsPeersChannel) {
  FdPassTracker t;
  FdRecord r = rec(10, 5, IPCTOP_KIND_UNIX_STREAM, 100);
  r.peer_ino = 101;
  t.apply(r);
  auto ch = fill(t);
  EXPECT_EQ(received(ch, "unix:[100]"), std::vector<uint32_t>{10});
  EXPECT_EQ(received(ch, "unix:[101]"), std::vector<uint32_t>{10});
}

TEST(FdPassModel, ForkCopiesExecDropsCloexecExitDropsAll) {
  FdPassTracker t;
  t.apply(rec(10, 5, IPCTOP_KIND_PIPE, 1));
  t.apply(rec(10, 6, IPCTOP_KIND_PIPE, 2, 0x40000000));  // MSG_CMSG_CLOEXEC
  t.apply(task(IPCTOP_REC_TASK_NEW, 11, 10));
  auto ch = fill(t);
  EXPECT_EQ(received(ch, "pipe:[1]"), (std::vector<uint32_t>{10, 11}));
  t.apply(task(IPCTOP_REC_TASK_EXEC, 11));
  ch = fill(t);
  EXPECT_EQ(received(ch, "pipe:[2]"), std::vector<uint32_t>{10});
  EXPECT_EQ(received(ch, "pipe:[1]"), (std::vector<uint32_t>{10, 11}));
  t.apply(task(IPCTOP_REC_TASK_EXIT, 10));
  ch = fill(t);
  EXPECT_EQ(received(ch, "pipe:[1]"), std::vector<uint32_t>{11});
  EXPECT_FALSE(ch.contains("pipe:[2]"));
}

TEST(FdPassModel, CloseFoundInProcAtTheRecheck) {
  FakeFds fds;
  FdPassTracker t(&fds);
  t.apply(rec(10, 5, IPCTOP_KIND_PIPE, 1));
  t.apply(rec(10, 6, IPCTOP_KIND_PIPE, 2));
  fds.open[{10, 5}] = 1;
  fds.open[{10, 6}] = 99;  // the number now holds another file
  t.refresh(100);
  EXPECT_EQ(t.holdings(), 1u);
  fds.open.clear();
  t.refresh(101);  // before the recheck interval
  EXPECT_EQ(t.holdings(), 1u);
  t.refresh(103);
  EXPECT_EQ(t.holdings(), 0u);
}

TEST(FdPassModel, HoldingsAreBoundedAndTheRestCounted) {
  FdPassTracker t;
  for (uint32_t i = 0; i < FdPassTracker::kMaxHoldings + 3; ++i) t.apply(rec(10, i, IPCTOP_KIND_PIPE, i));
  EXPECT_EQ(t.holdings(), FdPassTracker::kMaxHoldings);
  EXPECT_EQ(t.take_untracked(), 3u);
  EXPECT_EQ(t.take_untracked(), 0u);
}

TEST(FdPassModel, RecordDecodedAndMalformedRejected) {
  ipctop_rec_fd raw{};
  raw.hdr.type = IPCTOP_REC_FD_RECV;
  raw.hdr.size = sizeof raw;
  raw.hdr.tgid = 7;
  raw.hdr.tid = 8;
  raw.fd = 3;
  raw.kind = IPCTOP_KIND_POSIX_SHM;
  raw.ino = 42;
  std::memcpy(raw.name, "memfd:x", 7);
  auto r = decode_fd_record(&raw, sizeof raw);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->tid, 8u);
  EXPECT_EQ(r->name, "memfd:x");
  EXPECT_FALSE(decode_fd_record(&raw, sizeof raw - 1));
  raw.kind = IPCTOP_KIND_MAX;
  EXPECT_FALSE(decode_fd_record(&raw, sizeof raw));
  raw.kind = IPCTOP_KIND_PIPE;
  raw.hdr.type = IPCTOP_REC_SHM;
  EXPECT_FALSE(decode_fd_record(&raw, sizeof raw));
  EXPECT_FALSE(decode_record(&raw, sizeof raw));
}

}  // namespace
}  // namespace ipctop
