#include "probe/Probes.h"

#include <ifaddrs.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <ctime>
#include <algorithm>
#include <functional>
#include <unordered_map>
#include <map>
#include <mutex>
#include <regex>
#include <set>
#include <string_view>
#include <thread>

#include <fmt/format.h>

#include "ipctop_btf.skel.h"
#include "ipctop_raw.skel.h"
#include "model/Decode.h"
#include "probe/Overrides.h"
#include "probe/QueueExpiry.h"

namespace ipctop::probe {

namespace {

constexpr const char* kVmlinuxBtf = "/sys/kernel/btf/vmlinux";

struct LogicalProbe {
  const char* name;
  const char* tracepoint;
  const char* program;
  bool essential;
};

// Each logical probe and the program implementing it; every object variant
// carries the programs it can offer (the raw_tp build has no IPC programs).
constexpr LogicalProbe kProbes[] = {
    {"sched_switch", "sched_switch", "handle_sched_switch", true},
    {"task_fork", "sched_process_fork", "handle_sched_process_fork", false},
    {"task_exec", "sched_process_exec", "handle_sched_process_exec", false},
    {"task_exit", "sched_process_exit", "handle_sched_process_exit", false},
    {"task_rename", "task_rename", "handle_task_rename", false},
    {"ipc_syscalls", "sys_exit", "handle_sys_exit", true},
    {"unix_datagram_receive", "skb_copy_datagram_iovec", "handle_skb_copy_datagram_iovec", false},
    {"signals", "signal_generate", "handle_signal_generate", false},
    {"sched_migrate", "sched_migrate_task", "handle_sched_migrate_task", false},
    {"wakeups", "sched_waking", "handle_sched_waking", false},
};

struct ObjectVariant {
  const char* name;
  const void* (*elf_bytes)(size_t*);
  const char* missing_program_reason;
};

// Priority order: typed tp_btf first, raw_tp when the kernel refuses it.
constexpr ObjectVariant kVariants[] = {
    {"tp_btf", ipctop_btf__elf_bytes, "not in this variant"},
    {"raw_tp", ipctop_raw__elf_bytes,
     "needs tp_btf: its attribution queues use bpf_spin_lock, refused in raw_tp programs"},
};

// libbpf's messages, kept so a failure can be explained in one line.
std::string& libbpf_log() {
  static std::string log;
  return log;
}

int capture_libbpf(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  // A verifier log arrives as one message, often far longer than a line.
  va_list copy;
  va_copy(copy, args);
  int n = vsnprintf(nullptr, 0, format, copy);
  va_end(copy);
  std::string& log = libbpf_log();
  if (n <= 0 || log.size() + static_cast<size_t>(n) > (8u << 20)) return 0;
  std::string buf(static_cast<size_t>(n) + 1, '\0');
  vsnprintf(buf.data(), buf.size(), format, args);
  buf.pop_back();
  log += buf;
  return n;
}

std::string last_lines(const std::string& text, size_t n) {
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    if (!line.empty()) lines.push_back(line);
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  std::string out;
  for (size_t i = lines.size() > n ? lines.size() - n : 0; i < lines.size(); ++i)
    out += (out.empty() ? "" : " | ") + lines[i];
  return out;
}

double monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

// The pipe data path's fexit variant (bpf/pipe.bpf.h): each program and the
// kernel functions it can hook, newest name first. 6.15 renamed them for
// anonymous pipes (FIFOs reach them through fifo_pipe_*): the name is taken
// from the running kernel's BTF, never from its version.
struct PipeHook {
  const char* program;
  const char* functions[2];
};
constexpr PipeHook kPipeHooks[] = {
    {"handle_pipe_write", {"anon_pipe_write", "pipe_write"}},
    {"handle_pipe_read", {"anon_pipe_read", "pipe_read"}},
};

struct PipePlan {
  bool usable = false;
  std::string functions[std::size(kPipeHooks)];
  std::string why;  // why not, when not usable
};

// Whether the kernel loads an fexit program on the function with BTF id
// `btf_id`: a two-instruction program, so a refusal (EPERM where fexit is
// locked down) costs no verification of the real ones. Returns 0 or errno.
int probe_fexit(int btf_id) {
  const bpf_insn insns[] = {
      {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .src_reg = 0, .off = 0, .imm = 0},
      {.code = BPF_JMP | BPF_EXIT, .dst_reg = 0, .src_reg = 0, .off = 0, .imm = 0},
  };
  LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_FEXIT,
              .attach_btf_id = static_cast<__u32>(btf_id));
  int fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "ipctop_fexit", "GPL", insns, std::size(insns),
                         &opts);
  if (fd < 0) return errno ? errno : EINVAL;
  close(fd);
  return 0;
}

PipePlan plan_pipe_hooks(const btf* vmlinux, const Overrides& forced) {
  PipePlan plan;
  if (forced.no_fexit) {
    plan.why = "fexit refused by the kernel: Permission denied (forced by IPCTOP_FORCE_NO_FEXIT)";
    return plan;
  }
  for (size_t i = 0; i < std::size(kPipeHooks); ++i) {
    const PipeHook& h = kPipeHooks[i];
    if (forced.refuse.contains(h.program)) {
      plan.why = fmt::format("{} refused by the kernel: Permission denied (forced by "
                             "IPCTOP_FORCE_REFUSE)",
                             h.program);
      return plan;
    }
    int id = -1;
    for (const char* f : h.functions) {
      id = btf__find_by_name_kind(vmlinux, f, BTF_KIND_FUNC);
      if (id > 0) {
        plan.functions[i] = f;
        break;
      }
    }
    if (id <= 0) {
      plan.why = fmt::format("kernel BTF has no function {} or {}", h.functions[0], h.functions[1]);
      return plan;
    }
    if (int err = probe_fexit(id)) {
      plan.why = fmt::format("fexit on {} refused by the kernel: {}", plan.functions[i],
                             strerror(err));
      return plan;
    }
  }
  plan.usable = true;
  return plan;
}

