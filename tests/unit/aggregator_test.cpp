// Aggregator: cumulative kernel counters -> per-interval Snapshot, with names
// from a fake NameSource.
#include "model/Aggregator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace {

using ipctop::Aggregator;
using ipctop::ChannelRow;
using ipctop::CpuCounters;
using ipctop::EndpointRow;
using ipctop::Filter;
using ipctop::FlowRow;
using ipctop::FlowSample;
using ipctop::GcPlan;
using ipctop::KernelSample;
using ipctop::Kind;
using ipctop::NameSource;
using ipctop::ProcessRow;
using ipctop::Snapshot;
using ipctop::TaskRecord;
using ipctop::ThreadCounters;
using ipctop::ThreadRow;
using ipctop::ThreadSample;

class FakeNames : public NameSource {
 public:
  std::map<std::pair<uint32_t, uint32_t>, std::string> comms;  // (pid, tid)
  std::map<uint32_t, uint32_t> ppids;
  std::map<uint32_t, std::vector<std::string>> cmdlines;
  std::map<std::tuple<Kind, uint64_t, uint32_t>, std::string> paths;
  std::vector<std::set<uint32_t>> path_queries;  // the pids of each channel_path call
  int comm_calls = 0;

  std::optional<std::string> comm(uint32_t pid, uint32_t tid) override {
    ++comm_calls;
    auto it = comms.find({pid, tid});
    if (it == comms.end()) return std::nullopt;
    return it->second;
  }
  std::optional<uint32_t> ppid(uint32_t pid) override {
    auto it = ppids.find(pid);
    if (it == ppids.end()) return std::nullopt;
    return it->second;
  }
  std::vector<std::string> cmdline(uint32_t pid) override {
    auto it = cmdlines.find(pid);
    return it == cmdlines.end() ? std::vector<std::string>{} : it->second;
  }
  std::string channel_path(Kind kind, uint64_t ino, uint32_t dev,
                           const std::set<uint32_t>& pids) override {
    path_queries.push_back(pids);
    auto it = paths.find({kind, ino, dev});
    return it == paths.end() ? std::string{} : it->second;
  }
};

constexpr size_t kCpus = 4;

ipctop_flow_key Key(uint32_t kind, uint64_t ino, uint32_t dev, uint32_t src_tgid,
                    uint32_t src_tid, uint32_t dst_tgid, uint32_t dst_tid, uint32_t src_cpu = 0,
                    uint32_t dst_cpu = 0) {
  ipctop_flow_key k{};
  k.chan_ino = ino;
  k.chan_dev = dev;
  k.kind = kind;
  k.src_tgid = src_tgid;
  k.src_tid = src_tid;
  k.dst_tgid = dst_tgid;
  k.dst_tid = dst_tid;
  k.src_cpu = src_cpu;
  k.dst_cpu = dst_cpu;
  return k;
}

FlowSample Flow(const ipctop_flow_key& k, uint64_t bytes, uint64_t messages) {
  FlowSample f;
  f.key = k;
  f.bytes = bytes;
  f.messages = messages;
  return f;
}

// Scheduler counters of one thread on one CPU (IPC bytes come from flows).
ThreadCounters Counters(uint64_t switches) {
  ThreadCounters c;
  c.switches = switches;
  c.voluntary = switches - switches / 3;
  c.involuntary = switches / 3;
  c.oncpu_ns = switches * 1000;
  return c;
}

ThreadSample Thread(uint32_t tgid, uint32_t tid, std::map<size_t, ThreadCounters> per_cpu) {
  ThreadSample t;
  t.tid = tid;
  t.tgid = tgid;
  t.per_cpu.resize(kCpus);
  for (const auto& [cpu, c] : per_cpu) t.per_cpu.at(cpu) = c;
  return t;
}

KernelSample Empty(double time = 1000.0) {
  KernelSample s;
  s.time = time;
  s.cpus.assign(kCpus, CpuCounters{});
  return s;
}

TaskRecord Rec(uint16_t type, uint32_t tgid, uint32_t tid, std::string comm, uint32_t ppid = 0) {
  TaskRecord r;
  r.type = type;
  r.tgid = tgid;
  r.tid = tid;
  r.ppid = ppid;
  r.comm = std::move(comm);
  return r;
}

const ProcessRow* FindProcess(const Snapshot& s, uint32_t pid) {
  for (const auto& p : s.processes)
    if (p.pid == pid) return &p;
  return nullptr;
}

const ThreadRow* FindThread(const Snapshot& s, uint32_t tid) {
  for (const auto& p : s.processes)
    for (const auto& t : p.threads)
      if (t.tid == tid) return &t;
  return nullptr;
}

const ChannelRow* FindChannel(const Snapshot& s, const std::string& id) {
  for (const auto& c : s.channels)
    if (c.id == id) return &c;
  return nullptr;
}

std::vector<const FlowRow*> FlowsOn(const Snapshot& s, const std::string& channel) {
  std::vector<const FlowRow*> out;
  for (const auto& f : s.flows)
    if (f.channel == channel) out.push_back(&f);
  return out;
}

uint64_t Sum(const std::map<uint32_t, uint64_t>& m) {
  uint64_t n = 0;
  for (const auto& [k, v] : m) n += v;
  return n;
}

bool Contains(const std::vector<ipctop_flow_key>& keys, const ipctop_flow_key& k) {
  ipctop::FlowKeyEq eq;
  return std::any_of(keys.begin(), keys.end(), [&](const auto& x) { return eq(x, k); });
}

class AggregatorTest : public testing::Test {
 protected:
  void SetUp() override {
    names.comms[{100, 100}] = "writer";
    names.comms[{100, 101}] = "writer-io";
    names.comms[{200, 200}] = "reader";
    names.comms[{200, 201}] = "reader-io";
    names.comms[{300, 300}] = "third";
    names.ppids[100] = 1;
    names.ppids[200] = 100;
    names.ppids[300] = 1;
    names.cmdlines[100] = {"/usr/bin/writer", "--fast"};
    names.cmdlines[200] = {"reader"};
  }

  FakeNames names;
};

// ---------------------------------------------------------------- deltas

