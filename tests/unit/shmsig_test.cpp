// Signals and shared memory in the model: decoding of shared memory records,
// the segment tracker (records, fork/exec/exit, /proc rescans through a fake
// source), signal and wakeup flows in the Aggregator, the /proc parsers, and
// signal names.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "model/Aggregator.h"
#include "model/Decode.h"
#include "model/Shm.h"
#include "model/Signals.h"
#include "procfs/ShmMaps.h"
#include "render/json/Json.h"

namespace {

using namespace ipctop;

ipctop_rec_shm RawShm(uint32_t op, uint32_t kind, uint32_t tgid) {
  ipctop_rec_shm r{};
  r.hdr.type = IPCTOP_REC_SHM;
  r.hdr.size = sizeof(r);
  r.hdr.tgid = tgid;
  r.hdr.tid = tgid;
  r.op = op;
  r.kind = kind;
  return r;
}

TEST(ShmDecode, ValidRecordKeepsEveryField) {
  ipctop_rec_shm r = RawShm(IPCTOP_SHM_ATTACH, IPCTOP_KIND_POSIX_SHM, 42);
  r.hdr.ts_ns = 7;
  r.ino = 1234;
  r.dev = (0 << 20) | 27;
  r.key = -1;
  r.size = 4096;
  r.addr = 0x7f0000000000;
  r.len = 8192;
  r.flags = 1;
  std::memcpy(r.name, "memfd:x\x1b[2J", 12);
  auto d = decode_shm_record(&r, sizeof r);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->op, IPCTOP_SHM_ATTACH);
  EXPECT_EQ(d->tgid, 42u);
  EXPECT_EQ(d->ino, 1234u);
  EXPECT_EQ(d->dev, 27u);
  EXPECT_EQ(d->key, -1);
  EXPECT_EQ(d->size, 4096u);
  EXPECT_EQ(d->addr, 0x7f0000000000u);
  EXPECT_EQ(d->len, 8192u);
  EXPECT_EQ(d->ts_ns, 7u);
  EXPECT_EQ(d->name, "memfd:x\x1b[2J");  // raw: sanitized at output
}

TEST(ShmDecode, MalformedRecordsAreRejected) {
  ipctop_rec_shm r = RawShm(IPCTOP_SHM_GET, IPCTOP_KIND_SYSV_SHM, 1);
  EXPECT_TRUE(decode_shm_record(&r, sizeof r));
  EXPECT_FALSE(decode_shm_record(&r, sizeof r - 1));
  EXPECT_FALSE(decode_shm_record(nullptr, sizeof r));
  ipctop_rec_shm bad = r;
  bad.op = 99;
  EXPECT_FALSE(decode_shm_record(&bad, sizeof bad));
  bad = r;
  bad.kind = IPCTOP_KIND_PIPE;
  EXPECT_FALSE(decode_shm_record(&bad, sizeof bad));
  bad = r;
  bad.hdr.size = 48;
  EXPECT_FALSE(decode_shm_record(&bad, sizeof bad));
  // A task record is not a shared memory record, and the reverse.
  EXPECT_FALSE(decode_record(&r, sizeof r));
  // The name is bounded by the record even without a NUL.
  std::memset(r.name, 'A', sizeof r.name);
  auto d = decode_shm_record(&r, sizeof r);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->name.size(), sizeof r.name);
}

class FakeShm : public ShmSource {
 public:
  std::map<uint32_t, std::vector<ShmMapping>> maps;
  std::vector<SysvSegmentInfo> sysv;
  int scans = 0;
  std::vector<uint32_t> pids() override {
    std::vector<uint32_t> out;
    for (const auto& [pid, m] : maps) out.push_back(pid);
    return out;
  }
  std::optional<std::vector<ShmMapping>> mappings(uint32_t pid) override {
    ++scans;
    auto it = maps.find(pid);
    if (it == maps.end()) return std::nullopt;
    return it->second;
  }
  std::vector<SysvSegmentInfo> sysv_segments() override { return sysv; }
  std::optional<uint32_t> dev_shm() override { return 25u; }
};

ShmRecord Rec(uint32_t op, uint32_t kind, uint32_t tgid, uint64_t ino, uint64_t addr = 0) {
  ShmRecord r;
  r.op = op;
  r.kind = kind;
  r.tgid = r.tid = tgid;
  r.ino = ino;
  r.addr = addr;
  return r;
}

