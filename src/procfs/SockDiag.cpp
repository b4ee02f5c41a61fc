#include "procfs/SockDiag.h"

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace ipctop::procfs {
namespace {

class Socket {
 public:
  Socket() : fd_(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG)) {}
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// Replies bigger than this per dump are not expected from one namespace; the bound keeps a
// broken kernel reply from looping forever.
constexpr int kMaxReplies = 1 << 20;

// Sends `req` and feeds every reply datagram to parse() until NLMSG_DONE.
template <typename Req, typename Parse>
std::string dump(const Req& req, Parse parse) {
  Socket sock;
  if (sock.get() < 0) return fmt::format("socket(NETLINK_SOCK_DIAG): {}", std::strerror(errno));
  // A reply that never comes must not hang ipctop.
  timeval tv{2, 0};
  ::setsockopt(sock.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(sock.get(), &req, sizeof req, 0, reinterpret_cast<sockaddr*>(&kernel),
               sizeof kernel) < 0)
    return fmt::format("sending the sock_diag request: {}", std::strerror(errno));
  alignas(nlmsghdr) static thread_local char buf[64 * 1024];
  for (int i = 0; i < kMaxReplies; ++i) {
    ssize_t n = ::recv(sock.get(), buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fmt::format("reading the sock_diag reply: {}", std::strerror(errno));
    bool done = false;
    if (!parse(buf, static_cast<size_t>(n), done)) {
      // The error code of an NLMSG_ERROR reply, when that is what stopped the parse.
      const auto* h = reinterpret_cast<const nlmsghdr*>(buf);
      if (n >= static_cast<ssize_t>(NLMSG_LENGTH(sizeof(nlmsgerr))) &&
          h->nlmsg_type == NLMSG_ERROR) {
        const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
        return std::strerror(-e->error);
      }
      return "malformed sock_diag reply";
    }
    if (done) return {};
  }
  return "sock_diag reply did not end";
}

template <typename Fn>
bool for_each_message(const void* data, size_t len, bool& done, Fn fn) {
  auto* h = static_cast<const nlmsghdr*>(data);
  int left = static_cast<int>(len);
  for (; NLMSG_OK(h, left); h = NLMSG_NEXT(h, left)) {
    if (h->nlmsg_type == NLMSG_DONE) {
      done = true;
      return true;
    }
    if (h->nlmsg_type == NLMSG_ERROR) return false;
    if (!fn(h)) return false;
  }
  return left == 0;
}

}  // namespace

std::string inet_endpoint(uint8_t family, const std::array<uint8_t, 16>& addr, uint16_t port) {
  char text[INET6_ADDRSTRLEN] = "?";
  ::inet_ntop(family == AF_INET6 ? AF_INET6 : AF_INET, addr.data(), text, sizeof text);
  return family == AF_INET6 ? fmt::format("[{}]:{}", text, port) : fmt::format("{}:{}", text, port);
}

bool parse_unix_diag(const void* data, size_t len, SocketTables& out, bool& done) {
  return for_each_message(data, len, done, [&out](const nlmsghdr* h) {
    if (h->nlmsg_len < NLMSG_LENGTH(sizeof(unix_diag_msg))) return false;
    const auto* msg = static_cast<const unix_diag_msg*>(NLMSG_DATA(h));
    UnixSocket s;
    s.ino = msg->udiag_ino;
    s.type = msg->udiag_type;
    s.state = msg->udiag_state;
    int attr_len = static_cast<int>(h->nlmsg_len - NLMSG_LENGTH(sizeof(*msg)));
    const auto* attr =
        reinterpret_cast<const rtattr*>(reinterpret_cast<const char*>(msg) + NLMSG_ALIGN(sizeof(*msg)));
    for (; RTA_OK(attr, attr_len); attr = RTA_NEXT(attr, attr_len)) {
      const auto* payload = static_cast<const char*>(RTA_DATA(attr));
      const size_t size = RTA_PAYLOAD(attr);
      switch (attr->rta_type) {
        case UNIX_DIAG_NAME:
          // Abstract names start with a NUL; ss and /proc/net/unix show it as '@'.
          s.path.assign(payload, size);
          if (!s.path.empty() && s.path[0] == '\0') s.path[0] = '@';
          else if (auto nul = s.path.find('\0'); nul != std::string::npos) s.path.resize(nul);
          break;
        case UNIX_DIAG_PEER:
          if (size >= sizeof(uint32_t)) {
            uint32_t peer = 0;
            std::memcpy(&peer, payload, sizeof peer);
            s.peer = peer;
          }
          break;
        case UNIX_DIAG_RQLEN:
          if (size >= sizeof(unix_diag_rqlen)) {
            unix_diag_rqlen rq{};
            std::memcpy(&rq, payload, sizeof rq);
            // For a listening socket this is the accept backlog, not data.
            if (s.state != kStateListen) s.rqueue = rq.udiag_rqueue;
          }
          break;
        default:
          break;
      }
    }
    out.unix_sockets.insert_or_assign(s.ino, std::move(s));
    return true;
  });
}

bool parse_inet_diag(const void* data, size_t len, uint8_t protocol, SocketTables& out,
                     bool& done) {
  return for_each_message(data, len, done, [&out, protocol](const nlmsghdr* h) {
    if (h->nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg))) return false;
    const auto* msg = static_cast<const inet_diag_msg*>(NLMSG_DATA(h));
    InetSocket s;
    s.ino = msg->idiag_inode;
    s.protocol = protocol;
    s.family = msg->idiag_family;
    s.state = msg->idiag_state;
    const size_t addr_bytes = s.family == AF_INET6 ? 16 : 4;
    std::memcpy(s.src.data(), msg->id.idiag_src, addr_bytes);
    std::memcpy(s.dst.data(), msg->id.idiag_dst, addr_bytes);
    // A dual-stack server's end of a connection from an IPv4 client reads ::ffff:a.b.c.d:
    // as IPv4, both ends of the connection have the same key.
    static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (s.family == AF_INET6 && std::memcmp(s.src.data(), kMapped, 12) == 0 &&
        std::memcmp(s.dst.data(), kMapped, 12) == 0) {
      s.family = AF_INET;
      std::memmove(s.src.data(), s.src.data() + 12, 4);
      std::memmove(s.dst.data(), s.dst.data() + 12, 4);
      std::fill(s.src.begin() + 4, s.src.end(), 0);
      std::fill(s.dst.begin() + 4, s.dst.end(), 0);
    }
    s.sport = ntohs(msg->id.idiag_sport);
    s.dport = ntohs(msg->id.idiag_dport);
    s.rqueue = msg->idiag_rqueue;
    s.wqueue = msg->idiag_wqueue;
    out.inet_sockets.push_back(s);
    return true;
  });
}

