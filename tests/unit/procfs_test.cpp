#include "procfs/ProcFs.h"

#include <grp.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <pthread.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <limits>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

using ipctop::procfs::ProcFs;
using ipctop::procfs::TaskStatus;
using namespace std::string_literals;

constexpr uint64_t kU64Max = std::numeric_limits<uint64_t>::max();

std::string fixture_root() { return std::string(IPCTOP_FIXTURES) + "/proc"; }

bool contains(const std::vector<int>& v, int x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

class ProcFsFixture : public testing::Test {
 protected:
  ProcFs proc_{fixture_root()};
};

// ---------------------------------------------------------------------------------------
// Fixture tree

TEST_F(ProcFsFixture, RootIsKeptWithoutTrailingSlash) {
  EXPECT_EQ(proc_.root(), fixture_root());
  EXPECT_EQ(ProcFs("/some/where//").root(), "/some/where");
  EXPECT_EQ(ProcFs().root(), "/proc");
  EXPECT_EQ(ProcFs("/").root(), "/");
}

TEST_F(ProcFsFixture, PidsListsOnlyCanonicalPositiveNumbers) {
  // Not listed: self, net, uptime, 12abc, 007, 0, 99999999999 (overflows int).
  EXPECT_EQ(proc_.pids(),
            (std::vector<int>{2, 100, 200, 201, 300, 301, 500, 600, 700, 701, 702, 703, 704}));
}

TEST_F(ProcFsFixture, Tids) {
  EXPECT_EQ(proc_.tids(100), (std::vector<int>{100, 101}));
  EXPECT_EQ(proc_.tids(2), (std::vector<int>{2}));
  // abc, 0, 007, -601, +602 and 99999999999 are ignored.
  EXPECT_EQ(proc_.tids(600), (std::vector<int>{603}));
  EXPECT_TRUE(proc_.tids(500).empty());
  EXPECT_TRUE(proc_.tids(400).empty());
  EXPECT_TRUE(proc_.tids(0).empty());
  EXPECT_TRUE(proc_.tids(-1).empty());
}

TEST_F(ProcFsFixture, Comm) {
  EXPECT_EQ(proc_.comm(100), "bash");
  EXPECT_EQ(proc_.comm(100, 100), "bash");
  EXPECT_EQ(proc_.comm(100, 101), "worker");
  EXPECT_EQ(proc_.comm(2), "kthreadd");
  EXPECT_EQ(proc_.comm(300), "trunc");
}

TEST_F(ProcFsFixture, CommIsReturnedRawNotSanitized) {
  EXPECT_EQ(proc_.comm(200), "\x1b[2J) x (evil");
  // Only the one terminating newline is stripped; the name's own newline stays.
  EXPECT_EQ(proc_.comm(201), ") S 9 (\n\\ 7");
}

TEST_F(ProcFsFixture, CommMissingOrEmpty) {
  EXPECT_EQ(proc_.comm(400), std::nullopt);       // no such pid
  EXPECT_EQ(proc_.comm(500), std::nullopt);       // exited: directory without files
  EXPECT_EQ(proc_.comm(600), std::nullopt);       // empty file
  EXPECT_EQ(proc_.comm(100, 999), std::nullopt);  // no such thread
  EXPECT_EQ(proc_.comm(0), std::nullopt);
  EXPECT_EQ(proc_.comm(-5), std::nullopt);
  EXPECT_EQ(proc_.comm(100, -1), std::nullopt);
}

TEST_F(ProcFsFixture, Status) {
  const auto s = proc_.status(100);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->name, "bash");
  EXPECT_EQ(s->tgid, 100);
  EXPECT_EQ(s->pid, 100);
  EXPECT_EQ(s->ppid, 1);
  EXPECT_EQ(s->uid, 1000u);
  EXPECT_EQ(s->voluntary_ctxt_switches, 150u);
  EXPECT_EQ(s->nonvoluntary_ctxt_switches, 7u);
}

