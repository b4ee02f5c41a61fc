// Privileged end-to-end tests of the live failure diagnosis: lower a real
// limit (always restored), make a child process fail against it from a
// thread of its own, and find the diagnosis in ipctop's JSON with the right
// limit, syscall, errno, pid and tid.
#include <grp.h>
#include <mqueue.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <csignal>
#include <cstring>
#include <functional>

#include "harness.h"

namespace e2e {
namespace {

constexpr uid_t kNobody = 65534;

std::string sysctl_path(const std::string& name) {
  std::string rel = name;
  std::replace(rel.begin(), rel.end(), '.', '/');
  return "/proc/sys/" + rel;
}

// Active sysctl guards, for a signal handler to restore them too (a test
// run interrupted by SIGINT or SIGTERM must not leave a limit lowered).
struct Saved {
  char path[128];
  char value[128];
  volatile sig_atomic_t active;
};
std::array<Saved, 8> g_saved{};

void restore_all(int sig) {
  for (auto& s : g_saved) {
    if (!s.active) continue;
    int fd = open(s.path, O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
      ssize_t ignored = write(fd, s.value, strlen(s.value));
      (void)ignored;
      close(fd);
    }
    s.active = 0;
  }
  signal(sig, SIG_DFL);
  raise(sig);
}

// Test runs from two build trees at once would read each other's lowered
// values as the ones to restore: every guard holds this lock (one per
// process, counted), taken with a bounded wait.
class SysctlLock {
 public:
  static bool acquire() {
    if (count_++ > 0) return true;
    fd_ = open("/tmp/ipctop-e2e-sysctl.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    auto deadline = Clock::now() + std::chrono::seconds(120);
    while (fd_ >= 0 && Clock::now() < deadline) {
      if (flock(fd_, LOCK_EX | LOCK_NB) == 0) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    release();
    return false;
  }
  static void release() {
    if (count_ == 0 || --count_ > 0) return;
    if (fd_ >= 0) close(fd_);  // drops the lock
    fd_ = -1;
  }

 private:
  static inline int fd_ = -1;
  static inline int count_ = 0;
};

// Sets a sysctl for the life of the guard: reads the old value first and
// writes it back in the destructor, which also runs when an ASSERT fails.
class SysctlGuard {
 public:
  SysctlGuard(const std::string& name, const std::string& value) : path_(sysctl_path(name)) {
    if (!SysctlLock::acquire()) {
      error_ = "another test run held /tmp/ipctop-e2e-sysctl.lock for 2 minutes";
      return;
    }
    locked_ = true;
    old_ = read_file(path_);
    while (!old_.empty() && (old_.back() == '\n' || old_.back() == ' ')) old_.pop_back();
    if (old_.empty()) {
      error_ = "cannot read " + path_;
      return;
    }
    for (size_t i = 0; i < g_saved.size(); ++i) {
      if (g_saved[i].active) continue;
      slot_ = static_cast<int>(i);
      snprintf(g_saved[i].path, sizeof(g_saved[i].path), "%s", path_.c_str());
      snprintf(g_saved[i].value, sizeof(g_saved[i].value), "%s", old_.c_str());
      g_saved[i].active = 1;
      break;
    }
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) signal(sig, restore_all);
    if (!write(value)) error_ = "cannot write " + value + " to " + path_;
  }
  ~SysctlGuard() {
    if (!old_.empty() && !write(old_))
      ADD_FAILURE() << "could not restore " << path_ << " to " << old_;
    if (slot_ >= 0) g_saved[static_cast<size_t>(slot_)].active = 0;
    if (locked_) SysctlLock::release();
  }
  SysctlGuard(const SysctlGuard&) = delete;
  SysctlGuard& operator=(const SysctlGuard&) = delete;

  const std::string& error() const { return error_; }
  const std::string& old() const { return old_; }

 private:
  bool write(const std::string& value) const {
    std::ofstream out(path_);
    out << value << '\n';
    out.flush();
    return out.good();
  }
  std::string path_;
  std::string old_;
  std::string error_;
  int slot_ = -1;
  bool locked_ = false;
};

struct Provoked {
  pid_t pid = -1;
  pid_t tid = -1;
  int err = 0;  // errno of the call, 0 if it succeeded
  bool ok = false;
  std::string why;  // when !ok
};

// Forks a child that optionally drops to nobody, then runs `call` on a new
// thread (so the tid differs from the pid) and returns the call's errno.
Provoked provoke(bool as_nobody, const std::function<int()>& call) {
  Provoked p;
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return p;
  p.pid = fork();
  if (p.pid == 0) {
    close(fds[0]);
    if (as_nobody && (setgroups(0, nullptr) != 0 || setresgid(kNobody, kNobody, kNobody) != 0 ||
                      setresuid(kNobody, kNobody, kNobody) != 0))
      _exit(120);
    int32_t result[2] = {-1, -1};
    std::thread t([&] {
      result[0] = static_cast<int32_t>(gettid());
      result[1] = call();
    });
    t.join();
    ssize_t n = write(fds[1], result, sizeof(result));
    _exit(n == sizeof(result) ? 0 : 121);
  }
  close(fds[1]);
  int32_t result[2] = {-1, -1};
  pollfd pfd{fds[0], POLLIN, 0};
  bool got = poll(&pfd, 1, 10000) == 1 && read(fds[0], result, sizeof(result)) == sizeof(result);
  close(fds[0]);
  Exit e = wait_bounded(p.pid, std::chrono::seconds(10));
  p.tid = result[0];
  p.err = result[1];
  p.ok = got && e.exited && e.code == 0;
  if (!p.ok) p.why = "child failed: exit code " + std::to_string(e.code);
  return p;
}

// The snapshots printed so far; none while ipctop is writing a line (the
// caller polls again).
std::vector<json> snapshots_so_far(const Tracer& t) {
  try {
    return t.snapshots();
  } catch (const json::exception&) {
    return {};
  }
}

// The failure of `pid` in `syscall`, waiting (bounded) for ipctop to print it.
// The first failure of `syscall` by `pid` (and `tid`, when given).
std::optional<json> wait_failure(const Tracer& t, pid_t pid, const std::string& syscall,
                                 std::vector<json>* snaps_out = nullptr, pid_t tid = 0) {
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline) {
    auto snaps = snapshots_so_far(t);
    for (const auto& s : snaps)
      for (const auto& f : s.value("failures", json::array()))
        if (f.at("pid") == pid && f.at("syscall") == syscall && (!tid || f.at("tid") == tid)) {
          if (snaps_out) *snaps_out = snaps;
          return f;
        }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return std::nullopt;
}

void expect_failure(const json& f, const Provoked& p, const std::string& syscall,
                    const std::string& err, const std::string& limit) {
  EXPECT_EQ(f.at("syscall"), syscall) << f.dump();
  EXPECT_EQ(f.at("errno"), err) << f.dump();
  EXPECT_EQ(f.at("pid").get<pid_t>(), p.pid) << f.dump();
  EXPECT_EQ(f.at("tid").get<pid_t>(), p.tid) << f.dump();
  EXPECT_NE(p.pid, p.tid) << "the call ran on a thread of its own";
  EXPECT_GE(f.at("count").get<uint64_t>(), 1u) << f.dump();
  EXPECT_TRUE(f.at("comm").is_string()) << f.dump();
  EXPECT_EQ(f.at("limit"), limit) << f.dump();
  EXPECT_TRUE(f.at("detail").is_string()) << f.dump();
}

bool contains(const json& f, const char* key, const std::string& part) {
  return f.at(key).is_string() && f.at(key).get<std::string>().find(part) != std::string::npos;
}

TEST(Failures, ShmgetBeyondShmmax) {
  SysctlGuard shmmax("kernel.shmmax", "1048576");
  ASSERT_EQ(shmmax.error(), "");
  Tracer tracer;
  ASSERT_TRUE(tracer.wait_attached()) << tracer.err();
  Provoked p = provoke(false, [] {
    int id = shmget(IPC_PRIVATE, 2 << 20, IPC_CREAT | 0600);
    if (id >= 0) {
      shmctl(id, IPC_RMID, nullptr);
      return 0;
    }
    return errno;
  });
  ASSERT_TRUE(p.ok) << p.why;
  ASSERT_EQ(p.err, EINVAL) << strerror(p.err);
  // Keep the limit lowered until ipctop has printed the failure: it reads
  // the limits at the end of the interval.
  auto f = wait_failure(tracer, p.pid, "shmget");
  ASSERT_TRUE(f.has_value()) << "no shmget failure of pid " << p.pid << "; " << tracer.err();
  expect_failure(*f, p, "shmget", "EINVAL", "kernel.shmmax");
  EXPECT_EQ(f->at("detail"), "requested 2097152 bytes > kernel.shmmax 1048576") << f->dump();
  EXPECT_EQ(f->at("fix"), "sysctl -w kernel.shmmax=2097152") << f->dump();
  EXPECT_TRUE(tracer.stop().exited);
}

// Removes a SysV queue when it goes out of scope.
struct QueueGuard {
  int id = -1;
  ~QueueGuard() {
    if (id >= 0) msgctl(id, IPC_RMID, nullptr);
  }
};

TEST(Failures, MsgsndNowaitOnAFullQueue) {
  // A small kernel.msgmnb gives the new queue a small capacity.
  SysctlGuard msgmnb("kernel.msgmnb", "4096");
  ASSERT_EQ(msgmnb.error(), "");
  QueueGuard q;
  q.id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
  ASSERT_GE(q.id, 0) << strerror(errno);
  Tracer tracer;
  ASSERT_TRUE(tracer.wait_attached()) << tracer.err();
  const int qid = q.id;
  Provoked p = provoke(false, [qid] {
    struct {
      long mtype;
      char text[1024];
    } msg{1, {}};
    for (int i = 0; i < 100; ++i)
      if (msgsnd(qid, &msg, sizeof(msg.text), IPC_NOWAIT) != 0) return errno;
    return 0;
  });
  ASSERT_TRUE(p.ok) << p.why;
  ASSERT_EQ(p.err, EAGAIN) << strerror(p.err);
  auto f = wait_failure(tracer, p.pid, "msgsnd");
  ASSERT_TRUE(f.has_value()) << "no msgsnd failure of pid " << p.pid << "; " << tracer.err();
  expect_failure(*f, p, "msgsnd", "EAGAIN", "kernel.msgmnb");
  EXPECT_TRUE(contains(*f, "detail",
                       "msgsnd of 1024 bytes with IPC_NOWAIT to full queue " + std::to_string(qid)))
      << f->dump();
  EXPECT_TRUE(contains(*f, "detail", "4096 bytes in 4 messages; msg_qbytes 4096")) << f->dump();
  EXPECT_EQ(f->at("fix"), "sysctl -w kernel.msgmnb=8192") << f->dump();
  EXPECT_EQ(f->at("count"), 1) << "one failed msgsnd";
  EXPECT_TRUE(tracer.stop().exited);
}

TEST(Failures, MqOpenBeyondQueuesMaxAsNonRoot) {
  // Root is exempt (CAP_SYS_RESOURCE): the child drops to nobody. 0 stops
  // every unprivileged creation, whatever the number of queues.
  SysctlGuard queues_max("fs.mqueue.queues_max", "0");
  ASSERT_EQ(queues_max.error(), "");
  const std::string name = "/ipctop-e2e-" + std::to_string(getpid());
  struct Unlink {
    std::string name;
    ~Unlink() { mq_unlink(name.c_str()); }
  } unlink_after{name};
  Tracer tracer;
  ASSERT_TRUE(tracer.wait_attached()) << tracer.err();
  Provoked p = provoke(true, [&name] {
    mqd_t q = mq_open(name.c_str(), O_CREAT | O_RDWR, 0600, nullptr);
    if (q == static_cast<mqd_t>(-1)) return errno;
    mq_close(q);
    mq_unlink(name.c_str());
    return 0;
  });
  ASSERT_TRUE(p.ok) << p.why;
  ASSERT_EQ(p.err, ENOSPC) << strerror(p.err);
  auto f = wait_failure(tracer, p.pid, "mq_open");
  ASSERT_TRUE(f.has_value()) << "no mq_open failure of pid " << p.pid << "; " << tracer.err();
  expect_failure(*f, p, "mq_open", "ENOSPC", "fs.mqueue.queues_max");
  EXPECT_TRUE(contains(*f, "detail", "fs.mqueue.queues_max is 0 (uid 65534")) << f->dump();
  EXPECT_TRUE(contains(*f, "fix", "sysctl -w fs.mqueue.queues_max=")) << f->dump();
  EXPECT_TRUE(tracer.stop().exited);
}

TEST(Failures, SetpipeSzBeyondPipeMaxSizeAsNonRoot) {
  SysctlGuard max_size("fs.pipe-max-size", "65536");
  ASSERT_EQ(max_size.error(), "");
  Tracer tracer;
  ASSERT_TRUE(tracer.wait_attached()) << tracer.err();
  Provoked p = provoke(true, [] {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return -errno;
    int r = fcntl(fds[1], F_SETPIPE_SZ, 2 * 65536);
    int err = r < 0 ? errno : 0;
    close(fds[0]);
    close(fds[1]);
    return err;
  });
  ASSERT_TRUE(p.ok) << p.why;
  ASSERT_EQ(p.err, EPERM) << strerror(p.err);
  auto f = wait_failure(tracer, p.pid, "fcntl");
  ASSERT_TRUE(f.has_value()) << "no fcntl failure of pid " << p.pid << "; " << tracer.err();
  expect_failure(*f, p, "fcntl", "EPERM", "fs.pipe-max-size");
  EXPECT_EQ(f->at("detail"),
            "F_SETPIPE_SZ 131072 bytes > fs.pipe-max-size 65536 (uid 65534, without "
            "CAP_SYS_RESOURCE)")
      << f->dump();
  EXPECT_EQ(f->at("fix"), "sysctl -w fs.pipe-max-size=131072") << f->dump();
  EXPECT_TRUE(tracer.stop().exited);
}

TEST(Failures, PipeCreatedShrunkOverPipeUserPagesSoft) {
  // Unprivileged users over the soft limit get 2-page pipes instead of 16.
  SysctlGuard soft("fs.pipe-user-pages-soft", "1");
  ASSERT_EQ(soft.error(), "");
  Tracer tracer;
  ASSERT_TRUE(tracer.wait_attached()) << tracer.err();
  Provoked p = provoke(true, [] {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return errno;
    int size = fcntl(fds[0], F_GETPIPE_SZ);
    close(fds[0]);
    close(fds[1]);
    return size < 65536 ? 0 : -1;
  });
  ASSERT_TRUE(p.ok) << p.why;
  ASSERT_EQ(p.err, 0) << "the pipe was not shrunk";
  // Other pipes of the child (its runtime's, under a sanitizer) are shrunk
  // too and reported as such: look for the one the thread made.
  auto f = wait_failure(tracer, p.pid, "pipe2", nullptr, p.tid);
  ASSERT_TRUE(f.has_value()) << "no shrunk pipe2 of pid " << p.pid << "; " << tracer.err();
  EXPECT_TRUE(f->at("errno").is_null()) << f->dump();
  EXPECT_EQ(f->at("tid").get<pid_t>(), p.tid) << f->dump();
  EXPECT_EQ(f->at("limit"), "fs.pipe-user-pages-soft") << f->dump();
  EXPECT_TRUE(contains(*f, "detail", "pipe created with 2 pages (8192 bytes) instead of 16"))
      << f->dump();
  EXPECT_TRUE(contains(*f, "detail", "fs.pipe-user-pages-soft is 1")) << f->dump();
  EXPECT_TRUE(tracer.stop().exited);
}

TEST(Failures, SocketBeyondRlimitNofile) {
  Tracer tracer;
  ASSERT_TRUE(tracer.wait_attached()) << tracer.err();
  Provoked p = provoke(false, [] {
    rlimit rl{16, 16};
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) return -1;
    std::vector<int> fds;
    int err = 0;
    for (int i = 0; i < 32 && !err; ++i) {
      int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd < 0)
        err = errno;
      else
        fds.push_back(fd);
    }
    for (int fd : fds) close(fd);
    return err;
  });
  ASSERT_TRUE(p.ok) << p.why;
  ASSERT_EQ(p.err, EMFILE) << strerror(p.err);
  auto f = wait_failure(tracer, p.pid, "socket");
  ASSERT_TRUE(f.has_value()) << "no socket failure of pid " << p.pid << "; " << tracer.err();
  expect_failure(*f, p, "socket", "EMFILE", "rlimit.nofile");
  EXPECT_TRUE(contains(*f, "detail", "RLIMIT_NOFILE is 16 (hard 16)")) << f->dump();
  EXPECT_EQ(f->at("fix"), "prlimit --pid " + std::to_string(p.pid) + " --nofile=32:32")
      << f->dump();
  EXPECT_TRUE(tracer.stop().exited);
}

TEST(Failures, NonBlockingWriteToAFullPipeIsTheReader) {
  Tracer tracer;
  ASSERT_TRUE(tracer.wait_attached()) << tracer.err();
  Provoked p = provoke(false, [] {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) != 0) return -1;
    char buf[4096] = {};
    int err = 0;
    for (int i = 0; i < 64 && !err; ++i)
      if (write(fds[1], buf, sizeof(buf)) < 0) err = errno;
    close(fds[0]);
    close(fds[1]);
    return err;
  });
  ASSERT_TRUE(p.ok) << p.why;
  ASSERT_EQ(p.err, EAGAIN) << strerror(p.err);
  auto f = wait_failure(tracer, p.pid, "write");
  ASSERT_TRUE(f.has_value()) << "no write failure of pid " << p.pid << "; " << tracer.err();
  EXPECT_EQ(f->at("errno"), "EAGAIN");
  EXPECT_EQ(f->at("tid").get<pid_t>(), p.tid);
  EXPECT_TRUE(f->at("limit").is_null()) << f->dump();
  EXPECT_TRUE(contains(*f, "detail", "is full (16 of 16 pages, 65536 bytes)")) << f->dump();
  EXPECT_TRUE(tracer.stop().exited);
}

