#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "limits/Internal.h"
#include "model/Text.h"

namespace ipctop::limits {

namespace {

using detail::FileText;
using detail::kEffectivelyUnlimited;
using detail::split_ws;

constexpr uint64_t kNoRlimit = std::numeric_limits<uint64_t>::max();

std::string sysctl_path(const Roots& roots, std::string_view name) {
  std::string rel(name);
  std::replace(rel.begin(), rel.end(), '.', '/');
  return roots.proc + "/sys/" + rel;
}

// A garbled file is quoted in the error, shortened so that a huge file stays one line.
std::string excerpt(std::string_view text) {
  text = detail::trim(text);
  std::string s = ipctop::sanitize(text.substr(0, 40));
  if (text.size() > 40) s += "...";
  return s;
}

struct Reader {
  const Roots& roots;
  Report& report;

  void fail(Limit& l, std::string error) {
    l.error = std::move(error);
    report.errors.push_back(fmt::format("{}: {}", l.name, l.error));
  }

  Limit make(std::string name, Group group, std::string unit, std::string description) {
    Limit l;
    l.name = std::move(name);
    l.group = group;
    l.unit = std::move(unit);
    l.description = std::move(description);
    return l;
  }

  // Text of a sysctl file, or nullopt after recording why on `l`.
  std::optional<std::string> text(Limit& l, const std::string& path) {
    l.source = ipctop::sanitize(path);
    FileText f = detail::read_small_file(path);
    if (!f.text) {
      fail(l, fmt::format("cannot read {}: {}", ipctop::sanitize(path), f.error));
      return std::nullopt;
    }
    if (detail::trim(*f.text).empty()) {
      fail(l, fmt::format("{} is empty", ipctop::sanitize(path)));
      return std::nullopt;
    }
    return f.text;
  }

  void number_into(Limit& l, std::string_view field, const std::string& path) {
    if (auto v = detail::parse_u64(detail::trim(field))) {
      l.value = *v;
    } else {
      fail(l, fmt::format("not a number in {}: '{}'", ipctop::sanitize(path), excerpt(field)));
    }
  }

  Limit sysctl(std::string name, Group group, std::string unit, std::string description) {
    Limit l = make(std::move(name), group, std::move(unit), std::move(description));
    const std::string path = sysctl_path(roots, l.name);
    if (auto t = text(l, path)) number_into(l, *t, path);
    return l;
  }

