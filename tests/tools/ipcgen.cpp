// ipcgen: generates pipe/FIFO/unix-socket traffic between real processes and
// prints the ground truth measured from syscall return values as one JSON line.

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/msg.h>
#include <arpa/inet.h>
#include <mqueue.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <pthread.h>
#include <time.h>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <climits>
#include <concepts>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace {

using namespace std::literals;

constexpr std::uint32_t max_threads = 128;
constexpr std::uint32_t max_size = PIPE_BUF;
constexpr std::uint64_t max_msgs = 100'000'000;
constexpr std::uint64_t max_linger_ms = 600'000;
// Scaled by IPCTOP_TEST_TIME_SCALE (1 to 20), which slow machines set: the
// kernel-matrix guest under QEMU's TCG emulation runs about ten times slower.
unsigned scaled_timeout_s() {
  const char* v = std::getenv("IPCTOP_TEST_TIME_SCALE");
  long scale = v ? std::strtol(v, nullptr, 10) : 1;
  return 30 * static_cast<unsigned>(std::clamp(scale, 1L, 20L));
}
const unsigned timeout_s = scaled_timeout_s();
constexpr auto connect_window = 5s;
constexpr auto retry_pause = 10ms;

enum class kind { pipe, fifo, unix_stream, unix_dgram, unix_seqpacket, pingpong, tcp, tcp6, udp, udp6, sysv_msg, posix_mq, file, spin, runqdelay, app };

constexpr std::array<std::pair<kind, std::string_view>, 16> kind_names{{
    {kind::pipe, "pipe"},
    {kind::fifo, "fifo"},
    {kind::unix_stream, "unix_stream"},
    {kind::unix_dgram, "unix_dgram"},
    {kind::unix_seqpacket, "unix_seqpacket"},
    {kind::pingpong, "pingpong"},
    {kind::tcp, "tcp"},
    {kind::tcp6, "tcp6"},
    {kind::udp, "udp"},
    {kind::udp6, "udp6"},
    {kind::sysv_msg, "sysv_msg"},
    {kind::posix_mq, "posix_mq"},
    {kind::file, "file"},
    {kind::spin, "spin"},
    {kind::runqdelay, "runqdelay"},
    {kind::app, "app"},
}};

// The kinds run by run_peers: two processes A and B, each reporting what it
// moved; A sends to B, and for tcp/udp B answers with --reply-size bytes.
bool is_peer_kind(kind k) { return k >= kind::tcp && k <= kind::file; }

std::string_view name_of(kind k) {
  for (const auto& [value, name] : kind_names)
    if (value == k) return name;
  return "?";
}

bool is_stream(kind k) { return k == kind::pipe || k == kind::fifo || k == kind::unix_stream; }

bool is_socket(kind k) {
  return k == kind::unix_stream || k == kind::unix_dgram || k == kind::unix_seqpacket;
}

int socket_type(kind k) {
  if (k == kind::unix_dgram) return SOCK_DGRAM;
  if (k == kind::unix_seqpacket) return SOCK_SEQPACKET;
  return SOCK_STREAM;
}

struct options {
  kind k = kind::pipe;
  std::uint64_t msgs = 100;
  std::uint32_t size = 64;
  std::uint32_t threads = 1;
  int writer_cpu = -1;
  int reader_cpu = -1;
  std::string dir;
  std::uint64_t linger_ms = 0;
  std::uint32_t reply_size = 0;  // tcp/udp: B's answer size (0: size / 2 + 1)
  std::string netns;             // tcp/udp: run B in this network namespace
  std::string address;           // tcp/udp: B's address (default loopback)
  std::uint64_t ms = 1000;   // spin, runqdelay: how long
  std::string role;          // app child: its --type=ROLE
  int app_fd = -1;           // app child: the pipe to the root
};

struct sender_report {
  pid_t pid;
  std::uint32_t threads;
  pid_t tids[max_threads];
  std::int32_t cpus[max_threads];
  std::uint64_t bytes[max_threads];
};

struct receiver_report {
  pid_t pid;
  pid_t tid;
  std::int32_t cpu;
  std::uint32_t threads;
  std::uint64_t reads;
  std::uint64_t bytes[max_threads];
  std::uint64_t calls[max_threads];
  std::uint64_t messages[max_threads];
};

struct pingpong_report {
  pid_t pid;
  pid_t tid;
  std::int32_t cpu;
  std::uint64_t voluntary;  // during the round trips
  std::uint64_t involuntary;
  std::uint64_t voluntary_life;  // since the thread was forked, at the end of the round trips
  std::uint64_t sent;
  std::uint64_t received;
};

static_assert(sizeof(sender_report) <= PIPE_BUF);
static_assert(sizeof(receiver_report) <= PIPE_BUF);
static_assert(sizeof(pingpong_report) <= PIPE_BUF);

// State shared with the signal handler; everything it touches is async-signal-safe.
volatile sig_atomic_t g_parent_pid = 0;
volatile sig_atomic_t g_children[2] = {0, 0};
volatile sig_atomic_t g_own_path = 0;
volatile sig_atomic_t g_own_dir = 0;
char g_path[PATH_MAX];
char g_dir[PATH_MAX];
volatile sig_atomic_t g_msqid = -1;  // a SysV queue to remove on any exit
char g_mq_name[64];                   // a POSIX queue to unlink on any exit
const char* g_role = nullptr;

void put_err(const char* text) {
  if (write(STDERR_FILENO, text, std::strlen(text)) < 0) {
  }
}

void release_resources() {
  for (auto& child : g_children) {
    if (child > 0) kill(child, SIGKILL);
    child = 0;
  }
  if (g_own_path) unlink(g_path);
  g_own_path = 0;
  if (g_msqid >= 0) msgctl(g_msqid, IPC_RMID, nullptr);
  g_msqid = -1;
  if (g_mq_name[0]) mq_unlink(g_mq_name);
  g_mq_name[0] = 0;
  if (g_own_dir) rmdir(g_dir);
  g_own_dir = 0;
}

void on_signal(int sig) {
  const bool parent = getpid() == g_parent_pid;
  if (parent) release_resources();
  put_err("ipcgen: ");
  if (!parent && g_role) {
    put_err(g_role);
    put_err(": ");
  }
  if (sig != SIGALRM)
    put_err("interrupted\n");
  else
    put_err(parent ? "timed out; child processes killed\n" : "timed out\n");
  _exit(1);
}

