// Ring-buffer records -> TaskRecord. Every record is checked against its
// declared type and size before a field is read: a malformed record is
// rejected (and counted by the caller), never trusted.
#pragma once

#include <cstddef>
#include <optional>

#include "model/Sample.h"

namespace ipctop {

std::optional<TaskRecord> decode_record(const void* data, size_t size);

// A shared memory record (IPCTOP_REC_SHM), or nullopt for anything else or
// anything malformed.
std::optional<ShmRecord> decode_shm_record(const void* data, size_t size);

// A received descriptor record (IPCTOP_REC_FD_RECV), or nullopt for
// anything else or anything malformed.
std::optional<FdRecord> decode_fd_record(const void* data, size_t size);

}  // namespace ipctop