TaskRecord Task(uint16_t type, uint32_t pid, uint32_t ppid = 0) {
  TaskRecord t;
  t.type = type;
  t.tgid = t.tid = pid;
  t.ppid = ppid;
  return t;
}

std::map<std::string, ChannelRow> Fill(ShmTracker& t, std::set<uint32_t> wanted = {}) {
  std::map<std::string, ChannelRow> out;
  t.fill(out, [&](uint32_t pid) { return wanted.empty() || wanted.contains(pid); });
  return out;
}

std::set<uint32_t> Attached(const ChannelRow& c) {
  std::set<uint32_t> out;
  for (const auto& e : c.endpoints) {
    EXPECT_EQ(e.role, "attached");
    out.insert(e.pid);
  }
  return out;
}

TEST(ShmTracker, SysvLifecycleFromRecords) {
  ShmTracker t;
  ShmRecord get = Rec(IPCTOP_SHM_GET, IPCTOP_KIND_SYSV_SHM, 100, 7);
  get.key = 0x1234;
  get.size = 65536;
  t.apply(get);
  t.apply(Rec(IPCTOP_SHM_ATTACH, IPCTOP_KIND_SYSV_SHM, 100, 7, 0x1000));
  t.apply(Rec(IPCTOP_SHM_ATTACH, IPCTOP_KIND_SYSV_SHM, 200, 7, 0x2000));
  auto rows = Fill(t);
  ASSERT_TRUE(rows.contains("sysv_shm:7"));
  const ChannelRow& c = rows["sysv_shm:7"];
  EXPECT_EQ(c.kind, Kind::sysv_shm);
  EXPECT_EQ(c.size, 65536u);
  EXPECT_EQ(c.shm_key, 0x1234u);
  EXPECT_EQ(c.shmid, 7u);
  EXPECT_EQ(c.creator, 100u);
  EXPECT_EQ(c.path, "/SYSV00001234");
  EXPECT_EQ(Attached(c), (std::set<uint32_t>{100, 200}));
  // Detach by address, then IPC_RMID: shown once more, then gone.
  t.apply(Rec(IPCTOP_SHM_DETACH, IPCTOP_KIND_SYSV_SHM, 200, 0, 0x2000));
  t.apply(Rec(IPCTOP_SHM_RMID, IPCTOP_KIND_SYSV_SHM, 100, 7));
  t.apply(Task(IPCTOP_REC_TASK_EXIT, 100));
  rows = Fill(t);
  ASSERT_TRUE(rows.contains("sysv_shm:7"));
  EXPECT_TRUE(rows["sysv_shm:7"].endpoints.empty());
  EXPECT_TRUE(rows["sysv_shm:7"].removed);
  EXPECT_TRUE(Fill(t).empty());
  EXPECT_EQ(t.segments(), 0u);
}

TEST(ShmTracker, ShmgetOfAnExistingSegmentKeepsItsCreator) {
  FakeShm src;
  src.sysv = {{9, 0x42, 8192, 500}};
  ShmTracker t(&src);
  ShmRecord get = Rec(IPCTOP_SHM_GET, IPCTOP_KIND_SYSV_SHM, 600, 9);
  get.key = 0x42;
  get.size = 0;  // looking an existing segment up
  t.apply(get);
  auto rows = Fill(t);
  ASSERT_TRUE(rows.contains("sysv_shm:9"));
  EXPECT_EQ(rows["sysv_shm:9"].creator, 500u);
  EXPECT_EQ(rows["sysv_shm:9"].size, 8192u);
}

TEST(ShmTracker, ForkInheritsExecAndExitDrop) {
  ShmTracker t;
  ShmRecord m = Rec(IPCTOP_SHM_ATTACH, IPCTOP_KIND_POSIX_SHM, 10, 99, 0x5000);
  m.dev = 25;
  m.name = "seg";
  m.size = 4096;
  t.apply(m);
  t.apply(Task(IPCTOP_REC_TASK_NEW, 11, 10));
  TaskRecord thread = Task(IPCTOP_REC_TASK_NEW, 10, 10);
  thread.tid = 12;  // a thread: no new attachment
  t.apply(thread);
  auto rows = Fill(t);
  const std::string id = "posix_shm:0:25:99";
  ASSERT_TRUE(rows.contains(id));
  EXPECT_EQ(Attached(rows[id]), (std::set<uint32_t>{10, 11}));
  EXPECT_EQ(rows[id].size, 4096u);
  EXPECT_FALSE(rows[id].shm_key);
  t.apply(Task(IPCTOP_REC_TASK_EXEC, 11));
  rows = Fill(t);
  EXPECT_EQ(Attached(rows[id]), (std::set<uint32_t>{10}));
  t.apply(Task(IPCTOP_REC_TASK_EXIT, 10));
  rows = Fill(t);
  EXPECT_TRUE(rows[id].endpoints.empty());  // the change is shown once
  EXPECT_TRUE(Fill(t).empty());
}