// ---------------------------------------------------------------- sends that block

// Runs `send` (which must block: its channel fills up) on the calling
// thread while a second thread plays the slow reader: it sleeps, so the
// sender goes to sleep on the full channel, then runs `drain`. Returns
// send's errno (0 on success).
int block_then_drain(const std::function<int()>& send, const std::function<void()>& drain) {
  std::thread reader([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    drain();
  });
  int err = send();
  reader.join();
  return err;
}

// Reads `fd` until EOF, an error, or 5 s.
void drain_fd(int fd) {
  char buf[65536];
  auto deadline = Clock::now() + std::chrono::seconds(5);
  pollfd pfd{fd, POLLIN, 0};
  while (Clock::now() < deadline && poll(&pfd, 1, 100) >= 0)
    if (pfd.revents && read(fd, buf, sizeof(buf)) <= 0) break;
}

// Writes all of `n` bytes to `fd` (a blocking fd): 0, or the errno.
int write_all(int fd, size_t n) {
  std::vector<char> buf(n, 'x');
  size_t done = 0;
  while (done < n) {
    ssize_t w = write(fd, buf.data() + done, n - done);
    if (w < 0) return errno;
    done += static_cast<size_t>(w);
  }
  return 0;
}

void expect_blocked(const json& f, const Provoked& p, const std::string& syscall,
                    const std::optional<std::string>& limit) {
  EXPECT_EQ(f.at("syscall"), syscall) << f.dump();
  EXPECT_TRUE(f.at("errno").is_null()) << f.dump();
  EXPECT_EQ(f.at("blocked"), true) << f.dump();
  EXPECT_EQ(f.at("pid").get<pid_t>(), p.pid) << f.dump();
  EXPECT_EQ(f.at("tid").get<pid_t>(), p.tid) << f.dump();
  EXPECT_NE(p.pid, p.tid) << "the send ran on a thread of its own";
  EXPECT_GE(f.at("count").get<uint64_t>(), 1u) << f.dump();
  if (limit)
    EXPECT_EQ(f.at("limit"), *limit) << f.dump();
  else
    EXPECT_TRUE(f.at("limit").is_null()) << f.dump();
}