TEST_F(ProcFsFixture, StatusOfThread) {
  const auto s = proc_.status(100, 101);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->name, "worker");
  EXPECT_EQ(s->tgid, 100);
  EXPECT_EQ(s->pid, 101);
  EXPECT_EQ(s->voluntary_ctxt_switches, 42u);
  EXPECT_EQ(proc_.status(100, 999), std::nullopt);
}

TEST_F(ProcFsFixture, StatusOfKernelThread) {
  const auto s = proc_.status(2);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->name, "kthreadd");
  EXPECT_EQ(s->ppid, 0);
  EXPECT_EQ(s->uid, 0u);
  EXPECT_EQ(proc_.ppid(2), 0);
}

TEST_F(ProcFsFixture, StatusNameIsRawAndUnescaped) {
  const auto hostile = proc_.status(200);
  ASSERT_TRUE(hostile.has_value());
  EXPECT_EQ(hostile->name, "\x1b[2J) x (evil");
  EXPECT_EQ(hostile->ppid, 100);
  // The kernel writes "\n" and "\\" in the Name line; the result must equal comm.
  const auto tricky = proc_.status(201);
  ASSERT_TRUE(tricky.has_value());
  EXPECT_EQ(tricky->name, ") S 9 (\n\\ 7");
  EXPECT_EQ(tricky->name, proc_.comm(201));
}

TEST_F(ProcFsFixture, StatusTruncated) {
  // Cut inside the PPid line: the partial "PPid:\t4" must not be read as 4.
  EXPECT_EQ(proc_.status(300), std::nullopt);
  EXPECT_EQ(proc_.ppid(300), std::nullopt);
  // Cut after Uid: identity is complete, the counters are not there.
  const auto s = proc_.status(301);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->name, "halfway");
  EXPECT_EQ(s->ppid, 42);
  EXPECT_EQ(s->voluntary_ctxt_switches, 0u);
  EXPECT_EQ(s->nonvoluntary_ctxt_switches, 0u);
}

TEST_F(ProcFsFixture, StatusMissingOrGarbage) {
  EXPECT_EQ(proc_.status(400), std::nullopt);
  EXPECT_EQ(proc_.status(500), std::nullopt);
  EXPECT_EQ(proc_.status(600), std::nullopt);
  EXPECT_EQ(proc_.ppid(400), std::nullopt);
  EXPECT_EQ(proc_.ppid(500), std::nullopt);
  EXPECT_EQ(proc_.ppid(600), std::nullopt);
  EXPECT_EQ(proc_.status(0), std::nullopt);
  EXPECT_EQ(proc_.status(-1), std::nullopt);
}

TEST_F(ProcFsFixture, StatusLargestValuesParse) {
  const auto s = proc_.status(700);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->ppid, std::numeric_limits<int>::max());
  EXPECT_EQ(s->uid, std::numeric_limits<uint32_t>::max());
  EXPECT_EQ(s->voluntary_ctxt_switches, kU64Max);
  EXPECT_EQ(s->voluntary_ctxt_switches, 18446744073709551615u);
}

TEST_F(ProcFsFixture, StatusOverflowAndNegativeAreRejected) {
  EXPECT_EQ(proc_.status(701), std::nullopt);  // voluntary_ctxt_switches = 2^64
  EXPECT_EQ(proc_.ppid(701), 1);               // its PPid line is fine
  EXPECT_EQ(proc_.status(702), std::nullopt);  // PPid = 2^31
  EXPECT_EQ(proc_.ppid(702), std::nullopt);
  EXPECT_EQ(proc_.status(703), std::nullopt);  // Uid = 2^32
  EXPECT_EQ(proc_.ppid(703), 1);
  EXPECT_EQ(proc_.status(704), std::nullopt);  // PPid = -1
  EXPECT_EQ(proc_.ppid(704), std::nullopt);
}

TEST_F(ProcFsFixture, Ppid) {
  EXPECT_EQ(proc_.ppid(100), 1);
  EXPECT_EQ(proc_.ppid(200), 100);
  EXPECT_EQ(proc_.ppid(0), std::nullopt);
}

