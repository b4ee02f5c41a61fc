#include "app/ProcNames.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace ipctop::app {

std::optional<std::string> ProcNames::comm(uint32_t pid, uint32_t tid) {
  return proc_.comm(static_cast<int>(pid), static_cast<int>(tid));
}

std::optional<uint32_t> ProcNames::ppid(uint32_t pid) {
  auto p = proc_.ppid(static_cast<int>(pid));
  if (!p || *p < 0) return std::nullopt;
  return static_cast<uint32_t>(*p);
}

std::vector<std::string> ProcNames::cmdline(uint32_t pid) {
  return proc_.cmdline(static_cast<int>(pid)).value_or(std::vector<std::string>{});
}

std::optional<uint32_t> ProcNames::session(uint32_t pid) {
  auto s = proc_.session(static_cast<int>(pid));
  if (!s) return std::nullopt;
  return static_cast<uint32_t>(*s);
}

std::string ProcNames::exe(uint32_t pid) { return proc_.exe(static_cast<int>(pid)).value_or(""); }

std::string ProcNames::channel_path(Kind kind, uint64_t ino, uint32_t dev,
                                    const std::set<uint32_t>& pids) {
  if (kind == Kind::unix_stream || kind == Kind::unix_dgram || kind == Kind::unix_seqpacket) {
    auto it = unix_paths_.find(ino);
    if (it == unix_paths_.end()) {
      unix_paths_ = proc_.unix_socket_paths();
      it = unix_paths_.find(ino);
    }
    return it == unix_paths_.end() ? "" : it->second;
  }
  if (kind == Kind::sysv_msg) return sysv_msg_path(ino);
  if (kind != Kind::fifo && kind != Kind::posix_mq && kind != Kind::file) return "";
  // A FIFO's, message queue's or file's path is whatever an endpoint
  // opened: look through their fds for the one with this device and inode
  // (the kernel's dev_t has 20 minor bits).
  const unsigned want_major = dev >> 20, want_minor = dev & 0xfffff;
  auto same_type = [kind](mode_t mode) {
    return kind == Kind::fifo ? S_ISFIFO(mode) : S_ISREG(mode);
  };
  for (uint32_t pid : pids) {
    std::error_code ec;
    std::string dir = fmt::format("{}/{}/fd", proc_.root(), pid);
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      struct stat st {};
      if (stat(entry.path().c_str(), &st) != 0 || !same_type(st.st_mode) || st.st_ino != ino ||
          major(st.st_dev) != want_major || minor(st.st_dev) != want_minor)
        continue;
      std::string name = entry.path().filename();
      int fd = 0;
      std::from_chars(name.data(), name.data() + name.size(), fd);
      if (auto target = proc_.fd_target(static_cast<int>(pid), fd)) return *target;
    }
  }
  // A message queue nobody holds open any more: its name under /dev/mqueue,
  // when that is mounted.
  if (kind == Kind::posix_mq) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/dev/mqueue", ec)) {
      struct stat st {};
      if (stat(entry.path().c_str(), &st) == 0 && st.st_ino == ino)
        return "/" + entry.path().filename().string();
    }
  }
  return "";
}

// "key 0x00001234 msqid 5" from /proc/sysvipc/msg, or "msqid 5" once the
// queue is gone.
std::string ProcNames::sysv_msg_path(uint64_t msqid) {
  auto find = [&]() -> std::optional<std::string> {
    auto it = msg_keys_.find(msqid);
    if (it == msg_keys_.end()) return std::nullopt;
    return fmt::format("key 0x{:08x} msqid {}", static_cast<uint32_t>(it->second), msqid);
  };
  if (auto p = find()) return *p;
  msg_keys_.clear();
  std::ifstream in(std::string(proc_.root()) + "/sysvipc/msg");
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    int64_t key = 0;
    uint64_t id = 0;
    if (fields >> key >> id) msg_keys_[id] = key;
  }
  return find().value_or(fmt::format("msqid {}", msqid));
}

}  // namespace ipctop::app
