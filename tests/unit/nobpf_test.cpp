// The mode without BPF: fd readers on fixture trees built at run time (symlinks named as
// the kernel names them, fdinfo files, a real FIFO), the sock_diag parsers on netlink
// replies built byte by byte, the joining of channels, the Collector's deltas on a fixture
// tree, the JSON of a procfs snapshot, and the readers on this very process.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <mqueue.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "nobpf/Channels.h"
#include "nobpf/Collector.h"
#include "procfs/Fds.h"
#include "procfs/SockDiag.h"
#include "render/json/Json.h"

namespace {

namespace fs = std::filesystem;
using namespace ipctop;
using procfs::Access;
using procfs::FdEntry;
using procfs::FdKind;

// A scratch proc tree, removed at the end.
class Tree {
 public:
  Tree() {
    char tmpl[] = "/tmp/ipctop-nobpf-XXXXXX";
    root_ = mkdtemp(tmpl);
  }
  ~Tree() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  const std::string& root() const { return root_; }
  void file(const std::string& rel, const std::string& text) {
    fs::path p = fs::path(root_) / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }
  void link(const std::string& rel, const std::string& target) {
    fs::path p = fs::path(root_) / rel;
    fs::create_directories(p.parent_path());
    fs::create_symlink(target, p);
  }
  void fd(int pid, int fd, const std::string& target, const char* flags) {
    link(std::to_string(pid) + "/fd/" + std::to_string(fd), target);
    if (flags)
      file(std::to_string(pid) + "/fdinfo/" + std::to_string(fd),
           std::string("pos:\t0\nflags:\t") + flags + "\nmnt_id:\t15\nino:\t1\n");
  }
  void task(int pid, int tid, const std::string& name, uint64_t vol, uint64_t invol,
            uint64_t ns, int ppid = 1) {
    std::string status = "Name:\t" + name + "\nTgid:\t" + std::to_string(pid) + "\nPid:\t" +
                         std::to_string(tid) + "\nPPid:\t" + std::to_string(ppid) +
                         "\nUid:\t1000\t1000\t1000\t1000\nvoluntary_ctxt_switches:\t" +
                         std::to_string(vol) + "\nnonvoluntary_ctxt_switches:\t" +
                         std::to_string(invol) + "\n";
    std::string base = std::to_string(pid) + "/task/" + std::to_string(tid) + "/";
    file(base + "status", status);
    file(base + "schedstat", std::to_string(ns) + " 0 1\n");
    if (pid == tid) file(std::to_string(pid) + "/status", status);
    file(std::to_string(pid) + "/cmdline", name + '\0');
  }