TEST_F(ProcFsFixture, Cmdline) {
  EXPECT_EQ(proc_.cmdline(100),
            (std::vector<std::string>{"/bin/bash", "-l", "--rcfile", "my file.rc"}));
  // Kept raw, including an empty last argument.
  EXPECT_EQ(proc_.cmdline(200), (std::vector<std::string>{"\x1b]0;pwned\x07", "--opt=a b", ""}));
  // Rewritten argv without a terminating NUL.
  EXPECT_EQ(proc_.cmdline(201), (std::vector<std::string>{"no-terminating-nul"}));
  EXPECT_EQ(proc_.cmdline(600), (std::vector<std::string>{"", ""}));
}

TEST_F(ProcFsFixture, CmdlineOfKernelThreadIsEmptyNotMissing) {
  const auto args = proc_.cmdline(2);
  ASSERT_TRUE(args.has_value());
  EXPECT_TRUE(args->empty());
}

TEST_F(ProcFsFixture, CmdlineMissing) {
  EXPECT_EQ(proc_.cmdline(300), std::nullopt);
  EXPECT_EQ(proc_.cmdline(400), std::nullopt);
  EXPECT_EQ(proc_.cmdline(500), std::nullopt);
  EXPECT_EQ(proc_.cmdline(0), std::nullopt);
}

TEST_F(ProcFsFixture, StartTime) {
  EXPECT_EQ(proc_.start_time_ticks(100), 71361u);
  EXPECT_EQ(proc_.start_time_ticks(2), 25u);
  EXPECT_EQ(proc_.start_time_ticks(301), 7777u);
}

TEST_F(ProcFsFixture, StartTimeWithHostileComm) {
  EXPECT_EQ(proc_.start_time_ticks(200), 987654u);  // comm "\e[2J) x (evil"
  EXPECT_EQ(proc_.start_time_ticks(201), 5555u);    // comm ") S 9 (\n\\ 7"
}

TEST_F(ProcFsFixture, StartTimeLimits) {
  EXPECT_EQ(proc_.start_time_ticks(700), kU64Max);
  EXPECT_EQ(proc_.start_time_ticks(701), std::nullopt);  // 2^64
}

TEST_F(ProcFsFixture, StartTimeMissingTruncatedGarbage) {
  EXPECT_EQ(proc_.start_time_ticks(300), std::nullopt);  // ends before field 22
  EXPECT_EQ(proc_.start_time_ticks(400), std::nullopt);
  EXPECT_EQ(proc_.start_time_ticks(500), std::nullopt);
  EXPECT_EQ(proc_.start_time_ticks(600), std::nullopt);  // no ')'
  EXPECT_EQ(proc_.start_time_ticks(-1), std::nullopt);
}

TEST_F(ProcFsFixture, UnixSocketPaths) {
  const auto paths = proc_.unix_socket_paths();
  const std::unordered_map<uint64_t, std::string> expected{
      {21541, "/run/systemd/journal/stdout"},
      {30001, "@/tmp/.X11-unix/X0"},
      {30002, "@dbus@@x"},
      {30003, "/run/user/1000/my socket with  spaces "},
      {30004, "/tmp/esc\x1b[31mred"},
      {123, "/short/inode"},
      {kU64Max, "/max/inode"},
  };
  EXPECT_EQ(paths, expected);
  // Unbound (1157), bad hex (30006), 2^64 inode and the cut last line (30005) are absent.
  EXPECT_EQ(paths.count(1157), 0u);
  EXPECT_EQ(paths.count(30005), 0u);
  EXPECT_EQ(paths.count(30006), 0u);
}