TEST_F(AggregatorTest, FirstSampleCountsEverythingSinceAttachThenDeltas) {
  Aggregator agg(names, Filter{});
  KernelSample s = Empty(1000.5);
  s.threads.push_back(Thread(100, 101, {{0, Counters(30)}, {2, Counters(6)}}));
  s.cpus[0][IPCTOP_CNT_VOLUNTARY] = 35;
  s.cpus[0][IPCTOP_CNT_INVOLUNTARY] = 15;
  s.cpus[2][IPCTOP_CNT_INVOLUNTARY] = 9;
  // Sent from CPU 0 and CPU 2, received on CPU 1.
  const auto k0 = Key(IPCTOP_KIND_PIPE, 42, 0, 100, 101, 200, 201, 0, 1);
  const auto k2 = Key(IPCTOP_KIND_PIPE, 42, 0, 100, 101, 200, 201, 2, 1);
  s.flows.push_back(Flow(k0, 500, 5));
  s.flows.push_back(Flow(k2, 100, 1));

  Snapshot a = agg.update(s, 1.0);
  EXPECT_DOUBLE_EQ(a.time, 1000.5);
  EXPECT_DOUBLE_EQ(a.interval_s, 1.0);
  const ThreadRow* t = FindThread(a, 101);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->ctx_switches, 36u);
  EXPECT_EQ(t->voluntary, 20u + 4u);
  EXPECT_EQ(t->involuntary, 10u + 2u);
  EXPECT_EQ(t->oncpu_ns, 36000u);
  EXPECT_EQ(t->tx_bytes, 600u);
  EXPECT_EQ(t->tx_messages, 6u);
  EXPECT_EQ(t->rx_bytes, 0u);
  EXPECT_EQ(t->rx_messages, 0u);
  // The reader has no scheduler counters in the sample, but moved data.
  const ThreadRow* r = FindThread(a, 201);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->rx_bytes, 600u);
  EXPECT_EQ(r->rx_messages, 6u);
  EXPECT_EQ(r->ctx_switches, 0u);
  ASSERT_EQ(a.cpus.size(), kCpus);
  EXPECT_EQ(a.cpus[0].cpu, 0u);
  EXPECT_EQ(a.cpus[0].ctx_switches, 50u);
  EXPECT_EQ(a.cpus[0].voluntary, 35u);
  EXPECT_EQ(a.cpus[0].involuntary, 15u);
  // Idle is the interval less the threads' run time on that CPU.
  EXPECT_EQ(a.cpus[0].idle_ns, 1'000'000'000u - 30'000u);
  EXPECT_EQ(a.cpus[0].tx_bytes, 500u);
  EXPECT_EQ(a.cpus[0].rx_bytes, 0u);
  EXPECT_EQ(a.cpus[1].tx_bytes, 0u);
  EXPECT_EQ(a.cpus[1].rx_bytes, 600u);
  EXPECT_EQ(a.cpus[2].cpu, 2u);
  EXPECT_EQ(a.cpus[2].ctx_switches, 9u);
  EXPECT_EQ(a.cpus[2].tx_bytes, 100u);
  ASSERT_EQ(a.flows.size(), 1u);
  EXPECT_EQ(a.flows[0].bytes, 600u);
  EXPECT_EQ(a.flows[0].messages, 6u);

  // Second sample: the counters grew; only the growth is reported.
  KernelSample s2 = Empty(1001.5);
  s2.threads.push_back(Thread(100, 101, {{0, Counters(33)}, {2, Counters(6)}}));
  s2.cpus = s.cpus;
  s2.cpus[0][IPCTOP_CNT_VOLUNTARY] = 37;
  s2.cpus[0][IPCTOP_CNT_INVOLUNTARY] = 16;
  s2.flows.push_back(Flow(k0, 800, 8));
  s2.flows.push_back(Flow(k2, 100, 1));
  Snapshot b = agg.update(s2, 0.98);
  EXPECT_DOUBLE_EQ(b.time, 1001.5);
  EXPECT_DOUBLE_EQ(b.interval_s, 0.98);
  t = FindThread(b, 101);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->ctx_switches, 3u);
  EXPECT_EQ(t->voluntary, 2u);
  EXPECT_EQ(t->involuntary, 1u);
  EXPECT_EQ(t->oncpu_ns, 3000u);
  EXPECT_EQ(t->tx_bytes, 300u);
  EXPECT_EQ(t->tx_messages, 3u);
  EXPECT_EQ(b.cpus[0].ctx_switches, 3u);
  EXPECT_EQ(b.cpus[0].voluntary, 2u);
  EXPECT_EQ(b.cpus[0].involuntary, 1u);
  EXPECT_EQ(b.cpus[0].idle_ns, 980'000'000u - 3'000u);
  EXPECT_EQ(b.cpus[0].tx_bytes, 300u);
  EXPECT_EQ(b.cpus[1].rx_bytes, 300u);
  EXPECT_EQ(b.cpus[2].ctx_switches, 0u);
  EXPECT_EQ(b.cpus[2].tx_bytes, 0u);
  ASSERT_EQ(b.flows.size(), 1u);
  EXPECT_EQ(b.flows[0].bytes, 300u);
  EXPECT_EQ(b.flows[0].messages, 3u);
  EXPECT_EQ(b.flows[0].cpus, (std::map<uint32_t, uint64_t>{{0, 300}}));
  EXPECT_EQ(FindThread(b, 201)->rx_bytes, 300u);

  // Third sample: nothing moved. Idle threads and flows are not reported.
  KernelSample s3 = s2;
  Snapshot c = agg.update(s3, 1.0);
  EXPECT_TRUE(c.processes.empty());
  EXPECT_TRUE(c.flows.empty());
  EXPECT_TRUE(c.channels.empty());
  for (const auto& cpu : c.cpus) {
    EXPECT_EQ(cpu.ctx_switches, 0u);
    EXPECT_EQ(cpu.tx_bytes, 0u);
    EXPECT_EQ(cpu.rx_bytes, 0u);
  }
}

TEST_F(AggregatorTest, MessagesWithoutBytesStillMakeAFlow) {
  Aggregator agg(names, Filter{});
  KernelSample s = Empty();
  s.flows.push_back(Flow(Key(IPCTOP_KIND_UNIX_DGRAM, 9, 0, 100, 100, 200, 200), 0, 2));
  Snapshot a = agg.update(s, 1);
  ASSERT_EQ(a.flows.size(), 1u);
  EXPECT_EQ(a.flows[0].bytes, 0u);
  EXPECT_EQ(a.flows[0].messages, 2u);
}

// ---------------------------------------------------------------- flows

TEST_F(AggregatorTest, PerCpuPairKeysMergeIntoOneRow) {
  Aggregator agg(names, Filter{});
  KernelSample s = Empty();
  s.flows.push_back(Flow(Key(IPCTOP_KIND_PIPE, 42, 0, 100, 101, 200, 201, 0, 1), 100, 1));
  s.flows.push_back(Flow(Key(IPCTOP_KIND_PIPE, 42, 0, 100, 101, 200, 201, 0, 2), 50, 2));
  s.flows.push_back(Flow(Key(IPCTOP_KIND_PIPE, 42, 0, 100, 101, 200, 201, 3, 1), 25, 3));
  // Same channel and writer, another reader thread: another row.
  s.flows.push_back(Flow(Key(IPCTOP_KIND_PIPE, 42, 0, 100, 101, 200, 200, 1, 1), 7, 1));
  Snapshot a = agg.update(s, 1);

  auto rows = FlowsOn(a, "pipe:[42]");
  ASSERT_EQ(rows.size(), 2u);
  const FlowRow* main = rows[0]->dst.tid == 201 ? rows[0] : rows[1];
  const FlowRow* other = rows[0]->dst.tid == 201 ? rows[1] : rows[0];
  EXPECT_EQ(main->kind, Kind::pipe);
  EXPECT_EQ(main->src.pid, 100u);
  EXPECT_EQ(main->src.tid, 101u);
  EXPECT_EQ(main->src.comm, "writer-io");
  EXPECT_EQ(main->dst.pid, 200u);
  EXPECT_EQ(main->dst.tid, 201u);
  EXPECT_EQ(main->dst.comm, "reader-io");
  EXPECT_EQ(main->bytes, 175u);
  EXPECT_EQ(main->messages, 6u);
  EXPECT_EQ(main->cpus, (std::map<uint32_t, uint64_t>{{0, 150}, {3, 25}}));
  EXPECT_EQ(main->rx_cpus, (std::map<uint32_t, uint64_t>{{1, 125}, {2, 50}}));
  EXPECT_EQ(other->bytes, 7u);
  EXPECT_EQ(other->cpus, (std::map<uint32_t, uint64_t>{{1, 7}}));
  EXPECT_EQ(other->rx_cpus, (std::map<uint32_t, uint64_t>{{1, 7}}));

  const ChannelRow* ch = FindChannel(a, "pipe:[42]");
  ASSERT_NE(ch, nullptr);
  EXPECT_EQ(ch->bytes, 182u);
  EXPECT_EQ(ch->messages, 7u);
  ASSERT_EQ(a.channels.size(), 1u);

  // Second interval: only one CPU pair moved.
  KernelSample s2 = s;
  s2.flows[1].bytes += 10;
  s2.flows[1].messages += 1;
  Snapshot b = agg.update(s2, 1);
  ASSERT_EQ(b.flows.size(), 1u);
  EXPECT_EQ(b.flows[0].bytes, 10u);
  EXPECT_EQ(b.flows[0].messages, 1u);
  EXPECT_EQ(b.flows[0].cpus, (std::map<uint32_t, uint64_t>{{0, 10}}));
  EXPECT_EQ(b.flows[0].rx_cpus, (std::map<uint32_t, uint64_t>{{2, 10}}));
}

