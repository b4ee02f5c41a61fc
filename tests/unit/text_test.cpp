#include "model/Text.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>

namespace {

using ipctop::display_width;
using ipctop::is_clean;
using ipctop::sanitize;
using ipctop::truncate_to_width;

// Independent of the implementation on purpose: a strict validator written from the
// Unicode definition of well-formed UTF-8 (scalar values, shortest form).
bool is_valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    uint32_t cp = 0;
    if (b < 0x80) {
      len = 1;
      cp = b;
    } else if ((b & 0xE0) == 0xC0) {
      len = 2;
      cp = b & 0x1Fu;
    } else if ((b & 0xF0) == 0xE0) {
      len = 3;
      cp = b & 0x0Fu;
    } else if ((b & 0xF8) == 0xF0) {
      len = 4;
      cp = b & 0x07u;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3Fu);
    }
    const uint32_t min_for_len[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_for_len[len]) return false;
    if (cp > 0x10FFFF) return false;
    if (cp >= 0xD800 && cp <= 0xDFFF) return false;
    i += len;
  }
  return true;
}

// Nothing a terminal would act on may survive: C0, DEL, C1 (as raw bytes or as U+0080..9F),
// and bidi overrides.
bool has_terminal_controls(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x20 || b == 0x7F) return true;
    if (b == 0xC2 && i + 1 < s.size()) {
      const auto c = static_cast<unsigned char>(s[i + 1]);
      if (c >= 0x80 && c <= 0x9F) return true;
    }
    if (b == 0xE2 && i + 2 < s.size()) {
      const auto c1 = static_cast<unsigned char>(s[i + 1]);
      const auto c2 = static_cast<unsigned char>(s[i + 2]);
      if (c1 == 0x80 && c2 >= 0xAA && c2 <= 0xAE) return true;
      if (c1 == 0x81 && c2 >= 0xA6 && c2 <= 0xA9) return true;
    }
  }
  return false;
}

void expect_safe(std::string_view raw) {
  const std::string out = sanitize(raw);
  EXPECT_TRUE(is_valid_utf8(out)) << out;
  EXPECT_FALSE(has_terminal_controls(out)) << out;
  EXPECT_TRUE(is_clean(out)) << out;
  EXPECT_EQ(sanitize(out), out);
  EXPECT_EQ(is_clean(raw), out == raw);
}

struct Case {
  const char* what;
  std::string raw;
  std::string expected;
};

class SanitizeCases : public testing::TestWithParam<Case> {};

TEST_P(SanitizeCases, RendersOffendingBytesVisibly) {
  const Case& c = GetParam();
  EXPECT_EQ(sanitize(c.raw), c.expected);
  expect_safe(c.raw);
}

using namespace std::string_literals;