TEST(Failures, WriterBlockedOnAFullShrunkPipeIsPipeUserPagesSoft) {
  // nobody over the soft limit gets a 2-page pipe, which 64 KiB fills.
  SysctlGuard soft("fs.pipe-user-pages-soft", "1");
  ASSERT_EQ(soft.error(), "");
  Tracer tracer;
  ASSERT_TRUE(tracer.wait_attached()) << tracer.err();
  Provoked p = provoke(true, [] {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return errno;
    if (fcntl(fds[1], F_GETPIPE_SZ) != 8192) return -1;
    int err = block_then_drain(
        [&] {
          int e = write_all(fds[1], 65536);
          close(fds[1]);
          return e;
        },
        [&] { drain_fd(fds[0]); });
    close(fds[0]);
    return err;
  });
  ASSERT_TRUE(p.ok) << p.why;
  ASSERT_EQ(p.err, 0) << (p.err < 0 ? "the pipe was not shrunk" : strerror(p.err));
  auto f = wait_failure(tracer, p.pid, "write", nullptr, p.tid);
  ASSERT_TRUE(f.has_value()) << "no blocked write of pid " << p.pid << "; " << tracer.err();
  expect_blocked(*f, p, "write", "fs.pipe-user-pages-soft");
  EXPECT_TRUE(contains(*f, "detail", "blocked: the pipe (fd ")) << f->dump();
  EXPECT_TRUE(contains(*f, "detail", "is full at only 2 pages (8192 bytes)")) << f->dump();
  EXPECT_TRUE(contains(*f, "fix", "sysctl -w fs.pipe-user-pages-soft=")) << f->dump();
  EXPECT_TRUE(tracer.stop().exited);
}