TEST_F(AggregatorTest, SameThreadsOnDifferentChannelsAreDifferentFlows) {
  Aggregator agg(names, Filter{});
  KernelSample s = Empty();
  s.flows.push_back(Flow(Key(IPCTOP_KIND_PIPE, 42, 0, 100, 100, 200, 200), 1, 1));
  s.flows.push_back(Flow(Key(IPCTOP_KIND_PIPE, 43, 0, 100, 100, 200, 200), 2, 1));
  s.flows.push_back(Flow(Key(IPCTOP_KIND_FIFO, 42, 5, 100, 100, 200, 200), 4, 1));
  s.flows.push_back(Flow(Key(IPCTOP_KIND_FIFO, 42, 6, 100, 100, 200, 200), 8, 1));
  Snapshot a = agg.update(s, 1);
  EXPECT_EQ(a.flows.size(), 4u);
  EXPECT_EQ(a.channels.size(), 4u);
}

TEST_F(AggregatorTest, UnknownKindIsIgnored) {
  Aggregator agg(names, Filter{});
  KernelSample s = Empty();
  s.flows.push_back(Flow(Key(IPCTOP_KIND_NONE, 1, 0, 100, 100, 200, 200), 10, 1));
  s.flows.push_back(Flow(Key(IPCTOP_KIND_MAX, 1, 0, 100, 100, 200, 200), 10, 1));
  s.flows.push_back(Flow(Key(0xffffffffu, 1, 0, 100, 100, 200, 200), 10, 1));
  Snapshot a = agg.update(s, 1);
  EXPECT_TRUE(a.flows.empty());
  EXPECT_TRUE(a.channels.empty());
}

// ---------------------------------------------------------------- channels

TEST(AggregatorChannelId, Formats) {
  EXPECT_EQ(ipctop::channel_id(Kind::pipe, 42, 0), "pipe:[42]");
  EXPECT_EQ(ipctop::channel_id(Kind::pipe, UINT64_MAX, 0), "pipe:[18446744073709551615]");
  // The kernel's dev_t: 12 bits of major above 20 bits of minor.
  EXPECT_EQ(ipctop::channel_id(Kind::fifo, 77, (8u << 20) | 3u), "fifo:8:3:77");
  EXPECT_EQ(ipctop::channel_id(Kind::fifo, 5, (259u << 20) | 0xfffffu), "fifo:259:1048575:5");
  EXPECT_EQ(ipctop::channel_id(Kind::fifo, 1, 0xffffffffu), "fifo:4095:1048575:1");
  EXPECT_EQ(ipctop::channel_id(Kind::fifo, 12, 0), "fifo:0:0:12");
  // Not the user-space (glibc) encoding: 0x801 is 0:2049 in the kernel's.
  EXPECT_EQ(ipctop::channel_id(Kind::fifo, 12, 0x801), "fifo:0:2049:12");
  EXPECT_EQ(ipctop::channel_id(Kind::unix_stream, 9, 0), "unix:[9]");
  EXPECT_EQ(ipctop::channel_id(Kind::unix_dgram, 10, 0), "unix:[10]");
  EXPECT_EQ(ipctop::channel_id(Kind::unix_seqpacket, 11, 0), "unix:[11]");
}

TEST_F(AggregatorTest, ChannelsCarryIdKindPathAndEndpointRoles) {
  const uint32_t dev = (0u << 20) | 27u;
  names.paths[{Kind::fifo, 77, dev}] = "/run/app.fifo";
  names.paths[{Kind::unix_stream, 9, 0}] = "/run/app.sock";
  names.paths[{Kind::unix_dgram, 10, 0}] = "/dev/log";
  names.paths[{Kind::unix_seqpacket, 11, 0}] = "@abstract";
  Aggregator agg(names, Filter{});
  KernelSample s = Empty();
  s.flows.push_back(Flow(Key(IPCTOP_KIND_PIPE, 42, 0, 100, 101, 200, 201), 10, 1));
  s.flows.push_back(Flow(Key(IPCTOP_KIND_FIFO, 77, dev, 100, 101, 200, 201), 20, 1));
  s.flows.push_back(Flow(Key(IPCTOP_KIND_UNIX_STREAM, 9, 0, 100, 101, 200, 201), 30, 1));
  s.flows.push_back(Flow(Key(IPCTOP_KIND_UNIX_DGRAM, 10, 0, 100, 101, 200, 201), 40, 2));
  s.flows.push_back(Flow(Key(IPCTOP_KIND_UNIX_SEQPACKET, 11, 0, 100, 101, 200, 201), 50, 3));
  Snapshot a = agg.update(s, 1);
  ASSERT_EQ(a.channels.size(), 5u);

  struct Want {
    std::string id;
    Kind kind;
    std::string path;
    uint64_t bytes;
    const char* src_role;
    const char* dst_role;
  };
  const Want wants[] = {
      {"pipe:[42]", Kind::pipe, "", 10, "writer", "reader"},
      {"fifo:0:27:77", Kind::fifo, "/run/app.fifo", 20, "writer", "reader"},
      {"unix:[9]", Kind::unix_stream, "/run/app.sock", 30, "writer", "reader"},
      {"unix:[10]", Kind::unix_dgram, "/dev/log", 40, "sender", "receiver"},
      {"unix:[11]", Kind::unix_seqpacket, "@abstract", 50, "sender", "receiver"},
  };
  for (const auto& w : wants) {
    SCOPED_TRACE(w.id);
    const ChannelRow* ch = FindChannel(a, w.id);
    ASSERT_NE(ch, nullptr);
    EXPECT_EQ(ch->kind, w.kind);
    EXPECT_EQ(ch->path, w.path);
    EXPECT_EQ(ch->bytes, w.bytes);
    std::vector<EndpointRow> want_eps = {{100, 101, w.src_role}, {200, 201, w.dst_role}};
    std::sort(want_eps.begin(), want_eps.end());
    ASSERT_EQ(ch->endpoints.size(), 2u);
    for (size_t i = 0; i < 2; ++i) {
      EXPECT_EQ(ch->endpoints[i].pid, want_eps[i].pid);
      EXPECT_EQ(ch->endpoints[i].tid, want_eps[i].tid);
      EXPECT_EQ(ch->endpoints[i].role, want_eps[i].role);
    }
    auto rows = FlowsOn(a, w.id);
    ASSERT_EQ(rows.size(), 1u);
    EXPECT_EQ(rows[0]->kind, w.kind);
  }
  // Pipes have no path to look up; the others were asked with their endpoints' pids.
  ASSERT_EQ(names.path_queries.size(), 4u);
  for (const auto& pids : names.path_queries) EXPECT_EQ(pids, (std::set<uint32_t>{100, 200}));
}

