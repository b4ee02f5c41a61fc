#include "model/Aggregator.h"

#include "model/Sched.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <tuple>

#include <fmt/format.h>

#include "model/Signals.h"

namespace ipctop {

namespace {

// Flows idle this many intervals are dropped from the kernel map; an exited
// task's name is kept this long for data still in flight from it.
constexpr uint64_t kFlowIdleUpdates = 5;
constexpr uint64_t kDeadTaskUpdates = 30;

struct LostPoint {
  uint32_t counter;
  const char* name;
};
constexpr LostPoint kLostPoints[] = {
    {IPCTOP_LOST_FLOW_MAP_FULL, "flow_map_full"},
    {IPCTOP_LOST_THREAD_MAP_FULL, "thread_map_full"},
    {IPCTOP_LOST_QUEUE_MAP_FULL, "queue_map_full"},
    {IPCTOP_LOST_QUEUE_OVERFLOW, "queue_overflow"},
    {IPCTOP_LOST_RINGBUF_FULL, "ringbuf_full"},
    {IPCTOP_LOST_MMSG_TRUNCATED, "mmsg_truncated"},
    {IPCTOP_LOST_UNSUPPORTED, "unsupported_path"},
    {IPCTOP_LOST_SHM_UNRESOLVED, "shm_unresolved"},
    {IPCTOP_LOST_WAKEUP_MAP_FULL, "wakeup_map_full"},
    {IPCTOP_LOST_PROC_MAP_FULL, "proc_map_full"},
    {IPCTOP_LOST_WAKE_STAMP, "wake_stamp_failed"},
    {IPCTOP_LOST_FD_PASS, "fds_untracked"},
};
static_assert(std::size(kLostPoints) == IPCTOP_CNT_MAX - IPCTOP_LOST_FIRST,
              "every kernel drop point has a name");

uint64_t delta(uint64_t now, uint64_t before) { return now >= before ? now - before : now; }

ThreadCounters delta(const ThreadCounters& a, const ThreadCounters& b) {
  return {delta(a.switches, b.switches), delta(a.voluntary, b.voluntary),
          delta(a.involuntary, b.involuntary), delta(a.oncpu_ns, b.oncpu_ns)};
}

// Kinds whose endpoints send and receive messages rather than write and
// read a stream.
bool is_message_kind(Kind k) {
  return k == Kind::unix_dgram || k == Kind::unix_seqpacket || k == Kind::udp ||
         k == Kind::sysv_msg || k == Kind::posix_mq || k == Kind::signal;
}

bool is_net_kind(Kind k) { return k == Kind::tcp || k == Kind::udp; }

bool remote(uint32_t tid) { return tid == IPCTOP_REMOTE_TID; }

// Kinds whose flows move no bytes: signals, and wakeups on shared memory.
// Their per-CPU splits count messages instead.
bool is_count_kind(Kind k) {
  return k == Kind::signal || k == Kind::sysv_shm || k == Kind::posix_shm;
}

// The kernel's dev_t (MINORBITS = 20) as major:minor.
std::string kernel_dev(uint32_t dev) { return fmt::format("{}:{}", dev >> 20, dev & 0xfffff); }

}  // namespace

bool WakeupKeyLess::operator()(const ipctop_wakeup_key& a,
                               const ipctop_wakeup_key& b) const noexcept {
  return std::tie(a.waker_tgid, a.waker_tid, a.wakee_tgid, a.wakee_tid) <
         std::tie(b.waker_tgid, b.waker_tid, b.wakee_tgid, b.wakee_tid);
}

size_t FlowKeyHash::operator()(const ipctop_flow_key& k) const noexcept {
  uint64_t h = 1469598103934665603ull;
  const auto* p = reinterpret_cast<const unsigned char*>(&k);
  for (size_t i = 0; i < sizeof(k); ++i) h = (h ^ p[i]) * 1099511628211ull;
  return static_cast<size_t>(h);
}

bool FlowKeyEq::operator()(const ipctop_flow_key& a, const ipctop_flow_key& b) const noexcept {
  return std::memcmp(&a, &b, sizeof(a)) == 0;
}

std::string channel_id(Kind kind, uint64_t ino, uint32_t dev) {
  switch (kind) {
    case Kind::pipe:
      return fmt::format("pipe:[{}]", ino);
    case Kind::fifo:
      return fmt::format("fifo:{}:{}", kernel_dev(dev), ino);
    case Kind::sysv_msg:
      return fmt::format("sysv_msg:{}", ino);
    case Kind::posix_mq:
      return fmt::format("posix_mq:[{}]", ino);
    case Kind::file:
      return fmt::format("file:{}:{}", kernel_dev(dev), ino);
    case Kind::tcp:
    case Kind::udp:
      // Without its addresses (see net_channel_id): the hash of the tuple.
      return fmt::format("{}:#{:016x}", kind_name(kind), ino);
    case Kind::sysv_shm:
    case Kind::posix_shm:
      return shm_channel_id(kind, ino, dev);
    default:
      return fmt::format("unix:[{}]", ino);
  }
}

std::string address(const uint8_t (&addr)[16], uint16_t port) {
  static constexpr uint8_t kV4Mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(addr, kV4Mapped, sizeof(kV4Mapped)) == 0)
    return fmt::format("{}.{}.{}.{}:{}", addr[12], addr[13], addr[14], addr[15], port);
  // RFC 5952: lower case, the longest run of two or more zero groups as ::.
  uint16_t g[8];
  for (int i = 0; i < 8; ++i) g[i] = static_cast<uint16_t>(addr[2 * i] << 8 | addr[2 * i + 1]);
  int best = -1, best_len = 1;
  for (int i = 0; i < 8;) {
    int j = i;
    while (j < 8 && g[j] == 0) ++j;
    if (j - i > best_len) best = i, best_len = j - i;
    i = j == i ? i + 1 : j;
  }
  std::string out;
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out += ':';
    out += fmt::format("{:x}", g[i]);
  }
  return fmt::format("[{}]:{}", out, port);
}

