// Scheduler detail in the model: latency histograms and percentiles, the
// cross-CPU matrix, roles and applications, and how the aggregator turns
// the kernel's cumulative counters into them.
#include <gtest/gtest.h>

#include <map>

#include "model/Aggregator.h"
#include "model/Sched.h"

namespace {

using namespace ipctop;

LatCounters Lat(std::map<size_t, uint32_t> buckets, uint64_t max_ns, uint64_t epoch) {
  LatCounters l;
  for (const auto& [b, n] : buckets) {
    l.hist[b] = n;
    l.count += n;
  }
  l.max_ns = max_ns;
  l.max_epoch = epoch;
  return l;
}

LatAcc Acc(std::map<size_t, uint64_t> buckets, uint64_t max_ns) {
  LatAcc a;
  for (const auto& [b, n] : buckets) {
    a.hist[b] = n;
    a.count += n;
  }
  a.max_ns = max_ns;
  return a;
}

TEST(Latency, PercentilesAreBucketBoundsCappedByTheMax) {
  // 90 waits under 1 us, 9 in [8, 16) us, 1 in [1024, 2048) us.
  LatencyRow r = latency_row(Acc({{0, 90}, {4, 9}, {11, 1}}, 1500'000));
  EXPECT_EQ(r.count, 100u);
  EXPECT_EQ(r.p50_us, 1u);
  EXPECT_EQ(r.p99_us, 16u);
  EXPECT_EQ(r.max_us, 1500u);
  EXPECT_EQ(r.hist, (std::map<uint64_t, uint64_t>{{1, 90}, {16, 9}, {2048, 1}}));
  // The rank of p99 falls in the last sample's bucket: the max, not 2048.
  r = latency_row(Acc({{4, 1}, {11, 1}}, 1500'000));
  EXPECT_EQ(r.p50_us, 16u);
  EXPECT_EQ(r.p99_us, 1500u);
}

TEST(Latency, EmptyAndOpenEndedLastBucket) {
  EXPECT_EQ(latency_row(LatAcc{}).count, 0u);
  EXPECT_TRUE(latency_row(LatAcc{}).hist.empty());
  // The last bucket is keyed by the max.
  LatencyRow r = latency_row(Acc({{IPCTOP_LAT_BUCKETS - 1, 2}}, 3'000'000'000));
  EXPECT_EQ(r.max_us, 3'000'000u);
  EXPECT_EQ(r.hist, (std::map<uint64_t, uint64_t>{{3'000'000, 2}}));
  EXPECT_EQ(r.p99_us, 3'000'000u);
}

TEST(Latency, MaxLostToARaceIsTheTopBucketsLowerBound) {
  // max_ns 0 (its slot was restamped): the top bucket [512, 1024) us says
  // at least 512.
  LatencyRow r = latency_row(Acc({{10, 3}}, 0));
  EXPECT_EQ(r.max_us, 512u);
  EXPECT_EQ(r.p50_us, 512u);
}

TEST(Latency, DeltaWrapsU32BucketsAndKeepsOnlyThisIntervalsMax) {
  LatCounters before = Lat({{3, 0xfffffff0u}}, 9000, 4);
  LatCounters now = Lat({{3, 0x10u}}, 7000, 5);
  now.count = before.count + 0x20;
  LatAcc d = lat_delta(now, before, 5);
  EXPECT_EQ(d.count, 0x20u);
  EXPECT_EQ(d.hist[3], 0x20u);
  EXPECT_EQ(d.max_ns, 7000u);
  // A max stamped in an earlier interval is not this interval's.
  now.max_epoch = 4;
  EXPECT_EQ(lat_delta(now, before, 5).max_ns, 0u);
  // A re-created kernel entry (count went down) starts from zero.
  LatCounters fresh = Lat({{2, 4}}, 3000, 5);
  EXPECT_EQ(lat_delta(fresh, before, 5).count, 4u);
  EXPECT_EQ(lat_delta(fresh, before, 5).hist[2], 4u);
}

FlowSample FlowAt(uint32_t src_cpu, uint32_t dst_cpu, uint64_t bytes, uint64_t messages) {
  FlowSample f;
  f.key.src_cpu = src_cpu;
  f.key.dst_cpu = dst_cpu;
  f.bytes = bytes;
  f.messages = messages;
  return f;
}

TEST(Matrix, SumsBytesBySenderAndReceiverCpu) {
  auto m = cross_cpu_matrix(
      {FlowAt(0, 1, 100, 1), FlowAt(0, 1, 50, 2), FlowAt(1, 0, 7, 1), FlowAt(1, 1, 0, 0)});
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].src_cpu, 0u);
  EXPECT_EQ(m[0].dst_cpu, 1u);
  EXPECT_EQ(m[0].bytes, 150u);
  EXPECT_EQ(m[0].messages, 3u);
  EXPECT_EQ(m[1].src_cpu, 1u);
  EXPECT_EQ(m[1].dst_cpu, 0u);
  EXPECT_EQ(m[1].bytes, 7u);
}

TEST(Roles, FromCommandLines) {
  struct Case {
    std::vector<std::string> cmdline;
    uint32_t pid;
    std::string role;
  };
  const Case cases[] = {
      {{"/opt/chrome/chrome", "--type=renderer", "--lang=en"}, 10, "renderer"},
      {{"/usr/lib/slack/slack", "--type=gpu-process"}, 10, "gpu-process"},
      {{"/opt/chrome/chrome"}, 10, ""},
      {{"/usr/lib/firefox/firefox", "-contentproc", "-childID", "3", "12", "tab"}, 10, "tab"},
      {{"/usr/lib/firefox/firefox", "-contentproc", "12"}, 10, "content"},
      {{"postgres: checkpointer "}, 10, "checkpointer"},
      {{"postgres: app appdb 127.0.0.1(5432) idle"}, 10, "backend"},
      {{"/usr/lib/postgresql/15/bin/postgres", "-D", "/var/lib/pg"}, 10, "postmaster"},
      {{"nginx: master process /usr/sbin/nginx"}, 10, "master"},
      {{"nginx: worker process"}, 10, "worker"},
      {{"sshd: alice [priv]"}, 10, "monitor"},
      {{"sshd: alice@pts/0"}, 10, "session"},
      {{"/usr/sbin/sshd", "-D"}, 10, "listener"},
      {{"/lib/systemd/systemd", "--user"}, 10, "user-manager"},
      {{"/sbin/init", "splash"}, 1, "init"},
      {{"/lib/systemd/systemd", "--system"}, 1, "manager"},
      {{"/usr/bin/cat"}, 10, ""},
      {{}, 10, ""},
  };
  for (const auto& c : cases) EXPECT_EQ(process_role(c.cmdline, c.pid), c.role) << c.cmdline.size();
}

struct Tree {
  std::map<uint32_t, AppProcess> procs;
  void add(uint32_t pid, uint32_t ppid, std::string exe, std::vector<std::string> cmdline,
           uint32_t session = 1) {
    procs[pid] = AppProcess{pid, ppid, session, std::move(exe), "c", std::move(cmdline)};
  }
  std::function<std::optional<AppProcess>(uint32_t)> lookup() const {
    return [this](uint32_t pid) -> std::optional<AppProcess> {
      auto it = procs.find(pid);
      if (it == procs.end()) return std::nullopt;
      return it->second;
    };
  }
};

FlowRow FlowBetween(uint32_t src, uint32_t dst, uint64_t bytes) {
  FlowRow f;
  f.src = {src, src, "s", {}};
  f.dst = {dst, dst, "d", {}};
  f.bytes = bytes;
  return f;
}

TEST(Apps, ChromiumTreeWithRolesAndInternalAndExternalBytes) {
  Tree t;
  t.add(1, 0, "/sbin/init", {"/sbin/init"});
  t.add(100, 1, "/opt/chrome/chrome", {"/opt/chrome/chrome"});
  t.add(101, 100, "/opt/chrome/chrome", {"/opt/chrome/chrome", "--type=zygote"});
  t.add(102, 101, "/opt/chrome/chrome", {"/opt/chrome/chrome", "--type=renderer"});
  t.add(103, 100, "/opt/chrome/chrome", {"/opt/chrome/chrome", "--type=gpu-process"});
  // A helper with its own executable, in the same session.
  t.add(104, 100, "/opt/chrome/crashpad", {"/opt/chrome/crashpad", "--type=crashpad-handler"});
  // A child with another executable and no role is not part of it.
  t.add(105, 100, "/usr/bin/xdg-open", {"xdg-open", "x"});
  t.add(200, 1, "/usr/bin/cat", {"cat"});
  // The browser itself is idle in the interval: it is still the root.
  auto apps = group_apps({102, 103, 104, 105, 200}, t.lookup(),
                         {FlowBetween(102, 103, 1000), FlowBetween(103, 102, 10),
                          FlowBetween(105, 103, 7), FlowBetween(200, 1, 5)});
  ASSERT_EQ(apps.size(), 1u);
  const AppRow& a = apps[0];
  EXPECT_EQ(a.name, "chrome");
  EXPECT_EQ(a.root_pid, 100u);
  std::map<uint32_t, std::string> roles;
  for (const auto& m : a.members) roles[m.pid] = m.role;
  EXPECT_EQ(
      roles,
      (std::map<uint32_t, std::string>{
          {100, "browser"}, {102, "renderer"}, {103, "gpu-process"}, {104, "crashpad-handler"}}));
  EXPECT_EQ(a.internal_bytes, 1010u);
  EXPECT_EQ(a.external_bytes, 7u);
}

TEST(Apps, SameExecutableChainsAndSingletons) {
  Tree t;
  t.add(10, 1, "/usr/lib/postgresql/bin/postgres", {"/usr/lib/postgresql/bin/postgres", "-D", "x"});
  t.add(11, 10, "/usr/lib/postgresql/bin/postgres", {"postgres: checkpointer "});
  t.add(12, 10, "/usr/lib/postgresql/bin/postgres", {"postgres: u db [local] idle"});
  t.add(20, 1, "/usr/bin/lonely", {"lonely"});
  // A role argument in another session does not join.
  t.add(30, 20, "/usr/bin/other", {"other", "--type=renderer"}, 2);
  auto apps = group_apps({11, 12, 20, 30}, t.lookup(), {});
  ASSERT_EQ(apps.size(), 1u);
  EXPECT_EQ(apps[0].name, "postgres");
  EXPECT_EQ(apps[0].root_pid, 10u);
  ASSERT_EQ(apps[0].members.size(), 3u);
  EXPECT_EQ(apps[0].members[0].role, "postmaster");
  EXPECT_EQ(apps[0].members[1].role, "checkpointer");
  EXPECT_EQ(apps[0].members[2].role, "backend");
}

TEST(Apps, ParentLoopsAndUnknownPidsEndTheWalk) {
  Tree t;
  t.add(5, 6, "/x", {"x"});
  t.add(6, 5, "/x", {"x"});
  // A parent loop (pid reuse while reading /proc) ends the walk.
  auto apps = group_apps({5, 6, 7}, t.lookup(), {});
  EXPECT_LE(apps.size(), 1u);
}

// The aggregator with fake names: executables and sessions for apps.
class Names : public NameSource {
 public:
  std::map<uint32_t, uint32_t> ppids;
  std::map<uint32_t, std::vector<std::string>> cmdlines;
  std::map<uint32_t, std::string> exes;
  std::optional<std::string> comm(uint32_t pid, uint32_t) override {
    return "p" + std::to_string(pid);
  }
  std::optional<uint32_t> ppid(uint32_t pid) override {
    auto it = ppids.find(pid);
    return it == ppids.end() ? std::nullopt : std::optional<uint32_t>(it->second);
  }
  std::vector<std::string> cmdline(uint32_t pid) override { return cmdlines[pid]; }
  std::string channel_path(Kind, uint64_t, uint32_t, const std::set<uint32_t>&) override {
    return "";
  }
  std::optional<uint32_t> session(uint32_t) override { return 1; }
  std::string exe(uint32_t pid) override { return exes[pid]; }
};

constexpr size_t kCpus = 2;

KernelSample Sample(uint64_t epoch) {
  KernelSample s;
  s.time = 1000.0 + static_cast<double>(epoch);
  s.epoch = epoch;
  s.cpus.assign(kCpus, CpuCounters{});
  s.cpu_migrations.assign(kCpus, {0, 0});
  return s;
}

ThreadSample Thread(uint32_t tgid, uint32_t tid, std::map<size_t, ThreadCounters> per_cpu) {
  ThreadSample t;
  t.tgid = tgid;
  t.tid = tid;
  t.per_cpu.resize(kCpus);
  for (const auto& [c, v] : per_cpu) t.per_cpu[c] = v;
  return t;
}

ThreadCounters Runs(uint64_t switches, std::map<size_t, uint32_t> waits, uint64_t max_ns,
                    uint64_t epoch, uint64_t nr_migrations = 0) {
  ThreadCounters c;
  c.switches = switches;
  c.voluntary = switches;
  c.oncpu_ns = switches * 1000;
  c.runq = Lat(std::move(waits), max_ns, epoch);
  c.nr_migrations = nr_migrations;
  return c;
}

const ProcessRow* find_process(const Snapshot& s, uint32_t pid) {
  for (const auto& p : s.processes)
    if (p.pid == pid) return &p;
  return nullptr;
}

TEST(SchedAggregator, RunQueuePerThreadPerProcessAndPerCpu) {
  Names names;
  Aggregator agg(names, Filter{});
  KernelSample s = Sample(1);
  s.threads = {
      Thread(10, 10, {{0, Runs(3, {{0, 2}, {5, 1}}, 20'000, 1)}}),
      Thread(10, 11, {{0, Runs(1, {{12, 1}}, 3'000'000, 1)}, {1, Runs(2, {{1, 2}}, 1500, 1)}}),
      Thread(20, 20, {{1, Runs(4, {{0, 4}}, 400, 1)}})};
  s.cpu_migrations = {{5, 2}, {2, 5}};
  Snapshot snap = agg.update(s, 1.0);
  ASSERT_EQ(snap.cpus.size(), kCpus);
  EXPECT_EQ(snap.cpus[0].runq_latency.count, 4u);
  EXPECT_EQ(snap.cpus[0].runq_latency.max_us, 3000u);
  EXPECT_EQ(snap.cpus[1].runq_latency.count, 6u);
  EXPECT_EQ(snap.cpus[0].migrations, 5u);
  EXPECT_EQ(snap.cpus[0].migrations_out, 2u);
  const ProcessRow* p = find_process(snap, 10);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->runq_latency.count, 6u);
  EXPECT_EQ(p->runq_latency.max_us, 3000u);
  EXPECT_EQ(p->cpus_used, (std::vector<uint32_t>{0, 1}));
  EXPECT_EQ(p->oncpu_ns, 6000u);
  EXPECT_DOUBLE_EQ(p->parallelism, 6000 / 1e9);
  ASSERT_EQ(p->threads.size(), 2u);
  EXPECT_EQ(p->threads[0].cpus_used, (std::vector<uint32_t>{0}));
  EXPECT_EQ(p->threads[1].runq_latency.count, 3u);
  EXPECT_EQ(p->threads[1].runq_latency.p50_us, 2u);
  // Single-threaded or not tracked in the kernel: busy while it runs.
  EXPECT_EQ(p->busy_ns, 6000u);
  EXPECT_EQ(p->concurrent_ns, 0u);

  // Next interval: deltas, and a max from the earlier epoch is not reused.
  KernelSample s2 = Sample(2);
  s2.threads = {Thread(10, 10, {{0, Runs(5, {{0, 3}, {5, 2}}, 20'000, 1)}})};
  s2.cpu_migrations = {{6, 2}, {2, 6}};
  s2.proc_runs = {{10, 5000, 1000}};
  snap = agg.update(s2, 1.0);
  p = find_process(snap, 10);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->runq_latency.count, 2u);
  EXPECT_EQ(p->runq_latency.hist, (std::map<uint64_t, uint64_t>{{1, 1}, {32, 1}}));
  EXPECT_EQ(p->runq_latency.max_us, 16u) << "the top bucket's lower bound";
  EXPECT_EQ(snap.cpus[0].migrations, 1u);
  EXPECT_EQ(p->busy_ns, 5000u);
  EXPECT_EQ(p->concurrent_ns, 1000u);
}

TEST(SchedAggregator, MigrationsCountFromTheFirstSightUnlessForkedWhileTracing) {
  Names names;
  Aggregator agg(names, Filter{});
  KernelSample s = Sample(1);
  TaskRecord born;
  born.type = IPCTOP_REC_TASK_NEW;
  born.tgid = 30;
  born.tid = 30;
  born.ppid = 1;
  born.comm = "new";
  s.records = {born};
  s.threads = {Thread(10, 10, {{0, Runs(1, {}, 0, 1, 500)}}),
               Thread(30, 30, {{0, Runs(1, {}, 0, 1, 2)}, {1, Runs(1, {}, 0, 1, 3)}})};
  Snapshot snap = agg.update(s, 1.0);
  EXPECT_EQ(find_process(snap, 10)->migrations, 0u) << "a lifetime count is a baseline";
  EXPECT_EQ(find_process(snap, 30)->migrations, 3u) << "born while tracing";
  KernelSample s2 = Sample(2);
  s2.threads = {Thread(10, 10, {{0, Runs(1, {}, 0, 1, 500)}, {1, Runs(1, {}, 0, 2, 504)}})};
  snap = agg.update(s2, 1.0);
  EXPECT_EQ(find_process(snap, 10)->migrations, 4u);
}

TEST(SchedAggregator, WakeupsAndTheFlowsWakeupLatency) {
  Names names;
  Aggregator agg(names, Filter{});
  KernelSample s = Sample(1);
  ipctop_flow_key k{};
  k.kind = IPCTOP_KIND_PIPE;
  k.chan_ino = 7;
  k.src_tgid = 10;
  k.src_tid = 10;
  k.dst_tgid = 20;
  k.dst_tid = 21;
  k.src_cpu = 0;
  k.dst_cpu = 1;
  s.flows = {{k, 300, 3}};
  WakeupSample w;
  w.key = {10, 10, 20, 21};
  w.count = 3;
  w.cross_cpu = 2;
  w.latency = Lat({{5, 2}, {6, 1}}, 40'000, 1);
  WakeupSample irq;
  irq.key = {0, 0, 20, 21};
  irq.count = 4;
  s.wakeups = {w, irq};
  Snapshot snap = agg.update(s, 1.0);
  ASSERT_EQ(snap.wakeups.size(), 2u);
  EXPECT_EQ(snap.wakeups[0].waker.comm, "(interrupt)");
  EXPECT_EQ(snap.wakeups[0].count, 4u);
  EXPECT_EQ(snap.wakeups[1].waker.tid, 10u);
  EXPECT_EQ(snap.wakeups[1].wakee.tid, 21u);
  EXPECT_EQ(snap.wakeups[1].cross_cpu, 2u);
  ASSERT_EQ(snap.flows.size(), 1u);
  ASSERT_TRUE(snap.flows[0].wakeup_latency);
  EXPECT_EQ(snap.flows[0].wakeup_latency->count, 3u);
  EXPECT_EQ(snap.flows[0].wakeup_latency->p50_us, 32u);
  EXPECT_EQ(snap.flows[0].wakeup_latency->max_us, 40u);
  ASSERT_EQ(snap.matrix.size(), 1u);
  EXPECT_EQ(snap.matrix[0].bytes, 300u);
  EXPECT_EQ(snap.matrix[0].dst_cpu, 1u);

  // Idle pairs are deleted from the kernel after a few intervals.
  GcPlan plan;
  for (uint64_t e = 2; e < 10 && plan.wakeups.empty(); ++e) {
    KernelSample next = Sample(e);
    next.wakeups = {w, irq};
    agg.update(next, 1.0);
    plan = agg.collect_garbage();
  }
  EXPECT_EQ(plan.wakeups.size(), 2u);
}

TEST(SchedAggregator, ApplicationsFromExecutablesAndRoles) {
  Names names;
  names.ppids = {{100, 1}, {101, 100}, {102, 100}};
  names.exes = {{100, "/opt/app/app"}, {101, "/opt/app/app"}, {102, "/opt/app/app"}};
  names.cmdlines = {{100, {"/opt/app/app"}},
                    {101, {"/opt/app/app", "--type=renderer"}},
                    {102, {"/opt/app/app", "--type=utility"}}};
  Aggregator agg(names, Filter{});
  KernelSample s = Sample(1);
  ipctop_flow_key k{};
  k.kind = IPCTOP_KIND_PIPE;
  k.src_tgid = k.src_tid = 101;
  k.dst_tgid = k.dst_tid = 100;
  ipctop_flow_key out = k;
  out.src_tgid = out.src_tid = 102;
  out.dst_tgid = out.dst_tid = 555;
  s.flows = {{k, 64, 1}, {out, 10, 1}};
  Snapshot snap = agg.update(s, 1.0);
  ASSERT_EQ(snap.apps.size(), 1u);
  EXPECT_EQ(snap.apps[0].name, "app");
  EXPECT_EQ(snap.apps[0].root_pid, 100u);
  ASSERT_EQ(snap.apps[0].members.size(), 3u);
  EXPECT_EQ(snap.apps[0].members[0].role, "browser");
  EXPECT_EQ(snap.apps[0].members[1].role, "renderer");
  EXPECT_EQ(snap.apps[0].members[2].role, "utility");
  EXPECT_EQ(snap.apps[0].internal_bytes, 64u);
  EXPECT_EQ(snap.apps[0].external_bytes, 10u);
}

}  // namespace
