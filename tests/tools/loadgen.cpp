// loadgen: sustained and churning IPC load for the reliability tests, with
// the ground truth (per flow: sender pid/tid -> receiver pid/tid, bytes,
// receive calls) counted from the syscalls' own return values and printed
// as one JSON line.
//
//   loadgen load  --seconds S [--kinds pipe,fifo,...] [--pairs N] [--size B] [--rate R]
//   loadgen churn --procs N [--threads T] [--bytes B] [--parallel P]
//   loadgen unread --pipes N [--rate R] [--bytes B] [--late K]
//
// load: N sender/receiver process pairs per kind move B-byte messages for S
// seconds, paced to R IPC syscalls per second in total (0: as fast as they
// can). churn: N short-lived processes, each starting T short-lived threads
// one after the other; thread i writes B bytes to a pipe its process reads,
// then the process reports to the parent over a pipe of its own and exits.
// unread: N pipes, R per second, each written B bytes and closed unread (as
// `producer | head -1` leaves them); K more are written first and read only
// at the end, after the N.
// Names and paths can be made hostile (--comm-hex, --tag-hex) to test how
// they are shown. Everything is bounded in time; children die with the
// parent (PR_SET_PDEATHSIG).
#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

enum class Kind { pipe, fifo, unix_stream, unix_dgram, unix_seqpacket };

struct KindName {
  Kind kind;
  const char* name;
};
constexpr KindName kKinds[] = {{Kind::pipe, "pipe"},
                               {Kind::fifo, "fifo"},
                               {Kind::unix_stream, "unix_stream"},
                               {Kind::unix_dgram, "unix_dgram"},
                               {Kind::unix_seqpacket, "unix_seqpacket"}};

const char* name_of(Kind k) {
  for (const auto& kn : kKinds)
    if (kn.kind == k) return kn.name;
  return "?";
}

bool is_stream(Kind k) { return k == Kind::pipe || k == Kind::fifo || k == Kind::unix_stream; }

[[noreturn]] void die(const std::string& msg) {
  std::string line = "loadgen: " + msg + "\n";
  ssize_t ignored = write(2, line.data(), line.size());
  (void)ignored;
  _exit(1);
}
[[noreturn]] void die_errno(const std::string& what) { die(what + ": " + strerror(errno)); }

[[noreturn]] void usage(const std::string& msg) {
  std::fprintf(stderr,
               "loadgen: %s\n"
               "usage: loadgen load --seconds S [--kinds K,K] [--pairs N] [--size B] [--rate R]\n"
               "                    [--comm-hex HEX] [--tag-hex HEX]\n"
               "       loadgen churn --procs N [--threads T] [--bytes B] [--parallel P]\n"
               "       loadgen unread --pipes N [--rate R] [--bytes B] [--late K]\n",
               msg.c_str());
  std::exit(2);
}

uint64_t parse_u64(std::string_view opt, std::string_view s, uint64_t lo, uint64_t hi) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || v < lo || v > hi)
    usage("invalid value '" + std::string(s) + "' for " + std::string(opt));
  return v;
}

std::string unhex(std::string_view opt, std::string_view hex) {
  auto digit = [&](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    usage("bad hex in " + std::string(opt));
  };
  if (hex.size() % 2) usage("odd hex length in " + std::string(opt));
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2)
    out += static_cast<char>(digit(hex[i]) * 16 + digit(hex[i + 1]));
  if (out.find('\0') != std::string::npos || out.find('/') != std::string::npos)
    usage(std::string(opt) + " may hold neither NUL nor '/'");
  return out;
}

double now_s() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

void sleep_s(double s) {
  if (s <= 0) return;
  timespec ts{static_cast<time_t>(s), static_cast<long>((s - static_cast<double>(static_cast<time_t>(s))) * 1e9)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

std::string json_str(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);  // raw bytes, as Latin-1 code points
      out += buf;
    } else {
      out += c;
    }
  }
  return out + '"';
}

struct Flow {
  const char* kind;
  pid_t src_pid, src_tid, dst_pid, dst_tid;
  uint64_t bytes, messages;
};