TEST(Failures, WriterBlockedOnAFullPipeAtPipeMaxSize) {
  // A pipe already enlarged to fs.pipe-max-size: only the sysctl makes room.
  const std::string max_text = read_file("/proc/sys/fs/pipe-max-size");
  const long max_size = std::stol(max_text);
  ASSERT_GT(max_size, 0);
  Tracer tracer;
  ASSERT_TRUE(tracer.wait_attached()) << tracer.err();
  Provoked p = provoke(false, [max_size] {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return errno;
    if (fcntl(fds[1], F_SETPIPE_SZ, static_cast<int>(max_size)) != max_size) return -1;
    // writev, to see the family beyond write.
    int err = block_then_drain(
        [&] {
          std::vector<char> buf(static_cast<size_t>(max_size) * 2, 'x');
          iovec iov{buf.data(), buf.size()};
          size_t done = 0;
          int e = 0;
          while (done < buf.size() && !e) {
            iov.iov_base = buf.data() + done;
            iov.iov_len = buf.size() - done;
            ssize_t w = writev(fds[1], &iov, 1);
            if (w < 0)
              e = errno;
            else
              done += static_cast<size_t>(w);
          }
          close(fds[1]);
          return e;
        },
        [&] { drain_fd(fds[0]); });
    close(fds[0]);
    return err;
  });
  ASSERT_TRUE(p.ok) << p.why;
  ASSERT_EQ(p.err, 0) << strerror(p.err);
  auto f = wait_failure(tracer, p.pid, "writev", nullptr, p.tid);
  ASSERT_TRUE(f.has_value()) << "no blocked writev of pid " << p.pid << "; " << tracer.err();
  expect_blocked(*f, p, "writev", "fs.pipe-max-size");
  const long pages = max_size / sysconf(_SC_PAGESIZE);
  EXPECT_TRUE(contains(*f, "detail", "of " + std::to_string(pages) + " pages")) << f->dump();
  EXPECT_TRUE(contains(*f, "detail", "at fs.pipe-max-size " + std::to_string(max_size)))
      << f->dump();
  EXPECT_TRUE(contains(*f, "fix", "sysctl -w fs.pipe-max-size=" + std::to_string(2 * max_size)))
      << f->dump();
  EXPECT_TRUE(tracer.stop().exited);
}

