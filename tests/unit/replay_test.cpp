// Record and replay: the JSON -> Snapshot parser (a round trip gives the
// same bytes), the recording files (created safely, plain or gzip) and the
// reader (every error names the file, the line and the key).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <variant>
#include <vector>

#include "model/Text.h"
#include "record/OutputFile.h"
#include "record/Replay.h"
#include "render/json/Json.h"
#include "render/json/JsonParse.h"

namespace {

using namespace ipctop;
using record::OutputFile;
using record::Replay;

constexpr uint64_t kU64Max = 18446744073709551615ull;
constexpr uint64_t kTwoTo53Plus1 = 9007199254740993ull;
const std::string kHostile = "\x1b[31m\"evil\\\xff\n\xe2\x80\xae";

// Every field of the Snapshot filled, the JSON ones with hostile strings and
// integers a double cannot hold. The fields the JSON does not carry yet are
// filled too: when a renderer starts writing one, the round trip below fails
// until from_json reads it back.
Snapshot full_snapshot(uint32_t seed) {
  Snapshot s;
  s.time = 1795479881.0816524 + seed;
  s.interval_s = 1.0015480670003853;
  CpuRow cpu{seed, kU64Max, kTwoTo53Plus1, 7, 989045603, 14, 0, 3, {}};
  cpu.runq_latency = {5, 1, 2, 3, {{1, 2}, {4, 3}}};
  s.cpus = {cpu, CpuRow{seed + 1, 1, 1, 0, 0, 0, kU64Max}};
  ThreadRow t;
  t.tid = 4194304;
  t.comm = kHostile;
  t.ctx_switches = kU64Max;
  t.voluntary = kTwoTo53Plus1;
  t.involuntary = 1;
  t.oncpu_ns = 171254;
  t.tx_bytes = 14;
  t.rx_bytes = kU64Max;
  t.tx_messages = 1;
  t.rx_messages = 2;
  t.cpus_used = {0, 1};
  t.migrations = 4;
  t.exited = true;
  ProcessRow p;
  p.pid = 4194304;
  p.ppid = 1;
  p.comm = kHostile;
  p.cmdline = {"/bin/sh", "-c", kHostile, ""};
  p.threads = {t, ThreadRow{}};
  p.tx_bytes = 14;
  p.rx_bytes = kTwoTo53Plus1;
  p.oncpu_ns = 9;
  p.parallelism = 0.5;
  p.exited = true;
  s.processes = {p, ProcessRow{}};
  ChannelRow c;
  c.id = "unix:[" + kHostile + "]";
  c.kind = Kind::unix_dgram;
  c.path = "/tmp/" + kHostile;
  c.bytes = kU64Max;
  c.messages = 3;
  c.endpoints = {{1, 2, "sender"}, {3, 4, "receiver"}};
  s.channels = {c, ChannelRow{"pipe:[1]", Kind::pipe}};
  for (uint8_t k = static_cast<uint8_t>(Kind::pipe); k <= static_cast<uint8_t>(Kind::signal); ++k) {
    FlowRow f;
    f.kind = static_cast<Kind>(k);
    f.channel = c.id;
    f.src = {10, 11, kHostile, {}};
    f.dst = {0, 0, "(unknown)", {}};
    f.bytes = kU64Max - k;
    f.messages = kTwoTo53Plus1;
    f.cpus = {{0, 1}, {4294967295u, kU64Max}};
    f.rx_cpus = {{2, 3}};
    s.flows.push_back(f);
  }
  s.flows.push_back(FlowRow{});
  // The fields the other issues added: a remote peer, a measured wakeup
  // latency, a signal by name, a shared memory segment, scheduler figures.
  s.flows[5].dst = {0, 0, {}, "[::1]:" + kHostile};
  s.flows[2].wakeup_latency = LatencyRow{3, 4, 8, 9, {{4, 2}, {16, 1}}};
  s.flows[12].signo = 10;
  s.flows[12].signals_coalesced = kU64Max;
  ChannelRow shm{"sysv_shm:7", Kind::sysv_shm};
  shm.size = kTwoTo53Plus1;
  shm.shm_key = 0xdeadbeef;
  shm.shmid = 7;
  shm.creator = 4194304;
  shm.removed = true;
  shm.queued = 1;
  shm.capacity = kU64Max;
  shm.endpoints = {{1, 1, "attached"}};
  s.channels.push_back(shm);
  s.processes[0].busy_ns = 123456789;
  s.processes[0].concurrent_ns = 1000;
  s.processes[0].handoffs = 3;
  s.processes[0].cpus_used = {1};
  s.processes[0].runq_latency = {1, 2, 2, 2, {{2, 1}}};
  s.matrix = {{0, 1, kU64Max, 2}, {1, 0, 0, 0}};
  s.wakeups = {{{10, 11, kHostile, {}}, {0, 0, "(interrupt)", {}}, kTwoTo53Plus1, 1}};
  s.apps = {{kHostile, 10, {{10, "browser"}, {11, kHostile}}, 5, kU64Max}};
  s.unattributed_bytes = kU64Max;
  s.unattributed_messages = 5;
  s.lost.events = kU64Max;
  s.lost.by_point = {{"flow_map_full", 1}, {"ringbuf_full", kU64Max}, {"failure_map_full", 0}};
  FailureRow f;
  f.syscall = "shmget";
  f.err = "EINVAL";
  f.pid = 7;
  f.tid = 8;
  f.comm = kHostile;
  f.count = kU64Max;
  f.diagnosis = {"kernel.shmmax", "requested " + kHostile, "sysctl -w kernel.shmmax=2097152"};
  FailureRow shrunk;
  shrunk.syscall = "pipe2";
  shrunk.diagnosis = {std::nullopt, "", std::nullopt};
  shrunk.blocked = true;
  s.failures = {f, shrunk};
  return s;
}

std::string ndjson(const Snapshot& s) {
  std::ostringstream out;
  render::write_ndjson(s, out);
  return out.str();
}

Snapshot parse_ok(const std::string& line) {
  auto r = render::from_json_line(line);
  if (auto* err = std::get_if<render::ParseError>(&r)) {
    ADD_FAILURE() << err->message;
    return {};
  }
  return std::get<Snapshot>(r);
}

std::string parse_error(const std::string& line) {
  auto r = render::from_json_line(line);
  if (auto* err = std::get_if<render::ParseError>(&r)) return err->message;
  ADD_FAILURE() << "accepted: " << line.substr(0, 200);
  return {};
}

TEST(JsonParse, RoundTripIsByteIdentical) {
  for (uint32_t seed : {0u, 1u, 4094u}) {
    const std::string line = ndjson(full_snapshot(seed));
    std::string again = ndjson(parse_ok(line.substr(0, line.size() - 1)));
    EXPECT_EQ(again, line);
  }
  const std::string empty = ndjson(Snapshot{});
  EXPECT_EQ(ndjson(parse_ok(empty)), empty);
  // A snapshot without BPF has no traffic keys and no unattributed object.
  Snapshot procfs = full_snapshot(2);
  procfs.source = "procfs";
  procfs.unattributed_bytes = procfs.unattributed_messages = 0;
  procfs.unreadable_processes = 152;
  procfs.channels[0].endpoints[0].fds = {0, 7};
  const std::string line = ndjson(procfs);
  EXPECT_EQ(ndjson(parse_ok(line.substr(0, line.size() - 1))), line);
}

TEST(JsonParse, KeepsExactIntegersAndTheSanitizedStrings) {
  Snapshot s = parse_ok(ndjson(full_snapshot(0)));
  ASSERT_EQ(s.cpus.size(), 2u);
  EXPECT_EQ(s.cpus[0].ctx_switches, kU64Max);
  EXPECT_EQ(s.cpus[0].voluntary, kTwoTo53Plus1);
  EXPECT_EQ(s.flows.at(0).cpus.at(4294967295u), kU64Max);
  EXPECT_EQ(s.flows.at(0).messages, kTwoTo53Plus1);
  EXPECT_EQ(s.processes.at(0).pid, 4194304u);
  EXPECT_EQ(s.processes.at(0).comm, sanitize(kHostile));
  EXPECT_EQ(s.processes.at(0).cmdline.at(3), "");
  EXPECT_EQ(s.channels.at(0).path, sanitize("/tmp/" + kHostile));
  EXPECT_EQ(s.channels.at(1).path, "") << "no path key: no path";
  EXPECT_EQ(s.failures.at(1).err, "") << "errno null";
  EXPECT_FALSE(s.failures.at(1).diagnosis.limit.has_value());
  EXPECT_EQ(s.failures.at(0).diagnosis.fix, "sysctl -w kernel.shmmax=2097152");
  EXPECT_EQ(s.lost.by_point.at("ringbuf_full"), kU64Max);
  EXPECT_DOUBLE_EQ(s.time, 1795479881.0816524);
  EXPECT_EQ(s.flows.size(), 14u);
  EXPECT_EQ(s.flows.at(12).kind, Kind::signal);
}

TEST(JsonParse, ErrorsNameTheKey) {
  nlohmann::json good = render::to_json(full_snapshot(0));
  auto with = [&](auto edit) {
    nlohmann::json j = good;
    edit(j);
    return parse_error(j.dump());
  };
  EXPECT_NE(parse_error("{\"schema\":").find("not valid JSON"), std::string::npos);
  EXPECT_NE(parse_error("[1,2]").find("not an object"), std::string::npos);
  EXPECT_NE(with([](auto& j) { j["schema"] = "ipctop/2"; }).find("ipctop/2"), std::string::npos);
  EXPECT_NE(with([](auto& j) { j.erase("schema"); }).find("schema: missing"), std::string::npos);
  EXPECT_NE(with([](auto& j) { j["flows"][2]["bytes"] = -1; }).find("flows[2].bytes"),
            std::string::npos);
  EXPECT_NE(with([](auto& j) { j["flows"][2]["bytes"] = 1.5; }).find("flows[2].bytes"),
            std::string::npos);
  EXPECT_NE(with([](auto& j) {
              j["processes"][0]["pid"] = 4294967296ull;
            }).find("processes[0].pid: 4294967296 is out of range"),
            std::string::npos);
  EXPECT_NE(with([](auto& j) {
              j["processes"][0]["threads"][1].erase("comm");
            }).find("processes[0].threads[1].comm: missing"),
            std::string::npos);
  EXPECT_NE(with([](auto& j) {
              j["channels"][0]["kind"] = "carrier_pigeon";
            }).find("unknown kind 'carrier_pigeon'"),
            std::string::npos);
  EXPECT_NE(with([](auto& j) { j["flows"][0]["cpus"]["01"] = 1; }).find("flows[0].cpus.01"),
            std::string::npos);
  EXPECT_NE(with([](auto& j) { j["flows"][0]["cpus"]["x"] = 1; }).find("not a CPU number"),
            std::string::npos);
  EXPECT_NE(with([](auto& j) { j["lost"]["ringbuf_full"] = "many"; }).find("lost.ringbuf_full"),
            std::string::npos);
  EXPECT_NE(with([](auto& j) { j["processes"][0]["exited"] = 1; }).find("not true or false"),
            std::string::npos);
  EXPECT_NE(with([](auto& j) { j["failures"] = nullptr; }).find("failures: not an array"),
            std::string::npos);
}

// ---------------------------------------------------------------- files

class RecordFile : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ipctop-unit-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return dir_ + "/" + name; }
  static std::string read(const std::string& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  std::string dir_;
};