SocketTables dump_sockets() {
  SocketTables out;
  {
    struct {
      nlmsghdr nlh;
      unix_diag_req req;
    } msg{};
    msg.nlh.nlmsg_len = sizeof msg;
    msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    msg.req.sdiag_family = AF_UNIX;
    msg.req.udiag_states = ~0u;
    msg.req.udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER | UDIAG_SHOW_RQLEN;
    std::string err = dump(msg, [&out](const void* d, size_t n, bool& done) {
      return parse_unix_diag(d, n, out, done);
    });
    if (!err.empty()) out.errors.push_back("unix sockets: " + err);
  }
  struct Dump {
    uint8_t family;
    uint8_t protocol;
    const char* name;
  };
  for (const Dump& d : {Dump{AF_INET, IPPROTO_TCP, "TCP"}, Dump{AF_INET6, IPPROTO_TCP, "TCP6"},
                        Dump{AF_INET, IPPROTO_UDP, "UDP"}, Dump{AF_INET6, IPPROTO_UDP, "UDP6"}}) {
    struct {
      nlmsghdr nlh;
      inet_diag_req_v2 req;
    } msg{};
    msg.nlh.nlmsg_len = sizeof msg;
    msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    msg.req.sdiag_family = d.family;
    msg.req.sdiag_protocol = d.protocol;
    msg.req.idiag_states = ~0u;
    std::string err = dump(msg, [&out, &d](const void* data, size_t n, bool& done) {
      return parse_inet_diag(data, n, d.protocol, out, done);
    });
    if (!err.empty()) out.errors.push_back(fmt::format("{} sockets: {}", d.name, err));
  }
  return out;
}

}  // namespace ipctop::procfs
