#include "procfs/ProcFs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <charconv>
#include <cstddef>
#include <system_error>
#include <utility>

namespace ipctop::procfs {
namespace {

// Files in /proc report st_size 0, so reads go until EOF, capped so that a hostile or broken
// file cannot make us allocate without bound.
constexpr std::size_t kMaxFileBytes = std::size_t{1} << 20;
// /proc/net/unix has one ~100-byte line per socket system-wide; busy hosts exceed 1 MiB.
constexpr std::size_t kMaxNetUnixBytes = std::size_t{64} << 20;
constexpr std::size_t kMaxLinkBytes = std::size_t{64} << 10;

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

class Dir {
 public:
  explicit Dir(DIR* dir) : dir_(dir) {}
  Dir(const Dir&) = delete;
  Dir& operator=(const Dir&) = delete;
  ~Dir() {
    if (dir_ != nullptr) ::closedir(dir_);
  }
  DIR* get() const { return dir_; }

 private:
  DIR* dir_;
};

std::optional<std::string> read_file(const std::string& path, std::size_t limit = kMaxFileBytes) {
  return read_regular_file(path, limit).text;
}

// Digits only: from_chars alone would accept a leading '-' for signed types.
template <typename T>
std::optional<T> parse_decimal(std::string_view s) {
  if (s.empty() || s.front() < '0' || s.front() > '9') return std::nullopt;
  T value{};
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return value;
}

// Directory names are only pids when canonical: "007" would not name the same file as 7.
std::optional<int> parse_pid_name(std::string_view name) {
  if (name.size() > 1 && name.front() == '0') return std::nullopt;
  const auto value = parse_decimal<int>(name);
  if (!value || *value <= 0) return std::nullopt;
  return value;
}

bool is_hex(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

std::string_view trim_blanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls fn for each '\n'-terminated line. A final line without '\n' is dropped: the kernel
// always terminates lines, so it is the remains of a truncated read and may hold a cut number.
template <typename Fn>
void for_each_complete_line(std::string_view text, Fn&& fn) {
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) return;
    fn(text.substr(start, nl - start));
    start = nl + 1;
  }
}

// The status Name line escapes exactly '\n' and '\\' (fs/proc/array.c: proc_task_name).
std::string unescape_status_name(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && (s[i + 1] == 'n' || s[i + 1] == '\\')) {
      out += s[i + 1] == 'n' ? '\n' : '\\';
      ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

struct StatusFields {
  std::optional<std::string> name;
  std::optional<int> tgid;
  std::optional<int> pid;
  std::optional<int> ppid;
  std::optional<uint32_t> uid;
  std::optional<uint64_t> voluntary;
  std::optional<uint64_t> nonvoluntary;
  bool malformed = false;
};

StatusFields parse_status(std::string_view text) {
  StatusFields f;
  auto number = [&f]<typename T>(std::optional<T>& field, std::string_view value) {
    field = parse_decimal<T>(value);
    if (!field) f.malformed = true;
  };
  for_each_complete_line(text, [&](std::string_view line) {
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) return;
    const std::string_view key = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    if (key == "Name") {
      // Only the separator tab is stripped: a name may itself start or end with blanks.
      if (!value.empty() && value.front() == '\t') value.remove_prefix(1);
      f.name = unescape_status_name(value);
      return;
    }
    value = trim_blanks(value);
    if (key == "Tgid") {
      number(f.tgid, value);
    } else if (key == "Pid") {
      number(f.pid, value);
    } else if (key == "PPid") {
      number(f.ppid, value);
    } else if (key == "Uid") {
      // Real, effective, saved and filesystem uids; the real one comes first.
      number(f.uid, value.substr(0, value.find_first_of(" \t")));
    } else if (key == "voluntary_ctxt_switches") {
      number(f.voluntary, value);
    } else if (key == "nonvoluntary_ctxt_switches") {
      number(f.nonvoluntary, value);
    }
  });
  return f;
}

// Next blank-separated token of `s` from `pos`, skipping leading spaces.
std::string_view next_token(std::string_view s, std::size_t& pos) {
  while (pos < s.size() && s[pos] == ' ') ++pos;
  const std::size_t start = pos;
  while (pos < s.size() && s[pos] != ' ') ++pos;
  return s.substr(start, pos - start);
}

// One line of /proc/net/unix, printed by unix_seq_show() as
// "%pK: %08X %08X %08X %04X %02X %5lu" followed, for bound sockets, by ' ' and the raw path.
std::optional<std::pair<uint64_t, std::string>> parse_unix_line(std::string_view line) {
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos || !is_hex(line.substr(0, colon))) return std::nullopt;
  std::size_t pos = colon + 1;
  for (int i = 0; i < 5; ++i) {
    if (!is_hex(next_token(line, pos))) return std::nullopt;
  }
  const auto inode = parse_decimal<uint64_t>(next_token(line, pos));
  if (!inode) return std::nullopt;
  // The path may contain (and end with) spaces, so it is everything after exactly one space.
  if (pos >= line.size() || line[pos] != ' ' || pos + 1 == line.size()) return std::nullopt;
  return std::pair{*inode, std::string(line.substr(pos + 1))};
}

