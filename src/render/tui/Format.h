// Numbers as the TUI prints them: human units by default, exact with --raw.
#pragma once

#include <cstdint>
#include <string>

namespace ipctop::tui {

// Bytes per second: "0", "512 B", "12.3 KiB", "1.5 MiB" ... (the column says /s);
// raw: the whole number of bytes per second.
std::string bytes_rate(double per_s, bool raw);
// A count per second: "0", "950", "12.3k", "4.1M"; raw: the whole number.
std::string count_rate(double per_s, bool raw);
// Bytes: "512 B", "64.0 KiB"; raw: the number.
std::string bytes(uint64_t n, bool raw);
// A percentage with one decimal, "-" when not finite.
std::string percent(double pct);
// Microseconds as "850us", "12.5ms", "1.20s".
std::string micros(uint64_t us);
// Seconds as "3d 04:05:06" / "04:05:06".
std::string uptime(double seconds);

}  // namespace ipctop::tui
