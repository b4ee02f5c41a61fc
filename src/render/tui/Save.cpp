#include "render/tui/Save.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include <fmt/format.h>

#include "render/json/Json.h"
#include "render/tui/Tables.h"

namespace ipctop::tui {

nlohmann::json screen_json(const Frame& frame, const ViewState& state) {
  using nlohmann::json;
  Table table = build_table(frame, state);
  auto defs = columns(state.view);
  json doc;
  doc["schema"] = kScreenSchema;
  doc["view"] = std::string(view_title(state.view));
  doc["title"] = table.title;
  doc["host"] = frame.host;
  doc["source"] = frame.source;
  doc["filter"] = state.filter.empty() ? json(nullptr) : json(state.filter);
  doc["pid_filter"] = state.pid_filter ? json(*state.pid_filter) : json(nullptr);
  doc["kind_filter"] = state.kind_filter ? json(kind_name(*state.kind_filter)) : json(nullptr);
  doc["drill_pid"] = state.drill_pid ? json(*state.drill_pid) : json(nullptr);
  const SortSpec& s = state.sort[size_t(state.view)];
  doc["sort"] = {{"column", defs[size_t(s.column)].json}, {"descending", s.descending}};
  json cols = json::array();
  for (const auto& d : defs) cols.push_back(d.json);
  doc["columns"] = cols;
  json rows = json::array();
  for (const auto& r : table.rows) {
    json row = json::object();
    for (size_t i = 0; i < defs.size() && i < r.cells.size(); ++i)
      row[defs[i].json] = r.cells[i].numeric ? json(r.cells[i].num) : json(r.cells[i].text);
    if (r.depth) row["depth"] = r.depth;
    rows.push_back(row);
  }
  doc["rows"] = rows;
  doc["notes"] = table.notes;
  doc["snapshot"] = frame.snap ? render::to_json(*frame.snap) : json(nullptr);
  return doc;
}

std::vector<std::string> default_save_dirs() {
  const char* tmp = std::getenv("TMPDIR");
  return {".", tmp && *tmp ? tmp : "/tmp"};
}

std::variant<std::string, SaveError> save_new_file(const nlohmann::json& doc,
                                                   const std::vector<std::string>& dirs,
                                                   const std::string& stem) {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
  std::string text = doc.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  std::string last_error = "no directory to save in";
  for (const auto& dir : dirs) {
    for (int n = 1; n <= 20; ++n) {
      std::string path = fmt::format("{}/ipctop-{}-{}{}.json", dir, stamp, stem,
                                     n == 1 ? "" : fmt::format("-{}", n));
      int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      if (fd < 0) {
        last_error = fmt::format("{}: {}", path, std::strerror(errno));
        if (errno == EEXIST) continue;
        break;  // this directory does not take it: try the next one
      }
      size_t done = 0;
      while (done < text.size()) {
        ssize_t w = ::write(fd, text.data() + done, text.size() - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        done += static_cast<size_t>(w);
      }
      int err = done == text.size() ? 0 : errno;
      if (::close(fd) != 0 && !err) err = errno;
      if (err) {
        ::unlink(path.c_str());
        last_error = fmt::format("{}: {}", path, std::strerror(err));
        break;
      }
      return path;
    }
  }
  return SaveError{last_error};
}

}  // namespace ipctop::tui