TEST(ShmTracker, PosixNamesFromTheRecord) {
  FakeShm src;
  ShmTracker t(&src);
  ShmRecord a = Rec(IPCTOP_SHM_ATTACH, IPCTOP_KIND_POSIX_SHM, 10, 1, 0x1000);
  a.dev = 25;  // /dev/shm's device in the fake
  a.name = "psm_1";
  ShmRecord b = Rec(IPCTOP_SHM_ATTACH, IPCTOP_KIND_POSIX_SHM, 10, 2, 0x2000);
  b.dev = 1;
  b.name = "memfd:wayland";
  t.apply(a);
  t.apply(b);
  auto rows = Fill(t);
  EXPECT_EQ(rows["posix_shm:0:25:1"].path, "/dev/shm/psm_1");
  EXPECT_EQ(rows["posix_shm:0:1:2"].path, "memfd:wayland");
}

TEST(ShmTracker, InitialScanThenRescansOfAttachedProcesses) {
  FakeShm src;
  src.sysv = {{5, 0xabcd, 1 << 20, 300}};
  ShmMapping sysv{Kind::sysv_shm, 5, 0, 0x10000, 0x20000, "", std::nullopt, true};
  ShmMapping posix{Kind::posix_shm, 77, 25, 0x30000, 0x31000, "/dev/shm/x", 4096, true};
  ShmMapping other{Kind::posix_shm, 88, 30, 0x40000, 0x41000, "/data/file", 4096, false};
  src.maps[300] = {sysv, posix, other};
  src.maps[301] = {sysv};
  src.maps[302] = {};
  ShmTracker t(&src);
  t.refresh(100.0);
  auto rows = Fill(t);
  ASSERT_TRUE(rows.contains("sysv_shm:5"));
  EXPECT_EQ(Attached(rows["sysv_shm:5"]), (std::set<uint32_t>{300, 301}));
  EXPECT_EQ(rows["sysv_shm:5"].shm_key, 0xabcdu);
  EXPECT_EQ(rows["sysv_shm:5"].creator, 300u);
  EXPECT_EQ(rows["sysv_shm:5"].size, 1u << 20);
  EXPECT_EQ(rows["posix_shm:0:25:77"].path, "/dev/shm/x");
  EXPECT_FALSE(rows.contains("posix_shm:0:30:88")) << "a shared file mapping is not shm by itself";
  // 301 unmapped it (munmap is not traced): seen at the next rescan, not before.
  src.maps[301] = {};
  int scans = src.scans;
  t.refresh(102.0);
  EXPECT_EQ(src.scans, scans);
  t.refresh(106.0);
  EXPECT_EQ(src.scans, scans + 2) << "only the attached processes are read again";
  rows = Fill(t);
  EXPECT_EQ(Attached(rows["sysv_shm:5"]), (std::set<uint32_t>{300}));
  // A process that vanished is detached.
  src.maps.erase(300);
  t.refresh(112.0);
  rows = Fill(t);
  EXPECT_TRUE(Attached(rows["sysv_shm:5"]).empty());
}

TEST(ShmTracker, FilterKeepsSegmentsOfWantedProcesses) {
  ShmTracker t;
  t.apply(Rec(IPCTOP_SHM_ATTACH, IPCTOP_KIND_SYSV_SHM, 1, 3, 0x1000));
  t.apply(Rec(IPCTOP_SHM_ATTACH, IPCTOP_KIND_SYSV_SHM, 2, 4, 0x1000));
  auto rows = Fill(t, {2});
  EXPECT_FALSE(rows.contains("sysv_shm:3"));
  EXPECT_TRUE(rows.contains("sysv_shm:4"));
}