void install_handlers() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (int sig : {SIGALRM, SIGINT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

[[noreturn]] void fail(const std::string& msg) {
  if (getpid() == g_parent_pid) release_resources();
  std::string line = "ipcgen: ";
  if (g_role) line += g_role + ": "s;
  line += msg + "\n";
  put_err(line.c_str());
  _exit(1);
}

[[noreturn]] void fail_errno(const std::string& what) {
  const int err = errno;
  fail(what + ": " + std::strerror(err));
}

[[noreturn]] void usage_error(const std::string& msg) {
  std::fprintf(stderr, "ipcgen: %s\nTry 'ipcgen --help'.\n", msg.c_str());
  std::exit(2);
}

void print_help() {
  std::fputs(
      "usage: ipcgen --kind KIND [options]\n"
      "Generates IPC traffic between a sender and a receiver process and prints\n"
      "the measured ground truth as one JSON line.\n"
      "\n"
      "  --kind KIND        pipe, fifo, unix_stream, unix_dgram, unix_seqpacket, pingpong;\n"
      "                     signal, sysv_shm, posix_shm, memfd, fdpass, sem_pingpong, semop_pingpong\n"
      "                     (these take --msgs, --size, --linger-ms and --segment posix|sysv;\n"
      "                     see tests/tools/ipcgen_shm.cpp)\n"
      "  --msgs N           messages per sender thread (pingpong: round trips; default 100)\n"
      "  --size B           message size in bytes, 1..4096 (default 64; not for pingpong)\n"
      "  --threads T        sender threads, 1..128 (default 1; not for pingpong)\n"
      "  --writer-cpu C     pin the sender process (pingpong: the parent) to CPU C\n"
      "  --reader-cpu C     pin the receiver process (pingpong: the child) to CPU C\n"
      "  --dir DIR          where the FIFO/socket is created (default: a fresh /tmp/ipcgenXXXXXX)\n"
      "  --linger-ms MS     keep the sender/receiver alive MS ms after the traffic (default 0)\n"
      "  --reply-size B     tcp, udp: size of the answers B sends back to A (default size/2+1)\n"
      "  --netns NAME       tcp, udp: B runs in network namespace NAME (/run/netns/NAME)\n"
      "  --address ADDR     tcp, udp: B's address (default 127.0.0.1 or ::1)\n"
      "Also kinds tcp, tcp6, udp, udp6 (A sends, B answers), sysv_msg, posix_mq, file.\n"
      "  --ms MS            spin, runqdelay: run for MS ms (default 1000)\n"
      "kinds for the scheduler tests:\n"
      "  spin        two CPU-bound threads, pinned to --writer-cpu and --reader-cpu\n"
      "  runqdelay   on --writer-cpu, a SCHED_FIFO thread spinning 10 ms of every 20 delays\n"
      "              a thread that sleeps 1 ms at a time; prints its worst oversleep\n"
      "  app         a root process and three children re-executed with\n"
      "              --type=renderer|gpu-process|utility, each sending --msgs bytes to it\n"
      "  --help             show this help\n",
      stdout);
}

template <std::integral T>
T parse_number(std::string_view opt, std::string_view text, T lo, T hi) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < lo || value > hi)
    usage_error("invalid value for " + std::string(opt) + ": '" + std::string(text) + "' (expected " +
                std::to_string(lo) + ".." + std::to_string(hi) + ")");
  return value;
}

options parse_args(int argc, char** argv) {
  options o;
  bool have_kind = false;
  bool have_size = false;
  bool have_threads = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      print_help();
      std::exit(0);
    }
    if (!arg.starts_with("--")) usage_error("unexpected argument '" + std::string(arg) + "'");
    std::string_view opt = arg;
    std::string_view value;
    if (const auto eq = arg.find('='); eq != std::string_view::npos) {
      opt = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      usage_error("option " + std::string(arg) + " needs a value");
    }
    if (opt == "--kind") {
      have_kind = false;
      for (const auto& [k, name] : kind_names) {
        if (name == value) {
          o.k = k;
          have_kind = true;
        }
      }
      if (!have_kind) usage_error("unknown kind '" + std::string(value) + "'");
    } else if (opt == "--msgs") {
      o.msgs = parse_number<std::uint64_t>(opt, value, 1, max_msgs);
    } else if (opt == "--size") {
      o.size = parse_number<std::uint32_t>(opt, value, 1, max_size);
      have_size = true;
    } else if (opt == "--threads") {
      o.threads = parse_number<std::uint32_t>(opt, value, 1, max_threads);
      have_threads = true;
    } else if (opt == "--writer-cpu") {
      o.writer_cpu = parse_number<int>(opt, value, 0, CPU_SETSIZE - 1);
    } else if (opt == "--reader-cpu") {
      o.reader_cpu = parse_number<int>(opt, value, 0, CPU_SETSIZE - 1);
    } else if (opt == "--ms") {
      o.ms = parse_number<std::uint64_t>(opt, value, 1, 60'000);
    } else if (opt == "--type") {
      o.role = value;
      have_kind = true;
      o.k = kind::app;
    } else if (opt == "--app-fd") {
      o.app_fd = parse_number<int>(opt, value, 3, 1023);
    } else if (opt == "--linger-ms") {
      o.linger_ms = parse_number<std::uint64_t>(opt, value, 0, max_linger_ms);
    } else if (opt == "--reply-size") {
      o.reply_size = parse_number<std::uint32_t>(opt, value, 1, max_size);
    } else if (opt == "--netns") {
      if (value.empty() || value.find('/') != std::string_view::npos) usage_error("--netns needs a name");
      o.netns = value;
    } else if (opt == "--address") {
      o.address = value;
    } else if (opt == "--dir") {
      if (value.empty()) usage_error("--dir needs a directory");
      char resolved[PATH_MAX];
      if (!realpath(std::string(value).c_str(), resolved))
        usage_error("--dir " + std::string(value) + ": " + std::strerror(errno));
      o.dir = resolved;
    } else {
      usage_error("unknown option '" + std::string(opt) + "'");
    }
  }
  if (!have_kind) usage_error("--kind is required");
  if (o.k == kind::pingpong && (have_size || have_threads))
    usage_error("--size and --threads do not apply to --kind pingpong");
  return o;
}

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
      out += esc;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

class json_object {
 public:
  json_object& num(std::string_view name, std::integral auto value) { return raw(name, std::to_string(value)); }
  json_object& str(std::string_view name, std::string_view value) { return raw(name, json_string(value)); }
  json_object& raw(std::string_view name, std::string_view json) {
    if (text_.size() > 1) text_ += ',';
    text_ += json_string(name);
    text_ += ':';
    text_ += json;
    return *this;
  }
  std::string done() const { return text_ + "}"; }

 private:
  std::string text_ = "{";
};

std::string json_array(std::span<const std::string> items) {
  std::string out = "[";
  for (const auto& item : items) {
    if (out.size() > 1) out += ',';
    out += item;
  }
  return out + "]";
}

template <std::integral T>
std::string json_numbers(std::span<const T> values) {
  std::vector<std::string> items;
  for (const T v : values) items.push_back(std::to_string(v));
  return json_array(items);
}

void print_line(const std::string& json) {
  if (std::fputs((json + "\n").c_str(), stdout) < 0 || std::fflush(stdout) != 0) fail_errno("stdout");
}

void pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) fail_errno("sched_setaffinity(cpu " + std::to_string(cpu) + ")");
}

std::size_t read_some(int fd, void* buf, std::size_t n, const char* what) {
  for (;;) {
    const ssize_t got = read(fd, buf, n);
    if (got >= 0) return static_cast<std::size_t>(got);
    if (errno != EINTR) fail_errno(what);
  }
}

std::size_t write_some(int fd, const void* buf, std::size_t n, const char* what) {
  for (;;) {
    const ssize_t put = write(fd, buf, n);
    if (put > 0) return static_cast<std::size_t>(put);
    if (put == 0) fail(what + ": write returned 0"s);
    if (errno != EINTR) fail_errno(what);
  }
}

sockaddr_un socket_address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

const sockaddr* as_sockaddr(const sockaddr_un& addr) { return reinterpret_cast<const sockaddr*>(&addr); }

void enter_child(const char* role, int cpu) {
  g_role = role;
  for (auto& child : g_children) child = 0;
  g_own_path = 0;
  g_own_dir = 0;
  g_msqid = -1;
  g_mq_name[0] = 0;
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) signal(sig, SIG_DFL);
  if (prctl(PR_SET_PDEATHSIG, static_cast<unsigned long>(SIGKILL)) != 0) fail_errno("prctl");
  if (getppid() != g_parent_pid) _exit(1);
  alarm(timeout_s);
  if (cpu >= 0) pin_to(cpu);
}