 private:
  std::string root_;
};

// ---------------------------------------------------------------------------- fd readers

TEST(FdInfo, AccessModeFromTheFlagsLine) {
  EXPECT_EQ(procfs::parse_fdinfo_access("pos:\t0\nflags:\t02000000\nmnt_id:\t15\n"),
            Access::read);
  EXPECT_EQ(procfs::parse_fdinfo_access("pos:\t0\nflags:\t02000001\n"), Access::write);
  EXPECT_EQ(procfs::parse_fdinfo_access("flags:\t0104002\n"), Access::read_write);
  EXPECT_FALSE(procfs::parse_fdinfo_access("pos:\t0\nflags:\t0200000"));  // cut
  EXPECT_FALSE(procfs::parse_fdinfo_access("pos:\t0\nflags:\t09\n"));     // not octal
  EXPECT_FALSE(procfs::parse_fdinfo_access("pos:\t0\nflags:\t\n"));
  EXPECT_FALSE(procfs::parse_fdinfo_access("pos:\t0\n"));
  EXPECT_FALSE(procfs::parse_fdinfo_access("pos:\t0\nflags:\t03\n"));  // O_ACCMODE 3
}

TEST(Fds, ClassifiesPipesSocketsAndFifosAndSkipsTheRest) {
  Tree t;
  const std::string fifo = t.root() + "/the fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  struct stat st {};
  ASSERT_EQ(stat(fifo.c_str(), &st), 0);
  t.fd(100, 0, "pipe:[500]", "00");
  t.fd(100, 1, "pipe:[501]", "01");
  t.fd(100, 3, "socket:[600]", nullptr);
  t.fd(100, 4, fifo, "02");
  t.fd(100, 5, "anon_inode:[eventfd]", "02");
  t.fd(100, 6, "/dev/null", "02");
  t.fd(100, 7, "pipe:[oops]", "00");
  t.fd(100, 8, "pipe:[502]", nullptr);  // no fdinfo: closed meanwhile
  t.fd(100, 12, "net:[4026531840]", "00");
  procfs::ProcessFds got = procfs::ipc_fds(procfs::ProcFs(t.root()), 100);
  EXPECT_EQ(got.error, 0);
  ASSERT_EQ(got.fds.size(), 4u);
  EXPECT_EQ(got.fds[0].fd, 0);
  EXPECT_EQ(got.fds[0].kind, FdKind::pipe);
  EXPECT_EQ(got.fds[0].ino, 500u);
  EXPECT_EQ(got.fds[0].access, Access::read);
  EXPECT_EQ(got.fds[1].ino, 501u);
  EXPECT_EQ(got.fds[1].access, Access::write);
  EXPECT_EQ(got.fds[2].kind, FdKind::socket);
  EXPECT_EQ(got.fds[2].ino, 600u);
  EXPECT_EQ(got.fds[3].kind, FdKind::fifo);
  EXPECT_EQ(got.fds[3].ino, st.st_ino);
  EXPECT_EQ(got.fds[3].dev_major, major(st.st_dev));
  EXPECT_EQ(got.fds[3].dev_minor, minor(st.st_dev));
  EXPECT_EQ(got.fds[3].access, Access::read_write);
  EXPECT_EQ(got.fds[3].target, fifo);
}

TEST(Fds, AMissingProcessIsAnErrorNotAnEmptyList) {
  Tree t;
  procfs::ProcessFds got = procfs::ipc_fds(procfs::ProcFs(t.root()), 4242);
  EXPECT_EQ(got.error, ENOENT);
  EXPECT_TRUE(got.fds.empty());
}

// This very process: a pipe, a socketpair, a POSIX queue and a FIFO, as the kernel shows them.
TEST(FdsLive, FindsThisProcesssPipeSocketpairQueueAndFifo) {
  int p[2], sv[2];
  ASSERT_EQ(pipe(p), 0);
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
  const std::string qname = "/ipctop-unit-" + std::to_string(getpid());
  mq_attr attr{};
  attr.mq_maxmsg = 4;
  attr.mq_msgsize = 64;
  mqd_t q = mq_open(qname.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0600, &attr);
  ASSERT_NE(q, static_cast<mqd_t>(-1)) << strerror(errno);
  ASSERT_EQ(mq_send(q, "hello", 5, 0), 0);
  Tree t;
  const std::string fifo = t.root() + "/fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  int ff = open(fifo.c_str(), O_RDWR);
  ASSERT_GE(ff, 0);

  struct stat pst {}, s0 {}, s1 {};
  fstat(p[0], &pst);
  fstat(sv[0], &s0);
  fstat(sv[1], &s1);
  procfs::ProcessFds got = procfs::ipc_fds(procfs::ProcFs(), getpid());
  std::map<int, FdEntry> by_fd;
  for (auto& e : got.fds) by_fd[e.fd] = e;
  ASSERT_TRUE(by_fd.contains(p[0]) && by_fd.contains(p[1]));
  EXPECT_EQ(by_fd[p[0]].kind, FdKind::pipe);
  EXPECT_EQ(by_fd[p[0]].ino, pst.st_ino);
  EXPECT_EQ(by_fd[p[0]].access, Access::read);
  EXPECT_EQ(by_fd[p[1]].access, Access::write);
  ASSERT_TRUE(by_fd.contains(sv[0]));
  EXPECT_EQ(by_fd[sv[0]].kind, FdKind::socket);
  EXPECT_EQ(by_fd[sv[0]].ino, s0.st_ino);
  ASSERT_TRUE(by_fd.contains(q)) << "the queue was not recognised";
  EXPECT_EQ(by_fd[q].kind, FdKind::mqueue);
  EXPECT_EQ(by_fd[q].target, qname);
  EXPECT_EQ(by_fd[q].access, Access::write);
  ASSERT_TRUE(by_fd.contains(ff));
  EXPECT_EQ(by_fd[ff].kind, FdKind::fifo);
  EXPECT_EQ(by_fd[ff].access, Access::read_write);

  // sock_diag knows the pair, each the other's peer.
  procfs::SocketTables tables = procfs::dump_sockets();
  EXPECT_TRUE(tables.errors.empty()) << tables.errors.front();
  ASSERT_TRUE(tables.unix_sockets.contains(s0.st_ino));
  EXPECT_EQ(tables.unix_sockets[s0.st_ino].peer, s1.st_ino);
  EXPECT_EQ(tables.unix_sockets[s1.st_ino].peer, s0.st_ino);
  EXPECT_EQ(tables.unix_sockets[s0.st_ino].type, SOCK_STREAM);

  // Joined: one pipe channel, one unix_stream channel, one queue with its bytes queued.
  nobpf::FdTable table{{static_cast<uint32_t>(getpid()), got.fds}};
  auto channels = nobpf::join_channels(table, tables);
  limits::Objects objects;
  limits::PosixMq mq;
  mq.name = qname;
  mq.qsize = 5;
  objects.posix_mq.push_back(mq);
  nobpf::add_object_channels(objects, channels);
  std::map<std::string, ChannelRow> by_id;
  for (auto& c : channels) by_id[c.id] = c;
  const std::string pipe_id = "pipe:[" + std::to_string(pst.st_ino) + "]";
  ASSERT_TRUE(by_id.contains(pipe_id));
  EXPECT_EQ(by_id[pipe_id].endpoints.size(), 2u);
  const std::string unix_id = "unix:[" + std::to_string(std::min(s0.st_ino, s1.st_ino)) + "]";
  ASSERT_TRUE(by_id.contains(unix_id));
  EXPECT_EQ(by_id[unix_id].kind, Kind::unix_stream);
  ASSERT_EQ(by_id[unix_id].endpoints.size(), 1u);  // both ends in this one process
  EXPECT_EQ(by_id[unix_id].endpoints[0].fds.size(), 2u);
  ASSERT_TRUE(by_id.contains("posix_mq:" + qname));
  EXPECT_EQ(by_id["posix_mq:" + qname].queued, 5u);

  close(ff);
  mq_close(q);
  mq_unlink(qname.c_str());
  close(p[0]);
  close(p[1]);
  close(sv[0]);
  close(sv[1]);
}

// ------------------------------------------------------------------- sock_diag parsers

// Netlink replies built as the kernel lays them out.
class Reply {
 public:
  template <typename Msg>
  void message(uint16_t type, const Msg& msg, const std::vector<std::pair<uint16_t, std::string>>& attrs = {}) {
    std::string body(reinterpret_cast<const char*>(&msg), sizeof msg);
    body.resize(NLMSG_ALIGN(body.size()), '\0');
    for (const auto& [atype, payload] : attrs) {
      rtattr a{};
      a.rta_len = static_cast<unsigned short>(RTA_LENGTH(payload.size()));
      a.rta_type = atype;
      std::string chunk(reinterpret_cast<const char*>(&a), sizeof a);
      chunk += payload;
      chunk.resize(RTA_ALIGN(chunk.size()), '\0');
      body += chunk;
    }
    nlmsghdr h{};
    h.nlmsg_len = static_cast<uint32_t>(NLMSG_LENGTH(body.size()));
    h.nlmsg_type = type;
    h.nlmsg_flags = NLM_F_MULTI;
    std::string all(reinterpret_cast<const char*>(&h), sizeof h);
    all.resize(NLMSG_HDRLEN, '\0');
    all += body;
    all.resize(NLMSG_ALIGN(all.size()), '\0');
    bytes_ += all;
  }
  void done() {
    int zero = 0;
    message(NLMSG_DONE, zero);
  }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

template <typename T>
std::string raw(const T& v) {
  return std::string(reinterpret_cast<const char*>(&v), sizeof v);
}

TEST(SockDiag, UnixReplyGivesPeerNameTypeAndQueue) {
  Reply r;
  unix_diag_msg a{};
  a.udiag_family = AF_UNIX;
  a.udiag_type = SOCK_STREAM;
  a.udiag_state = procfs::kStateEstablished;
  a.udiag_ino = 1001;
  unix_diag_rqlen rq{7, 0};
  r.message(SOCK_DIAG_BY_FAMILY, a,
            {{UNIX_DIAG_NAME, std::string("\0hidden", 7)},
             {UNIX_DIAG_PEER, raw(uint32_t{1002})},
             {UNIX_DIAG_RQLEN, raw(rq)}});
  unix_diag_msg l{};
  l.udiag_type = SOCK_SEQPACKET;
  l.udiag_state = procfs::kStateListen;
  l.udiag_ino = 1003;
  unix_diag_rqlen backlog{5, 128};
  r.message(SOCK_DIAG_BY_FAMILY, l,
            {{UNIX_DIAG_NAME, "/run/x.sock"}, {UNIX_DIAG_RQLEN, raw(backlog)}});
  r.done();
  procfs::SocketTables t;
  bool done = false;
  ASSERT_TRUE(procfs::parse_unix_diag(r.bytes().data(), r.bytes().size(), t, done));
  EXPECT_TRUE(done);
  ASSERT_EQ(t.unix_sockets.size(), 2u);
  EXPECT_EQ(t.unix_sockets[1001].peer, 1002u);
  EXPECT_EQ(t.unix_sockets[1001].path, "@hidden");
  EXPECT_EQ(t.unix_sockets[1001].rqueue, 7u);
  EXPECT_EQ(t.unix_sockets[1001].type, SOCK_STREAM);
  EXPECT_EQ(t.unix_sockets[1003].path, "/run/x.sock");
  EXPECT_EQ(t.unix_sockets[1003].peer, 0u);
  EXPECT_EQ(t.unix_sockets[1003].rqueue, 0u) << "a listener's backlog is not queued data";
}

TEST(SockDiag, ErrorsAndTruncationAreRefused) {
  Reply err;
  nlmsgerr e{};
  e.error = -ENOENT;
  err.message(NLMSG_ERROR, e);
  procfs::SocketTables t;
  bool done = false;
  EXPECT_FALSE(procfs::parse_unix_diag(err.bytes().data(), err.bytes().size(), t, done));

  Reply short_msg;
  short_msg.message(SOCK_DIAG_BY_FAMILY, uint32_t{1});  // shorter than unix_diag_msg
  EXPECT_FALSE(procfs::parse_unix_diag(short_msg.bytes().data(), short_msg.bytes().size(), t, done));
  EXPECT_FALSE(procfs::parse_inet_diag(short_msg.bytes().data(), short_msg.bytes().size(),
                                       IPPROTO_TCP, t, done));
  EXPECT_TRUE(t.unix_sockets.empty());

  Reply ok;
  unix_diag_msg a{};
  a.udiag_ino = 5;
  ok.message(SOCK_DIAG_BY_FAMILY, a);
  std::string cut = ok.bytes().substr(0, ok.bytes().size() - 4);
  EXPECT_FALSE(procfs::parse_unix_diag(cut.data(), cut.size(), t, done));
}

TEST(SockDiag, InetReplyGivesAddressesInHostOrder) {
  Reply r;
  inet_diag_msg m{};
  m.idiag_family = AF_INET;
  m.idiag_state = procfs::kStateEstablished;
  m.id.idiag_sport = htons(40000);
  m.id.idiag_dport = htons(5432);
  m.id.idiag_src[0] = htonl(0x7f000001);
  m.id.idiag_dst[0] = htonl(0x7f000002);
  m.idiag_rqueue = 3;
  m.idiag_inode = 77;
  r.message(SOCK_DIAG_BY_FAMILY, m);
  inet_diag_msg v6{};
  v6.idiag_family = AF_INET6;
  v6.id.idiag_sport = htons(80);
  v6.id.idiag_src[3] = htonl(1);  // ::1
  v6.idiag_inode = 78;
  r.message(SOCK_DIAG_BY_FAMILY, v6);
  r.done();
  procfs::SocketTables t;
  bool done = false;
  ASSERT_TRUE(procfs::parse_inet_diag(r.bytes().data(), r.bytes().size(), IPPROTO_TCP, t, done));
  EXPECT_TRUE(done);
  ASSERT_EQ(t.inet_sockets.size(), 2u);
  const auto& s = t.inet_sockets[0];
  EXPECT_EQ(s.ino, 77u);
  EXPECT_EQ(s.sport, 40000);
  EXPECT_EQ(s.dport, 5432);
  EXPECT_EQ(s.rqueue, 3u);
  EXPECT_EQ(procfs::inet_endpoint(s.family, s.src, s.sport), "127.0.0.1:40000");
  EXPECT_EQ(procfs::inet_endpoint(s.family, s.dst, s.dport), "127.0.0.2:5432");
  EXPECT_EQ(procfs::inet_endpoint(AF_INET6, t.inet_sockets[1].src, 80), "[::1]:80");
}

TEST(SockDiag, V4MappedAddressesOfADualStackSocketReadAsIpv4) {
  Reply r;
  inet_diag_msg m{};
  m.idiag_family = AF_INET6;
  m.id.idiag_sport = htons(5432);
  m.id.idiag_dport = htons(40000);
  m.id.idiag_src[2] = htonl(0xffff);
  m.id.idiag_src[3] = htonl(0x7f000001);
  m.id.idiag_dst[2] = htonl(0xffff);
  m.id.idiag_dst[3] = htonl(0x7f000001);
  r.message(SOCK_DIAG_BY_FAMILY, m);
  procfs::SocketTables t;
  bool done = false;
  ASSERT_TRUE(procfs::parse_inet_diag(r.bytes().data(), r.bytes().size(), IPPROTO_TCP, t, done));
  ASSERT_EQ(t.inet_sockets.size(), 1u);
  const auto& s = t.inet_sockets[0];
  EXPECT_EQ(s.family, AF_INET);
  EXPECT_EQ(procfs::inet_endpoint(s.family, s.src, s.sport), "127.0.0.1:5432");
  EXPECT_EQ(procfs::inet_endpoint(s.family, s.dst, s.dport), "127.0.0.1:40000");
}

// ----------------------------------------------------------------------- joining

FdEntry entry(int fd, FdKind kind, uint64_t ino, Access access, std::string target = "") {
  FdEntry e;
  e.fd = fd;
  e.kind = kind;
  e.ino = ino;
  e.access = access;
  e.target = std::move(target);
  return e;
}

procfs::InetSocket inet(uint64_t ino, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
                        uint8_t state = procfs::kStateEstablished, uint8_t proto = IPPROTO_TCP) {
  procfs::InetSocket s;
  s.ino = ino;
  s.protocol = proto;
  s.family = AF_INET;
  s.state = state;
  uint32_t a = htonl(src), b = htonl(dst);
  std::memcpy(s.src.data(), &a, 4);
  std::memcpy(s.dst.data(), &b, 4);
  s.sport = sport;
  s.dport = dport;
  return s;
}

std::map<std::string, ChannelRow> by_id(const std::vector<ChannelRow>& rows) {
  std::map<std::string, ChannelRow> out;
  for (const auto& r : rows) out[r.id] = r;
  return out;
}

TEST(JoinChannels, EveryKindWithItsHoldersAndRoles) {
  nobpf::FdTable fds;
  fds[10] = {entry(1, FdKind::pipe, 500, Access::write), entry(3, FdKind::socket, 900, Access::read_write),
             entry(4, FdKind::socket, 700, Access::read_write),
             entry(5, FdKind::mqueue, 41, Access::write, "/jobs (deleted)"),
             entry(6, FdKind::socket, 950, Access::read_write),
             entry(7, FdKind::socket, 960, Access::read_write),
             entry(8, FdKind::pipe, 500, Access::write)};
  fds[20] = {entry(0, FdKind::pipe, 500, Access::read), entry(3, FdKind::socket, 901, Access::read_write),
             entry(4, FdKind::socket, 701, Access::read_write),
             entry(5, FdKind::mqueue, 41, Access::read, "/jobs (deleted)")};
  FdEntry fifo = entry(9, FdKind::fifo, 33, Access::read_write, "/run/ctl");
  fifo.dev_major = 0;
  fifo.dev_minor = 27;
  fds[30] = {fifo};

  procfs::SocketTables sockets;
  sockets.unix_sockets[900] = {900, 901, SOCK_SEQPACKET, procfs::kStateEstablished, "", 10};
  sockets.unix_sockets[901] = {901, 900, SOCK_SEQPACKET, procfs::kStateEstablished, "/run/srv", 4};
  sockets.unix_sockets[960] = {960, 0, SOCK_STREAM, procfs::kStateListen, "/run/l", 0};
  sockets.inet_sockets = {inet(700, 0x7f000001, 40000, 0x7f000001, 5432),
                          inet(701, 0x7f000001, 5432, 0x7f000001, 40000),
                          inet(950, 0x0a000001, 40001, 0x08080808, 443),  // another host
                          inet(0, 0x7f000001, 5432, 0, 0, procfs::kStateListen)};
  sockets.inet_sockets[0].rqueue = 2;

  auto ch = by_id(nobpf::join_channels(fds, sockets));
  ASSERT_EQ(ch.size(), 5u) << "pipe, fifo, unix pair, tcp pair, queue";

  const ChannelRow& pipe = ch.at("pipe:[500]");
  EXPECT_EQ(pipe.kind, Kind::pipe);
  ASSERT_EQ(pipe.endpoints.size(), 2u);
  EXPECT_EQ(pipe.endpoints[0].pid, 10u);
  EXPECT_EQ(pipe.endpoints[0].tid, 0u);
  EXPECT_EQ(pipe.endpoints[0].role, "writer");
  EXPECT_EQ(pipe.endpoints[0].fds, (std::vector<uint32_t>{1, 8}));
  EXPECT_EQ(pipe.endpoints[1].pid, 20u);
  EXPECT_EQ(pipe.endpoints[1].role, "reader");

  const ChannelRow& f = ch.at("fifo:0:27:33");
  EXPECT_EQ(f.path, "/run/ctl");
  ASSERT_EQ(f.endpoints.size(), 2u) << "opened O_RDWR: both reader and writer";
  EXPECT_EQ(f.endpoints[0].role, "reader");
  EXPECT_EQ(f.endpoints[1].role, "writer");

  const ChannelRow& u = ch.at("unix:[900]");
  EXPECT_EQ(u.kind, Kind::unix_seqpacket);
  EXPECT_EQ(u.path, "/run/srv");
  EXPECT_EQ(u.queued, 14u);
  ASSERT_EQ(u.endpoints.size(), 2u);
  EXPECT_EQ(u.endpoints[0].role, "peer");
  EXPECT_EQ(u.endpoints[1].pid, 20u);

  const ChannelRow& tcp = ch.at("tcp:[700]");
  EXPECT_EQ(tcp.kind, Kind::tcp);
  EXPECT_EQ(tcp.path, "127.0.0.1:40000 <-> 127.0.0.1:5432");
  EXPECT_EQ(tcp.queued, 2u);
  ASSERT_EQ(tcp.endpoints.size(), 2u);

  const ChannelRow& q = ch.at("posix_mq:/jobs");
  EXPECT_EQ(q.kind, Kind::posix_mq);
  EXPECT_EQ(q.path, "/jobs");
  ASSERT_EQ(q.endpoints.size(), 2u);
  EXPECT_EQ(q.endpoints[0].role, "sender");
  EXPECT_EQ(q.endpoints[1].role, "receiver");
}

TEST(JoinChannels, APeerHeldByAnUnseenProcessLeavesOneEndpoint) {
  nobpf::FdTable fds;
  fds[10] = {entry(3, FdKind::socket, 901, Access::read_write)};
  procfs::SocketTables sockets;
  sockets.unix_sockets[900] = {900, 901, SOCK_STREAM, procfs::kStateEstablished, "/run/dbus", 0};
  sockets.unix_sockets[901] = {901, 900, SOCK_STREAM, procfs::kStateEstablished, "", 0};
  auto ch = by_id(nobpf::join_channels(fds, sockets));
  ASSERT_TRUE(ch.contains("unix:[900]"));
  EXPECT_EQ(ch["unix:[900]"].path, "/run/dbus");
  EXPECT_EQ(ch["unix:[900]"].endpoints.size(), 1u);
  // A socket sock_diag does not know (another namespace) is left out.
  fds[10].push_back(entry(4, FdKind::socket, 12345, Access::read_write));
  EXPECT_EQ(nobpf::join_channels(fds, sockets).size(), 1u);
}

TEST(ObjectChannels, SysvAndPosixObjectsWithTheirLastUsersAndSizes) {
  limits::Objects o;
  limits::SysvMsg q;
  q.msqid = 3;
  q.cbytes = 100;
  q.qbytes = 16384;
  q.last_sender.pid = 50;
  q.last_receiver.pid = 0;  // never received
  o.sysv_msg.push_back(q);
  limits::SysvShm m;
  m.shmid = 7;
  m.size = 4096;
  m.creator.pid = 60;
  m.last_user.pid = 60;
  o.sysv_shm.push_back(m);
  limits::PosixShm s;
  s.name = "/ring";
  s.size = 8192;
  s.open_by = {{70, {}}};
  s.mapped_by = {{70, {}}, {71, {}}};
  o.posix_shm.push_back(s);
  limits::PosixShm sem;
  sem.name = "/sem.lock";
  sem.semaphore = true;
  o.posix_shm.push_back(sem);
  std::vector<ChannelRow> rows;
  nobpf::add_object_channels(o, rows);
  auto ch = by_id(rows);
  ASSERT_EQ(ch.size(), 3u);
  const auto& msg = ch.at("sysv_msg:3");
  EXPECT_EQ(msg.queued, 100u);
  EXPECT_EQ(msg.capacity, 16384u);
  ASSERT_EQ(msg.endpoints.size(), 1u);
  EXPECT_EQ(msg.endpoints[0].role, "last_sender");
  const auto& shm = ch.at("sysv_shm:7");
  EXPECT_EQ(shm.size, 4096u);
  ASSERT_EQ(shm.endpoints.size(), 2u);
  EXPECT_EQ(shm.endpoints[0].role, "creator");
  EXPECT_EQ(shm.endpoints[1].role, "last_user");
  const auto& ring = ch.at("posix_shm:/ring");
  EXPECT_EQ(ring.size, 8192u);
  EXPECT_EQ(ring.endpoints.size(), 3u);
}

// ---------------------------------------------------------------------- Collector

TEST(Collector, ContextSwitchesAreDeltasAndOnlyActiveThreadsAreListed) {
  Tree t;
  t.task(100, 100, "server", 10, 2, 1000);
  t.task(100, 101, "worker", 50, 5, 5000);
  t.task(200, 200, "idle", 7, 0, 70);
  t.task(300, 300, "client", 1, 1, 10);
  t.fd(100, 3, "pipe:[800]", "00");
  t.fd(300, 1, "pipe:[800]", "01");
  nobpf::Config cfg;
  cfg.proc_root = t.root();
  cfg.sockets = [] { return procfs::SocketTables{}; };
  cfg.objects = [] { return limits::Objects{}; };
  nobpf::Collector c(cfg);

  // The interval: the worker ran and switched 13 times, a new thread appeared, the server's
  // main thread and "idle" did nothing.
  t.task(100, 101, "worker", 60, 8, 9000);
  t.task(100, 102, "new", 4, 0, 400);
  Snapshot s = c.collect(1700000000.0, 1.0);
  EXPECT_EQ(s.source, "procfs");
  EXPECT_TRUE(s.flows.empty());
  EXPECT_TRUE(s.cpus.empty());
  ASSERT_EQ(s.processes.size(), 2u) << "the server ran; the client holds a channel";
  const ProcessRow& server = s.processes[0];
  EXPECT_EQ(server.pid, 100u);
  EXPECT_EQ(server.comm, "server");
  ASSERT_EQ(server.threads.size(), 2u);
  EXPECT_EQ(server.threads[0].tid, 101u);
  EXPECT_EQ(server.threads[0].voluntary, 10u);
  EXPECT_EQ(server.threads[0].involuntary, 3u);
  EXPECT_EQ(server.threads[0].ctx_switches, 13u);
  EXPECT_EQ(server.threads[0].oncpu_ns, 4000u);
  EXPECT_EQ(server.threads[1].tid, 102u);
  EXPECT_EQ(server.threads[1].ctx_switches, 4u) << "born in the interval: all of its count";
  EXPECT_EQ(server.oncpu_ns, 4400u);
  EXPECT_EQ(s.processes[1].pid, 300u);
  EXPECT_TRUE(s.processes[1].threads.empty());
  ASSERT_EQ(s.channels.size(), 1u);
  EXPECT_EQ(s.channels[0].id, "pipe:[800]");

  // Nothing moved in the next interval: no thread, only the holders.
  Snapshot quiet = c.collect(1700000001.0, 1.0);
  for (const auto& p : quiet.processes) EXPECT_TRUE(p.threads.empty()) << p.pid;

  // --pid keeps the channels touching the pids, and only those processes.
  cfg.pids = {300};
  nobpf::Collector only(cfg);
  Snapshot f = only.collect(1700000002.0, 1.0);
  ASSERT_EQ(f.processes.size(), 1u);
  EXPECT_EQ(f.processes[0].pid, 300u);
  ASSERT_EQ(f.channels.size(), 1u);
  EXPECT_EQ(f.channels[0].endpoints.size(), 2u) << "the other end is still shown";
}

TEST(Collector, SocketErrorsAreReportedOnce) {
  Tree t;
  t.task(100, 100, "a", 1, 1, 1);
  nobpf::Config cfg;
  cfg.proc_root = t.root();
  cfg.sockets = [] {
    procfs::SocketTables s;
    s.errors.push_back("UDP sockets: No such file or directory");
    return s;
  };
  cfg.objects = [] { return limits::Objects{}; };
  nobpf::Collector c(cfg);
  c.collect(1, 1);
  EXPECT_EQ(c.take_new_errors().size(), 1u);
  c.collect(2, 1);
  EXPECT_TRUE(c.take_new_errors().empty());
}

// ---------------------------------------------------------------------------- JSON

TEST(ProcfsJson, NoTrafficKeysAndTheSourceIsSaid) {
  Snapshot s;
  s.source = "procfs";
  s.unreadable_processes = 3;
  ProcessRow p;
  p.pid = 10;
  p.threads.push_back(ThreadRow{11, "t", 5, 4, 1});
  s.processes.push_back(p);
  ChannelRow c;
  c.id = "pipe:[1]";
  c.queued = 9;
  EndpointRow e{10, 0, "writer"};
  e.fds = {1, 2};
  c.endpoints.push_back(e);
  s.channels.push_back(c);
  auto j = render::to_json(s);
  EXPECT_EQ(j["source"], "procfs");
  EXPECT_EQ(j["unreadable_processes"], 3);
  EXPECT_FALSE(j.contains("unattributed"));
  EXPECT_TRUE(j["flows"].empty());
  for (const char* k : {"tx_bytes", "rx_bytes"}) EXPECT_FALSE(j["processes"][0].contains(k)) << k;
  for (const char* k : {"tx_bytes", "rx_bytes", "tx_messages", "rx_messages"})
    EXPECT_FALSE(j["processes"][0]["threads"][0].contains(k)) << k;
  EXPECT_EQ(j["processes"][0]["threads"][0]["ctx_switches"], 5);
  EXPECT_FALSE(j["channels"][0].contains("bytes"));
  EXPECT_FALSE(j["channels"][0].contains("messages"));
  EXPECT_EQ(j["channels"][0]["queued"], 9);
  EXPECT_EQ(j["channels"][0]["endpoints"][0]["fds"], nlohmann::json({1, 2}));
  std::ostringstream line;
  render::write_ndjson(s, line);
  EXPECT_EQ(nlohmann::json::parse(line.str()), j);

  Snapshot traced;
  EXPECT_EQ(render::to_json(traced)["source"], "bpf");
  EXPECT_FALSE(render::to_json(traced).contains("unreadable_processes"));
}

}  // namespace
