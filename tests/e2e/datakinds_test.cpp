// Privileged end-to-end tests of TCP, UDP, SysV and POSIX message queues and
// files used as IPC: real sockets, queues and files between real processes,
// compared exactly with the generator's own count.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <set>

#include "harness.h"

namespace e2e {
namespace {

std::vector<json> trace_gen(const std::vector<std::string>& gen_args, json& truth,
                            std::vector<std::string> tracer_args = {"--json", "-d", "0.5"}) {
  Tracer tracer(tracer_args);
  EXPECT_TRUE(tracer.wait_attached()) << tracer.err();
  truth = run_ipcgen(gen_args);
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  Exit e = tracer.stop();
  EXPECT_TRUE(e.exited && e.code == 0) << tracer.err();
  return tracer.snapshots();
}

// Every ground-truth flow appears with exactly its bytes and messages.
void expect_flows(const json& truth, const std::vector<json>& snaps) {
  ASSERT_TRUE(truth.contains("flows")) << truth.dump();
  ASSERT_FALSE(truth.at("flows").empty()) << truth.dump();
  auto totals = flow_totals(snaps);
  for (const auto& f : truth.at("flows")) {
    FlowId id{truth.at("kind"), f.at("src_pid"), f.at("src_tid"), f.at("dst_pid"), f.at("dst_tid")};
    auto it = totals.find(id);
    ASSERT_NE(it, totals.end()) << "no flow for " << f.dump();
    EXPECT_EQ(it->second.bytes, f.at("bytes").get<uint64_t>()) << f.dump();
    EXPECT_EQ(it->second.messages, f.at("messages").get<uint64_t>()) << f.dump();
  }
  EXPECT_EQ(total_lost(snaps), 0u) << lost_points(snaps);
}

std::string flow_channel(const std::vector<json>& snaps, const json& truth, size_t i) {
  auto totals = flow_totals(snaps);
  const auto& f = truth.at("flows").at(i);
  FlowId id{truth.at("kind"), f.at("src_pid"), f.at("src_tid"), f.at("dst_pid"), f.at("dst_tid")};
  return totals.count(id) ? totals[id].channel : "";
}

const json* channel(const std::vector<json>& snaps, const std::string& id) {
  for (const auto& s : snaps)
    for (const auto& c : s.at("channels"))
      if (c.at("id") == id) return &c;
  return nullptr;
}

std::string port(const json& truth, const char* key) { return std::to_string(truth.at(key).get<int>()); }

void check_net(const std::string& kind, const std::string& host, bool both_ways) {
  json truth;
  auto snaps = trace_gen({"--kind", kind, "--msgs", "400", "--size", "1000", "--reply-size", "333",
                          "--linger-ms", "800"},
                         truth);
  expect_flows(truth, snaps);
  ASSERT_EQ(truth.at("flows").size(), both_ways ? 2u : 1u);
  // Different sizes each way: the two directions are not confused.
  EXPECT_NE(truth.at("flows").at(0).at("bytes"), truth.at("flows").at(1).at("bytes"));
  // Each direction is its own channel, named by its addresses.
  const std::string a = host + ":" + port(truth, "a_port"), b = host + ":" + port(truth, "b_port");
  std::string proto = truth.at("kind");
  EXPECT_EQ(flow_channel(snaps, truth, 0), proto + ":" + a + "->" + b);
  EXPECT_EQ(flow_channel(snaps, truth, 1), proto + ":" + b + "->" + a);
  const json* ch = channel(snaps, proto + ":" + a + "->" + b);
  ASSERT_NE(ch, nullptr);
  EXPECT_EQ(ch->at("kind"), proto);
  EXPECT_EQ(ch->value("path", ""), a + "->" + b);
}

TEST(DataKinds, TcpBothDirectionsIpv4) { check_net("tcp", "127.0.0.1", true); }
TEST(DataKinds, TcpBothDirectionsIpv6) { check_net("tcp6", "[::1]", true); }
TEST(DataKinds, UdpBothDirectionsIpv4) { check_net("udp", "127.0.0.1", true); }
TEST(DataKinds, UdpBothDirectionsIpv6) { check_net("udp6", "[::1]", true); }

TEST(DataKinds, SysvMessageQueue) {
  json truth;
  auto snaps = trace_gen(
      {"--kind", "sysv_msg", "--msgs", "1000", "--size", "200", "--linger-ms", "800"}, truth);
  expect_flows(truth, snaps);
  const std::string id = flow_channel(snaps, truth, 0);
  EXPECT_EQ(id.rfind("sysv_msg:", 0), 0u) << id;
  const json* ch = channel(snaps, id);
  ASSERT_NE(ch, nullptr);
  EXPECT_EQ(ch->value("path", ""), truth.at("path"));
  std::set<std::string> roles;
  for (const auto& e : ch->at("endpoints")) roles.insert(e.at("role"));
  EXPECT_EQ(roles, (std::set<std::string>{"sender", "receiver"}));
}

TEST(DataKinds, PosixMessageQueue) {
  json truth;
  auto snaps = trace_gen(
      {"--kind", "posix_mq", "--msgs", "1000", "--size", "300", "--linger-ms", "800"}, truth);
  expect_flows(truth, snaps);
  const std::string id = flow_channel(snaps, truth, 0);
  EXPECT_EQ(id.rfind("posix_mq:[", 0), 0u) << id;
  const json* ch = channel(snaps, id);
  ASSERT_NE(ch, nullptr);
  EXPECT_EQ(ch->value("path", ""), truth.at("path"));
}

TEST(DataKinds, FileWrittenByOneProcessReadByAnother) {
  json truth;
  auto snaps = trace_gen({"--kind", "file", "--msgs", "500", "--size", "4000", "--linger-ms", "800"},
                         truth, {"--json", "-d", "0.5", "--files"});
  expect_flows(truth, snaps);
  const std::string id = flow_channel(snaps, truth, 0);
  EXPECT_EQ(id.rfind("file:", 0), 0u) << id;
  const json* ch = channel(snaps, id);
  ASSERT_NE(ch, nullptr);
  EXPECT_EQ(ch->value("path", ""), truth.at("path"));
}

TEST(DataKinds, FilesAreNotFollowedWithoutTheOption) {
  json truth;
  auto snaps = trace_gen({"--kind", "file", "--msgs", "50", "--size", "1000"}, truth);
  for (const auto& s : snaps)
    for (const auto& f : s.at("flows")) EXPECT_NE(f.at("kind"), "file") << f.dump();
}

// A peer in another network namespace, over a veth pair, is remote: each
// side's flows have the other's address in place of a task.
class NetNs {
 public:
  NetNs() {
    const int n = getpid() % 200 + 20;
    name_ = "ipctop-e2e-" + std::to_string(getpid());
    host_if_ = "ipte" + std::to_string(getpid()) + "h";
    ns_if_ = "ipte" + std::to_string(getpid()) + "n";
    host_ = "10.213." + std::to_string(n) + ".1";
    peer_ = "10.213." + std::to_string(n) + ".2";
    ok_ = sh("ip netns add " + name_) && sh("ip link add " + host_if_ + " type veth peer name " + ns_if_) &&
          sh("ip link set " + ns_if_ + " netns " + name_) &&
          sh("ip addr add " + host_ + "/30 dev " + host_if_) && sh("ip link set " + host_if_ + " up") &&
          sh("ip -n " + name_ + " addr add " + peer_ + "/30 dev " + ns_if_) &&
          sh("ip -n " + name_ + " link set " + ns_if_ + " up") &&
          sh("ip -n " + name_ + " link set lo up");
  }
  ~NetNs() {
    // Deleting the namespace deletes its end of the pair, and so the pair.
    sh("ip link del " + host_if_ + " 2>/dev/null");
    sh("ip netns del " + name_ + " 2>/dev/null");
  }
  bool ok() const { return ok_; }
  const std::string& name() const { return name_; }
  const std::string& host() const { return host_; }
  const std::string& peer() const { return peer_; }

