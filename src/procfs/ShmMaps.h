// Shared memory as /proc shows it: the shared mappings in /proc/PID/maps and
// the segments in /proc/sysvipc/shm, for ShmTracker's initial state and its
// low-rate rescans.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/Shm.h"

namespace ipctop::procfs {

struct MapsLine {
  uint64_t start = 0;
  uint64_t end = 0;
  std::string perms;  // "rw-s"
  uint32_t major = 0;
  uint32_t minor = 0;
  uint64_t inode = 0;
  std::string path;  // as maps prints it ("\012" for a newline, " (deleted)" suffix)
};

std::optional<MapsLine> parse_maps_line(std::string_view line);

// The shared memory mappings among a maps file's lines: shared ('s'), with an
// inode; SysV ("/SYSV%08x", inode = shmid), /dev/shm files and memfds are
// marked shm_path. Consecutive lines of one attachment (split by mprotect)
// count once, at the first one's address.
std::vector<ShmMapping> shm_mappings(std::string_view maps);

// /proc/sysvipc/shm, columns found by name; rows that do not parse are skipped.
std::vector<SysvSegmentInfo> parse_sysvipc_shm(std::string_view text);

// ShmSource over a /proc tree (and /dev/shm), rooted anywhere for tests.
class ProcShm final : public ShmSource {
 public:
  explicit ProcShm(std::string proc = "/proc", std::string dev_shm = "/dev/shm")
      : proc_(std::move(proc)), dev_shm_(std::move(dev_shm)) {}
  std::vector<uint32_t> pids() override;
  std::optional<std::vector<ShmMapping>> mappings(uint32_t pid) override;
  std::vector<SysvSegmentInfo> sysv_segments() override;
  std::optional<uint32_t> dev_shm() override;

 private:
  std::string proc_;
  std::string dev_shm_;
};

}  // namespace ipctop::procfs