// One case per line reads better than any wrapping.
// clang-format off
INSTANTIATE_TEST_SUITE_P(
    Text, SanitizeCases,
    testing::Values(
        Case{"clear_screen", "\x1b[2Jhi", "\\x1b[2Jhi"},
        Case{"osc0_title", "\x1b]0;owned\x07rest", "\\x1b]0;owned\\x07rest"},
        Case{"osc52_clipboard", "\x1b]52;c;cm0gLXJmIH4=\x1b\\", "\\x1b]52;c;cm0gLXJmIH4=\\x1b\\"},
        Case{"bel", "a\ab", "a\\x07b"},
        Case{"cr", "a\rb", "a\\x0db"},
        Case{"lf", "a\nb", "a\\x0ab"},
        Case{"tab", "a\tb", "a\\x09b"},
        Case{"backspace", "abc\b\b\bxyz", "abc\\x08\\x08\\x08xyz"},
        Case{"del", "a\x7f" "b", "a\\x7fb"},
        Case{"nul", "a\0b"s, "a\\x00b"},
        Case{"c1_csi_raw_byte", "a\x9b" "2J", "a\\x9b2J"},
        Case{"c1_csi_encoded", "a\xc2\x9b" "2J", "a\\xc2\\x9b2J"},
        Case{"c1_first_and_last", "\xc2\x80\xc2\x9f", "\\xc2\\x80\\xc2\\x9f"},
        Case{"nbsp_is_not_c1", "a\xc2\xa0" "b", "a\xc2\xa0" "b"},
        Case{"invalid_ff", "a\xff" "b", "a\\xffb"},
        Case{"invalid_fe_c1_f5", "\xfe\xc1\xf5", "\\xfe\\xc1\\xf5"},
        Case{"truncated_at_end", "x\xe2\x82", "x\\xe2\\x82"},
        Case{"truncated_then_ascii", "\xe2\x82" "A", "\\xe2\\x82A"},
        Case{"truncated_then_valid", "\xe2\xe4\xb8\xad", "\\xe2\xe4\xb8\xad"},
        Case{"stray_continuation", "\x80\xbf", "\\x80\\xbf"},
        Case{"overlong_nul", "\xc0\x80", "\\xc0\\x80"},
        Case{"overlong_slash_3byte", "\xe0\x80\xaf", "\\xe0\\x80\\xaf"},
        Case{"overlong_4byte", "\xf0\x8f\xbf\xbf", "\\xf0\\x8f\\xbf\\xbf"},
        Case{"surrogate_high", "\xed\xa0\x80", "\\xed\\xa0\\x80"},
        Case{"surrogate_low", "\xed\xbf\xbf", "\\xed\\xbf\\xbf"},
        Case{"last_before_surrogates", "\xed\x9f\xbf", "\xed\x9f\xbf"},
        Case{"above_10ffff", "\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"},
        Case{"max_code_point", "\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"},
        Case{"rlo", "abc\xe2\x80\xae" "fdp.exe", "abc\\u202efdp.exe"},
        Case{"lre_lro_pdf", "\xe2\x80\xaa\xe2\x80\xad\xe2\x80\xac", "\\u202a\\u202d\\u202c"},
        Case{"isolates", "\xe2\x81\xa6x\xe2\x81\xa9", "\\u2066x\\u2069"},
        Case{"zero_width_space_kept", "a\xe2\x80\x8b" "b", "a\xe2\x80\x8b" "b"},
        Case{"lrm_kept", "a\xe2\x80\x8e", "a\xe2\x80\x8e"},
        Case{"backslash_kept", "C:\\x1b\\path", "C:\\x1b\\path"},
        Case{"cjk", "\xe8\xbf\x9b\xe7\xa8\x8b", "\xe8\xbf\x9b\xe7\xa8\x8b"},
        Case{"emoji", "\xf0\x9f\x9a\x80\xf0\x9f\x98\x80", "\xf0\x9f\x9a\x80\xf0\x9f\x98\x80"},
        Case{"empty", "", ""},
        Case{"comm15_clean", "kworker/u8:3-ev", "kworker/u8:3-ev"},
        Case{"comm15_hostile", "\x1b[2J\x1b[H\x1b]0;xyz\x07", "\\x1b[2J\\x1b[H\\x1b]0;xyz\\x07"},
        Case{"comm15_cut_utf8", "abcdefghijklm\xe4\xb8", "abcdefghijklm\\xe4\\xb8"}),
    [](const testing::TestParamInfo<Case>& p) { return std::string(p.param.what); });
// clang-format on

TEST(TextSanitize, CleanInputIsReturnedUnchanged) {
  for (std::string_view s :
       {"", "bash", "/run/user/1000/my socket", "\xe4\xb8\xad", "a\\b", "\xf0\x9f\x98\x80 ok"}) {
    EXPECT_TRUE(is_clean(s)) << s;
    EXPECT_EQ(sanitize(s), s);
  }
}

TEST(TextSanitize, IsCleanMatchesSanitizeOnEverySingleByte) {
  for (int b = 0; b < 256; ++b) {
    const std::string s(1, static_cast<char>(b));
    EXPECT_EQ(is_clean(s), sanitize(s) == s) << b;
    EXPECT_EQ(is_clean(s), b >= 0x20 && b < 0x7F) << b;
  }
}

TEST(TextSanitize, EveryTwoByteSequenceComesOutSafe) {
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      std::string s;
      s += static_cast<char>(a);
      s += static_cast<char>(b);
      const std::string out = sanitize(s);
      ASSERT_TRUE(is_valid_utf8(out)) << a << ' ' << b;
      ASSERT_FALSE(has_terminal_controls(out)) << a << ' ' << b;
      ASSERT_EQ(is_clean(s), out == s) << a << ' ' << b;
    }
  }
}

TEST(TextSanitize, RandomBytesComeOutSafeAndStable) {
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> length(0, 40);
  for (int iter = 0; iter < 20000; ++iter) {
    std::string s;
    const int n = length(rng);
    for (int k = 0; k < n; ++k) {
      // Bias towards the interesting lead bytes so multi-byte paths get exercised.
      const int pick = byte(rng);
      s += static_cast<char>(pick < 64 ? 0xE0 + pick % 21 : byte(rng));
    }
    const std::string out = sanitize(s);
    ASSERT_TRUE(is_valid_utf8(out));
    ASSERT_FALSE(has_terminal_controls(out));
    ASSERT_EQ(sanitize(out), out);
    ASSERT_EQ(is_clean(s), out == s);
    if (is_valid_utf8(s) && !has_terminal_controls(s)) {
      ASSERT_EQ(out, s);
    }
  }
}

