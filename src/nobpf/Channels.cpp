#include "nobpf/Channels.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <tuple>
#include <unordered_map>

#include <fmt/format.h>

namespace ipctop::nobpf {
namespace {

using procfs::Access;
using procfs::FdEntry;
using procfs::FdKind;

struct Building {
  ChannelRow row;
  std::map<std::pair<uint32_t, std::string>, std::vector<uint32_t>> holders;  // (pid, role) -> fds
};

// Roles by what the fd was opened for: a stream has writers and readers, a queue senders and
// receivers.
std::vector<const char*> roles(Access access, const char* reader, const char* writer) {
  switch (access) {
    case Access::read:
      return {reader};
    case Access::write:
      return {writer};
    case Access::read_write:
      break;
  }
  return {reader, writer};
}

Kind unix_kind(uint8_t type) {
  switch (type) {
    case SOCK_DGRAM:
      return Kind::unix_dgram;
    case SOCK_SEQPACKET:
      return Kind::unix_seqpacket;
    default:
      return Kind::unix_stream;
  }
}

std::string strip_deleted(std::string s) {
  constexpr std::string_view kDeleted = " (deleted)";
  if (std::string_view(s).ends_with(kDeleted)) s.resize(s.size() - kDeleted.size());
  return s;
}

using InetKey = std::tuple<uint8_t, uint8_t, std::array<uint8_t, 16>, uint16_t,
                           std::array<uint8_t, 16>, uint16_t>;

InetKey key_of(const procfs::InetSocket& s) {
  return {s.protocol, s.family, s.src, s.sport, s.dst, s.dport};
}

InetKey reverse_key(const procfs::InetSocket& s) {
  return {s.protocol, s.family, s.dst, s.dport, s.src, s.sport};
}

}  // namespace

std::vector<ChannelRow> join_channels(const FdTable& fds, const procfs::SocketTables& sockets) {
  std::map<std::string, Building> channels;

  std::unordered_map<uint64_t, const procfs::InetSocket*> inet_by_ino;
  std::map<InetKey, const procfs::InetSocket*> inet_by_tuple;
  for (const auto& s : sockets.inet_sockets) {
    if (s.ino != 0) inet_by_ino.emplace(s.ino, &s);
    // Only connected sockets have a peer to join: not listening ones, not unconnected UDP.
    if (s.dport != 0 && s.state != procfs::kStateListen) inet_by_tuple.emplace(key_of(s), &s);
  }

  auto add = [&channels](const std::string& id, uint32_t pid, const char* role, int fd) {
    channels[id].holders[{pid, role}].push_back(static_cast<uint32_t>(fd));
  };

  for (const auto& [pid, entries] : fds) {
    for (const FdEntry& e : entries) {
      switch (e.kind) {
        case FdKind::pipe: {
          std::string id = fmt::format("pipe:[{}]", e.ino);
          channels[id].row.kind = Kind::pipe;
          for (const char* role : roles(e.access, "reader", "writer")) add(id, pid, role, e.fd);
          break;
        }
        case FdKind::fifo: {
          std::string id = fmt::format("fifo:{}:{}:{}", e.dev_major, e.dev_minor, e.ino);
          ChannelRow& row = channels[id].row;
          row.kind = Kind::fifo;
          if (row.path.empty()) row.path = strip_deleted(e.target);
          for (const char* role : roles(e.access, "reader", "writer")) add(id, pid, role, e.fd);
          break;
        }
        case FdKind::mqueue: {
          std::string name = strip_deleted(e.target);
          std::string id = "posix_mq:" + name;
          ChannelRow& row = channels[id].row;
          row.kind = Kind::posix_mq;
          row.path = name;
          for (const char* role : roles(e.access, "receiver", "sender")) add(id, pid, role, e.fd);
          break;
        }
        case FdKind::socket: {
          if (auto it = sockets.unix_sockets.find(e.ino); it != sockets.unix_sockets.end()) {
            const procfs::UnixSocket& s = it->second;
            if (s.peer == 0) break;
            // One channel per connection, named after its lower inode.
            std::string id = fmt::format("unix:[{}]", std::min(s.ino, s.peer));
            ChannelRow& row = channels[id].row;
            if (!row.queued) {
              row.kind = unix_kind(s.type);
              uint64_t queued = s.rqueue;
              auto peer = sockets.unix_sockets.find(s.peer);
              if (peer != sockets.unix_sockets.end()) {
                queued += peer->second.rqueue;
                if (s.path.empty()) row.path = peer->second.path;
              }
              if (row.path.empty()) row.path = s.path;
              row.queued = queued;
            }
            add(id, pid, "peer", e.fd);
            break;
          }
          auto it = inet_by_ino.find(e.ino);
          if (it == inet_by_ino.end()) break;
          const procfs::InetSocket& s = *it->second;
          if (s.dport == 0 || s.state == procfs::kStateListen) break;
          auto peer = inet_by_tuple.find(reverse_key(s));
          if (peer == inet_by_tuple.end()) break;  // the other end is on another host
          const procfs::InetSocket& p = *peer->second;
          const procfs::InetSocket& low = p.ino != 0 && p.ino < s.ino ? p : s;
          const procfs::InetSocket& high = &low == &s ? p : s;
          const bool tcp = s.protocol == IPPROTO_TCP;
          std::string id = fmt::format("{}:[{}]", tcp ? "tcp" : "udp", low.ino);
          ChannelRow& row = channels[id].row;
          if (!row.queued) {
            row.kind = tcp ? Kind::tcp : Kind::udp;
            row.path = fmt::format("{} <-> {}", procfs::inet_endpoint(low.family, low.src, low.sport),
                                   procfs::inet_endpoint(high.family, high.src, high.sport));
            row.queued = uint64_t{s.rqueue} + p.rqueue;
          }
          add(id, pid, "peer", e.fd);
          break;
        }
      }
    }
  }

  std::vector<ChannelRow> out;
  out.reserve(channels.size());
  for (auto& [id, b] : channels) {
    b.row.id = id;
    for (auto& [holder, fd_list] : b.holders) {
      EndpointRow ep{holder.first, 0, holder.second};
      ep.fds = std::move(fd_list);
      b.row.endpoints.push_back(std::move(ep));
    }
    std::sort(b.row.endpoints.begin(), b.row.endpoints.end());
    out.push_back(std::move(b.row));
  }
  return out;
}

}  // namespace ipctop::nobpf
