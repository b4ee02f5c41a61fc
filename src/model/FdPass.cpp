#include "model/FdPass.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "ipctop/abi.h"
#include "model/Aggregator.h"

namespace ipctop {

namespace {

constexpr uint32_t kMsgCmsgCloexec = 0x40000000;  // MSG_CMSG_CLOEXEC

}  // namespace

void FdPassTracker::apply(const FdRecord& r) {
  auto kind = kind_from_abi(r.kind);
  if (!kind) return;
  Key k{r.tgid, r.fd};
  if (!held_.contains(k) && held_.size() >= kMaxHoldings) {
    ++untracked_;
    return;
  }
  // A descriptor number reused for another file replaces the old holding.
  held_[k] = Held{r.tid, *kind, r.ino, r.peer_ino, r.dev, (r.flags & kMsgCmsgCloexec) != 0, r.size,
                  r.name};
}

void FdPassTracker::apply(const TaskRecord& r) {
  if (r.tid != r.tgid) return;  // threads share their process's descriptors
  switch (r.type) {
    case IPCTOP_REC_TASK_NEW: {
      // fork() copies the descriptor table.
      std::vector<std::pair<Key, Held>> copies;
      for (auto it = held_.lower_bound({r.ppid, 0}); it != held_.end() && it->first.first == r.ppid; ++it) {
        Held h = it->second;
        h.tid = r.tid;
        copies.emplace_back(Key{r.tgid, it->first.second}, std::move(h));
      }
      for (auto& [k, h] : copies) {
        if (!held_.contains(k) && held_.size() >= kMaxHoldings) {
          ++untracked_;
          continue;
        }
        held_[k] = std::move(h);
      }
      break;
    }
    case IPCTOP_REC_TASK_EXEC:
      for (auto it = held_.lower_bound({r.tgid, 0}); it != held_.end() && it->first.first == r.tgid;)
        it = it->second.cloexec ? held_.erase(it) : std::next(it);
      break;
    case IPCTOP_REC_TASK_EXIT:
      held_.erase(held_.lower_bound({r.tgid, 0}), held_.lower_bound({r.tgid + 1, 0}));
      break;
    default:
      break;
  }
}

void FdPassTracker::refresh(double now, double recheck_s) {
  if (!source_ || held_.empty() || now - last_check_ < recheck_s) return;
  last_check_ = now;
  for (auto it = held_.begin(); it != held_.end();) {
    auto ino = source_->fd_inode(it->first.first, it->first.second);
    it = ino && *ino == it->second.ino ? std::next(it) : held_.erase(it);
  }
}

std::vector<FdPassTracker::Made> FdPassTracker::fill(std::map<std::string, ChannelRow>& channels,
                         const std::function<bool(uint32_t)>& wants,
                         const std::function<std::string(uint32_t, const std::string&)>& shm_path) const {
  std::vector<Made> made;
  for (const auto& [k, h] : held_) {
    const uint32_t pid = k.first;
    if (!wants(pid)) continue;
    std::vector<Made> ids;
    if (h.kind == Kind::posix_shm) {
      ids.push_back({shm_channel_id(h.kind, h.ino, h.dev), h.ino, h.dev});
    } else {
      ids.push_back({channel_id(h.kind, h.ino, h.dev), h.ino, h.dev});
      // A unix socket also sends into its peer's channel.
      if (h.peer_ino) ids.push_back({channel_id(h.kind, h.peer_ino, 0), h.peer_ino, 0});
    }
    for (auto& obj : ids) {
      auto [it, inserted] = channels.try_emplace(obj.id);
      ChannelRow& ch = it->second;
      if (inserted) {
        made.push_back(obj);
        ch.id = obj.id;
        ch.kind = h.kind;
        if (h.kind == Kind::posix_shm) {
          ch.path = shm_path(h.dev, h.name);
          ch.size = h.size;
        }
      }
      const uint32_t tid = h.tid;  // clang 14 cannot capture a structured binding
      auto e = std::find_if(ch.endpoints.begin(), ch.endpoints.end(), [&](const EndpointRow& x) {
        return x.pid == pid && x.tid == tid && x.role == "received";
      });
      if (e == ch.endpoints.end()) {
        ch.endpoints.push_back({pid, h.tid, "received", {}});
        e = std::prev(ch.endpoints.end());
      }
      e->fds.push_back(k.second);
    }
  }
  return made;
}

}  // namespace ipctop
