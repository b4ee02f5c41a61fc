#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

#include "limits/Internal.h"

namespace ipctop::limits::detail {
namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

TEST(LimitsFormat, HumanBytesPicksTheLargestUnitBelow1024) {
  EXPECT_EQ(human_bytes(0), "0 B");
  EXPECT_EQ(human_bytes(1023), "1023 B");
  EXPECT_EQ(human_bytes(1024), "1 KiB");
  EXPECT_EQ(human_bytes(1536), "1.5 KiB");
  EXPECT_EQ(human_bytes(4096), "4 KiB");
  EXPECT_EQ(human_bytes(8589934592), "8 GiB");
  EXPECT_EQ(human_bytes(uint64_t{4194304} * 4096), "16 GiB");
  EXPECT_EQ(human_bytes(25276502016), "23.5 GiB");
  EXPECT_EQ(human_bytes(uint64_t{1} << 60), "1 EiB");
  EXPECT_EQ(human_bytes(kMax), "16.0 EiB");
}

TEST(LimitsFormat, GroupDigits) {
  EXPECT_EQ(group_digits(0), "0");
  EXPECT_EQ(group_digits(999), "999");
  EXPECT_EQ(group_digits(1000), "1,000");
  EXPECT_EQ(group_digits(1024000000), "1,024,000,000");
  EXPECT_EQ(group_digits(kMax), "18,446,744,073,709,551,615");
}

TEST(LimitsFormat, KeyAndPerms) {
  EXPECT_EQ(key_hex(0), "0x00000000");
  EXPECT_EQ(key_hex(static_cast<uint32_t>(-166742435)), "0xf60fb65d");
  EXPECT_EQ(octal(0644), "644");
  EXPECT_EQ(octal(0), "000");
}

TEST(LimitsFormat, ParseU64IsStrictAndExact) {
  EXPECT_EQ(parse_u64("0"), uint64_t{0});
  EXPECT_EQ(parse_u64("18446744073692774399"), uint64_t{18446744073692774399u});
  EXPECT_EQ(parse_u64("18446744073709551615"), kMax);
  EXPECT_FALSE(parse_u64("18446744073709551616"));  // overflow
  EXPECT_FALSE(parse_u64(""));
  EXPECT_FALSE(parse_u64("-1"));
  EXPECT_FALSE(parse_u64("+1"));
  EXPECT_FALSE(parse_u64(" 1"));
  EXPECT_FALSE(parse_u64("1 2"));
  EXPECT_FALSE(parse_u64("0x10"));
  EXPECT_FALSE(parse_u64("12abc"));
}

TEST(LimitsFormat, ParseI64AcceptsNegativeSysvKeys) {
  EXPECT_EQ(parse_i64("-166742435"), int64_t{-166742435});
  EXPECT_FALSE(parse_i64("--1"));
  EXPECT_FALSE(parse_i64(""));
}

TEST(LimitsFormat, CheckedMulReportsOverflow) {
  EXPECT_EQ(checked_mul(4194304, 4096), uint64_t{17179869184});
  EXPECT_FALSE(checked_mul(18446744073692774399u, 4096));
  EXPECT_EQ(checked_mul(kMax, 1), kMax);
}

TEST(LimitsFormat, Trim) {
  EXPECT_EQ(trim(" \t4096\n"), "4096");
  EXPECT_EQ(trim("\n\n"), "");
}

}  // namespace
}  // namespace ipctop::limits::detail
