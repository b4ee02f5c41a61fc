// One interval, as every renderer sees it: values are deltas over the
// interval, names are raw (renderers sanitize at output).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "model/Failures.h"

namespace ipctop {

enum class Kind : uint8_t { pipe = 1, fifo, unix_stream, unix_dgram, unix_seqpacket };

std::string_view kind_name(Kind k);
std::optional<Kind> kind_from_abi(uint32_t abi_kind);

struct TaskRef {
  uint32_t pid = 0;
  uint32_t tid = 0;
  std::string comm;
};

struct ThreadRow {
  uint32_t tid = 0;
  std::string comm;
  uint64_t ctx_switches = 0;
  uint64_t voluntary = 0;
  uint64_t involuntary = 0;
  uint64_t oncpu_ns = 0;
  uint64_t tx_bytes = 0;     // IPC bytes this thread wrote that readers consumed
  uint64_t rx_bytes = 0;     // IPC bytes this thread read
  uint64_t tx_messages = 0;  // messages of its flows as sender
  uint64_t rx_messages = 0;  // and as receiver
  bool exited = false;
};

struct ProcessRow {
  uint32_t pid = 0;
  uint32_t ppid = 0;
  std::string comm;
  std::vector<std::string> cmdline;
  std::vector<ThreadRow> threads;
  uint64_t tx_bytes = 0;
  uint64_t rx_bytes = 0;
  bool exited = false;
};

struct EndpointRow {
  uint32_t pid = 0;
  uint32_t tid = 0;
  std::string role;  // "writer"/"reader" (streams) or "sender"/"receiver"
  bool operator<(const EndpointRow& o) const {
    return std::tie(pid, tid, role) < std::tie(o.pid, o.tid, o.role);
  }
};

struct ChannelRow {
  std::string id;
  Kind kind = Kind::pipe;
  std::string path;  // empty when the channel has none
  uint64_t bytes = 0;
  uint64_t messages = 0;
  std::vector<EndpointRow> endpoints;
};

struct FlowRow {
  Kind kind = Kind::pipe;
  std::string channel;
  TaskRef src;
  TaskRef dst;
  uint64_t bytes = 0;
  uint64_t messages = 0;
  std::map<uint32_t, uint64_t> cpus;     // sender's CPU at send -> bytes
  std::map<uint32_t, uint64_t> rx_cpus;  // receiver's CPU at receive -> bytes
};

struct CpuRow {
  uint32_t cpu = 0;
  uint64_t ctx_switches = 0;
  uint64_t voluntary = 0;
  uint64_t involuntary = 0;
  uint64_t idle_ns = 0;
  uint64_t tx_bytes = 0;
  uint64_t rx_bytes = 0;
};

struct LostRow {
  uint64_t events = 0;                 // sum of all drop points
  std::map<std::string, uint64_t> by_point;  // every drop point, zero or not
};

struct Snapshot {
  double time = 0;
  double interval_s = 0;
  std::vector<CpuRow> cpus;
  std::vector<ProcessRow> processes;
  std::vector<ChannelRow> channels;
  std::vector<FlowRow> flows;
  uint64_t unattributed_bytes = 0;
  uint64_t unattributed_messages = 0;
  LostRow lost;
  std::vector<FailureRow> failures;  // IPC syscalls that failed, with their diagnosis
};

}  // namespace ipctop
