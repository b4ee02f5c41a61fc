// Test helper shared by the --help and man page checks.
#pragma once

#include <set>
#include <string>

// The tokens "--[a-z][a-z-]*" of `text` (hand-written: std::regex trips
// GCC 12's -Wmaybe-uninitialized under the sanitizers).
inline std::set<std::string> long_options_in(const std::string& text) {
  std::set<std::string> out;
  auto lower = [](char c) { return c >= 'a' && c <= 'z'; };
  for (size_t i = 0; i + 2 < text.size(); ++i) {
    if (text[i] != '-' || text[i + 1] != '-' || !lower(text[i + 2])) continue;
    size_t end = i + 2;
    while (end < text.size() && (lower(text[end]) || text[end] == '-')) ++end;
    out.insert(text.substr(i, end - i));
    i = end - 1;
  }
  return out;
}