TEST_F(AggregatorTest, EndpointsAreUniqueAndSorted) {
  Aggregator agg(names, Filter{});
  KernelSample s = Empty();
  // Two writers, one reader, several CPU pairs each.
  s.flows.push_back(Flow(Key(IPCTOP_KIND_PIPE, 42, 0, 300, 300, 200, 201, 0, 0), 1, 1));
  s.flows.push_back(Flow(Key(IPCTOP_KIND_PIPE, 42, 0, 300, 300, 200, 201, 1, 0), 1, 1));
  s.flows.push_back(Flow(Key(IPCTOP_KIND_PIPE, 42, 0, 100, 101, 200, 201, 0, 0), 1, 1));
  s.flows.push_back(Flow(Key(IPCTOP_KIND_PIPE, 42, 0, 100, 100, 200, 201, 0, 3), 1, 1));
  Snapshot a = agg.update(s, 1);
  const ChannelRow* ch = FindChannel(a, "pipe:[42]");
  ASSERT_NE(ch, nullptr);
  ASSERT_EQ(ch->endpoints.size(), 4u);
  EXPECT_TRUE(std::is_sorted(ch->endpoints.begin(), ch->endpoints.end()));
  EXPECT_EQ(ch->endpoints[0].tid, 100u);
  EXPECT_EQ(ch->endpoints[0].role, "writer");
  EXPECT_EQ(ch->endpoints[1].tid, 101u);
  EXPECT_EQ(ch->endpoints[2].tid, 201u);
  EXPECT_EQ(ch->endpoints[2].role, "reader");
  EXPECT_EQ(ch->endpoints[3].tid, 300u);
  EXPECT_EQ(ch->bytes, 4u);
}

TEST_F(AggregatorTest, ThreadTalkingToItselfHasBothRoles) {
  Aggregator agg(names, Filter{});
  KernelSample s = Empty();
  s.flows.push_back(Flow(Key(IPCTOP_KIND_PIPE, 42, 0, 100, 100, 100, 100), 5, 1));
  Snapshot a = agg.update(s, 1);
  ASSERT_EQ(a.channels.size(), 1u);
  ASSERT_EQ(a.channels[0].endpoints.size(), 2u);
  EXPECT_EQ(a.channels[0].endpoints[0].role, "reader");
  EXPECT_EQ(a.channels[0].endpoints[1].role, "writer");
}

// ---------------------------------------------------------------- processes

TEST_F(AggregatorTest, ProcessesAreGroupedFromThreads) {
  Aggregator agg(names, Filter{});
  KernelSample s = Empty();
  s.threads.push_back(Thread(200, 201, {{1, Counters(4)}}));
  s.threads.push_back(Thread(100, 101, {{0, Counters(5)}, {1, Counters(1)}}));
  s.threads.push_back(Thread(100, 100, {{2, Counters(2)}}));
  s.threads.push_back(Thread(200, 200, {{3, Counters(3)}}));
  // 100/101 writes 300 + 20 to 200/201; 100/100 writes 5 to 200/201 and reads 10 from 200/201.
  s.flows.push_back(Flow(Key(IPCTOP_KIND_PIPE, 1, 0, 100, 101, 200, 201, 0, 1), 300, 3));
  s.flows.push_back(Flow(Key(IPCTOP_KIND_PIPE, 1, 0, 100, 101, 200, 201, 1, 1), 20, 1));
  s.flows.push_back(Flow(Key(IPCTOP_KIND_PIPE, 1, 0, 100, 100, 200, 201, 2, 1), 5, 1));
  s.flows.push_back(Flow(Key(IPCTOP_KIND_PIPE, 2, 0, 200, 201, 100, 100, 1, 2), 10, 2));
  Snapshot a = agg.update(s, 1);

  ASSERT_EQ(a.processes.size(), 2u);
  EXPECT_EQ(a.processes[0].pid, 100u);  // sorted by pid
  EXPECT_EQ(a.processes[1].pid, 200u);
  const ProcessRow& p = a.processes[0];
  EXPECT_EQ(p.ppid, 1u);
  EXPECT_EQ(p.comm, "writer");
  EXPECT_EQ(p.cmdline, (std::vector<std::string>{"/usr/bin/writer", "--fast"}));
  EXPECT_FALSE(p.exited);
  ASSERT_EQ(p.threads.size(), 2u);
  EXPECT_EQ(p.threads[0].tid, 100u);  // sorted by tid
  EXPECT_EQ(p.threads[0].comm, "writer");
  EXPECT_EQ(p.threads[0].tx_bytes, 5u);
  EXPECT_EQ(p.threads[0].rx_bytes, 10u);
  EXPECT_EQ(p.threads[0].rx_messages, 2u);
  EXPECT_EQ(p.threads[1].tid, 101u);
  EXPECT_EQ(p.threads[1].comm, "writer-io");
  EXPECT_EQ(p.threads[1].ctx_switches, 6u);
  EXPECT_EQ(p.threads[1].tx_bytes, 320u);
  EXPECT_EQ(p.threads[1].tx_messages, 4u);
  EXPECT_EQ(p.tx_bytes, 325u);
  EXPECT_EQ(p.rx_bytes, 10u);
  const ProcessRow& q = a.processes[1];
  EXPECT_EQ(q.ppid, 100u);
  EXPECT_EQ(q.comm, "reader");
  EXPECT_EQ(q.tx_bytes, 10u);
  EXPECT_EQ(q.rx_bytes, 325u);
  ASSERT_EQ(q.threads.size(), 2u);
  EXPECT_EQ(q.threads[0].tid, 200u);
  EXPECT_EQ(q.threads[0].ctx_switches, 3u);
  EXPECT_EQ(q.threads[0].tx_bytes, 0u);
  EXPECT_EQ(q.threads[1].tid, 201u);
  EXPECT_EQ(q.threads[1].rx_bytes, 325u);
  EXPECT_EQ(q.threads[1].rx_messages, 5u);
}

TEST_F(AggregatorTest, ProcessOnlySeenInAFlowGetsARow) {
  Aggregator agg(names, Filter{});
  KernelSample s = Empty();
  s.flows.push_back(Flow(Key(IPCTOP_KIND_PIPE, 42, 0, 100, 101, 200, 201), 9, 1));
  Snapshot a = agg.update(s, 1);
  ASSERT_EQ(a.processes.size(), 2u);
  EXPECT_EQ(a.processes[0].pid, 100u);
  EXPECT_EQ(a.processes[0].comm, "writer");
  EXPECT_EQ(a.processes[0].ppid, 1u);
  ASSERT_EQ(a.processes[0].threads.size(), 1u);
  EXPECT_EQ(a.processes[0].threads[0].tid, 101u);
  EXPECT_EQ(a.processes[0].threads[0].comm, "writer-io");
  EXPECT_EQ(a.processes[0].threads[0].tx_bytes, 9u);
  EXPECT_EQ(a.processes[0].threads[0].ctx_switches, 0u);
  EXPECT_EQ(a.processes[0].tx_bytes, 9u);
  EXPECT_EQ(a.processes[1].pid, 200u);
  EXPECT_EQ(a.processes[1].comm, "reader");
  EXPECT_EQ(a.processes[1].rx_bytes, 9u);
}