TEST(Failures, VmspliceBlockedOnAFullPipe) {
  // vmsplice also sleeps on an empty pipe (read end): only a full one counts.
  Tracer tracer;
  ASSERT_TRUE(tracer.wait_attached()) << tracer.err();
  Provoked p = provoke(false, [] {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return errno;
    static char buf[256 * 1024];
    int err = block_then_drain(
        [&] {
          size_t done = 0;
          int e = 0;
          while (done < sizeof(buf) && !e) {
            iovec iov{buf + done, sizeof(buf) - done};
            ssize_t w = vmsplice(fds[1], &iov, 1, 0);
            if (w < 0)
              e = errno;
            else
              done += static_cast<size_t>(w);
          }
          close(fds[1]);
          return e;
        },
        [&] { drain_fd(fds[0]); });
    close(fds[0]);
    return err;
  });
  ASSERT_TRUE(p.ok) << p.why;
  ASSERT_EQ(p.err, 0) << strerror(p.err);
  auto f = wait_failure(tracer, p.pid, "vmsplice", nullptr, p.tid);
  ASSERT_TRUE(f.has_value()) << "no blocked vmsplice of pid " << p.pid << "; " << tracer.err();
  expect_blocked(*f, p, "vmsplice", std::nullopt);
  EXPECT_TRUE(contains(*f, "detail", "blocked: the pipe (fd ")) << f->dump();
  EXPECT_TRUE(contains(*f, "detail", "is full (16 of 16 pages, 65536 bytes)")) << f->dump();
  EXPECT_TRUE(tracer.stop().exited);
}

