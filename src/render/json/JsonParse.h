// The inverse of to_json: an "ipctop/1" object back into a Snapshot, so a
// recording can be replayed through any renderer. Strings come back as they
// were written (sanitized), and sanitize() is idempotent, so re-rendering a
// parsed snapshot gives the same bytes.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "model/Snapshot.h"

namespace ipctop::render {

struct ParseError {
  std::string message;  // names the offending key, e.g. "flows[3].bytes: not an unsigned integer"
};

std::variant<Snapshot, ParseError> from_json(const nlohmann::json& obj);

// One NDJSON line; also rejects text that is not JSON.
std::variant<Snapshot, ParseError> from_json_line(std::string_view line);

}  // namespace ipctop::render