std::string flow_json(const Flow& f) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "{\"kind\":\"%s\",\"src_pid\":%d,\"src_tid\":%d,\"dst_pid\":%d,\"dst_tid\":%d,"
                "\"bytes\":%llu,\"messages\":%llu}",
                f.kind, f.src_pid, f.src_tid, f.dst_pid, f.dst_tid,
                static_cast<unsigned long long>(f.bytes),
                static_cast<unsigned long long>(f.messages));
  return buf;
}

// A child's report to the parent: one write of at most PIPE_BUF, so atomic.
struct Report {
  pid_t pid;
  pid_t tid;
  uint64_t bytes;
  uint64_t calls;  // successful data syscalls (sends or receives)
};

void write_all(int fd, const void* p, size_t n) {
  const char* c = static_cast<const char*>(p);
  while (n) {
    ssize_t w = write(fd, c, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) die_errno("write");
    c += w;
    n -= static_cast<size_t>(w);
  }
}

Report read_report(int fd) {
  Report r{};
  size_t have = 0;
  while (have < sizeof r) {
    ssize_t n = read(fd, reinterpret_cast<char*>(&r) + have, sizeof r - have);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) die("a child died before reporting");
    have += static_cast<size_t>(n);
  }
  return r;
}

void become_child(const std::string& comm) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  alarm(600);
  if (!comm.empty()) prctl(PR_SET_NAME, comm.c_str());
}

// ---- load ----

struct LoadOptions {
  double seconds = 10;
  std::vector<Kind> kinds;
  uint32_t pairs = 1;
  uint32_t size = 64;
  uint64_t rate = 0;  // IPC syscalls per second in total; 0: unpaced
  std::string comm;   // raw bytes
  std::string tag;    // raw bytes, part of FIFO and socket file names
};

sockaddr_un address(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.size() >= sizeof a.sun_path) die("socket path too long: " + path);
  std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
  return a;
}

int sock_type(Kind k) {
  return k == Kind::unix_dgram ? SOCK_DGRAM : k == Kind::unix_seqpacket ? SOCK_SEQPACKET : SOCK_STREAM;
}

// The receiving end, ready before the sender is forked.
int open_receiver(Kind k, const std::string& path, int pipe_r) {
  if (k == Kind::pipe) return pipe_r;
  if (k == Kind::fifo) {
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) die_errno("open " + path);
    return fd;
  }
  int fd = socket(AF_UNIX, sock_type(k) | SOCK_CLOEXEC, 0);
  if (fd < 0) die_errno("socket");
  sockaddr_un a = address(path);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) die_errno("bind " + path);
  if (k == Kind::unix_dgram) return fd;
  if (listen(fd, 1) != 0) die_errno("listen");
  int c;
  while ((c = accept4(fd, nullptr, nullptr, SOCK_CLOEXEC)) < 0)
    if (errno != EINTR) die_errno("accept");
  close(fd);
  return c;
}

int open_sender(Kind k, const std::string& path, int pipe_w) {
  if (k == Kind::pipe) return pipe_w;
  if (k == Kind::fifo) {
    int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) die_errno("open " + path);
    return fd;
  }
  sockaddr_un a = address(path);
  double deadline = now_s() + 10;
  for (;;) {
    int fd = socket(AF_UNIX, sock_type(k) | SOCK_CLOEXEC, 0);
    if (fd < 0) die_errno("socket");
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) return fd;
    int err = errno;
    close(fd);
    if ((err != ENOENT && err != ECONNREFUSED) || now_s() > deadline) {
      errno = err;
      die_errno("connect " + path);
    }
    sleep_s(0.005);
  }
}