TEST(ShmChannelId, EveryShape) {
  EXPECT_EQ(shm_channel_id(Kind::sysv_shm, 12, 0), "sysv_shm:12");
  EXPECT_EQ(shm_channel_id(Kind::sysv_shm, 3, IPCTOP_SHM_DEV_SEMSET), "sysv_sem:3");
  EXPECT_EQ(shm_channel_id(Kind::posix_shm, 9, (8u << 20) | 1), "posix_shm:8:1:9");
}

class NoNames : public NameSource {
 public:
  std::optional<std::string> comm(uint32_t pid, uint32_t) override {
    return "p" + std::to_string(pid);
  }
  std::optional<uint32_t> ppid(uint32_t) override { return 1; }
  std::vector<std::string> cmdline(uint32_t) override { return {}; }
  std::string channel_path(Kind, uint64_t, uint32_t, const std::set<uint32_t>&) override {
    return "";
  }
};

FlowSample Flow(uint32_t kind, uint64_t ino, uint32_t dev, uint32_t src, uint32_t dst,
                uint64_t messages, uint32_t src_cpu = 0, uint32_t dst_cpu = 1) {
  FlowSample f;
  f.key.kind = kind;
  f.key.chan_ino = ino;
  f.key.chan_dev = dev;
  f.key.src_tgid = f.key.src_tid = src;
  f.key.dst_tgid = f.key.dst_tid = dst;
  f.key.src_cpu = src_cpu;
  f.key.dst_cpu = dst_cpu;
  f.messages = messages;
  return f;
}

KernelSample Sample(std::vector<FlowSample> flows) {
  KernelSample s;
  s.cpus.assign(2, CpuCounters{});
  s.flows = std::move(flows);
  return s;
}

TEST(SignalFlows, DeliveredAndDiscardedInOneRowPerSignal) {
  NoNames names;
  Aggregator agg(names, Filter{});
  auto snap = agg.update(Sample({Flow(IPCTOP_KIND_SIGNAL, 10, IPCTOP_SIG_DELIVERED, 5, 6, 4),
                                 Flow(IPCTOP_KIND_SIGNAL, 10, IPCTOP_SIG_COALESCED, 5, 6, 2),
                                 Flow(IPCTOP_KIND_SIGNAL, 10, IPCTOP_SIG_IGNORED, 5, 6, 1),
                                 Flow(IPCTOP_KIND_SIGNAL, 40, IPCTOP_SIG_OVERFLOW, 5, 6, 3),
                                 Flow(IPCTOP_KIND_SIGNAL, 14, IPCTOP_SIG_DELIVERED, 0, 6, 1)}),
                         1.0);
  ASSERT_EQ(snap.flows.size(), 3u);
  std::map<std::string, FlowRow> by_channel;
  for (const auto& f : snap.flows) by_channel[f.channel] = f;
  const FlowRow& usr1 = by_channel.at("signal:6:SIGUSR1");
  EXPECT_EQ(usr1.kind, Kind::signal);
  EXPECT_EQ(usr1.signo, 10);
  EXPECT_EQ(usr1.messages, 4u);
  EXPECT_EQ(usr1.bytes, 0u);
  EXPECT_EQ(usr1.signals_coalesced, 2u);
  EXPECT_EQ(usr1.signals_ignored, 1u);
  EXPECT_EQ(usr1.cpus.at(0), 4u) << "zero-byte kinds split messages by CPU";
  EXPECT_EQ(usr1.rx_cpus.at(1), 4u);
  EXPECT_EQ(by_channel.at("signal:6:SIGRTMIN+6").signals_overflow, 3u);
  EXPECT_EQ(by_channel.at("signal:6:SIGRTMIN+6").messages, 0u);
  const FlowRow& alarm = by_channel.at("signal:6:SIGALRM");
  EXPECT_EQ(alarm.src.comm, "(kernel)");
  EXPECT_EQ(alarm.src.pid, 0u);
  // Channels: sender and receiver endpoints; the kernel is no endpoint.
  for (const auto& c : snap.channels) {
    EXPECT_EQ(c.kind, Kind::signal);
    for (const auto& e : c.endpoints) EXPECT_TRUE(e.role == "sender" || e.role == "receiver");
    if (c.id == "signal:6:SIGALRM") {
      EXPECT_EQ(c.endpoints.size(), 1u);
    }
  }
  // Deltas: the next interval counts only what is new.
  auto next =
      agg.update(Sample({Flow(IPCTOP_KIND_SIGNAL, 10, IPCTOP_SIG_DELIVERED, 5, 6, 5)}), 1.0);
  ASSERT_EQ(next.flows.size(), 1u);
  EXPECT_EQ(next.flows[0].messages, 1u);
}