TEST_F(ProcFsFixture, FdTargetIsRaw) {
  EXPECT_EQ(proc_.fd_target(100, 0), "pipe:[4242]");
  EXPECT_EQ(proc_.fd_target(100, 1), "socket:[4343]");
  EXPECT_EQ(proc_.fd_target(100, 2), "../fd_target_file");
  EXPECT_EQ(proc_.fd_target(100, 3), "/nonexistent/ipctop-fixture (deleted)");
  EXPECT_EQ(proc_.fd_target(100, 4), "anon_inode:[eventfd]");
  EXPECT_EQ(proc_.fd_target(100, 99), std::nullopt);
  EXPECT_EQ(proc_.fd_target(400, 0), std::nullopt);
  EXPECT_EQ(proc_.fd_target(100, -1), std::nullopt);
}

TEST_F(ProcFsFixture, FdInode) {
  EXPECT_EQ(proc_.fd_inode(100, 0), 4242u);
  EXPECT_EQ(proc_.fd_inode(100, 1), 4343u);
  EXPECT_EQ(proc_.fd_inode(100, 5), 4026531840u);
  EXPECT_EQ(proc_.fd_inode(700, 0), kU64Max);
}

TEST_F(ProcFsFixture, FdInodeOfPathIsStatted) {
  struct stat st {};
  ASSERT_EQ(::stat((fixture_root() + "/100/fd_target_file").c_str(), &st), 0);
  EXPECT_EQ(proc_.fd_inode(100, 2), static_cast<uint64_t>(st.st_ino));
}

TEST_F(ProcFsFixture, FdInodeUnresolvable) {
  EXPECT_EQ(proc_.fd_inode(100, 3), std::nullopt);   // dangling path
  EXPECT_EQ(proc_.fd_inode(100, 4), std::nullopt);   // anon inode
  EXPECT_EQ(proc_.fd_inode(100, 99), std::nullopt);  // closed
  EXPECT_EQ(proc_.fd_inode(400, 0), std::nullopt);
  EXPECT_EQ(proc_.fd_inode(600, 0), std::nullopt);  // pipe:[]
  EXPECT_EQ(proc_.fd_inode(600, 1), std::nullopt);  // pipe:[12x]
  EXPECT_EQ(proc_.fd_inode(600, 2), std::nullopt);  // socket:[2^64]
  EXPECT_EQ(proc_.fd_inode(600, 3), std::nullopt);  // pipe:[-1]
  EXPECT_EQ(proc_.fd_inode(600, 4), std::nullopt);  // pipe:[4242
  EXPECT_EQ(proc_.fd_inode(0, 0), std::nullopt);
  EXPECT_EQ(proc_.fd_inode(100, -1), std::nullopt);
}

TEST(ProcFsMissingRoot, EverythingIsEmpty) {
  const ProcFs proc("/nonexistent/ipctop-proc-root");
  EXPECT_TRUE(proc.pids().empty());
  EXPECT_TRUE(proc.tids(1).empty());
  EXPECT_EQ(proc.comm(1), std::nullopt);
  EXPECT_EQ(proc.status(1), std::nullopt);
  EXPECT_EQ(proc.cmdline(1), std::nullopt);
  EXPECT_EQ(proc.ppid(1), std::nullopt);
  EXPECT_EQ(proc.start_time_ticks(1), std::nullopt);
  EXPECT_TRUE(proc.unix_socket_paths().empty());
  EXPECT_EQ(proc.fd_inode(1, 0), std::nullopt);
  EXPECT_EQ(proc.fd_target(1, 0), std::nullopt);
}

// ---------------------------------------------------------------------------------------
// Trees built at run time, for what git cannot store (FIFOs, modes, huge files).

class ProcFsScratch : public testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ipctop-procfs-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr) << std::strerror(errno);
    root_ = tmpl;
    std::filesystem::create_directories(root_ / "42" / "task" / "42");
  }
  void TearDown() override {
    if (!root_.empty()) {
      std::error_code ec;
      std::filesystem::permissions(root_ / "42" / "status", std::filesystem::perms::owner_all, ec);
      std::filesystem::remove_all(root_, ec);
    }
  }
  void write(const std::filesystem::path& rel, const std::string& data) {
    std::ofstream(root_ / rel, std::ios::binary) << data;
  }

  std::filesystem::path root_;
};