std::unique_ptr<OutputFile> created(const std::string& p, record::CreateOptions o = {}) {
  auto r = OutputFile::create(p, o);
  if (auto* err = std::get_if<record::FileError>(&r)) {
    ADD_FAILURE() << err->message;
    return nullptr;
  }
  return std::move(std::get<std::unique_ptr<OutputFile>>(r));
}

std::string refused(const std::string& p, record::CreateOptions o = {}) {
  auto r = OutputFile::create(p, o);
  if (auto* err = std::get_if<record::FileError>(&r)) return err->message;
  ADD_FAILURE() << p << " was created";
  return {};
}

mode_t mode_of(const std::string& p) {
  struct stat st {};
  EXPECT_EQ(lstat(p.c_str(), &st), 0);
  return st.st_mode & 07777;
}

std::vector<Snapshot> replay_all(const std::string& p, std::string* error = nullptr) {
  std::vector<Snapshot> out;
  auto opened = Replay::open(p);
  if (auto* err = std::get_if<record::FileError>(&opened)) {
    if (error)
      *error = err->message;
    else
      ADD_FAILURE() << err->message;
    return out;
  }
  auto& r = std::get<std::unique_ptr<Replay>>(opened);
  for (int guard = 0; guard < 100000; ++guard) {
    auto next = r->next();
    if (std::holds_alternative<record::EndOfRecording>(next)) return out;
    if (auto* err = std::get_if<record::FileError>(&next)) {
      if (error)
        *error = err->message;
      else
        ADD_FAILURE() << err->message;
      return out;
    }
    out.push_back(std::get<Snapshot>(std::move(next)));
  }
  ADD_FAILURE() << "no end";
  return out;
}