TEST(ShmFlows, WakeupsOnSegmentsAndSemaphoreSets) {
  NoNames names;
  Aggregator agg(names, Filter{});
  auto snap = agg.update(Sample({Flow(IPCTOP_KIND_POSIX_SHM, 77, 25, 1, 2, 10),
                                 Flow(IPCTOP_KIND_POSIX_SHM, 77, 25, 2, 1, 9),
                                 Flow(IPCTOP_KIND_SYSV_SHM, 3, IPCTOP_SHM_DEV_SEMSET, 1, 2, 5),
                                 Flow(IPCTOP_KIND_SYSV_SHM, 8, 0, 2, 1, 1)}),
                         1.0);
  std::map<std::string, ChannelRow> channels;
  for (const auto& c : snap.channels) channels[c.id] = c;
  ASSERT_TRUE(channels.contains("posix_shm:0:25:77"));
  ASSERT_TRUE(channels.contains("sysv_sem:3"));
  ASSERT_TRUE(channels.contains("sysv_shm:8"));
  EXPECT_EQ(channels["posix_shm:0:25:77"].messages, 19u);
  EXPECT_EQ(channels["posix_shm:0:25:77"].bytes, 0u);
  std::set<std::string> roles;
  for (const auto& e : channels["sysv_sem:3"].endpoints) roles.insert(e.role);
  EXPECT_EQ(roles, (std::set<std::string>{"waker", "wakee"}));
  uint64_t rx = 0;
  for (const auto& p : snap.processes)
    for (const auto& t : p.threads) rx += t.rx_messages;
  EXPECT_EQ(rx, 25u);
}

TEST(ShmMaps, ParsesSharedMappings) {
  const char* maps =
      "55d0c0a00000-55d0c0a21000 r--p 00000000 fd:01 1234 /usr/bin/x\n"
      "7f0000000000-7f0000010000 rw-s 00000000 00:01 32769 /SYSV0000abcd (deleted)\n"
      "7f0000010000-7f0000020000 r--s 00010000 00:01 32769 /SYSV0000abcd (deleted)\n"
      "7f0000030000-7f0000031000 rw-s 00000000 00:19 55 /dev/shm/psm_1\n"
      "7f0000040000-7f0000041000 rw-s 00000000 00:01 66 /memfd:wayland-shm (deleted)\n"
      "7f0000050000-7f0000051000 rw-s 00000000 00:01 67 /dev/zero (deleted)\n"
      "7f0000060000-7f0000061000 rw-s 00000000 103:02 68 /data/a file\n"
      "7f0000070000-7f0000071000 rw-p 00000000 00:00 0 \n"
      "garbage\n";
  auto m = procfs::shm_mappings(maps);
  ASSERT_EQ(m.size(), 5u);
  EXPECT_EQ(m[0].kind, Kind::sysv_shm);
  EXPECT_EQ(m[0].ino, 32769u);
  EXPECT_EQ(m[0].start, 0x7f0000000000u);
  EXPECT_TRUE(m[0].shm_path) << "two VMAs of one attachment count once";
  EXPECT_EQ(m[1].path, "/dev/shm/psm_1");
  EXPECT_EQ(m[1].dev, 0x19u);
  EXPECT_TRUE(m[1].shm_path);
  EXPECT_EQ(m[2].path, "memfd:wayland-shm");
  EXPECT_TRUE(m[2].shm_path);
  EXPECT_FALSE(m[3].shm_path);
  EXPECT_EQ(m[4].path, "/data/a file");
  EXPECT_EQ(m[4].dev, (0x103u << 20) | 2);
  EXPECT_FALSE(m[4].shm_path);
}

TEST(ShmMaps, SysvSegmentWithShmidZeroIsAMapping) {
  // The first SysV segment after boot has shmid 0, its inode in maps; a
  // shared mapping of another file with inode 0 is nothing to follow.
  const char* maps =
      "7f0000000000-7f0000010000 rw-s 00000000 00:01 0 /SYSV1c00429e (deleted)\n"
      "7f0000020000-7f0000021000 rw-s 00000000 00:05 0 /weird\n";
  auto m = procfs::shm_mappings(maps);
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].kind, Kind::sysv_shm);
  EXPECT_EQ(m[0].ino, 0u);
  EXPECT_EQ(m[0].start, 0x7f0000000000u);
}