std::string net_path(const ipctop_conn& c) {
  return address(c.saddr, c.sport) + "->" + address(c.daddr, c.dport);
}

std::string net_channel_id(Kind kind, const ipctop_conn& c) {
  return fmt::format("{}:{}", kind_name(kind), net_path(c));
}

Aggregator::Task& Aggregator::task(uint32_t tgid, uint32_t tid) {
  auto [it, inserted] = tasks_.try_emplace(tid);
  if (inserted) {
    it->second.tgid = tgid;
    it->second.comm = names_.comm(tgid, tid).value_or("");
  }
  return it->second;
}

Aggregator::Process& Aggregator::process(uint32_t pid) {
  auto [it, inserted] = processes_.try_emplace(pid);
  if (inserted) {
    it->second.ppid = names_.ppid(pid).value_or(0);
    auto leader = tasks_.find(pid);
    it->second.comm = leader != tasks_.end() && !leader->second.comm.empty()
                          ? leader->second.comm
                          : names_.comm(pid, pid).value_or("");
  }
  if (!it->second.cmdline_read && !it->second.exited) {
    it->second.cmdline = names_.cmdline(pid);
    it->second.cmdline_read = true;
  }
  return it->second;
}

TaskRef Aggregator::ref(uint32_t pid, uint32_t tid) {
  if (tid == 0) return {0, 0, "(unknown)", {}};
  if (remote(tid)) return {0, 0, {}, "(unknown)"};
  return {pid, tid, task(pid, tid).comm, {}};
}

void Aggregator::apply(const TaskRecord& r) {
  Task& t = tasks_[r.tid];
  t.tgid = r.tgid;
  switch (r.type) {
    case IPCTOP_REC_TASK_NEW:
      t.comm = r.comm;
      t.ppid = r.ppid;
      t.exited = false;
      t.born_traced = true;
      if (r.tid == r.tgid) {
        Process& p = processes_[r.tgid];
        p = Process{};
        p.ppid = r.ppid;
        p.comm = r.comm;
      }
      break;
    case IPCTOP_REC_TASK_EXEC: {
      t.comm = r.comm;
      Process& p = process(r.tgid);
      p.comm = r.comm;
      if (r.ppid) p.ppid = r.ppid;
      p.cmdline_read = false;
      p.identity_read = false;
      break;
    }
    case IPCTOP_REC_TASK_EXIT:
      t.comm = r.comm;
      t.exited = true;
      t.exit_seen_update = updates_;
      // A process first seen as it exits still gets its parent (while /proc
      // has it) and the name from the record.
      if (r.tid == r.tgid) {
        Process& p = process(r.tgid);
        p.comm = r.comm;
        p.exited = true;
      }
      break;
    case IPCTOP_REC_TASK_RENAME:
      t.comm = r.comm;
      if (r.tid == r.tgid) process(r.tgid).comm = r.comm;
      break;
    default:
      break;
  }
}

