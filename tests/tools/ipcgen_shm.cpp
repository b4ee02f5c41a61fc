// ipcgen's signal and shared memory modes: real processes, real kernel
// objects, and the ground truth printed as one JSON line (see --help).
//
//   signal          parent kill()s the child N times with SIGUSR1, the child
//                   answers each with tgkill(SIGUSR2): each signal is taken
//                   (sigwaitinfo) before the next is sent, so none coalesce.
//   sysv_shm        a SysV segment created by the parent, shmat by it and by
//                   its child (which attaches by id, not by inheritance).
//   posix_shm       a /dev/shm file shm_open()ed and mmap()ed by both.
//   memfd           a memfd mapped by the parent, passed to the child over a
//                   unix socket (SCM_RIGHTS) and mapped there.
//   fdpass          a pipe's write end and a memfd passed to the child with
//                   SCM_RIGHTS; after --linger-ms it writes --msgs x --size
//                   bytes into the pipe (the parent reads), then maps the memfd.
//   sem_pingpong    two process-shared POSIX semaphores in a shared segment
//                   (--segment posix or sysv), N round trips; each post waits
//                   until the peer sleeps in sem_wait, so every post wakes it.
//   semop_pingpong  the same with a SysV semaphore set and semop.
//
// The truth line is printed as soon as both processes are attached (before
// --linger-ms), so a test can start tracing after the objects exist.

#include <fcntl.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

constexpr unsigned kTimeoutS = 30;

struct Opts {
  std::string kind;
  uint64_t msgs = 100;
  uint64_t size = 65536;
  uint64_t linger_ms = 0;
  std::string segment = "posix";
};

// Cleanup state for the failure paths.
pid_t g_child = 0;
int g_shmid = -1;
int g_semid = -1;
std::string g_shm_name;

void cleanup() {
  if (g_child > 0) {
    kill(g_child, SIGKILL);
    waitpid(g_child, nullptr, 0);
    g_child = 0;
  }
  if (g_shmid >= 0) shmctl(g_shmid, IPC_RMID, nullptr);
  if (g_semid >= 0) semctl(g_semid, 0, IPC_RMID);
  if (!g_shm_name.empty()) shm_unlink(g_shm_name.c_str());
  g_shmid = g_semid = -1;
  g_shm_name.clear();
}

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "ipcgen: %s: %s\n", what.c_str(), std::strerror(errno));
  cleanup();
  _exit(1);
}

[[noreturn]] void usage(const std::string& msg) {
  std::fprintf(stderr, "ipcgen: %s\nTry 'ipcgen --help'.\n", msg.c_str());
  std::exit(2);
}

void on_alarm(int) {
  cleanup();
  _exit(1);
}

uint64_t number(std::string_view opt, std::string_view v, uint64_t lo, uint64_t hi) {
  uint64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || n < lo || n > hi)
    usage("invalid value for " + std::string(opt) + ": '" + std::string(v) + "'");
  return n;
}

Opts parse(int argc, char** argv) {
  Opts o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (i + 1 >= argc) usage("option " + std::string(a) + " needs a value");
    std::string_view v = argv[++i];
    if (a == "--kind")
      o.kind = v;
    else if (a == "--msgs")
      o.msgs = number(a, v, 1, 10'000'000);
    else if (a == "--size")
      o.size = number(a, v, 1, 1ull << 30);
    else if (a == "--linger-ms")
      o.linger_ms = number(a, v, 0, 600'000);
    else if (a == "--segment" && (v == "posix" || v == "sysv"))
      o.segment = v;
    else
      usage("unknown option or value '" + std::string(a) + " " + std::string(v) + "'");
  }
  return o;
}

void print(const std::string& line) {
  std::fputs((line + "\n").c_str(), stdout);
  std::fflush(stdout);
}

// The child: dies with its parent, and reports readiness through `ready`.
template <typename Body>
pid_t fork_child(Body body) {
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) fail("fork");
  if (pid == 0) {
    g_child = 0;
    g_shmid = g_semid = -1;
    g_shm_name.clear();
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    alarm(kTimeoutS);
    body();
    _exit(0);
  }
  g_child = pid;
  return pid;
}

void reap() {
  int status = 0;
  if (waitpid(g_child, &status, 0) < 0) fail("waitpid");
  g_child = 0;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    errno = 0;
    fail("child process failed");
  }
}