// Sends B-byte messages until the deadline, paced to `rate` sends per second
// (0: unpaced); datagram kinds end with one 1-byte message (the receiver's
// end mark), stream kinds by closing.
[[noreturn]] void run_sender(const LoadOptions& o, Kind k, const std::string& path, int pipe_w,
                             int ctl, double start, double rate) {
  become_child(o.comm);
  int fd = open_sender(k, path, pipe_w);
  std::vector<char> buf(o.size, 'x');
  Report r{getpid(), gettid(), 0, 0};
  const double end = start + o.seconds;
  double t = now_s();
  for (uint64_t i = 0;; ++i) {
    if ((i & 63) == 0) {
      t = now_s();
      if (t >= end) break;
      if (rate > 0) {
        double due = start + static_cast<double>(i) / rate;  // when send i is due
        if (due > t) sleep_s(due - t);
      }
    }
    // write() for every kind (the sockets are connected): one syscall per message.
    ssize_t n = write(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      die_errno(std::string("send on ") + name_of(k));
    }
    r.bytes += static_cast<uint64_t>(n);
    ++r.calls;
  }
  if (!is_stream(k) && k != Kind::unix_seqpacket) {
    char mark = 'E';
    for (;;) {
      ssize_t n = send(fd, &mark, 1, MSG_NOSIGNAL);
      if (n == 1) break;
      if (n < 0 && errno == EINTR) continue;
      die_errno("send end mark");
    }
    r.bytes += 1;
    ++r.calls;
  }
  close(fd);
  write_all(ctl, &r, sizeof r);
  _exit(0);
}

[[noreturn]] void run_receiver(const LoadOptions& o, Kind k, const std::string& path, int pipe_r,
                               int ctl) {
  become_child(o.comm);
  int fd = open_receiver(k, path, pipe_r);
  std::vector<char> buf(o.size);
  Report r{getpid(), gettid(), 0, 0};
  for (;;) {
    ssize_t n = read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      die_errno(std::string("read on ") + name_of(k));
    }
    if (n == 0) break;  // stream and seqpacket: the sender closed
    r.bytes += static_cast<uint64_t>(n);
    ++r.calls;
    if (k == Kind::unix_dgram && n == 1) break;  // the end mark
  }
  close(fd);
  write_all(ctl, &r, sizeof r);
  _exit(0);
}

struct Pair {
  Kind kind;
  pid_t sender = -1, receiver = -1;
  int sender_ctl = -1, receiver_ctl = -1;
  std::string path;
};

int run_load(const LoadOptions& o) {
  char tmpl[] = "/tmp/loadgen-XXXXXX";
  if (!mkdtemp(tmpl)) die_errno("mkdtemp");
  const std::string dir = tmpl;
  const uint32_t channels = static_cast<uint32_t>(o.kinds.size()) * o.pairs;
  // Each message is two IPC syscalls, a send and a receive.
  const double per_sender = o.rate ? static_cast<double>(o.rate) / 2.0 / channels : 0;
  // Senders start together, a little after the last pair is set up.
  std::vector<Pair> pairs;
  const double start = now_s() + 0.3 + 0.01 * channels;
  for (Kind k : o.kinds)
    for (uint32_t i = 0; i < o.pairs; ++i) {
      Pair p{k};
      if (k != Kind::pipe)
        p.path = dir + "/" + o.tag + name_of(k) + std::to_string(i) + (k == Kind::fifo ? ".fifo" : ".sock");
      if (k == Kind::fifo && mkfifo(p.path.c_str(), 0600) != 0) die_errno("mkfifo");
      int data[2] = {-1, -1};
      if (k == Kind::pipe && pipe2(data, O_CLOEXEC) != 0) die_errno("pipe");
      int rc[2], sc[2];
      if (pipe2(rc, O_CLOEXEC) != 0 || pipe2(sc, O_CLOEXEC) != 0) die_errno("pipe");
      p.receiver = fork();
      if (p.receiver < 0) die_errno("fork");
      if (p.receiver == 0) {
        close(data[1]);
        run_receiver(o, k, p.path, data[0], rc[1]);
      }
      // Sockets: the sender connects with retries until the receiver listens.
      p.sender = fork();
      if (p.sender < 0) die_errno("fork");
      if (p.sender == 0) {
        close(data[0]);
        run_sender(o, k, p.path, data[1], sc[1], start, per_sender);
      }
      for (int fd : {data[0], data[1], rc[1], sc[1]})
        if (fd >= 0) close(fd);
      p.receiver_ctl = rc[0];
      p.sender_ctl = sc[0];
      pairs.push_back(p);
    }
  std::vector<std::string> flows;
  uint64_t calls = 0, bytes = 0;
  bool ok = true;
  for (auto& p : pairs) {
    Report s = read_report(p.sender_ctl), r = read_report(p.receiver_ctl);
    close(p.sender_ctl);
    close(p.receiver_ctl);
    int st = 0;
    waitpid(p.sender, &st, 0);
    ok &= WIFEXITED(st) && WEXITSTATUS(st) == 0;
    waitpid(p.receiver, &st, 0);
    ok &= WIFEXITED(st) && WEXITSTATUS(st) == 0;
    if (s.bytes != r.bytes) die(std::string(name_of(p.kind)) + ": sent and received bytes differ");
    calls += s.calls + r.calls;
    bytes += r.bytes;
    flows.push_back(flow_json({name_of(p.kind), s.pid, s.tid, r.pid, r.tid, r.bytes, r.calls}));
    if (!p.path.empty()) unlink(p.path.c_str());
  }
  rmdir(dir.c_str());
  if (!ok) die("a child failed");
  const double elapsed = now_s() - start;
  std::string out = "{\"mode\":\"load\",\"seconds\":" + std::to_string(elapsed) +
                    ",\"syscalls\":" + std::to_string(calls) + ",\"bytes\":" + std::to_string(bytes) +
                    ",\"rate\":" + std::to_string(static_cast<double>(calls) / elapsed) +
                    ",\"dir\":" + json_str(dir) + ",\"flows\":[";
  for (size_t i = 0; i < flows.size(); ++i) out += (i ? "," : "") + flows[i];
  out += "]}\n";
  write_all(1, out.data(), out.size());
  return 0;
}

