#include <pwd.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <limits>
#include <vector>

#include "limits/Limits.h"

namespace ipctop::limits {

namespace {

constexpr long kTmpfsMagic = 0x01021994;

std::optional<RLimit> read_rlimit(int resource) {
  struct rlimit rl {};
  if (::getrlimit(resource, &rl) != 0) return std::nullopt;
  const auto conv = [](rlim_t v) {
    return v == RLIM_INFINITY ? std::numeric_limits<uint64_t>::max() : static_cast<uint64_t>(v);
  };
  return RLimit{conv(rl.rlim_cur), conv(rl.rlim_max)};
}

std::optional<FsUsage> live_fs_usage(const std::string& path) {
  struct statvfs vfs {};
  if (::statvfs(path.c_str(), &vfs) != 0) return std::nullopt;
  FsUsage u;
  u.size_bytes = static_cast<uint64_t>(vfs.f_blocks) * vfs.f_frsize;
  u.used_bytes = static_cast<uint64_t>(vfs.f_blocks - vfs.f_bfree) * vfs.f_frsize;
  struct statfs fs {};
  u.tmpfs = ::statfs(path.c_str(), &fs) == 0 && static_cast<long>(fs.f_type) == kTmpfsMagic;
  return u;
}

std::optional<std::string> live_user_name(uint32_t uid) {
  long hint = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buf(hint > 0 ? static_cast<std::size_t>(hint) : 1024);
  for (;;) {
    struct passwd pw {};
    struct passwd* result = nullptr;
    const int rc = ::getpwuid_r(static_cast<uid_t>(uid), &pw, buf.data(), buf.size(), &result);
    if (rc == ERANGE && buf.size() < (1u << 20)) {
      buf.resize(buf.size() * 2);
      continue;
    }
    if (rc != 0 || result == nullptr || result->pw_name == nullptr) return std::nullopt;
    return std::string(result->pw_name);
  }
}

std::optional<uint64_t> live_msg_qbytes(int64_t msqid, uint32_t key) {
  if (msqid < 0 || msqid > std::numeric_limits<int>::max()) return std::nullopt;
  struct msqid_ds ds {};
  if (::msgctl(static_cast<int>(msqid), IPC_STAT, &ds) != 0) return std::nullopt;
  // The id may have been reused by another queue since /proc/sysvipc/msg was read.
  if (static_cast<uint32_t>(ds.msg_perm.__key) != key) return std::nullopt;
  return static_cast<uint64_t>(ds.msg_qbytes);
}

bool is_live_proc(const std::string& proc) {
  std::error_code ec;
  return std::filesystem::equivalent(proc, "/proc", ec) && !ec;
}

}  // namespace

Host current_host(const Roots& roots) {
  Host host;
  const long page = ::sysconf(_SC_PAGESIZE);
  host.page_size = page > 0 ? static_cast<uint64_t>(page) : 4096;
  host.rlimit_msgqueue = read_rlimit(RLIMIT_MSGQUEUE);
  host.rlimit_memlock = read_rlimit(RLIMIT_MEMLOCK);
  host.fs_usage = live_fs_usage;
  host.user_name = live_user_name;
  if (is_live_proc(roots.proc)) {
    host.msg_qbytes = live_msg_qbytes;
    host.pipe_usage = [proc = roots.proc, page = host.page_size] { return scan_pipes(proc, page); };
  }
  return host;
}

}  // namespace ipctop::limits