TEST(Failures, MsgsndBlockedOnAQueueWithLoweredMsgQbytes) {
  // Without IPC_NOWAIT a full queue puts the sender to sleep. The queue's
  // capacity was lowered below kernel.msgmnb with msgctl(IPC_SET): the fix
  // is IPC_SET again, not the sysctl.
  QueueGuard q;
  q.id = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
  ASSERT_GE(q.id, 0) << strerror(errno);
  msqid_ds ds{};
  ASSERT_EQ(msgctl(q.id, IPC_STAT, &ds), 0) << strerror(errno);
  const uint64_t msgmnb = std::stoull(read_file("/proc/sys/kernel/msgmnb"));
  ASSERT_GT(msgmnb, 2048u);
  ds.msg_qbytes = 2048;
  ASSERT_EQ(msgctl(q.id, IPC_SET, &ds), 0) << strerror(errno);
  Tracer tracer;
  ASSERT_TRUE(tracer.wait_attached()) << tracer.err();
  const int qid = q.id;
  Provoked p = provoke(false, [qid] {
    struct {
      long mtype;
      char text[1024];
    } msg{1, {}};
    int received = 0;
    int err = block_then_drain(
        [&] {
          for (int i = 0; i < 3; ++i)  // the third does not fit
            if (msgsnd(qid, &msg, sizeof(msg.text), 0) != 0) return errno;
          return 0;
        },
        [&] {
          for (; received < 3; ++received)
            if (msgrcv(qid, &msg, sizeof(msg.text), 0, 0) < 0) break;
        });
    return err ? err : received == 3 ? 0 : -1;
  });
  ASSERT_TRUE(p.ok) << p.why;
  ASSERT_EQ(p.err, 0) << strerror(p.err);
  auto f = wait_failure(tracer, p.pid, "msgsnd", nullptr, p.tid);
  ASSERT_TRUE(f.has_value()) << "no blocked msgsnd of pid " << p.pid << "; " << tracer.err();
  expect_blocked(*f, p, "msgsnd", "kernel.msgmnb");
  EXPECT_EQ(f->at("count"), 1) << "the third msgsnd slept once";
  EXPECT_TRUE(
      contains(*f, "detail", "msgsnd of 1024 bytes blocked on full queue " + std::to_string(qid)))
      << f->dump();
  EXPECT_TRUE(contains(*f, "detail",
                       "its msg_qbytes 2048 was set below kernel.msgmnb " + std::to_string(msgmnb)))
      << f->dump();
  EXPECT_TRUE(contains(*f, "fix", "msgctl(IPC_SET)")) << f->dump();
  EXPECT_TRUE(tracer.stop().exited);
}