// ---- churn ----

struct ChurnOptions {
  uint32_t procs = 1000;
  uint32_t threads = 2;
  uint32_t bytes = 4096;
  uint32_t parallel = 4;
};

struct ChildReport {
  pid_t pid;
  uint32_t threads;
  uint64_t ino;  // of the pipe inside the process
  pid_t tids[8];
  uint64_t bytes[8];
  uint64_t reads[8];
};
static_assert(sizeof(ChildReport) <= PIPE_BUF);

// One short-lived process: its threads write one after the other into a
// pipe its main thread drains, so every read holds one writer's bytes.
[[noreturn]] void run_churn_child(const ChurnOptions& o, int ctl) {
  become_child("");
  ChildReport rep{};
  rep.pid = getpid();
  rep.threads = o.threads;
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) die_errno("pipe");
  struct stat st {};
  fstat(p[0], &st);
  rep.ino = st.st_ino;
  for (uint32_t t = 0; t < o.threads; ++t) {
    pid_t tid = 0;
    std::thread writer([&] {
      tid = gettid();
      std::vector<char> buf(512, 'c');
      uint64_t left = o.bytes;
      while (left) {
        size_t n = left < buf.size() ? left : buf.size();
        write_all(p[1], buf.data(), n);
        left -= n;
      }
    });
    std::vector<char> buf(65536);
    uint64_t got = 0, reads = 0;
    while (got < o.bytes) {
      ssize_t n = read(p[0], buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) die_errno("churn read");
      got += static_cast<uint64_t>(n);
      ++reads;
    }
    writer.join();
    rep.tids[t] = tid;
    rep.bytes[t] = got;
    rep.reads[t] = reads;
  }
  write_all(ctl, &rep, sizeof rep);
  _exit(0);
}

