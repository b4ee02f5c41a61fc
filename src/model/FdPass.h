// Descriptors passed over unix sockets (SCM_RIGHTS): the process that
// received a pipe, a FIFO, a unix socket, a shared memory file or a file is
// an endpoint of that channel from the moment its recvmsg returned, before
// it moves any data through it (role "received", with the descriptor
// numbers). Kept from the kernel's records (bpf/scm.bpf.h) and the task
// records: fork copies the holdings, exec drops those received with
// MSG_CMSG_CLOEXEC, the process's exit drops all; a close is found by
// checking the descriptor in /proc at a low rate (FdSource).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "model/Sample.h"
#include "model/Snapshot.h"

namespace ipctop {

class FdSource {
 public:
  virtual ~FdSource() = default;
  // The inode number behind descriptor `fd` of process `pid`; nullopt when
  // it is closed or the process is gone.
  virtual std::optional<uint64_t> fd_inode(uint32_t pid, uint32_t fd) = 0;
};

class FdPassTracker {
 public:
  // Holdings tracked at most; more are counted (untracked()) and not shown.
  static constexpr size_t kMaxHoldings = 4096;

  explicit FdPassTracker(FdSource* source = nullptr) : source_(source) {}

  void apply(const FdRecord& r);
  void apply(const TaskRecord& r);
  // Drops the holdings whose descriptor was closed (checked every
  // `recheck_s` seconds; `now` is monotonic seconds).
  void refresh(double now, double recheck_s = 2);

  // Adds a "received" endpoint to the channels held by received descriptors
  // (making the row when the channel had no traffic) for the processes
  // `wants`. `shm_path(dev, name)` names a shared memory file. Returns the
  // rows it made, with their objects (inode, device), for naming them.
  struct Made {
    std::string id;
    uint64_t ino = 0;
    uint32_t dev = 0;
  };
  std::vector<Made> fill(std::map<std::string, ChannelRow>& channels, const std::function<bool(uint32_t)>& wants,
            const std::function<std::string(uint32_t, const std::string&)>& shm_path) const;

  size_t holdings() const { return held_.size(); }
  // Received descriptors not tracked since the last call (kMaxHoldings).
  uint64_t take_untracked() { return std::exchange(untracked_, 0); }

 private:
  struct Held {
    uint32_t tid = 0;
    Kind kind = Kind::pipe;
    uint64_t ino = 0;
    uint64_t peer_ino = 0;
    uint32_t dev = 0;
    bool cloexec = false;
    uint64_t size = 0;
    std::string name;
  };
  using Key = std::pair<uint32_t, uint32_t>;  // pid, fd

  FdSource* source_;
  std::map<Key, Held> held_;
  uint64_t untracked_ = 0;
  double last_check_ = 0;
};

}  // namespace ipctop