[[noreturn]] void finish_child(int ctl, const void* report, std::size_t size, std::uint64_t linger_ms) {
  const ssize_t put = write(ctl, report, size);
  if (put < 0) fail_errno("write report");
  if (static_cast<std::size_t>(put) != size) fail("short write of the report");
  alarm(0);
  if (linger_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(linger_ms));
  _exit(0);
}

template <class Body>
pid_t spawn(int slot, int& ctl, std::initializer_list<int> close_in_child, Body&& body) {
  int p[2];
  if (pipe(p) != 0) fail_errno("pipe");
  const pid_t pid = fork();
  if (pid < 0) fail_errno("fork");
  if (pid == 0) {
    close(p[0]);
    for (const int fd : close_in_child)
      if (fd >= 0) close(fd);
    body(p[1]);
    _exit(0);
  }
  g_children[slot] = pid;
  close(p[1]);
  ctl = p[0];
  return pid;
}

std::string reap_status(int slot) {
  const pid_t pid = g_children[slot];
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) fail_errno("waitpid");
  g_children[slot] = 0;
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal "s + strsignal(WTERMSIG(status));
  return "status " + std::to_string(status);
}

void wait_child(int slot, const char* name) {
  const std::string status = reap_status(slot);
  if (status != "exit status 0") fail(name + " process failed ("s + status + ")");
}

struct inbox {
  const char* name;
  int slot;
  int fd;
  void* buf;
  std::size_t need;
  std::size_t have = 0;
};

void collect(std::span<inbox> boxes) {
  for (;;) {
    std::array<pollfd, 2> fds{};
    std::array<inbox*, 2> owners{};
    nfds_t n = 0;
    for (auto& box : boxes) {
      if (box.have == box.need) continue;
      fds[n] = {box.fd, POLLIN, 0};
      owners[n++] = &box;
    }
    if (n == 0) return;
    if (poll(fds.data(), n, -1) < 0) {
      if (errno == EINTR) continue;
      fail_errno("poll");
    }
    for (nfds_t i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      inbox& box = *owners[i];
      const std::size_t got =
          read_some(box.fd, static_cast<char*>(box.buf) + box.have, box.need - box.have, "read report");
      if (got == 0) fail(box.name + " process failed ("s + reap_status(box.slot) + ")");
      box.have += got;
    }
  }
}

void remove_files() {
  if (g_own_path && unlink(g_path) != 0 && errno != ENOENT) fail_errno("unlink "s + g_path);
  g_own_path = 0;
  if (g_own_dir && rmdir(g_dir) != 0) fail_errno("rmdir "s + g_dir);
  g_own_dir = 0;
}

void fill_message(std::span<unsigned char> buf, std::uint32_t index, std::uint64_t seq) {
  for (std::size_t i = 0; i < buf.size(); ++i) {
    if (i < 4)
      buf[i] = static_cast<unsigned char>(index >> (8 * i));
    else if (i < 8)
      buf[i] = static_cast<unsigned char>(seq >> (8 * (i - 4)));
    else
      buf[i] = static_cast<unsigned char>(index * 131u + seq * 7u + i);
  }
}

std::uint32_t message_index(std::span<const unsigned char> buf) {
  std::uint32_t index = 0;
  for (std::size_t i = 0; i < buf.size() && i < 4; ++i) index |= static_cast<std::uint32_t>(buf[i]) << (8 * i);
  return index;
}

struct channel {
  kind k;
  int fd;
  sockaddr_un addr;
};

int connect_with_retry(int type, const std::string& path) {
  const sockaddr_un addr = socket_address(path);
  const auto deadline = std::chrono::steady_clock::now() + connect_window;
  for (;;) {
    const int fd = socket(AF_UNIX, type, 0);
    if (fd < 0) fail_errno("socket");
    if (connect(fd, as_sockaddr(addr), sizeof addr) == 0) return fd;
    const int err = errno;
    close(fd);
    if ((err != ENOENT && err != ECONNREFUSED) || std::chrono::steady_clock::now() >= deadline) {
      errno = err;
      fail_errno("connect " + path);
    }
    std::this_thread::sleep_for(retry_pause);
  }
}

channel open_sending_end(const options& o, const std::string& path, int pipe_w) {
  channel ch{o.k, pipe_w, {}};
  switch (o.k) {
    case kind::pipe:
      break;
    case kind::fifo:
      ch.fd = open(path.c_str(), O_WRONLY);
      if (ch.fd < 0) fail_errno("open " + path);
      break;
    case kind::unix_stream:
    case kind::unix_seqpacket:
      ch.fd = connect_with_retry(socket_type(o.k), path);
      break;
    case kind::unix_dgram:
      ch.fd = socket(AF_UNIX, SOCK_DGRAM, 0);
      if (ch.fd < 0) fail_errno("socket");
      ch.addr = socket_address(path);
      break;
    case kind::pingpong:
      fail("internal error: pingpong has no sending end");
    default:
      fail("internal error: run_peers handles this kind");
  }
  return ch;
}

std::size_t send_datagram(const channel& ch, std::span<const unsigned char> buf, bool first) {
  const auto deadline = std::chrono::steady_clock::now() + connect_window;
  for (;;) {
    const ssize_t put = sendto(ch.fd, buf.data(), buf.size(), MSG_NOSIGNAL, as_sockaddr(ch.addr), sizeof ch.addr);
    if (put >= 0) return static_cast<std::size_t>(put);
    if (errno == EINTR) continue;
    const bool not_there = errno == ENOENT || errno == ECONNREFUSED;
    if (!first || !not_there || std::chrono::steady_clock::now() >= deadline) fail_errno("sendto "s + ch.addr.sun_path);
    std::this_thread::sleep_for(retry_pause);
  }
}

std::uint64_t send_message(const channel& ch, std::span<const unsigned char> buf, bool first) {
  if (is_stream(ch.k)) {
    std::size_t off = 0;
    while (off < buf.size()) off += write_some(ch.fd, buf.data() + off, buf.size() - off, "write");
    return off;
  }
  std::size_t put = 0;
  if (ch.k == kind::unix_dgram) {
    put = send_datagram(ch, buf, first);
  } else {
    for (;;) {
      const ssize_t n = send(ch.fd, buf.data(), buf.size(), MSG_NOSIGNAL);
      if (n >= 0) {
        put = static_cast<std::size_t>(n);
        break;
      }
      if (errno != EINTR) fail_errno("send");
    }
  }
  if (put != buf.size()) fail("sent " + std::to_string(put) + " of " + std::to_string(buf.size()) + " bytes");
  return put;
}

[[noreturn]] void run_sender(const options& o, const std::string& path, int pipe_w, int ctl) {
  enter_child("sender", o.writer_cpu);
  const channel ch = open_sending_end(o, path, pipe_w);
  sender_report r{};
  r.pid = getpid();
  r.threads = o.threads;
  auto work = [&](std::uint32_t index) {
    r.tids[index] = gettid();
    std::vector<unsigned char> buf(o.size);
    for (std::uint64_t seq = 0; seq < o.msgs; ++seq) {
      fill_message(buf, index, seq);
      r.bytes[index] += send_message(ch, buf, seq == 0);
    }
    r.cpus[index] = sched_getcpu();
  };
  std::vector<std::thread> pool;
  try {
    for (std::uint32_t i = 1; i < o.threads; ++i) pool.emplace_back(work, i);
  } catch (const std::system_error& e) {
    fail("cannot start a sender thread: "s + e.what());
  }
  work(0);
  for (auto& t : pool) t.join();
  finish_child(ctl, &r, sizeof r, o.linger_ms);
}

