#include "model/Failures.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <tuple>

#include <fmt/format.h>

#include "model/Aggregator.h"
#include "model/Snapshot.h"

namespace ipctop {

static_assert(sizeof(ipctop_fail_key) == 16, "ipctop_fail_key layout");
static_assert(sizeof(ipctop_fail_val) == 16 * 8 + IPCTOP_COMM_LEN, "ipctop_fail_val layout");

namespace {

constexpr uint64_t kU64Max = std::numeric_limits<uint64_t>::max();
// Kernel constants (include/linux/pipe_fs_i.h, ipc/mqueue.c, uapi headers).
constexpr uint64_t kPipeDefBuffers = 16;
constexpr uint64_t kPipeMinDefBuffers = 2;
constexpr uint64_t kHardMsgMax = 65536;
constexpr uint64_t kHardMsgSizeMax = 16u << 20;
constexpr uint64_t kMqPrioMax = 32768;
constexpr uint64_t kMsgMsgSize = 48;       // sizeof(struct msg_msg), 64-bit
constexpr uint64_t kMsgTreeNodeSize = 48;  // sizeof(struct posix_msg_tree_node), 64-bit
constexpr uint64_t kShmHugetlb = 04000;
constexpr uint64_t kIpcNowait = 04000;
constexpr uint64_t kHugePage = 2u << 20;
constexpr uint64_t kPipeMaxArg = 1ull << 31;

uint64_t times2(uint64_t x) { return x > kU64Max / 2 ? kU64Max : 2 * x; }

// A new value for a limit that is too low: at least `need`, and at least
// double the current one, so the next failure is not one step away.
uint64_t raised(uint64_t current, uint64_t need) {
  return std::max({times2(current), need, uint64_t{1}});
}

std::string sysctl_fix(std::string_view name, uint64_t value) {
  return fmt::format("sysctl -w {}={}", name, value);
}

std::string or_unreadable(const std::optional<uint64_t>& v) {
  return v ? std::to_string(*v) : std::string("(unreadable)");
}

// The rlimit fix for a running process: prlimit, raising the hard limit too
// when the new soft limit needs it.
std::string prlimit_fix(uint32_t pid, std::string_view option, uint64_t soft, uint64_t hard) {
  if (soft <= hard) return fmt::format("prlimit --pid {} --{}={}", pid, option, soft);
  return fmt::format("prlimit --pid {} --{}={}:{}", pid, option, soft, soft);
}

// The size F_SETPIPE_SZ turns a request into (fs/pipe.c round_pipe_size):
// whole pages, a power of two of them.
uint64_t round_pipe_size(uint64_t size, uint64_t page) {
  if (size > kPipeMaxArg) return 0;
  uint64_t pages = std::max<uint64_t>((size + page - 1) / page, 1);
  uint64_t pow2 = 1;
  while (pow2 < pages) pow2 <<= 1;
  return pow2 * page;
}

struct Ctx {
  const ipctop_fail_key& k;
  const ipctop_fail_val& v;
  const FailureLimits& limits;

