// Privileged end-to-end tests of the scheduler detail: real probes, real
// pinned threads and processes whose ground truth the generator reports.
// Other engineers load the same two CPUs: every figure is matched to the
// threads the test started, with bounds that hold under load and fail when
// the measure is wrong.
#include <set>

#include "harness.h"

namespace e2e {
namespace {

std::vector<json> trace_sched(const std::vector<std::string>& gen_args, json& truth) {
  Tracer tracer({"--json", "-d", "0.5"});
  EXPECT_TRUE(tracer.wait_attached()) << tracer.err();
  truth = run_ipcgen(gen_args);
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  Exit e = tracer.stop();
  EXPECT_TRUE(e.exited && e.code == 0) << tracer.err();
  return tracer.snapshots();
}

struct ThreadTotal {
  uint64_t switches = 0, voluntary = 0, involuntary = 0, migrations = 0, handoffs = 0;
  uint64_t runq_count = 0, runq_max = 0;
  double on_cpu_s = 0;
  std::set<uint64_t> cpus;
  std::map<uint64_t, uint64_t> runq_hist;
};

ThreadTotal thread_total(const std::vector<json>& snaps, uint64_t tid) {
  ThreadTotal t;
  for (const auto& s : snaps)
    for (const auto& p : s.at("processes"))
      for (const auto& th : p.at("threads")) {
        if (th.at("tid") != tid) continue;
        t.switches += th.at("ctx_switches").get<uint64_t>();
        t.voluntary += th.at("voluntary").get<uint64_t>();
        t.involuntary += th.at("involuntary").get<uint64_t>();
        t.migrations += th.at("migrations").get<uint64_t>();
        t.handoffs += th.at("handoffs").get<uint64_t>();
        t.on_cpu_s += th.at("on_cpu_s").get<double>();
        for (const auto& c : th.at("cpus_used")) t.cpus.insert(c.get<uint64_t>());
        const auto& rq = th.at("runq_latency_us");
        t.runq_count += rq.at("count").get<uint64_t>();
        t.runq_max = std::max(t.runq_max, rq.at("max").get<uint64_t>());
        for (const auto& [bound, n] : rq.at("hist").items())
          t.runq_hist[std::stoull(bound)] += n.get<uint64_t>();
      }
  return t;
}

struct ProcessTotal {
  double on_cpu_s = 0, busy_s = 0, concurrent_s = 0;
  uint64_t handoffs = 0;
};

ProcessTotal process_total(const std::vector<json>& snaps, uint64_t pid) {
  ProcessTotal t;
  for (const auto& s : snaps)
    for (const auto& p : s.at("processes"))
      if (p.at("pid") == pid) {
        t.on_cpu_s += p.at("on_cpu_s").get<double>();
        t.busy_s += p.at("busy_s").get<double>();
        t.concurrent_s += p.at("concurrent_s").get<double>();
        t.handoffs += p.at("handoffs").get<uint64_t>();
      }
  return t;
}

std::pair<uint64_t, uint64_t> wakeups_between(const std::vector<json>& snaps, uint64_t waker,
                                              uint64_t wakee) {
  uint64_t count = 0, cross = 0;
  for (const auto& s : snaps)
    for (const auto& w : s.at("wakeups"))
      if (w.at("waker").at("tid") == waker && w.at("wakee").at("tid") == wakee) {
        count += w.at("count").get<uint64_t>();
        cross += w.at("cross_cpu").get<uint64_t>();
      }
  return {count, cross};
}

TEST(Sched, PinnedRoundTripsPerCoreWakeupsAndRunQueue) {
  constexpr uint64_t kRoundTrips = 3000;
  json truth;
  auto snaps = trace_sched({"--kind", "pingpong", "--msgs", std::to_string(kRoundTrips),
                            "--writer-cpu", "0", "--reader-cpu", "1"},
                           truth);
  ASSERT_EQ(truth.at("sides").size(), 2u);
  const json& initiator = truth.at("sides").at(0);
  const json& echo = truth.at("sides").at(1);
  for (const json* side : {&initiator, &echo}) {
    SCOPED_TRACE(side->dump());
    ThreadTotal t = thread_total(snaps, side->at("tid"));
    // Its pinned CPU is among those it ran on (the initiator pins itself
    // after forking, so it may also have started on the other).
    EXPECT_TRUE(t.cpus.count(side->at("cpu").get<uint64_t>()));
    // /proc's count since the fork, at the end of the round trips, plus
    // the few switches of the thread's exit (see ContextSwitches.*).
    uint64_t life = side->at("voluntary_life");
    EXPECT_GE(t.voluntary, life);
    EXPECT_LE(t.voluntary, life + 10);
    // Every run that ended while tracing has its run-queue wait measured:
    // all but the run going on when ipctop attached.
    EXPECT_LE(t.runq_count, t.switches);
    EXPECT_GE(t.runq_count + 10, t.switches);
    EXPECT_LE(t.migrations, 3u) << "pinned threads barely move";
  }
  // Each round trip wakes the other side once, on the other core (a reply
  // may arrive before the reader sleeps: then there is no wakeup).
  for (auto [waker, wakee] : {std::pair{&initiator, &echo}, std::pair{&echo, &initiator}}) {
    auto [count, cross] = wakeups_between(snaps, waker->at("tid"), wakee->at("tid"));
    EXPECT_GE(count, kRoundTrips * 9 / 10) << waker->dump();
    EXPECT_LE(count, kRoundTrips + 10) << waker->dump();
    EXPECT_GE(cross + 5, count) << "pinned to different cores";
  }
  // The send-to-running latency is on the flows of the pair.
  uint64_t timed = 0, p50 = 0;
  for (const auto& s : snaps)
    for (const auto& f : s.at("flows"))
      if (f.at("src").at("tid") == initiator.at("tid") && f.at("dst").at("tid") == echo.at("tid") &&
          f.contains("wakeup_latency_us")) {
        timed += f.at("wakeup_latency_us").at("count").get<uint64_t>();
        p50 = std::max(p50, f.at("wakeup_latency_us").at("p50").get<uint64_t>());
      }
  EXPECT_GE(timed, kRoundTrips * 9 / 10);
  EXPECT_GT(p50, 0u) << "a cross-core wakeup takes microseconds";
  EXPECT_EQ(total_lost(snaps), 0u);
}

TEST(Sched, CpuBoundPairOnOneCoreTakesTurnsOnTwoRunsAtOnce) {
  if (std::thread::hardware_concurrency() < 2) GTEST_FAIL() << "needs two CPUs";
  struct Run {
    double parallelism = 0, truth_parallelism = 0, concurrent_share = 0, concurrent_s = 0,
           expected_overlap_s = 0;
  };
  auto run = [](const char* second_cpu) {
    json truth;
    auto snaps = trace_sched(
        {"--kind", "spin", "--ms", "1500", "--writer-cpu", "0", "--reader-cpu", second_cpu}, truth);
    ProcessTotal p = process_total(snaps, truth.at("pid"));
    double truth_cpu_s = 0;
    for (const auto& t : truth.at("threads")) {
      truth_cpu_s += t.at("cpu_ns").get<double>() / 1e9;
      ThreadTotal tt = thread_total(snaps, t.at("tid"));
      // The thread's own CPU clock and ipctop read the same kernel counter;
      // the thread reads its clock just before it exits, ipctop sees the
      // runs up to the exit. Every run counts, including a run that began
      // with a switch the kernel did not trace (cpus[].switches_untraced).
      EXPECT_GE(tt.on_cpu_s, t.at("cpu_ns").get<double>() / 1e9 - 0.002) << t.dump();
      EXPECT_LE(tt.on_cpu_s, t.at("cpu_ns").get<double>() / 1e9 + 0.02) << t.dump();
      if (std::string(second_cpu) == "0") {
        EXPECT_GE(tt.involuntary, 5u) << "two spinners on one core preempt each other";
      }
    }
    EXPECT_GE(p.on_cpu_s, truth_cpu_s - 0.004);
    EXPECT_LE(p.on_cpu_s, truth_cpu_s + 0.04);
    EXPECT_GT(p.busy_s, 0.0);
    // Never more concurrent time than busy time, nor busy time than CPU time.
    EXPECT_LE(p.concurrent_s, p.busy_s + 1e-3);
    EXPECT_LE(p.busy_s, p.on_cpu_s * 1.05 + 0.01);
    std::cerr << "spin on CPUs 0 and " << second_cpu << ": cpu " << truth_cpu_s << " s, wall "
              << truth.at("wall_s") << " s, busy " << p.busy_s << " s, concurrent "
              << p.concurrent_s << " s, handoffs " << p.handoffs << "\n";
    Run r;
    const double wall = truth.at("wall_s").get<double>();
    // ipctop's parallelism (its on-CPU time over the wall time) is the
    // kernel's: the threads' own CPU clocks over the same wall time.
    r.parallelism = p.on_cpu_s / wall;
    r.truth_parallelism = truth_cpu_s / wall;
    EXPECT_NEAR(r.parallelism, r.truth_parallelism, 0.03);
    r.concurrent_s = p.concurrent_s;
    // Two threads that each get a share of their own CPU independently of
    // the other overlap for about the product of the shares.
    r.expected_overlap_s = wall;
    for (const auto& t : truth.at("threads"))
      r.expected_overlap_s *= t.at("cpu_ns").get<double>() / 1e9 / wall;
    r.concurrent_share = p.busy_s > 0 ? p.concurrent_s / p.busy_s : 0;
    // (Busy and concurrent time are added when a thread of the process
    // switches in or out: spinners that run uninterrupted to their exit
    // add theirs late, so on_cpu_s - busy_s need not equal concurrent_s.)
    return r;
  };
  Run one = run("0");
  // One core cannot run more than one thread at once, so the kernel's
  // thread clocks add up to at most the wall time there, and ipctop says so.
  // Except where the kernel's scheduler clock runs ahead of its wall clock:
  // under QEMU's TCG the threads' clocks added up to 1.05 to 1.09 times the
  // wall time on one core, and ipctop shows the kernel's figure.
  EXPECT_LE(one.parallelism, std::max(1.02, one.truth_parallelism + 0.02))
      << "one core cannot run more than one thread at once";
  if (one.truth_parallelism > 1.02)
    std::cerr << "the kernel's thread clocks add up to " << one.truth_parallelism
              << " times the wall time on one core: its clocks disagree\n";
  EXPECT_LE(one.concurrent_share, 0.02) << "on one core the threads only take turns";
  Run two = run("1");
  // How much they overlap depends on the other load on the machine; that
  // they do at all, and far more than on one core, does not.
  EXPECT_GT(two.concurrent_s, 0.25 * two.expected_overlap_s) << "on two cores the spinners overlap";
  EXPECT_LT(two.concurrent_s, 4 * two.expected_overlap_s + 0.05);
  EXPECT_GT(two.concurrent_share, one.concurrent_share);
}

TEST(Sched, InducedRunQueueDelayShowsInTheHistogram) {
  json truth;
  auto snaps = trace_sched({"--kind", "runqdelay", "--ms", "1000", "--writer-cpu", "1"}, truth);
  ThreadTotal t = thread_total(snaps, truth.at("victim_tid"));
  uint64_t slow = 0;  // waits of 1 ms or more (buckets above 1024 us)
  for (const auto& [bound, n] : t.runq_hist)
    if (bound > 1024) slow += n;
  // Its wakeups land in the hog's 10 ms busy phases about half the time.
  EXPECT_GE(slow, 5u) << truth.dump();
  EXPECT_GE(t.runq_max, 2000u) << truth.dump();
  EXPECT_LE(t.runq_max, 200000u) << "the hog never holds the CPU that long";
  EXPECT_GE(truth.at("worst_oversleep_us").get<uint64_t>(), 2000u) << "the delay was induced";
}

TEST(Sched, CrossCpuMatrixPutsAPinnedWritersBytesInItsCell) {
  json truth;
  auto snaps = trace_sched({"--kind", "pipe", "--msgs", "3000", "--size", "4096", "--writer-cpu",
                            "0", "--reader-cpu", "1"},
                           truth);
  const uint64_t bytes = truth.at("total_bytes");
  std::map<std::pair<uint64_t, uint64_t>, uint64_t> cells;
  for (const auto& s : snaps)
    for (const auto& c : s.at("matrix"))
      cells[{c.at("src_cpu"), c.at("dst_cpu")}] += c.at("bytes").get<uint64_t>();
  EXPECT_GE((cells[{0, 1}]), bytes);
  // The other cells hold only other processes' traffic, far less than 12 MB.
  EXPECT_LT((cells[{1, 0}]), bytes);
  EXPECT_EQ(total_lost(snaps), 0u);
}

TEST(Sched, FakeMultiProcessApplicationGroupedWithRoles) {
  json truth;
  auto snaps = trace_sched({"--kind", "app", "--msgs", "500", "--linger-ms", "1500"}, truth);
  const uint64_t root = truth.at("root_pid");
  std::map<uint64_t, std::string> roles;
  uint64_t internal = 0;
  for (const auto& s : snaps)
    for (const auto& a : s.at("apps")) {
      if (a.at("root_pid") != root) continue;
      EXPECT_EQ(a.at("name"), "ipcgen");
      internal += a.at("internal_bytes").get<uint64_t>();
      for (const auto& m : a.at("members")) roles[m.at("pid")] = m.at("role");
    }
  EXPECT_EQ(roles[root], "browser");
  for (const auto& m : truth.at("members"))
    EXPECT_EQ(roles[m.at("pid").get<uint64_t>()], m.at("role").get<std::string>()) << m.dump();
  EXPECT_EQ(roles.size(), 4u);
  EXPECT_EQ(internal, truth.at("internal_bytes").get<uint64_t>());
}

}  // namespace
}  // namespace e2e
