#include "procfs/FdInode.h"

#include <sys/stat.h>

#include <fmt/format.h>

namespace ipctop::procfs {

std::optional<uint64_t> ProcFdInode::fd_inode(uint32_t pid, uint32_t fd) {
  struct stat st {};
  // stat follows the magic link to the open file itself (a pipe, a socket,
  // a memfd), whatever its path says.
  if (stat(fmt::format("{}/{}/fd/{}", proc_, pid, fd).c_str(), &st) != 0) return std::nullopt;
  return static_cast<uint64_t>(st.st_ino);
}

}  // namespace ipctop::procfs