TEST_F(ProcFsScratch, DirectoryWhereFileExpected) {
  std::filesystem::create_directories(root_ / "42" / "status");
  const ProcFs proc(root_.string());
  EXPECT_EQ(proc.status(42), std::nullopt);
  EXPECT_EQ(proc.ppid(42), std::nullopt);
}

TEST_F(ProcFsScratch, FifoWhereFileExpectedDoesNotBlock) {
  ASSERT_EQ(::mkfifo((root_ / "42" / "comm").c_str(), 0600), 0);
  ASSERT_EQ(::mkfifo((root_ / "42" / "stat").c_str(), 0600), 0);
  const ProcFs proc(root_.string());
  EXPECT_EQ(proc.comm(42), std::nullopt);
  EXPECT_EQ(proc.start_time_ticks(42), std::nullopt);
}

TEST_F(ProcFsScratch, SymlinkLoop) {
  std::filesystem::create_symlink("status", root_ / "42" / "status");
  std::filesystem::create_symlink("fd", root_ / "42" / "fd");
  const ProcFs proc(root_.string());
  EXPECT_EQ(proc.status(42), std::nullopt);
  EXPECT_EQ(proc.fd_inode(42, 3), std::nullopt);
}

TEST_F(ProcFsScratch, UnreadableFile) {
  write("42/status", "Name:\tx\nTgid:\t42\nPid:\t42\nPPid:\t1\nUid:\t0\t0\t0\t0\n");
  ASSERT_EQ(::chmod((root_ / "42" / "status").c_str(), 0), 0);
  // Root reads mode-000 files anyway: check as an unprivileged user in a child.
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::geteuid() == 0 && (::setgroups(0, nullptr) != 0 || ::setresgid(65534, 65534, 65534) != 0 ||
                             ::setresuid(65534, 65534, 65534) != 0))
      ::_exit(2);
    const ProcFs proc(root_.string());
    ::_exit(proc.status(42) == std::nullopt && proc.ppid(42) == std::nullopt ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "2: could not drop privileges; 1: the file was read";
}

TEST_F(ProcFsScratch, HugeFilesAreReadBounded) {
  write("42/comm", std::string(3u << 20, 'a'));
  std::string args;
  for (int i = 0; i < 300000; ++i) args += "argument\0"s;
  write("42/cmdline", args);
  const ProcFs proc(root_.string());
  const auto comm = proc.comm(42);
  ASSERT_TRUE(comm.has_value());
  EXPECT_EQ(comm->size(), 1u << 20);
  const auto cmd = proc.cmdline(42);
  ASSERT_TRUE(cmd.has_value());
  EXPECT_LT(cmd->size(), 300000u);
  EXPECT_GT(cmd->size(), 100000u);
}

TEST_F(ProcFsScratch, LongFdTarget) {
  std::filesystem::create_directories(root_ / "42" / "fd");
  const std::string target = "/" + std::string(3000, 'x') + " (deleted)";
  std::filesystem::create_symlink(target, root_ / "42" / "fd" / "7");
  const ProcFs proc(root_.string());
  EXPECT_EQ(proc.fd_target(42, 7), target);
  EXPECT_EQ(proc.fd_inode(42, 7), std::nullopt);
}

TEST_F(ProcFsScratch, StatusWithoutNameIsRejected) {
  write("42/status", "Tgid:\t42\nPid:\t42\nPPid:\t1\nUid:\t0\t0\t0\t0\n");
  const ProcFs proc(root_.string());
  EXPECT_EQ(proc.status(42), std::nullopt);
  EXPECT_EQ(proc.ppid(42), 1);
}

TEST_F(ProcFsScratch, EmptyFiles) {
  write("42/status", "");
  write("42/stat", "");
  write("42/comm", "\n");
  std::filesystem::create_directories(root_ / "net");
  write("net/unix", "");
  const ProcFs proc(root_.string());
  EXPECT_EQ(proc.status(42), std::nullopt);
  EXPECT_EQ(proc.start_time_ticks(42), std::nullopt);
  EXPECT_EQ(proc.comm(42), "");  // prctl(PR_SET_NAME, "") is legal
  EXPECT_TRUE(proc.unix_socket_paths().empty());
}