bool is_pipe_hook(std::string_view program) {
  return std::any_of(std::begin(kPipeHooks), std::end(kPipeHooks),
                     [&](const PipeHook& h) { return program == h.program; });
}

// Attach the pipe hooks of a loaded object; on failure, none stays attached.
std::string attach_pipe_hooks(bpf_object* obj, std::vector<bpf_link*>& links) {
  std::vector<bpf_link*> made;
  for (const auto& h : kPipeHooks) {
    bpf_program* prog = bpf_object__find_program_by_name(obj, h.program);
    bpf_link* link = prog ? bpf_program__attach(prog) : nullptr;
    if (!link) {
      std::string why = fmt::format("{}: attach failed: {}", h.program,
                                    prog ? strerror(errno) : "not in the object");
      for (auto* l : made) bpf_link__destroy(l);
      return why;
    }
    made.push_back(link);
  }
  links.insert(links.end(), made.begin(), made.end());
  return "";
}

bool has_capability(const __user_cap_data_struct (&data)[2], int cap) {
  return data[cap / 32].effective & (1u << (cap % 32));
}

}  // namespace

std::vector<std::string> missing_capabilities() {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (syscall(SYS_capget, &hdr, data) != 0) return {"CAP_BPF", "CAP_PERFMON"};
  constexpr int kCapSysAdmin = 21, kCapPerfmon = 38, kCapBpf = 39;
  if (has_capability(data, kCapSysAdmin)) return {};
  std::vector<std::string> missing;
  if (!has_capability(data, kCapBpf)) missing.push_back("CAP_BPF");
  if (!has_capability(data, kCapPerfmon)) missing.push_back("CAP_PERFMON");
  return missing;
}

struct Probes::Impl {
  bpf_object* obj = nullptr;
  std::vector<bpf_link*> links;
  ring_buffer* ring = nullptr;
  int flows_fd = -1, threads_fd = -1, queues_fd = -1, counters_fd = -1, epoch_fd = -1;
  int failures_fd = -1, failure_drops_fd = -1;  // bpf/failures.bpf.h (tp_btf variant only)
  int conns_fd = -1;                             // bpf/net.bpf.h: TCP/UDP channel addresses
  std::unordered_map<uint64_t, ipctop_conn> conn_cache;
  int local_addrs_fd = -1;  // bpf/net.bpf.h: this machine's addresses
  std::set<std::vector<uint8_t>> local_addrs;