TEST(ShmMaps, ParsesSysvipcShmByColumnName) {
  const char* text =
      "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  "
      "cgid      atime      dtime      ctime                   rss                  swap\n"
      "         0          3  1600                 65536  4242  4243      2     0     0     0     "
      "0 "
      "1 2 3 0 0\n"
      " -1091581196      65540   600                  4096   100     0      0     0     0     0    "
      " 0 "
      "0 0 3 0 0\n"
      "bad line\n";
  auto rows = procfs::parse_sysvipc_shm(text);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].shmid, 3u);
  EXPECT_EQ(rows[0].size, 65536u);
  EXPECT_EQ(rows[0].cpid, 4242u);
  EXPECT_EQ(rows[1].key, static_cast<uint32_t>(-1091581196));
  EXPECT_TRUE(procfs::parse_sysvipc_shm("").empty());
  EXPECT_TRUE(procfs::parse_sysvipc_shm("key shmid\n1 2\n").empty()) << "columns missing";
}

TEST(ShmSignalJson, FieldsOfSignalFlowsAndSegments) {
  Snapshot snap;
  FlowRow f;
  f.kind = Kind::signal;
  f.channel = "signal:6:SIGUSR1";
  f.signo = 10;
  f.messages = 3;
  f.signals_coalesced = 2;
  snap.flows.push_back(f);
  FlowRow pipe;
  snap.flows.push_back(pipe);
  ChannelRow sysv;
  sysv.id = "sysv_shm:7";
  sysv.kind = Kind::sysv_shm;
  sysv.path = "/SYSV0000abcd";
  sysv.size = 4096;
  sysv.shm_key = 0xabcd;
  sysv.shmid = 7;
  sysv.creator = 100;
  sysv.removed = true;
  sysv.endpoints = {{100, 100, "attached"}};
  snap.channels.push_back(sysv);
  ChannelRow posix;
  posix.id = "posix_shm:0:1:2";
  posix.kind = Kind::posix_shm;
  posix.path = "memfd:\x1b";
  posix.size = 8192;
  snap.channels.push_back(posix);
  auto j = render::to_json(snap);
  EXPECT_EQ(j["flows"][0]["signal"], "SIGUSR1");
  EXPECT_EQ(j["flows"][0]["discarded"]["coalesced"], 2);
  EXPECT_EQ(j["flows"][0]["discarded"]["ignored"], 0);
  EXPECT_FALSE(j["flows"][1].contains("signal"));
  EXPECT_EQ(j["channels"][0]["key"], "0x0000abcd");
  EXPECT_EQ(j["channels"][0]["shmid"], 7);
  EXPECT_EQ(j["channels"][0]["size"], 4096);
  EXPECT_EQ(j["channels"][0]["creator"], 100);
  EXPECT_EQ(j["channels"][0]["removed"], true);
  EXPECT_EQ(j["channels"][0]["endpoints"][0]["role"], "attached");
  EXPECT_EQ(j["channels"][1]["size"], 8192);
  EXPECT_FALSE(j["channels"][1].contains("key"));
  EXPECT_FALSE(j["channels"][1].contains("removed"));
}

TEST(SignalNames, AsKillListsThem) {
  EXPECT_EQ(signal_name(1), "SIGHUP");
  EXPECT_EQ(signal_name(10), "SIGUSR1");
  EXPECT_EQ(signal_name(17), "SIGCHLD");
  EXPECT_EQ(signal_name(31), "SIGSYS");
  EXPECT_EQ(signal_name(32), "SIG32");
  EXPECT_EQ(signal_name(34), "SIGRTMIN");
  EXPECT_EQ(signal_name(35), "SIGRTMIN+1");
  EXPECT_EQ(signal_name(49), "SIGRTMIN+15");
  EXPECT_EQ(signal_name(50), "SIGRTMAX-14");
  EXPECT_EQ(signal_name(64), "SIGRTMAX");
  EXPECT_EQ(signal_name(0), "SIG0");
  EXPECT_EQ(signal_name(65), "SIG65");
}

}  // namespace
