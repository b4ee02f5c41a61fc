#include "model/Text.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>

namespace ipctop {
namespace {

// One step of strict UTF-8 decoding: `len` bytes starting at the current position form
// `cp`, or len == 0 when the byte there does not start a well-formed sequence.
struct Decoded {
  uint32_t cp = 0;
  std::size_t len = 0;
};

// Ranges follow Unicode Table 3-7 (well-formed byte sequences), which rules out overlong
// forms, surrogates and code points above U+10FFFF by construction.
Decoded decode(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return {b0, 1};
  std::size_t need = 0;
  uint32_t cp = 0;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
    cp = b0 & 0x1Fu;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    cp = b0 & 0x0Fu;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    cp = b0 & 0x07u;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return {};
  }
  if (s.size() - i <= need) return {};
  for (std::size_t k = 1; k <= need; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if (b < lo || b > hi) return {};
    lo = 0x80;
    hi = 0xBF;
    cp = (cp << 6) | (b & 0x3Fu);
  }
  return {cp, need + 1};
}

bool is_control(uint32_t cp) { return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F); }

bool is_bidi_control(uint32_t cp) {
  return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

bool needs_escape(const Decoded& d) {
  return d.len == 0 || is_control(d.cp) || is_bidi_control(d.cp);
}

constexpr char kHex[] = "0123456789abcdef";

void append_byte_escape(std::string& out, unsigned char b) {
  out += '\\';
  out += 'x';
  out += kHex[b >> 4];
  out += kHex[b & 0xF];
}

void append_code_point_escape(std::string& out, uint32_t cp) {
  out += '\\';
  out += 'u';
  for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(cp >> shift) & 0xF];
}

struct Range {
  uint32_t first;
  uint32_t last;
};

constexpr std::array kZeroWidth{
    Range{0x0300, 0x036F},   Range{0x0483, 0x0489},   Range{0x0591, 0x05BD},
    Range{0x05BF, 0x05BF},   Range{0x05C1, 0x05C2},   Range{0x05C4, 0x05C5},
    Range{0x05C7, 0x05C7},   Range{0x0610, 0x061A},   Range{0x064B, 0x065F},
    Range{0x0670, 0x0670},   Range{0x06D6, 0x06DC},   Range{0x06DF, 0x06E4},
    Range{0x06E7, 0x06E8},   Range{0x06EA, 0x06ED},   Range{0x0E31, 0x0E31},
    Range{0x0E34, 0x0E3A},   Range{0x0E47, 0x0E4E},   Range{0x1160, 0x11FF},
    Range{0x1AB0, 0x1AFF},   Range{0x1DC0, 0x1DFF},   Range{0x200B, 0x200F},
    Range{0x202A, 0x202E},   Range{0x2060, 0x2064},   Range{0x2066, 0x2069},
    Range{0x20D0, 0x20FF},   Range{0xFE00, 0xFE0F},   Range{0xFE20, 0xFE2F},
    Range{0xFEFF, 0xFEFF},   Range{0xE0001, 0xE0001}, Range{0xE0020, 0xE007F},
    Range{0xE0100, 0xE01EF},
};

constexpr std::array kWide{
    Range{0x1100, 0x115F},   Range{0x2E80, 0xA4CF},   Range{0xAC00, 0xD7A3},
    Range{0xF900, 0xFAFF},   Range{0xFE30, 0xFE4F},   Range{0xFF00, 0xFF60},
    Range{0xFFE0, 0xFFE6},   Range{0x1F300, 0x1F64F}, Range{0x1F680, 0x1F6FF},
    Range{0x1F900, 0x1F9FF}, Range{0x20000, 0x3FFFD},
};

template <std::size_t N>
bool in_table(const std::array<Range, N>& table, uint32_t cp) {
  const auto it = std::upper_bound(table.begin(), table.end(), cp,
                                   [](uint32_t c, const Range& r) { return c < r.first; });
  return it != table.begin() && cp <= std::prev(it)->last;
}

// Width of the unit decoded at some position; undecodable bytes count 1 because the caller
// should have replaced them by something visible anyway.
int unit_width(const Decoded& d) {
  if (d.len == 0) return 1;
  if (d.cp < 0x7F) return d.cp < 0x20 ? 0 : 1;
  if (is_control(d.cp)) return 0;
  if (in_table(kZeroWidth, d.cp)) return 0;
  if (in_table(kWide, d.cp)) return 2;
  return 1;
}

std::size_t first_dirty(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b >= 0x20 && b < 0x7F) {
      ++i;
      continue;
    }
    const Decoded d = decode(s, i);
    if (needs_escape(d)) return i;
    i += d.len;
  }
  return std::string_view::npos;
}

}  // namespace

bool is_clean(std::string_view text) { return first_dirty(text) == std::string_view::npos; }

std::string sanitize(std::string_view raw) {
  std::size_t i = first_dirty(raw);
  if (i == std::string_view::npos) return std::string(raw);
  std::string out;
  out.reserve(raw.size() + 16);
  out.append(raw.substr(0, i));
  while (i < raw.size()) {
    const Decoded d = decode(raw, i);
    if (d.len == 0) {
      // Escaping only the first byte lets decoding resynchronise on the next one, so a valid
      // character right after a truncated sequence survives.
      append_byte_escape(out, static_cast<unsigned char>(raw[i]));
      ++i;
    } else if (is_control(d.cp)) {
      for (std::size_t k = 0; k < d.len; ++k)
        append_byte_escape(out, static_cast<unsigned char>(raw[i + k]));
      i += d.len;
    } else if (is_bidi_control(d.cp)) {
      append_code_point_escape(out, d.cp);
      i += d.len;
    } else {
      out.append(raw.substr(i, d.len));
      i += d.len;
    }
  }
  return out;
}

int display_width(std::string_view utf8) {
  int width = 0;
  std::size_t i = 0;
  while (i < utf8.size()) {
    const Decoded d = decode(utf8, i);
    width += unit_width(d);
    i += d.len == 0 ? 1 : d.len;
  }
  return width;
}

std::string truncate_to_width(std::string_view utf8, int width) {
  if (width <= 0) return {};
  int used = 0;
  std::size_t i = 0;
  while (i < utf8.size()) {
    const Decoded d = decode(utf8, i);
    const int w = unit_width(d);
    if (used + w > width) break;
    used += w;
    i += d.len == 0 ? 1 : d.len;
  }
  return std::string(utf8.substr(0, i));
}

}  // namespace ipctop
