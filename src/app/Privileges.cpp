#include "app/Privileges.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

namespace ipctop::app {

namespace {

constexpr int kCapDacReadSearch = 2;
constexpr int kCapSetpcap = 8;
constexpr int kCapIpcOwner = 15;
constexpr int kCapSysPtrace = 19;
constexpr int kCapSysAdmin = 21;
constexpr int kCapBpf = 39;

// Always kept: what reading other users' /proc entries and IPC objects
// needs (none of it can load BPF or change the system).
constexpr KeptCapability kAlwaysKept[] = {
    {kCapSysPtrace, "CAP_SYS_PTRACE", "/proc/PID/fd links of other users' processes (FIFO paths)"},
    {kCapDacReadSearch, "CAP_DAC_READ_SEARCH",
     "/proc/PID/fd directories and /dev/mqueue entries of other users"},
    {kCapIpcOwner, "CAP_IPC_OWNER", "msgctl(IPC_STAT) on other users' SysV queues (failure diagnosis)"},
};

// Kernel "major.minor" as a number, 0 when unknown.
int release_number(const std::string& release) {
  int major = 0, minor = 0;
  if (std::sscanf(release.c_str(), "%d.%d", &major, &minor) != 2) return 0;
  return major * 1000 + minor;
}

int last_cap() {
  std::ifstream in("/proc/sys/kernel/cap_last_cap");
  int n = 40;
  if (!(in >> n) || n < 0 || n > 63) n = 40;
  return n;
}

bool is_kept(const std::vector<KeptCapability>& kept, int cap) {
  for (const auto& k : kept)
    if (k.cap == cap) return true;
  return false;
}

}  // namespace

std::vector<KeptCapability> capabilities_kept_after_attach(const std::string& kernel_release) {
  std::vector<KeptCapability> kept(std::begin(kAlwaysKept), std::end(kAlwaysKept));
  // Before 5.19 (commit c8644cd0efe7) every bpf() command, also a lookup on a
  // map fd already held, needs CAP_BPF when unprivileged BPF is disabled
  // (CAP_SYS_ADMIN before 5.8, which has no CAP_BPF).
  const int release = release_number(kernel_release);
  if (release && release < 5008)
    kept.push_back({kCapSysAdmin, "CAP_SYS_ADMIN", "bpf() on held map fds before 5.8"});
  else if (release && release < 5019)
    kept.push_back({kCapBpf, "CAP_BPF", "bpf() on held map fds before 5.19"});
  return kept;
}

std::optional<std::string> drop_capabilities_after_attach() {
  utsname u{};
  const auto kept = capabilities_kept_after_attach(uname(&u) == 0 ? u.release : "");
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (syscall(SYS_capget, &hdr, data) != 0)
    return fmt::format("capget: {}", strerror(errno));
  auto has = [&](uint32_t set, int cap) { return (set >> (cap % 32)) & 1u; };
  std::vector<std::string> problems;
  // The bounding set first, while CAP_SETPCAP is still effective; without it
  // (a process given only CAP_BPF and CAP_PERFMON) there is nothing to drop
  // that it could regain through exec.
  if (has(data[kCapSetpcap / 32].effective, kCapSetpcap)) {
    for (int cap = 0; cap <= last_cap(); ++cap)
      if (!is_kept(kept, cap) && prctl(PR_CAPBSET_READ, cap) == 1 &&
          prctl(PR_CAPBSET_DROP, cap) != 0)
        problems.push_back(fmt::format("bounding set {}: {}", cap, strerror(errno)));
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    problems.push_back(fmt::format("ambient set: {}", strerror(errno)));
  __user_cap_data_struct next[2]{};
  for (const auto& k : kept) {
    const uint32_t bit = 1u << (k.cap % 32);
    // Only what is held can be kept.
    if (data[k.cap / 32].permitted & bit) {
      next[k.cap / 32].permitted |= bit;
      next[k.cap / 32].effective |= bit;
    }
  }
  if (syscall(SYS_capset, &hdr, next) != 0)
    problems.push_back(fmt::format("capset: {}", strerror(errno)));
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    problems.push_back(fmt::format("no_new_privs: {}", strerror(errno)));
  if (problems.empty()) return std::nullopt;
  return fmt::format("{}", fmt::join(problems, "; "));
}

}  // namespace ipctop::app