 private:
  static bool sh(const std::string& cmd) { return std::system(cmd.c_str()) == 0; }
  std::string name_, host_if_, ns_if_, host_, peer_;
  bool ok_ = false;
};

TEST(DataKinds, RemotePeerIsShownByItsAddress) {
  for (const char* kind : {"tcp", "udp"}) {
    SCOPED_TRACE(kind);
    NetNs ns;
    ASSERT_TRUE(ns.ok()) << "cannot create a network namespace with a veth pair";
    json truth;
    auto snaps = trace_gen({"--kind", kind, "--msgs", "200", "--size", "700", "--reply-size", "90",
                            "--netns", ns.name(), "--address", ns.peer(), "--linger-ms", "300"},
                           truth);
    const std::string a_pid = std::to_string(truth.at("sender_pid").get<int>());
    const std::string b_addr = ns.peer() + ":" + port(truth, "b_port");
    const std::string a_addr = ns.host() + ":" + port(truth, "a_port");
    // Sum the flows by (src, dst), a remote end by its address.
    std::map<std::pair<std::string, std::string>, std::pair<uint64_t, uint64_t>> got;
    auto end = [](const json& e) {
      return e.contains("addr") ? e.at("addr").get<std::string>()
                                : std::to_string(e.at("tid").get<int>());
    };
    for (const auto& s : snaps) {
      for (const auto& f : s.at("flows")) {
        if (f.at("kind") != kind) continue;
        {
          auto& g = got[{end(f.at("src")), end(f.at("dst"))}];
          g.first += f.at("bytes").get<uint64_t>();
          g.second += f.at("messages").get<uint64_t>();
          for (const char* side : {"src", "dst"})
            if (f.at(side).contains("addr")) {
              EXPECT_FALSE(f.at(side).contains("pid")) << f.dump();
            }
        }
      }
    }
    const auto& r = truth.at("remote_flows");
    ASSERT_EQ(r.size(), 4u);
    const std::string a_tid = std::to_string(r.at(0).at("src_tid").get<int>());
    const std::string b_tid = std::to_string(r.at(2).at("src_tid").get<int>());
    const std::pair<std::string, std::string> keys[] = {
        {a_tid, b_addr}, {b_addr, a_tid}, {b_tid, a_addr}, {a_addr, b_tid}};
    for (size_t i = 0; i < 4; ++i) {
      SCOPED_TRACE(keys[i].first + " -> " + keys[i].second);
      ASSERT_TRUE(got.count(keys[i]));
      EXPECT_EQ(got[keys[i]].first, r.at(i).at("bytes").get<uint64_t>());
      EXPECT_EQ(got[keys[i]].second, r.at(i).at("messages").get<uint64_t>());
    }
    // Never joined as if local.
    EXPECT_FALSE(got.count({a_tid, b_tid}));
    EXPECT_EQ(total_lost(snaps), 0u);
    (void)a_pid;
  }
}

// Both ends on this machine, at an address that is not loopback: joined
// thread to thread like loopback.
TEST(DataKinds, OwnNonLoopbackAddressIsLocal) {
  NetNs ns;  // only for an address of ours that exists on every machine
  ASSERT_TRUE(ns.ok()) << "cannot create a veth pair";
  for (const char* kind : {"udp", "tcp"}) {
    SCOPED_TRACE(kind);
    json truth;
    auto snaps = trace_gen({"--kind", kind, "--msgs", "300", "--size", "500", "--reply-size", "77",
                            "--address", ns.host()},
                           truth);
    expect_flows(truth, snaps);
    const std::string a = ns.host() + ":" + port(truth, "a_port"),
                      b = ns.host() + ":" + port(truth, "b_port");
    EXPECT_EQ(flow_channel(snaps, truth, 0), std::string(kind) + ":" + a + "->" + b);
  }
}

// Traffic from ordinary tools: nc over loopback, and Python's
// multiprocessing queue (a pipe) and socket module.
TEST(DataKinds, NetcatOverLoopback) {
  TempDir dir;
  Tracer tracer;
  ASSERT_TRUE(tracer.wait_attached()) << tracer.err();
  // A port that was free a moment ago (the kernel's choice for port 0).
  std::string port;
  {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof in;
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&in), sizeof in), 0);
    ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&in), &len), 0);
    port = std::to_string(ntohs(in.sin_port));
    close(fd);
  }
  pid_t server = spawn({"/bin/sh", "-c", "exec nc -l 127.0.0.1 " + port + " > /dev/null"},
                       dir.file("so"), dir.file("se"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  pid_t client = spawn({"/bin/sh", "-c",
                        "head -c 777777 /dev/zero | exec nc -N 127.0.0.1 " + port},
                       dir.file("co"), dir.file("ce"));
  Exit c = wait_bounded(client, std::chrono::seconds(20));
  Exit s = wait_bounded(server, std::chrono::seconds(20));
  ASSERT_TRUE(c.exited && c.code == 0) << read_file(dir.file("ce"));
  ASSERT_TRUE(s.exited && s.code == 0) << read_file(dir.file("se"));
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  ASSERT_TRUE(tracer.stop().exited);
  uint64_t bytes = 0;
  for (const auto& snap : tracer.snapshots())
    for (const auto& f : snap.at("flows"))
      if (f.at("kind") == "tcp" && f.at("dst").value("pid", 0) == server) {
        EXPECT_EQ(f.at("src").at("comm"), "nc");
        EXPECT_EQ(f.at("dst").at("comm"), "nc");
        EXPECT_NE(f.at("channel").get<std::string>().find("->127.0.0.1:" + port), std::string::npos);
        bytes += f.at("bytes").get<uint64_t>();
      }
  EXPECT_EQ(bytes, 777777u);
}

// Shared memory made by ordinary tools: a SysV segment from ipcmk (which
// exits at once, leaving it unattached) and a POSIX one from Python's
// multiprocessing.shared_memory (shm_open under /dev/shm, mapped shared).
TEST(DataKinds, IpcmkAndPythonSharedMemory) {
  TempDir dir;
  Tracer tracer;
  ASSERT_TRUE(tracer.wait_attached()) << tracer.err();
  pid_t mk = spawn({"/usr/bin/env", "ipcmk", "-M", "65536"}, dir.file("mk"), dir.file("mke"));
  Exit me = wait_bounded(mk, std::chrono::seconds(10));
  ASSERT_TRUE(me.exited && me.code == 0) << read_file(dir.file("mke"));
  // "Shared memory id: N"
  const std::string mk_out = read_file(dir.file("mk"));
  const size_t colon = mk_out.rfind(':');
  ASSERT_NE(colon, std::string::npos) << mk_out;
  const int shmid = std::stoi(mk_out.substr(colon + 1));
  const std::string script = R"(
import sys, time
from multiprocessing import shared_memory
m = shared_memory.SharedMemory(create=True, size=8192)
m.buf[0] = 1
print(m.name, flush=True)
time.sleep(1.5)
m.close()
m.unlink()
)";
  pid_t py = spawn({"/usr/bin/env", "python3", "-c", script}, dir.file("o"), dir.file("e"));
  Exit e = wait_bounded(py, std::chrono::seconds(30));
  // The segment ipcmk made is removed whatever happens next.
  pid_t rm = spawn({"/usr/bin/env", "ipcrm", "-m", std::to_string(shmid)}, dir.file("rm"),
                   dir.file("rme"));
  Exit re = wait_bounded(rm, std::chrono::seconds(10));
  EXPECT_TRUE(re.exited && re.code == 0) << read_file(dir.file("rme"));
  ASSERT_TRUE(e.exited && e.code == 0) << read_file(dir.file("e"));
  std::string name = read_file(dir.file("o"));
  while (!name.empty() && name.back() == '\n') name.pop_back();
  ASSERT_FALSE(name.empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  ASSERT_TRUE(tracer.stop().exited);
  bool sysv = false, posix = false;
  for (const auto& snap : tracer.snapshots())
    for (const auto& c : snap.at("channels")) {
      if (c.at("id") == "sysv_shm:" + std::to_string(shmid)) {
        sysv = true;
        EXPECT_EQ(c.value("size", 0), 65536) << c.dump();
        EXPECT_EQ(c.value("creator", 0), mk) << c.dump();
      }
      if (c.at("kind") == "posix_shm" && c.value("path", "") == "/dev/shm/" + name) {
        for (const auto& ep : c.at("endpoints"))
          if (ep.at("pid") == py && ep.at("role") == "attached") posix = true;
        EXPECT_EQ(c.value("size", 0), 8192) << c.dump();
      }
    }
  EXPECT_TRUE(sysv) << "the segment ipcmk made, id " << shmid;
  EXPECT_TRUE(posix) << "Python's /dev/shm/" << name << " attached by " << py;
}

TEST(DataKinds, PythonSocketsAndMultiprocessing) {
  TempDir dir;
  Tracer tracer;
  ASSERT_TRUE(tracer.wait_attached()) << tracer.err();
  // A child process sends 5 UDP datagrams of 1234 bytes to its parent, and
  // 10000 bytes over a TCP connection.
  const std::string script = R"(
import multiprocessing as mp, socket
def child(up, tp):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for _ in range(5): u.sendto(b'u' * 1234, ('127.0.0.1', up))
    t = socket.create_connection(('127.0.0.1', tp)); t.sendall(b't' * 10000); t.close()
if __name__ == '__main__':
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(('127.0.0.1', 0))
    l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen(1)
    p = mp.Process(target=child, args=(u.getsockname()[1], l.getsockname()[1])); p.start()
    for _ in range(5): assert len(u.recvfrom(4096)[0]) == 1234
    c, _ = l.accept(); n = 0
    while True:
        b = c.recv(65536)
        if not b: break
        n += len(b)
    assert n == 10000
    p.join()
)";
  pid_t py = spawn({"/usr/bin/env", "python3", "-c", script}, dir.file("o"), dir.file("e"));
  Exit e = wait_bounded(py, std::chrono::seconds(30));
  ASSERT_TRUE(e.exited && e.code == 0) << read_file(dir.file("e"));
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  ASSERT_TRUE(tracer.stop().exited);
  uint64_t udp = 0, udp_msgs = 0, tcp = 0;
  for (const auto& snap : tracer.snapshots())
    for (const auto& f : snap.at("flows")) {
      if (f.at("dst").value("pid", 0) != py) continue;
      if (f.at("kind") == "udp") {
        udp += f.at("bytes").get<uint64_t>();
        udp_msgs += f.at("messages").get<uint64_t>();
      }
      if (f.at("kind") == "tcp") tcp += f.at("bytes").get<uint64_t>();
    }
  EXPECT_EQ(udp, 5u * 1234);
  EXPECT_EQ(udp_msgs, 5u);
  EXPECT_EQ(tcp, 10000u);
}

}  // namespace
}  // namespace e2e
