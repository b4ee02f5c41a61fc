// decode_record: every ring-buffer record is checked against its declared
// type and size before any field is read.
#include "model/Decode.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "ipctop/abi.h"

namespace {

using ipctop::decode_record;
using ipctop::TaskRecord;

std::vector<unsigned char> Bytes(const ipctop_rec_task& r) {
  std::vector<unsigned char> b(sizeof(r));
  std::memcpy(b.data(), &r, sizeof(r));
  return b;
}

ipctop_rec_task MakeTask(uint16_t type, const char* comm = "worker") {
  ipctop_rec_task r;
  std::memset(&r, 0, sizeof(r));
  r.hdr.type = type;
  r.hdr.size = sizeof(r);
  r.hdr.cpu = 3;
  r.hdr.ts_ns = 0x0123456789abcdefull;
  r.hdr.tgid = 1000;
  r.hdr.tid = 1001;
  r.ppid = 1;
  std::strncpy(r.comm, comm, sizeof(r.comm));
  return r;
}

std::optional<TaskRecord> Decode(const std::vector<unsigned char>& b) {
  return decode_record(b.data(), b.size());
}

TEST(DecodeLayout, AbiSizes) {
  EXPECT_EQ(sizeof(ipctop_rec_hdr), 24u);
  EXPECT_EQ(sizeof(ipctop_rec_task), 48u);
  EXPECT_EQ(offsetof(ipctop_rec_hdr, size), 2u);
  EXPECT_EQ(offsetof(ipctop_rec_task, comm), 32u);
}

TEST(DecodeValid, EveryType) {
  const uint16_t types[] = {IPCTOP_REC_TASK_NEW, IPCTOP_REC_TASK_EXEC, IPCTOP_REC_TASK_EXIT,
                            IPCTOP_REC_TASK_RENAME};
  for (uint16_t type : types) {
    SCOPED_TRACE(type);
    auto r = Decode(Bytes(MakeTask(type)));
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->type, type);
    EXPECT_EQ(r->tgid, 1000u);
    EXPECT_EQ(r->tid, 1001u);
    EXPECT_EQ(r->ppid, 1u);
    EXPECT_EQ(r->cpu, 3u);
    EXPECT_EQ(r->ts_ns, 0x0123456789abcdefull);
    EXPECT_EQ(r->comm, "worker");
  }
}

TEST(DecodeValid, ExtremeFieldValues) {
  ipctop_rec_task t = MakeTask(IPCTOP_REC_TASK_NEW, "");
  t.hdr.cpu = UINT32_MAX;
  t.hdr.ts_ns = UINT64_MAX;
  t.hdr.tgid = UINT32_MAX;
  t.hdr.tid = 0;
  t.ppid = UINT32_MAX;
  t.pad = 0xdeadbeef;  // ignored
  auto r = Decode(Bytes(t));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->cpu, UINT32_MAX);
  EXPECT_EQ(r->ts_ns, UINT64_MAX);
  EXPECT_EQ(r->tgid, UINT32_MAX);
  EXPECT_EQ(r->tid, 0u);
  EXPECT_EQ(r->ppid, UINT32_MAX);
  EXPECT_EQ(r->comm, "");
}

TEST(DecodeValid, UnalignedBuffer) {
  auto rec = Bytes(MakeTask(IPCTOP_REC_TASK_EXEC, "sh"));
  std::vector<unsigned char> buf(rec.size() + 1);
  std::memcpy(buf.data() + 1, rec.data(), rec.size());
  auto r = decode_record(buf.data() + 1, rec.size());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->comm, "sh");
  EXPECT_EQ(r->ts_ns, 0x0123456789abcdefull);
}

TEST(DecodeComm, StopsAtTheFirstNul) {
  ipctop_rec_task t = MakeTask(IPCTOP_REC_TASK_RENAME);
  std::memset(t.comm, 0, sizeof(t.comm));
  std::memcpy(t.comm, "ab\0cd", 5);
  auto r = Decode(Bytes(t));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->comm, "ab");
}

TEST(DecodeComm, SixteenBytesWithoutNul) {
  ipctop_rec_task t = MakeTask(IPCTOP_REC_TASK_RENAME);
  std::memcpy(t.comm, "0123456789abcdef", 16);  // fills comm, no terminator
  auto b = Bytes(t);
  auto r = Decode(b);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->comm, "0123456789abcdef");
  EXPECT_EQ(r->comm.size(), 16u);
}

TEST(DecodeComm, HostileBytesAreKeptRaw) {
  ipctop_rec_task t = MakeTask(IPCTOP_REC_TASK_RENAME);
  const char hostile[16] = {'\x1b', '[', '3', '1', 'm', '\xff', '\xfe', '\x7f',
                            '\x9b', '\xc2', '\x9b', '\n', '\r', '\x07', '"', '\\'};
  std::memcpy(t.comm, hostile, 16);
  auto r = Decode(Bytes(t));
  ASSERT_TRUE(r.has_value());
  ASSERT_EQ(r->comm.size(), 16u);
  EXPECT_EQ(0, std::memcmp(r->comm.data(), hostile, 16))
      << "the decoder must not sanitize: renderers do, at output";
}

TEST(DecodeInvalid, NullAndEmpty) {
  EXPECT_FALSE(decode_record(nullptr, 0).has_value());
  EXPECT_FALSE(decode_record(nullptr, sizeof(ipctop_rec_task)).has_value());
  unsigned char one = 0;
  EXPECT_FALSE(decode_record(&one, 0).has_value());
}

