// Live diagnosis of IPC failures: syscalls that failed (caught in the kernel
// by bpf/failures.bpf.h, with their arguments and the kernel state at the
// failure) mapped to the limit that most likely caused them and the command
// that raises it. Pure: the limit values come in with the sample.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ipctop/abi.h"

namespace ipctop {

struct Filter;
struct Snapshot;

struct FailureSample {
  ipctop_fail_key key{};
  ipctop_fail_val val{};
};

struct MsgQueueState {
  uint64_t qbytes = 0;  // msg_qbytes: the queue's capacity
  uint64_t cbytes = 0;  // bytes queued
  uint64_t qnum = 0;    // messages queued
};

// Limit values read in user space (limits::collect) at the end of the
// interval, by the names `ipctop limits` uses ("kernel.shmmax",
// "fs.pipe-max-size", "page_size", ...). A missing name is unreadable.
struct FailureLimits {
  std::map<std::string, uint64_t> values;
  std::map<std::string, uint64_t> used;         // usage where known, e.g. "fs.file-max"
  std::map<int64_t, MsgQueueState> msg_queues;  // SysV queues by msqid
};

// The failures of one interval. Unlike the other kernel figures these are
// not cumulative: the probe layer deletes each entry as it reads it.
struct FailureSamples {
  std::vector<FailureSample> entries;
  uint64_t map_full = 0;  // failures the kernel could not record in the interval
  FailureLimits limits;   // filled by the app when `entries` is not empty
};

struct Diagnosis {
  std::optional<std::string> limit;  // sysctl ("kernel.shmmax") or rlimit ("rlimit.nofile")
  std::string detail;
  std::optional<std::string> fix;  // the command that raises the limit, or advice
};

struct FailureRow {
  std::string syscall;
  std::string err;  // symbolic errno; empty for a pipe created shrunk (no error)
  uint32_t pid = 0;
  uint32_t tid = 0;
  std::string comm;
  uint64_t count = 0;
  bool blocked = false;  // the send slept on a full channel: no errno, count = sleeps
  Diagnosis diagnosis;
};

std::string_view failure_syscall_name(uint32_t sys);
std::string errno_name(int err);

// The syscalls that send into a channel (write family, msgsnd, mq_timedsend):
// the ones recorded when they block on a full channel.
bool is_send(uint32_t sys);
// The entry is a send that went to sleep because its channel was full (err 0).
bool is_blocked(const ipctop_fail_key& key);

// The limit that most likely made this failure happen.
Diagnosis diagnose(const ipctop_fail_key& key, const ipctop_fail_val& val,
                   const FailureLimits& limits);

// The interval's failures of the processes `filter` wants into
// `snap.failures`, sorted by pid, tid, syscall and errno; the failures the
// kernel could not record into `snap.lost` as "failure_map_full".
void add_failures(const FailureSamples& in, const Filter& filter, Snapshot& snap);

}  // namespace ipctop
