// Shared memory segments and the processes attached to them: SysV segments
// (shmget/shmat/shmdt/shmctl) and POSIX shared memory (files on tmpfs or
// hugetlbfs mapped MAP_SHARED: /dev/shm, memfd). Kept from the kernel's
// lifecycle records and the task records (fork inherits attachments, exec
// and exit drop them), and from /proc through ShmSource: every process at
// the first refresh, then the attached processes again at a low rate (which
// also catches munmap, not traced).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "model/Sample.h"
#include "model/Snapshot.h"

namespace ipctop {

// One shared memory mapping of a process, as /proc/PID/maps shows it.
struct ShmMapping {
  Kind kind = Kind::posix_shm;
  uint64_t ino = 0;  // SysV: the shmid
  uint32_t dev = 0;  // kernel dev_t; 0 for SysV
  uint64_t start = 0;
  uint64_t end = 0;              // of the first VMA (map_files/START-END)
  std::string path;              // "/dev/shm/NAME", "memfd:NAME", or the file's path
  std::optional<uint64_t> size;  // the file's size (POSIX)
  // A SysV segment, a /dev/shm file or a memfd. Other shared file mappings
  // count only for segments already known from the kernel's records (a
  // tmpfs file outside /dev/shm: maps does not say it is on tmpfs).
  bool shm_path = false;
};

// A row of /proc/sysvipc/shm.
struct SysvSegmentInfo {
  uint64_t shmid = 0;
  uint32_t key = 0;
  uint64_t size = 0;
  uint32_t cpid = 0;
};

class ShmSource {
 public:
  virtual ~ShmSource() = default;
  virtual std::vector<uint32_t> pids() = 0;
  // nullopt when the process is gone or its maps cannot be read.
  virtual std::optional<std::vector<ShmMapping>> mappings(uint32_t pid) = 0;
  virtual std::vector<SysvSegmentInfo> sysv_segments() = 0;
  // The kernel dev_t of /dev/shm, to name POSIX segments from their records.
  virtual std::optional<uint32_t> dev_shm() = 0;
};

// "sysv_shm:SHMID", "sysv_sem:SEMID" (semaphore set: dev IPCTOP_SHM_DEV_SEMSET)
// or "posix_shm:MAJOR:MINOR:INODE".
std::string shm_channel_id(Kind kind, uint64_t ino, uint32_t dev);

class ShmTracker {
 public:
  explicit ShmTracker(ShmSource* source = nullptr) : source_(source) {}

  void apply(const ShmRecord& r);
  void apply(const TaskRecord& r);
  // Reads /proc: everything the first time, the attached processes every
  // `rescan_s` seconds after (`now` is monotonic seconds).
  void refresh(double now, double rescan_s = 5);

  // The channel rows of live segments (attached, or changed since the last
  // call) whose endpoints `wants`; adds to rows already made from flows.
  template <typename Wants>
  void fill(std::map<std::string, ChannelRow>& channels, Wants wants);

  // The path of a POSIX shared memory file from its device and dentry name
  // (model/FdPass.cpp names received descriptors with it).
  std::string path_for(uint32_t dev, const std::string& name) { return posix_path(dev, name); }

  // Path and facts of a segment, for a channel id made from a flow.
  size_t segments() const { return segs_.size(); }

 private:
  using SegKey = std::tuple<Kind, uint64_t, uint32_t>;
  struct Segment {
    std::optional<uint32_t> key;
    std::optional<uint64_t> size;
    std::optional<uint32_t> creator;
    std::string path;
    bool removed = false;
    bool changed = true;                              // since the last fill()
    std::map<uint32_t, std::set<uint64_t>> attached;  // pid -> addresses
  };

  Segment& segment(const SegKey& k);
  void attach(const SegKey& k, uint32_t pid, uint64_t addr);
  void detach_all(uint32_t pid);
  void rescan(uint32_t pid, const std::vector<ShmMapping>& maps);
  void sysv_info(const SegKey& k, Segment& s);
  void forget_dead();
  std::string posix_path(uint32_t dev, const std::string& name);

  ShmSource* source_;
  std::map<SegKey, Segment> segs_;
  std::map<uint64_t, SysvSegmentInfo> sysv_known_;  // shmid -> the last /proc/sysvipc/shm row
  std::set<uint64_t> sysv_created_;                 // shmids first seen in a shmget record
  bool scanned_ = false;
  double last_rescan_ = 0;
  std::optional<uint32_t> dev_shm_;
};

template <typename Wants>
void ShmTracker::fill(std::map<std::string, ChannelRow>& channels, Wants wants) {
  for (auto& [k, s] : segs_) {
    const auto& [kind, ino, dev] = k;
    bool wanted = s.attached.empty() && wants(s.creator.value_or(0));
    for (const auto& [pid, addrs] : s.attached) wanted = wanted || wants(pid);
    std::string id = shm_channel_id(kind, ino, dev);
    auto existing = channels.find(id);
    bool show = existing != channels.end() || (wanted && (!s.attached.empty() || s.changed));
    s.changed = false;
    if (!show) continue;
    ChannelRow& ch = channels[id];
    ch.id = id;
    ch.kind = kind;
    ch.path = s.path;
    ch.size = s.size;
    ch.removed = s.removed;
    if (kind == Kind::sysv_shm) {
      ch.shm_key = s.key;
      ch.shmid = ino;
    }
    ch.creator = s.creator;
    for (const auto& [pid, addrs] : s.attached) ch.endpoints.push_back({pid, pid, "attached"});
  }
  forget_dead();
}

}  // namespace ipctop
