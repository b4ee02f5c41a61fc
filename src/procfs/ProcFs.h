#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ipctop::procfs {

struct TaskStatus {
  std::string name;  // raw bytes (the kernel's \n and \\ escapes undone), not sanitized
  int tgid = 0;
  int pid = 0;
  int ppid = 0;
  uint32_t uid = 0;  // real uid
  uint64_t voluntary_ctxt_switches = 0;
  uint64_t nonvoluntary_ctxt_switches = 0;
};

// Readers for the few /proc files ipctop needs, rooted anywhere so tests can use fixture trees.
// Processes exit at any moment, so every reader returns nullopt (or an empty container) for
// missing, unreadable, truncated or garbled files; none of them throws. Strings are returned
// raw: callers sanitize them at output.
// A regular file's text, at most `limit` bytes, or why it could not be read
// (errno text, or "not a regular file": a FIFO planted where a file is
// expected must not hang the reader).
struct FileText {
  std::optional<std::string> text;
  std::string error;  // set when text is nullopt
};
FileText read_regular_file(const std::string& path, std::size_t limit);

class ProcFs {
 public:
  explicit ProcFs(std::string root = "/proc");

  // root/pid/comm, or root/pid/task/tid/comm when tid != 0; one trailing '\n' stripped.
  std::optional<std::string> comm(int pid, int tid = 0) const;
  // root/pid/status, or root/pid/task/tid/status when tid != 0. nullopt unless Name, Tgid,
  // Pid, PPid and Uid are all present and well formed; missing context-switch counters read
  // as 0, malformed ones make the whole status nullopt.
  std::optional<TaskStatus> status(int pid, int tid = 0) const;
  // NUL-separated arguments (the final terminator dropped); empty for kernel threads.
  std::optional<std::vector<std::string>> cmdline(int pid) const;
  // PPid line of root/pid/status.
  std::optional<int> ppid(int pid) const;
  // Numeric entries of root (canonical decimal, > 0), ascending.
  std::vector<int> pids() const;
  // Numeric entries of root/pid/task, ascending.
  std::vector<int> tids(int pid) const;
  // Field 22 (starttime, in clock ticks since boot) of root/pid/stat.
  std::optional<uint64_t> start_time_ticks(int pid) const;
  // Field 6 (session id) of root/pid/stat.
  std::optional<uint64_t> session(int pid) const;
  // readlink() of root/pid/exe: the executable's path.
  std::optional<std::string> exe(int pid) const;
  // Socket inode -> bound path, from root/net/unix. Abstract names start with '@' (the
  // kernel prints their NULs as '@' too); unbound sockets are absent.
  std::unordered_map<uint64_t, std::string> unix_socket_paths() const;
  // Inode behind root/pid/fd/N: parsed from "pipe:[123]"/"socket:[456]"-style targets,
  // otherwise (FIFOs, files) by stat() through the link. nullopt for anon_inode fds.
  std::optional<uint64_t> fd_inode(int pid, int fd) const;
  // Raw readlink() text of root/pid/fd/N.
  std::optional<std::string> fd_target(int pid, int fd) const;

  std::string_view root() const { return root_; }

 private:
  std::string task_path(int pid, int tid, std::string_view leaf) const;
  // Numeric field `field_number` (3 or more) of root/pid/stat.
  std::optional<uint64_t> stat_field(int pid, int field_number) const;

  std::string root_;
};

}  // namespace ipctop::procfs