TEST_F(AggregatorTest, ExitedProcessIsReportedInItsLastInterval) {
  Aggregator agg(names, Filter{});
  KernelSample s = Empty();
  s.threads.push_back(Thread(100, 100, {{0, Counters(5)}}));
  Snapshot a = agg.update(s, 1);
  ASSERT_NE(FindProcess(a, 100), nullptr);
  EXPECT_FALSE(FindProcess(a, 100)->exited);

  // It exits: its exit record and its last counters arrive together.
  names.comms.erase({100, 100});  // /proc/100 is gone
  names.ppids.erase(100);
  KernelSample s2 = Empty();
  s2.threads.push_back(Thread(100, 100, {{0, Counters(8)}}));
  s2.records.push_back(Rec(IPCTOP_REC_TASK_EXIT, 100, 100, "writer"));
  Snapshot b = agg.update(s2, 1);
  const ProcessRow* p = FindProcess(b, 100);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(p->exited);
  EXPECT_EQ(p->comm, "writer");
  EXPECT_EQ(p->ppid, 1u);
  const ThreadRow* t = FindThread(b, 100);
  ASSERT_NE(t, nullptr);
  EXPECT_TRUE(t->exited);
  EXPECT_EQ(t->ctx_switches, 3u);
}

// A process that was already running when ipctop attached, sleeping, is first
// seen in the interval it exits in: by then /proc has forgotten it, and the
// exit record is the only source of its name.
TEST_F(AggregatorTest, ProcessFirstSeenInTheIntervalItExitsKeepsItsName) {
  Aggregator agg(names, Filter{});
  KernelSample s = Empty();
  s.threads.push_back(Thread(700, 700, {{1, Counters(2)}}));
  s.records.push_back(Rec(IPCTOP_REC_TASK_EXIT, 700, 700, "sleepy-daemon"));
  Snapshot a = agg.update(s, 1);
  const ProcessRow* p = FindProcess(a, 700);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(p->exited);
  const ThreadRow* t = FindThread(a, 700);
  ASSERT_NE(t, nullptr);
  EXPECT_TRUE(t->exited);
  EXPECT_EQ(t->comm, "sleepy-daemon");
  EXPECT_EQ(p->comm, "sleepy-daemon") << "the process row lost the name its exit record carried";
}

TEST_F(AggregatorTest, ShortLivedProcessBornAndDeadInOneInterval) {
  Aggregator agg(names, Filter{});
  KernelSample s = Empty();
  s.records.push_back(Rec(IPCTOP_REC_TASK_NEW, 800, 800, "sh", 100));
  s.records.push_back(Rec(IPCTOP_REC_TASK_EXEC, 800, 800, "true", 100));
  s.records.push_back(Rec(IPCTOP_REC_TASK_EXIT, 800, 800, "true"));
  s.threads.push_back(Thread(800, 800, {{0, Counters(3)}}));
  Snapshot a = agg.update(s, 1);
  const ProcessRow* p = FindProcess(a, 800);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(p->exited);
  EXPECT_EQ(p->comm, "true");
  EXPECT_EQ(p->ppid, 100u);
  EXPECT_TRUE(FindThread(a, 800)->exited);
}

TEST_F(AggregatorTest, ThreadExitIsNotAProcessExit) {
  Aggregator agg(names, Filter{});
  KernelSample s = Empty();
  s.threads.push_back(Thread(100, 100, {{0, Counters(1)}}));
  s.threads.push_back(Thread(100, 101, {{0, Counters(1)}}));
  s.records.push_back(Rec(IPCTOP_REC_TASK_EXIT, 100, 101, "writer-io"));
  Snapshot a = agg.update(s, 1);
  const ProcessRow* p = FindProcess(a, 100);
  ASSERT_NE(p, nullptr);
  EXPECT_FALSE(p->exited);
  EXPECT_FALSE(FindThread(a, 100)->exited);
  EXPECT_TRUE(FindThread(a, 101)->exited);
}

// ---------------------------------------------------------------- names from records

TEST_F(AggregatorTest, RecordsOverrideProcNames) {
  Aggregator agg(names, Filter{});
  KernelSample s = Empty();
  s.threads.push_back(Thread(100, 101, {{0, Counters(1)}}));
  s.threads.push_back(Thread(100, 100, {{0, Counters(1)}}));
  Snapshot a = agg.update(s, 1);
  EXPECT_EQ(FindThread(a, 101)->comm, "writer-io");
  EXPECT_EQ(FindProcess(a, 100)->comm, "writer");

  // The thread renames itself (prctl PR_SET_NAME); /proc would say so too
  // later, but the record is what counts.
  KernelSample s2 = Empty();
  s2.threads.push_back(Thread(100, 101, {{0, Counters(2)}}));
  s2.records.push_back(Rec(IPCTOP_REC_TASK_RENAME, 100, 101, "renamed"));
  s2.flows.push_back(Flow(Key(IPCTOP_KIND_PIPE, 42, 0, 100, 101, 200, 201), 3, 1));
  Snapshot b = agg.update(s2, 1);
  EXPECT_EQ(FindThread(b, 101)->comm, "renamed");
  EXPECT_EQ(FindProcess(b, 100)->comm, "writer") << "a non-leader rename is not the process";
  ASSERT_EQ(b.flows.size(), 1u);
  EXPECT_EQ(b.flows[0].src.comm, "renamed");

  // The leader renames itself: the process name follows.
  KernelSample s3 = Empty();
  s3.threads.push_back(Thread(100, 100, {{0, Counters(2)}}));
  s3.records.push_back(Rec(IPCTOP_REC_TASK_RENAME, 100, 100, "leader-new"));
  Snapshot c = agg.update(s3, 1);
  EXPECT_EQ(FindProcess(c, 100)->comm, "leader-new");
  EXPECT_EQ(FindThread(c, 100)->comm, "leader-new");

  // exec: new name, new cmdline, new parent if the record has one.
  names.cmdlines[100] = {"/bin/other", "-x"};
  KernelSample s4 = Empty();
  s4.threads.push_back(Thread(100, 100, {{0, Counters(3)}}));
  s4.records.push_back(Rec(IPCTOP_REC_TASK_EXEC, 100, 100, "other", 42));
  Snapshot d = agg.update(s4, 1);
  const ProcessRow* p = FindProcess(d, 100);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->comm, "other");
  EXPECT_EQ(p->ppid, 42u);
  EXPECT_EQ(p->cmdline, (std::vector<std::string>{"/bin/other", "-x"}));
  EXPECT_EQ(FindThread(d, 100)->comm, "other");
}

TEST_F(AggregatorTest, NewTaskRecordNamesBeatProc) {
  names.comms[{900, 900}] = "from-proc";
  names.comms[{900, 901}] = "from-proc-t";
  names.ppids[900] = 555;
  Aggregator agg(names, Filter{});
  KernelSample s = Empty();
  s.records.push_back(Rec(IPCTOP_REC_TASK_NEW, 900, 900, "from-record", 100));
  s.records.push_back(Rec(IPCTOP_REC_TASK_NEW, 900, 901, "from-record-t", 100));
  s.threads.push_back(Thread(900, 900, {{0, Counters(1)}}));
  s.threads.push_back(Thread(900, 901, {{0, Counters(1)}}));
  Snapshot a = agg.update(s, 1);
  const ProcessRow* p = FindProcess(a, 900);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->comm, "from-record");
  EXPECT_EQ(p->ppid, 100u);
  EXPECT_EQ(FindThread(a, 900)->comm, "from-record");
  EXPECT_EQ(FindThread(a, 901)->comm, "from-record-t");
}