// ---------------------------------------------------------------------------------------
// The live /proc, for the test process itself.

class ProcFsLive : public testing::Test {
 protected:
  ProcFs proc_;
};

TEST_F(ProcFsLive, OwnComm) {
  char name[17] = {};
  ASSERT_EQ(::prctl(PR_GET_NAME, name), 0);
  EXPECT_EQ(proc_.comm(::getpid()), std::string(name));
}

TEST_F(ProcFsLive, OwnStatus) {
  const auto s = proc_.status(::getpid());
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->pid, ::getpid());
  EXPECT_EQ(s->tgid, ::getpid());
  EXPECT_EQ(s->ppid, ::getppid());
  EXPECT_EQ(s->uid, ::getuid());
  EXPECT_EQ(proc_.ppid(::getpid()), ::getppid());
}

TEST_F(ProcFsLive, OwnListings) {
  EXPECT_TRUE(contains(proc_.pids(), ::getpid()));
  EXPECT_TRUE(contains(proc_.tids(::getpid()), ::gettid()));
  const auto args = proc_.cmdline(::getpid());
  ASSERT_TRUE(args.has_value());
  EXPECT_FALSE(args->empty());
}

TEST_F(ProcFsLive, OwnStartTimeIsNotBeforeParent) {
  const auto mine = proc_.start_time_ticks(::getpid());
  const auto parent = proc_.start_time_ticks(::getppid());
  ASSERT_TRUE(mine.has_value());
  ASSERT_TRUE(parent.has_value());
  EXPECT_GE(*mine, *parent);
}

TEST_F(ProcFsLive, ThreadWithHostileName) {
  const std::string name = "ipc\x1b[2J) x (";  // 12 bytes, under the 15-byte limit
  std::promise<pid_t> started;
  std::promise<void> release;
  std::thread worker([&] {
    ::pthread_setname_np(::pthread_self(), name.c_str());
    started.set_value(::gettid());
    release.get_future().wait();
  });
  const pid_t tid = started.get_future().get();
  EXPECT_TRUE(contains(proc_.tids(::getpid()), tid));
  EXPECT_EQ(proc_.comm(::getpid(), tid), name);
  const auto s = proc_.status(::getpid(), tid);
  release.set_value();
  worker.join();
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->name, name);
  EXPECT_EQ(s->pid, tid);
  EXPECT_EQ(s->tgid, ::getpid());
}

uint64_t inode_of(int fd) {
  struct stat st {};
  EXPECT_EQ(::fstat(fd, &st), 0);
  return static_cast<uint64_t>(st.st_ino);
}

TEST_F(ProcFsLive, PipeInode) {
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  EXPECT_EQ(proc_.fd_inode(::getpid(), fds[0]), inode_of(fds[0]));
  EXPECT_EQ(proc_.fd_inode(::getpid(), fds[1]), inode_of(fds[1]));
  const auto target = proc_.fd_target(::getpid(), fds[0]);
  ASSERT_TRUE(target.has_value());
  EXPECT_EQ(*target, "pipe:[" + std::to_string(inode_of(fds[0])) + "]");
  ::close(fds[0]);
  ::close(fds[1]);
  EXPECT_EQ(proc_.fd_inode(::getpid(), fds[0]), std::nullopt);
}

TEST_F(ProcFsLive, SocketpairInode) {
  int fds[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  EXPECT_EQ(proc_.fd_inode(::getpid(), fds[0]), inode_of(fds[0]));
  EXPECT_EQ(proc_.fd_inode(::getpid(), fds[1]), inode_of(fds[1]));
  ::close(fds[0]);
  ::close(fds[1]);
}

int bind_unix(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), std::min(path.size(), sizeof(addr.sun_path)));
  // An abstract name is "\0name"; its length, not a terminator, delimits it.
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() +
                                          (path[0] == '\0' ? 0 : 1));
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), len) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

