#include "model/Snapshot.h"

#include "ipctop/abi.h"

namespace ipctop {

namespace {
struct KindInfo {
  uint32_t abi;
  Kind kind;
  std::string_view name;
};
constexpr KindInfo kKinds[] = {
    {IPCTOP_KIND_PIPE, Kind::pipe, "pipe"},
    {IPCTOP_KIND_FIFO, Kind::fifo, "fifo"},
    {IPCTOP_KIND_UNIX_STREAM, Kind::unix_stream, "unix_stream"},
    {IPCTOP_KIND_UNIX_DGRAM, Kind::unix_dgram, "unix_dgram"},
    {IPCTOP_KIND_UNIX_SEQPACKET, Kind::unix_seqpacket, "unix_seqpacket"},
    {IPCTOP_KIND_TCP, Kind::tcp, "tcp"},
    {IPCTOP_KIND_UDP, Kind::udp, "udp"},
    {IPCTOP_KIND_SYSV_MSG, Kind::sysv_msg, "sysv_msg"},
    {IPCTOP_KIND_POSIX_MQ, Kind::posix_mq, "posix_mq"},
    {IPCTOP_KIND_SYSV_SHM, Kind::sysv_shm, "sysv_shm"},
    {IPCTOP_KIND_POSIX_SHM, Kind::posix_shm, "posix_shm"},
    {IPCTOP_KIND_FILE, Kind::file, "file"},
    {IPCTOP_KIND_SIGNAL, Kind::signal, "signal"},
};
}  // namespace

std::string_view kind_name(Kind k) {
  for (const auto& info : kKinds)
    if (info.kind == k) return info.name;
  return "unknown";
}

std::optional<Kind> kind_from_abi(uint32_t abi_kind) {
  for (const auto& info : kKinds)
    if (info.abi == abi_kind) return info.kind;
  return std::nullopt;
}

}  // namespace ipctop