int open_receiving_end(const options& o, const std::string& path, int pipe_r) {
  if (o.k == kind::pipe) return pipe_r;
  if (o.k == kind::fifo) {
    const int fd = open(path.c_str(), O_RDONLY);
    if (fd < 0) fail_errno("open " + path);
    return fd;
  }
  const int fd = socket(AF_UNIX, socket_type(o.k), 0);
  if (fd < 0) fail_errno("socket");
  const sockaddr_un addr = socket_address(path);
  if (bind(fd, as_sockaddr(addr), sizeof addr) != 0) fail_errno("bind " + path);
  if (o.k == kind::unix_dgram) return fd;
  if (listen(fd, 1) != 0) fail_errno("listen " + path);
  int conn;
  while ((conn = accept(fd, nullptr, nullptr)) < 0)
    if (errno != EINTR) fail_errno("accept " + path);
  close(fd);
  return conn;
}

void receive_all(const options& o, int fd, receiver_report& r) {
  const bool stream = is_stream(o.k);
  const std::size_t size = o.size;
  const std::uint64_t expected = o.msgs * o.threads;
  std::vector<unsigned char> buf(size);
  std::vector<unsigned char> want(size);
  std::vector<std::uint64_t> next_seq(o.threads);
  std::size_t have = 0;
  std::uint64_t calls = 0;
  for (std::uint64_t done = 0; done < expected;) {
    const ssize_t n = stream ? read(fd, buf.data() + have, size - have) : recv(fd, buf.data(), size, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_errno(stream ? "read" : "recv");
    }
    if (n == 0)
      fail("unexpected end of data after " + std::to_string(done) + " of " + std::to_string(expected) + " messages");
    ++r.reads;
    ++calls;
    const auto got = static_cast<std::size_t>(n);
    if (!stream && got != size)
      fail("received a " + std::to_string(got) + "-byte message, expected " + std::to_string(size));
    have += got;
    if (have < size) continue;
    const std::uint32_t index = message_index(buf);
    if (index >= o.threads || next_seq[index] >= o.msgs)
      fail("unexpected message claiming sender thread " + std::to_string(index));
    fill_message(want, index, next_seq[index]);
    if (want != buf) fail("corrupted or interleaved message from sender thread " + std::to_string(index));
    ++next_seq[index];
    r.bytes[index] += size;
    r.calls[index] += calls;
    ++r.messages[index];
    ++done;
    have = 0;
    calls = 0;
  }
}

[[noreturn]] void run_receiver(const options& o, const std::string& path, int pipe_r, int ctl) {
  enter_child("receiver", o.reader_cpu);
  const int fd = open_receiving_end(o, path, pipe_r);
  receiver_report r{};
  r.pid = getpid();
  r.tid = gettid();
  r.threads = o.threads;
  receive_all(o, fd, r);
  r.cpu = sched_getcpu();
  finish_child(ctl, &r, sizeof r, o.linger_ms);
}

std::string prepare_path(const options& o) {
  if (o.k == kind::pipe) return {};
  std::string dir = o.dir;
  if (dir.empty()) {
    std::strcpy(g_dir, "/tmp/ipcgenXXXXXX");
    if (!mkdtemp(g_dir)) fail_errno("mkdtemp /tmp/ipcgenXXXXXX");
    g_own_dir = 1;
    dir = g_dir;
  }
  const std::string path = dir + (o.k == kind::fifo ? "/ipcgen.fifo" : "/ipcgen.sock");
  const std::size_t limit = is_socket(o.k) ? sizeof(sockaddr_un::sun_path) : sizeof g_path;
  if (path.size() >= limit) fail("path too long: " + path);
  std::memcpy(g_path, path.c_str(), path.size() + 1);
  if (o.k == kind::fifo) {
    if (mkfifo(g_path, 0600) != 0) fail_errno("mkfifo " + path);
  } else {
    struct stat st;
    if (lstat(g_path, &st) == 0) fail(path + " already exists");
    if (errno != ENOENT) fail_errno("lstat " + path);
  }
  g_own_path = 1;
  return path;
}

void verify(const options& o, pid_t sender, pid_t receiver, const sender_report& s, const receiver_report& r) {
  if (s.pid != sender || r.pid != receiver || s.threads != o.threads || r.threads != o.threads)
    fail("malformed report from a child process");
  const std::uint64_t per_thread = o.msgs * o.size;
  std::uint64_t calls = 0;
  for (std::uint32_t i = 0; i < o.threads; ++i) {
    if (s.bytes[i] != per_thread)
      fail("sender thread " + std::to_string(i) + " wrote " + std::to_string(s.bytes[i]) + " bytes, expected " +
           std::to_string(per_thread));
    if (r.bytes[i] != per_thread || r.messages[i] != o.msgs)
      fail("receiver got " + std::to_string(r.bytes[i]) + " bytes from sender thread " + std::to_string(i) +
           ", expected " + std::to_string(per_thread));
    calls += r.calls[i];
  }
  if (calls != r.reads) fail("receive call accounting mismatch");
}

std::string traffic_json(const options& o, const std::string& path, const sender_report& s,
                         const receiver_report& r) {
  const std::span<const pid_t> tids(s.tids, o.threads);
  const std::span<const std::int32_t> cpus(s.cpus, o.threads);
  std::vector<std::string> flows;
  std::uint64_t total = 0;
  for (std::uint32_t i = 0; i < o.threads; ++i) {
    flows.push_back(json_object()
                        .num("src_pid", s.pid)
                        .num("src_tid", s.tids[i])
                        .num("dst_pid", r.pid)
                        .num("dst_tid", r.tid)
                        .num("bytes", r.bytes[i])
                        .num("messages", r.calls[i])
                        .done());
    total += r.bytes[i];
  }
  json_object out;
  out.str("kind", name_of(o.k))
      .num("parent_pid", getpid())
      .num("sender_pid", s.pid)
      .num("receiver_pid", r.pid)
      .num("receiver_tid", r.tid)
      .raw("sender_tids", json_numbers(tids))
      .raw("sender_cpus", json_numbers(cpus))
      .num("receiver_cpu", r.cpu)
      .num("msgs", o.msgs)
      .num("size", o.size)
      .num("threads", o.threads)
      .raw("flows", json_array(flows))
      .num("total_bytes", total)
      .num("receiver_reads", r.reads);
  if (!path.empty()) out.str("path", path);
  if (o.writer_cpu >= 0) out.num("writer_cpu", o.writer_cpu);
  if (o.reader_cpu >= 0) out.num("reader_cpu", o.reader_cpu);
  return out.done();
}

unsigned linger_alarm(const options& o) { return static_cast<unsigned>(o.linger_ms / 1000) + timeout_s; }

