#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>

#include "limits/Internal.h"
#include "model/Text.h"

namespace ipctop::limits {

namespace {

using detail::group_digits;
using detail::human_bytes;

constexpr int kWidth = 100;

int width(std::string_view s) { return ipctop::display_width(s); }

std::string pad_right(std::string s, int w) {
  const int d = w - width(s);
  if (d > 0) s.append(static_cast<std::size_t>(d), ' ');
  return s;
}

std::string pad_left(const std::string& s, int w) {
  const int d = w - width(s);
  return d > 0 ? std::string(static_cast<std::size_t>(d), ' ') + s : s;
}

std::string fit(const std::string& s, int w) {
  if (width(s) <= w) return s;
  if (w <= 3) return ipctop::truncate_to_width(s, w);
  return ipctop::truncate_to_width(s, w - 3) + "...";
}

bool is_unit(std::string_view word) {
  while (!word.empty() && std::string_view(",.:;)").find(word.back()) != std::string_view::npos)
    word.remove_suffix(1);
  for (std::string_view u : {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"})
    if (word == u) return true;
  return false;
}

// Words for wrapping, with "16 GiB" and commands such as "sysctl -w NAME=VALUE" kept whole so
// that they can be read and pasted.
std::vector<std::string> words(std::string_view text) {
  std::vector<std::string> raw;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    std::size_t j = i;
    while (j < text.size() && text[j] != ' ') ++j;
    if (j > i) raw.emplace_back(text.substr(i, j - i));
    i = j;
  }
  std::vector<std::string> out;
  for (std::size_t k = 0; k < raw.size(); ++k) {
    std::size_t glue = 0;
    if (raw[k] == "sysctl" && k + 1 < raw.size() && raw[k + 1] == "-w") glue = 2;
    if (raw[k] == "mount" && k + 1 < raw.size() && raw[k + 1].starts_with("-")) {
      // up to and including the mount point
      while (k + glue + 1 < raw.size() && !raw[k + glue].starts_with("/")) ++glue;
    }
    std::string word = raw[k];
    for (; glue > 0 && k + 1 < raw.size(); --glue) word += " " + raw[++k];
    if (!out.empty() && is_unit(word) && !out.back().empty() &&
        std::isdigit(static_cast<unsigned char>(out.back().back()))) {
      out.back() += " " + word;
    } else {
      out.push_back(std::move(word));
    }
  }
  return out;
}

// Word wrap; a word longer than the line (a long name) is cut where the line ends.
std::vector<std::string> wrap(std::string_view text, int w) {
  std::vector<std::string> lines;
  std::string line;
  for (std::string& word : words(text)) {
    if (!line.empty() && width(line) + 1 + width(word) <= w) {
      line += ' ';
      line += word;
      continue;
    }
    if (!line.empty()) lines.push_back(std::move(line));
    line.clear();
    while (width(word) > w) {
      std::string head = ipctop::truncate_to_width(word, w);
      if (head.empty()) break;
      word.erase(0, head.size());
      lines.push_back(std::move(head));
    }
    line = std::move(word);
  }
  if (!line.empty() || lines.empty()) lines.push_back(std::move(line));
  return lines;
}

void append_wrapped(std::string& out, std::string_view text, int indent, int first_indent) {
  const auto lines = wrap(text, kWidth - indent);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    out.append(static_cast<std::size_t>(i == 0 ? first_indent : indent), ' ');
    out += lines[i];
    out += '\n';
  }
}

uint64_t page_size(const Report& r) {
  const Limit* l = find_limit(r, "page_size");
  return l != nullptr && l->value && *l->value != 0 ? *l->value : 4096;
}

std::string value_text(const Limit& l, bool raw) {
  if (!l.value) return "?";
  const uint64_t v = *l.value;
  if (raw) return std::to_string(v);
  if (l.unit == "bool") return v == 0 ? "off" : v == 1 ? "on" : std::to_string(v);
  if (l.unlimited) return "unlimited";
  if (l.unit == "bytes") return human_bytes(v);
  if (l.unit == "pages")
    return l.value_bytes ? human_bytes(*l.value_bytes) : group_digits(v) + " pages";
  return group_digits(v);
}

std::string used_text(const Limit& l, bool raw, uint64_t page) {
  if (!l.used) return "";
  const uint64_t u = *l.used;
  if (raw) return std::to_string(u);
  if (l.unit == "bytes") return human_bytes(u);
  if (l.unit == "pages") {
    if (auto b = detail::checked_mul(u, page)) return human_bytes(*b);
  }
  return group_digits(u);
}

std::string pct_text(const Limit& l) {
  if (!l.used_pct) return "";
  const double p = *l.used_pct;
  if (p < 1 && l.used.value_or(0) != 0) return "<1%";
  return fmt::format("{:.0f}%", std::floor(p));
}

std::string meaning_text(const Limit& l, bool raw) {
  std::string m = l.description;
  if (l.name == "kernel.shmall" && l.value && !l.unlimited) {
    if (raw && l.value_bytes) {
      m += fmt::format(" (= {} bytes)", *l.value_bytes);
    } else if (!raw) {
      m += fmt::format(" ({} pages)", group_digits(*l.value));
    }
  }
  if (raw && l.unlimited && l.value == uint64_t{0}) m += " (0 = no limit)";
  if (l.hard && l.value && *l.hard != *l.value) {
    const bool inf = *l.hard == UINT64_MAX;
    m += fmt::format(" (hard: {})", raw   ? std::to_string(*l.hard)
                                    : inf ? std::string("unlimited")
                                          : human_bytes(*l.hard));
  }
  return m;
}

bool has_warning(const Report& r, const std::string& name) {
  return std::any_of(r.warnings.begin(), r.warnings.end(), [&](const Warning& w) {
    return w.severity == Severity::Warning && w.limit == name;
  });
}

void render_limits(const Report& r, bool raw, std::string& out) {
  struct Row {
    std::string mark, name, value, used, pct, meaning;
  };
  const uint64_t page = page_size(r);
  std::vector<std::pair<Group, std::vector<Row>>> groups;
  for (Group g : {Group::SharedMemory, Group::MessageQueues, Group::Semaphores,
                  Group::PosixMessageQueues, Group::Pipes, Group::Files, Group::Sockets}) {
    std::vector<Row> rows;
    for (const Limit& l : r.limits) {
      if (l.group != g) continue;
      rows.push_back({has_warning(r, l.name) ? "!" : " ", l.name, value_text(l, raw),
                      used_text(l, raw, page), pct_text(l), meaning_text(l, raw)});
    }
    if (!rows.empty()) groups.emplace_back(g, std::move(rows));
  }
  Row header{" ", "LIMIT", "VALUE", "USED", "%", "MEANING"};
  int wn = width(header.name), wv = width(header.value), wu = width(header.used),
      wp = width(header.pct);
  for (const auto& [g, rows] : groups) {
    for (const Row& row : rows) {
      wn = std::max(wn, width(row.name));
      wv = std::max(wv, width(row.value));
      wu = std::max(wu, width(row.used));
      wp = std::max(wp, width(row.pct));
    }
  }
  const int meaning_col = 2 + wn + 2 + wv + 2 + wu + 2 + wp + 2;
  const bool meaning_below = kWidth - meaning_col < 24;
  const auto line = [&](const Row& row) {
    std::string s = row.mark + " " + pad_right(row.name, wn) + "  " + pad_left(row.value, wv) +
                    "  " + pad_left(row.used, wu) + "  " + pad_left(row.pct, wp);
    if (meaning_below) {
      out += s;
      out += '\n';
      append_wrapped(out, row.meaning, 6, 6);
      return;
    }
    s += "  ";
    const auto lines = wrap(row.meaning, kWidth - meaning_col);
    for (std::size_t i = 0; i < lines.size(); ++i) {
      if (i != 0) s.assign(static_cast<std::size_t>(meaning_col), ' ');
      s += lines[i];
      while (!s.empty() && s.back() == ' ') s.pop_back();
      out += s;
      out += '\n';
    }
  };

  out +=
      "IPC limits: VALUE is the limit, USED what exists now (for \"largest one\" limits: the\n"
      "biggest single object), % how full. Change one with: sysctl -w NAME=VALUE\n";
  out += '\n';
  line(header);
  for (const auto& [g, rows] : groups) {
    out += '\n';
    out += group_title(g);
    out += '\n';
    for (const Row& row : rows) line(row);
  }
}

void render_warnings(const Report& r, std::string& out) {
  bool any_sysctl = false;
  for (Severity sev : {Severity::Warning, Severity::Info}) {
    out += '\n';
    out += sev == Severity::Warning ? "Warnings\n" : "Notes\n";
    bool any = false;
    for (const Warning& w : r.warnings) {
      if (w.severity != sev) continue;
      any = true;
      // Messages usually name their limit already.
      const std::string text = w.message.starts_with(w.limit + " ")
                                   ? w.message
                                   : fmt::format("{}: {}", w.limit, w.message);
      append_wrapped(out, fmt::format("{} {}", sev == Severity::Warning ? "!" : "*", text), 4, 2);
      if (!w.fix.empty()) append_wrapped(out, "fix: " + w.fix, 9, 4);
      any_sysctl = any_sysctl || w.fix.find("sysctl -w") != std::string::npos;
    }
    if (!any) {
      out += sev == Severity::Warning
                 ? "  none: the limits agree with each other and none is nearly used up\n"
                 : "  none\n";
    }
  }
  if (any_sysctl) {
    out += '\n';
    append_wrapped(out,
                   "sysctl -w lasts until the next boot; to keep a setting, add a line "
                   "\"NAME = VALUE\" to a file in /etc/sysctl.d/ and run sysctl --system.",
                   2, 2);
  }
}

struct Col {
  std::string header;
  bool right = false;
  bool shrink = false;
  int min = 0;
};

void render_grid(const std::vector<Col>& cols, const std::vector<std::vector<std::string>>& rows,
                 std::string& out) {
  std::vector<int> w(cols.size());
  for (std::size_t c = 0; c < cols.size(); ++c) {
    w[c] = width(cols[c].header);
    for (const auto& row : rows) w[c] = std::max(w[c], width(row[c]));
  }
  const auto total = [&] {
    int t = 2;
    for (int x : w) t += x;
    return t + 2 * static_cast<int>(cols.size() - 1);
  };
  while (total() > kWidth) {
    std::size_t best = cols.size();
    for (std::size_t c = 0; c < cols.size(); ++c) {
      if (!cols[c].shrink || w[c] <= std::max(cols[c].min, width(cols[c].header))) continue;
      if (best == cols.size() || w[c] > w[best]) best = c;
    }
    if (best == cols.size()) break;
    --w[best];
  }
  const auto emit = [&](const std::vector<std::string>& cells) {
    std::string s = "  ";
    for (std::size_t c = 0; c < cols.size(); ++c) {
      if (c != 0) s += "  ";
      const std::string cell = fit(cells[c], w[c]);
      s += cols[c].right ? pad_left(cell, w[c]) : pad_right(cell, w[c]);
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    out += s;
    out += '\n';
  };
  std::vector<std::string> header;
  for (const Col& c : cols) header.push_back(c.header);
  emit(header);
  for (const auto& row : rows) emit(row);
}

std::string proc_text(const ProcessRef& p) {
  if (p.pid == 0) return "-";
  return p.comm ? fmt::format("{} {}", p.pid, *p.comm) : std::to_string(p.pid);
}

std::string size_text(uint64_t bytes, bool raw) {
  return raw ? std::to_string(bytes) : human_bytes(bytes);
}

std::string users_text(const std::vector<ProcessRef>& open, const std::vector<ProcessRef>& mapped) {
  std::vector<std::pair<ProcessRef, std::string>> users;
  for (const auto& p : open) users.emplace_back(p, "fd");
  for (const auto& p : mapped) {
    auto it = std::find_if(users.begin(), users.end(),
                           [&](const auto& u) { return u.first.pid == p.pid; });
    if (it != users.end()) {
      it->second = "fd+map";
    } else {
      users.emplace_back(p, "map");
    }
  }
  std::sort(users.begin(), users.end(),
            [](const auto& a, const auto& b) { return a.first.pid < b.first.pid; });
  if (users.empty()) return "-";
  std::string s;
  constexpr std::size_t kShown = 3;
  for (std::size_t i = 0; i < users.size() && i < kShown; ++i) {
    if (i != 0) s += ", ";
    s += proc_text(users[i].first);
    if (!mapped.empty()) s += " (" + users[i].second + ")";
  }
  if (users.size() > kShown) s += fmt::format(" +{} more", users.size() - kShown);
  return s;
}

void render_objects(const Report& r, bool raw, std::string& out) {
  const Objects& o = r.objects;
  const auto none = [&](bool empty) {
    if (empty) out += "  (none)\n";
    return empty;
  };

  out += "\nSysV shared memory segments (ipcs -m; remove with ipcrm -m SHMID)\n";
  if (!none(o.sysv_shm.empty())) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& s : o.sysv_shm) {
      std::string status;
      if (s.dest) status += "dest";
      if (s.locked) status += status.empty() ? "locked" : ",locked";
      rows.push_back({detail::key_hex(s.key), std::to_string(s.shmid), s.owner,
                      detail::octal(s.perms), size_text(s.size, raw), std::to_string(s.nattch),
                      proc_text(s.creator), proc_text(s.last_user), status});
    }
    render_grid({{"KEY"},
                 {"SHMID", true},
                 {"OWNER", false, true, 8},
                 {"PERMS"},
                 {"SIZE", true},
                 {"NATTCH", true},
                 {"CREATOR", false, true, 12},
                 {"LAST USER", false, true, 12},
                 {"STATUS"}},
                rows, out);
  }