  // The addresses of our network namespace, so a TCP/UDP peer at any of them
  // is joined as local. Refreshed at each drain: an address added later
  // counts from then on.
  void refresh_local_addrs() {
    if (local_addrs_fd < 0) return;
    struct stat st {};
    if (stat("/proc/self/ns/net", &st) != 0) return;
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0) return;
    std::set<std::vector<uint8_t>> now;
    for (ifaddrs* a = list; a; a = a->ifa_next) {
      if (!a->ifa_addr) continue;
      ipctop_local_addr k{};
      k.netns = static_cast<uint32_t>(st.st_ino);
      if (a->ifa_addr->sa_family == AF_INET) {
        k.addr[10] = k.addr[11] = 0xff;
        std::memcpy(k.addr + 12, &reinterpret_cast<sockaddr_in*>(a->ifa_addr)->sin_addr, 4);
      } else if (a->ifa_addr->sa_family == AF_INET6) {
        std::memcpy(k.addr, &reinterpret_cast<sockaddr_in6*>(a->ifa_addr)->sin6_addr, 16);
      } else {
        continue;
      }
      const auto* b = reinterpret_cast<const uint8_t*>(&k);
      now.emplace(b, b + sizeof(k));
    }
    freeifaddrs(list);
    const uint8_t one = 1;
    for (const auto& k : now)
      if (!local_addrs.contains(k)) bpf_map_update_elem(local_addrs_fd, k.data(), &one, BPF_ANY);
    for (const auto& k : local_addrs)
      if (!now.contains(k)) bpf_map_delete_elem(local_addrs_fd, k.data());
    local_addrs = std::move(now);
  }
  int sync_flows_fd = -1;  // signals and shared memory wakeups (bpf/signal.bpf.h)
  // bpf/sched.bpf.h: wakeups and proc_runs are in the tp_btf variant only.
  int cpu_migrations_fd = -1, wakeups_fd = -1, proc_runs_fd = -1;
  uint64_t failure_drops_seen = 0;
  // The kernel stamps queues with the current epoch (one per drain); the
  // monotonic time each epoch began tells how long a queue has been idle.
  uint64_t epoch = 0;
  std::map<uint64_t, double> epoch_start_ns;
  uint32_t ncpu = 0;
  std::vector<TaskRecord> records;
  std::vector<ShmRecord> shm_records;
  std::vector<FdRecord> fd_records;
  uint64_t malformed = 0;
  uint64_t orphan_bytes = 0;
  uint64_t orphan_messages = 0;
  double last_queue_gc_ns = 0;
  uint32_t max_channels = 0;  // the queues table's capacity (src/probe/QueueExpiry.h)

  // The lifecycle ring's reader (start_reader): ring consumption, and the
  // records, shm_records and malformed it fills, are under ring_mutex.
  std::mutex ring_mutex;
  std::thread reader;
  int reader_stop_fd = -1;  // an eventfd: written to end the reader
  // Records the reader holds for the next drain at most (64 bytes each):
  // beyond it the reader pauses, the kernel ring fills up and its drops are
  // counted as ringbuf_full, so memory stays bounded.
  static constexpr size_t kMaxPendingRecords = 1 << 18;

  void read_ring() {
    const int ring_fd = ring_buffer__epoll_fd(ring);
    for (;;) {
      pollfd fds[2] = {{ring_fd, POLLIN, 0}, {reader_stop_fd, POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
      if (fds[1].revents) return;
      {
        std::lock_guard lock(ring_mutex);
        if (records.size() + shm_records.size() < kMaxPendingRecords) ring_buffer__consume(ring);
      }
      // Let records gather for a moment: one wakeup per batch, not per
      // record (the kernel notifies only a reader that has caught up).
      // 10 ms of records is far below what the ring holds.
      pollfd stop = {reader_stop_fd, POLLIN, 0};
      if (::poll(&stop, 1, 10) > 0) return;
    }
  }

  ~Impl() {
    if (reader.joinable()) {
      const uint64_t one = 1;
      ssize_t written = write(reader_stop_fd, &one, sizeof(one));  // cannot fail: one add to a fresh counter
      (void)written;
      reader.join();
    }
    if (reader_stop_fd >= 0) close(reader_stop_fd);
    if (ring) ring_buffer__free(ring);
    for (auto* l : links) bpf_link__destroy(l);
    if (obj) bpf_object__close(obj);
  }

  void advance_epoch() {
    ++epoch;
    epoch_start_ns[epoch] = monotonic_ns();
    uint32_t zero = 0;
    bpf_map_update_elem(epoch_fd, &zero, &epoch, BPF_ANY);
  }

  // How long a queue last touched during epoch `e` has been idle, at least.
  double idle_ns(uint64_t e, double now) const {
    auto next = epoch_start_ns.find(e + 1);
    return next == epoch_start_ns.end() ? 0 : now - next->second;
  }

  static int on_record(void* ctx, void* data, size_t size) {
    auto* self = static_cast<Impl*>(ctx);
    if (auto r = decode_record(data, size))
      self->records.push_back(std::move(*r));
    else if (auto shm = decode_shm_record(data, size))
      self->shm_records.push_back(std::move(*shm));
    else if (auto fd = decode_fd_record(data, size))
      self->fd_records.push_back(std::move(*fd));
    else
      ++self->malformed;
    return 0;
  }

  // Visit every entry of a (per-CPU) hash map, in batches where the kernel
  // supports it. `value_size` is the size of one CPU's value.
  void for_each_entry(int fd, size_t key_size, size_t value_size, bool percpu,
                      const std::function<void(const uint8_t*, const uint8_t*)>& fn) const {
    const size_t stride = (value_size + 7) & ~size_t{7};
    const size_t full_value = percpu ? stride * ncpu : value_size;
    constexpr uint32_t kBatch = 512;
    std::vector<uint8_t> keys(key_size * kBatch), values(full_value * kBatch);
    uint64_t in_token = 0, out_token = 0;
    bool first = true;
    for (;;) {
      uint32_t count = kBatch;
      LIBBPF_OPTS(bpf_map_batch_opts, opts);
      int err = bpf_map_lookup_batch(fd, first ? nullptr : &in_token, &out_token, keys.data(),
                                     values.data(), &count, &opts);
      int saved = errno;
      for (uint32_t i = 0; i < count && (err == 0 || saved == ENOENT); ++i)
        fn(&keys[i * key_size], &values[i * full_value]);
      if (err) {
        if (saved == ENOENT) return;
        if (first && (saved == EINVAL || saved == ENOTSUP || saved == ENOTSUPP_)) break;
        return;
      }
      in_token = out_token;
      first = false;
    }
    // Kernels without batch lookups: walk the keys one by one.
    std::vector<uint8_t> key(key_size), next(key_size), value(full_value);
    bool have = bpf_map_get_next_key(fd, nullptr, next.data()) == 0;
    while (have) {
      key = next;
      if (bpf_map_lookup_elem(fd, key.data(), value.data()) == 0) fn(key.data(), value.data());
      have = bpf_map_get_next_key(fd, key.data(), next.data()) == 0;
    }
  }
  static constexpr int ENOTSUPP_ = 524;  // the kernel's internal ENOTSUPP

  void drain_sched(KernelSample& s) const;

  // Take the failures recorded since the last drain: each entry is deleted
  // as it is read, so the map holds one interval's worth and needs no GC.
  FailureSamples drain_failures() {
    FailureSamples out;
    if (failures_fd < 0) return out;
    auto add = [&](const void* key, const void* value) {
      FailureSample f;
      std::memcpy(&f.key, key, sizeof(f.key));
      std::memcpy(&f.val, value, sizeof(f.val));
      out.entries.push_back(f);
    };
    constexpr uint32_t kBatch = 256;
    std::vector<ipctop_fail_key> keys(kBatch);
    std::vector<ipctop_fail_val> values(kBatch);
    uint64_t in_token = 0, out_token = 0;
    bool batched = true;
    for (bool first = true;; first = false) {
      uint32_t count = kBatch;
      LIBBPF_OPTS(bpf_map_batch_opts, opts);
      int err =
          bpf_map_lookup_and_delete_batch(failures_fd, first ? nullptr : &in_token, &out_token,
                                          keys.data(), values.data(), &count, &opts);
      int saved = errno;
      if (err == 0 || saved == ENOENT)
        for (uint32_t i = 0; i < count; ++i) add(&keys[i], &values[i]);
      if (err == 0) {
        in_token = out_token;
        continue;
      }
      batched = !(first && (saved == EINVAL || saved == ENOTSUP || saved == ENOTSUPP_));
      break;
    }
    if (!batched) {
      // Kernels without batch operations: one key at a time.
      ipctop_fail_key key{};
      ipctop_fail_val value{};
      while (bpf_map_get_next_key(failures_fd, nullptr, &key) == 0) {
        if (bpf_map_lookup_and_delete_elem(failures_fd, &key, &value) != 0) {
          if (bpf_map_lookup_elem(failures_fd, &key, &value) == 0) add(&key, &value);
          if (bpf_map_delete_elem(failures_fd, &key) != 0) break;
          continue;
        }
        add(&key, &value);
      }
    }
    // Drops are counted monotonically in the kernel; the sample carries the
    // interval's share, like the entries.
    std::vector<uint64_t> per_cpu(ncpu);
    uint32_t zero = 0;
    uint64_t drops = 0;
    if (failure_drops_fd >= 0 && bpf_map_lookup_elem(failure_drops_fd, &zero, per_cpu.data()) == 0)
      for (uint64_t d : per_cpu) drops += d;
    out.map_full = drops >= failure_drops_seen ? drops - failure_drops_seen : drops;
    failure_drops_seen = drops;
    return out;
  }
};

namespace {

LatCounters lat_counters(const ipctop_lat& l) {
  LatCounters out;
  out.count = l.count;
  out.sum_ns = l.sum_ns;
  out.max_ns = l.max_ns;
  out.max_epoch = l.max_epoch;
  std::copy(std::begin(l.hist), std::end(l.hist), out.hist.begin());
  return out;
}

}  // namespace

// Migrations per CPU, waker -> wakee pairs and process concurrency
// (bpf/sched.bpf.h), cumulative.
void Probes::Impl::drain_sched(KernelSample& s) const {
  const Impl& im = *this;
  const size_t cpus = im.ncpu;
  if (im.cpu_migrations_fd >= 0) {
    s.cpu_migrations.assign(cpus, {0, 0});
    std::vector<uint64_t> per_cpu(cpus);
    for (uint32_t key = 0; key < 2 * cpus; ++key)
      if (bpf_map_lookup_elem(im.cpu_migrations_fd, &key, per_cpu.data()) == 0)
        for (uint64_t n : per_cpu) s.cpu_migrations[key / 2][key % 2] += n;
  }
  if (im.wakeups_fd >= 0)
    im.for_each_entry(im.wakeups_fd, sizeof(ipctop_wakeup_key), sizeof(ipctop_wakeup_val), true,
                      [&](const uint8_t* key, const uint8_t* values) {
                        WakeupSample w;
                        std::memcpy(&w.key, key, sizeof(w.key));
                        for (size_t c = 0; c < cpus; ++c) {
                          ipctop_wakeup_val v;
                          std::memcpy(&v, values + c * sizeof(v), sizeof(v));
                          w.count += v.count;
                          w.cross_cpu += v.cross_cpu;
                          LatCounters l = lat_counters(v.latency);
                          w.latency.count += l.count;
                          w.latency.sum_ns += l.sum_ns;
                          for (size_t i = 0; i < l.hist.size(); ++i) w.latency.hist[i] += l.hist[i];
                          // The interval's max: the largest of the slots written in it.
                          if (l.max_epoch >= s.epoch &&
                              (w.latency.max_epoch < s.epoch || l.max_ns > w.latency.max_ns)) {
                            w.latency.max_ns = l.max_ns;
                            w.latency.max_epoch = l.max_epoch;
                          }
                        }
                        s.wakeups.push_back(w);
                      });
  if (im.proc_runs_fd >= 0)
    im.for_each_entry(im.proc_runs_fd, sizeof(uint32_t), sizeof(ipctop_proc_run), false,
                      [&](const uint8_t* key, const uint8_t* value) {
                        ipctop_proc_run v;
                        std::memcpy(&v, value, sizeof(v));
                        ProcRunSample p;
                        std::memcpy(&p.tgid, key, sizeof(p.tgid));
                        p.busy_ns = v.busy_ns;
                        p.multi_ns = v.multi_ns;
                        s.proc_runs.push_back(p);
                      });
}

Probes::Probes(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Probes::~Probes() = default;

std::variant<std::unique_ptr<Probes>, Error> Probes::start(const Config& config) {
  libbpf_set_print(capture_libbpf);
  const Overrides forced = Overrides::from_environment();
  Report report;
  report.btf_path = kVmlinuxBtf;
  report.btf_present = access(kVmlinuxBtf, R_OK) == 0 && !forced.no_btf;
  report.possible_cpus = static_cast<uint32_t>(std::max(libbpf_num_possible_cpus(), 1));
  {
    auto missing = missing_capabilities();
    for (const char* cap : {"CAP_BPF", "CAP_PERFMON"})
      if (std::find(missing.begin(), missing.end(), cap) == missing.end())
        report.capabilities.push_back(cap);
    if (!missing.empty())
      return Error{
          fmt::format("not permitted to load BPF programs: missing {} (run as root, "
                      "e.g. 'sudo ipctop', or grant CAP_BPF and CAP_PERFMON)",
                      fmt::join(missing, " and ")),
          true};
  }
  if (!report.btf_present)
    return Error{
        fmt::format("kernel BTF not found at {}{}: ipctop needs a kernel built with "
                    "CONFIG_DEBUG_INFO_BTF=y (stock Debian, Ubuntu, Fedora and RHEL "
                    "kernels have it)",
                    kVmlinuxBtf, forced.no_btf ? " (forced by IPCTOP_FORCE_NO_BTF)" : "")};
  btf* vmlinux = btf__load_vmlinux_btf();
  if (!vmlinux)
    return Error{fmt::format("cannot read kernel BTF at {}: {}", kVmlinuxBtf, strerror(errno))};
  auto tracepoint_exists = [&](const char* tp) {
    if (forced.no_tracepoint.contains(tp)) return false;
    return btf__find_by_name_kind(vmlinux, fmt::format("btf_trace_{}", tp).c_str(),
                                  BTF_KIND_TYPEDEF) > 0;
  };
  auto kernel_has = [&](const char* name, int kind) {
    return btf__find_by_name_kind(vmlinux, name, kind) > 0;
  };
  report.kernel = {
      {"bpf_rdonly_cast",
       kernel_has("bpf_rdonly_cast", BTF_KIND_FUNC)
           ? "yes: fields of an fd's file are read with plain loads"
           : "no (before 6.2): fields of an fd's file and socket are read with "
             "bpf_probe_read_kernel"},
      {"bpf_loop",
       kernel_has("bpf_loop_proto", BTF_KIND_VAR) || kernel_has("bpf_loop", BTF_KIND_FUNC)
           ? "yes"
           : "not found in BTF (5.17+ needed by the IPC probes)"},
  };
  const PipePlan pipe = plan_pipe_hooks(vmlinux, forced);
  report.kernel.emplace_back(
      "fexit", pipe.usable ? fmt::format("yes: pipe data counted at {} and {}", pipe.functions[0],
                                         pipe.functions[1])
                           : fmt::format("no: {}; pipe data counted at sys_exit", pipe.why));
  report.kernel.emplace_back("kprobes", "not used: BTF-typed tracepoints and fexit only, no tracefs");
  std::string pipe_why = pipe.why;  // why the fexit variant is not in use
  bool pipe_attached = false;

  auto impl = std::make_unique<Impl>();
  impl->ncpu = report.possible_cpus;
  bool refused = false;  // a load failed with EPERM: privileges, lockdown or a seccomp filter
  for (const auto& variant : kVariants) {
    if (forced.no_tp_btf && std::string_view(variant.name) == "tp_btf") {
      report.notes.push_back("tp_btf: refused (forced by IPCTOP_FORCE_NO_TP_BTF)");
      continue;
    }
    std::map<std::string, std::string> disabled;  // program -> why
    for (int attempt = 0; attempt < 8 && !impl->obj; ++attempt) {
      size_t size = 0;
      const void* bytes = variant.elf_bytes(&size);
      LIBBPF_OPTS(bpf_object_open_opts, open_opts, .object_name = variant.name);
      bpf_object* obj = bpf_object__open_mem(bytes, size, &open_opts);
      if (!obj) {
        report.notes.push_back(
            fmt::format("{}: cannot open object: {}", variant.name, strerror(errno)));
        break;
      }
      bpf_map__set_max_entries(bpf_object__find_map_by_name(obj, "flows"), config.max_flows);
      bpf_map__set_max_entries(bpf_object__find_map_by_name(obj, "threads"), config.max_threads);
      bpf_map__set_max_entries(bpf_object__find_map_by_name(obj, "events"), config.ringbuf_bytes);
      if (auto* q = bpf_object__find_map_by_name(obj, "queues"))
        bpf_map__set_max_entries(q, config.max_channels);
      // bpf/ipc.bpf.h: files_enabled, alone in its section.
      if (auto* ro = bpf_object__find_map_by_name(obj, ".rodata.files")) {
        const bool files = config.files;
        bpf_map__set_initial_value(ro, &files, sizeof(files));
      }
      // Signals and shared memory wakeups: preallocated (bpf/signal.bpf.h),
      // so bounded.
      if (auto* m = bpf_object__find_map_by_name(obj, "sync_flows"))
        bpf_map__set_max_entries(m, std::clamp(config.max_flows / 4, 1024u, 262144u));
      if (auto* m = bpf_object__find_map_by_name(obj, "cpu_migrations"))
        bpf_map__set_max_entries(m, 2 * impl->ncpu);
      for (const auto& p : kProbes) {
        bpf_program* prog = bpf_object__find_program_by_name(obj, p.program);
        if (!prog) continue;
        if (!tracepoint_exists(p.tracepoint))
          disabled.try_emplace(p.program,
                               fmt::format("kernel has no tracepoint {}{}", p.tracepoint,
                                           forced.no_tracepoint.contains(p.tracepoint)
                                               ? " (forced by IPCTOP_FORCE_NO_TRACEPOINT)"
                                               : ""));
        if (forced.refuse.contains(p.program))
          disabled.try_emplace(p.program,
                               "refused by the kernel: Permission denied (forced by "
                               "IPCTOP_FORCE_REFUSE)");
        if (disabled.contains(p.program)) bpf_program__set_autoload(prog, false);
      }
      // The pipe hooks go together (a write without its read would
      // unbalance the queues), and the sys_exit path skips pipes only when
      // they are in (bpf/ipc.bpf.h: pipe_fexit).
      bool pipe_on = pipe.usable;
      for (const auto& h : kPipeHooks) pipe_on = pipe_on && !disabled.contains(h.program);
      for (size_t i = 0; i < std::size(kPipeHooks); ++i) {
        bpf_program* prog = bpf_object__find_program_by_name(obj, kPipeHooks[i].program);
        if (!prog) {
          pipe_on = false;
        } else if (!pipe_on || bpf_program__set_attach_target(prog, 0, pipe.functions[i].c_str())) {
          pipe_on = false;
          bpf_program__set_autoload(prog, false);
        }
      }
      if (!pipe_on)
        for (const auto& h : kPipeHooks)
          if (bpf_program* prog = bpf_object__find_program_by_name(obj, h.program))
            bpf_program__set_autoload(prog, false);
      if (auto* ro = bpf_object__find_map_by_name(obj, ".rodata.pipe")) {
        const bool on = pipe_on;
        bpf_map__set_initial_value(ro, &on, sizeof(on));
      }
      libbpf_log().clear();
      if (bpf_object__load(obj) == 0) {
        if (pipe_on) {
          std::string why = attach_pipe_hooks(obj, impl->links);
          if (!why.empty()) {
            // Loaded but not attached: load again without them, so the
            // sys_exit path counts pipes.
            bpf_object__close(obj);
            for (const auto& h : kPipeHooks) disabled.try_emplace(h.program, why);
            continue;
          }
        }
        pipe_attached = pipe_on;
        impl->obj = obj;
        break;
      }
      int err = errno;
      // Find the program the verifier refused, disable it and try again, so
      // one refused probe does not take the others down.
      std::smatch m;
      const std::string log = libbpf_log();
      static const std::regex failed_prog(R"(prog '(\w+)': (?:BPF program load )?failed)");
      bpf_object__close(obj);
      if (std::regex_search(log, m, failed_prog) && !disabled.contains(m[1])) {
        // The verifier's complaint is the line before its closing statistics.
        std::string verifier = log.substr(0, log.find("-- END PROG LOAD LOG"));
        disabled[m[1]] =
            fmt::format("refused by the kernel: {} ({})", strerror(err), last_lines(verifier, 2));
        if (is_pipe_hook(m[1].str())) {
          const std::string why = fmt::format("{} {}", m[1].str(), disabled[m[1]]);
          for (const auto& h : kPipeHooks) disabled[h.program] = why;
        }
        continue;
      }
      refused |= err == EPERM;
      report.notes.push_back(
          fmt::format("{}: load failed: {} ({})", variant.name, strerror(err), last_lines(log, 3)));
      break;
    }
    if (!impl->obj) continue;
    report.object_variant = variant.name;
    for (const auto& p : kProbes) {
      ProbeStatus st{p.name, p.tracepoint, p.essential, "", false, ""};
      bpf_program* prog = bpf_object__find_program_by_name(impl->obj, p.program);
      if (!prog) {
        st.reason = variant.missing_program_reason;
      } else if (auto it = disabled.find(p.program); it != disabled.end()) {
        st.reason = it->second;
      } else if (bpf_link* link = bpf_program__attach(prog)) {
        impl->links.push_back(link);
        st.attached = true;
        st.variant = variant.name;
        st.reason =
            report.notes.empty()
                ? fmt::format("first choice; btf_trace_{} is in the kernel BTF", p.tracepoint)
                : "the variants before it failed to load (see above)";
      } else {
        st.reason = fmt::format("attach failed: {}", strerror(errno));
      }
      report.probes.push_back(std::move(st));
    }
    // Pipe and FIFO data: fexit on the kernel's pipe functions when it
    // loaded and attached, else the syscall-exit path (ipc_syscalls).
    ProbeStatus pd{"pipe_data", "", false, "", false, ""};
    if (pipe_attached) {
      pd.tracepoint = fmt::format("{}/{}", pipe.functions[0], pipe.functions[1]);
      pd.variant = "fexit";
      pd.attached = true;
      pd.reason = "first choice; fexit loads here: the pipe comes from the kiocb, io_uring and "
                  "AIO are seen too";
    } else {
      if (pipe.usable)
        if (auto it = disabled.find(kPipeHooks[0].program); it != disabled.end())
          pipe_why = it->second;
      if (pipe_why.empty()) pipe_why = "fexit not in this variant";
      const ProbeStatus* sys = nullptr;
      for (const auto& st : report.probes)
        if (st.name == "ipc_syscalls") sys = &st;
      pd.tracepoint = "sys_exit";
      pd.attached = sys && sys->attached;
      pd.variant = pd.attached ? sys->variant : "";
      pd.reason = pd.attached ? fmt::format("{}: counted at sys_exit (ipc_syscalls)", pipe_why)
                              : fmt::format("{}; ipc_syscalls not attached either", pipe_why);
    }
    report.probes.push_back(std::move(pd));
    break;
  }
  btf__free(vmlinux);
  if (!impl->obj)
    return Error{
        fmt::format("no probe variant could be loaded: {}", fmt::join(report.notes, "; ")),
        refused};
  bool any_essential = false;
  for (const auto& st : report.probes) any_essential |= st.essential && st.attached;
  if (!any_essential) {
    std::vector<std::string> why;
    for (const auto& st : report.probes)
      if (st.essential) why.push_back(fmt::format("{}: {}", st.name, st.reason));
    return Error{fmt::format("no essential probe could attach ({}); see 'ipctop --features'",
                             fmt::join(why, "; "))};
  }

  auto fd = [&](const char* name) {
    bpf_map* m = bpf_object__find_map_by_name(impl->obj, name);
    return m ? bpf_map__fd(m) : -1;
  };
  impl->flows_fd = fd("flows");
  impl->threads_fd = fd("threads");
  impl->queues_fd = fd("queues");
  impl->max_channels = config.max_channels;
  impl->counters_fd = fd("counters");
  impl->epoch_fd = fd("epoch");
  impl->failures_fd = fd("failures");
  impl->sync_flows_fd = fd("sync_flows");
  impl->failure_drops_fd = fd("failure_drops");
  impl->conns_fd = fd("conns");
  impl->local_addrs_fd = fd("local_addrs");
  impl->refresh_local_addrs();
  impl->cpu_migrations_fd = fd("cpu_migrations");
  impl->wakeups_fd = fd("wakeups");
  impl->proc_runs_fd = fd("proc_runs");
  impl->advance_epoch();
  impl->ring = ring_buffer__new(fd("events"), Impl::on_record, impl.get(), nullptr);
  if (!impl->ring)
    return Error{fmt::format("cannot open the BPF ring buffer: {}", strerror(errno))};
  auto probes = std::unique_ptr<Probes>(new Probes(std::move(impl)));
  probes->report_ = std::move(report);
  return probes;
}

int Probes::poll(int timeout_ms) {
  if (impl_->reader.joinable()) return ::poll(nullptr, 0, timeout_ms) < 0 ? -errno : 0;
  std::lock_guard lock(impl_->ring_mutex);
  return ring_buffer__poll(impl_->ring, timeout_ms);
}

int Probes::epoll_fd() const { return impl_->reader.joinable() ? -1 : ring_buffer__epoll_fd(impl_->ring); }

std::string Probes::start_reader() {
  Impl& im = *impl_;
  if (im.reader.joinable()) return "";
  im.reader_stop_fd = eventfd(0, EFD_CLOEXEC);
  if (im.reader_stop_fd < 0) return fmt::format("eventfd: {}", strerror(errno));
  // Signals go to the main thread, whose waits they must interrupt.
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  try {
    im.reader = std::thread([&im] { im.read_ring(); });
  } catch (const std::system_error& e) {
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    return fmt::format("cannot start the ring reader: {}", e.what());
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return "";
}

KernelSample Probes::drain(double unix_time) {
  Impl& im = *impl_;
  KernelSample s;
  {
    std::lock_guard lock(im.ring_mutex);
    ring_buffer__consume(im.ring);
    im.advance_epoch();
    s.records = std::move(im.records);
    im.records.clear();
    s.shm_records = std::move(im.shm_records);
    im.shm_records.clear();
    s.fd_records = std::move(im.fd_records);
    im.fd_records.clear();
    s.records_malformed = im.malformed;
  }
  s.time = unix_time;
  s.orphan_read_bytes = im.orphan_bytes;
  s.orphan_read_messages = im.orphan_messages;

  const size_t ncpu = im.ncpu;
  s.cpus.assign(ncpu, CpuCounters{});
  std::vector<uint64_t> per_cpu(ncpu);
  for (uint32_t i = 0; i < IPCTOP_CNT_MAX; ++i)
    if (bpf_map_lookup_elem(im.counters_fd, &i, per_cpu.data()) == 0)
      for (size_t c = 0; c < ncpu; ++c) s.cpus[c][i] = per_cpu[c];

  for (int flows_fd : {im.flows_fd, im.sync_flows_fd}) {
    if (flows_fd < 0) continue;
    im.for_each_entry(flows_fd, sizeof(ipctop_flow_key), sizeof(ipctop_flow_val), true,
                      [&](const uint8_t* key, const uint8_t* values) {
                        FlowSample f;
                        std::memcpy(&f.key, key, sizeof(f.key));
                        for (size_t c = 0; c < ncpu; ++c) {
                          ipctop_flow_val v;
                          std::memcpy(&v, values + c * sizeof(v), sizeof(v));
                          f.bytes += v.bytes;
                          f.messages += v.messages;
                        }
                        s.flows.push_back(f);
                      });
  }
  im.for_each_entry(im.threads_fd, sizeof(uint32_t), sizeof(ipctop_thread_val), true,
                    [&](const uint8_t* key, const uint8_t* values) {
                      ThreadSample t;
                      std::memcpy(&t.tid, key, sizeof(t.tid));
                      t.per_cpu.resize(ncpu);
                      for (size_t c = 0; c < ncpu; ++c) {
                        ipctop_thread_val v;
                        std::memcpy(&v, values + c * sizeof(v), sizeof(v));
                        if (v.tgid) t.tgid = v.tgid;
                        t.per_cpu[c] = {v.switches,     v.voluntary,        v.involuntary,
                                        v.oncpu_ns,     lat_counters(v.runq), v.nr_migrations,
                                        v.handoffs};
                      }
                      s.threads.push_back(std::move(t));
                    });
  s.epoch = im.epoch - 1;
  im.drain_sched(s);
  s.failures = im.drain_failures();
  im.refresh_local_addrs();
  // The addresses behind each TCP/UDP channel hash, read once per channel.
  if (im.conns_fd >= 0) {
    if (im.conn_cache.size() > 4 * 65536) im.conn_cache.clear();
    for (const auto& f : s.flows) {
      if (f.key.kind != IPCTOP_KIND_TCP && f.key.kind != IPCTOP_KIND_UDP) continue;
      auto it = im.conn_cache.find(f.key.chan_ino);
      ipctop_conn conn{};
      // A UDP entry may gain the address only the other side knew: read
      // again until both are there.
      bool complete = it != im.conn_cache.end() &&
                      (f.key.kind == IPCTOP_KIND_TCP ||
                       (std::any_of(std::begin(it->second.saddr), std::end(it->second.saddr),
                                    [](uint8_t b) { return b && b != 0xff; }) &&
                        std::any_of(std::begin(it->second.daddr), std::end(it->second.daddr),
                                    [](uint8_t b) { return b && b != 0xff; })));
      if (!complete && bpf_map_lookup_elem(im.conns_fd, &f.key.chan_ino, &conn) == 0)
        it = im.conn_cache.insert_or_assign(f.key.chan_ino, conn).first;
      if (it != im.conn_cache.end()) s.conns[f.key.chan_ino] = it->second;
    }
  }
  // Records again, after the maps: a thread that forked, moved data and
  // exited while the maps were read has a flow in this sample, and its
  // fork record (committed before it ran) must be in it too, or it would
  // be named from /proc, where it is already gone.
  std::lock_guard lock(im.ring_mutex);
  ring_buffer__consume(im.ring);
  for (auto& r : im.records) s.records.push_back(std::move(r));
  im.records.clear();
  s.records_malformed = im.malformed;
  return s;
}

void Probes::collect_garbage(const GcPlan& plan) {
  Impl& im = *impl_;
  for (const auto& k : plan.flows) {
    // Signals and shared memory wakeups live in their own table.
    bool sync = k.kind == IPCTOP_KIND_SIGNAL || k.kind == IPCTOP_KIND_SYSV_SHM ||
                k.kind == IPCTOP_KIND_POSIX_SHM;
    bpf_map_delete_elem(sync && im.sync_flows_fd >= 0 ? im.sync_flows_fd : im.flows_fd, &k);
  }
  for (uint32_t tid : plan.tids) bpf_map_delete_elem(im.threads_fd, &tid);
  if (im.wakeups_fd >= 0)
    for (const auto& k : plan.wakeups) bpf_map_delete_elem(im.wakeups_fd, &k);
  if (im.proc_runs_fd >= 0)
    for (uint32_t tgid : plan.tgids) bpf_map_delete_elem(im.proc_runs_fd, &tgid);

  // Attribution queues: src/probe/QueueExpiry.h says which expire (by age,
  // and under pressure when the table fills up).
  const QueueExpiryPolicy policy;
  const double now = monotonic_ns();
  if (im.queues_fd < 0 || now - im.last_queue_gc_ns < 1e9) return;
  im.last_queue_gc_ns = now;
  // Epochs older than the longest idle threshold are not needed any more.
  while (im.epoch_start_ns.size() > 2 &&
         now - std::next(im.epoch_start_ns.begin())->second > 2 * policy.unread_ns)
    im.epoch_start_ns.erase(im.epoch_start_ns.begin());
  std::vector<ipctop_queue_key> keys;
  std::vector<QueueState> states;
  im.for_each_entry(im.queues_fd, sizeof(ipctop_queue_key), sizeof(ipctop_queue), false,
                    [&](const uint8_t* key, const uint8_t* value) {
                      ipctop_queue q;
                      std::memcpy(&q, value, sizeof(q));
                      ipctop_queue_key k;
                      std::memcpy(&k, key, sizeof(k));
                      keys.push_back(k);
                      states.push_back({q.len == 0, q.reads != 0, im.idle_ns(q.last_epoch, now)});
                    });
  std::vector<ipctop_queue_key> expired;
  for (size_t i : plan_queue_expiry(states, im.max_channels, policy)) expired.push_back(keys[i]);
  const double min_idle_ns = std::min(policy.orphan_read_ns, policy.pressure_idle_ns);
  for (const auto& k : expired) {
    ipctop_queue q;
    // Read under the queue's lock so a concurrent update is not half seen.
    if (bpf_map_lookup_elem_flags(im.queues_fd, &k, &q, BPF_F_LOCK) != 0) continue;
    if (im.idle_ns(q.last_epoch, now) < min_idle_ns) continue;  // active again
    // Take it out and read it in one step (kernel 5.14+), so a read appended
    // between the look and the delete is still credited below.
    if (bpf_map_lookup_and_delete_elem_flags(im.queues_fd, &k, &q, BPF_F_LOCK) != 0 &&
        (errno == ENOENT || bpf_map_delete_elem(im.queues_fd, &k) != 0))
      continue;
    if (!q.reads) continue;
    for (uint32_t i = 0; i < q.len && i < IPCTOP_QUEUE_SEGS; ++i) {
      const ipctop_seg& seg = q.seg[(q.head + i) % IPCTOP_QUEUE_SEGS];
      im.orphan_bytes += seg.bytes;
      im.orphan_messages += seg.ops;
    }
  }
}

}  // namespace ipctop::probe