  Limit rlimit(std::string name, Group group, const std::optional<RLimit>& rl,
               std::string description) {
    Limit l = make(std::move(name), group, "bytes", std::move(description));
    l.source = "getrlimit";
    if (rl) {
      l.value = rl->soft;
      l.hard = rl->hard;
      l.unlimited = rl->soft == kNoRlimit;
    } else {
      fail(l, "getrlimit failed");
    }
    return l;
  }
};

std::optional<uint64_t> mem_total_bytes(const Roots& roots, Report& report) {
  const std::string path = roots.proc + "/meminfo";
  FileText f = detail::read_small_file(path);
  if (!f.text) {
    report.errors.push_back(
        fmt::format("meminfo: cannot read {}: {}", ipctop::sanitize(path), f.error));
    return std::nullopt;
  }
  std::string_view rest = *f.text;
  while (!rest.empty()) {
    const std::size_t nl = rest.find('\n');
    const std::string_view line = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    if (!line.starts_with("MemTotal:")) continue;
    const auto fields = split_ws(line.substr(9));
    if (fields.size() == 2 && fields[1] == "kB") {
      if (auto kb = detail::parse_u64(fields[0])) {
        if (auto bytes = detail::checked_mul(*kb, 1024)) return bytes;
      }
    }
    break;
  }
  report.errors.push_back(
      fmt::format("meminfo: no usable MemTotal line in {}", ipctop::sanitize(path)));
  return std::nullopt;
}

void add_sem(Reader& r, std::vector<Limit>& out) {
  static constexpr struct {
    const char* name;
    const char* description;
  } kFields[] = {
      {"kernel.sem.semmsl", "most semaphores in one set"},
      {"kernel.sem.semmns", "most semaphores in all sets together"},
      {"kernel.sem.semopm", "most operations in one semop() call"},
      {"kernel.sem.semmni", "most semaphore sets"},
  };
  std::vector<Limit> sem;
  for (const auto& f : kFields)
    sem.push_back(r.make(f.name, Group::Semaphores, "count", f.description));
  const std::string path = sysctl_path(r.roots, "kernel.sem");
  std::optional<std::string> text;
  {
    FileText f = detail::read_small_file(path);
    std::string error;
    if (!f.text) {
      error = fmt::format("cannot read {}: {}", ipctop::sanitize(path), f.error);
    } else if (detail::trim(*f.text).empty()) {
      error = fmt::format("{} is empty", ipctop::sanitize(path));
    } else {
      text = std::move(f.text);
    }
    for (Limit& l : sem) {
      l.source = ipctop::sanitize(path);
      if (!error.empty()) r.fail(l, error);
    }
  }
  if (text) {
    const auto fields = split_ws(*text);
    for (std::size_t i = 0; i < sem.size(); ++i) {
      if (i < fields.size()) {
        r.number_into(sem[i], fields[i], path);
      } else {
        r.fail(sem[i], fmt::format("{} has {} of 4 fields: '{}'", ipctop::sanitize(path),
                                   fields.size(), excerpt(*text)));
      }
    }
    if (fields.size() > 4) {
      r.report.errors.push_back(fmt::format("kernel.sem: {} has {} fields, expected 4",
                                            ipctop::sanitize(path), fields.size()));
    }
  }
  for (Limit& l : sem) out.push_back(std::move(l));
}

Limit* find(std::vector<Limit>& limits, std::string_view name) {
  for (Limit& l : limits)
    if (l.name == name) return &l;
  return nullptr;
}

void apply_file_nr(const Roots& roots, Limit& file_max, Report& report) {
  const std::string path = roots.proc + "/sys/fs/file-nr";
  file_max.used_what = "allocated handles";
  FileText f = detail::read_small_file(path);
  if (!f.text) {
    report.errors.push_back(
        fmt::format("fs.file-nr: cannot read {}: {}", ipctop::sanitize(path), f.error));
    return;
  }
  const auto fields = split_ws(*f.text);
  if (!fields.empty()) {
    if (auto v = detail::parse_u64(fields[0])) {
      file_max.used = *v;
      return;
    }
  }
  report.errors.push_back(fmt::format("fs.file-nr: not three numbers in {}: '{}'",
                                      ipctop::sanitize(path), excerpt(*f.text)));
}

void use(std::vector<Limit>& limits, std::string_view name, uint64_t used, const char* what) {
  if (Limit* l = find(limits, name)) {
    l->used = used;
    l->used_what = what;
  }
}

void apply_usage(Report& report, const detail::ObjectsRead& read, uint64_t page_size) {
  auto& L = report.limits;
  const auto& o = report.objects;
  if (read.sysv_shm) {
    uint64_t pages = 0;
    uint64_t largest = 0;
    for (const auto& s : o.sysv_shm) {
      // As the kernel accounts it: each segment rounded up to whole pages.
      pages += s.size / page_size + (s.size % page_size != 0 ? 1 : 0);
      largest = std::max(largest, s.size);
    }
    use(L, "kernel.shmmni", o.sysv_shm.size(), "segments");
    use(L, "kernel.shmall", pages, "pages in all segments");
    use(L, "kernel.shmmax", largest, "largest segment");
  }
  if (read.sysv_msg) {
    use(L, "kernel.msgmni", o.sysv_msg.size(), "queues");
  }
  if (read.sysv_sem) {
    uint64_t total = 0;
    uint64_t largest = 0;
    for (const auto& s : o.sysv_sem) {
      total += s.nsems;
      largest = std::max(largest, s.nsems);
    }
    use(L, "kernel.sem.semmni", o.sysv_sem.size(), "sets");
    use(L, "kernel.sem.semmns", total, "semaphores");
    use(L, "kernel.sem.semmsl", largest, "largest set");
  }
  if (read.posix_mq) {
    use(L, "fs.mqueue.queues_max", o.posix_mq.size(), "queues");
  }
}

// The user holding the most pipe pages, root aside (privileged processes are exempt from
// both limits), is the usage of fs.pipe-user-pages-soft and -hard.
void apply_pipes(Report& report, const PipeScan& scan, const Host& host) {
  report.unmeasured_pipe_processes = scan.unmeasured;
  for (const auto& [uid, u] : scan.by_uid) {
    PipeUser p;
    p.uid = uid;
    std::optional<std::string> name;
    if (host.user_name) name = host.user_name(uid);
    p.owner = name ? ipctop::sanitize(*name) : std::to_string(uid);
    p.pages = u.pages;
    p.pipes = u.pipes;
    report.objects.pipe_users.push_back(std::move(p));
  }
  auto& users = report.objects.pipe_users;
  std::stable_sort(users.begin(), users.end(),
                   [](const PipeUser& a, const PipeUser& b) { return a.pages > b.pages; });
  const PipeUser* top = nullptr;
  for (const auto& u : users)
    if (u.uid != 0 && (top == nullptr || u.pages > top->pages)) top = &u;
  const std::string what = top == nullptr
                               ? "pages of the user holding most (none but root)"
                               : fmt::format("pages of the user holding most ({})", top->owner);
  for (const char* name : {"fs.pipe-user-pages-soft", "fs.pipe-user-pages-hard"}) {
    if (Limit* l = find(report.limits, name)) {
      l->used = top == nullptr ? 0 : top->pages;
      l->used_what = what;
    }
  }
}

void finish(Limit& l, uint64_t page_size) {
  if (!l.value) return;
  if (l.unit == "pages") {
    l.value_bytes = detail::checked_mul(*l.value, page_size);
  }
  if (*l.value >= kEffectivelyUnlimited) l.unlimited = true;
  if (l.value_bytes.value_or(0) >= kEffectivelyUnlimited) l.unlimited = true;
  if (l.unlimited || !l.used || *l.value == 0) return;
  l.used_pct = 100.0 * static_cast<double>(*l.used) / static_cast<double>(*l.value);
}

}  // namespace

std::string_view group_title(Group group) {
  switch (group) {
    case Group::SharedMemory:
      return "Shared memory (SysV shmget, POSIX shm_open)";
    case Group::MessageQueues:
      return "Message queues (SysV msgget)";
    case Group::Semaphores:
      return "Semaphores (SysV semget)";
    case Group::PosixMessageQueues:
      return "POSIX message queues (mq_open)";
    case Group::Pipes:
      return "Pipes";
    case Group::Files:
      return "Files";
    case Group::Sockets:
      return "Sockets";
  }
  return "Other";
}

const Limit* find_limit(const Report& report, std::string_view name) {
  for (const Limit& l : report.limits)
    if (l.name == name) return &l;
  return nullptr;
}

Report collect(const Roots& roots) { return collect(roots, current_host(roots)); }

Report collect(const Roots& roots, const Host& host) {
  Report report;
  Reader r{roots, report};
  auto& L = report.limits;
  const uint64_t page_size = host.page_size != 0 ? host.page_size : 4096;
  bool dev_shm_not_tmpfs = false;

  constexpr auto shm = Group::SharedMemory;
  L.push_back(r.sysctl("kernel.shmmax", shm, "bytes", "largest one segment may be"));
  L.push_back(r.sysctl("kernel.shmall", shm, "pages", "all segments together"));
  L.push_back(r.sysctl("kernel.shmmni", shm, "count", "most segments that may exist"));
  L.push_back(
      r.sysctl("kernel.shm_rmid_forced", shm, "bool", "if on, segments vanish when unattached"));
  {
    Limit l = r.make("page_size", shm, "bytes", "memory page; the unit of kernel.shmall");
    l.value = page_size;
    l.source = "sysconf(_SC_PAGESIZE)";
    L.push_back(std::move(l));
  }
  const std::optional<uint64_t> mem_total = mem_total_bytes(roots, report);
  {
    Limit l = r.make("meminfo.MemTotal", shm, "bytes", "physical memory, for comparison");
    l.value = mem_total;
    l.source = ipctop::sanitize(roots.proc + "/meminfo");
    if (!mem_total) l.error = "unreadable";
    L.push_back(std::move(l));
  }
  {
    Limit l = r.make("dev_shm.size", shm, "bytes", "tmpfs holding shm_open/sem_open objects");
    l.source = ipctop::sanitize("statvfs(" + roots.dev_shm + ")");
    l.used_what = "bytes stored";
    std::optional<FsUsage> u;
    if (host.fs_usage) u = host.fs_usage(roots.dev_shm);
    if (u) {
      l.value = u->size_bytes;
      l.used = u->used_bytes;
      dev_shm_not_tmpfs = !u->tmpfs;
    } else {
      r.fail(l, fmt::format("cannot statvfs {}", ipctop::sanitize(roots.dev_shm)));
    }
    L.push_back(std::move(l));
  }
  L.push_back(r.rlimit("rlimit.memlock", shm, host.rlimit_memlock,
                       "memory this process may lock (SHM_LOCK)"));

  constexpr auto msg = Group::MessageQueues;
  L.push_back(r.sysctl("kernel.msgmax", msg, "bytes", "largest single message"));
  L.push_back(r.sysctl("kernel.msgmnb", msg, "bytes", "capacity of a new queue"));
  L.push_back(r.sysctl("kernel.msgmni", msg, "count", "most queues that may exist"));

  add_sem(r, L);

  constexpr auto mq = Group::PosixMessageQueues;
  L.push_back(r.sysctl("fs.mqueue.queues_max", mq, "count", "most queues (root is exempt)"));
  L.push_back(r.sysctl("fs.mqueue.msg_max", mq, "count", "highest mq_maxmsg (non-root)"));
  L.push_back(r.sysctl("fs.mqueue.msgsize_max", mq, "bytes", "highest mq_msgsize (non-root)"));
  L.push_back(r.sysctl("fs.mqueue.msg_default", mq, "count", "mq_maxmsg when no attr is given"));
  L.push_back(
      r.sysctl("fs.mqueue.msgsize_default", mq, "bytes", "mq_msgsize when no attr is given"));
  L.push_back(
      r.rlimit("rlimit.msgqueue", mq, host.rlimit_msgqueue, "queue capacity this user may create"));

  constexpr auto pipe = Group::Pipes;
  L.push_back(r.sysctl("fs.pipe-max-size", pipe, "bytes", "largest F_SETPIPE_SZ (non-root)"));
  L.push_back(
      r.sysctl("fs.pipe-user-pages-soft", pipe, "pages", "over it, a user's new pipes are tiny"));
  L.push_back(r.sysctl("fs.pipe-user-pages-hard", pipe, "pages", "over it, a user's pipe() fails"));

  constexpr auto files = Group::Files;
  L.push_back(r.sysctl("fs.file-max", files, "count", "open files, system-wide"));
  apply_file_nr(roots, L.back(), report);
  L.push_back(r.sysctl("fs.nr_open", files, "count", "highest RLIMIT_NOFILE a process may set"));

  constexpr auto sock = Group::Sockets;
  L.push_back(r.sysctl("net.core.somaxconn", sock, "count", "longest listen() backlog"));
  L.push_back(r.sysctl("net.core.rmem_max", sock, "bytes", "largest SO_RCVBUF (non-root)"));
  L.push_back(r.sysctl("net.core.wmem_max", sock, "bytes", "largest SO_SNDBUF (non-root)"));
  L.push_back(
      r.sysctl("net.unix.max_dgram_qlen", sock, "count", "datagrams queued on a unix socket"));

  // 0 switches these two off.
  for (const char* name : {"fs.pipe-user-pages-soft", "fs.pipe-user-pages-hard"}) {
    if (Limit* l = find(L, name); l && l->value == uint64_t{0}) l->unlimited = true;
  }

  const detail::ObjectsRead read = detail::collect_objects(roots, host, report);
  apply_usage(report, read, page_size);
  if (host.pipe_usage) {
    if (auto scan = host.pipe_usage()) apply_pipes(report, *scan, host);
  }
  for (Limit& l : L) finish(l, page_size);

  detail::Facts facts;
  facts.mem_total_bytes = mem_total;
  facts.dev_shm_not_tmpfs = dev_shm_not_tmpfs;
  detail::add_warnings(report, facts, host, report.warnings);
  return report;
}

}  // namespace ipctop::limits