int run_churn(const ChurnOptions& o) {
  struct Live {
    pid_t pid;
    int ctl;
  };
  std::vector<Live> live;
  std::vector<std::string> flows;
  std::string inodes;  // every pipe the run used, to find its kernel table entries
  uint64_t bytes = 0;
  const pid_t me = getpid();
  const double start = now_s();
  uint32_t started = 0, done = 0;
  auto reap_one = [&] {
    // Wait for whichever child reports first.
    std::vector<pollfd> fds;
    for (const auto& l : live) fds.push_back({l.ctl, POLLIN, 0});
    for (;;) {
      int r = poll(fds.data(), fds.size(), 30000);
      if (r > 0) break;
      if (r == 0 || errno != EINTR) die("churn children stopped reporting");
    }
    for (size_t i = 0; i < fds.size(); ++i) {
      if (!fds[i].revents) continue;
      ChildReport rep{};
      size_t have = 0;
      uint64_t reads = 0;
      while (have < sizeof rep) {
        ssize_t n = read(live[i].ctl, reinterpret_cast<char*>(&rep) + have, sizeof rep - have);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) die("a churn child died before reporting");
        have += static_cast<size_t>(n);
        ++reads;
      }
      // The parent's read of the report is a flow too: child -> parent.
      flows.push_back(flow_json({"pipe", rep.pid, rep.pid, me, me, sizeof rep, reads}));
      bytes += sizeof rep;
      for (uint32_t t = 0; t < rep.threads; ++t) {
        flows.push_back(flow_json({"pipe", rep.pid, rep.tids[t], rep.pid, rep.pid, rep.bytes[t], rep.reads[t]}));
        bytes += rep.bytes[t];
      }
      struct stat ctl_st {};
      fstat(live[i].ctl, &ctl_st);
      inodes += (inodes.empty() ? "" : ",") + std::to_string(ctl_st.st_ino) + "," + std::to_string(rep.ino);
      close(live[i].ctl);
      int st = 0;
      waitpid(live[i].pid, &st, 0);
      if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) die("a churn child failed");
      live.erase(live.begin() + static_cast<long>(i));
      ++done;
      return;
    }
  };
  while (done < o.procs) {
    while (started < o.procs && live.size() < o.parallel) {
      int c[2];
      if (pipe2(c, O_CLOEXEC) != 0) die_errno("pipe");
      pid_t pid = fork();
      if (pid < 0) die_errno("fork");
      if (pid == 0) {
        close(c[0]);
        run_churn_child(o, c[1]);
      }
      close(c[1]);
      live.push_back({pid, c[0]});
      ++started;
    }
    reap_one();
  }
  std::string out = "{\"mode\":\"churn\",\"pid\":" + std::to_string(me) +
                    ",\"seconds\":" + std::to_string(now_s() - start) +
                    ",\"procs\":" + std::to_string(o.procs) + ",\"threads\":" +
                    std::to_string(o.procs * o.threads) + ",\"bytes\":" + std::to_string(bytes) +
                    ",\"pipe_inodes\":[" + inodes + "],\"flows\":[";
  for (size_t i = 0; i < flows.size(); ++i) out += (i ? "," : "") + flows[i];
  out += "]}\n";
  write_all(1, out.data(), out.size());
  return 0;
}

// ---- unread ----

struct UnreadOptions {
  uint32_t pipes = 1000;
  uint32_t rate = 200;
  uint32_t bytes = 100;
  uint32_t late = 0;
};

uint64_t inode_of(int fd) {
  struct stat st {};
  if (fstat(fd, &st) != 0) die_errno("fstat");
  return st.st_ino;
}