// A process running since before ipctop attached renames its main thread
// before ipctop has seen it otherwise: the name comes from the record, the
// parent still from /proc.
TEST_F(AggregatorTest, RenameOfAnUnseenProcessKeepsItsParent) {
  Aggregator agg(names, Filter{});
  KernelSample s = Empty();
  s.records.push_back(Rec(IPCTOP_REC_TASK_RENAME, 300, 300, "third-new"));
  s.threads.push_back(Thread(300, 300, {{0, Counters(1)}}));
  Snapshot a = agg.update(s, 1);
  const ProcessRow* p = FindProcess(a, 300);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->comm, "third-new");
  EXPECT_EQ(p->ppid, 1u) << "the parent known to /proc was lost";
}

TEST_F(AggregatorTest, RecordsAreHostileBytesKeptRaw) {
  Aggregator agg(names, Filter{});
  KernelSample s = Empty();
  const std::string hostile = "\x1b[2J\xff\xfe";
  s.records.push_back(Rec(IPCTOP_REC_TASK_NEW, 950, 950, hostile, 1));
  s.threads.push_back(Thread(950, 950, {{0, Counters(1)}}));
  Snapshot a = agg.update(s, 1);
  ASSERT_NE(FindProcess(a, 950), nullptr);
  EXPECT_EQ(FindProcess(a, 950)->comm, hostile) << "sanitizing is the renderers' job";
}

// ---------------------------------------------------------------- unknown party

TEST_F(AggregatorTest, UnknownPartyIsShownAsUnknown) {
  Aggregator agg(names, Filter{});
  KernelSample s = Empty();
  s.flows.push_back(Flow(Key(IPCTOP_KIND_PIPE, 42, 0, 0, 0, 200, 201, 2, 3), 64, 1));
  Snapshot a = agg.update(s, 1);
  ASSERT_EQ(a.flows.size(), 1u);
  EXPECT_EQ(a.flows[0].src.pid, 0u);
  EXPECT_EQ(a.flows[0].src.tid, 0u);
  EXPECT_EQ(a.flows[0].src.comm, "(unknown)");
  EXPECT_EQ(a.flows[0].dst.comm, "reader-io");
  EXPECT_EQ(a.flows[0].cpus, (std::map<uint32_t, uint64_t>{{2, 64}}));
  // No process 0, and the unknown party is not an endpoint.
  EXPECT_EQ(FindProcess(a, 0), nullptr);
  EXPECT_EQ(FindThread(a, 0), nullptr);
  ASSERT_EQ(a.processes.size(), 1u);
  EXPECT_EQ(a.processes[0].pid, 200u);
  EXPECT_EQ(a.processes[0].rx_bytes, 64u);
  EXPECT_EQ(a.cpus[2].tx_bytes, 64u);
  EXPECT_EQ(a.cpus[3].rx_bytes, 64u);
  ASSERT_EQ(a.channels.size(), 1u);
  ASSERT_EQ(a.channels[0].endpoints.size(), 1u);
  EXPECT_EQ(a.channels[0].endpoints[0].tid, 201u);
  EXPECT_EQ(a.channels[0].endpoints[0].role, "reader");
  EXPECT_EQ(a.channels[0].bytes, 64u);
}

TEST_F(AggregatorTest, TaskWithoutAnyNameHasAnEmptyComm) {
  Aggregator agg(names, Filter{});
  KernelSample s = Empty();
  s.flows.push_back(Flow(Key(IPCTOP_KIND_PIPE, 42, 0, 4000, 4001, 200, 201), 1, 1));
  Snapshot a = agg.update(s, 1);
  ASSERT_EQ(a.flows.size(), 1u);
  EXPECT_EQ(a.flows[0].src.pid, 4000u);
  EXPECT_EQ(a.flows[0].src.comm, "");
}

// ---------------------------------------------------------------- filter

TEST_F(AggregatorTest, PidFilter) {
  Aggregator agg(names, Filter{{100}});
  KernelSample s = Empty();
  s.threads.push_back(Thread(100, 101, {{0, Counters(1)}}));
  s.threads.push_back(Thread(200, 201, {{1, Counters(1)}}));
  s.threads.push_back(Thread(300, 300, {{2, Counters(5)}}));
  s.cpus[2][IPCTOP_CNT_VOLUNTARY] = 5;
  s.flows.push_back(Flow(Key(IPCTOP_KIND_PIPE, 1, 0, 100, 101, 200, 201), 10, 1));  // from 100
  s.flows.push_back(Flow(Key(IPCTOP_KIND_PIPE, 2, 0, 200, 201, 100, 101), 20, 1));  // to 100
  s.flows.push_back(Flow(Key(IPCTOP_KIND_PIPE, 3, 0, 200, 201, 300, 300), 40, 1));  // neither
  s.flows.push_back(Flow(Key(IPCTOP_KIND_PIPE, 4, 0, 0, 0, 300, 300), 80, 1));      // neither
  Snapshot a = agg.update(s, 1);

  ASSERT_EQ(a.processes.size(), 1u);
  EXPECT_EQ(a.processes[0].pid, 100u);
  EXPECT_EQ(a.processes[0].tx_bytes, 10u);
  EXPECT_EQ(a.processes[0].rx_bytes, 20u);
  ASSERT_EQ(a.flows.size(), 2u);
  EXPECT_EQ(a.flows[0].channel, "pipe:[1]");
  EXPECT_EQ(a.flows[1].channel, "pipe:[2]");
  ASSERT_EQ(a.channels.size(), 2u);
  EXPECT_EQ(FindChannel(a, "pipe:[3]"), nullptr);
  EXPECT_EQ(FindChannel(a, "pipe:[4]"), nullptr);
  // CPU rows are the whole machine, filter or not.
  EXPECT_EQ(a.cpus[2].ctx_switches, 5u);
}

TEST_F(AggregatorTest, PidFilterKeepsFlowsFromAnUnknownPartyToAWantedPid) {
  Aggregator agg(names, Filter{{200}});
  KernelSample s = Empty();
  s.flows.push_back(Flow(Key(IPCTOP_KIND_PIPE, 1, 0, 0, 0, 200, 201), 10, 1));
  Snapshot a = agg.update(s, 1);
  ASSERT_EQ(a.flows.size(), 1u);
  EXPECT_EQ(a.flows[0].src.comm, "(unknown)");
}

// ---------------------------------------------------------------- unattributed and lost