const std::string& Aggregator::path_of(Kind kind, uint64_t ino, uint32_t dev,
                                       const std::set<uint32_t>& pids) {
  std::string id = channel_id(kind, ino, dev);
  auto it = paths_.find(id);
  if (it == paths_.end() || it->second.empty())
    it = paths_.insert_or_assign(id, names_.channel_path(kind, ino, dev, pids)).first;
  return it->second;
}

Snapshot Aggregator::update(const KernelSample& sample, double interval_s) {
  ++updates_;
  // Task and shared memory records in the order the kernel made them: a
  // fork copies the attachments its parent had at that moment.
  {
    size_t t = 0, m = 0;
    const auto& tasks = sample.records;
    const auto& shms = sample.shm_records;
    while (t < tasks.size() || m < shms.size()) {
      if (m == shms.size() || (t < tasks.size() && tasks[t].ts_ns <= shms[m].ts_ns)) {
        apply(tasks[t]);
        shm_.apply(tasks[t++]);
      } else {
        shm_.apply(shms[m++]);
      }
    }
  }
  shm_.refresh(sample.time);
  // Received descriptors, in the kernel's order with the task records: a
  // fork after the receive copies it, an exit drops it.
  {
    size_t t = 0, d = 0;
    const auto& tasks = sample.records;
    const auto& fds = sample.fd_records;
    while (d < fds.size() || (t < tasks.size() && fdpass_.holdings())) {
      if (d == fds.size() || (t < tasks.size() && tasks[t].ts_ns <= fds[d].ts_ns))
        fdpass_.apply(tasks[t++]);
      else
        fdpass_.apply(fds[d++]);
    }
  }
  fdpass_.refresh(sample.time);

  Snapshot snap;
  snap.time = sample.time;
  snap.interval_s = interval_s;

  // CPUs: scheduler counters here, IPC bytes from the flows below.
  const size_t ncpu = sample.cpus.size();
  prev_cpus_.resize(ncpu);
  snap.cpus.resize(ncpu);
  CpuCounters totals{};
  for (size_t c = 0; c < ncpu; ++c) {
    CpuCounters d{};
    for (size_t i = 0; i < d.size(); ++i) {
      d[i] = delta(sample.cpus[c][i], prev_cpus_[c][i]);
      totals[i] += d[i];
    }
    prev_cpus_[c] = sample.cpus[c];
    CpuRow& row = snap.cpus[c];
    row.cpu = static_cast<uint32_t>(c);
    // The probe counts the two kinds; every switch is one or the other.
    row.ctx_switches = d[IPCTOP_CNT_VOLUNTARY] + d[IPCTOP_CNT_INVOLUNTARY];
    row.voluntary = d[IPCTOP_CNT_VOLUNTARY];
    row.involuntary = d[IPCTOP_CNT_INVOLUNTARY];
    row.switches_untraced = d[IPCTOP_CNT_SWITCHES_UNTRACED];
  }
  // Busy time per CPU from the threads' run time on it; idle is the rest.
  std::vector<uint64_t> busy_ns(ncpu);
  // Migrations in and out of each CPU (sched_migrate_task).
  prev_cpu_migrations_.resize(sample.cpu_migrations.size());
  for (size_t c = 0; c < sample.cpu_migrations.size(); ++c) {
    const auto& now = sample.cpu_migrations[c];
    auto& before = prev_cpu_migrations_[c];
    if (c < ncpu) {
      snap.cpus[c].migrations = delta(now[0], before[0]);
      snap.cpus[c].migrations_out = delta(now[1], before[1]);
    }
    before = now;
  }
  // Run-queue waits per CPU (over every thread, like the busy time) and
  // per thread.
  std::vector<LatAcc> cpu_runq(ncpu);
  std::unordered_map<uint32_t, LatAcc> thread_runq;

  // Threads, by process: scheduler counters from the kernel's thread table,
  // IPC bytes from the flows below.
  std::map<uint32_t, std::map<uint32_t, ThreadRow>> threads;
  for (const auto& ts : sample.threads) {
    auto& prev = prev_threads_[ts.tid];
    const bool seen_before = !prev.empty();
    prev.resize(ts.per_cpu.size());
    ThreadRow row;
    row.tid = ts.tid;
    LatAcc runq;
    // se.nr_migrations is the task's lifetime count, stored at each
    // switch-out in the slot of that CPU: the largest slot is the latest.
    uint64_t migrations_before = 0, migrations_now = 0;
    for (size_t c = 0; c < ts.per_cpu.size(); ++c) {
      ThreadCounters d = delta(ts.per_cpu[c], prev[c]);
      LatAcc w = lat_delta(ts.per_cpu[c].runq, prev[c].runq, sample.epoch);
      migrations_before = std::max(migrations_before, prev[c].nr_migrations);
      migrations_now = std::max(migrations_now, ts.per_cpu[c].nr_migrations);
      row.handoffs += delta(ts.per_cpu[c].handoffs, prev[c].handoffs);
      prev[c] = ts.per_cpu[c];
      row.ctx_switches += d.switches;
      row.voluntary += d.voluntary;
      row.involuntary += d.involuntary;
      row.oncpu_ns += d.oncpu_ns;
      if (d.switches || d.oncpu_ns) row.cpus_used.push_back(static_cast<uint32_t>(c));
      runq.add(w);
      if (c < ncpu) {
        busy_ns[c] += d.oncpu_ns;
        cpu_runq[c].add(w);
      }
    }
    // First seen: the lifetime count is all new only for a thread forked
    // while tracing; otherwise it is the baseline.
    auto known = tasks_.find(ts.tid);
    if (seen_before)
      row.migrations = delta(migrations_now, migrations_before);
    else if (known != tasks_.end() && known->second.born_traced)
      row.migrations = migrations_now;
    if ((row.ctx_switches || row.oncpu_ns) && filter_.wants(ts.tgid)) {
      threads[ts.tgid][ts.tid] = row;
      thread_runq[ts.tid] = runq;
    }
  }
  for (size_t c = 0; c < ncpu; ++c) snap.cpus[c].runq_latency = latency_row(cpu_runq[c]);

  const auto interval_ns = static_cast<uint64_t>(interval_s * 1e9);
  for (size_t c = 0; c < ncpu; ++c)
    snap.cpus[c].idle_ns = interval_ns > busy_ns[c] ? interval_ns - busy_ns[c] : 0;

  // Flows: merge the per-CPU-pair kernel keys into one row per
  // (channel, writer thread, reader thread).
  if (conns_.size() > 65536) conns_.clear();  // re-learnt from the kernel's table
  using FlowId = std::tuple<uint32_t, uint64_t, uint32_t, uint32_t, uint32_t, uint32_t, uint32_t>;
  std::map<FlowId, FlowRow> flows;
  std::map<std::string, ChannelRow> channels;
  std::vector<FlowSample> flow_deltas;  // for the cross-CPU matrix
  for (const auto& fs : sample.flows) {
    FlowPrev& prev = prev_flows_[fs.key];
    uint64_t bytes = delta(fs.bytes, prev.bytes);
    uint64_t messages = delta(fs.messages, prev.messages);
    prev.bytes = fs.bytes;
    prev.messages = fs.messages;
    if (!bytes && !messages) continue;
    prev.last_change = updates_;
    const auto& k = fs.key;
    auto kind = kind_from_abi(k.kind);
    if (!kind) continue;
    if (!filter_.wants(k.src_tgid) && !filter_.wants(k.dst_tgid)) continue;
    // A signal's chan_dev is what became of it: one row per signal, with
    // the discarded ones counted apart from the delivered messages.
    const bool signal = *kind == Kind::signal;
    FlowId id{k.kind, k.chan_ino, signal ? 0 : k.chan_dev, k.src_tgid, k.src_tid, k.dst_tgid,
              k.dst_tid};
    auto [it, inserted] = flows.try_emplace(id);
    FlowRow& f = it->second;
    if (inserted) {
      f.kind = *kind;
      f.channel = signal ? fmt::format("signal:{}:{}", k.dst_tgid,
                                       signal_name(static_cast<int>(k.chan_ino)))
                         : channel_id(*kind, k.chan_ino, k.chan_dev);
      f.src = signal && k.src_tid == 0 ? TaskRef{0, 0, "(kernel)", {}}
                                       : ref(k.src_tgid, k.src_tid);
      f.dst = ref(k.dst_tgid, k.dst_tid);
      if (signal) f.signo = static_cast<int>(k.chan_ino);
      if (is_net_kind(*kind)) {
        // TCP/UDP: the channel is the directed connection, and a remote
        // end is shown by its address.
        auto c = sample.conns.find(k.chan_ino);
        if (c != sample.conns.end()) conns_[k.chan_ino] = c->second;
        if (auto known = conns_.find(k.chan_ino); known != conns_.end()) {
          const ipctop_conn& conn = known->second;
          f.channel = net_channel_id(*kind, conn);
          paths_[f.channel] = net_path(conn);
          if (remote(k.src_tid)) f.src.addr = address(conn.saddr, conn.sport);
          if (remote(k.dst_tid)) f.dst.addr = address(conn.daddr, conn.dport);
        }
      }
    }
    if (signal && k.chan_dev != IPCTOP_SIG_DELIVERED) {
      uint64_t& discarded = k.chan_dev == IPCTOP_SIG_IGNORED     ? f.signals_ignored
                            : k.chan_dev == IPCTOP_SIG_COALESCED ? f.signals_coalesced
                                                                 : f.signals_overflow;
      discarded += messages;
      messages = 0;
    }
    f.bytes += bytes;
    f.messages += messages;
    flow_deltas.push_back({k, bytes, messages});
    // A remote end has no CPU here.
    const uint64_t weight = is_count_kind(*kind) ? messages : bytes;
    if (!remote(k.src_tid)) f.cpus[k.src_cpu] += weight;
    if (!remote(k.dst_tid)) f.rx_cpus[k.dst_cpu] += weight;
    if (k.src_cpu < snap.cpus.size()) snap.cpus[k.src_cpu].tx_bytes += bytes;
    if (k.dst_cpu < snap.cpus.size()) snap.cpus[k.dst_cpu].rx_bytes += bytes;
    if (k.src_tid && !remote(k.src_tid) && filter_.wants(k.src_tgid)) {
      ThreadRow& t = threads[k.src_tgid][k.src_tid];
      t.tid = k.src_tid;
      t.tx_bytes += bytes;
      t.tx_messages += messages;
    }
    if (!remote(k.dst_tid) && filter_.wants(k.dst_tgid)) {
      ThreadRow& t = threads[k.dst_tgid][k.dst_tid];
      t.tid = k.dst_tid;
      t.rx_bytes += bytes;
      t.rx_messages += messages;
    }
  }
  struct ChannelObject {
    uint64_t ino;
    uint32_t dev;
  };
  std::map<std::string, ChannelObject> objects;
  for (auto& [id, f] : flows) {
    auto [it, inserted] = channels.try_emplace(f.channel);
    ChannelRow& ch = it->second;
    if (inserted) {
      ch.id = f.channel;
      ch.kind = f.kind;
      objects[f.channel] = {std::get<1>(id), std::get<2>(id)};
    }
    ch.bytes += f.bytes;
    ch.messages += f.messages;
    bool msg = is_message_kind(f.kind);
    bool wake = f.kind == Kind::sysv_shm || f.kind == Kind::posix_shm;
    if (f.src.tid)
      ch.endpoints.push_back({f.src.pid, f.src.tid, wake ? "waker" : msg ? "sender" : "writer"});
    if (f.dst.tid)
      ch.endpoints.push_back({f.dst.pid, f.dst.tid, wake ? "wakee" : msg ? "receiver" : "reader"});
  }
  // Shared memory segments: size, key, creator and the attached processes.
  shm_.fill(channels, [&](uint32_t pid) { return filter_.wants(pid); });
  for (const auto& m : fdpass_.fill(
           channels, [&](uint32_t pid) { return filter_.wants(pid); },
           [&](uint32_t dev, const std::string& name) { return shm_.path_for(dev, name); }))
    objects[m.id] = {m.ino, m.dev};
  for (auto& [cid, ch] : channels) {
    std::sort(ch.endpoints.begin(), ch.endpoints.end());
    ch.endpoints.erase(
        std::unique(ch.endpoints.begin(), ch.endpoints.end(),
                    [](const auto& a, const auto& b) { return !(a < b) && !(b < a); }),
        ch.endpoints.end());
    if (auto known = paths_.find(cid); is_net_kind(ch.kind)) {
      if (known != paths_.end()) ch.path = known->second;
    } else if (ch.kind != Kind::pipe && ch.kind != Kind::signal && ch.path.empty()) {
      std::set<uint32_t> pids;
      for (const auto& e : ch.endpoints) pids.insert(e.pid);
      const ChannelObject& o = objects[cid];
      ch.path = path_of(ch.kind, o.ino, o.dev, pids);
    }
    snap.channels.push_back(std::move(ch));
  }
  snap.matrix = cross_cpu_matrix(flow_deltas);

  // Wakeups: one row per waker -> wakee pair active in the interval; the
  // pairs' send-to-running latency is each flow's wakeup latency.
  std::map<std::pair<uint32_t, uint32_t>, LatAcc> pair_latency;  // (waker tid, wakee tid)
  for (const auto& ws : sample.wakeups) {
    WakeupPrev& prev = prev_wakeups_[ws.key];
    const bool reset = ws.count < prev.count;
    uint64_t count = reset ? ws.count : ws.count - prev.count;
    uint64_t cross = reset ? ws.cross_cpu : delta(ws.cross_cpu, prev.cross_cpu);
    LatAcc lat = lat_delta(ws.latency, prev.latency, sample.epoch);
    prev.count = ws.count;
    prev.cross_cpu = ws.cross_cpu;
    prev.latency = ws.latency;
    if (!count) continue;
    prev.last_change = updates_;
    const auto& k = ws.key;
    if (!filter_.wants(k.waker_tgid) && !filter_.wants(k.wakee_tgid)) continue;
    WakeupRow row;
    row.waker = k.waker_tid ? ref(k.waker_tgid, k.waker_tid) : TaskRef{0, 0, "(interrupt)", {}};
    row.wakee = ref(k.wakee_tgid, k.wakee_tid);
    row.count = count;
    row.cross_cpu = cross;
    snap.wakeups.push_back(std::move(row));
    if (lat.count && k.waker_tid) pair_latency[{k.waker_tid, k.wakee_tid}].add(lat);
  }
  // Busiest pairs first.
  std::stable_sort(snap.wakeups.begin(), snap.wakeups.end(),
                   [](const WakeupRow& a, const WakeupRow& b) { return a.count > b.count; });
  for (auto& [id, f] : flows) {
    auto it = pair_latency.find({f.src.tid, f.dst.tid});
    if (f.src.tid && it != pair_latency.end()) f.wakeup_latency = latency_row(it->second);
    snap.flows.push_back(std::move(f));
  }

  // Concurrency of multi-threaded processes.
  std::unordered_map<uint32_t, ProcRunPrev> proc_run_delta;
  for (const auto& pr : sample.proc_runs) {
    ProcRunPrev& prev = prev_proc_runs_[pr.tgid];
    proc_run_delta[pr.tgid] = {delta(pr.busy_ns, prev.busy_ns), delta(pr.multi_ns, prev.multi_ns)};
    prev = {pr.busy_ns, pr.multi_ns};
  }

  for (auto& [pid, rows] : threads) {
    Process& p = process(pid);
    ProcessRow row;
    row.pid = pid;
    row.ppid = p.ppid;
    row.comm = p.comm;
    row.cmdline = p.cmdline;
    row.exited = p.exited;
    LatAcc runq;
    std::set<uint32_t> cpus;
    for (auto& [tid, t] : rows) {
      const Task& task_info = task(pid, tid);
      t.comm = task_info.comm;
      t.exited = task_info.exited;
      row.tx_bytes += t.tx_bytes;
      row.rx_bytes += t.rx_bytes;
      row.oncpu_ns += t.oncpu_ns;
      row.migrations += t.migrations;
      row.handoffs += t.handoffs;
      cpus.insert(t.cpus_used.begin(), t.cpus_used.end());
      if (auto it = thread_runq.find(tid); it != thread_runq.end()) {
        t.runq_latency = latency_row(it->second);
        runq.add(it->second);
      }
      row.threads.push_back(std::move(t));
    }
    row.cpus_used.assign(cpus.begin(), cpus.end());
    row.runq_latency = latency_row(runq);
    row.parallelism =
        interval_ns ? static_cast<double>(row.oncpu_ns) / static_cast<double>(interval_ns) : 0;
    // Tracked in the kernel while the process has several threads; a
    // single-threaded process is busy exactly while its thread runs.
    if (auto it = proc_run_delta.find(pid); it != proc_run_delta.end() && it->second.busy_ns) {
      row.busy_ns = it->second.busy_ns;
      row.concurrent_ns = it->second.multi_ns;
    } else {
      row.busy_ns = row.oncpu_ns;
    }
    snap.processes.push_back(std::move(row));
  }

  // Multi-process applications among the processes of the interval.
  std::vector<uint32_t> active;
  for (const auto& p : snap.processes) active.push_back(p.pid);
  snap.apps = group_apps(
      active,
      [this](uint32_t pid) -> std::optional<AppProcess> {
        Process& p = process(pid);
        if (!p.identity_read && !p.exited) {
          p.session = names_.session(pid);
          p.exe = names_.exe(pid);
          p.identity_read = true;
        }
        AppProcess a;
        a.pid = pid;
        a.ppid = p.ppid;
        a.session = p.session;
        a.comm = p.comm;
        a.cmdline = p.cmdline;
        a.exe = !p.exe.empty() ? p.exe : !p.cmdline.empty() ? p.cmdline.front() : "";
        if (a.exe.empty() && a.comm.empty()) return std::nullopt;
        return a;
      },
      snap.flows);

  uint64_t orphan_bytes = delta(sample.orphan_read_bytes, prev_orphan_bytes_);
  uint64_t orphan_messages = delta(sample.orphan_read_messages, prev_orphan_messages_);
  prev_orphan_bytes_ = sample.orphan_read_bytes;
  prev_orphan_messages_ = sample.orphan_read_messages;
  snap.unattributed_bytes = totals[IPCTOP_CNT_UNATTRIBUTED_BYTES] + orphan_bytes;
  snap.unattributed_messages = totals[IPCTOP_CNT_UNATTRIBUTED_MESSAGES] + orphan_messages;

  for (const auto& lp : kLostPoints) {
    snap.lost.by_point[lp.name] = totals[lp.counter];
    snap.lost.events += totals[lp.counter];
  }
  uint64_t malformed = delta(sample.records_malformed, prev_malformed_);
  prev_malformed_ = sample.records_malformed;
  snap.lost.by_point["records_malformed"] = malformed;
  snap.lost.events += malformed;
  const uint64_t fds_untracked = fdpass_.take_untracked();  // model/FdPass.cpp
  snap.lost.by_point["fds_untracked"] += fds_untracked;
  snap.lost.events += fds_untracked;
  add_failures(sample.failures, filter_, snap);  // model/Failures.cpp
  return snap;
}

