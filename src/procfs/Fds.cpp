#include "procfs/Fds.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>

namespace ipctop::procfs {
namespace {

// include/uapi/linux/magic.h
constexpr long kMqueueMagic = 0x19800202;

std::optional<uint64_t> bracketed_inode(std::string_view target, std::string_view prefix) {
  if (!target.starts_with(prefix) || !target.ends_with(']')) return std::nullopt;
  std::string_view digits = target.substr(prefix.size(), target.size() - prefix.size() - 1);
  uint64_t ino = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), ino);
  if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size())
    return std::nullopt;
  return ino;
}

// A queue's link reads "/name", or "/name (deleted)" after mq_unlink: one path component.
bool single_component(std::string_view target) {
  constexpr std::string_view kDeleted = " (deleted)";
  if (target.ends_with(kDeleted)) target.remove_suffix(kDeleted.size());
  return target.size() > 1 && target.front() == '/' && target.find('/', 1) == std::string_view::npos;
}

}  // namespace

std::optional<Access> parse_fdinfo_access(std::string_view fdinfo) {
  size_t pos = fdinfo.starts_with("flags:") ? 0 : fdinfo.find("\nflags:");
  if (pos == std::string_view::npos) return std::nullopt;
  pos = fdinfo.find(':', pos) + 1;
  while (pos < fdinfo.size() && (fdinfo[pos] == ' ' || fdinfo[pos] == '\t')) ++pos;
  size_t end = fdinfo.find('\n', pos);
  if (end == std::string_view::npos) return std::nullopt;  // a cut line
  unsigned flags = 0;
  auto [ptr, ec] = std::from_chars(fdinfo.data() + pos, fdinfo.data() + end, flags, 8);
  if (pos == end || ec != std::errc{} || ptr != fdinfo.data() + end) return std::nullopt;
  switch (flags & O_ACCMODE) {
    case O_RDONLY:
      return Access::read;
    case O_WRONLY:
      return Access::write;
    case O_RDWR:
      return Access::read_write;
    default:
      return std::nullopt;
  }
}

ProcessFds ipc_fds(const ProcFs& proc, int pid) {
  ProcessFds out;
  const std::string dir_path = std::string(proc.root()) + '/' + std::to_string(pid) + "/fd";
  DIR* dir = ::opendir(dir_path.c_str());
  if (dir == nullptr) {
    out.error = errno;
    return out;
  }
  std::vector<int> fds;
  while (const dirent* entry = ::readdir(dir)) {
    int fd = 0;
    std::string_view name = entry->d_name;
    auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), fd);
    if (ec == std::errc{} && end == name.data() + name.size() && fd >= 0) fds.push_back(fd);
  }
  ::closedir(dir);
  std::sort(fds.begin(), fds.end());

  const std::string base = std::string(proc.root()) + '/' + std::to_string(pid);
  for (int fd : fds) {
    auto target = proc.fd_target(pid, fd);
    if (!target) continue;
    FdEntry e;
    e.fd = fd;
    if (auto ino = bracketed_inode(*target, "pipe:[")) {
      e.kind = FdKind::pipe;
      e.ino = *ino;
    } else if (auto sock = bracketed_inode(*target, "socket:[")) {
      e.kind = FdKind::socket;
      e.ino = *sock;
    } else if (target->starts_with('/')) {
      // stat() through the magic link: it reaches FIFOs in other mount namespaces and queues,
      // which have no path in ours.
      const std::string link = base + "/fd/" + std::to_string(fd);
      struct stat st {};
      if (::stat(link.c_str(), &st) != 0) continue;
      if (S_ISFIFO(st.st_mode)) {
        e.kind = FdKind::fifo;
        e.dev_major = major(st.st_dev);
        e.dev_minor = minor(st.st_dev);
      } else if (S_ISREG(st.st_mode) && single_component(*target)) {
        struct statfs fs {};
        if (::statfs(link.c_str(), &fs) != 0 || fs.f_type != kMqueueMagic) continue;
        e.kind = FdKind::mqueue;
      } else {
        continue;
      }
      e.ino = st.st_ino;
    } else {
      continue;
    }
    if (e.kind != FdKind::socket) {
      auto info = read_regular_file(base + "/fdinfo/" + std::to_string(fd), 4096);
      if (!info.text) continue;
      auto access = parse_fdinfo_access(*info.text);
      if (!access) continue;
      e.access = *access;
    } else {
      e.access = Access::read_write;
    }
    e.target = std::move(*target);
    out.fds.push_back(std::move(e));
  }
  return out;
}

}  // namespace ipctop::procfs