TEST(DecodeInvalid, Truncated) {
  auto full = Bytes(MakeTask(IPCTOP_REC_TASK_NEW));
  for (size_t n = 0; n < full.size(); ++n) {
    SCOPED_TRACE(n);
    // The buffer is cut short but still says 48.
    std::vector<unsigned char> cut(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_FALSE(Decode(cut).has_value());
    // The buffer is cut short and its size field agrees with the cut.
    if (n >= sizeof(ipctop_rec_hdr)) {
      uint16_t sz = static_cast<uint16_t>(n);
      std::memcpy(cut.data() + offsetof(ipctop_rec_hdr, size), &sz, sizeof(sz));
      EXPECT_FALSE(Decode(cut).has_value());
    }
  }
}

TEST(DecodeInvalid, TooLong) {
  for (size_t extra : {1u, 8u, 16u, 4096u}) {
    SCOPED_TRACE(extra);
    auto b = Bytes(MakeTask(IPCTOP_REC_TASK_EXIT));
    b.resize(b.size() + extra, 0xaa);
    // Size field says 48, the buffer is longer.
    EXPECT_FALSE(Decode(b).has_value());
    // Size field agrees with the longer buffer: still not a task record.
    if (b.size() <= UINT16_MAX) {
      uint16_t sz = static_cast<uint16_t>(b.size());
      std::memcpy(b.data() + offsetof(ipctop_rec_hdr, size), &sz, sizeof(sz));
      EXPECT_FALSE(Decode(b).has_value());
    }
  }
}

TEST(DecodeInvalid, SizeFieldMismatch) {
  const uint16_t sizes[] = {0, 1, 24, 40, 47, 49, 64, 0xffff};
  for (uint16_t declared : sizes) {
    SCOPED_TRACE(declared);
    ipctop_rec_task t = MakeTask(IPCTOP_REC_TASK_NEW);
    t.hdr.size = declared;
    EXPECT_FALSE(Decode(Bytes(t)).has_value());
  }
}

TEST(DecodeInvalid, UnknownType) {
  const uint16_t types[] = {0, 5, 6, 0x100, 0x8001, 0xffff};
  for (uint16_t type : types) {
    SCOPED_TRACE(type);
    EXPECT_FALSE(Decode(Bytes(MakeTask(type))).has_value());
  }
}

TEST(DecodeInvalid, HeaderOnlyOfAValidType) {
  ipctop_rec_hdr h{};
  h.type = IPCTOP_REC_TASK_NEW;
  h.size = sizeof(h);
  EXPECT_FALSE(decode_record(&h, sizeof(h)).has_value());
}

// Independent statement of what a valid record is.
bool IsValid(const unsigned char* p, size_t n) {
  if (n != sizeof(ipctop_rec_task)) return false;
  uint16_t type = static_cast<uint16_t>(p[0] | (p[1] << 8));
  uint16_t size = static_cast<uint16_t>(p[2] | (p[3] << 8));
  return size == n && type >= IPCTOP_REC_TASK_NEW && type <= IPCTOP_REC_TASK_RENAME;
}

TEST(DecodeFuzz, RandomBytesNeverCrashAndOnlyValidRecordsPass) {
  std::mt19937_64 rng(0x1f2e3d4c5b6a7988ull);  // deterministic
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> mode(0, 3);
  size_t accepted = 0;
  size_t valid = 0;
  for (int it = 0; it < 100000; ++it) {
    size_t len;
    switch (mode(rng)) {
      case 0: len = rng() % 128; break;                          // anything
      case 1: len = sizeof(ipctop_rec_task); break;              // the right length
      case 2: len = sizeof(ipctop_rec_task) - 1 + rng() % 3; break;  // off by one
      default: len = rng() % (sizeof(ipctop_rec_hdr) + 1); break;  // around the header
    }
    // Heap buffer of exactly `len` bytes so ASan sees any overread.
    std::unique_ptr<unsigned char[]> buf(new unsigned char[len ? len : 1]);
    for (size_t i = 0; i < len; ++i) buf[i] = static_cast<unsigned char>(byte(rng));
    // Half of the time make the header plausible, so the checks after the
    // header are reached too.
    if (len >= 4 && (rng() & 1)) {
      uint16_t type = static_cast<uint16_t>(rng() % 7);
      uint16_t size = (rng() & 3) ? static_cast<uint16_t>(len) : static_cast<uint16_t>(rng());
      std::memcpy(buf.get(), &type, 2);
      std::memcpy(buf.get() + 2, &size, 2);
    }
    auto r = decode_record(buf.get(), len);
    bool ok = IsValid(buf.get(), len);
    valid += ok;
    ASSERT_EQ(r.has_value(), ok) << "iteration " << it << " length " << len;
    if (!r) continue;
    ++accepted;
    ipctop_rec_task t;
    std::memcpy(&t, buf.get(), sizeof(t));
    EXPECT_EQ(r->type, t.hdr.type);
    EXPECT_EQ(r->tgid, t.hdr.tgid);
    EXPECT_EQ(r->tid, t.hdr.tid);
    EXPECT_EQ(r->cpu, t.hdr.cpu);
    EXPECT_EQ(r->ts_ns, t.hdr.ts_ns);
    EXPECT_EQ(r->ppid, t.ppid);
    ASSERT_LE(r->comm.size(), size_t{IPCTOP_COMM_LEN});
    EXPECT_EQ(r->comm, std::string(t.comm, strnlen(t.comm, sizeof(t.comm))));
  }
  // The fuzzer did reach the accepting path, many times.
  EXPECT_EQ(accepted, valid);
  EXPECT_GT(accepted, 1000u);
}

}  // namespace
