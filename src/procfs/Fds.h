// The IPC file descriptors of a process, as lsof and lsfd see them: pipes, FIFOs, sockets and
// POSIX message queues, with the access mode each was opened with.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "procfs/ProcFs.h"

namespace ipctop::procfs {

enum class FdKind : uint8_t { pipe, fifo, socket, mqueue };

enum class Access : uint8_t { read, write, read_write };

struct FdEntry {
  int fd = 0;
  FdKind kind = FdKind::pipe;
  uint64_t ino = 0;
  uint32_t dev_major = 0;  // FIFOs: the device of the file system that holds them
  uint32_t dev_minor = 0;
  Access access = Access::read;
  std::string target;  // readlink text: "pipe:[123]", a FIFO's path, a queue's "/name"
};

struct ProcessFds {
  std::vector<FdEntry> fds;  // ascending fd
  // errno of opening root/pid/fd: EACCES for another user's process without privileges,
  // ENOENT for one that is gone; 0 when read.
  int error = 0;
};

// Only the IPC fds of root/pid/fd; everything else (files, ttys, anon inodes) is skipped.
// An fd closed while being read is skipped too.
ProcessFds ipc_fds(const ProcFs& proc, int pid);

// The access mode in the "flags:" line (octal) of an fdinfo file, or nullopt.
std::optional<Access> parse_fdinfo_access(std::string_view fdinfo);

}  // namespace ipctop::procfs
