#include "nobpf/Collector.h"

#include <cerrno>
#include <charconv>

#include <fmt/format.h>

#include "nobpf/Channels.h"
#include "procfs/Fds.h"

namespace ipctop::nobpf {
namespace {

// The first field of /proc/PID/task/TID/schedstat: nanoseconds on the CPU
// (CONFIG_SCHED_INFO; 0 when absent).
uint64_t oncpu_ns(const std::string& root, uint32_t pid, uint32_t tid) {
  auto file = procfs::read_regular_file(fmt::format("{}/{}/task/{}/schedstat", root, pid, tid), 256);
  if (!file.text) return 0;
  const std::string& t = *file.text;
  uint64_t ns = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), ns);
  return ec == std::errc{} && end != t.data() + t.size() && *end == ' ' ? ns : 0;
}

uint64_t delta(uint64_t now, uint64_t before) { return now >= before ? now - before : now; }

void add_holder(ChannelRow& row, int64_t pid, const char* role) {
  if (pid <= 0) return;
  EndpointRow ep{static_cast<uint32_t>(pid), 0, role};
  if (std::find_if(row.endpoints.begin(), row.endpoints.end(), [&](const EndpointRow& e) {
        return e.pid == ep.pid && e.role == ep.role;
      }) == row.endpoints.end())
    row.endpoints.push_back(std::move(ep));
}

}  // namespace

void add_object_channels(const limits::Objects& objects, std::vector<ChannelRow>& channels) {
  for (const auto& q : objects.sysv_msg) {
    ChannelRow row;
    row.id = fmt::format("sysv_msg:{}", q.msqid);
    row.kind = Kind::sysv_msg;
    row.queued = q.cbytes;
    row.capacity = q.qbytes;
    add_holder(row, q.last_sender.pid, "last_sender");
    add_holder(row, q.last_receiver.pid, "last_receiver");
    channels.push_back(std::move(row));
  }
  for (const auto& m : objects.sysv_shm) {
    ChannelRow row;
    row.id = fmt::format("sysv_shm:{}", m.shmid);
    row.kind = Kind::sysv_shm;
    row.size = m.size;
    add_holder(row, m.creator.pid, "creator");
    add_holder(row, m.last_user.pid, "last_user");
    channels.push_back(std::move(row));
  }
  for (const auto& m : objects.posix_shm) {
    if (m.semaphore) continue;  // a sem_open() semaphore carries no data
    ChannelRow row;
    row.id = "posix_shm:" + m.name;
    row.kind = Kind::posix_shm;
    row.path = m.name;
    row.size = m.size;
    for (const auto& p : m.open_by) add_holder(row, p.pid, "open");
    for (const auto& p : m.mapped_by) add_holder(row, p.pid, "mapped");
    channels.push_back(std::move(row));
  }
  std::map<std::string, uint64_t> queued;
  for (const auto& q : objects.posix_mq)
    if (q.qsize) queued["posix_mq:" + q.name] = *q.qsize;
  for (auto& row : channels) {
    if (row.kind != Kind::posix_mq) continue;
    if (auto it = queued.find(row.id); it != queued.end()) row.queued = it->second;
  }
  for (auto& row : channels) std::sort(row.endpoints.begin(), row.endpoints.end());
  std::sort(channels.begin(), channels.end(),
            [](const ChannelRow& a, const ChannelRow& b) { return a.id < b.id; });
}

Collector::Collector(Config config) : config_(std::move(config)), proc_(config_.proc_root) {
  if (!config_.sockets) config_.sockets = procfs::dump_sockets;
  if (!config_.objects) {
    std::string root = config_.proc_root;
    config_.objects = [root] {
      limits::Roots roots;
      roots.proc = root;
      return limits::collect(roots).objects;
    };
  }
  std::map<uint32_t, procfs::TaskStatus> unused;
  previous_ = read_tasks(unused);
}

