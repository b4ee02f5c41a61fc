#pragma once

// `ipctop limits`: IPC-related kernel limits, how much of each is in use, the IPC objects
// that use them, and warnings about limits that contradict each other. Needs no root and no
// BPF; everything comes from files under Roots plus a few calls described by Host.

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ipctop::limits {

struct Roots {
  std::string proc = "/proc";
  std::string dev_shm = "/dev/shm";
  std::string dev_mqueue = "/dev/mqueue";
};

struct FsUsage {
  uint64_t size_bytes = 0;
  uint64_t used_bytes = 0;
  bool tmpfs = true;
};

struct RLimit {
  uint64_t soft = 0;  // UINT64_MAX is RLIM_INFINITY
  uint64_t hard = 0;
};

// Pipe buffer pages by the user they are charged to (fs.pipe-user-pages-*), from the pipes
// and FIFOs that processes hold open: the kernel keeps the per-user total to itself.
struct PipeScan {
  struct User {
    uint64_t pages = 0;
    uint64_t pipes = 0;
  };
  std::map<uint32_t, User> by_uid;
  uint64_t unmeasured = 0;  // processes whose pipes could not be measured (no permission)
};

// What does not come from files under Roots. current_host() asks the running system; tests
// build their own so that fixtures render the same everywhere.
struct Host {
  uint64_t page_size = 4096;
  std::optional<RLimit> rlimit_msgqueue;
  std::optional<RLimit> rlimit_memlock;
  std::function<std::optional<FsUsage>(const std::string& path)> fs_usage;
  std::function<std::optional<std::string>(uint32_t uid)> user_name;
  // Capacity of a SysV queue: not in /proc/sysvipc/msg, only from msgctl(IPC_STAT). Returns
  // nullopt when unknown or when `msqid` no longer has `key`.
  std::function<std::optional<uint64_t>(int64_t msqid, uint32_t key)> msg_qbytes;
  // Pipe pages per user; unset when they cannot be derived (fixtures, or not wanted).
  std::function<std::optional<PipeScan>()> pipe_usage;
  // Who has the POSIX objects open or mapped: a walk of every process's fds and maps, which
  // the tracer's per-interval failure diagnosis does without.
  bool process_users = true;
};

// Pipe pages per user from the pipes and FIFOs open in the processes under `proc`
// (src/limits/Pipes.cpp); nullopt if `proc` cannot be listed.
std::optional<PipeScan> scan_pipes(const std::string& proc, uint64_t page_size);

// The live system. msgctl() is only consulted when roots.proc is the real /proc, since it
// answers for this IPC namespace and not for a fixture tree.
Host current_host(const Roots& roots);

enum class Group {
  SharedMemory,
  MessageQueues,
  Semaphores,
  PosixMessageQueues,
  Pipes,
  Files,
  Sockets,
};

std::string_view group_title(Group group);

struct Limit {
  std::string name;  // sysctl name (kernel.shmmax), or rlimit.*, dev_shm.size, page_size, ...
  Group group = Group::SharedMemory;
  std::optional<uint64_t> value;        // nullopt: unreadable, see `error`
  std::string unit;                     // bytes, pages, count or bool
  std::optional<uint64_t> value_bytes;  // pages converted to bytes (nullopt on overflow)
  std::optional<uint64_t> used;         // in `unit`
  std::optional<double> used_pct;       // only for a finite, nonzero value
  std::optional<uint64_t> hard;         // hard limit, for rlimit.*
  bool unlimited = false;  // the value means "no limit" (huge default, RLIM_INFINITY, 0 = off)
  std::string description;
  std::string used_what;  // what `used` counts, e.g. "segments"
  std::string source;     // file read, or getrlimit/statvfs
  std::string error;      // why `value` is missing
};

enum class Severity { Warning, Info };

struct Warning {
  std::string limit;
  std::string message;
  std::string fix;  // a command line, or advice; may be empty
  Severity severity = Severity::Warning;
};

struct ProcessRef {
  int64_t pid = 0;
  std::optional<std::string> comm;  // sanitized; nullopt when the process is gone or pid 0
};

struct SysvShm {
  uint32_t key = 0;
  int64_t shmid = 0;
  uint32_t uid = 0;
  std::string owner;
  uint32_t perms = 0;  // permission bits only
  uint64_t size = 0;
  uint64_t nattch = 0;
  ProcessRef creator;    // cpid
  ProcessRef last_user;  // lpid
  bool dest = false;     // IPC_RMID done, freed at last detach
  bool locked = false;   // SHM_LOCK
};

struct SysvMsg {
  uint32_t key = 0;
  int64_t msqid = 0;
  uint32_t uid = 0;
  std::string owner;
  uint32_t perms = 0;
  uint64_t cbytes = 0;
  uint64_t qnum = 0;
  std::optional<uint64_t> qbytes;
  ProcessRef last_sender;    // lspid
  ProcessRef last_receiver;  // lrpid
};

struct SysvSem {
  uint32_t key = 0;
  int64_t semid = 0;
  uint32_t uid = 0;
  std::string owner;
  uint32_t perms = 0;
  uint64_t nsems = 0;
};

struct PosixMq {
  std::string name;  // as passed to mq_open: "/" + file name, sanitized
  uint32_t uid = 0;
  std::string owner;
  uint32_t perms = 0;
  std::optional<uint64_t> qsize;  // bytes queued (QSIZE)
  std::optional<int64_t> notify_pid;
  std::vector<ProcessRef> open_by;
};

struct PosixShm {
  std::string name;  // as passed to shm_open: "/" + file name, sanitized
  uint32_t uid = 0;
  std::string owner;
  uint32_t perms = 0;
  uint64_t size = 0;
  bool semaphore = false;  // sem_open() object (file sem.NAME)
  std::vector<ProcessRef> open_by;
  std::vector<ProcessRef> mapped_by;
};

// A user's pipe buffers, as charged against fs.pipe-user-pages-soft and -hard.
struct PipeUser {
  uint32_t uid = 0;
  std::string owner;
  uint64_t pages = 0;
  uint64_t pipes = 0;
};

struct Objects {
  std::vector<SysvShm> sysv_shm;
  std::vector<SysvMsg> sysv_msg;
  std::vector<SysvSem> sysv_sem;
  std::vector<PosixMq> posix_mq;
  std::vector<PosixShm> posix_shm;
  std::vector<PipeUser> pipe_users;  // most pages first; empty when not derived
};

struct Report {
  std::vector<Limit> limits;
  std::vector<Warning> warnings;
  Objects objects;
  std::vector<std::string> errors;    // what could not be read, sanitized
  uint64_t unreadable_processes = 0;  // fd/maps of other users' processes without root
  uint64_t unmeasured_pipe_processes = 0;  // processes whose pipes could not be measured
};

Report collect(const Roots& roots);
Report collect(const Roots& roots, const Host& host);

const Limit* find_limit(const Report& report, std::string_view name);

// Fits 100 columns. Human units (KiB/MiB/GiB, thousands separators) unless `raw`.
std::string render_table(const Report& report, bool raw);

nlohmann::json to_json(const Report& report);

}  // namespace ipctop::limits