int run_traffic(const options& o) {
  const std::string path = prepare_path(o);
  int data[2] = {-1, -1};
  if (o.k == kind::pipe && pipe(data) != 0) fail_errno("pipe");
  int receiver_ctl = -1;
  int sender_ctl = -1;
  const pid_t receiver = spawn(1, receiver_ctl, {data[1]}, [&](int ctl) { run_receiver(o, path, data[0], ctl); });
  const pid_t sender =
      spawn(0, sender_ctl, {data[0], receiver_ctl}, [&](int ctl) { run_sender(o, path, data[1], ctl); });
  for (const int fd : data)
    if (fd >= 0) close(fd);

  sender_report s{};
  receiver_report r{};
  std::array boxes{inbox{"sender", 0, sender_ctl, &s, sizeof s}, inbox{"receiver", 1, receiver_ctl, &r, sizeof r}};
  collect(boxes);
  close(sender_ctl);
  close(receiver_ctl);
  verify(o, sender, receiver, s, r);
  print_line(traffic_json(o, path, s, r));

  alarm(linger_alarm(o));
  wait_child(0, "sender");
  wait_child(1, "receiver");
  remove_files();
  return 0;
}

struct ctxt_switches {
  std::uint64_t voluntary;
  std::uint64_t involuntary;
};

ctxt_switches read_ctxt_switches() {
  const int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail_errno("open /proc/self/status");
  std::array<char, 16384> buf;
  std::size_t len = 0;
  while (len < buf.size()) {
    const std::size_t got = read_some(fd, buf.data() + len, buf.size() - len, "read /proc/self/status");
    if (got == 0) break;
    len += got;
  }
  close(fd);
  const std::string_view text(buf.data(), len);
  auto field = [&](std::string_view key) {
    const auto at = text.find(key);
    if (at == std::string_view::npos) fail("/proc/self/status has no" + std::string(key));
    std::size_t pos = at + key.size();
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
    std::uint64_t value = 0;
    const auto [end, ec] = std::from_chars(text.data() + pos, text.data() + text.size(), value);
    if (ec != std::errc{} || end == text.data() + pos) fail("cannot parse" + std::string(key));
    return value;
  };
  return {field("\nvoluntary_ctxt_switches:"), field("\nnonvoluntary_ctxt_switches:")};
}

std::uint64_t transfer_byte(int from, int to, const char* who) {
  unsigned char byte = 0;
  const std::size_t got = read_some(from, &byte, 1, "read");
  if (got == 0) fail(who + " closed the pipe"s);
  return write_some(to, &byte, 1, "write");
}

[[noreturn]] void run_echo(const options& o, const int (&down)[2], const int (&up)[2], int ctl) {
  enter_child("echo", o.reader_cpu);
  close(down[1]);
  close(up[0]);
  const ctxt_switches before = read_ctxt_switches();
  write_some(ctl, "r", 1, "write readiness");
  pingpong_report r{};
  r.pid = getpid();
  r.tid = gettid();
  for (std::uint64_t i = 0; i < o.msgs; ++i) {
    r.sent += transfer_byte(down[0], up[1], "parent");
    ++r.received;
  }
  const ctxt_switches after = read_ctxt_switches();
  r.cpu = sched_getcpu();
  r.voluntary = after.voluntary - before.voluntary;
  r.involuntary = after.involuntary - before.involuntary;
  r.voluntary_life = after.voluntary;
  finish_child(ctl, &r, sizeof r, o.linger_ms);
}

int run_pingpong(const options& o) {
  int down[2];
  int up[2];
  if (pipe(down) != 0 || pipe(up) != 0) fail_errno("pipe");
  int ctl = -1;
  spawn(0, ctl, {}, [&](int fd) { run_echo(o, down, up, fd); });
  close(down[0]);
  close(up[1]);
  if (o.writer_cpu >= 0) pin_to(o.writer_cpu);

  char ready = 0;
  std::array ready_box{inbox{"echo", 0, ctl, &ready, 1}};
  collect(ready_box);
  const ctxt_switches before = read_ctxt_switches();
  std::uint64_t sent = 0;
  std::uint64_t received = 0;
  for (std::uint64_t i = 0; i < o.msgs; ++i) {
    const unsigned char byte = static_cast<unsigned char>(i);
    sent += write_some(down[1], &byte, 1, "write");
    unsigned char echo = 0;
    const std::size_t got = read_some(up[0], &echo, 1, "read");
    if (got == 0) fail("echo process closed the pipe (" + reap_status(0) + ")");
    if (echo != byte) fail("echo returned a different byte");
    received += got;
  }
  const ctxt_switches after = read_ctxt_switches();
  const int cpu = sched_getcpu();

  pingpong_report child{};
  std::array report_box{inbox{"echo", 0, ctl, &child, sizeof child}};
  collect(report_box);
  close(ctl);
  if (sent != o.msgs || received != o.msgs || child.sent != o.msgs || child.received != o.msgs)
    fail("round trip accounting mismatch");

  const std::string parent_side = json_object()
                                      .str("role", "initiator")
                                      .num("pid", getpid())
                                      .num("tid", gettid())
                                      .num("cpu", cpu)
                                      .num("voluntary", after.voluntary - before.voluntary)
                                      .num("involuntary", after.involuntary - before.involuntary)
                                      .num("voluntary_life", after.voluntary)
                                      .num("bytes_sent", sent)
                                      .num("bytes_received", received)
                                      .done();
  const std::string child_side = json_object()
                                     .str("role", "echo")
                                     .num("pid", child.pid)
                                     .num("tid", child.tid)
                                     .num("cpu", child.cpu)
                                     .num("voluntary", child.voluntary)
                                     .num("involuntary", child.involuntary)
                                     .num("voluntary_life", child.voluntary_life)
                                     .num("bytes_sent", child.sent)
                                     .num("bytes_received", child.received)
                                     .done();
  const std::array sides{parent_side, child_side};
  json_object out;
  out.str("kind", name_of(o.k))
      .num("round_trips", o.msgs)
      .raw("sides", json_array(sides))
      .num("control_bytes", 1 + sizeof child);
  if (o.writer_cpu >= 0) out.num("writer_cpu", o.writer_cpu);
  if (o.reader_cpu >= 0) out.num("reader_cpu", o.reader_cpu);
  print_line(out.done());

  alarm(linger_alarm(o));
  wait_child(0, "echo");
  return 0;
}


// ---- tcp, tcp6, udp, udp6, sysv_msg, posix_mq, file: process A -> process B ----

struct peer_report {
  pid_t pid;
  pid_t tid;
  std::int32_t cpu;
  std::uint16_t port;  // the socket's own port
  std::uint64_t sent_bytes, send_calls;
  std::uint64_t recv_bytes, recv_calls;
};
static_assert(sizeof(peer_report) <= PIPE_BUF);

bool is_net(kind k) { return k == kind::tcp || k == kind::tcp6 || k == kind::udp || k == kind::udp6; }
bool is_v6(kind k) { return k == kind::tcp6 || k == kind::udp6; }
bool is_udp(kind k) { return k == kind::udp || k == kind::udp6; }

struct net_addr {
  sockaddr_storage ss{};
  socklen_t len = 0;
};

net_addr make_addr(const options& o, std::uint16_t port) {
  net_addr a;
  const std::string text = o.address.empty() ? (is_v6(o.k) ? "::1" : "127.0.0.1") : o.address;
  if (is_v6(o.k)) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&a.ss);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(port);
    if (inet_pton(AF_INET6, text.c_str(), &in6->sin6_addr) != 1) fail("bad IPv6 address " + text);
    a.len = sizeof *in6;
  } else {
    auto* in = reinterpret_cast<sockaddr_in*>(&a.ss);
    in->sin_family = AF_INET;
    in->sin_port = htons(port);
    if (inet_pton(AF_INET, text.c_str(), &in->sin_addr) != 1) fail("bad IPv4 address " + text);
    a.len = sizeof *in;
  }
  return a;
}

