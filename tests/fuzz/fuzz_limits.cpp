// Fuzz target: `ipctop limits` (the sysctl, /proc/sysvipc, meminfo and
// /dev/mqueue readers, the warnings, the table and the JSON) on a fixture
// tree built from the input. Any file content must give a report, never a
// crash or an exception; the JSON must serialize (valid UTF-8).
#include <cstdint>

#include "FuzzTree.h"
#include "limits/Limits.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static fuzz::Tree tree;
  static const std::vector<std::string> paths = {
      "proc/sys/kernel/shmmax",         "proc/sys/kernel/shmall",      "proc/sys/kernel/shmmni",
      "proc/sys/kernel/msgmax",         "proc/sys/kernel/msgmnb",      "proc/sys/kernel/msgmni",
      "proc/sys/kernel/sem",            "proc/sysvipc/shm",            "proc/sysvipc/msg",
      "proc/sysvipc/sem",               "proc/meminfo",                "proc/sys/fs/mqueue/msg_max",
      "proc/sys/fs/mqueue/msgsize_max", "proc/sys/fs/mqueue/queues_max", "proc/sys/fs/pipe-max-size",
      "proc/sys/fs/pipe-user-pages-soft", "proc/sys/fs/file-nr",     "proc/sys/fs/file-max",
      "dev_mqueue/q",                   "proc/7/comm",                 "dev_shm/s",
  };
  tree.fill(paths, fuzz::chunks(data, size, paths.size()));
  using namespace ipctop::limits;
  Roots roots{tree.root() + "/proc", tree.root() + "/dev_shm", tree.root() + "/dev_mqueue"};
  Host host;
  host.rlimit_msgqueue = RLimit{819200, 819200};
  host.rlimit_memlock = RLimit{8u << 20, 8u << 20};
  host.fs_usage = [](const std::string&) { return std::optional<FsUsage>(FsUsage{1u << 30, 4096, true}); };
  host.user_name = [](uint32_t uid) { return std::optional<std::string>(uid ? "user" : "root"); };
  host.msg_qbytes = [](int64_t, uint32_t) { return std::optional<uint64_t>(16384); };
  Report report = collect(roots, host);
  (void)render_table(report, false);
  (void)render_table(report, true);
  (void)to_json(report).dump();
  return 0;
}
