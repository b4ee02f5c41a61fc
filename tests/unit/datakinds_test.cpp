// TCP/UDP, message queues and files in the model and the JSON: channel names
// from the connection's addresses, remote peers as addresses, roles.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>

#include "model/Aggregator.h"
#include "render/json/Json.h"

namespace {

using ipctop::Aggregator;
using ipctop::CpuCounters;
using ipctop::Filter;
using ipctop::FlowSample;
using ipctop::KernelSample;
using ipctop::Kind;
using ipctop::NameSource;
using ipctop::Snapshot;
using nlohmann::json;

class Names : public NameSource {
 public:
  std::map<std::tuple<Kind, uint64_t, uint32_t>, std::string> paths;
  std::optional<std::string> comm(uint32_t pid, uint32_t) override {
    return "p" + std::to_string(pid);
  }
  std::optional<uint32_t> ppid(uint32_t) override { return 1; }
  std::vector<std::string> cmdline(uint32_t) override { return {}; }
  std::string channel_path(Kind kind, uint64_t ino, uint32_t dev,
                           const std::set<uint32_t>&) override {
    auto it = paths.find({kind, ino, dev});
    return it == paths.end() ? "" : it->second;
  }
};

ipctop_conn Conn(std::initializer_list<uint8_t> s, uint16_t sport, std::initializer_list<uint8_t> d,
                 uint16_t dport, uint32_t kind = IPCTOP_KIND_TCP) {
  auto fill = [](uint8_t (&out)[16], std::initializer_list<uint8_t> in) {
    std::memset(out, 0, 16);
    if (in.size() == 4) {  // IPv4, mapped
      out[10] = out[11] = 0xff;
      std::copy(in.begin(), in.end(), out + 12);
    } else {
      std::copy(in.begin(), in.end(), out);
    }
  };
  ipctop_conn c{};
  fill(c.saddr, s);
  fill(c.daddr, d);
  c.sport = sport;
  c.dport = dport;
  c.kind = kind;
  return c;
}

KernelSample Sample() {
  KernelSample s;
  s.time = 1000;
  s.cpus.assign(2, CpuCounters{});
  return s;
}

FlowSample Flow(uint32_t kind, uint64_t chan, uint32_t src_tgid, uint32_t src_tid,
                uint32_t dst_tgid, uint32_t dst_tid, uint64_t bytes, uint64_t messages,
                uint32_t src_cpu = 0, uint32_t dst_cpu = 1, uint32_t dev = 0) {
  FlowSample f;
  f.key.kind = kind;
  f.key.chan_ino = chan;
  f.key.chan_dev = dev;
  f.key.src_tgid = src_tgid;
  f.key.src_tid = src_tid;
  f.key.dst_tgid = dst_tgid;
  f.key.dst_tid = dst_tid;
  f.key.src_cpu = src_cpu;
  f.key.dst_cpu = dst_cpu;
  f.bytes = bytes;
  f.messages = messages;
  return f;
}

TEST(NetAddress, Ipv4MappedIsShownAsIpv4AndIpv6InBrackets) {
  auto c = Conn({127, 0, 0, 1}, 40312, {127, 0, 0, 1}, 5000);
  EXPECT_EQ(ipctop::address(c.saddr, c.sport), "127.0.0.1:40312");
  EXPECT_EQ(ipctop::net_channel_id(Kind::tcp, c), "tcp:127.0.0.1:40312->127.0.0.1:5000");
  EXPECT_EQ(ipctop::net_path(c), "127.0.0.1:40312->127.0.0.1:5000");
  auto v6 = Conn({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 1,
                 {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0x2a}, 443);
  EXPECT_EQ(ipctop::address(v6.saddr, v6.sport), "[::1]:1");
  EXPECT_EQ(ipctop::address(v6.daddr, v6.dport), "[2001:db8::1:0:0:2a]:443");
  uint8_t zero[16] = {};
  EXPECT_EQ(ipctop::address(zero, 53), "[::]:53");
}

TEST(NetFlows, LocalTcpJoinsThreadsAndNamesTheChannelByItsAddresses) {
  Names names;
  Aggregator agg(names, Filter{});
  KernelSample s = Sample();
  s.flows.push_back(Flow(IPCTOP_KIND_TCP, 0xabc, 10, 11, 20, 21, 3000, 3));
  s.conns[0xabc] = Conn({127, 0, 0, 1}, 40312, {127, 0, 0, 1}, 5000);
  Snapshot snap = agg.update(s, 1.0);
  ASSERT_EQ(snap.flows.size(), 1u);
  EXPECT_EQ(snap.flows[0].channel, "tcp:127.0.0.1:40312->127.0.0.1:5000");
  EXPECT_EQ(snap.flows[0].src.pid, 10u);
  EXPECT_EQ(snap.flows[0].dst.tid, 21u);
  ASSERT_EQ(snap.channels.size(), 1u);
  EXPECT_EQ(snap.channels[0].path, "127.0.0.1:40312->127.0.0.1:5000");
  ASSERT_EQ(snap.channels[0].endpoints.size(), 2u);
  EXPECT_EQ(snap.channels[0].endpoints[0].role, "writer");
  EXPECT_EQ(snap.channels[0].endpoints[1].role, "reader");
}

TEST(NetFlows, RemotePeerIsAnAddressWithoutThreadCpuOrEndpoint) {
  Names names;
  Aggregator agg(names, Filter{});
  KernelSample s = Sample();
  // To 10.1.2.3:443 from thread 11, and back.
  s.flows.push_back(Flow(IPCTOP_KIND_TCP, 1, 10, 11, 0, IPCTOP_REMOTE_TID, 500, 2, 0,
                         IPCTOP_REMOTE_TID));
  s.flows.push_back(Flow(IPCTOP_KIND_TCP, 2, 0, IPCTOP_REMOTE_TID, 10, 11, 7000, 4,
                         IPCTOP_REMOTE_TID, 1));
  s.conns[1] = Conn({192, 168, 0, 5}, 40000, {10, 1, 2, 3}, 443);
  s.conns[2] = Conn({10, 1, 2, 3}, 443, {192, 168, 0, 5}, 40000);
  Snapshot snap = agg.update(s, 1.0);
  ASSERT_EQ(snap.flows.size(), 2u);
  const auto& out = snap.flows[0].channel == "tcp:192.168.0.5:40000->10.1.2.3:443" ? snap.flows[0]
                                                                                    : snap.flows[1];
  const auto& in = &out == &snap.flows[0] ? snap.flows[1] : snap.flows[0];
  EXPECT_EQ(out.dst.addr, "10.1.2.3:443");
  EXPECT_EQ(out.src.tid, 11u);
  EXPECT_EQ(out.cpus, (std::map<uint32_t, uint64_t>{{0, 500}}));
  EXPECT_TRUE(out.rx_cpus.empty()) << "a remote end has no CPU";
  EXPECT_EQ(in.src.addr, "10.1.2.3:443");
  EXPECT_TRUE(in.cpus.empty());
  EXPECT_EQ(in.rx_cpus, (std::map<uint32_t, uint64_t>{{1, 7000}}));
  // Only the local thread is a process row and an endpoint.
  ASSERT_EQ(snap.processes.size(), 1u);
  EXPECT_EQ(snap.processes[0].pid, 10u);
  EXPECT_EQ(snap.processes[0].tx_bytes, 500u);
  EXPECT_EQ(snap.processes[0].rx_bytes, 7000u);
  for (const auto& c : snap.channels) {
    ASSERT_EQ(c.endpoints.size(), 1u);
    EXPECT_EQ(c.endpoints[0].pid, 10u);
  }
  // Per-CPU totals only count the local side.
  EXPECT_EQ(snap.cpus[0].tx_bytes, 500u);
  EXPECT_EQ(snap.cpus[1].rx_bytes, 7000u);

  json j = ipctop::render::to_json(snap);
  bool saw_out = false;
  for (const auto& f : j["flows"]) {
    if (f["dst"].contains("addr")) {
      EXPECT_EQ(f["dst"], (json{{"addr", "10.1.2.3:443"}})) << "an address in place of pid/tid/comm";
      EXPECT_EQ(f["src"]["pid"], 10);
      saw_out = true;
    } else {
      EXPECT_EQ(f["src"], (json{{"addr", "10.1.2.3:443"}}));
    }
  }
  EXPECT_TRUE(saw_out);
}

TEST(NetFlows, ChannelAddressesLearntOnceAreKept) {
  Names names;
  Aggregator agg(names, Filter{});
  KernelSample s = Sample();
  s.flows.push_back(Flow(IPCTOP_KIND_UDP, 7, 10, 11, 20, 21, 100, 1));
  s.conns[7] = Conn({127, 0, 0, 1}, 1000, {127, 0, 0, 1}, 2000, IPCTOP_KIND_UDP);
  agg.update(s, 1.0);
  KernelSample next = Sample();
  next.flows.push_back(Flow(IPCTOP_KIND_UDP, 7, 10, 11, 20, 21, 250, 3));
  Snapshot snap = agg.update(next, 1.0);
  ASSERT_EQ(snap.flows.size(), 1u);
  EXPECT_EQ(snap.flows[0].channel, "udp:127.0.0.1:1000->127.0.0.1:2000");
  EXPECT_EQ(snap.flows[0].bytes, 150u);
  EXPECT_EQ(snap.flows[0].messages, 2u);
  EXPECT_EQ(snap.channels[0].endpoints[0].role, "sender");
}

TEST(NetFlows, UnknownAddressesFallBackToTheHash) {
  Names names;
  Aggregator agg(names, Filter{});
  KernelSample s = Sample();
  s.flows.push_back(Flow(IPCTOP_KIND_TCP, 0x1f, 0, IPCTOP_REMOTE_TID, 10, 11, 9, 1,
                         IPCTOP_REMOTE_TID, 0));
  Snapshot snap = agg.update(s, 1.0);
  ASSERT_EQ(snap.flows.size(), 1u);
  EXPECT_EQ(snap.flows[0].channel, "tcp:#000000000000001f");
  EXPECT_EQ(snap.flows[0].src.addr, "(unknown)");
}

TEST(MessageQueues, ChannelIdsPathsAndRoles) {
  Names names;
  names.paths[{Kind::sysv_msg, 5, 0}] = "key 0x00001234 msqid 5";
  names.paths[{Kind::posix_mq, 77, 19}] = "/jobs";
  names.paths[{Kind::file, 99, (8u << 20) | 1}] = "/var/tmp/state";
  Aggregator agg(names, Filter{});
  KernelSample s = Sample();
  s.flows.push_back(Flow(IPCTOP_KIND_SYSV_MSG, 5, 10, 11, 20, 21, 600, 3));
  s.flows.push_back(Flow(IPCTOP_KIND_POSIX_MQ, 77, 10, 11, 20, 21, 80, 2, 0, 1, 19));
  s.flows.push_back(Flow(IPCTOP_KIND_FILE, 99, 10, 11, 20, 21, 4096, 1, 0, 1, (8u << 20) | 1));
  Snapshot snap = agg.update(s, 1.0);
  std::map<std::string, const ipctop::ChannelRow*> by_id;
  for (const auto& c : snap.channels) by_id[c.id] = &c;
  ASSERT_TRUE(by_id.count("sysv_msg:5"));
  EXPECT_EQ(by_id["sysv_msg:5"]->path, "key 0x00001234 msqid 5");
  EXPECT_EQ(by_id["sysv_msg:5"]->endpoints[0].role, "sender");
  ASSERT_TRUE(by_id.count("posix_mq:[77]"));
  EXPECT_EQ(by_id["posix_mq:[77]"]->path, "/jobs");
  EXPECT_EQ(by_id["posix_mq:[77]"]->endpoints[1].role, "receiver");
  ASSERT_TRUE(by_id.count("file:8:1:99"));
  EXPECT_EQ(by_id["file:8:1:99"]->path, "/var/tmp/state");
  EXPECT_EQ(by_id["file:8:1:99"]->endpoints[0].role, "writer");
}

TEST(NetFlows, PidFilterKeepsRemoteFlowsOfTheProcess) {
  Names names;
  Aggregator agg(names, Filter{{10}});
  KernelSample s = Sample();
  s.flows.push_back(Flow(IPCTOP_KIND_TCP, 1, 10, 11, 0, IPCTOP_REMOTE_TID, 5, 1, 0,
                         IPCTOP_REMOTE_TID));
  s.flows.push_back(Flow(IPCTOP_KIND_TCP, 2, 30, 31, 0, IPCTOP_REMOTE_TID, 5, 1, 0,
                         IPCTOP_REMOTE_TID));
  Snapshot snap = agg.update(s, 1.0);
  ASSERT_EQ(snap.flows.size(), 1u);
  EXPECT_EQ(snap.flows[0].src.pid, 10u);
}

}  // namespace