std::string addr_text(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = "";
  if (ss.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf);
    return "["s + buf + "]:" + std::to_string(ntohs(in6->sin6_port));
  }
  const auto* in = reinterpret_cast<const sockaddr_in*>(&ss);
  inet_ntop(AF_INET, &in->sin_addr, buf, sizeof buf);
  return buf + ":"s + std::to_string(ntohs(in->sin_port));
}

std::uint16_t own_port(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) fail_errno("getsockname");
  return ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                                        : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

void enter_netns(const std::string& name) {
  if (name.empty()) return;
  const std::string path = "/run/netns/" + name;
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail_errno("open " + path);
  if (setns(fd, CLONE_NEWNET) != 0) fail_errno("setns " + path);
  close(fd);
}

// Writes `total` bytes in writes of at most `chunk`; returns the calls.
std::uint64_t write_all(int fd, std::uint64_t total, std::uint32_t chunk) {
  std::vector<unsigned char> buf(chunk, 'x');
  std::uint64_t calls = 0;
  for (std::uint64_t done = 0; done < total; ++calls)
    done += write_some(fd, buf.data(), std::min<std::uint64_t>(chunk, total - done), "write");
  return calls;
}

// Reads exactly `total` bytes; returns the calls that returned data.
std::uint64_t read_all(int fd, std::uint64_t total) {
  std::vector<unsigned char> buf(65536);
  std::uint64_t calls = 0;
  for (std::uint64_t done = 0; done < total; ++calls) {
    const std::size_t got = read_some(fd, buf.data(), std::min<std::uint64_t>(buf.size(), total - done), "read");
    if (got == 0) fail("unexpected end of data after " + std::to_string(done) + " bytes");
    done += got;
  }
  return calls;
}

std::size_t checked(ssize_t n, const char* what) {
  if (n < 0) fail_errno(what);
  return static_cast<std::size_t>(n);
}

std::uint32_t reply_size(const options& o) { return o.reply_size ? o.reply_size : o.size / 2 + 1; }

// B: binds, tells the parent its port, then serves A.
[[noreturn]] void run_peer_b(const options& o, int ctl, int go_r) {
  enter_child("B", o.reader_cpu);
  peer_report r{};
  r.pid = getpid();
  r.tid = gettid();
  if (is_net(o.k)) {
    enter_netns(o.netns);
    const int s = socket(is_v6(o.k) ? AF_INET6 : AF_INET, is_udp(o.k) ? SOCK_DGRAM : SOCK_STREAM, 0);
    if (s < 0) fail_errno("socket");
    const net_addr a = make_addr(o, 0);
    if (bind(s, reinterpret_cast<const sockaddr*>(&a.ss), a.len) != 0) fail_errno("bind");
    if (!is_udp(o.k) && listen(s, 1) != 0) fail_errno("listen");
    const std::uint16_t port = own_port(s);
    r.port = port;
    if (write(ctl, &port, sizeof port) != sizeof port) fail_errno("write port");
    if (is_udp(o.k)) {
      // Lock step: each datagram is answered before the next is sent, so
      // none is dropped for a full receive buffer.
      std::vector<unsigned char> buf(o.size), reply(reply_size(o), 'r');
      for (std::uint64_t i = 0; i < o.msgs; ++i) {
        sockaddr_storage from{};
        socklen_t len = sizeof from;
        const std::size_t got = checked(recvfrom(s, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &len), "recvfrom");
        if (got != o.size) fail("short datagram");
        r.recv_bytes += got;
        ++r.recv_calls;
        r.sent_bytes += checked(sendto(s, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), len), "sendto");
        ++r.send_calls;
      }
    } else {
      int c;
      while ((c = accept(s, nullptr, nullptr)) < 0)
        if (errno != EINTR) fail_errno("accept");
      r.recv_bytes = o.msgs * o.size;
      r.recv_calls = read_all(c, r.recv_bytes);
      r.sent_bytes = o.msgs * reply_size(o);
      r.send_calls = write_all(c, r.sent_bytes, reply_size(o));
      // Wait for A to have read everything before closing.
      char end;
      if (read_some(c, &end, 1, "read end") != 1) fail("A closed early");
      r.recv_bytes += 1;
      ++r.recv_calls;
      close(c);
    }
    close(s);
  } else if (o.k == kind::sysv_msg) {
    const int id = static_cast<int>(std::strtol(o.address.c_str(), nullptr, 10));
    std::vector<char> buf(sizeof(long) + o.size);
    for (std::uint64_t i = 0; i < o.msgs; ++i) {
      ssize_t got;
      while ((got = msgrcv(id, buf.data(), o.size, 0, 0)) < 0)
        if (errno != EINTR) fail_errno("msgrcv");
      r.recv_bytes += static_cast<std::uint64_t>(got);
      ++r.recv_calls;
    }
  } else if (o.k == kind::posix_mq) {
    const mqd_t q = mq_open(o.address.c_str(), O_RDONLY);
    if (q == static_cast<mqd_t>(-1)) fail_errno("mq_open " + o.address);
    std::vector<char> buf(o.size);
    for (std::uint64_t i = 0; i < o.msgs; ++i) {
      ssize_t got;
      while ((got = mq_receive(q, buf.data(), buf.size(), nullptr)) < 0)
        if (errno != EINTR) fail_errno("mq_receive");
      r.recv_bytes += static_cast<std::uint64_t>(got);
      ++r.recv_calls;
    }
    // Kept open (not closed) while lingering, so the queue's name is found.
  } else {  // file: read it once A has written it
    char go;
    if (read_some(go_r, &go, 1, "read go") != 1) fail("A failed");
    const int fd = open(o.address.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail_errno("open " + o.address);
    std::vector<unsigned char> buf(o.size);
    for (;;) {
      const std::size_t got = read_some(fd, buf.data(), buf.size(), "read file");
      if (got == 0) break;
      r.recv_bytes += got;
      ++r.recv_calls;
    }
    // Kept open while lingering, so the file's path is found.
  }
  r.cpu = sched_getcpu();
  finish_child(ctl, &r, sizeof r, o.linger_ms);
}

