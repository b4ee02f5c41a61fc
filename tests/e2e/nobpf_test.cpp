// The mode without BPF, end to end: ipctop run as an unprivileged user (uid 65534, no
// groups, no capabilities) falls back by itself, says so once, and shows the pipe, the
// unix socketpair and the loopback TCP connection between two processes of that same user
// with both ends; context switch counts agree with /proc.
#include <arpa/inet.h>
#include <grp.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <set>

#include "harness.h"

namespace e2e {
namespace {

constexpr uid_t kNobody = 65534;

bool drop_to_nobody() {
  return setgroups(0, nullptr) == 0 && setresgid(kNobody, kNobody, kNobody) == 0 &&
         setresuid(kNobody, kNobody, kNobody) == 0;
}

uint64_t inode_of(int fd) {
  struct stat st {};
  fstat(fd, &st);
  return st.st_ino;
}

// A process of uid 65534 that holds `fds` at descriptors 3, 4, ... and sleeps.
class Holder {
 public:
  explicit Holder(std::vector<int> fds) {
    pid_ = spawn({"/bin/sleep", "30"}, dir_.file("out"), dir_.file("err"), [&fds] {
      // Out of the way first: a source may already sit at a target number, where dup2
      // would neither move it nor clear its CLOEXEC.
      std::vector<int> high;
      for (int fd : fds) high.push_back(fcntl(fd, F_DUPFD_CLOEXEC, 100));
      for (size_t i = 0; i < high.size(); ++i)
        if (high[i] < 0 || dup2(high[i], static_cast<int>(3 + i)) < 0) return false;
      return drop_to_nobody();
    });
  }
  ~Holder() {
    kill(pid_, SIGKILL);
    wait_bounded(pid_, std::chrono::seconds(5));
  }
  pid_t pid() const { return pid_; }