TEST_F(RecordFile, CreatedMode0600WhateverTheUmask) {
  mode_t old = umask(0);
  auto f = created(path("r.ndjson"));
  umask(old);
  ASSERT_TRUE(f);
  EXPECT_EQ(mode_of(path("r.ndjson")), 0600u);
}

TEST_F(RecordFile, ExistingFileRefusedAndKept) {
  std::ofstream(path("keep")) << "precious";
  std::string msg = refused(path("keep"));
  EXPECT_NE(msg.find("File exists"), std::string::npos) << msg;
  EXPECT_NE(msg.find("--force"), std::string::npos) << msg;
  EXPECT_NE(msg.find(path("keep")), std::string::npos) << msg;
  EXPECT_EQ(read(path("keep")), "precious");
}

TEST_F(RecordFile, SymlinkRefusedEvenWithForce) {
  std::ofstream(path("target")) << "precious";
  ASSERT_EQ(symlink(path("target").c_str(), path("link").c_str()), 0);
  ASSERT_EQ(symlink(path("nowhere").c_str(), path("dangling").c_str()), 0);
  EXPECT_NE(refused(path("link")).find("symbolic link"), std::string::npos);
  EXPECT_NE(refused(path("dangling")).find("symbolic link"), std::string::npos);
  std::string forced = refused(path("link"), {.force = true});
  EXPECT_NE(forced.find("symbolic link"), std::string::npos) << forced;
  refused(path("dangling"), {.force = true});
  EXPECT_EQ(read(path("target")), "precious");
  EXPECT_FALSE(std::filesystem::exists(path("nowhere"))) << "a dangling link was followed";
}