// A: sends to B (and, for tcp/udp, reads B's answers).
[[noreturn]] void run_peer_a(const options& o, int ctl, int port_r, int go_w) {
  enter_child("A", o.writer_cpu);
  peer_report r{};
  r.pid = getpid();
  r.tid = gettid();
  if (is_net(o.k)) {
    std::uint16_t port = 0;
    std::size_t have = 0;
    while (have < sizeof port) {
      const std::size_t got = read_some(port_r, reinterpret_cast<char*>(&port) + have, sizeof port - have, "read port");
      if (got == 0) fail("B did not start");
      have += got;
    }
    const net_addr b = make_addr(o, port);
    const int s = socket(is_v6(o.k) ? AF_INET6 : AF_INET, is_udp(o.k) ? SOCK_DGRAM : SOCK_STREAM, 0);
    if (s < 0) fail_errno("socket");
    if (is_udp(o.k)) {
      std::vector<unsigned char> buf(o.size, 'u'), reply(reply_size(o));
      for (std::uint64_t i = 0; i < o.msgs; ++i) {
        r.sent_bytes += checked(sendto(s, buf.data(), buf.size(), 0, reinterpret_cast<const sockaddr*>(&b.ss), b.len), "sendto");
        ++r.send_calls;
        sockaddr_storage from{};
        socklen_t len = sizeof from;
        const std::size_t got = checked(recvfrom(s, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), &len), "recvfrom");
        if (got != reply.size()) fail("short answer");
        r.recv_bytes += got;
        ++r.recv_calls;
      }
      r.port = own_port(s);
    } else {
      if (connect(s, reinterpret_cast<const sockaddr*>(&b.ss), b.len) != 0) fail_errno("connect");
      r.port = own_port(s);
      r.sent_bytes = o.msgs * o.size;
      r.send_calls = write_all(s, r.sent_bytes, o.size);
      r.recv_bytes = o.msgs * reply_size(o);
      r.recv_calls = read_all(s, r.recv_bytes);
      write_some(s, "e", 1, "write end");
      ++r.send_calls;
      r.sent_bytes += 1;
    }
    close(s);
  } else if (o.k == kind::sysv_msg) {
    const int id = static_cast<int>(std::strtol(o.address.c_str(), nullptr, 10));
    std::vector<char> buf(sizeof(long) + o.size, 'm');
    const long type = 1;
    std::memcpy(buf.data(), &type, sizeof type);
    for (std::uint64_t i = 0; i < o.msgs; ++i) {
      while (msgsnd(id, buf.data(), o.size, 0) != 0)
        if (errno != EINTR) fail_errno("msgsnd");
      r.sent_bytes += o.size;
      ++r.send_calls;
    }
  } else if (o.k == kind::posix_mq) {
    const mqd_t q = mq_open(o.address.c_str(), O_WRONLY);
    if (q == static_cast<mqd_t>(-1)) fail_errno("mq_open " + o.address);
    std::vector<char> buf(o.size, 'q');
    for (std::uint64_t i = 0; i < o.msgs; ++i) {
      while (mq_send(q, buf.data(), buf.size(), 0) != 0)
        if (errno != EINTR) fail_errno("mq_send");
      r.sent_bytes += o.size;
      ++r.send_calls;
    }
    mq_close(q);
  } else {  // file
    const int fd = open(o.address.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) fail_errno("open " + o.address);
    r.sent_bytes = o.msgs * o.size;
    r.send_calls = write_all(fd, r.sent_bytes, o.size);
    close(fd);
    write_some(go_w, "g", 1, "write go");
  }
  r.cpu = sched_getcpu();
  finish_child(ctl, &r, sizeof r, o.linger_ms);
}

std::string peer_flow(const peer_report& src, const peer_report& dst, std::uint64_t bytes, std::uint64_t messages) {
  return json_object()
      .num("src_pid", src.pid)
      .num("src_tid", src.tid)
      .num("dst_pid", dst.pid)
      .num("dst_tid", dst.tid)
      .num("bytes", bytes)
      .num("messages", messages)
      .done();
}

int run_peers(const options& o) {
  if (!o.netns.empty() && !is_net(o.k)) usage_error("--netns is for tcp and udp");
  options opt = o;
  std::string path;
  int msqid = -1;
  if (o.k == kind::sysv_msg) {
    const key_t key = static_cast<key_t>(0x1c700000 | (getpid() & 0xfffff));
    msqid = msgget(key, IPC_CREAT | IPC_EXCL | 0600);
    if (msqid < 0) fail_errno("msgget");
    g_msqid = msqid;
    char text[64];
    std::snprintf(text, sizeof text, "key 0x%08x msqid %d", static_cast<unsigned>(key), msqid);
    path = text;
    opt.address = std::to_string(msqid);
  } else if (o.k == kind::posix_mq) {
    path = "/ipcgen." + std::to_string(getpid());
    mq_attr attr{};
    attr.mq_maxmsg = 10;
    attr.mq_msgsize = o.size;
    const mqd_t q = mq_open(path.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
    if (q == static_cast<mqd_t>(-1)) fail_errno("mq_open " + path);
    std::snprintf(g_mq_name, sizeof g_mq_name, "%s", path.c_str());
    mq_close(q);
    opt.address = path;
  } else if (o.k == kind::file) {
    std::strcpy(g_dir, "/tmp/ipcgenXXXXXX");
    if (!mkdtemp(g_dir)) fail_errno("mkdtemp");
    g_own_dir = 1;
    path = g_dir + "/ipcgen.file"s;
    std::memcpy(g_path, path.c_str(), path.size() + 1);
    g_own_path = 1;
    opt.address = path;
  }
  auto cleanup = [&] {
    if (msqid >= 0) msgctl(msqid, IPC_RMID, nullptr);
    msqid = -1;
    g_msqid = -1;
    if (g_mq_name[0]) mq_unlink(g_mq_name);
    g_mq_name[0] = 0;
    remove_files();
  };
  int port[2], go[2];
  if (pipe(port) != 0 || pipe(go) != 0) fail_errno("pipe");
  int b_ctl = -1, a_ctl = -1;
  spawn(1, b_ctl, {port[0], go[1]}, [&](int ctl) {
    // B tells the parent its port (passed on to A); A tells B a file is ready.
    run_peer_b(opt, ctl, go[0]);
  });
  // B writes its port on its report pipe first: forward it to A.
  std::uint16_t b_port = 0;
  if (is_net(o.k)) {
    std::size_t have = 0;
    while (have < sizeof b_port) {
      const std::size_t got = read_some(b_ctl, reinterpret_cast<char*>(&b_port) + have, sizeof b_port - have, "read port");
      if (got == 0) {
        cleanup();
        fail("B failed (" + reap_status(1) + ")");
      }
      have += got;
    }
    write_some(port[1], &b_port, sizeof b_port, "write port");
  }
  spawn(0, a_ctl, {b_ctl, port[1], go[0]}, [&](int ctl) { run_peer_a(opt, ctl, port[0], go[1]); });
  for (const int fd : {port[0], port[1], go[0], go[1]}) close(fd);

  peer_report a{}, b{};
  std::array boxes{inbox{"A", 0, a_ctl, &a, sizeof a}, inbox{"B", 1, b_ctl, &b, sizeof b}};
  collect(boxes);
  close(a_ctl);
  close(b_ctl);
  if (a.sent_bytes != b.recv_bytes || b.sent_bytes != a.recv_bytes) {
    cleanup();
    fail("A and B disagree on the bytes moved");
  }

  std::vector<std::string> flows, remote;
  const bool tcp = o.k == kind::tcp || o.k == kind::tcp6;
  if (o.netns.empty()) {
    // Messages: the receive calls that returned data (one sender each).
    flows.push_back(peer_flow(a, b, a.sent_bytes, b.recv_calls));
    if (b.sent_bytes) flows.push_back(peer_flow(b, a, b.sent_bytes, a.recv_calls));
  } else {
    // Each side sees the other as a remote address: A's sends and B's
    // receives are two flows, each with its own message count.
    const std::string a_text = addr_text(make_addr(o, b_port).ss);
    remote.push_back(json_object().num("src_pid", a.pid).num("src_tid", a.tid).str("dst_addr", a_text)
                         .num("bytes", a.sent_bytes).num("messages", a.send_calls).done());
    remote.push_back(json_object().str("src_addr", a_text).num("dst_pid", a.pid).num("dst_tid", a.tid)
                         .num("bytes", a.recv_bytes).num("messages", a.recv_calls).done());
    remote.push_back(json_object().num("src_pid", b.pid).num("src_tid", b.tid).num("src_port", b.port)
                         .num("bytes", b.sent_bytes).num("messages", b.send_calls).done());
    remote.push_back(json_object().num("dst_pid", b.pid).num("dst_tid", b.tid).num("dst_port", b.port)
                         .num("bytes", b.recv_bytes).num("messages", b.recv_calls).done());
  }
  json_object out;
  out.str("kind", is_net(o.k) ? (tcp ? "tcp"sv : "udp"sv) : name_of(o.k))
      .num("parent_pid", getpid())
      .num("sender_pid", a.pid)
      .num("receiver_pid", b.pid)
      .num("a_port", a.port)
      .num("b_port", b_port)
      .num("a_cpu", a.cpu)
      .num("b_cpu", b.cpu)
      .raw("flows", json_array(flows))
      .raw("remote_flows", json_array(remote));
  if (!path.empty()) out.str("path", path);
  print_line(out.done());

  alarm(linger_alarm(o));
  wait_child(0, "A");
  wait_child(1, "B");
  cleanup();
  return 0;
}
std::uint64_t thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(ts.tv_nsec);
}