TEST(Failures, UnixStreamWriterBlockedAtWmemMax) {
  // SO_SNDBUF is capped at twice net.core.wmem_max: a sender already at
  // the cap is limited by the sysctl.
  SysctlGuard wmem_max("net.core.wmem_max", "8192");
  ASSERT_EQ(wmem_max.error(), "");
  Tracer tracer;
  ASSERT_TRUE(tracer.wait_attached()) << tracer.err();
  Provoked p = provoke(false, [] {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return errno;
    int big = 1 << 20;
    socklen_t len = sizeof(big);
    if (setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, len) != 0) return errno;
    int got = 0;
    if (getsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &got, &len) != 0 || got != 16384) return -1;
    int err = block_then_drain(
        [&] {
          int e = write_all(sv[0], 256 * 1024);
          shutdown(sv[0], SHUT_WR);
          return e;
        },
        [&] { drain_fd(sv[1]); });
    close(sv[0]);
    close(sv[1]);
    return err;
  });
  ASSERT_TRUE(p.ok) << p.why;
  ASSERT_EQ(p.err, 0) << (p.err < 0 ? "SO_SNDBUF is not 2 x 8192" : strerror(p.err));
  auto f = wait_failure(tracer, p.pid, "write", nullptr, p.tid);
  ASSERT_TRUE(f.has_value()) << "no blocked write of pid " << p.pid << "; " << tracer.err();
  expect_blocked(*f, p, "write", "net.core.wmem_max");
  EXPECT_TRUE(contains(*f, "detail", "SO_SNDBUF 16384 is already at net.core.wmem_max 8192"))
      << f->dump();
  EXPECT_EQ(f->at("fix"), "sysctl -w net.core.wmem_max=16384") << f->dump();
  EXPECT_TRUE(tracer.stop().exited);
}

TEST(Failures, MqTimedsendBlockedOnAQueueAtMsgMax) {
  const uint64_t msg_max = std::stoull(read_file("/proc/sys/fs/mqueue/msg_max"));
  ASSERT_GT(msg_max, 0u);
  ASSERT_LT(msg_max, 1000u) << "a test queue of msg_max messages should stay small";
  const std::string name = "/ipctop-e2e-blk-" + std::to_string(getpid());
  struct Unlink {
    std::string name;
    ~Unlink() { mq_unlink(name.c_str()); }
  } unlink_after{name};
  Tracer tracer;
  ASSERT_TRUE(tracer.wait_attached()) << tracer.err();
  Provoked p = provoke(false, [&name, msg_max] {
    mq_attr attr{};
    attr.mq_maxmsg = static_cast<long>(msg_max);
    attr.mq_msgsize = 64;
    mqd_t q = mq_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600, &attr);
    if (q == static_cast<mqd_t>(-1)) return errno;
    char msg[64] = {};
    uint64_t received = 0;
    int err = block_then_drain(
        [&] {
          for (uint64_t i = 0; i <= msg_max; ++i)  // the last does not fit
            if (mq_send(q, msg, sizeof(msg), 0) != 0) return errno;
          return 0;
        },
        [&] {
          for (; received <= msg_max; ++received)
            if (mq_receive(q, msg, sizeof(msg), nullptr) < 0) break;
        });
    mq_close(q);
    mq_unlink(name.c_str());
    return err ? err : received == msg_max + 1 ? 0 : -1;
  });
  ASSERT_TRUE(p.ok) << p.why;
  ASSERT_EQ(p.err, 0) << strerror(p.err);
  auto f = wait_failure(tracer, p.pid, "mq_timedsend", nullptr, p.tid);
  ASSERT_TRUE(f.has_value()) << "no blocked mq_timedsend of pid " << p.pid << "; " << tracer.err();
  expect_blocked(*f, p, "mq_timedsend", "fs.mqueue.msg_max");
  EXPECT_TRUE(contains(
      *f, "detail",
      "(" + std::to_string(msg_max) + " of mq_maxmsg " + std::to_string(msg_max) + " messages)"))
      << f->dump();
  EXPECT_TRUE(contains(*f, "fix", "sysctl -w fs.mqueue.msg_max=")) << f->dump();
  EXPECT_TRUE(tracer.stop().exited);
}

// ---------------------------------------------------------------- ipctop limits: pipe pages