TEST_F(RecordFile, ForceReplacesARegularFileOnlyAndMakesIt0600) {
  std::ofstream(path("old")) << "old contents, longer than the new";
  chmod(path("old").c_str(), 0644);
  auto f = created(path("old"), {.force = true});
  ASSERT_TRUE(f);
  ASSERT_FALSE(f->write("new\n"));
  ASSERT_FALSE(f->close());
  EXPECT_EQ(read(path("old")), "new\n");
  EXPECT_EQ(mode_of(path("old")), 0600u);
  // A FIFO would block a plain open and a device would be truncated.
  ASSERT_EQ(mkfifo(path("fifo").c_str(), 0600), 0);
  EXPECT_NE(refused(path("fifo"), {.force = true}).find("not a regular file"), std::string::npos);
  std::filesystem::create_directory(path("dir"));
  refused(path("dir"), {.force = true});
}

TEST_F(RecordFile, MissingDirectoryIsAClearError) {
  std::string msg = refused(path("no/such/dir.ndjson"));
  EXPECT_NE(msg.find("does not exist"), std::string::npos) << msg;
}

TEST_F(RecordFile, PlainRecordingReplaysByteIdentical) {
  std::string all;
  {
    auto f = created(path("r.ndjson"));
    ASSERT_TRUE(f);
    for (uint32_t i = 0; i < 5; ++i) {
      std::string line = ndjson(full_snapshot(i));
      all += line;
      ASSERT_FALSE(f->write(line));
    }
  }
  EXPECT_EQ(read(path("r.ndjson")), all);
  std::string again;
  for (const auto& s : replay_all(path("r.ndjson"))) again += ndjson(s);
  EXPECT_EQ(again, all);
}

