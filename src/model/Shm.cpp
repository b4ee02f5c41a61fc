#include "model/Shm.h"

#include <fmt/format.h>

#include "ipctop/abi.h"

namespace ipctop {

namespace {

std::string kernel_dev(uint32_t dev) { return fmt::format("{}:{}", dev >> 20, dev & 0xfffff); }

}  // namespace

std::string shm_channel_id(Kind kind, uint64_t ino, uint32_t dev) {
  if (kind == Kind::sysv_shm)
    return fmt::format("{}:{}", dev == IPCTOP_SHM_DEV_SEMSET ? "sysv_sem" : "sysv_shm", ino);
  return fmt::format("posix_shm:{}:{}", kernel_dev(dev), ino);
}

ShmTracker::Segment& ShmTracker::segment(const SegKey& k) {
  auto [it, inserted] = segs_.try_emplace(k);
  if (inserted && std::get<0>(k) == Kind::sysv_shm) sysv_info(k, it->second);
  return it->second;
}

// Key, size and creator of a SysV segment: from its creating shmget when
// ipctop saw it, else from /proc/sysvipc/shm (read again for an id not
// seen there yet).
void ShmTracker::sysv_info(const SegKey& k, Segment& s) {
  const uint64_t shmid = std::get<1>(k);
  auto it = sysv_known_.find(shmid);
  if (it == sysv_known_.end() && source_) {
    for (const auto& row : source_->sysv_segments()) sysv_known_[row.shmid] = row;
    it = sysv_known_.find(shmid);
  }
  if (it == sysv_known_.end()) return;
  if (!s.key) s.key = it->second.key;
  if (!s.size) s.size = it->second.size;
  if (!s.creator && it->second.cpid) s.creator = it->second.cpid;
  if (s.key) s.path = fmt::format("/SYSV{:08x}", *s.key);
}

void ShmTracker::attach(const SegKey& k, uint32_t pid, uint64_t addr) {
  Segment& s = segment(k);
  if (s.attached[pid].insert(addr).second) s.changed = true;
}

void ShmTracker::detach_all(uint32_t pid) {
  for (auto& [k, s] : segs_)
    if (s.attached.erase(pid)) s.changed = true;
}

std::string ShmTracker::posix_path(uint32_t dev, const std::string& name) {
  if (name.starts_with("memfd:")) return name;
  if (!dev_shm_ && source_) dev_shm_ = source_->dev_shm();
  if (dev_shm_ && dev == *dev_shm_) return "/dev/shm/" + name;
  return name;
}

void ShmTracker::apply(const ShmRecord& r) {
  const Kind kind = r.kind == IPCTOP_KIND_SYSV_SHM ? Kind::sysv_shm : Kind::posix_shm;
  const SegKey k{kind, r.ino, kind == Kind::sysv_shm ? 0 : r.dev};
  switch (r.op) {
    case IPCTOP_SHM_GET: {
      // /proc/sysvipc/shm names the creator of a live segment; one that is
      // gone already was created by the first shmget ipctop saw of its id.
      bool known = segs_.contains(k) || sysv_known_.contains(r.ino);
      if (!known && source_) {
        for (const auto& row : source_->sysv_segments()) sysv_known_[row.shmid] = row;
        known = sysv_known_.contains(r.ino);
      }
      Segment& s = segment(k);
      if (!known) {
        s.key = static_cast<uint32_t>(r.key);
        s.size = r.size;
        s.creator = r.tgid;
        s.path = fmt::format("/SYSV{:08x}", *s.key);
        s.changed = true;
        sysv_known_[r.ino] = {r.ino, *s.key, r.size, r.tgid};
      }
      break;
    }
    case IPCTOP_SHM_ATTACH:
      attach(k, r.tgid, r.addr);
      if (kind == Kind::posix_shm) {
        Segment& s = segs_[k];
        s.size = r.size;
        if (s.path.empty()) s.path = posix_path(r.dev, r.name);
      }
      break;
    case IPCTOP_SHM_DETACH:
      for (auto& [key, s] : segs_) {
        auto it = s.attached.find(r.tgid);
        if (it == s.attached.end() || !it->second.erase(r.addr)) continue;
        if (it->second.empty()) s.attached.erase(it);
        s.changed = true;
        break;
      }
      break;
    case IPCTOP_SHM_RMID: {
      Segment& s = segment(k);
      s.removed = true;
      s.changed = true;
      break;
    }
    default:
      break;
  }
}

void ShmTracker::apply(const TaskRecord& r) {
  if (r.tid != r.tgid) return;  // threads share their process's mappings
  switch (r.type) {
    case IPCTOP_REC_TASK_NEW:
      // fork() copies the parent's attachments (SysV and MAP_SHARED alike).
      for (auto& [k, s] : segs_) {
        auto it = s.attached.find(r.ppid);
        if (it == s.attached.end()) continue;
        s.attached[r.tgid] = it->second;
        s.changed = true;
      }
      break;
    case IPCTOP_REC_TASK_EXEC:
    case IPCTOP_REC_TASK_EXIT:
      detach_all(r.tgid);
      break;
    default:
      break;
  }
}

void ShmTracker::rescan(uint32_t pid, const std::vector<ShmMapping>& maps) {
  std::map<SegKey, std::set<uint64_t>> now;
  for (const auto& m : maps) {
    SegKey k{m.kind, m.ino, m.kind == Kind::sysv_shm ? 0 : m.dev};
    if (!m.shm_path && !segs_.contains(k)) continue;
    now[k].insert(m.start);
    Segment& s = segment(k);
    if (m.kind == Kind::posix_shm) {
      if (!m.path.empty()) s.path = m.path;
      if (m.size) s.size = m.size;
    }
  }
  for (auto& [k, s] : segs_) {
    auto it = now.find(k);
    auto cur = s.attached.find(pid);
    if (it == now.end()) {
      if (cur != s.attached.end()) {
        s.attached.erase(cur);
        s.changed = true;
      }
    } else if (cur == s.attached.end() || cur->second != it->second) {
      s.attached[pid] = it->second;
      s.changed = true;
    }
  }
}

void ShmTracker::refresh(double now, double rescan_s) {
  if (!source_) return;
  if (!scanned_) {
    for (const auto& row : source_->sysv_segments()) sysv_known_[row.shmid] = row;
    for (uint32_t pid : source_->pids())
      if (auto maps = source_->mappings(pid)) rescan(pid, *maps);
    scanned_ = true;
    last_rescan_ = now;
    return;
  }
  if (now - last_rescan_ < rescan_s) return;
  last_rescan_ = now;
  std::set<uint32_t> pids;
  for (const auto& [k, s] : segs_)
    for (const auto& [pid, addrs] : s.attached) pids.insert(pid);
  for (uint32_t pid : pids) {
    if (auto maps = source_->mappings(pid))
      rescan(pid, *maps);
    else
      detach_all(pid);  // gone
  }
}

// A POSIX segment nobody maps is no channel any more; a SysV one lives on
// in the kernel until IPC_RMID and its last detach.
void ShmTracker::forget_dead() {
  for (auto it = segs_.begin(); it != segs_.end();) {
    const Segment& s = it->second;
    bool gone = s.attached.empty() && !s.changed &&
                (std::get<0>(it->first) == Kind::posix_shm || s.removed);
    if (gone) {
      if (std::get<0>(it->first) == Kind::sysv_shm) sysv_known_.erase(std::get<1>(it->first));
      it = segs_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace ipctop
