#include "procfs/ShmMaps.h"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <charconv>

#include <fmt/format.h>

#include "procfs/ProcFs.h"

namespace ipctop::procfs {

namespace {

std::string_view next_field(std::string_view& s) {
  size_t i = 0;
  while (i < s.size() && s[i] == ' ') ++i;
  size_t j = i;
  while (j < s.size() && s[j] != ' ') ++j;
  std::string_view f = s.substr(i, j - i);
  s.remove_prefix(j);
  return f;
}

template <typename T>
bool parse(std::string_view s, T& out, int base = 10) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out, base);
  return !s.empty() && ec == std::errc() && p == s.data() + s.size();
}

constexpr std::string_view kDeleted = " (deleted)";

}  // namespace

std::optional<MapsLine> parse_maps_line(std::string_view line) {
  MapsLine m;
  std::string_view range = next_field(line), perms = next_field(line);
  std::string_view offset = next_field(line), dev = next_field(line), inode = next_field(line);
  size_t dash = range.find('-'), colon = dev.find(':');
  uint64_t off = 0;
  if (dash == std::string_view::npos || colon == std::string_view::npos || perms.size() != 4 ||
      !parse(range.substr(0, dash), m.start, 16) || !parse(range.substr(dash + 1), m.end, 16) ||
      !parse(offset, off, 16) || !parse(dev.substr(0, colon), m.major, 16) ||
      !parse(dev.substr(colon + 1), m.minor, 16) || !parse(inode, m.inode))
    return std::nullopt;
  m.perms = perms;
  size_t i = 0;
  while (i < line.size() && line[i] == ' ') ++i;
  m.path = line.substr(i);
  return m;
}

std::vector<ShmMapping> shm_mappings(std::string_view maps) {
  std::vector<ShmMapping> out;
  uint64_t prev_end = 0;
  while (!maps.empty()) {
    size_t nl = maps.find('\n');
    std::string_view line = maps.substr(0, nl);
    maps.remove_prefix(nl == std::string_view::npos ? maps.size() : nl + 1);
    auto m = parse_maps_line(line);
    // A SysV segment's inode is its shmid, and shmid 0 is a real segment
    // (the first one created after boot, or with kernel.shm_next_id=0).
    if (!m || m->perms[3] != 's' || (m->inode == 0 && !m->path.starts_with("/SYSV"))) continue;
    ShmMapping s;
    s.ino = m->inode;
    s.start = m->start;
    s.end = m->end;
    s.path = m->path;
    if (m->path.starts_with("/SYSV")) {
      s.kind = Kind::sysv_shm;
      s.shm_path = true;
      s.path.clear();  // named from the key
    } else {
      s.kind = Kind::posix_shm;
      s.dev = (m->major << 20) | (m->minor & 0xfffff);
      if (m->path.starts_with("/memfd:")) {
        s.shm_path = true;
        s.path = m->path.substr(1);
        if (s.path.ends_with(kDeleted)) s.path.resize(s.path.size() - kDeleted.size());
      } else {
        s.shm_path = m->path.starts_with("/dev/shm/");
      }
    }
    // One attachment split in several VMAs (mprotect) continues the last.
    if (!out.empty() && prev_end == m->start && out.back().kind == s.kind &&
        out.back().ino == s.ino && out.back().dev == s.dev) {
      prev_end = m->end;
      continue;
    }
    prev_end = m->end;
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<SysvSegmentInfo> parse_sysvipc_shm(std::string_view text) {
  std::vector<SysvSegmentInfo> out;
  size_t nl = text.find('\n');
  if (nl == std::string_view::npos) return out;
  std::string_view header = text.substr(0, nl);
  text.remove_prefix(nl + 1);
  int key_col = -1, id_col = -1, size_col = -1, cpid_col = -1, n = 0;
  for (std::string_view h = header;;) {
    std::string_view f = next_field(h);
    if (f.empty()) break;
    if (f == "key") key_col = n;
    if (f == "shmid") id_col = n;
    if (f == "size") size_col = n;
    if (f == "cpid") cpid_col = n;
    ++n;
  }
  if (key_col < 0 || id_col < 0 || size_col < 0 || cpid_col < 0) return out;
  while (!text.empty()) {
    nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    std::vector<std::string_view> fields;
    for (std::string_view f = next_field(line); !f.empty(); f = next_field(line))
      fields.push_back(f);
    if (static_cast<int>(fields.size()) < n) continue;
    SysvSegmentInfo row;
    int64_t key = 0;  // printed with %d: keys with the top bit set are negative
    if (!parse(fields[key_col], key) || !parse(fields[id_col], row.shmid) ||
        !parse(fields[size_col], row.size) || !parse(fields[cpid_col], row.cpid))
      continue;
    row.key = static_cast<uint32_t>(key);
    out.push_back(row);
  }
  return out;
}

std::vector<uint32_t> ProcShm::pids() {
  std::vector<uint32_t> out;
  for (int pid : ProcFs(proc_).pids()) out.push_back(static_cast<uint32_t>(pid));
  return out;
}

std::optional<std::vector<ShmMapping>> ProcShm::mappings(uint32_t pid) {
  auto text = read_regular_file(fmt::format("{}/{}/maps", proc_, pid), 64u << 20);
  if (!text.text) return std::nullopt;
  auto maps = shm_mappings(*text.text);
  for (auto& m : maps) {
    if (m.kind != Kind::posix_shm) continue;
    // The file's size through the mapping's map_files link (root only).
    struct stat st {};
    std::string link = fmt::format("{}/{}/map_files/{:x}-{:x}", proc_, pid, m.start, m.end);
    if (stat(link.c_str(), &st) == 0) m.size = static_cast<uint64_t>(st.st_size);
  }
  return maps;
}

std::vector<SysvSegmentInfo> ProcShm::sysv_segments() {
  auto text = read_regular_file(proc_ + "/sysvipc/shm", 16u << 20);
  return text.text ? parse_sysvipc_shm(*text.text) : std::vector<SysvSegmentInfo>{};
}

std::optional<uint32_t> ProcShm::dev_shm() {
  struct stat st {};
  if (stat(dev_shm_.c_str(), &st) != 0) return std::nullopt;
  return (major(st.st_dev) << 20) | (minor(st.st_dev) & 0xfffff);
}

}  // namespace ipctop::procfs
