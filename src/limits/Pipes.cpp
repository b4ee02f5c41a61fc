// Pipe buffer pages per user, the usage behind fs.pipe-user-pages-soft and -hard.
//
// The kernel charges each pipe's buffer pages to the user that created it (a FIFO: that
// first opened it) and keeps the total in its user_struct, which nothing in /proc shows. It
// is derived here from the pipes processes hold open: each distinct pipe is measured once
// with F_GETPIPE_SZ on a copy of its descriptor taken with pidfd_getfd(2). A copy, not an
// open of /proc/PID/fd/N: opening a pipe adds a reader or writer, and closing it again wakes
// the other end (and sends SIGIO to its owner), which an inspection tool must not do.
// pidfd_getfd needs ptrace access, so without root only one's own processes are measured.
#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <utility>

#include "limits/Internal.h"

namespace ipctop::limits {

namespace {

// One process's fd directory; closes what it opened.
class FdDir {
 public:
  FdDir(const std::string& proc, long pid)
      : dir_(::opendir(fmt::format("{}/{}/fd", proc, pid).c_str())), errno_(errno) {}
  FdDir(const FdDir&) = delete;
  FdDir& operator=(const FdDir&) = delete;
  ~FdDir() {
    if (dir_ != nullptr) ::closedir(dir_);
  }
  bool ok() const { return dir_ != nullptr; }
  int error() const { return errno_; }
  int fd() const { return ::dirfd(dir_); }
  dirent* next() {
    while (dirent* e = ::readdir(dir_))
      if (e->d_name[0] != '.') return e;
    return nullptr;
  }

 private:
  DIR* dir_;
  int errno_;
};

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

bool numeric(const char* s) {
  if (*s == '\0') return false;
  for (; *s != '\0'; ++s)
    if (*s < '0' || *s > '9') return false;
  return true;
}

}  // namespace

std::optional<PipeScan> scan_pipes(const std::string& proc, uint64_t page_size) {
  if (page_size == 0) return std::nullopt;
  DIR* top = ::opendir(proc.c_str());
  if (top == nullptr) return std::nullopt;
  std::vector<long> pids;
  while (dirent* e = ::readdir(top))
    if (numeric(e->d_name)) pids.push_back(std::strtol(e->d_name, nullptr, 10));
  ::closedir(top);
  std::sort(pids.begin(), pids.end());

  PipeScan out;
  std::set<std::pair<dev_t, ino_t>> seen;
  const long self = ::getpid();
  for (long pid : pids) {
    FdDir fds(proc, pid);
    if (!fds.ok()) {
      if (fds.error() == EACCES || fds.error() == EPERM) ++out.unmeasured;
      continue;
    }
    std::optional<Fd> pidfd;  // opened at the first pipe of the process
    bool denied = false;
    while (dirent* e = fds.next()) {
      if (!numeric(e->d_name)) continue;
      char link[64];
      const ssize_t n = ::readlinkat(fds.fd(), e->d_name, link, sizeof(link) - 1);
      if (n <= 0) continue;
      link[n] = '\0';
      const bool anonymous = std::strncmp(link, "pipe:[", 6) == 0;
      // Sockets, anonymous inodes and the like are not pipes; a FIFO has a path.
      if (!anonymous && link[0] != '/') continue;
      struct stat st {};
      // Follows the link to the open file: for a pipe, its pipefs inode.
      if (::fstatat(fds.fd(), e->d_name, &st, 0) != 0 || !S_ISFIFO(st.st_mode)) continue;
      if (seen.count({st.st_dev, st.st_ino}) != 0) continue;
      int size = -1;
      if (pid == self) {
        size = ::fcntl(std::atoi(e->d_name), F_GETPIPE_SZ);
      } else {
        if (!pidfd) pidfd.emplace(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
        if (pidfd->get() < 0) {
          denied = errno == EPERM || errno == EACCES;
          break;
        }
        Fd copy(
            static_cast<int>(::syscall(SYS_pidfd_getfd, pidfd->get(), std::atoi(e->d_name), 0)));
        if (copy.get() < 0) {
          if (errno == EPERM || errno == EACCES) {
            denied = true;
            break;
          }
          continue;  // closed meanwhile
        }
        size = ::fcntl(copy.get(), F_GETPIPE_SZ);
      }
      if (size <= 0) continue;
      seen.insert({st.st_dev, st.st_ino});
      // An anonymous pipe's inode belongs to its creator; a FIFO's to whoever made the
      // file, so the holding process's user stands in for the one who opened it first.
      uint32_t uid = st.st_uid;
      if (!anonymous) {
        struct stat ps {};
        if (::stat(fmt::format("{}/{}", proc, pid).c_str(), &ps) == 0) uid = ps.st_uid;
      }
      auto& u = out.by_uid[uid];
      u.pages += static_cast<uint64_t>(size) / page_size;
      u.pipes += 1;
    }
    if (denied) ++out.unmeasured;
  }
  return out;
}

}  // namespace ipctop::limits