// `ipctop limits --json`, parsed.
json limits_json() {
  TempDir dir;
  pid_t pid = spawn({IPCTOP_BIN, "limits", "--json"}, dir.file("out"), dir.file("err"));
  Exit e = wait_bounded(pid, std::chrono::seconds(30));
  EXPECT_TRUE(e.exited && e.code == 0) << read_file(dir.file("err"));
  try {
    return json::parse(read_file(dir.file("out")));
  } catch (const json::exception&) {
    return json::object();
  }
}

TEST(LimitsPipes, PipePagesOfAUserAreCountedExactlyAndOverTheSoftLimitWarned) {
  // A uid of its own, so that nobody else's pipes are counted with ours.
  constexpr uid_t kUid = 61234;
  int ready[2], hold[2];
  ASSERT_EQ(pipe2(ready, O_CLOEXEC), 0);
  ASSERT_EQ(pipe2(hold, O_CLOEXEC), 0);
  pid_t child = fork();
  if (child == 0) {
    close(ready[0]);
    close(hold[1]);
    if (setgroups(0, nullptr) != 0 || setresgid(kUid, kUid, kUid) != 0 ||
        setresuid(kUid, kUid, kUid) != 0)
      _exit(120);
    // Three default pipes (16 pages each) and one of 256 KiB (64 pages).
    int fds[4][2];
    for (auto& f : fds)
      if (pipe2(f, O_CLOEXEC) != 0) _exit(121);
    if (fcntl(fds[3][1], F_SETPIPE_SZ, 256 * 1024) != 256 * 1024) _exit(122);
    char c = 'r';
    if (write(ready[1], &c, 1) != 1) _exit(123);
    pollfd pfd{hold[0], POLLIN, 0};
    poll(&pfd, 1, 20000);  // until the test closes its end
    _exit(0);
  }
  close(ready[1]);
  close(hold[0]);
  char c = 0;
  pollfd pfd{ready[0], POLLIN, 0};
  bool up = poll(&pfd, 1, 10000) == 1 && read(ready[0], &c, 1) == 1;
  close(ready[0]);
  auto finish = [&] {
    close(hold[1]);
    return wait_bounded(child, std::chrono::seconds(10));
  };
  if (!up) {
    finish();
    FAIL() << "the child did not create its pipes";
  }
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  const uint64_t pages = 3 * 16 + 256 * 1024 / page;

  auto user = [&](const json& j) -> std::optional<json> {
    for (const auto& u : j.at("objects").at("pipe_users"))
      if (u.at("uid") == kUid) return u;
    return std::nullopt;
  };
  json j = limits_json();
  ASSERT_TRUE(j.contains("objects")) << j.dump();
  auto u = user(j);
  ASSERT_TRUE(u.has_value()) << j.at("objects").at("pipe_users").dump();
  EXPECT_EQ(u->at("pages").get<uint64_t>(), pages) << u->dump();
  EXPECT_EQ(u->at("pipes").get<uint64_t>(), 4u) << "each pipe once, not once per end";
  EXPECT_EQ(u->at("owner"), std::to_string(kUid)) << "a uid without a name";

  {
    // Over the soft limit the user's next pipe would be shrunk: warned.
    SysctlGuard soft("fs.pipe-user-pages-soft", std::to_string(pages));
    ASSERT_EQ(soft.error(), "");
    j = limits_json();
  }
  bool warned = false;
  for (const auto& w : j.at("warnings"))
    if (w.at("limit") == "fs.pipe-user-pages-soft" &&
        w.at("message").get<std::string>().find("(uid " + std::to_string(kUid) + ") holds " +
                                                std::to_string(pages) + " pipe pages") !=
            std::string::npos) {
      warned = true;
      EXPECT_EQ(w.at("fix"), "sysctl -w fs.pipe-user-pages-soft=" + std::to_string(pages * 2))
          << w.dump();
    }
  EXPECT_TRUE(warned) << j.at("warnings").dump();
  Exit e = finish();
  EXPECT_TRUE(e.exited && e.code == 0) << e.code;
}

// The probes and the JSON stay quiet about failures nobody asked about, and
// report the drop point even when nothing was dropped.
TEST(Failures, EverySnapshotHasFailuresAndTheDropPoint) {
  Tracer tracer({"--json", "-d", "0.3"});
  ASSERT_TRUE(tracer.wait_attached()) << tracer.err();
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  ASSERT_TRUE(tracer.stop().exited);
  auto snaps = tracer.snapshots();
  ASSERT_FALSE(snaps.empty());
  for (const auto& s : snaps) {
    ASSERT_TRUE(s.contains("failures")) << s.dump();
    EXPECT_TRUE(s.at("failures").is_array());
    ASSERT_TRUE(s.at("lost").contains("failure_map_full")) << s.at("lost").dump();
    EXPECT_EQ(s.at("lost").at("failure_map_full"), 0);
  }
}

}  // namespace
}  // namespace e2e