int run_unread(const UnreadOptions& o) {
  const pid_t me = getpid();
  const double start = now_s();
  const std::vector<char> buf(o.bytes, 'u');
  std::vector<std::pair<int, int>> late;
  std::string late_inodes, inodes;
  for (uint32_t i = 0; i < o.late; ++i) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) die_errno("pipe");
    write_all(p[1], buf.data(), buf.size());
    late.emplace_back(p[0], p[1]);
    late_inodes += (i ? "," : "") + std::to_string(inode_of(p[0]));
  }
  for (uint32_t i = 0; i < o.pipes; ++i) {
    sleep_s(start + static_cast<double>(i) / o.rate - now_s());
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) die_errno("pipe");
    write_all(p[1], buf.data(), buf.size());
    inodes += (i ? "," : "") + std::to_string(inode_of(p[0]));
    close(p[0]);
    close(p[1]);
  }
  // The late readers: their data waited the whole run.
  uint64_t late_bytes = 0, late_reads = 0;
  std::vector<char> in(o.bytes);
  for (auto [r, w] : late) {
    size_t got = 0;
    while (got < o.bytes) {
      ssize_t n = read(r, in.data(), in.size() - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) die_errno("late read");
      got += static_cast<size_t>(n);
      ++late_reads;
    }
    late_bytes += got;
    close(r);
    close(w);
  }
  std::string out = "{\"mode\":\"unread\",\"pid\":" + std::to_string(me) +
                    ",\"seconds\":" + std::to_string(now_s() - start) + ",\"pipes\":" +
                    std::to_string(o.pipes) + ",\"unread_bytes\":" +
                    std::to_string(uint64_t{o.pipes} * o.bytes) + ",\"late_bytes\":" +
                    std::to_string(late_bytes) + ",\"late_reads\":" + std::to_string(late_reads) +
                    ",\"pipe_inodes\":[" + inodes + "],\"late_inodes\":[" + late_inodes + "]}\n";
  write_all(1, out.data(), out.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  alarm(900);  // bounded, whatever happens
  if (argc < 2) usage("a mode is required");
  const std::string_view mode = argv[1];
  LoadOptions lo;
  ChurnOptions co;
  UnreadOptions uo;
  for (int i = 2; i < argc; ++i) {
    std::string_view opt = argv[i];
    if (i + 1 >= argc) usage("option " + std::string(opt) + " needs a value");
    std::string_view v = argv[++i];
    if (mode == "load" && opt == "--seconds") {
      lo.seconds = static_cast<double>(parse_u64(opt, v, 1, 3600));
    } else if (mode == "load" && opt == "--kinds") {
      lo.kinds.clear();
      size_t pos = 0;
      while (pos <= v.size()) {
        size_t comma = v.find(',', pos);
        std::string_view item = v.substr(pos, comma == std::string_view::npos ? v.npos : comma - pos);
        bool found = false;
        for (const auto& kn : kKinds)
          if (item == kn.name) {
            lo.kinds.push_back(kn.kind);
            found = true;
          }
        if (!found) usage("unknown kind '" + std::string(item) + "'");
        if (comma == std::string_view::npos) break;
        pos = comma + 1;
      }
    } else if (mode == "load" && opt == "--pairs") {
      lo.pairs = static_cast<uint32_t>(parse_u64(opt, v, 1, 64));
    } else if (mode == "load" && opt == "--size") {
      lo.size = static_cast<uint32_t>(parse_u64(opt, v, 2, 4096));
    } else if (mode == "load" && opt == "--rate") {
      lo.rate = parse_u64(opt, v, 0, 100'000'000);
    } else if (mode == "load" && opt == "--comm-hex") {
      lo.comm = unhex(opt, v);
    } else if (mode == "load" && opt == "--tag-hex") {
      lo.tag = unhex(opt, v);
    } else if (mode == "churn" && opt == "--procs") {
      co.procs = static_cast<uint32_t>(parse_u64(opt, v, 1, 100000));
    } else if (mode == "churn" && opt == "--threads") {
      co.threads = static_cast<uint32_t>(parse_u64(opt, v, 1, 8));
    } else if (mode == "churn" && opt == "--bytes") {
      co.bytes = static_cast<uint32_t>(parse_u64(opt, v, 1, 1 << 20));
    } else if (mode == "churn" && opt == "--parallel") {
      co.parallel = static_cast<uint32_t>(parse_u64(opt, v, 1, 64));
    } else if (mode == "unread" && opt == "--pipes") {
      uo.pipes = static_cast<uint32_t>(parse_u64(opt, v, 1, 1000000));
    } else if (mode == "unread" && opt == "--rate") {
      uo.rate = static_cast<uint32_t>(parse_u64(opt, v, 1, 1000000));
    } else if (mode == "unread" && opt == "--bytes") {
      uo.bytes = static_cast<uint32_t>(parse_u64(opt, v, 1, 4096));
    } else if (mode == "unread" && opt == "--late") {
      uo.late = static_cast<uint32_t>(parse_u64(opt, v, 0, 256));
    } else {
      usage("unknown option '" + std::string(opt) + "' for mode '" + std::string(mode) + "'");
    }
  }
  if (mode == "load") {
    if (lo.kinds.empty())
      for (const auto& kn : kKinds) lo.kinds.push_back(kn.kind);
    return run_load(lo);
  }
  if (mode == "churn") return run_churn(co);
  if (mode == "unread") return run_unread(uo);
  usage("unknown mode '" + std::string(mode) + "'");
}