TEST_F(ProcFsLive, UnixSocketPaths) {
  const std::string abstract = "\0ipctop-test-"s + std::to_string(::getpid()) + "\0x"s;
  const int a = bind_unix(abstract);
  ASSERT_GE(a, 0) << std::strerror(errno);

  std::string dir_tmpl = "/tmp/ipctop-XXXXXX";
  ASSERT_NE(::mkdtemp(dir_tmpl.data()), nullptr);
  const std::string path = dir_tmpl + "/a sock " + std::to_string(::getpid());
  const int p = bind_unix(path);
  ASSERT_GE(p, 0) << std::strerror(errno);

  const auto paths = proc_.unix_socket_paths();
  const auto ia = paths.find(inode_of(a));
  ASSERT_NE(ia, paths.end());
  EXPECT_EQ(ia->second, "@ipctop-test-" + std::to_string(::getpid()) + "@x");
  const auto ip = paths.find(inode_of(p));
  ASSERT_NE(ip, paths.end());
  EXPECT_EQ(ip->second, path);
  EXPECT_EQ(proc_.fd_inode(::getpid(), p), inode_of(p));

  ::close(a);
  ::close(p);
  ::unlink(path.c_str());
  ::rmdir(dir_tmpl.c_str());
}

TEST_F(ProcFsLive, FifoAndDeletedFileInodesAreStatted) {
  std::string dir_tmpl = (std::filesystem::temp_directory_path() / "ipctop-XXXXXX").string();
  ASSERT_NE(::mkdtemp(dir_tmpl.data()), nullptr);
  const std::string fifo = dir_tmpl + "/fifo with space";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const int f = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  ASSERT_GE(f, 0);
  EXPECT_EQ(proc_.fd_target(::getpid(), f), fifo);
  EXPECT_EQ(proc_.fd_inode(::getpid(), f), inode_of(f));

  const std::string file = dir_tmpl + "/gone";
  const int g = ::open(file.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
  ASSERT_GE(g, 0);
  ASSERT_EQ(::unlink(file.c_str()), 0);
  EXPECT_EQ(proc_.fd_target(::getpid(), g), file + " (deleted)");
  EXPECT_EQ(proc_.fd_inode(::getpid(), g), inode_of(g));

  ::close(f);
  ::close(g);
  ::unlink(fifo.c_str());
  ::rmdir(dir_tmpl.c_str());
}

TEST_F(ProcFsLive, ExitedProcess) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(0);
  int wstatus = 0;
  ASSERT_EQ(::waitpid(child, &wstatus, 0), child);
  // Reaped: the pid is gone (reuse within microseconds is too unlikely to matter here).
  EXPECT_EQ(proc_.comm(child), std::nullopt);
  EXPECT_EQ(proc_.status(child), std::nullopt);
  EXPECT_EQ(proc_.cmdline(child), std::nullopt);
  EXPECT_EQ(proc_.start_time_ticks(child), std::nullopt);
  EXPECT_TRUE(proc_.tids(child).empty());
}

}  // namespace

// Texts that are kept (a name per thread) must not keep the read buffer:
// 10 000 thread names once held 40 MiB of 4 KiB buffers.
TEST(ReadRegularFile, ShortTextDoesNotKeepTheReadBuffer) {
  const std::string path = std::string(IPCTOP_FIXTURES) + "/proc/100/comm";
  auto text = ipctop::procfs::read_regular_file(path, 1 << 20).text;
  ASSERT_TRUE(text.has_value());
  EXPECT_EQ(*text, "bash\n");
  EXPECT_LT(text->capacity(), 64u);
  auto longer = ipctop::procfs::read_regular_file(std::string(IPCTOP_FIXTURES) + "/proc/100/status",
                                                  1 << 20)
                    .text;
  ASSERT_TRUE(longer.has_value());
  EXPECT_LT(longer->capacity(), longer->size() + 64);
}