void write_all(int fd, const void* buf, size_t n) {
  if (write(fd, buf, n) != static_cast<ssize_t>(n)) fail("write");
}

void read_all(int fd, void* buf, size_t n) {
  size_t have = 0;
  while (have < n) {
    ssize_t got = read(fd, static_cast<char*>(buf) + have, n - have);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) fail("read");
    have += static_cast<size_t>(got);
  }
}

void linger(const Opts& o) {
  if (o.linger_ms) std::this_thread::sleep_for(std::chrono::milliseconds(o.linger_ms));
}

// ---- signals ----

int run_signal(const Opts& o) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGUSR2);
  // Blocked before the fork: neither side can miss one, and sigwaitinfo
  // takes each signal from the pending set.
  sigprocmask(SIG_BLOCK, &set, nullptr);
  pid_t parent = getpid();
  pid_t child = fork_child([&] {
    for (uint64_t i = 0; i < o.msgs; ++i) {
      siginfo_t si;
      if (sigwaitinfo(&set, &si) != SIGUSR1) fail("sigwaitinfo (child)");
      if (syscall(SYS_tgkill, parent, parent, SIGUSR2) != 0) fail("tgkill");
    }
    linger(o);
  });
  for (uint64_t i = 0; i < o.msgs; ++i) {
    if (kill(child, SIGUSR1) != 0) fail("kill");
    siginfo_t si;
    if (sigwaitinfo(&set, &si) != SIGUSR2) fail("sigwaitinfo");
    if (si.si_pid != child) {
      errno = 0;
      fail("SIGUSR2 from an unexpected sender");
    }
  }
  print("{\"kind\":\"signal\",\"flows\":[{\"src_pid\":" + std::to_string(parent) +
        ",\"src_tid\":" + std::to_string(parent) + ",\"dst_pid\":" + std::to_string(child) +
        ",\"dst_tid\":" + std::to_string(child) +
        ",\"signal\":\"SIGUSR1\",\"messages\":" + std::to_string(o.msgs) +
        "},{\"src_pid\":" + std::to_string(child) + ",\"src_tid\":" + std::to_string(child) +
        ",\"dst_pid\":" + std::to_string(parent) + ",\"dst_tid\":" + std::to_string(parent) +
        ",\"signal\":\"SIGUSR2\",\"messages\":" + std::to_string(o.msgs) + "}]}");
  reap();
  return 0;
}

// ---- segments ----

std::string segment_line(const std::string& kind, pid_t a, pid_t b, const std::string& extra) {
  return "{\"kind\":\"" + kind + "\",\"attached\":[" + std::to_string(a) + "," + std::to_string(b) +
         "]," + extra + "}";
}

int run_sysv_shm(const Opts& o) {
  int ctl[2], ack[2];
  if (pipe(ctl) != 0 || pipe(ack) != 0) fail("pipe");
  // The child exists before the segment: it attaches by id, not by fork.
  pid_t child = fork_child([&] {
    int id = -1;
    read_all(ctl[0], &id, sizeof id);
    void* p = shmat(id, nullptr, 0);
    if (p == reinterpret_cast<void*>(-1)) fail("shmat (child)");
    static_cast<volatile char*>(p)[0] = 1;
    write_all(ack[1], "a", 1);
    char done;
    read_all(ctl[0], &done, 1);
    if (shmdt(p) != 0) fail("shmdt (child)");
  });
  key_t key = static_cast<key_t>(0x1c000000 | (getpid() & 0xffffff));
  g_shmid = shmget(key, o.size, IPC_CREAT | IPC_EXCL | 0600);
  if (g_shmid < 0) fail("shmget");
  void* p = shmat(g_shmid, nullptr, 0);
  if (p == reinterpret_cast<void*>(-1)) fail("shmat");
  write_all(ctl[1], &g_shmid, sizeof g_shmid);
  char a;
  read_all(ack[0], &a, 1);
  char keyhex[16];
  std::snprintf(keyhex, sizeof keyhex, "0x%08x", static_cast<unsigned>(key));
  print(segment_line("sysv_shm", getpid(), child,
                     "\"shmid\":" + std::to_string(g_shmid) + ",\"key\":\"" + keyhex +
                         "\",\"size\":" + std::to_string(o.size) +
                         ",\"creator\":" + std::to_string(getpid())));
  linger(o);
  write_all(ctl[1], "d", 1);
  reap();
  if (shmdt(p) != 0) fail("shmdt");
  if (shmctl(g_shmid, IPC_RMID, nullptr) != 0) fail("shmctl(IPC_RMID)");
  g_shmid = -1;
  return 0;
}