  out += "\nSysV message queues (ipcs -q; remove with ipcrm -q MSQID)\n";
  if (!none(o.sysv_msg.empty())) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& m : o.sysv_msg) {
      std::string queued = size_text(m.cbytes, raw);
      if (m.qbytes) queued += " / " + size_text(*m.qbytes, raw);
      rows.push_back({detail::key_hex(m.key), std::to_string(m.msqid), m.owner,
                      detail::octal(m.perms), std::to_string(m.qnum), queued,
                      proc_text(m.last_sender), proc_text(m.last_receiver)});
    }
    render_grid({{"KEY"},
                 {"MSQID", true},
                 {"OWNER", false, true, 8},
                 {"PERMS"},
                 {"MSGS", true},
                 {"QUEUED", true},
                 {"LAST SEND", false, true, 12},
                 {"LAST RECEIVE", false, true, 12}},
                rows, out);
  }

  out += "\nSysV semaphore sets (ipcs -s; remove with ipcrm -s SEMID)\n";
  if (!none(o.sysv_sem.empty())) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& s : o.sysv_sem) {
      rows.push_back({detail::key_hex(s.key), std::to_string(s.semid), s.owner,
                      detail::octal(s.perms), std::to_string(s.nsems)});
    }
    render_grid({{"KEY"}, {"SEMID", true}, {"OWNER", false, true, 8}, {"PERMS"}, {"NSEMS", true}},
                rows, out);
  }

  out += "\nPOSIX message queues (mq_open; files in /dev/mqueue)\n";
  if (!none(o.posix_mq.empty())) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& q : o.posix_mq) {
      rows.push_back({q.name, q.owner, detail::octal(q.perms),
                      q.qsize ? size_text(*q.qsize, raw) : "?",
                      q.notify_pid && *q.notify_pid != 0 ? std::to_string(*q.notify_pid) : "-",
                      users_text(q.open_by, {})});
    }
    render_grid({{"NAME", false, true, 12},
                 {"OWNER", false, true, 8},
                 {"PERMS"},
                 {"QUEUED", true},
                 {"NOTIFY", true},
                 {"OPEN BY", false, true, 16}},
                rows, out);
  }

  out += "\nPOSIX shared memory and named semaphores (shm_open, sem_open; files in /dev/shm)\n";
  if (!none(o.posix_shm.empty())) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& s : o.posix_shm) {
      rows.push_back({s.name, s.semaphore ? "sem" : "shm", s.owner, detail::octal(s.perms),
                      size_text(s.size, raw), users_text(s.open_by, s.mapped_by)});
    }
    render_grid({{"NAME", false, true, 12},
                 {"KIND"},
                 {"OWNER", false, true, 8},
                 {"PERMS"},
                 {"SIZE", true},
                 {"USED BY", false, true, 16}},
                rows, out);
  }

  // Only where they could be derived (the live system): fixtures have no processes.
  if (!o.pipe_users.empty()) {
    out +=
        "\nPipe buffers by user (charged against fs.pipe-user-pages-soft and -hard; root is "
        "exempt)\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& u : o.pipe_users) {
      const auto bytes = detail::checked_mul(u.pages, page_size(r));
      rows.push_back({u.owner, std::to_string(u.uid), std::to_string(u.pipes),
                      raw ? std::to_string(u.pages) : group_digits(u.pages),
                      bytes ? size_text(*bytes, raw) : std::string("?")});
    }
    render_grid({{"USER", false, true, 8},
                 {"UID", true},
                 {"PIPES", true},
                 {"PAGES", true},
                 {"BYTES", true}},
                rows, out);
  }
}

void render_errors(const Report& r, std::string& out) {
  if (r.errors.empty() && r.unreadable_processes == 0 && r.unmeasured_pipe_processes == 0) return;
  out += "\nCould not read\n";
  for (const std::string& e : r.errors) append_wrapped(out, "- " + e, 4, 2);
  if (r.unreadable_processes != 0) {
    append_wrapped(out,
                   fmt::format("- {} process(es) could not be inspected (permission denied), so "
                               "\"open by\" and \"used by\" may be incomplete; without root, "
                               "other users' processes are hidden",
                               r.unreadable_processes),
                   4, 2);
  }
  if (r.unmeasured_pipe_processes != 0) {
    append_wrapped(out,
                   fmt::format("- the pipes of {} process(es) could not be measured (pidfd_getfd "
                               "needs ptrace access: without root, only your own processes), so "
                               "pipe pages per user may be low",
                               r.unmeasured_pipe_processes),
                   4, 2);
  }
}

}  // namespace

std::string render_table(const Report& report, bool raw) {
  std::string out;
  render_limits(report, raw, out);
  render_warnings(report, out);
  render_objects(report, raw, out);
  render_errors(report, out);
  return out;
}

}  // namespace ipctop::limits