TEST(TextWidth, Ascii) {
  EXPECT_EQ(display_width(""), 0);
  EXPECT_EQ(display_width("bash"), 4);
  EXPECT_EQ(display_width("\\x1b[2J"), 7);
}

TEST(TextWidth, WideAndZeroWidth) {
  EXPECT_EQ(display_width("\xe4\xb8\xad\xe6\x96\x87"), 4);  // 中文
  EXPECT_EQ(display_width("\xed\x95\x9c"), 2);              // 한 (U+D55C)
  EXPECT_EQ(display_width("\xef\xbc\xa1"), 2);              // fullwidth A
  EXPECT_EQ(display_width("\xf0\x9f\x98\x80"), 2);          // U+1F600
  EXPECT_EQ(display_width("\xf0\x9f\xa4\x94"), 2);          // U+1F914
  EXPECT_EQ(display_width("\xf0\xa0\x80\x80"), 2);          // U+20000
  EXPECT_EQ(display_width("e\xcc\x81"), 1);                 // e + U+0301
  EXPECT_EQ(display_width("a\xe2\x80\x8b"
                          "b"),
            2);                                 // U+200B
  EXPECT_EQ(display_width("\xc3\xa9"), 1);      // é precomposed
  EXPECT_EQ(display_width("\xe2\x82\xac"), 1);  // €
}

TEST(TextWidth, InvalidBytesCountOneEach) {
  EXPECT_EQ(display_width("\xff\xfe"), 2);
  EXPECT_EQ(display_width("\xe2\x82"), 2);
}

TEST(TextTruncate, KeepsWholeCodePoints) {
  EXPECT_EQ(truncate_to_width("bash", 10), "bash");
  EXPECT_EQ(truncate_to_width("bash", 4), "bash");
  EXPECT_EQ(truncate_to_width("bash", 2), "ba");
  EXPECT_EQ(truncate_to_width("bash", 0), "");
  EXPECT_EQ(truncate_to_width("bash", -3), "");
  EXPECT_EQ(truncate_to_width("", 5), "");
  EXPECT_EQ(truncate_to_width("\xc3\xa9t\xc3\xa9", 2), "\xc3\xa9t");
}

TEST(TextTruncate, NeverSplitsAWideCharacter) {
  const std::string cjk = "\xe4\xb8\xad\xe6\x96\x87\xe5\xad\x97";  // 3 chars, width 6
  EXPECT_EQ(truncate_to_width(cjk, 6), cjk);
  EXPECT_EQ(truncate_to_width(cjk, 5), "\xe4\xb8\xad\xe6\x96\x87");
  EXPECT_EQ(truncate_to_width(cjk, 4), "\xe4\xb8\xad\xe6\x96\x87");
  EXPECT_EQ(truncate_to_width(cjk, 1), "");
  EXPECT_EQ(truncate_to_width("a\xf0\x9f\x98\x80"
                              "b",
                              2),
            "a");
  EXPECT_EQ(truncate_to_width("a\xf0\x9f\x98\x80"
                              "b",
                              3),
            "a\xf0\x9f\x98\x80");
}

TEST(TextTruncate, CombiningMarksStayWithTheirBase) {
  EXPECT_EQ(truncate_to_width("e\xcc\x81"
                              "x",
                              1),
            "e\xcc\x81");
  EXPECT_EQ(truncate_to_width("ab\xcc\x81", 1), "a");
}

TEST(TextTruncate, ResultIsAPrefixWithinWidthForAllWidths) {
  const std::string s = "ipc\xe4\xb8\xad\xcc\x81\xf0\x9f\x98\x80-x\xe2\x80\x8b\xef\xbc\xa1";
  for (int w = 0; w <= display_width(s) + 1; ++w) {
    const std::string t = truncate_to_width(s, w);
    EXPECT_EQ(s.compare(0, t.size(), t), 0) << w;
    EXPECT_LE(display_width(t), w);
    EXPECT_TRUE(is_valid_utf8(t)) << w;
  }
  EXPECT_EQ(truncate_to_width(s, display_width(s)), s);
}

TEST(TextTruncate, SanitizedHostileNameFitsColumn) {
  const std::string shown = sanitize("\x1b[2J) x (evil");
  EXPECT_EQ(shown, "\\x1b[2J) x (evil");
  EXPECT_EQ(truncate_to_width(shown, 8), "\\x1b[2J)");
}

}  // namespace