void* map_fd(int fd, uint64_t size) {
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) fail("mmap");
  return p;
}

int run_posix_shm(const Opts& o) {
  int ctl[2], ack[2];
  if (pipe(ctl) != 0 || pipe(ack) != 0) fail("pipe");
  g_shm_name = "/ipcgen-" + std::to_string(getpid());
  const std::string name = g_shm_name;
  pid_t child = fork_child([&] {
    char go;
    read_all(ctl[0], &go, 1);
    int fd = shm_open(name.c_str(), O_RDWR, 0);
    if (fd < 0) fail("shm_open (child)");
    void* p = map_fd(fd, o.size);
    close(fd);
    write_all(ack[1], "a", 1);
    read_all(ctl[0], &go, 1);
    munmap(p, o.size);
  });
  int fd = shm_open(name.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
  if (fd < 0) fail("shm_open");
  if (ftruncate(fd, static_cast<off_t>(o.size)) != 0) fail("ftruncate");
  void* p = map_fd(fd, o.size);
  close(fd);
  write_all(ctl[1], "g", 1);
  char a;
  read_all(ack[0], &a, 1);
  print(segment_line("posix_shm", getpid(), child,
                     "\"path\":\"/dev/shm" + name + "\",\"size\":" + std::to_string(o.size)));
  linger(o);
  write_all(ctl[1], "d", 1);
  reap();
  munmap(p, o.size);
  shm_unlink(name.c_str());
  g_shm_name.clear();
  return 0;
}

int run_memfd(const Opts& o) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) fail("socketpair");
  // The child exists before the memfd: it gets it only through SCM_RIGHTS.
  pid_t child = fork_child([&] {
    close(sv[0]);
    char byte;
    char cbuf[CMSG_SPACE(sizeof(int))];
    iovec iov{&byte, 1};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf;
    msg.msg_controllen = sizeof cbuf;
    if (recvmsg(sv[1], &msg, 0) != 1) fail("recvmsg");
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    if (!c || c->cmsg_type != SCM_RIGHTS) fail("no SCM_RIGHTS");
    int fd;
    std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
    void* p = map_fd(fd, o.size);
    close(fd);
    write_all(sv[1], "a", 1);
    read_all(sv[1], &byte, 1);
    munmap(p, o.size);
  });
  close(sv[1]);
  int fd = memfd_create("ipcgen", MFD_CLOEXEC);
  if (fd < 0) fail("memfd_create");
  if (ftruncate(fd, static_cast<off_t>(o.size)) != 0) fail("ftruncate");
  void* p = map_fd(fd, o.size);
  char byte = 'f';
  char cbuf[CMSG_SPACE(sizeof(int))] = {};
  iovec iov{&byte, 1};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = cbuf;
  msg.msg_controllen = sizeof cbuf;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  if (sendmsg(sv[0], &msg, 0) != 1) fail("sendmsg");
  close(fd);
  read_all(sv[0], &byte, 1);
  print(segment_line("posix_shm", getpid(), child,
                     "\"path\":\"memfd:ipcgen\",\"size\":" + std::to_string(o.size)));
  linger(o);
  write_all(sv[0], "d", 1);
  reap();
  munmap(p, o.size);
  return 0;
}

// ---- fdpass: a pipe's write end and a memfd passed with SCM_RIGHTS ----

