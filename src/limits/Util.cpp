#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

#include "limits/Internal.h"
#include "model/Text.h"

namespace ipctop::limits::detail {

std::string_view trim(std::string_view s) {
  const auto is_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
  };
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split_ws(std::string_view s) {
  const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n'; };
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i])) ++i;
    const std::size_t start = i;
    while (i < s.size() && !is_space(s[i])) ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

std::optional<uint64_t> parse_u64(std::string_view s) {
  if (s.empty() || s.front() < '0' || s.front() > '9') return std::nullopt;
  uint64_t v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<int64_t> parse_i64(std::string_view s) {
  if (s.empty()) return std::nullopt;
  int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

std::optional<uint64_t> checked_mul(uint64_t a, uint64_t b) {
  uint64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

std::string human_bytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  if (bytes < 1024) return fmt::format("{} B", bytes);
  int unit = 0;
  uint64_t whole = bytes / 1024;
  uint64_t divisor = 1024;
  while (whole >= 1024 && unit < 5) {
    whole /= 1024;
    divisor *= 1024;
    ++unit;
  }
  if (bytes % divisor == 0) return fmt::format("{} {}", bytes / divisor, kUnits[unit]);
  // Display only: the exact value is in the raw table and in JSON.
  return fmt::format("{:.1f} {}", static_cast<double>(bytes) / static_cast<double>(divisor),
                     kUnits[unit]);
}

std::string group_digits(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  out.reserve(digits.size() + digits.size() / 3);
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string key_hex(uint32_t key) { return fmt::format("0x{:08x}", key); }

std::string octal(uint32_t perms) { return fmt::format("{:03o}", perms & 07777); }

ProcessRef CommCache::ref(int64_t pid) {
  if (pid <= 0) return {pid, std::nullopt};
  auto it = cache_.find(pid);
  if (it == cache_.end()) {
    std::optional<std::string> comm;
    FileText f = read_small_file(fmt::format("{}/{}/comm", proc_, pid), 256);
    if (f.text) {
      std::string_view c = *f.text;
      if (!c.empty() && c.back() == '\n') c.remove_suffix(1);
      if (!c.empty()) comm = ipctop::sanitize(c);
    }
    it = cache_.emplace(pid, std::move(comm)).first;
  }
  return {pid, it->second};
}

std::string OwnerCache::name(uint32_t uid) {
  auto it = cache_.find(uid);
  if (it == cache_.end()) {
    std::optional<std::string> n;
    if (host_.user_name) n = host_.user_name(uid);
    it = cache_.emplace(uid, n && !n->empty() ? ipctop::sanitize(*n) : std::to_string(uid)).first;
  }
  return it->second;
}

}  // namespace ipctop::limits::detail