std::map<uint32_t, Collector::Task> Collector::read_tasks(
    std::map<uint32_t, procfs::TaskStatus>& processes) const {
  std::map<uint32_t, Task> tasks;
  for (int pid : proc_.pids()) {
    auto status = proc_.status(pid);
    if (!status) continue;  // gone, or a garbled file
    for (int tid : proc_.tids(pid)) {
      auto t = proc_.status(pid, tid);
      if (!t) continue;
      Task task{static_cast<uint32_t>(pid), t->name,
                {t->voluntary_ctxt_switches, t->nonvoluntary_ctxt_switches,
                 oncpu_ns(config_.proc_root, static_cast<uint32_t>(pid), static_cast<uint32_t>(tid))}};
      tasks.insert_or_assign(static_cast<uint32_t>(tid), std::move(task));
    }
    processes.emplace(static_cast<uint32_t>(pid), std::move(*status));
  }
  return tasks;
}

Snapshot Collector::collect(double unix_time, double interval_s) {
  Snapshot snap;
  snap.source = "procfs";
  snap.time = unix_time;
  snap.interval_s = interval_s;

  std::map<uint32_t, procfs::TaskStatus> statuses;
  std::map<uint32_t, Task> now = read_tasks(statuses);
  std::map<uint32_t, std::vector<ThreadRow>> active;  // pid -> threads that ran
  for (const auto& [tid, task] : now) {
    Counters before;
    if (auto it = previous_.find(tid); it != previous_.end() && it->second.pid == task.pid)
      before = it->second.counters;
    ThreadRow row;
    row.tid = tid;
    row.comm = task.comm;
    row.voluntary = delta(task.counters.voluntary, before.voluntary);
    row.involuntary = delta(task.counters.involuntary, before.involuntary);
    row.ctx_switches = row.voluntary + row.involuntary;
    row.oncpu_ns = delta(task.counters.oncpu_ns, before.oncpu_ns);
    if (row.ctx_switches == 0 && row.oncpu_ns == 0) continue;
    active[task.pid].push_back(std::move(row));
  }
  previous_ = std::move(now);

  // Every process's fds, whatever the --pid filter: the other end of a kept channel may be
  // held by a process outside it.
  FdTable fds;
  for (const auto& [pid, status] : statuses) {
    procfs::ProcessFds p = procfs::ipc_fds(proc_, static_cast<int>(pid));
    // Kernel threads (kthreadd and its children) have no fds to miss.
    const bool kernel_thread = pid == 2 || status.ppid == 2;
    if ((p.error == EACCES || p.error == EPERM) && !kernel_thread) ++snap.unreadable_processes;
    if (!p.fds.empty()) fds.emplace(pid, std::move(p.fds));
  }
  procfs::SocketTables sockets = config_.sockets();
  for (const auto& err : sockets.errors)
    if (reported_.insert(err).second) new_errors_.push_back(err);
  std::vector<ChannelRow> channels = join_channels(fds, sockets);
  add_object_channels(config_.objects(), channels);

  auto wanted = [this](uint32_t pid) { return config_.pids.empty() || config_.pids.contains(pid); };
  std::set<uint32_t> endpoint_pids;
  for (auto& c : channels) {
    bool keep = false;
    for (const auto& e : c.endpoints) keep |= wanted(e.pid);
    if (!keep) continue;
    for (const auto& e : c.endpoints) endpoint_pids.insert(e.pid);
    snap.channels.push_back(std::move(c));
  }

  for (const auto& [pid, status] : statuses) {
    auto threads = active.find(pid);
    if (!wanted(pid) || (threads == active.end() && !endpoint_pids.contains(pid))) continue;
    ProcessRow p;
    p.pid = pid;
    p.ppid = static_cast<uint32_t>(std::max(status.ppid, 0));
    p.comm = status.name;
    p.cmdline = proc_.cmdline(static_cast<int>(pid)).value_or(std::vector<std::string>{});
    if (threads != active.end()) p.threads = std::move(threads->second);
    for (const auto& t : p.threads) p.oncpu_ns += t.oncpu_ns;
    p.parallelism = interval_s > 0 ? static_cast<double>(p.oncpu_ns) / 1e9 / interval_s : 0;
    snap.processes.push_back(std::move(p));
  }
  return snap;
}

std::vector<std::string> Collector::take_new_errors() { return std::exchange(new_errors_, {}); }

}  // namespace ipctop::nobpf