// The child R exists before the pipe and the memfd: it gets them only
// through SCM_RIGHTS. R acknowledges, then waits --linger-ms (a quiet
// phase in which it holds both and has moved nothing), then writes
// --msgs x --size bytes into the pipe, which the parent reads, then maps
// the memfd. The truth line comes at the end, with the read calls.
int run_fdpass(const Opts& o) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) fail("socketpair");
  pid_t child = fork_child([&] {
    close(sv[0]);
    char byte;
    char cbuf[CMSG_SPACE(2 * sizeof(int))];
    iovec iov{&byte, 1};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf;
    msg.msg_controllen = sizeof cbuf;
    if (recvmsg(sv[1], &msg, MSG_CMSG_CLOEXEC) != 1) fail("recvmsg");
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    if (!c || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(2 * sizeof(int)))
      fail("no SCM_RIGHTS with two descriptors");
    int fds[2];
    std::memcpy(fds, CMSG_DATA(c), sizeof fds);
    write_all(sv[1], "a", 1);
    read_all(sv[1], &byte, 1);  // go
    std::vector<char> buf(o.size, 'p');
    for (uint64_t i = 0; i < o.msgs; ++i) write_all(fds[0], buf.data(), buf.size());
    close(fds[0]);
    void* p = map_fd(fds[1], 4096);
    close(fds[1]);
    write_all(sv[1], "m", 1);
    read_all(sv[1], &byte, 1);  // done
    munmap(p, 4096);
  });
  close(sv[1]);
  int pfd[2];
  if (pipe2(pfd, O_CLOEXEC) != 0) fail("pipe2");
  int mfd = memfd_create("ipcgen-fdpass", MFD_CLOEXEC);
  if (mfd < 0) fail("memfd_create");
  if (ftruncate(mfd, 4096) != 0) fail("ftruncate");
  void* p = map_fd(mfd, 4096);
  struct stat pst {}, mst {};
  if (fstat(pfd[0], &pst) != 0 || fstat(mfd, &mst) != 0) fail("fstat");
  char byte = 'f';
  char cbuf[CMSG_SPACE(2 * sizeof(int))] = {};
  iovec iov{&byte, 1};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = cbuf;
  msg.msg_controllen = sizeof cbuf;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(2 * sizeof(int));
  const int pass[2] = {pfd[1], mfd};
  std::memcpy(CMSG_DATA(c), pass, sizeof pass);
  if (sendmsg(sv[0], &msg, 0) != 1) fail("sendmsg");
  close(pfd[1]);
  close(mfd);
  read_all(sv[0], &byte, 1);  // R holds both
  linger(o);
  write_all(sv[0], "g", 1);
  std::vector<char> buf(65536);
  uint64_t bytes = 0, reads = 0;
  for (;;) {
    ssize_t got = read(pfd[0], buf.data(), buf.size());
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) fail("read pipe");
    if (got == 0) break;
    bytes += static_cast<uint64_t>(got);
    ++reads;
  }
  read_all(sv[0], &byte, 1);  // R mapped the memfd
  if (bytes != o.msgs * o.size) {
    errno = 0;
    fail("the pipe carried " + std::to_string(bytes) + " bytes");
  }
  print("{\"kind\":\"fdpass\",\"parent_pid\":" + std::to_string(getpid()) +
        ",\"receiver_pid\":" + std::to_string(child) + ",\"pipe_ino\":" + std::to_string(pst.st_ino) +
        ",\"memfd_ino\":" + std::to_string(mst.st_ino) + ",\"memfd_dev\":\"" +
        std::to_string(major(mst.st_dev)) + ":" + std::to_string(minor(mst.st_dev)) +
        "\",\"bytes\":" + std::to_string(bytes) + ",\"read_calls\":" + std::to_string(reads) + "}");
  linger(o);
  write_all(sv[0], "d", 1);
  reap();
  close(pfd[0]);
  munmap(p, 4096);
  return 0;
}

// ---- ping-pongs ----

// Wait until thread `tid` of `pid` sleeps (state S): it is then blocked in
// its sem_wait or semop, queued on the futex or the semaphore, so the next
// post wakes it. Bounded by the alarm.
void wait_sleeping(pid_t pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/stat";
  for (;;) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail("open " + path);
    char buf[512];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) fail("read " + path);
    buf[n] = 0;
    const char* rp = std::strrchr(buf, ')');
    if (rp && rp[1] == ' ' && rp[2] == 'S') return;
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

std::string pingpong_line(const std::string& kind, pid_t a, pid_t b, uint64_t n,
                          const std::string& extra) {
  auto flow = [&](pid_t s, pid_t d) {
    return "{\"src_pid\":" + std::to_string(s) + ",\"src_tid\":" + std::to_string(s) +
           ",\"dst_pid\":" + std::to_string(d) + ",\"dst_tid\":" + std::to_string(d) +
           ",\"messages\":" + std::to_string(n) + "}";
  };
  return "{\"kind\":\"" + kind + "\",\"round_trips\":" + std::to_string(n) + ",\"flows\":[" +
         flow(a, b) + "," + flow(b, a) + "]," + extra + "}";
}