TEST_F(AggregatorTest, UnattributedAndLostAreDeltas) {
  const std::map<std::string, uint32_t> points = {
      {"flow_map_full", IPCTOP_LOST_FLOW_MAP_FULL},
      {"thread_map_full", IPCTOP_LOST_THREAD_MAP_FULL},
      {"queue_map_full", IPCTOP_LOST_QUEUE_MAP_FULL},
      {"queue_overflow", IPCTOP_LOST_QUEUE_OVERFLOW},
      {"ringbuf_full", IPCTOP_LOST_RINGBUF_FULL},
      {"mmsg_truncated", IPCTOP_LOST_MMSG_TRUNCATED},
      {"unsupported_path", IPCTOP_LOST_UNSUPPORTED},
  };
  Aggregator agg(names, Filter{});

  // Nothing lost: every point is still there, at zero.
  Snapshot z = agg.update(Empty(), 1);
  EXPECT_EQ(z.lost.events, 0u);
  EXPECT_GE(z.lost.by_point.size(), points.size() + 1);
  for (const auto& [name, counter] : points) EXPECT_EQ(z.lost.by_point.at(name), 0u) << name;
  EXPECT_EQ(z.lost.by_point.at("records_malformed"), 0u);
  EXPECT_EQ(z.unattributed_bytes, 0u);
  EXPECT_EQ(z.unattributed_messages, 0u);

  KernelSample s = Empty();
  s.cpus[0][IPCTOP_CNT_UNATTRIBUTED_BYTES] = 100;
  s.cpus[3][IPCTOP_CNT_UNATTRIBUTED_BYTES] = 50;
  s.cpus[1][IPCTOP_CNT_UNATTRIBUTED_MESSAGES] = 4;
  s.orphan_read_bytes = 30;
  s.orphan_read_messages = 2;
  s.records_malformed = 3;
  uint64_t n = 1;
  for (const auto& [name, counter] : points) {
    s.cpus[n % kCpus][counter] = n;       // 1, 2, 3, ... on different CPUs
    s.cpus[(n + 1) % kCpus][counter] = 10 * n;  // and more of it elsewhere
    ++n;
  }
  Snapshot a = agg.update(s, 1);
  EXPECT_EQ(a.unattributed_bytes, 180u);
  EXPECT_EQ(a.unattributed_messages, 6u);
  uint64_t sum = 0;
  n = 1;
  for (const auto& [name, counter] : points) {
    EXPECT_EQ(a.lost.by_point.at(name), 11 * n) << name;
    sum += a.lost.by_point.at(name);
    ++n;
  }
  EXPECT_EQ(a.lost.by_point.at("records_malformed"), 3u);
  sum += 3;
  EXPECT_EQ(a.lost.events, sum);
  // events is the sum of every drop point there is, these and any other.
  uint64_t all = 0;
  for (const auto& [point, count] : a.lost.by_point) all += count;
  EXPECT_EQ(a.lost.events, all);

  // Second sample: only growth counts.
  KernelSample s2 = s;
  s2.cpus[0][IPCTOP_CNT_UNATTRIBUTED_BYTES] += 7;
  s2.orphan_read_bytes += 1;
  s2.orphan_read_messages += 1;
  s2.records_malformed += 2;
  s2.cpus[2][IPCTOP_LOST_RINGBUF_FULL] += 5;
  Snapshot b = agg.update(s2, 1);
  EXPECT_EQ(b.unattributed_bytes, 8u);
  EXPECT_EQ(b.unattributed_messages, 1u);
  EXPECT_EQ(b.lost.by_point.at("ringbuf_full"), 5u);
  EXPECT_EQ(b.lost.by_point.at("records_malformed"), 2u);
  EXPECT_EQ(b.lost.by_point.at("flow_map_full"), 0u);
  EXPECT_EQ(b.lost.events, 7u);
}

// ---------------------------------------------------------------- garbage collection

TEST_F(AggregatorTest, ExitedThreadIsCollectedOneUpdateAfterItsExitRecord) {
  Aggregator agg(names, Filter{});
  KernelSample s = Empty();
  s.threads.push_back(Thread(100, 101, {{0, Counters(10)}}));
  agg.update(s, 1);
  EXPECT_TRUE(agg.collect_garbage().tids.empty());

  KernelSample s2 = Empty();
  s2.threads.push_back(Thread(100, 101, {{0, Counters(12)}}));
  s2.records.push_back(Rec(IPCTOP_REC_TASK_EXIT, 100, 101, "writer-io"));
  Snapshot b = agg.update(s2, 1);
  ASSERT_NE(FindThread(b, 101), nullptr);
  EXPECT_TRUE(FindThread(b, 101)->exited);
  EXPECT_EQ(FindThread(b, 101)->ctx_switches, 2u);
  GcPlan same = agg.collect_garbage();
  EXPECT_TRUE(same.tids.empty()) << "deleted in the update that saw the exit: its last "
                                    "switch-out would be lost";

  // The last switch-out arrives in the next interval, and is still counted.
  KernelSample s3 = Empty();
  s3.threads.push_back(Thread(100, 101, {{0, Counters(13)}}));
  Snapshot c = agg.update(s3, 1);
  ASSERT_NE(FindThread(c, 101), nullptr);
  EXPECT_EQ(FindThread(c, 101)->ctx_switches, 1u);
  GcPlan next = agg.collect_garbage();
  EXPECT_EQ(next.tids, (std::vector<uint32_t>{101}));

  // Deleted once only.
  agg.update(Empty(), 1);
  EXPECT_TRUE(agg.collect_garbage().tids.empty());

  // The tid is reused by a new thread: its counters start from zero.
  KernelSample s4 = Empty();
  s4.records.push_back(Rec(IPCTOP_REC_TASK_NEW, 300, 101, "reuser", 1));
  s4.threads.push_back(Thread(300, 101, {{0, Counters(4)}}));
  Snapshot d = agg.update(s4, 1);
  const ThreadRow* t = FindThread(d, 101);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->ctx_switches, 4u);
  EXPECT_EQ(t->comm, "reuser");
  EXPECT_FALSE(t->exited);
  ASSERT_NE(FindProcess(d, 300), nullptr);
  EXPECT_TRUE(agg.collect_garbage().tids.empty());
}

TEST_F(AggregatorTest, LiveThreadsAreNeverCollected) {
  Aggregator agg(names, Filter{});
  for (uint64_t i = 1; i <= 50; ++i) {
    KernelSample s = Empty();
    s.threads.push_back(Thread(100, 101, {{0, Counters(i)}}));
    agg.update(s, 1);
    EXPECT_TRUE(agg.collect_garbage().tids.empty());
  }
}

TEST_F(AggregatorTest, IdleFlowIsCollectedAfterFiveUpdates) {
  Aggregator agg(names, Filter{});
  const auto k = Key(IPCTOP_KIND_PIPE, 42, 0, 100, 101, 200, 201, 1, 2);
  KernelSample s = Empty();
  s.flows.push_back(Flow(k, 100, 1));
  EXPECT_EQ(agg.update(s, 1).flows.size(), 1u);
  EXPECT_TRUE(agg.collect_garbage().flows.empty());
  EXPECT_EQ(agg.tracked_flows(), 1u);

  // Idle: the kernel still has the same cumulative value.
  for (int idle = 1; idle <= 4; ++idle) {
    SCOPED_TRACE(idle);
    EXPECT_TRUE(agg.update(s, 1).flows.empty());
    EXPECT_TRUE(agg.collect_garbage().flows.empty());
    EXPECT_EQ(agg.tracked_flows(), 1u);
  }
  EXPECT_TRUE(agg.update(s, 1).flows.empty());
  GcPlan plan = agg.collect_garbage();
  ASSERT_EQ(plan.flows.size(), 1u);
  EXPECT_TRUE(Contains(plan.flows, k));
  EXPECT_EQ(agg.tracked_flows(), 0u);

  // The kernel deleted it; the same key comes back: it starts from zero.
  KernelSample s2 = Empty();
  s2.flows.push_back(Flow(k, 30, 1));
  Snapshot b = agg.update(s2, 1);
  ASSERT_EQ(b.flows.size(), 1u);
  EXPECT_EQ(b.flows[0].bytes, 30u);
  EXPECT_EQ(b.flows[0].messages, 1u);
  EXPECT_TRUE(agg.collect_garbage().flows.empty());
}

