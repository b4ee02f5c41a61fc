#include "render/tui/Format.h"

#include <cmath>

#include <fmt/format.h>

namespace ipctop::tui {

namespace {

std::string scaled(double v, double base, const char* const* units, int n_units, const char* sep) {
  int u = 0;
  while (std::fabs(v) >= base * 0.9995 && u + 1 < n_units) {
    v /= base;
    ++u;
  }
  if (u == 0) return fmt::format("{:.0f}{}{}", v, units[0][0] ? sep : "", units[0]);
  if (v >= 99.95) return fmt::format("{:.0f}{}{}", v, sep, units[u]);
  return fmt::format("{:.1f}{}{}", v, sep, units[u]);
}

constexpr const char* kBytes[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
constexpr const char* kCounts[] = {"", "k", "M", "G", "T"};

}  // namespace

std::string bytes_rate(double per_s, bool raw) {
  if (!std::isfinite(per_s)) return "-";
  if (raw) return fmt::format("{:.0f}", per_s);
  if (per_s < 0.5) return "0";
  return scaled(per_s, 1024, kBytes, 6, " ");
}

std::string count_rate(double per_s, bool raw) {
  if (!std::isfinite(per_s)) return "-";
  if (raw) return fmt::format("{:.0f}", per_s);
  // Below 10/s a fraction matters: 1 message in a 2 s interval is 0.5/s, not 0.
  if (per_s < 9.95 && std::fabs(per_s - std::round(per_s)) >= 0.05)
    return fmt::format("{:.1f}", per_s);
  if (per_s < 999.5) return fmt::format("{:.0f}", per_s);
  return scaled(per_s, 1000, kCounts, 5, "");
}

std::string bytes(uint64_t n, bool raw) {
  if (raw) return fmt::format("{}", n);
  return scaled(static_cast<double>(n), 1024, kBytes, 6, " ");
}

std::string percent(double pct) {
  if (!std::isfinite(pct)) return "-";
  return fmt::format("{:.1f}", pct);
}

std::string micros(uint64_t us) {
  if (us < 1000) return fmt::format("{}us", us);
  if (us < 1000000) return fmt::format("{:.1f}ms", static_cast<double>(us) / 1e3);
  return fmt::format("{:.2f}s", static_cast<double>(us) / 1e6);
}

std::string uptime(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  auto s = static_cast<uint64_t>(seconds);
  uint64_t days = s / 86400;
  s %= 86400;
  std::string hms = fmt::format("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
  return days ? fmt::format("{}d {}", days, hms) : hms;
}

}  // namespace ipctop::tui
