#include "model/Decode.h"

#include <cstring>

namespace ipctop {

static_assert(sizeof(ipctop_rec_hdr) == 24, "ring record header layout");
static_assert(sizeof(ipctop_rec_task) == 48, "task record layout");
static_assert(sizeof(ipctop_flow_key) == 40, "flow key layout");
static_assert(sizeof(ipctop_flow_val) == 16, "flow value layout");
static_assert(sizeof(ipctop_thread_val) == 168, "thread value layout");
static_assert(sizeof(ipctop_lat) == 32 + 4 * IPCTOP_LAT_BUCKETS, "latency layout");
static_assert(sizeof(ipctop_wakeup_val) == 16 + sizeof(ipctop_lat), "wakeup value layout");
static_assert(sizeof(ipctop_seg) == 32, "queue segment layout");
static_assert(sizeof(ipctop_rec_shm) == 144, "shared memory record layout");

std::optional<TaskRecord> decode_record(const void* data, size_t size) {
  if (!data || size < sizeof(ipctop_rec_hdr)) return std::nullopt;
  ipctop_rec_hdr hdr;
  std::memcpy(&hdr, data, sizeof(hdr));
  if (hdr.size != size) return std::nullopt;
  switch (hdr.type) {
    case IPCTOP_REC_TASK_NEW:
    case IPCTOP_REC_TASK_EXEC:
    case IPCTOP_REC_TASK_EXIT:
    case IPCTOP_REC_TASK_RENAME:
      break;
    default:
      return std::nullopt;
  }
  if (size != sizeof(ipctop_rec_task)) return std::nullopt;
  ipctop_rec_task rec;
  std::memcpy(&rec, data, sizeof(rec));
  TaskRecord r;
  r.type = hdr.type;
  r.tgid = hdr.tgid;
  r.tid = hdr.tid;
  r.cpu = hdr.cpu;
  r.ts_ns = hdr.ts_ns;
  r.ppid = rec.ppid;
  r.comm.assign(rec.comm, strnlen(rec.comm, sizeof(rec.comm)));
  return r;
}

std::optional<ShmRecord> decode_shm_record(const void* data, size_t size) {
  if (!data || size != sizeof(ipctop_rec_shm)) return std::nullopt;
  ipctop_rec_shm rec;
  std::memcpy(&rec, data, sizeof(rec));
  if (rec.hdr.type != IPCTOP_REC_SHM || rec.hdr.size != size) return std::nullopt;
  if (rec.op < IPCTOP_SHM_GET || rec.op > IPCTOP_SHM_RMID) return std::nullopt;
  if (rec.kind != IPCTOP_KIND_SYSV_SHM && rec.kind != IPCTOP_KIND_POSIX_SHM) return std::nullopt;
  ShmRecord r;
  r.op = rec.op;
  r.kind = rec.kind;
  r.tgid = rec.hdr.tgid;
  r.tid = rec.hdr.tid;
  r.ts_ns = rec.hdr.ts_ns;
  r.ino = rec.ino;
  r.dev = rec.dev;
  r.key = rec.key;
  r.size = rec.size;
  r.addr = rec.addr;
  r.len = rec.len;
  r.flags = rec.flags;
  r.name.assign(rec.name, strnlen(rec.name, sizeof(rec.name)));
  return r;
}

static_assert(sizeof(ipctop_rec_fd) == 136, "received descriptor record layout");

std::optional<FdRecord> decode_fd_record(const void* data, size_t size) {
  if (!data || size != sizeof(ipctop_rec_fd)) return std::nullopt;
  ipctop_rec_fd rec;
  std::memcpy(&rec, data, sizeof(rec));
  if (rec.hdr.type != IPCTOP_REC_FD_RECV || rec.hdr.size != size) return std::nullopt;
  if (rec.kind == IPCTOP_KIND_NONE || rec.kind >= IPCTOP_KIND_MAX) return std::nullopt;
  FdRecord r;
  r.tgid = rec.hdr.tgid;
  r.tid = rec.hdr.tid;
  r.ts_ns = rec.hdr.ts_ns;
  r.fd = rec.fd;
  r.kind = rec.kind;
  r.ino = rec.ino;
  r.peer_ino = rec.peer_ino;
  r.dev = rec.dev;
  r.f_mode = rec.f_mode;
  r.flags = rec.flags;
  r.size = rec.size;
  r.name.assign(rec.name, strnlen(rec.name, sizeof(rec.name)));
  return r;
}

}  // namespace ipctop
