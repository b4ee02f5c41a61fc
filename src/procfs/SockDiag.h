// Socket tables from NETLINK_SOCK_DIAG, as ss(8) reads them: unix sockets with their peer,
// and TCP and UDP sockets with their addresses. Unprivileged users may dump every socket of
// their network namespace; which process holds a socket comes from /proc/PID/fd.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace ipctop::procfs {

// Socket states as sock_diag reports them (include/net/tcp_states.h), for unix sockets too.
inline constexpr uint8_t kStateEstablished = 1;
inline constexpr uint8_t kStateListen = 10;

struct UnixSocket {
  uint64_t ino = 0;
  uint64_t peer = 0;  // the connected socket's inode, 0 when unconnected or listening
  uint8_t type = 0;   // SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET
  uint8_t state = 0;  // TCP_ESTABLISHED, TCP_LISTEN, ...
  std::string path;   // bound name; abstract names start with '@'
  uint32_t rqueue = 0;  // bytes (stream) or datagrams waiting to be read
};

struct InetSocket {
  uint64_t ino = 0;     // 0 for sockets no file holds (TIME_WAIT)
  uint8_t protocol = 0; // IPPROTO_TCP or IPPROTO_UDP
  uint8_t family = 0;   // AF_INET or AF_INET6
  uint8_t state = 0;
  std::array<uint8_t, 16> src{};  // IPv4 addresses in the first 4 bytes
  std::array<uint8_t, 16> dst{};
  uint16_t sport = 0;  // host byte order
  uint16_t dport = 0;
  uint32_t rqueue = 0;
  uint32_t wqueue = 0;
};

// "127.0.0.1:5000" or "[::1]:5000".
std::string inet_endpoint(uint8_t family, const std::array<uint8_t, 16>& addr, uint16_t port);

struct SocketTables {
  std::unordered_map<uint64_t, UnixSocket> unix_sockets;  // by inode
  std::vector<InetSocket> inet_sockets;
  std::vector<std::string> errors;  // dumps that failed, with the errno text
};

// Dumps unix, TCP and UDP (IPv4 and IPv6) sockets of the caller's network namespace.
SocketTables dump_sockets();

// The parsers, on raw netlink replies (one or more nlmsghdr), for tests.
// Return false on an NLMSG_ERROR or a malformed message; stop at NLMSG_DONE.
bool parse_unix_diag(const void* data, size_t len, SocketTables& out, bool& done);
bool parse_inet_diag(const void* data, size_t len, uint8_t protocol, SocketTables& out,
                     bool& done);

}  // namespace ipctop::procfs
