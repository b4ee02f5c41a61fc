// NameSource over /proc: names for tasks first seen through counters, and
// paths for FIFOs and unix sockets.
#pragma once

#include <unordered_map>

#include "model/Aggregator.h"
#include "procfs/ProcFs.h"

namespace ipctop::app {

class ProcNames final : public NameSource {
 public:
  explicit ProcNames(std::string root = "/proc") : proc_(std::move(root)) {}

  std::optional<std::string> comm(uint32_t pid, uint32_t tid) override;
  std::optional<uint32_t> ppid(uint32_t pid) override;
  std::vector<std::string> cmdline(uint32_t pid) override;
  std::string channel_path(Kind kind, uint64_t ino, uint32_t dev,
                           const std::set<uint32_t>& pids) override;
  std::optional<uint32_t> session(uint32_t pid) override;
  std::string exe(uint32_t pid) override;

 private:
  std::string sysv_msg_path(uint64_t msqid);

  procfs::ProcFs proc_;
  std::unordered_map<uint64_t, std::string> unix_paths_;
  std::unordered_map<uint64_t, int64_t> msg_keys_;  // msqid -> key
};

}  // namespace ipctop::app
