#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "limits/Internal.h"

namespace ipctop::limits::detail {

namespace {

// shmmni, msgmni and semmni cannot go above IPCMNI unless the kernel was booted with
// ipcmni_extend.
constexpr uint64_t kIpcMni = 32768;
constexpr double kNearlyFull = 90.0;
// SHMMAX and SHMALL in the kernel headers: as large as possible while still leaving room for
// scripts that read the limit, add to it and write it back.
constexpr uint64_t kShmDefault = UINT64_MAX - (uint64_t{1} << 24);

struct Ctx {
  const Report& report;
  const Facts& facts;
  uint64_t page;
  std::vector<Warning>& out;

  const Limit* get(std::string_view name) const { return find_limit(report, name); }

  // The value of a readable limit that means what it says (not a "no limit" default).
  std::optional<uint64_t> finite(std::string_view name) const {
    const Limit* l = get(name);
    if (l == nullptr || !l->value || l->unlimited) return std::nullopt;
    return l->value;
  }

  void warn(std::string limit, std::string message, std::string fix,
            Severity severity = Severity::Warning) {
    out.push_back({std::move(limit), std::move(message), std::move(fix), severity});
  }
};

uint64_t ceil_div(uint64_t a, uint64_t b) { return a / b + (a % b != 0 ? 1 : 0); }

uint64_t doubled(uint64_t v) { return v > UINT64_MAX / 2 ? v : std::max<uint64_t>(v * 2, 1); }

std::string pct_text(double pct) { return fmt::format("{:.0f}%", std::floor(pct)); }

void unlimited_notes(Ctx& c) {
  for (const Limit& l : c.report.limits) {
    // RLIM_INFINITY says "no limit" itself and is normal for root.
    if (!l.value || !l.unlimited || *l.value == 0 || l.name.starts_with("rlimit.")) continue;
    std::string n = fmt::format("{} = {}{}", l.name, *l.value, l.unit == "pages" ? " pages" : "");
    if (*l.value == kShmDefault) n += " (ULONG_MAX - 2^24)";
    if (l.name == "kernel.shmmax") {
      std::string fix = "none needed";
      if (c.facts.mem_total_bytes)
        fix = fmt::format(
            "none needed; to cap one segment at physical memory: sysctl -w "
            "kernel.shmmax={}",
            *c.facts.mem_total_bytes);
      c.warn(l.name,
             n + " is the kernel's \"no limit\" default: a single segment is bounded only by "
                 "kernel.shmall and by memory.",
             std::move(fix), Severity::Info);
    } else if (l.name == "kernel.shmall") {
      std::string fix = "none needed";
      if (c.facts.mem_total_bytes)
        fix = fmt::format("none needed; to cap it at physical memory: sysctl -w kernel.shmall={}",
                          *c.facts.mem_total_bytes / c.page);
      c.warn(l.name,
             n + " is the kernel's \"no limit\" default: all segments together are "
                 "bounded only by RAM + swap.",
             std::move(fix), Severity::Info);
    } else {
      c.warn(l.name, n + " is so large that it means \"no limit\".", "none needed", Severity::Info);
    }
  }
}

void shm_consistency(Ctx& c) {
  const auto shmmax = c.finite("kernel.shmmax");
  const auto shmall = c.finite("kernel.shmall");
  if (!shmall) return;
  const auto shmall_bytes = checked_mul(*shmall, c.page);
  if (!shmall_bytes) return;
  if (shmmax && *shmmax > *shmall_bytes) {
    const uint64_t need = ceil_div(*shmmax, c.page);
    c.warn("kernel.shmmax",
           fmt::format("kernel.shmmax allows one segment of {} ({} bytes), but kernel.shmall "
                       "caps all segments together at {} pages x {} = {}: a segment of shmmax "
                       "bytes can never be created, shmget() fails with ENOSPC. Raise "
                       "kernel.shmall to at least {} pages (more if other segments exist), "
                       "or lower kernel.shmmax to {}.",
                       human_bytes(*shmmax), *shmmax, *shmall, human_bytes(c.page),
                       human_bytes(*shmall_bytes), need, *shmall_bytes),
           fmt::format("sysctl -w kernel.shmall={}", need));
  }
  if (c.facts.mem_total_bytes && *shmall_bytes > *c.facts.mem_total_bytes) {
    const uint64_t fit = *c.facts.mem_total_bytes / c.page;
    c.warn("kernel.shmall",
           fmt::format("kernel.shmall allows {} of SysV shared memory ({} pages x {}), more "
                       "than the {} of physical memory: big segments push the system into "
                       "swap or the OOM killer before shmget() refuses them.",
                       human_bytes(*shmall_bytes), *shmall, human_bytes(c.page),
                       human_bytes(*c.facts.mem_total_bytes)),
           fmt::format("sysctl -w kernel.shmall={}", fit));
  }
}

void msg_consistency(Ctx& c) {
  const auto msgmax = c.finite("kernel.msgmax");
  const auto msgmnb = c.finite("kernel.msgmnb");
  if (!msgmax || !msgmnb || *msgmnb >= *msgmax) return;
  c.warn("kernel.msgmnb",
         fmt::format("kernel.msgmnb ({} bytes, the capacity of a new queue) is smaller than "
                     "kernel.msgmax ({} bytes, the largest message): a message of {} to {} "
                     "bytes passes the msgmax check but never fits in such a queue, so "
                     "msgsnd() blocks forever (EAGAIN with IPC_NOWAIT). Existing queues keep "
                     "their capacity until changed with msgctl(IPC_SET).",
                     *msgmnb, *msgmax, *msgmnb + 1, *msgmax),
         fmt::format("sysctl -w kernel.msgmnb={}", *msgmax));
}

std::string sem_fix(const Ctx& c, std::size_t field, uint64_t value) {
  static constexpr const char* kNames[] = {"kernel.sem.semmsl", "kernel.sem.semmns",
                                           "kernel.sem.semopm", "kernel.sem.semmni"};
  std::string fields;
  for (std::size_t i = 0; i < 4; ++i) {
    const Limit* l = c.get(kNames[i]);
    if (i != field && (l == nullptr || !l->value)) return "";
    fields += fmt::format("{}{}", i == 0 ? "" : " ", i == field ? value : *l->value);
  }
  return fmt::format("sysctl -w kernel.sem=\"{}\"", fields);
}

std::string ipcmni_fix(const std::string& sysctl, uint64_t value, std::string_view remove) {
  if (value >= kIpcMni)
    return fmt::format(
        "remove unused objects ({}); {} is the kernel maximum unless booted "
        "with ipcmni_extend",
        remove, kIpcMni);
  return fmt::format("sysctl -w {}={}", sysctl, std::min(doubled(value), kIpcMni));
}

void nearly_full(Ctx& c) {
  const auto& objects = c.report.objects;
  uint64_t idle_segments = 0;
  uint64_t idle_pages = 0;
  for (const auto& s : objects.sysv_shm) {
    if (s.nattch != 0) continue;
    ++idle_segments;
    idle_pages += ceil_div(s.size, c.page);
  }
  const std::string idle =
      idle_segments == 0
          ? std::string()
          : fmt::format(
                " {} segment(s) holding {} pages have no process attached (nattch 0): "
                "if stale, remove them with ipcrm -m SHMID.",
                idle_segments, idle_pages);

  for (const Limit& l : c.report.limits) {
    if (!l.used_pct || *l.used_pct < kNearlyFull || !l.value) continue;
    const uint64_t v = *l.value;
    const std::string used = fmt::format("{} of {}", *l.used, v);
    const std::string pct = pct_text(*l.used_pct);
    if (l.name == "kernel.shmmni") {
      c.warn(l.name,
             fmt::format("SysV shared memory segments: {} exist ({}); shmget() fails "
                         "with ENOSPC at the limit.{}",
                         used, pct, idle),
             ipcmni_fix(l.name, v, "ipcrm -m"));
    } else if (l.name == "kernel.shmall") {
      c.warn(l.name,
             fmt::format("SysV shared memory: {} pages in use ({}); shmget() fails "
                         "with ENOSPC at the limit.{}",
                         used, pct, idle),
             fmt::format("sysctl -w kernel.shmall={}", doubled(v)));
    } else if (l.name == "kernel.msgmni") {
      c.warn(l.name,
             fmt::format("SysV message queues: {} exist ({}); msgget() fails with "
                         "ENOSPC at the limit.",
                         used, pct),
             ipcmni_fix(l.name, v, "ipcrm -q"));
    } else if (l.name == "kernel.sem.semmni") {
      c.warn(l.name,
             fmt::format("SysV semaphore sets: {} exist ({}); semget() fails with "
                         "ENOSPC at the limit.",
                         used, pct),
             v >= kIpcMni ? ipcmni_fix(l.name, v, "ipcrm -s")
                          : sem_fix(c, 3, std::min(doubled(v), kIpcMni)));
    } else if (l.name == "kernel.sem.semmns") {
      c.warn(l.name,
             fmt::format("SysV semaphores: {} exist in all sets together ({}); "
                         "semget() fails with ENOSPC at the limit.",
                         used, pct),
             sem_fix(c, 1, doubled(v)));
    } else if (l.name == "fs.mqueue.queues_max") {
      c.warn(l.name,
             fmt::format("POSIX message queues: {} exist ({}); mq_open(O_CREAT) fails "
                         "with ENFILE at the limit (except for root).",
                         used, pct),
             fmt::format("sysctl -w fs.mqueue.queues_max={}", doubled(v)));
    } else if (l.name == "fs.file-max") {
      c.warn(l.name,
             fmt::format("File handles: {} allocated ({}); open(), socket() and pipe() "
                         "fail with ENFILE at the limit.",
                         used, pct),
             fmt::format("sysctl -w fs.file-max={}", doubled(v)));
    } else if (l.name == "dev_shm.size") {
      std::string largest;
      const PosixShm* big = nullptr;
      for (const auto& s : objects.posix_shm)
        if (big == nullptr || s.size > big->size) big = &s;
      if (big != nullptr)
        largest = fmt::format(" Largest object: {} ({}).", big->name, human_bytes(big->size));
      c.warn(l.name,
             fmt::format("/dev/shm is {} full ({} of {}): growing shm_open() objects fails with "
                         "ENOSPC, and touching their mapped pages raises SIGBUS.{}",
                         pct_text(*l.used_pct), human_bytes(*l.used), human_bytes(v), largest),
             fmt::format("mount -o remount,size={}M /dev/shm  (or delete stale objects there)",
                         ceil_div(doubled(v), 1024 * 1024)));
    }
  }
}

void full_queues(Ctx& c) {
  const auto msgmnb = c.finite("kernel.msgmnb");
  for (const auto& m : c.report.objects.sysv_msg) {
    const std::optional<uint64_t> cap = m.qbytes ? m.qbytes : msgmnb;
    if (!cap || *cap == 0 || m.cbytes < *cap - *cap / 10) continue;
    const std::string reader =
        m.last_receiver.pid == 0
            ? std::string("nothing has ever received from it")
            : fmt::format("last received by pid {}{}", m.last_receiver.pid,
                          m.last_receiver.comm ? " (" + *m.last_receiver.comm + ")"
                                               : std::string(", which is gone"));
    c.warn("kernel.msgmnb",
           fmt::format("SysV queue msqid {} (key 0x{:08x}) holds {} bytes in {} message(s), "
                       "{} of its {} bytes{}: msgsnd() blocks until a reader drains it; {}.",
                       m.msqid, m.key, m.cbytes, m.qnum,
                       pct_text(100.0 * static_cast<double>(m.cbytes) / static_cast<double>(*cap)),
                       *cap, m.qbytes ? "" : " (capacity assumed: kernel.msgmnb)", reader),
           "make sure its reader runs; raise its msg_qbytes with msgctl(IPC_SET), or "
           "kernel.msgmnb for new queues");
  }
}

// fs/pipe.c: a new pipe is charged 16 pages; if that takes an unprivileged user over the
// soft limit it gets 2 instead, and over the hard limit pipe() fails.
constexpr uint64_t kPipeDefPages = 16;
constexpr uint64_t kPipeMinPages = 2;

void pipe_users(Ctx& c) {
  const auto soft = c.finite("fs.pipe-user-pages-soft");
  const auto hard = c.finite("fs.pipe-user-pages-hard");
  for (const PipeUser& u : c.report.objects.pipe_users) {
    if (u.uid == 0) continue;  // root's processes are privileged: exempt
    const std::string who =
        fmt::format("user {} (uid {}) holds {} pipe pages ({}) in {} pipe(s)", u.owner, u.uid,
                    u.pages, human_bytes(u.pages * c.page), u.pipes);
    if (hard && *hard != 0 && u.pages + kPipeMinPages > *hard) {
      uint64_t v = *hard;
      while (v <= u.pages + kPipeDefPages && v < UINT64_MAX / 2) v *= 2;
      c.warn("fs.pipe-user-pages-hard",
             fmt::format("{}, at fs.pipe-user-pages-hard {}: its processes cannot create "
                         "pipes (pipe() fails with ENFILE) nor enlarge them (F_SETPIPE_SZ "
                         "fails with EPERM).",
                         who, *hard),
             fmt::format("sysctl -w fs.pipe-user-pages-hard={}", v));
    } else if (soft && *soft != 0 && u.pages + kPipeDefPages > *soft) {
      uint64_t v = *soft;
      while (v <= u.pages + kPipeDefPages && v < UINT64_MAX / 2) v *= 2;
      c.warn(
          "fs.pipe-user-pages-soft",
          fmt::format("{}, over fs.pipe-user-pages-soft {}: every pipe its processes create "
                      "gets {} pages ({}) instead of {} ({}), so writers block or get "
                      "EAGAIN {} times sooner, and F_SETPIPE_SZ cannot enlarge them "
                      "(EPERM).",
                      who, *soft, kPipeMinPages, human_bytes(kPipeMinPages * c.page), kPipeDefPages,
                      human_bytes(kPipeDefPages * c.page), kPipeDefPages / kPipeMinPages),
          fmt::format("sysctl -w fs.pipe-user-pages-soft={}", v));
    }
  }
}

void dev_shm_type(Ctx& c) {
  if (!c.facts.dev_shm_not_tmpfs) return;
  c.warn("dev_shm.size",
         "the POSIX shared memory directory is not a tmpfs mount: shm_open() objects there are "
         "ordinary files (on disk), or shm_open() fails if the directory is missing.",
         "mount -t tmpfs -o nosuid,nodev tmpfs /dev/shm", Severity::Info);
}

}  // namespace

void add_warnings(const Report& report, const Facts& facts, const Host& host,
                  std::vector<Warning>& out) {
  Ctx c{report, facts, host.page_size != 0 ? host.page_size : 4096, out};
  shm_consistency(c);
  msg_consistency(c);
  nearly_full(c);
  full_queues(c);
  pipe_users(c);
  unlimited_notes(c);
  dev_shm_type(c);
}

}  // namespace ipctop::limits::detail
