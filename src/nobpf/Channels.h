// The channels between processes that /proc and sock_diag show without BPF: who holds which
// end, but not how much flows through it. Pure: the inputs come from procfs::ipc_fds and
// procfs::dump_sockets (or from tests).
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "model/Snapshot.h"
#include "procfs/Fds.h"
#include "procfs/SockDiag.h"

namespace ipctop::nobpf {

// pid -> its IPC fds.
using FdTable = std::map<uint32_t, std::vector<procfs::FdEntry>>;

// One channel per pipe, FIFO and POSIX queue, one per connected unix socket pair and one per
// TCP or UDP connection between two sockets of this host, each with the processes holding it
// (tid 0: fds belong to the process). Unconnected and listening sockets, and connections to
// other hosts, are left out. Sorted by id.
std::vector<ChannelRow> join_channels(const FdTable& fds, const procfs::SocketTables& sockets);

}  // namespace ipctop::nobpf