 private:
  TempDir dir_;
  pid_t pid_;
};

struct IpctopRun {
  Exit exit;
  std::vector<json> snaps;
  std::string err;
};

IpctopRun run_ipctop(const std::vector<std::string>& args, bool as_nobody) {
  TempDir dir;
  std::vector<std::string> argv{IPCTOP_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  pid_t pid = spawn(argv, dir.file("out"), dir.file("err"),
                    [as_nobody] { return !as_nobody || drop_to_nobody(); });
  IpctopRun r;
  r.exit = wait_bounded(pid, std::chrono::seconds(30));
  r.err = read_file(dir.file("err"));
  r.snaps = parse_ndjson(read_file(dir.file("out")));
  return r;
}

const json* channel(const json& snap, const std::string& id) {
  for (const auto& c : snap.at("channels"))
    if (c.at("id") == id) return &c;
  return nullptr;
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

TEST(NoBpf, UnprivilegedUserSeesThePipeSocketpairAndTcpBetweenItsProcesses) {
  int p[2], sv[2];
  ASSERT_EQ(pipe2(p, O_CLOEXEC), 0);
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(listener, 1), 0);
  socklen_t len = sizeof addr;
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  int client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_EQ(connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  int server = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  ASSERT_GE(server, 0);
  const uint64_t pipe_ino = inode_of(p[0]);
  const uint64_t unix_ino = std::min(inode_of(sv[0]), inode_of(sv[1]));
  const uint64_t tcp_ino = std::min(inode_of(client), inode_of(server));

  Holder writer({p[1], sv[0], client});
  Holder reader({p[0], sv[1], server});
  // Only the two holders keep the channels now.
  for (int fd : {p[0], p[1], sv[0], sv[1], client, server, listener}) close(fd);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // both have exec'd sleep

  IpctopRun r = run_ipctop({"--json", "-n", "1", "-d", "0.3"}, true);
  ASSERT_TRUE(r.exit.exited && r.exit.code == 0) << r.err;
  // Told once why, and that it continues.
  EXPECT_EQ(count(r.err, "not permitted to load BPF programs"), 1u) << r.err;
  EXPECT_EQ(count(r.err, "continuing without BPF"), 1u) << r.err;
  ASSERT_EQ(r.snaps.size(), 1u);
  const json& s = r.snaps[0];
  EXPECT_EQ(s.at("source"), "procfs");
  EXPECT_TRUE(s.at("flows").empty());
  EXPECT_GT(s.at("unreadable_processes").get<uint64_t>(), 0u) << "root's processes are hidden";

  const uint32_t w = static_cast<uint32_t>(writer.pid()), rd = static_cast<uint32_t>(reader.pid());
  const json* pipe = channel(s, "pipe:[" + std::to_string(pipe_ino) + "]");
  ASSERT_NE(pipe, nullptr) << s.at("channels").dump();
  EXPECT_EQ(pipe->at("kind"), "pipe");
  EXPECT_FALSE(pipe->contains("bytes"));
  std::set<std::tuple<uint32_t, std::string, std::vector<uint32_t>>> ends;
  for (const auto& e : pipe->at("endpoints"))
    ends.insert({e.at("pid"), e.at("role"), e.at("fds").get<std::vector<uint32_t>>()});
  EXPECT_EQ(ends, (std::set<std::tuple<uint32_t, std::string, std::vector<uint32_t>>>{
                      {w, "writer", {3}}, {rd, "reader", {3}}}))
      << pipe->dump();

  for (const auto& [id, kind, fd] :
       {std::tuple{"unix:[" + std::to_string(unix_ino) + "]", "unix_stream", 4u},
        std::tuple{"tcp:[" + std::to_string(tcp_ino) + "]", "tcp", 5u}}) {
    const json* c = channel(s, id);
    ASSERT_NE(c, nullptr) << id << " missing: " << s.at("channels").dump();
    EXPECT_EQ(c->at("kind"), kind);
    std::set<std::tuple<uint32_t, std::string, std::vector<uint32_t>>> peers;
    for (const auto& e : c->at("endpoints"))
      peers.insert({e.at("pid"), e.at("role"), e.at("fds").get<std::vector<uint32_t>>()});
    EXPECT_EQ(peers, (std::set<std::tuple<uint32_t, std::string, std::vector<uint32_t>>>{
                         {w, "peer", {fd}}, {rd, "peer", {fd}}}))
        << c->dump();
  }
  std::set<uint32_t> pids;
  for (const auto& proc : s.at("processes")) {
    pids.insert(proc.at("pid").get<uint32_t>());
    EXPECT_FALSE(proc.contains("tx_bytes"));
  }
  EXPECT_TRUE(pids.contains(w) && pids.contains(rd));
}

// A thread that sleeps 2 ms in a loop switches out voluntarily about 500 times a second:
// the counts per interval match /proc's own over the run, and --pid keeps only it.
TEST(NoBpf, ContextSwitchDeltasAgreeWithProc) {
  pid_t child = fork();
  if (child == 0) {
    if (!drop_to_nobody()) _exit(1);
    for (int i = 0; i < 2500; ++i) usleep(2000);  // at most ~6 s
    _exit(0);
  }
  auto voluntary = [child] {
    std::string status = read_file("/proc/" + std::to_string(child) + "/status");
    auto pos = status.find("\nvoluntary_ctxt_switches:");
    return pos == std::string::npos ? 0ull : std::stoull(status.substr(pos + 25));
  };
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const uint64_t before = voluntary();
  IpctopRun r = run_ipctop({"--no-bpf", "--json", "-n", "3", "-d", "0.4", "-p", std::to_string(child)},
                     false);
  const uint64_t after = voluntary();
  kill(child, SIGKILL);
  wait_bounded(child, std::chrono::seconds(5));

  ASSERT_TRUE(r.exit.exited && r.exit.code == 0) << r.err;
  EXPECT_EQ(count(r.err, "not permitted"), 0u) << "forced, not a fallback: " << r.err;
  ASSERT_EQ(r.snaps.size(), 3u);
  uint64_t sum = 0;
  for (const auto& s : r.snaps) {
    ASSERT_EQ(s.at("processes").size(), 1u) << s.at("processes").dump();
    const json& proc = s.at("processes")[0];
    EXPECT_EQ(proc.at("pid"), child);
    ASSERT_EQ(proc.at("threads").size(), 1u);
    const json& t = proc.at("threads")[0];
    const uint64_t v = t.at("voluntary").get<uint64_t>();
    const double interval = s.at("interval_s").get<double>();
    EXPECT_GE(v, 20u) << "a 2 ms sleeper in " << interval << " s";
    EXPECT_LE(v, static_cast<uint64_t>(interval / 0.002) + 10) << interval;
    EXPECT_EQ(t.at("ctx_switches").get<uint64_t>(), v + t.at("involuntary").get<uint64_t>());
    EXPECT_GT(t.at("on_cpu_ns").get<uint64_t>(), 0u);
    sum += v;
  }
  // The snapshots cover part of the time between the two reads of /proc.
  EXPECT_LE(sum, after - before);
  EXPECT_GE(sum * 10, (after - before) * 7) << "three 0.4 s intervals of a ~1.3 s window";
}

}  // namespace
}  // namespace e2e