GcPlan Aggregator::collect_garbage() {
  GcPlan plan;
  for (auto it = prev_flows_.begin(); it != prev_flows_.end();) {
    const auto& k = it->first;
    auto dead = [&](uint32_t tid) {
      auto t = tasks_.find(tid);
      return tid == 0 || (t != tasks_.end() && t->second.exited);
    };
    bool idle = it->second.last_change + kFlowIdleUpdates <= updates_;
    bool orphaned = it->second.last_change < updates_ && (dead(k.src_tid) || dead(k.dst_tid));
    if (idle || orphaned) {
      plan.flows.push_back(k);
      it = prev_flows_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = prev_wakeups_.begin(); it != prev_wakeups_.end();) {
    if (it->second.last_change + kFlowIdleUpdates <= updates_) {
      plan.wakeups.push_back(it->first);
      it = prev_wakeups_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = tasks_.begin(); it != tasks_.end();) {
    const Task& t = it->second;
    // The thread's last switch-out lands after its exit record: wait one
    // whole interval before deleting its kernel counters.
    if (t.exited && t.exit_seen_update < updates_ && prev_threads_.erase(it->first))
      plan.tids.push_back(it->first);
    if (t.exited && t.exit_seen_update < updates_ && it->first == t.tgid &&
        prev_proc_runs_.erase(t.tgid))
      plan.tgids.push_back(t.tgid);
    if (t.exited && t.exit_seen_update + kDeadTaskUpdates <= updates_) {
      if (it->first == t.tgid) processes_.erase(t.tgid);
      it = tasks_.erase(it);
    } else {
      ++it;
    }
  }
  return plan;
}

}  // namespace ipctop