TEST_F(RecordFile, GzipRecordingReplaysByteIdentical) {
  EXPECT_TRUE(record::wants_gzip("x.ndjson.gz"));
  EXPECT_FALSE(record::wants_gzip("x.ndjson"));
  EXPECT_FALSE(record::wants_gzip(".gz"));
  std::string all;
  {
    auto f = created(path("r.ndjson.gz"), {.compress = true});
    ASSERT_TRUE(f);
    for (uint32_t i = 0; i < 20; ++i) {
      std::string line = ndjson(full_snapshot(i));
      all += line;
      ASSERT_FALSE(f->write(line));
    }
    ASSERT_FALSE(f->close());
  }
  const std::string raw = read(path("r.ndjson.gz"));
  ASSERT_GE(raw.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(raw[0]), 0x1f) << "gzip magic";
  EXPECT_EQ(static_cast<unsigned char>(raw[1]), 0x8b);
  EXPECT_LT(raw.size(), all.size() / 3) << "compressed";
  // zlib itself agrees it is gzip of exactly these bytes.
  gzFile gz = gzopen(path("r.ndjson.gz").c_str(), "rb");
  ASSERT_NE(gz, nullptr);
  std::string inflated(all.size() + 16, '\0');
  int n = gzread(gz, inflated.data(), static_cast<unsigned>(inflated.size()));
  gzclose(gz);
  inflated.resize(n < 0 ? 0 : static_cast<size_t>(n));
  EXPECT_EQ(inflated, all);
  std::string again;
  for (const auto& s : replay_all(path("r.ndjson.gz"))) again += ndjson(s);
  EXPECT_EQ(again, all);
}

// Killed while recording: the sync flush per interval keeps every whole line.
TEST_F(RecordFile, GzipCutShortKeepsTheWholeLinesAndSaysSo) {
  std::string first;
  {
    auto f = created(path("r.gz"), {.compress = true});
    ASSERT_TRUE(f);
    first = ndjson(full_snapshot(0));
    ASSERT_FALSE(f->write(first));
    ASSERT_FALSE(f->write(ndjson(full_snapshot(1))));
    // Copy the file as it is now, before the gzip trailer is written.
    std::filesystem::copy_file(path("r.gz"), path("cut.gz"));
  }
  std::string error;
  auto snaps = replay_all(path("cut.gz"), &error);
  ASSERT_EQ(snaps.size(), 2u) << error;
  EXPECT_EQ(ndjson(snaps[0]), first);
  EXPECT_NE(error.find("cut short"), std::string::npos) << error;
  EXPECT_NE(error.find("cut.gz:3"), std::string::npos) << error;
}

TEST_F(RecordFile, BadLinesNameFileAndLine) {
  std::ofstream(path("bad")) << ndjson(full_snapshot(0)) << "\n"
                             << "{\"schema\":\"ipctop/1\"}\n";
  std::string error;
  auto snaps = replay_all(path("bad"), &error);
  EXPECT_EQ(snaps.size(), 1u) << "an empty line is skipped";
  EXPECT_NE(error.find(path("bad") + ":3: not an ipctop/1 snapshot: time: missing"),
            std::string::npos)
      << error;

  std::ofstream(path("partial")) << ndjson(full_snapshot(0)) << "{\"schema\"";
  error.clear();
  snaps = replay_all(path("partial"), &error);
  EXPECT_EQ(snaps.size(), 1u);
  EXPECT_NE(error.find("partial:2: the last line is incomplete"), std::string::npos) << error;

  error.clear();
  replay_all(dir_, &error);
  EXPECT_NE(error.find("it is a directory"), std::string::npos) << error;

  error.clear();
  replay_all(path("missing"), &error);
  EXPECT_NE(error.find("No such file"), std::string::npos) << error;

  std::ofstream(path("binary"), std::ios::binary) << std::string(
      "\x7f"
      "ELF\x02\x01\x01\0\0\0\n",
      11);
  error.clear();
  replay_all(path("binary"), &error);
  EXPECT_NE(error.find("binary:1: not an ipctop/1 snapshot"), std::string::npos) << error;
}

TEST_F(RecordFile, EmptyRecordingIsNoSnapshots) {
  std::ofstream(path("empty")).flush();
  EXPECT_TRUE(replay_all(path("empty")).empty());
}

}  // namespace
