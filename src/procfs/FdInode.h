// FdSource over a /proc tree: the inode behind /proc/PID/fd/N.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "model/FdPass.h"

namespace ipctop::procfs {

class ProcFdInode final : public FdSource {
 public:
  explicit ProcFdInode(std::string proc = "/proc") : proc_(std::move(proc)) {}
  std::optional<uint64_t> fd_inode(uint32_t pid, uint32_t fd) override;

 private:
  std::string proc_;
};

}  // namespace ipctop::procfs
