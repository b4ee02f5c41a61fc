#pragma once

// Shared by the src/limits translation units only.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "limits/Limits.h"
#include "procfs/ProcFs.h"

namespace ipctop::limits::detail {

// At or above this a byte or page count is a "no limit" default, such as the
// ULONG_MAX - 2^24 of kernel.shmmax and kernel.shmall.
inline constexpr uint64_t kEffectivelyUnlimited = uint64_t{1} << 62;

using procfs::FileText;

inline FileText read_small_file(const std::string& path, std::size_t max_bytes = 64 * 1024) {
  return procfs::read_regular_file(path, max_bytes);
}

std::string_view trim(std::string_view s);
std::vector<std::string_view> split_ws(std::string_view s);  // on spaces, tabs and newlines

// Whole-string decimal, no sign, no overflow.
std::optional<uint64_t> parse_u64(std::string_view s);
std::optional<int64_t> parse_i64(std::string_view s);

// Saturating is not good enough for values shown as exact, so overflow is reported.
std::optional<uint64_t> checked_mul(uint64_t a, uint64_t b);

std::string human_bytes(uint64_t bytes);
std::string key_hex(uint32_t key);  // 0x0001e240
std::string octal(uint32_t perms);  // 644
std::string group_digits(uint64_t n);

// Comm of pids under roots.proc, read once each.
class CommCache {
 public:
  explicit CommCache(std::string proc) : proc_(std::move(proc)) {}
  ProcessRef ref(int64_t pid);

 private:
  std::string proc_;
  std::map<int64_t, std::optional<std::string>> cache_;
};

class OwnerCache {
 public:
  explicit OwnerCache(const Host& host) : host_(host) {}
  std::string name(uint32_t uid);

 private:
  const Host& host_;
  std::map<uint32_t, std::string> cache_;
};

struct Facts {
  std::optional<uint64_t> mem_total_bytes;
  bool dev_shm_not_tmpfs = false;
};

// Which object lists could be read, so that a count of zero is not mistaken for "no
// objects" when the file behind it was missing.
struct ObjectsRead {
  bool sysv_shm = false;
  bool sysv_msg = false;
  bool sysv_sem = false;
  bool posix_mq = false;
  bool posix_shm = false;
};

ObjectsRead collect_objects(const Roots& roots, const Host& host, Report& report);
void add_warnings(const Report& report_in, const Facts& facts, const Host& host,
                  std::vector<Warning>& out);

}  // namespace ipctop::limits::detail