TEST_F(AggregatorTest, BusyFlowIsNeverCollected) {
  Aggregator agg(names, Filter{});
  const auto k = Key(IPCTOP_KIND_PIPE, 42, 0, 100, 101, 200, 201);
  for (uint64_t i = 1; i <= 20; ++i) {
    KernelSample s = Empty();
    s.flows.push_back(Flow(k, 10 * i, i));
    ASSERT_EQ(agg.update(s, 1).flows.size(), 1u);
    EXPECT_TRUE(agg.collect_garbage().flows.empty()) << "update " << i;
  }
}

TEST_F(AggregatorTest, FlowsOfAnExitedThreadAreCollectedOnceIdle) {
  Aggregator agg(names, Filter{});
  const auto k = Key(IPCTOP_KIND_PIPE, 42, 0, 100, 101, 200, 201);
  KernelSample s = Empty();
  s.flows.push_back(Flow(k, 10, 1));
  s.records.push_back(Rec(IPCTOP_REC_TASK_EXIT, 100, 101, "writer-io"));
  agg.update(s, 1);
  EXPECT_TRUE(agg.collect_garbage().flows.empty()) << "it moved data in this very update";
  agg.update(s, 1);  // idle
  EXPECT_TRUE(Contains(agg.collect_garbage().flows, k));
}

// ---------------------------------------------------------------- conservation

// A kernel simulation: random flows on a few channels between a few threads,
// some bytes unattributed, keys deleted when the model says so. Every byte
// fed in comes out exactly once, as a flow or as unattributed.
TEST_F(AggregatorTest, ConservationOfBytesAndMessages) {
  Aggregator agg(names, Filter{});
  std::mt19937_64 rng(12345);
  std::map<std::vector<uint32_t>, FlowSample> kernel;  // key fields -> cumulative
  CpuCounters unattributed_bytes_per_cpu{};            // only two slots used
  CpuCounters unattributed_msgs_per_cpu{};
  uint64_t orphan_bytes = 0;
  uint64_t fed_total = 0;
  uint64_t out_total = 0;
  const uint32_t kinds[] = {IPCTOP_KIND_PIPE, IPCTOP_KIND_FIFO, IPCTOP_KIND_UNIX_STREAM,
                            IPCTOP_KIND_UNIX_DGRAM, IPCTOP_KIND_UNIX_SEQPACKET};
  for (int update = 0; update < 200; ++update) {
    SCOPED_TRACE(update);
    uint64_t fed_bytes = 0;
    uint64_t fed_msgs = 0;
    int moves = static_cast<int>(rng() % 12);  // some intervals are idle
    for (int m = 0; m < moves; ++m) {
      uint32_t kind = kinds[rng() % 5];
      uint32_t ino = static_cast<uint32_t>(1 + rng() % 4);
      uint32_t src_tgid = static_cast<uint32_t>(rng() % 4) * 100;  // 0: unknown party
      uint32_t src_tid = src_tgid ? src_tgid + static_cast<uint32_t>(rng() % 2) : 0;
      uint32_t dst_tgid = 100 * static_cast<uint32_t>(1 + rng() % 3);
      uint32_t dst_tid = dst_tgid + static_cast<uint32_t>(rng() % 2);
      uint32_t src_cpu = static_cast<uint32_t>(rng() % kCpus);
      uint32_t dst_cpu = static_cast<uint32_t>(rng() % kCpus);
      std::vector<uint32_t> id = {kind, ino, src_tgid, src_tid, dst_tgid, dst_tid, src_cpu, dst_cpu};
      auto [it, inserted] = kernel.try_emplace(id);
      if (inserted)
        it->second.key = Key(kind, ino, kind == IPCTOP_KIND_FIFO ? 7 : 0, src_tgid, src_tid,
                             dst_tgid, dst_tid, src_cpu, dst_cpu);
      uint64_t bytes = rng() % 100000;
      uint64_t msgs = 1 + rng() % 5;
      it->second.bytes += bytes;
      it->second.messages += msgs;
      fed_bytes += bytes;
      fed_msgs += msgs;
    }
    if (rng() % 3 == 0) {
      uint64_t b = rng() % 1000;
      unattributed_bytes_per_cpu[rng() % 2] += b;
      unattributed_msgs_per_cpu[0] += 1;
      fed_bytes += b;
      fed_msgs += 1;
    }
    if (rng() % 5 == 0) {
      uint64_t b = rng() % 500;
      orphan_bytes += b;
      fed_bytes += b;
    }
    KernelSample s = Empty(2000.0 + update);
    for (const auto& [id, f] : kernel) s.flows.push_back(f);
    s.cpus[0][IPCTOP_CNT_UNATTRIBUTED_BYTES] = unattributed_bytes_per_cpu[0];
    s.cpus[1][IPCTOP_CNT_UNATTRIBUTED_BYTES] = unattributed_bytes_per_cpu[1];
    s.cpus[0][IPCTOP_CNT_UNATTRIBUTED_MESSAGES] = unattributed_msgs_per_cpu[0];
    s.orphan_read_bytes = orphan_bytes;
    std::shuffle(s.flows.begin(), s.flows.end(), rng);

    Snapshot snap = agg.update(s, 1);
    uint64_t flow_bytes = 0;
    uint64_t flow_msgs = 0;
    for (const auto& f : snap.flows) {
      flow_bytes += f.bytes;
      flow_msgs += f.messages;
      EXPECT_EQ(Sum(f.cpus), f.bytes);
      EXPECT_EQ(Sum(f.rx_cpus), f.bytes);
    }
    uint64_t channel_bytes = 0;
    uint64_t channel_msgs = 0;
    for (const auto& c : snap.channels) {
      channel_bytes += c.bytes;
      channel_msgs += c.messages;
    }
    // Threads, processes and CPUs are views of the same flows.
    uint64_t known_src_bytes = 0;
    for (const auto& f : snap.flows)
      if (f.src.tid) known_src_bytes += f.bytes;
    uint64_t proc_tx = 0, proc_rx = 0, thread_tx = 0, thread_rx = 0;
    for (const auto& p : snap.processes) {
      proc_tx += p.tx_bytes;
      proc_rx += p.rx_bytes;
      for (const auto& t : p.threads) {
        thread_tx += t.tx_bytes;
        thread_rx += t.rx_bytes;
      }
    }
    uint64_t cpu_tx = 0, cpu_rx = 0;
    for (const auto& c : snap.cpus) {
      cpu_tx += c.tx_bytes;
      cpu_rx += c.rx_bytes;
    }
    EXPECT_EQ(proc_tx, known_src_bytes);
    EXPECT_EQ(thread_tx, known_src_bytes);
    EXPECT_EQ(proc_rx, flow_bytes);
    EXPECT_EQ(thread_rx, flow_bytes);
    EXPECT_EQ(cpu_tx, flow_bytes);
    EXPECT_EQ(cpu_rx, flow_bytes);
    ASSERT_EQ(flow_bytes + snap.unattributed_bytes, fed_bytes);
    ASSERT_EQ(flow_msgs + snap.unattributed_messages, fed_msgs);
    EXPECT_EQ(channel_bytes, flow_bytes);
    EXPECT_EQ(channel_msgs, flow_msgs);
    fed_total += fed_bytes;
    out_total += flow_bytes + snap.unattributed_bytes;

    // The probe layer deletes what the model lets go of.
    GcPlan plan = agg.collect_garbage();
    for (auto it = kernel.begin(); it != kernel.end();)
      it = Contains(plan.flows, it->second.key) ? kernel.erase(it) : std::next(it);
  }
  EXPECT_EQ(out_total, fed_total);
  EXPECT_GT(fed_total, 0u);
}

}  // namespace