int run_sem_pingpong(const Opts& o) {
  const size_t size = 4096;
  std::string extra;
  void* p = nullptr;
  if (o.segment == "sysv") {
    g_shmid = shmget(IPC_PRIVATE, size, IPC_CREAT | 0600);
    if (g_shmid < 0) fail("shmget");
    p = shmat(g_shmid, nullptr, 0);
    if (p == reinterpret_cast<void*>(-1)) fail("shmat");
    extra = "\"segment\":\"sysv_shm\",\"shmid\":" + std::to_string(g_shmid);
  } else {
    g_shm_name = "/ipcgen-sem-" + std::to_string(getpid());
    int fd = shm_open(g_shm_name.c_str(), O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0) fail("shm_open");
    if (ftruncate(fd, size) != 0) fail("ftruncate");
    p = map_fd(fd, size);
    close(fd);
    extra = "\"segment\":\"posix_shm\",\"path\":\"/dev/shm" + g_shm_name + "\"";
  }
  auto* sems = static_cast<sem_t*>(p);  // [0]: parent -> child, [1]: child -> parent
  if (sem_init(&sems[0], 1, 0) != 0 || sem_init(&sems[1], 1, 0) != 0) fail("sem_init");
  pid_t parent = getpid();
  // The child inherits the mapping (fork): both are attached.
  pid_t child = fork_child([&] {
    for (uint64_t i = 0; i < o.msgs; ++i) {
      while (sem_wait(&sems[0]) != 0)
        if (errno != EINTR) fail("sem_wait (child)");
      wait_sleeping(parent);
      if (sem_post(&sems[1]) != 0) fail("sem_post (child)");
    }
  });
  for (uint64_t i = 0; i < o.msgs; ++i) {
    wait_sleeping(child);
    if (sem_post(&sems[0]) != 0) fail("sem_post");
    while (sem_wait(&sems[1]) != 0)
      if (errno != EINTR) fail("sem_wait");
  }
  reap();
  print(pingpong_line("sem_pingpong", parent, child, o.msgs, extra));
  if (o.segment == "sysv") {
    shmdt(p);
    shmctl(g_shmid, IPC_RMID, nullptr);
    g_shmid = -1;
  } else {
    munmap(p, size);
    shm_unlink(g_shm_name.c_str());
    g_shm_name.clear();
  }
  return 0;
}

int run_semop_pingpong(const Opts& o) {
  g_semid = semget(IPC_PRIVATE, 2, IPC_CREAT | 0600);
  if (g_semid < 0) fail("semget");
  const int semid = g_semid;
  auto op = [&](unsigned short num, short delta) {
    sembuf b{num, delta, 0};
    while (semop(semid, &b, 1) != 0)
      if (errno != EINTR) fail("semop");
  };
  pid_t parent = getpid();
  pid_t child = fork_child([&] {
    for (uint64_t i = 0; i < o.msgs; ++i) {
      op(0, -1);
      wait_sleeping(parent);
      op(1, 1);
    }
  });
  for (uint64_t i = 0; i < o.msgs; ++i) {
    wait_sleeping(child);
    op(0, 1);
    op(1, -1);
  }
  reap();
  print(
      pingpong_line("semop_pingpong", parent, child, o.msgs, "\"semid\":" + std::to_string(semid)));
  semctl(semid, 0, IPC_RMID);
  g_semid = -1;
  return 0;
}

}  // namespace

bool ipcgen_shm_kind(std::string_view kind) {
  return kind == "signal" || kind == "sysv_shm" || kind == "posix_shm" || kind == "memfd" || kind == "fdpass" ||
         kind == "sem_pingpong" || kind == "semop_pingpong";
}

int ipcgen_shm_main(int argc, char** argv) {
  Opts o = parse(argc, argv);
  struct sigaction sa {};
  sa.sa_handler = on_alarm;
  sigaction(SIGALRM, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  alarm(kTimeoutS + static_cast<unsigned>(o.linger_ms / 1000));
  if (o.kind == "signal") return run_signal(o);
  if (o.kind == "sysv_shm") return run_sysv_shm(o);
  if (o.kind == "posix_shm") return run_posix_shm(o);
  if (o.kind == "memfd") return run_memfd(o);
  if (o.kind == "fdpass") return run_fdpass(o);
  if (o.kind == "sem_pingpong") return run_sem_pingpong(o);
  return run_semop_pingpong(o);
}
