// The NDJSON contract "ipctop/1": one object per interval, values are deltas
// over the interval. Documented in README.md and man/ipctop.8.
#pragma once

#include <ostream>

#include <nlohmann/json.hpp>

#include "model/Snapshot.h"

namespace ipctop::render {

inline constexpr const char* kSchema = "ipctop/1";

nlohmann::json to_json(const Snapshot& snap);

// One line, flushed: a consumer sees each interval as it ends.
void write_ndjson(const Snapshot& snap, std::ostream& out);

}  // namespace ipctop::render
