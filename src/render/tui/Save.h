// 's': the current view's rows (as shown, after filters and sort, with exact
// numbers) and the whole snapshot, as one JSON document in a new file.
#pragma once

#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "render/tui/Frame.h"
#include "render/tui/ViewState.h"

namespace ipctop::tui {

inline constexpr const char* kScreenSchema = "ipctop-screen/1";

nlohmann::json screen_json(const Frame& frame, const ViewState& state);

struct SaveError {
  std::string message;
};

// Writes `doc` to a new file named ipctop-YYYYmmdd-HHMMSS-VIEW.json in the
// first of `dirs` that takes it: created 0600 with O_EXCL|O_NOFOLLOW, so an
// existing file or a planted symlink is never written through. Returns the
// path.
std::variant<std::string, SaveError> save_new_file(const nlohmann::json& doc,
                                                   const std::vector<std::string>& dirs,
                                                   const std::string& stem);

// "." then $TMPDIR (or /tmp).
std::vector<std::string> default_save_dirs();

}  // namespace ipctop::tui