// Two CPU-bound threads of one process for --ms ms: on one CPU they take
// turns (involuntary switches), on two they run at once.
int run_spin(const options& o) {
  struct result {
    pid_t tid = 0;
    std::uint64_t cpu_ns = 0;
    int cpu = -1;
  };
  std::array<result, 2> r{};
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + std::chrono::milliseconds(o.ms);
  auto work = [&](std::size_t i, int cpu) {
    if (cpu >= 0) pin_to(cpu);
    r[i].tid = gettid();
    volatile std::uint64_t x = 0;
    while (std::chrono::steady_clock::now() < end)
      for (int k = 0; k < 10000; ++k) x = x + 1;
    r[i].cpu_ns = thread_cpu_ns();
    r[i].cpu = sched_getcpu();
  };
  std::thread other(work, 1, o.reader_cpu);
  work(0, o.writer_cpu);
  other.join();
  const double wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<std::string> threads;
  for (const auto& t : r)
    threads.push_back(json_object().num("tid", t.tid).num("cpu_ns", t.cpu_ns).num("cpu", t.cpu).done());
  print_line(json_object()
                 .str("kind", "spin")
                 .num("pid", getpid())
                 .raw("threads", json_array(threads))
                 .raw("wall_s", std::to_string(wall_s))
                 .done());
  return 0;
}

// A SCHED_FIFO hog on one CPU, busy 10 ms of every 20, and a normal thread
// on the same CPU sleeping 1 ms at a time: a wakeup during a busy phase
// waits on the run queue until the hog sleeps.
int run_runqdelay(const options& o) {
  const int cpu = o.writer_cpu >= 0 ? o.writer_cpu : 0;
  std::atomic<bool> done{false};
  std::thread hog([&] {
    pin_to(cpu);
    sched_param sp{};
    sp.sched_priority = 1;
    if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) != 0) fail("cannot make the hog SCHED_FIFO");
    while (!done.load()) {
      const auto busy_until = std::chrono::steady_clock::now() + 10ms;
      while (std::chrono::steady_clock::now() < busy_until && !done.load()) {
      }
      std::this_thread::sleep_for(10ms);
    }
  });
  pid_t victim = 0;
  std::uint64_t wakeups = 0, worst_us = 0;
  std::thread sleeper([&] {
    pin_to(cpu);
    victim = gettid();
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(o.ms);
    while (std::chrono::steady_clock::now() < end) {
      const auto before = std::chrono::steady_clock::now();
      std::this_thread::sleep_for(1ms);
      const auto late = std::chrono::steady_clock::now() - before - 1ms;
      worst_us = std::max<std::uint64_t>(
          worst_us, static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(late).count()));
      ++wakeups;
    }
  });
  sleeper.join();
  done = true;
  hog.join();
  print_line(json_object()
                 .str("kind", "runqdelay")
                 .num("pid", getpid())
                 .num("victim_tid", victim)
                 .num("cpu", cpu)
                 .num("wakeups", wakeups)
                 .num("worst_oversleep_us", worst_us)
                 .done());
  return 0;
}

// A fake multi-process application: the root re-executes itself as three
// children with Chromium-style --type= roles; each sends --msgs bytes to
// the root through its own pipe and lingers so its identity can be read.
constexpr std::array<std::string_view, 3> app_roles{"renderer", "gpu-process", "utility"};

int run_app_child(const options& o) {
  g_role = "app child";
  for (std::uint64_t i = 0; i < o.msgs; ++i) {
    const unsigned char b = static_cast<unsigned char>(i);
    write_some(o.app_fd, &b, 1, "write to the root");
  }
  close(o.app_fd);
  if (o.linger_ms) std::this_thread::sleep_for(std::chrono::milliseconds(o.linger_ms));
  return 0;
}

int run_app(const options& o) {
  if (!o.role.empty()) return run_app_child(o);
  std::vector<std::string> members;
  std::vector<pid_t> kids;
  std::uint64_t received = 0;
  for (const auto role : app_roles) {
    int p[2];
    if (pipe(p) != 0) fail_errno("pipe");
    const pid_t pid = fork();
    if (pid < 0) fail_errno("fork");
    if (pid == 0) {
      close(p[0]);
      if (prctl(PR_SET_PDEATHSIG, static_cast<unsigned long>(SIGKILL)) != 0) _exit(1);
      const std::string type = "--type=" + std::string(role);
      const std::string fd = "--app-fd=" + std::to_string(p[1]);
      const std::string msgs = "--msgs=" + std::to_string(o.msgs);
      const std::string linger = "--linger-ms=" + std::to_string(o.linger_ms);
      execl("/proc/self/exe", "ipcgen", type.c_str(), fd.c_str(), msgs.c_str(), linger.c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    close(p[1]);
    kids.push_back(pid);
    members.push_back(json_object().num("pid", pid).str("role", role).done());
    unsigned char buf[256];
    for (;;) {
      const std::size_t got = read_some(p[0], buf, sizeof buf, "read from a child");
      if (got == 0) break;
      received += got;
    }
    close(p[0]);
  }
  print_line(json_object()
                 .str("kind", "app")
                 .num("root_pid", getpid())
                 .raw("members", json_array(members))
                 .num("internal_bytes", received)
                 .done());
  for (const pid_t pid : kids) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
      if (errno != EINTR) fail_errno("waitpid");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail("an app child failed");
  }
  if (received != o.msgs * app_roles.size()) fail("the root received " + std::to_string(received) + " bytes");
  return 0;
}

}  // namespace

// Signal and shared memory modes: tests/tools/ipcgen_shm.cpp.
bool ipcgen_shm_kind(std::string_view kind);
int ipcgen_shm_main(int argc, char** argv);

int main(int argc, char** argv) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string_view(argv[i]) == "--kind" && ipcgen_shm_kind(argv[i + 1]))
      return ipcgen_shm_main(argc, argv);
  const options o = parse_args(argc, argv);
  g_parent_pid = getpid();
  install_handlers();
  alarm(timeout_s);
  if (is_peer_kind(o.k)) return run_peers(o);
  switch (o.k) {
    case kind::pingpong:
      return run_pingpong(o);
    case kind::spin:
      return run_spin(o);
    case kind::runqdelay:
      return run_runqdelay(o);
    case kind::app:
      return run_app(o);
    default:
      return run_traffic(o);
  }
}