  std::optional<uint64_t> value(std::string_view name) const {
    auto it = limits.values.find(std::string(name));
    if (it == limits.values.end()) return std::nullopt;
    return it->second;
  }
  std::optional<uint64_t> used(std::string_view name) const {
    auto it = limits.used.find(std::string(name));
    if (it == limits.used.end()) return std::nullopt;
    return it->second;
  }
  uint64_t page() const {
    auto p = value("page_size");
    return p && *p ? *p : 4096;
  }
  uint64_t pages(uint64_t bytes) const { return bytes / page() + (bytes % page() != 0); }
};

Diagnosis generic(std::string what) { return {std::nullopt, std::move(what), std::nullopt}; }

// A send that went to sleep on a full channel (err 0 from the sched_switch
// probe) rather than failing.
bool blocked(const ipctop_fail_key& k) { return k.err == 0 && is_send(k.sys); }

// EMFILE: the process's fd table is full.
Diagnosis nofile(const Ctx& c) {
  const auto& v = c.v;
  uint64_t want = times2(v.nofile_cur);
  if (auto nr_open = c.value("fs.nr_open"); nr_open && *nr_open > v.nofile_cur)
    want = std::min(want, *nr_open);
  return {"rlimit.nofile",
          fmt::format("no free file descriptor: RLIMIT_NOFILE is {} (hard {}) and the lowest free "
                      "fd is at least {}",
                      v.nofile_cur, v.nofile_max, v.next_fd),
          prlimit_fix(c.k.tgid, "nofile", want, v.nofile_max)};
}

// ENFILE: the system's file table is full.
Diagnosis file_max(const Ctx& c) {
  auto max = c.value("fs.file-max");
  auto used = c.used("fs.file-max");
  std::string detail =
      used ? fmt::format("the system has {} open files; fs.file-max is {}", *used,
                         or_unreadable(max))
           : fmt::format("the system's open files reached fs.file-max {}", or_unreadable(max));
  return {"fs.file-max", detail + " (root is exempt)",
          max ? std::optional(sysctl_fix("fs.file-max", raised(*max, used.value_or(0) + 1)))
              : std::nullopt};
}

Diagnosis shmget(const Ctx& c) {
  const auto& v = c.v;
  const std::string key = v.id == 0 ? "IPC_PRIVATE" : fmt::format("{:#x}", v.id);
  switch (c.k.err) {
    case EINVAL: {
      if (v.size < 1) return generic(fmt::format("requested {} bytes < SHMMIN 1", v.size));
      auto shmmax = c.value("kernel.shmmax");
      if (!shmmax || v.size > *shmmax)
        return {"kernel.shmmax",
                fmt::format("requested {} bytes > kernel.shmmax {}", v.size, or_unreadable(shmmax)),
                sysctl_fix("kernel.shmmax", v.size)};
      // A new segment (IPC_PRIVATE) fails only on the size: kernel.shmmax
      // was lower at the failure than when it was read.
      if (v.id == 0)
        return {"kernel.shmmax",
                fmt::format("requested {} bytes; kernel.shmmax is {} now, lower at the failure",
                            v.size, *shmmax),
                sysctl_fix("kernel.shmmax", std::max<uint64_t>(v.size, *shmmax))};
      return generic(
          fmt::format("requested {} bytes (kernel.shmmax {} allows it): the "
                      "segment of key {} exists and is smaller",
                      v.size, *shmmax, key));
    }
    case ENOSPC: {
      auto shmmni = c.value("kernel.shmmni");
      if (shmmni && v.ids_in_use >= *shmmni)
        return {"kernel.shmmni",
                fmt::format("{} segments exist, kernel.shmmni is {}", v.ids_in_use, *shmmni),
                sysctl_fix("kernel.shmmni", raised(*shmmni, v.ids_in_use + 1))};
      auto shmall = c.value("kernel.shmall");
      uint64_t need = v.shm_pages + c.pages(v.size);
      return {"kernel.shmall",
              fmt::format("{} pages in all segments + {} requested ({} bytes) > kernel.shmall {} "
                          "pages",
                          v.shm_pages, c.pages(v.size), v.size, or_unreadable(shmall)),
              sysctl_fix("kernel.shmall", shmall ? std::max(need, *shmall + 1) : need)};
    }
    case ENOMEM:
      if (v.flags & kShmHugetlb) {
        uint64_t huge = (v.size + kHugePage - 1) / kHugePage;
        return {"vm.nr_hugepages",
                fmt::format("no {} free huge pages for a SHM_HUGETLB segment of {} bytes", huge,
                            v.size),
                fmt::format("sysctl -w vm.nr_hugepages=$(( $(cat /proc/sys/vm/nr_hugepages) + "
                            "{} ))",
                            huge)};
      }
      return generic(
          fmt::format("the kernel could not allocate a segment of {} bytes "
                      "(memory, or vm.overcommit_memory)",
                      v.size));
    case EPERM:
      if (v.flags & kShmHugetlb)
        return {"vm.hugetlb_shm_group",
                fmt::format("SHM_HUGETLB by uid {}, not in vm.hugetlb_shm_group and without "
                            "CAP_IPC_LOCK",
                            v.uid),
                std::string("sysctl -w vm.hugetlb_shm_group=GID (a group of the user)")};
      break;
    case EACCES:
      return generic(
          fmt::format("the segment of key {} exists and denies uid {} access", key, v.uid));
    case EEXIST:
      return generic(fmt::format("IPC_CREAT|IPC_EXCL and the segment of key {} exists", key));
    case ENOENT:
      return generic(fmt::format("no segment of key {} and no IPC_CREAT", key));
    default:
      break;
  }
  return generic(fmt::format("shmget of {} bytes, key {}", v.size, key));
}

Diagnosis shmat(const Ctx& c) {
  const auto& v = c.v;
  auto look = fmt::format("ipcs -m -i {}", v.id);
  switch (c.k.err) {
    case EINVAL:
      return {
          std::nullopt,
          fmt::format("shmid {} is not a segment, or the address is not aligned to SHMLBA", v.id),
          look};
    case EACCES:
      return {std::nullopt,
              fmt::format("uid {} may not attach segment {} (its mode, or SHM_RDONLY missing)",
                          v.uid, v.id),
              look};
    case EIDRM:
      return generic(fmt::format("segment {} was removed", v.id));
    case ENOMEM:
      return generic(fmt::format("no room in the address space to attach segment {}", v.id));
    default:
      return generic(fmt::format("shmat of segment {}", v.id));
  }
}

Diagnosis msgget(const Ctx& c) {
  const auto& v = c.v;
  const std::string key = v.id == 0 ? "IPC_PRIVATE" : fmt::format("{:#x}", v.id);
  switch (c.k.err) {
    case ENOSPC: {
      auto msgmni = c.value("kernel.msgmni");
      return {
          "kernel.msgmni",
          fmt::format("{} queues exist, kernel.msgmni is {}", v.ids_in_use, or_unreadable(msgmni)),
          sysctl_fix("kernel.msgmni", raised(msgmni.value_or(v.ids_in_use), v.ids_in_use + 1))};
    }
    case EACCES:
      return generic(
          fmt::format("the queue of key {} exists and denies uid {} access", key, v.uid));
    case EEXIST:
      return generic(fmt::format("IPC_CREAT|IPC_EXCL and the queue of key {} exists", key));
    case ENOENT:
      return generic(fmt::format("no queue of key {} and no IPC_CREAT", key));
    default:
      return generic(fmt::format("msgget of key {}", key));
  }
}

// A SysV queue that had no room for the message: msgsnd with IPC_NOWAIT
// failed (EAGAIN), or without it went to sleep (blocked).
Diagnosis msgsnd_full(const Ctx& c) {
  const auto& v = c.v;
  auto msgmnb = c.value("kernel.msgmnb");
  std::string state;
  uint64_t capacity = msgmnb.value_or(0);
  std::optional<uint64_t> qbytes;
  if (auto q = c.limits.msg_queues.find(v.id); q != c.limits.msg_queues.end()) {
    state = fmt::format(" ({} bytes in {} messages; msg_qbytes {})", q->second.cbytes,
                        q->second.qnum, q->second.qbytes);
    if (q->second.qbytes) qbytes = q->second.qbytes;
    capacity = std::max(capacity, q->second.qbytes);
  }
  const std::string what =
      blocked(c.k)
          ? fmt::format("msgsnd of {} bytes blocked on full queue {}{}", v.size, v.id, state)
          : fmt::format("msgsnd of {} bytes{} to full queue {}{}", v.size,
                        v.flags & kIpcNowait ? " with IPC_NOWAIT" : "", v.id, state);
  // A queue whose msg_qbytes was lowered with msgctl(IPC_SET) below
  // kernel.msgmnb is raised with IPC_SET again; without CAP_SYS_RESOURCE up
  // to kernel.msgmnb.
  if (qbytes && msgmnb && *qbytes < *msgmnb)
    return {"kernel.msgmnb",
            fmt::format("{}; its msg_qbytes {} was set below kernel.msgmnb {} with "
                        "msgctl(IPC_SET)",
                        what, *qbytes, *msgmnb),
            fmt::format("raise queue {}'s msg_qbytes with msgctl(IPC_SET), up to kernel.msgmnb {} "
                        "(above it with CAP_SYS_RESOURCE)",
                        v.id, *msgmnb)};
  return {"kernel.msgmnb",
          fmt::format("{}; a queue's capacity is kernel.msgmnb ({}) when it is created: raise it, "
                      "then recreate the queue or raise its msg_qbytes with msgctl(IPC_SET)",
                      what, or_unreadable(msgmnb)),
          sysctl_fix("kernel.msgmnb", raised(capacity, v.size))};
}

Diagnosis msgsnd(const Ctx& c) {
  const auto& v = c.v;
  if (blocked(c.k)) return msgsnd_full(c);
  switch (c.k.err) {
    case EAGAIN:
      return msgsnd_full(c);
    case EINVAL: {
      auto msgmax = c.value("kernel.msgmax");
      if (!msgmax || v.size > *msgmax)
        return {
            "kernel.msgmax",
            fmt::format("message of {} bytes > kernel.msgmax {}", v.size, or_unreadable(msgmax)),
            sysctl_fix("kernel.msgmax", v.size)};
      return generic(
          fmt::format("msqid {} is not a queue, or mtype < 1 (the message of {} "
                      "bytes is within kernel.msgmax {})",
                      v.id, v.size, *msgmax));
    }
    case EACCES:
      return generic(fmt::format("uid {} may not write to queue {}", v.uid, v.id));
    case EIDRM:
      return generic(fmt::format("queue {} was removed", v.id));
    default:
      return generic(fmt::format("msgsnd of {} bytes to queue {}", v.size, v.id));
  }
}

Diagnosis mq_open(const Ctx& c) {
  const auto& v = c.v;
  switch (c.k.err) {
    case ENOSPC: {
      auto max = c.value("fs.mqueue.queues_max");
      return {"fs.mqueue.queues_max",
              fmt::format("{} queues exist, fs.mqueue.queues_max is {} (uid {}; processes with "
                          "CAP_SYS_RESOURCE are exempt)",
                          v.ids_in_use, or_unreadable(max), v.uid),
              sysctl_fix("fs.mqueue.queues_max", raised(max.value_or(0), v.ids_in_use + 1))};
    }
    case EMFILE: {
      if (v.next_fd >= v.nofile_cur) return nofile(c);
      // Otherwise the queue's memory would take the user over RLIMIT_MSGQUEUE.
      uint64_t n = v.attr ? v.nmsg : c.value("fs.mqueue.msg_default").value_or(10);
      uint64_t size = v.attr ? v.size : c.value("fs.mqueue.msgsize_default").value_or(8192);
      uint64_t bytes = n * (size + kMsgMsgSize) + std::min(n, kMqPrioMax) * kMsgTreeNodeSize;
      uint64_t want = raised(v.msgqueue_cur, v.msgqueue_cur + bytes);
      return {"rlimit.msgqueue",
              fmt::format("a queue of {} messages of {} bytes (about {} bytes) would take uid {} "
                          "over RLIMIT_MSGQUEUE {} bytes (hard {}) with its other queues",
                          n, size, bytes, v.uid, v.msgqueue_cur, v.msgqueue_max),
              prlimit_fix(c.k.tgid, "msgqueue", want, v.msgqueue_max)};
    }
    case EINVAL: {
      if (!v.attr) break;
      const auto nmsg = static_cast<int64_t>(v.nmsg);
      const auto size = static_cast<int64_t>(v.size);
      if (nmsg <= 0 || size <= 0)
        return generic(
            fmt::format("mq_maxmsg {} and mq_msgsize {} must both be above 0", nmsg, size));
      auto msg_max = c.value("fs.mqueue.msg_max");
      if (!msg_max || v.nmsg > *msg_max) {
        if (v.nmsg > kHardMsgMax)
          return generic(
              fmt::format("mq_maxmsg {} > {}, the most the kernel allows", v.nmsg, kHardMsgMax));
        return {"fs.mqueue.msg_max",
                fmt::format("mq_maxmsg {} > fs.mqueue.msg_max {} (processes with "
                            "CAP_SYS_RESOURCE may go up to {})",
                            v.nmsg, or_unreadable(msg_max), kHardMsgMax),
                sysctl_fix("fs.mqueue.msg_max", v.nmsg)};
      }
      auto msgsize_max = c.value("fs.mqueue.msgsize_max");
      if (!msgsize_max || v.size > *msgsize_max) {
        if (v.size > kHardMsgSizeMax)
          return generic(fmt::format("mq_msgsize {} > {}, the most the kernel allows", v.size,
                                     kHardMsgSizeMax));
        return {"fs.mqueue.msgsize_max",
                fmt::format("mq_msgsize {} > fs.mqueue.msgsize_max {} (processes with "
                            "CAP_SYS_RESOURCE may go up to {})",
                            v.size, or_unreadable(msgsize_max), kHardMsgSizeMax),
                sysctl_fix("fs.mqueue.msgsize_max", v.size)};
      }
      return generic(
          fmt::format("mq_maxmsg {} and mq_msgsize {} are within the limits: the "
                      "name or the flags are invalid",
                      v.nmsg, v.size));
    }
    case EACCES:
      return generic(fmt::format("the queue exists and denies uid {} access", v.uid));
    case EEXIST:
      return generic("O_CREAT|O_EXCL and the queue exists");
    case ENOENT:
      return generic("no such queue and no O_CREAT");
    default:
      break;
  }
  return generic(fmt::format("mq_open by uid {}", v.uid));
}

Diagnosis mq_timedsend(const Ctx& c) {
  const auto& v = c.v;
  auto msg_max = c.value("fs.mqueue.msg_max");
  const bool full = blocked(c.k) || c.k.err == EAGAIN || c.k.err == ETIMEDOUT;
  if (!full) {
    if (c.k.err == EMSGSIZE)
      return generic(fmt::format("message of {} bytes > the queue's mq_msgsize (descriptor {})",
                                 v.size, v.id));
    return generic(fmt::format("mq_timedsend of {} bytes (descriptor {})", v.size, v.id));
  }
  const char* how = blocked(c.k)        ? " and the sender blocked"
                    : c.k.err == EAGAIN ? " and O_NONBLOCK"
                                        : " until the timeout";
  // The queue's attributes are known when the descriptor was resolved.
  const bool known = c.k.kind == IPCTOP_KIND_POSIX_MQ && v.chan_capacity;
  const std::string state =
      known ? fmt::format(" ({} of mq_maxmsg {} messages)", v.chan_used, v.chan_capacity) : "";
  // At fs.mqueue.msg_max already, only raising the sysctl makes room.
  if (known && msg_max && v.chan_capacity >= *msg_max)
    return {"fs.mqueue.msg_max",
            fmt::format("queue (descriptor {}) is full{}{}: its mq_maxmsg is at fs.mqueue.msg_max "
                        "{}, the most an unprivileged creator may ask for",
                        v.id, state, how, *msg_max),
            sysctl_fix("fs.mqueue.msg_max", raised(*msg_max, 1)) +
                " (then recreate the queue with a larger mq_maxmsg)"};
  return {std::nullopt,
          fmt::format("queue (descriptor {}) is full{}{}: its receivers are slower than its "
                      "senders",
                      v.id, state, how),
          fmt::format("create the queue with a larger mq_maxmsg (up to fs.mqueue.msg_max {})",
                      or_unreadable(msg_max))};
}

// A user's pipe pages over fs.pipe-user-pages-{soft,hard}.
Diagnosis pipe_pages(const Ctx& c, std::string_view name, uint64_t user_pages, std::string what) {
  auto limit = c.value(name);
  return {std::string(name),
          fmt::format("{}: uid {} holds {} pipe pages, {} is {}", what, c.v.uid, user_pages, name,
                      or_unreadable(limit)),
          sysctl_fix(name, raised(limit.value_or(0), user_pages + kPipeDefBuffers))};
}

Diagnosis pipe(const Ctx& c) {
  const auto& v = c.v;
  switch (c.k.err) {
    case 0:
      return pipe_pages(c, "fs.pipe-user-pages-soft", v.user_pipe_pages,
                        fmt::format("pipe created with {} pages ({} bytes) instead of {}",
                                    v.chan_capacity, v.chan_capacity * c.page(), kPipeDefBuffers));
    case EMFILE:
      return nofile(c);
    case ENFILE: {
      // alloc_pipe_info fails, and that too is ENFILE, when the new pipe
      // would take the user over the hard limit: 16 pages, or 2 for a user
      // already over the soft limit (fs/pipe.c).
      auto hard = c.value("fs.pipe-user-pages-hard");
      auto soft = c.value("fs.pipe-user-pages-soft");
      const bool over_soft = soft && *soft && v.user_pipe_pages + kPipeDefBuffers > *soft;
      const uint64_t pages = over_soft ? kPipeMinDefBuffers : kPipeDefBuffers;
      if (hard && *hard && v.user_pipe_pages + pages > *hard)
        return pipe_pages(c, "fs.pipe-user-pages-hard", v.user_pipe_pages,
                          "no pipe may be created");
      return file_max(c);
    }
    default:
      return generic("pipe creation");
  }
}

Diagnosis setpipe(const Ctx& c) {
  const auto& v = c.v;
  const uint64_t page = c.page();
  const uint64_t rounded = round_pipe_size(v.size, page);
  switch (c.k.err) {
    case EPERM: {
      auto max = c.value("fs.pipe-max-size");
      if (!max || rounded > *max)
        return {
            "fs.pipe-max-size",
            fmt::format("F_SETPIPE_SZ {} bytes{} > fs.pipe-max-size {} (uid {}, without "
                        "CAP_SYS_RESOURCE)",
                        v.size, rounded != v.size ? fmt::format(" (rounded to {})", rounded) : "",
                        or_unreadable(max), v.uid),
            sysctl_fix("fs.pipe-max-size", rounded)};
      // The resize would take the user's pipe pages over a limit.
      // The kernel charges the pipe's user the new slots minus the ones the
      // pipe holds (fs/pipe.c pipe_set_size), and reverts it on failure.
      const uint64_t slots = rounded / page;
      const uint64_t after = v.user_pipe_pages + slots > v.chan_capacity
                                 ? v.user_pipe_pages + slots - v.chan_capacity
                                 : 0;
      auto hard = c.value("fs.pipe-user-pages-hard");
      std::string what =
          fmt::format("F_SETPIPE_SZ {} bytes would take the user to {} pipe pages", v.size, after);
      if (hard && *hard && after > *hard)
        return pipe_pages(c, "fs.pipe-user-pages-hard", after, what);
      return pipe_pages(c, "fs.pipe-user-pages-soft", after, what);
    }
    case EBUSY:
      return {std::nullopt,
              fmt::format("the pipe holds {} pages of data, more than the {} pages asked for",
                          v.chan_used, rounded / page),
              fmt::format("read the pipe down first, or ask for at least {} bytes",
                          v.chan_used * page)};
    case EINVAL:
      return generic(fmt::format("F_SETPIPE_SZ {} bytes: 0 pages, or above 2^31", v.size));
    case EBADF:
      return generic(fmt::format("fd {} is not a pipe", v.id));
    default:
      return generic(fmt::format("F_SETPIPE_SZ {} bytes on fd {}", v.size, v.id));
  }
}

Diagnosis full_channel(const Ctx& c) {
  const auto& v = c.v;
  switch (c.k.kind) {
    case IPCTOP_KIND_PIPE:
    case IPCTOP_KIND_FIFO: {
      const char* what = c.k.kind == IPCTOP_KIND_PIPE ? "pipe" : "FIFO";
      if (v.chan_capacity && v.chan_capacity < kPipeDefBuffers)
        return pipe_pages(c, "fs.pipe-user-pages-soft", v.user_pipe_pages,
                          fmt::format("the {} (fd {}) is full at only {} pages ({} bytes): it was "
                                      "created shrunk",
                                      what, v.id, v.chan_capacity, v.chan_capacity * c.page()));
      // Already as large as an unprivileged owner may make it.
      auto max_size = c.value("fs.pipe-max-size");
      if (max_size && v.chan_capacity * c.page() >= *max_size)
        return {"fs.pipe-max-size",
                fmt::format("the {} (fd {}) is full ({} of {} pages, {} bytes) at "
                            "fs.pipe-max-size {}: its reader is slower than its writer",
                            what, v.id, v.chan_used, v.chan_capacity, v.chan_capacity * c.page(),
                            *max_size),
                sysctl_fix("fs.pipe-max-size", times2(*max_size)) +
                    " (then enlarge it with fcntl(fd, F_SETPIPE_SZ, bytes))"};
      return {std::nullopt,
              fmt::format("the {} (fd {}) is full ({} of {} pages, {} bytes): its reader is "
                          "slower than its writer",
                          what, v.id, v.chan_used, v.chan_capacity, v.chan_capacity * c.page()),
              fmt::format("fcntl(fd, F_SETPIPE_SZ, bytes) enlarges it, up to fs.pipe-max-size {}",
                          or_unreadable(c.value("fs.pipe-max-size")))};
    }
    case IPCTOP_KIND_UNIX_STREAM:
    case IPCTOP_KIND_UNIX_DGRAM:
    case IPCTOP_KIND_UNIX_SEQPACKET: {
      auto wmem_max = c.value("net.core.wmem_max");
      // Datagrams also wait when the receiver's queue holds
      // net.unix.max_dgram_qlen of them, with room left in the send buffer.
      if (c.k.kind != IPCTOP_KIND_UNIX_STREAM && v.chan_used < v.chan_capacity) {
        auto qlen = c.value("net.unix.max_dgram_qlen");
        return {"net.unix.max_dgram_qlen",
                fmt::format("the receiving socket's queue is full (net.unix.max_dgram_qlen {} "
                            "datagrams when it was created; fd {} has {} of {} send-buffer bytes "
                            "in flight)",
                            or_unreadable(qlen), v.id, v.chan_used, v.chan_capacity),
                sysctl_fix("net.unix.max_dgram_qlen", raised(qlen.value_or(0), 1))};
      }
      // The kernel doubles SO_SNDBUF: at 2 * wmem_max, the sysctl is the cap.
      if (wmem_max && v.chan_capacity >= times2(*wmem_max))
        return {"net.core.wmem_max",
                fmt::format("the socket's send buffer (fd {}) is full: {} bytes in flight, "
                            "SO_SNDBUF {} is already at net.core.wmem_max {} (doubled)",
                            v.id, v.chan_used, v.chan_capacity, *wmem_max),
                sysctl_fix("net.core.wmem_max", times2(*wmem_max))};
      return {std::nullopt,
              fmt::format("the socket's send buffer (fd {}) is full: {} bytes in flight, SO_SNDBUF "
                          "{}: its reader is slower than its writer",
                          v.id, v.chan_used, v.chan_capacity),
              fmt::format("setsockopt(fd, SOL_SOCKET, SO_SNDBUF, bytes) enlarges it, up to "
                          "net.core.wmem_max {}",
                          or_unreadable(wmem_max))};
    }
    default:
      return generic(fmt::format("fd {} would block", v.id));
  }
}

}  // namespace

std::string_view failure_syscall_name(uint32_t sys) {
  switch (sys) {
    case IPCTOP_FAIL_SHMGET:
      return "shmget";
    case IPCTOP_FAIL_SHMAT:
      return "shmat";
    case IPCTOP_FAIL_MSGGET:
      return "msgget";
    case IPCTOP_FAIL_MSGSND:
      return "msgsnd";
    case IPCTOP_FAIL_MQ_OPEN:
      return "mq_open";
    case IPCTOP_FAIL_MQ_TIMEDSEND:
      return "mq_timedsend";
    case IPCTOP_FAIL_PIPE:
      return "pipe";
    case IPCTOP_FAIL_PIPE2:
      return "pipe2";
    case IPCTOP_FAIL_FCNTL:
      return "fcntl";
    case IPCTOP_FAIL_SOCKET:
      return "socket";
    case IPCTOP_FAIL_SOCKETPAIR:
      return "socketpair";
    case IPCTOP_FAIL_ACCEPT:
      return "accept";
    case IPCTOP_FAIL_ACCEPT4:
      return "accept4";
    case IPCTOP_FAIL_WRITE:
      return "write";
    case IPCTOP_FAIL_WRITEV:
      return "writev";
    case IPCTOP_FAIL_SENDTO:
      return "sendto";
    case IPCTOP_FAIL_SENDMSG:
      return "sendmsg";
    case IPCTOP_FAIL_SENDMMSG:
      return "sendmmsg";
    case IPCTOP_FAIL_PWRITEV2:
      return "pwritev2";
    case IPCTOP_FAIL_SPLICE:
      return "splice";
    case IPCTOP_FAIL_VMSPLICE:
      return "vmsplice";
    case IPCTOP_FAIL_TEE:
      return "tee";
    default:
      return "unknown";
  }
}

std::string errno_name(int err) {
  if (err == 0) return "";
  if (const char* name = strerrorname_np(err)) return name;
  return fmt::format("E{}", err);
}

bool is_send(uint32_t sys) {
  switch (sys) {
    case IPCTOP_FAIL_WRITE:
    case IPCTOP_FAIL_WRITEV:
    case IPCTOP_FAIL_SENDTO:
    case IPCTOP_FAIL_SENDMSG:
    case IPCTOP_FAIL_SENDMMSG:
    case IPCTOP_FAIL_PWRITEV2:
    case IPCTOP_FAIL_SPLICE:
    case IPCTOP_FAIL_VMSPLICE:
    case IPCTOP_FAIL_TEE:
    case IPCTOP_FAIL_MSGSND:
    case IPCTOP_FAIL_MQ_TIMEDSEND:
      return true;
    default:
      return false;
  }
}

bool is_blocked(const ipctop_fail_key& key) { return blocked(key); }

namespace {

Diagnosis diagnose_cause(const ipctop_fail_key& key, const ipctop_fail_val& val,
                         const FailureLimits& limits) {
  const Ctx c{key, val, limits};
  switch (key.sys) {
    case IPCTOP_FAIL_SHMGET:
      return shmget(c);
    case IPCTOP_FAIL_SHMAT:
      return shmat(c);
    case IPCTOP_FAIL_MSGGET:
      return msgget(c);
    case IPCTOP_FAIL_MSGSND:
      return msgsnd(c);
    case IPCTOP_FAIL_MQ_OPEN:
      return mq_open(c);
    case IPCTOP_FAIL_MQ_TIMEDSEND:
      return mq_timedsend(c);
    case IPCTOP_FAIL_PIPE:
    case IPCTOP_FAIL_PIPE2:
      return pipe(c);
    case IPCTOP_FAIL_FCNTL:
      return setpipe(c);
    case IPCTOP_FAIL_SOCKET:
    case IPCTOP_FAIL_SOCKETPAIR:
    case IPCTOP_FAIL_ACCEPT:
    case IPCTOP_FAIL_ACCEPT4:
      if (key.err == EMFILE) return nofile(c);
      if (key.err == ENFILE) return file_max(c);
      return generic("socket creation");
    case IPCTOP_FAIL_WRITE:
    case IPCTOP_FAIL_WRITEV:
    case IPCTOP_FAIL_SENDTO:
    case IPCTOP_FAIL_SENDMSG:
    case IPCTOP_FAIL_SENDMMSG:
    case IPCTOP_FAIL_PWRITEV2:
    case IPCTOP_FAIL_SPLICE:
    case IPCTOP_FAIL_VMSPLICE:
    case IPCTOP_FAIL_TEE:
      return full_channel(c);
    default:
      return generic("unknown syscall");
  }
}

}  // namespace

Diagnosis diagnose(const ipctop_fail_key& key, const ipctop_fail_val& val,
                   const FailureLimits& limits) {
  Diagnosis d = diagnose_cause(key, val, limits);
  if (blocked(key) && key.sys != IPCTOP_FAIL_MSGSND) d.detail = "blocked: " + d.detail;
  return d;
}

void add_failures(const FailureSamples& in, const Filter& filter, Snapshot& snap) {
  for (const auto& s : in.entries) {
    if (!s.val.count || !filter.wants(s.key.tgid)) continue;
    FailureRow row;
    row.syscall = failure_syscall_name(s.key.sys);
    row.err = errno_name(s.key.err);
    row.pid = s.key.tgid;
    row.tid = s.key.tid;
    row.comm.assign(s.val.comm, strnlen(s.val.comm, sizeof(s.val.comm)));
    row.count = s.val.count;
    row.blocked = blocked(s.key);
    row.diagnosis = diagnose(s.key, s.val, in.limits);
    snap.failures.push_back(std::move(row));
  }
  std::sort(snap.failures.begin(), snap.failures.end(), [](const auto& a, const auto& b) {
    return std::tie(a.pid, a.tid, a.syscall, a.err) < std::tie(b.pid, b.tid, b.syscall, b.err);
  });
  snap.lost.by_point["failure_map_full"] = in.map_full;
  snap.lost.events += in.map_full;
}

}  // namespace ipctop