std::vector<int> numeric_entries(const std::string& dir_path) {
  std::vector<int> out;
  const Dir dir(::opendir(dir_path.c_str()));
  if (dir.get() == nullptr) return out;
  while (true) {
    errno = 0;
    const dirent* entry = ::readdir(dir.get());
    if (entry == nullptr) break;
    if (const auto id = parse_pid_name(entry->d_name)) out.push_back(*id);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

FileText read_regular_file(const std::string& path, std::size_t limit) {
  // O_NONBLOCK so that a FIFO planted where a regular file is expected cannot hang us before
  // the S_ISREG check rejects it.
  const Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (fd.get() < 0) return {std::nullopt, std::strerror(errno)};
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return {std::nullopt, std::strerror(errno)};
  if (!S_ISREG(st.st_mode)) return {std::nullopt, "not a regular file"};
  std::string out;
  std::size_t used = 0;
  while (used < limit) {
    if (used == out.size())
      out.resize(std::min(limit, std::max<std::size_t>(4096, out.size() * 2)));
    const ssize_t n = ::read(fd.get(), out.data() + used, out.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      return {std::nullopt, std::strerror(errno)};
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  out.resize(used);
  // Callers keep some of these (a thread name per thread): a short text must
  // not keep the 4 KiB read buffer (10 000 thread names made 40 MiB).
  out.shrink_to_fit();
  return {std::move(out), {}};
}


ProcFs::ProcFs(std::string root) : root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

std::string ProcFs::task_path(int pid, int tid, std::string_view leaf) const {
  std::string path = root_;
  path += '/';
  path += std::to_string(pid);
  if (tid != 0) {
    path += "/task/";
    path += std::to_string(tid);
  }
  path += '/';
  path += leaf;
  return path;
}

std::optional<std::string> ProcFs::comm(int pid, int tid) const {
  if (pid <= 0 || tid < 0) return std::nullopt;
  auto text = read_file(task_path(pid, tid, "comm"));
  // The kernel always writes at least "\n" (an empty name is legal); nothing at all means the
  // read was cut short.
  if (!text || text->empty()) return std::nullopt;
  if (text->back() == '\n') text->pop_back();
  return text;
}

std::optional<TaskStatus> ProcFs::status(int pid, int tid) const {
  if (pid <= 0 || tid < 0) return std::nullopt;
  const auto text = read_file(task_path(pid, tid, "status"));
  if (!text) return std::nullopt;
  StatusFields f = parse_status(*text);
  if (f.malformed || !f.name || !f.tgid || !f.pid || !f.ppid || !f.uid) return std::nullopt;
  TaskStatus s;
  s.name = std::move(*f.name);
  s.tgid = *f.tgid;
  s.pid = *f.pid;
  s.ppid = *f.ppid;
  s.uid = *f.uid;
  s.voluntary_ctxt_switches = f.voluntary.value_or(0);
  s.nonvoluntary_ctxt_switches = f.nonvoluntary.value_or(0);
  return s;
}

std::optional<std::vector<std::string>> ProcFs::cmdline(int pid) const {
  if (pid <= 0) return std::nullopt;
  const auto text = read_file(task_path(pid, 0, "cmdline"));
  if (!text) return std::nullopt;
  std::vector<std::string> args;
  std::string_view rest = *text;
  // Processes that rewrite their argv (setproctitle) may leave no terminator at all.
  if (!rest.empty() && rest.back() == '\0') rest.remove_suffix(1);
  if (text->empty()) return args;
  while (true) {
    const std::size_t nul = rest.find('\0');
    args.emplace_back(rest.substr(0, nul));
    if (nul == std::string_view::npos) break;
    rest.remove_prefix(nul + 1);
  }
  return args;
}

std::optional<int> ProcFs::ppid(int pid) const {
  if (pid <= 0) return std::nullopt;
  const auto text = read_file(task_path(pid, 0, "status"));
  if (!text) return std::nullopt;
  return parse_status(*text).ppid;
}

std::vector<int> ProcFs::pids() const { return numeric_entries(root_); }

std::vector<int> ProcFs::tids(int pid) const {
  if (pid <= 0) return {};
  return numeric_entries(root_ + '/' + std::to_string(pid) + "/task");
}

std::optional<uint64_t> ProcFs::start_time_ticks(int pid) const { return stat_field(pid, 22); }

std::optional<uint64_t> ProcFs::session(int pid) const { return stat_field(pid, 6); }

std::optional<std::string> ProcFs::exe(int pid) const {
  if (pid <= 0) return std::nullopt;
  char buf[PATH_MAX];
  const ssize_t n = readlink(task_path(pid, 0, "exe").c_str(), buf, sizeof buf);
  if (n <= 0 || static_cast<std::size_t>(n) >= sizeof buf) return std::nullopt;
  return std::string(buf, static_cast<std::size_t>(n));
}

std::optional<uint64_t> ProcFs::stat_field(int pid, int field_number) const {
  if (pid <= 0 || field_number < 3) return std::nullopt;
  const auto text = read_file(task_path(pid, 0, "stat"));
  if (!text) return std::nullopt;
  // comm (field 2) is free text that may contain ')', spaces and newlines, but nothing after
  // it can contain ')', so the last one closes it.
  const std::size_t paren = text->rfind(')');
  if (paren == std::string::npos) return std::nullopt;
  const std::string_view rest = std::string_view(*text).substr(paren + 1);
  std::size_t pos = 0;
  std::string_view field;
  for (int n = 3; n <= field_number; ++n) {
    if (pos >= rest.size() || rest[pos] != ' ') return std::nullopt;
    ++pos;
    const std::size_t end = rest.find_first_of(" \n", pos);
    // A field running into the end of the buffer may have been cut mid-number.
    if (end == std::string_view::npos) return std::nullopt;
    field = rest.substr(pos, end - pos);
    pos = end;
  }
  return parse_decimal<uint64_t>(field);
}

std::unordered_map<uint64_t, std::string> ProcFs::unix_socket_paths() const {
  std::unordered_map<uint64_t, std::string> out;
  const auto text = read_file(root_ + "/net/unix", kMaxNetUnixBytes);
  if (!text) return out;
  for_each_complete_line(*text, [&out](std::string_view line) {
    if (auto entry = parse_unix_line(line))
      out.insert_or_assign(entry->first, std::move(entry->second));
  });
  return out;
}

std::optional<std::string> ProcFs::fd_target(int pid, int fd) const {
  if (pid <= 0 || fd < 0) return std::nullopt;
  const std::string path = task_path(pid, 0, "fd/" + std::to_string(fd));
  // readlink() truncates silently, so grow until the result leaves room to spare.
  std::string buf(256, '\0');
  while (true) {
    const ssize_t n = ::readlink(path.c_str(), buf.data(), buf.size());
    if (n < 0) return std::nullopt;
    if (static_cast<std::size_t>(n) < buf.size()) {
      buf.resize(static_cast<std::size_t>(n));
      return buf;
    }
    if (buf.size() >= kMaxLinkBytes) return std::nullopt;
    buf.resize(buf.size() * 2);
  }
}

std::optional<uint64_t> ProcFs::fd_inode(int pid, int fd) const {
  const auto target = fd_target(pid, fd);
  if (!target) return std::nullopt;
  const std::string_view t = *target;
  if (t.starts_with("anon_inode:")) return std::nullopt;
  // Pipes, sockets and other pseudo files read "type:[inode]"; real paths are absolute.
  if (!t.starts_with('/')) {
    const std::size_t open = t.find(":[");
    if (open != std::string_view::npos && t.ends_with(']'))
      return parse_decimal<uint64_t>(t.substr(open + 2, t.size() - open - 3));
  }
  // stat() through the magic link rather than of the path text: that works for deleted files
  // and for paths in other mount namespaces.
  struct stat st {};
  if (::stat(task_path(pid, 0, "fd/" + std::to_string(fd)).c_str(), &st) != 0) return std::nullopt;
  return static_cast<uint64_t>(st.st_ino);
}

}  // namespace ipctop::procfs
