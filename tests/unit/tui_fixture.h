// Fixed snapshots for the TUI tests: every view's data, filled synthetically
// (matrix, apps, latencies, remote peers, fill levels), hostile names with
// escape sequences and invalid UTF-8, and wide CJK names.
#pragma once

#include "limits/Limits.h"
#include "model/Snapshot.h"
#include "render/tui/Frame.h"

namespace tui_fixture {

using namespace ipctop;

inline ThreadRow Thread(uint32_t tid, std::string comm, uint64_t vol, uint64_t inv,
                        uint64_t oncpu_ns, uint64_t tx, uint64_t rx, std::vector<uint32_t> cpus) {
  ThreadRow t;
  t.tid = tid;
  t.comm = std::move(comm);
  t.voluntary = vol;
  t.involuntary = inv;
  t.ctx_switches = vol + inv;
  t.oncpu_ns = oncpu_ns;
  t.tx_bytes = tx;
  t.rx_bytes = rx;
  t.cpus_used = std::move(cpus);
  return t;
}

inline ProcessRow Process(uint32_t pid, uint32_t ppid, std::string comm,
                          std::vector<ThreadRow> threads) {
  ProcessRow p;
  p.pid = pid;
  p.ppid = ppid;
  p.comm = std::move(comm);
  p.threads = std::move(threads);
  for (const auto& t : p.threads) {
    p.tx_bytes += t.tx_bytes;
    p.rx_bytes += t.rx_bytes;
  }
  return p;
}

inline FlowRow Flow(Kind kind, std::string channel, TaskRef src, TaskRef dst, uint64_t bytes,
                    uint64_t messages) {
  FlowRow f;
  f.kind = kind;
  f.channel = std::move(channel);
  f.src = std::move(src);
  f.dst = std::move(dst);
  f.bytes = bytes;
  f.messages = messages;
  return f;
}

// A 2-second interval on 4 CPUs.
inline Snapshot Fixed(bool with_loss = false) {
  Snapshot s;
  s.time = 1795479881.5;
  s.interval_s = 2.0;
  for (uint32_t c = 0; c < 4; ++c) {
    CpuRow cpu;
    cpu.cpu = c;
    cpu.voluntary = 4000 * (c + 1);
    cpu.involuntary = 500 * (c + 1);
    cpu.ctx_switches = cpu.voluntary + cpu.involuntary;
    cpu.idle_ns = 1'500'000'000 - c * 300'000'000ull;
    cpu.tx_bytes = (c + 1) * 3'000'000ull;
    cpu.rx_bytes = (4 - c) * 2'000'000ull;
    cpu.migrations = 10 * c;
    if (c < 2) {
      cpu.runq_latency.count = 100;
      cpu.runq_latency.p50_us = 12 + c;
      cpu.runq_latency.p99_us = 850 + 1000 * c;
    }
    s.cpus.push_back(cpu);
  }
  s.processes = {
      Process(1, 0, "systemd", {Thread(1, "systemd", 20, 1, 2'000'000, 0, 4096, {0})}),
      Process(1200, 1, "nginx",
              {Thread(1200, "nginx", 3000, 20, 400'000'000, 8'000'000, 1'000'000, {0, 1}),
               Thread(1201, "nginx-worker", 1500, 300, 900'000'000, 2'000'000, 0, {1, 2, 3})}),
      Process(1300, 1200, "php-fpm",
              {Thread(1300, "php-fpm", 2500, 10, 100'000'000, 1'000'000, 10'000'000, {2})}),
      // Hostile: a terminal title escape and a clear-screen, and invalid UTF-8.
      Process(666, 1, "\x1b]0;PWNED\x07\x1b[2J",
              {Thread(666, "\x1b[31mred", 5, 0, 1000, 100, 0, {3})}),
      Process(667, 1, "bad\xff\xfeutf8", {Thread(667, "bad\xff\xfeutf8", 1, 0, 1000, 0, 100, {3})}),
      // Wide characters: each is two columns.
      Process(2000, 1, "数据库服务器进程",
              {Thread(2000, "数据库服务器进程", 40, 2, 50'000'000, 500'000, 0, {1})}),
  };
  s.processes[3].exited = true;
  TaskRef nginx{1200, 1200, "nginx", {}}, worker{1200, 1201, "nginx-worker", {}},
      php{1300, 1300, "php-fpm", {}}, sysd{1, 1, "systemd", {}},
      evil{666, 666, "\x1b]0;PWNED\x07\x1b[2J", {}}, bad{667, 667, "bad\xff\xfeutf8", {}},
      cjk{2000, 2000, "数据库服务器进程", {}}, remote{0, 0, "", "10.1.2.3:443"};
  s.flows = {
      Flow(Kind::unix_stream, "unix:[4001]", nginx, php, 8'000'000, 4000),
      Flow(Kind::unix_stream, "unix:[4002]", php, nginx, 1'000'000, 3900),
      Flow(Kind::pipe, "pipe:[5001]", worker, php, 2'000'000, 250),
      Flow(Kind::unix_dgram, "unix:[77]", sysd, sysd, 0, 0),
      Flow(Kind::fifo, "fifo:0:25:900", evil, bad, 100, 1),
      Flow(Kind::tcp, "tcp:10.0.0.5:8080", cjk, TaskRef{0, 0, "", "10.1.2.3:443"}, 500'000, 50),
      Flow(Kind::posix_mq, "mq:/jobs", php, sysd, 4096, 4),
  };
  s.flows[3].bytes = 4096;
  s.flows[3].messages = 2;
  s.flows[0].wakeup_latency = LatencyRow{4000, 18, 240, 900, {}};
  s.flows[2].wakeup_latency = LatencyRow{250, 1500, 22000, 40000, {}};
  (void)remote;

  ChannelRow c1{"unix:[4001]", Kind::unix_stream, "/run/php/php-fpm.sock", 8'000'000, 4000};
  c1.endpoints = {{1200, 1200, "writer"}, {1300, 1300, "reader"}};
  c1.queued = 60'000;
  c1.capacity = 212'992;
  ChannelRow c2{"pipe:[5001]", Kind::pipe, "", 2'000'000, 250};
  c2.endpoints = {{1200, 1201, "writer"}, {1300, 1300, "reader"}};
  c2.queued = 65'000;
  c2.capacity = 65'536;
  ChannelRow c3{"fifo:0:25:900", Kind::fifo, "/tmp/\x1b[2Jevil\xff", 100, 1};
  c3.endpoints = {{666, 666, "writer"}, {667, 667, "reader"}};
  ChannelRow c4{"shm:/dev/shm/数据", Kind::posix_shm, "/dev/shm/数据", 0, 0};
  c4.size = 64ull << 20;
  c4.endpoints = {{2000, 2000, "writer"}, {1300, 1300, "reader"}};
  s.channels = {c1, c2, c3, c4};

  s.matrix = {{0, 0, 4'000'000, 100},
              {0, 1, 2'000'000, 50},
              {1, 2, 1'000'000, 10},
              {3, 0, 8192, 2},
              {2, 3, 512, 1}};
  s.wakeups = {{nginx, php, 4000, 1200}};
  AppRow web{"nginx", 1200, {{1200, "master"}, {1300, "php-fpm"}}, 11'000'000, 4096};
  AppRow db{"数据库服务器进程-cluster", 2000, {{2000, "primary"}}, 0, 500'000};
  AppRow hostile{"\x1b[2Jevil\xff", 666, {{666, "\x1b]0;x\x07"}, {667, ""}}, 100, 0};
  s.apps = {web, db, hostile};

  s.unattributed_bytes = with_loss ? 12'345 : 0;
  s.unattributed_messages = with_loss ? 3 : 0;
  s.lost.events = with_loss ? 7 : 0;
  for (const char* p : {"flow_map_full", "ringbuf_full"}) s.lost.by_point[p] = 0;
  if (with_loss) s.lost.by_point["ringbuf_full"] = 7;

  FailureRow f;
  f.syscall = "shmget";
  f.err = "EINVAL";
  f.pid = 1300;
  f.tid = 1300;
  f.comm = "php-fpm";
  f.count = 3;
  f.diagnosis = {"kernel.shmmax", "requested 2097152 bytes > kernel.shmmax 1048576",
                 "sysctl -w kernel.shmmax=2097152"};
  s.failures = {f};
  return s;
}

inline limits::Report Limits() {
  limits::Report r;
  auto add = [&](const char* name, uint64_t value, const char* unit, uint64_t used, double pct,
                 const char* desc) {
    limits::Limit l;
    l.name = name;
    l.value = value;
    l.unit = unit;
    l.used = used;
    l.used_pct = pct;
    l.description = desc;
    r.limits.push_back(l);
  };
  add("kernel.shmmax", 1048576, "bytes", 0, 0, "largest System V shared memory segment");
  add("kernel.msgmni", 32000, "count", 31000, 96.875, "System V message queues");
  add("fs.file-max", 9223372036854775807ull, "count", 2048, 0.0, "open files, system-wide");
  add("fs.pipe-user-pages-soft", 16384, "pages", 13000, 79.3,
      "pipe pages per user before shrinking");
  r.limits[2].unlimited = true;
  r.warnings.push_back({"kernel.msgmnb", "msgmnb (16384) is below msgmax (65536)",
                        "sysctl -w kernel.msgmnb=65536", limits::Severity::Warning});
  return r;
}

inline ipctop::tui::Frame FrameOf(const Snapshot* s, const limits::Report* lim) {
  ipctop::tui::Frame f;
  f.snap = s;
  f.host = "web-01";
  f.uptime_s = 3 * 86400 + 4 * 3600 + 5 * 60 + 6;
  f.probes = {{"sched_switch", true, ""},
              {"ipc_syscalls", true, ""},
              {"unix_datagram_receive", false, "no BTF for skb_copy_datagram_iovec"}};
  f.users = {{1, "root"}, {1200, "www-data"}, {1300, "www-data"}, {2000, "postgres-long-name"}};
  f.limits = lim;
  f.source = "live";
  return f;
}

}  // namespace tui_fixture
