#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <limits>
#include <set>
#include <unordered_map>

#include "limits/Internal.h"
#include "model/Text.h"

namespace ipctop::limits::detail {

namespace {

class Dir {
 public:
  explicit Dir(const std::string& path) : dir_(::opendir(path.c_str())), errno_(errno) {}
  Dir(const Dir&) = delete;
  Dir& operator=(const Dir&) = delete;
  ~Dir() {
    if (dir_ != nullptr) ::closedir(dir_);
  }
  bool ok() const { return dir_ != nullptr; }
  int error() const { return errno_; }
  int fd() const { return ::dirfd(dir_); }
  // Entry names except "." and ".."; nullopt at the end.
  std::optional<std::string> next() {
    while (dirent* e = ::readdir(dir_)) {
      if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
      return std::string(e->d_name);
    }
    return std::nullopt;
  }

 private:
  DIR* dir_;
  int errno_;
};

std::optional<uint32_t> parse_octal(std::string_view s) {
  uint32_t v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 8);
  if (s.empty() || ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

// /proc/sysvipc prints key_t with %d, so keys with the top bit set come out negative.
std::optional<uint32_t> parse_key(std::string_view s) {
  const auto v = parse_i64(s);
  if (!v || *v < std::numeric_limits<int32_t>::min() || *v > std::numeric_limits<uint32_t>::max())
    return std::nullopt;
  return static_cast<uint32_t>(*v);
}

std::optional<uint32_t> parse_u32(std::string_view s) {
  const auto v = parse_u64(s);
  if (!v || *v > std::numeric_limits<uint32_t>::max()) return std::nullopt;
  return static_cast<uint32_t>(*v);
}

// A /proc/sysvipc file: columns are found by header name, because their set and widths
// have changed between kernels (rss/swap were added to shm).
class SysvTable {
 public:
  SysvTable(const std::string& path, std::string what, Report& report)
      : path_(path), what_(std::move(what)), report_(report) {}

  // False (after recording why) when the file is unusable as a whole.
  bool open(std::initializer_list<std::string_view> required) {
    in_.open(path_);
    if (!in_) {
      report_.errors.push_back(fmt::format("{}: cannot read {}: {}", what_, ipctop::sanitize(path_),
                                           std::strerror(errno)));
      return false;
    }
    std::string header;
    if (!std::getline(in_, header)) {
      report_.errors.push_back(fmt::format("{}: {} is empty", what_, ipctop::sanitize(path_)));
      return false;
    }
    const auto names = split_ws(header);
    for (std::size_t i = 0; i < names.size(); ++i) columns_.emplace(std::string(names[i]), i);
    width_ = names.size();
    for (std::string_view r : required) {
      if (!columns_.contains(std::string(r))) {
        report_.errors.push_back(fmt::format("{}: no '{}' column in the header of {}", what_, r,
                                             ipctop::sanitize(path_)));
        return false;
      }
    }
    return true;
  }

  // Next row with the header's number of fields; other lines are counted as garbled.
  bool next() {
    while (std::getline(in_, line_)) {
      if (trim(line_).empty()) continue;
      fields_ = split_ws(line_);
      if (fields_.size() == width_) return true;
      ++garbled_;
    }
    return false;
  }

  std::string_view field(const std::string& name) const {
    const auto it = columns_.find(name);
    return it == columns_.end() ? std::string_view{} : fields_[it->second];
  }

  void count_garbled() { ++garbled_; }

  ~SysvTable() {
    if (garbled_ != 0) {
      report_.errors.push_back(fmt::format("{}: skipped {} garbled line(s) in {}", what_, garbled_,
                                           ipctop::sanitize(path_)));
    }
  }

 private:
  std::string path_;
  std::string what_;
  Report& report_;
  std::ifstream in_;
  std::unordered_map<std::string, std::size_t> columns_;
  std::size_t width_ = 0;
  std::string line_;
  std::vector<std::string_view> fields_;
  uint64_t garbled_ = 0;
};

bool read_sysv_shm(const Roots& roots, Report& report, CommCache& comms, OwnerCache& owners) {
  SysvTable t(roots.proc + "/sysvipc/shm", "sysvipc/shm", report);
  if (!t.open({"key", "shmid", "perms", "size", "cpid", "lpid", "nattch", "uid"})) return false;
  while (t.next()) {
    const auto key = parse_key(t.field("key"));
    const auto id = parse_i64(t.field("shmid"));
    const auto mode = parse_octal(t.field("perms"));
    const auto size = parse_u64(t.field("size"));
    const auto cpid = parse_i64(t.field("cpid"));
    const auto lpid = parse_i64(t.field("lpid"));
    const auto nattch = parse_u64(t.field("nattch"));
    const auto uid = parse_u32(t.field("uid"));
    if (!key || !id || !mode || !size || !cpid || !lpid || !nattch || !uid) {
      t.count_garbled();
      continue;
    }
    SysvShm s;
    s.key = *key;
    s.shmid = *id;
    s.uid = *uid;
    s.owner = owners.name(*uid);
    s.perms = *mode & 0777;
    s.dest = (*mode & 01000) != 0;    // SHM_DEST
    s.locked = (*mode & 02000) != 0;  // SHM_LOCKED
    s.size = *size;
    s.nattch = *nattch;
    s.creator = comms.ref(*cpid);
    s.last_user = comms.ref(*lpid);
    report.objects.sysv_shm.push_back(std::move(s));
  }
  std::sort(report.objects.sysv_shm.begin(), report.objects.sysv_shm.end(),
            [](const SysvShm& a, const SysvShm& b) { return a.shmid < b.shmid; });
  return true;
}

bool read_sysv_msg(const Roots& roots, const Host& host, Report& report, CommCache& comms,
                   OwnerCache& owners) {
  SysvTable t(roots.proc + "/sysvipc/msg", "sysvipc/msg", report);
  if (!t.open({"key", "msqid", "perms", "cbytes", "qnum", "lspid", "lrpid", "uid"})) return false;
  while (t.next()) {
    const auto key = parse_key(t.field("key"));
    const auto id = parse_i64(t.field("msqid"));
    const auto mode = parse_octal(t.field("perms"));
    const auto cbytes = parse_u64(t.field("cbytes"));
    const auto qnum = parse_u64(t.field("qnum"));
    const auto lspid = parse_i64(t.field("lspid"));
    const auto lrpid = parse_i64(t.field("lrpid"));
    const auto uid = parse_u32(t.field("uid"));
    if (!key || !id || !mode || !cbytes || !qnum || !lspid || !lrpid || !uid) {
      t.count_garbled();
      continue;
    }
    SysvMsg m;
    m.key = *key;
    m.msqid = *id;
    m.uid = *uid;
    m.owner = owners.name(*uid);
    m.perms = *mode & 0777;
    m.cbytes = *cbytes;
    m.qnum = *qnum;
    if (host.msg_qbytes) m.qbytes = host.msg_qbytes(*id, *key);
    m.last_sender = comms.ref(*lspid);
    m.last_receiver = comms.ref(*lrpid);
    report.objects.sysv_msg.push_back(std::move(m));
  }
  std::sort(report.objects.sysv_msg.begin(), report.objects.sysv_msg.end(),
            [](const SysvMsg& a, const SysvMsg& b) { return a.msqid < b.msqid; });
  return true;
}

bool read_sysv_sem(const Roots& roots, Report& report, OwnerCache& owners) {
  SysvTable t(roots.proc + "/sysvipc/sem", "sysvipc/sem", report);
  if (!t.open({"key", "semid", "perms", "nsems", "uid"})) return false;
  while (t.next()) {
    const auto key = parse_key(t.field("key"));
    const auto id = parse_i64(t.field("semid"));
    const auto mode = parse_octal(t.field("perms"));
    const auto nsems = parse_u64(t.field("nsems"));
    const auto uid = parse_u32(t.field("uid"));
    if (!key || !id || !mode || !nsems || !uid) {
      t.count_garbled();
      continue;
    }
    SysvSem s;
    s.key = *key;
    s.semid = *id;
    s.uid = *uid;
    s.owner = owners.name(*uid);
    s.perms = *mode & 0777;
    s.nsems = *nsems;
    report.objects.sysv_sem.push_back(std::move(s));
  }
  std::sort(report.objects.sysv_sem.begin(), report.objects.sysv_sem.end(),
            [](const SysvSem& a, const SysvSem& b) { return a.semid < b.semid; });
  return true;
}

struct DirEntry {
  std::string raw_name;  // unsanitized: needed to match fd links and maps lines
  struct stat st {};
};

// Regular files directly in `path`, sorted by name.
std::optional<std::vector<DirEntry>> list_files(const std::string& path, const char* what,
                                                Report& report, const char* hint) {
  Dir dir(path);
  if (!dir.ok()) {
    report.errors.push_back(fmt::format("{}: cannot list {}: {}{}", what, ipctop::sanitize(path),
                                        std::strerror(dir.error()),
                                        dir.error() == ENOENT ? hint : ""));
    return std::nullopt;
  }
  std::vector<DirEntry> out;
  while (auto name = dir.next()) {
    DirEntry e;
    if (::fstatat(dir.fd(), name->c_str(), &e.st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (!S_ISREG(e.st.st_mode)) continue;
    e.raw_name = std::move(*name);
    out.push_back(std::move(e));
  }
  std::sort(out.begin(), out.end(),
            [](const DirEntry& a, const DirEntry& b) { return a.raw_name < b.raw_name; });
  return out;
}

// Value of "KEY:<digits>" in a /dev/mqueue file, e.g.
// "QSIZE:5          NOTIFY:0     SIGNO:0     NOTIFY_PID:0".
template <typename T>
std::optional<T> mq_field(std::string_view text, std::string_view key) {
  for (std::string_view f : split_ws(trim(text))) {
    if (!f.starts_with(key) || f.size() <= key.size() || f[key.size()] != ':') continue;
    const std::string_view digits = f.substr(key.size() + 1);
    if constexpr (std::is_signed_v<T>) {
      return parse_i64(digits);
    } else {
      return parse_u64(digits);
    }
  }
  return std::nullopt;
}

struct PosixScan {
  // Link targets and maps paths that refer to each object, to its index.
  std::unordered_map<std::string, std::size_t> mq_links;
  std::unordered_map<std::string, std::size_t> mq_bare_links;  // "/NAME", see below
  std::unordered_map<std::string, std::size_t> shm_links;
  std::unordered_map<std::string, std::size_t> shm_maps;
  dev_t mq_dev = 0;
  bool mq_dev_known = false;
  std::vector<std::set<int64_t>> mq_open;
  std::vector<std::set<int64_t>> shm_open;
  std::vector<std::set<int64_t>> shm_mapped;
};

// Paths in /proc/PID/maps have '\n' escaped as "\012" (seq_path with "\n").
std::string maps_escape(std::string_view path) {
  std::string out;
  for (char c : path) {
    if (c == '\n') {
      out += "\\012";
    } else {
      out += c;
    }
  }
  return out;
}

// Path part of a maps line: everything after the first five fields.
std::optional<std::string_view> maps_path(std::string_view line) {
  std::size_t i = 0;
  for (int field = 0; field < 5; ++field) {
    while (i < line.size() && line[i] == ' ') ++i;
    while (i < line.size() && line[i] != ' ') ++i;
  }
  while (i < line.size() && line[i] == ' ') ++i;
  if (i >= line.size()) return std::nullopt;
  return line.substr(i);
}

void scan_process(const std::string& proc, int64_t pid, PosixScan& scan, bool want_maps,
                  uint64_t& unreadable) {
  bool denied = false;
  const std::string base = fmt::format("{}/{}", proc, pid);
  {
    Dir fds(base + "/fd");
    if (!fds.ok()) {
      denied = fds.error() == EACCES || fds.error() == EPERM;
    } else {
      while (auto name = fds.next()) {
        char buf[4096];
        const ssize_t n = ::readlinkat(fds.fd(), name->c_str(), buf, sizeof buf);
        if (n <= 0 || static_cast<std::size_t>(n) >= sizeof buf) continue;
        const std::string target(buf, static_cast<std::size_t>(n));
        if (auto it = scan.shm_links.find(target); it != scan.shm_links.end()) {
          scan.shm_open[it->second].insert(pid);
        } else if (auto it2 = scan.mq_links.find(target); it2 != scan.mq_links.end()) {
          scan.mq_open[it2->second].insert(pid);
        } else if (auto it3 = scan.mq_bare_links.find(target); it3 != scan.mq_bare_links.end()) {
          // mq_open() descriptors link to "/NAME" on the kernel's internal mount. A file of
          // that name in the root directory links the same way, so when the target can be
          // stat'ed it must live on the mqueue filesystem.
          struct stat st {};
          if (::fstatat(fds.fd(), name->c_str(), &st, 0) == 0 && scan.mq_dev_known &&
              st.st_dev != scan.mq_dev)
            continue;
          scan.mq_open[it3->second].insert(pid);
        }
      }
    }
  }
  if (want_maps) {
    std::ifstream maps(base + "/maps");
    if (!maps) {
      denied = denied || errno == EACCES || errno == EPERM;
    } else {
      std::string line;
      while (std::getline(maps, line)) {
        const auto path = maps_path(line);
        if (!path) continue;
        if (auto it = scan.shm_maps.find(std::string(*path)); it != scan.shm_maps.end())
          scan.shm_mapped[it->second].insert(pid);
      }
    }
  }
  if (denied) ++unreadable;
}

std::vector<ProcessRef> refs(const std::set<int64_t>& pids, CommCache& comms) {
  std::vector<ProcessRef> out;
  for (int64_t pid : pids) out.push_back(comms.ref(pid));
  return out;
}

void scan_processes(const Roots& roots, const std::vector<DirEntry>& mqs,
                    const std::vector<DirEntry>& shms, Report& report, CommCache& comms) {
  PosixScan scan;
  scan.mq_open.resize(mqs.size());
  scan.shm_open.resize(shms.size());
  scan.shm_mapped.resize(shms.size());
  for (std::size_t i = 0; i < mqs.size(); ++i) {
    scan.mq_links.emplace("/dev/mqueue/" + mqs[i].raw_name, i);
    scan.mq_links.emplace(roots.dev_mqueue + "/" + mqs[i].raw_name, i);
    scan.mq_bare_links.emplace("/" + mqs[i].raw_name, i);
  }
  if (!mqs.empty()) {
    scan.mq_dev = mqs.front().st.st_dev;
    scan.mq_dev_known = true;
  }
  for (std::size_t i = 0; i < shms.size(); ++i) {
    for (const std::string& dir : {std::string("/dev/shm"), roots.dev_shm}) {
      const std::string path = dir + "/" + shms[i].raw_name;
      scan.shm_links.emplace(path, i);
      scan.shm_maps.emplace(maps_escape(path), i);
    }
  }

  Dir proc(roots.proc);
  if (!proc.ok()) {
    report.errors.push_back(fmt::format("processes: cannot list {}: {}",
                                        ipctop::sanitize(roots.proc), std::strerror(proc.error())));
    return;
  }
  std::vector<int64_t> pids;
  while (auto name = proc.next()) {
    if (auto pid = parse_i64(*name); pid && *pid > 0) pids.push_back(*pid);
  }
  std::sort(pids.begin(), pids.end());
  for (int64_t pid : pids)
    scan_process(roots.proc, pid, scan, !shms.empty(), report.unreadable_processes);

  for (std::size_t i = 0; i < mqs.size(); ++i)
    report.objects.posix_mq[i].open_by = refs(scan.mq_open[i], comms);
  for (std::size_t i = 0; i < shms.size(); ++i) {
    report.objects.posix_shm[i].open_by = refs(scan.shm_open[i], comms);
    report.objects.posix_shm[i].mapped_by = refs(scan.shm_mapped[i], comms);
  }
}

}  // namespace

ObjectsRead collect_objects(const Roots& roots, const Host& host, Report& report) {
  ObjectsRead read;
  CommCache comms(roots.proc);
  OwnerCache owners(host);
  read.sysv_shm = read_sysv_shm(roots, report, comms, owners);
  read.sysv_msg = read_sysv_msg(roots, host, report, comms, owners);
  read.sysv_sem = read_sysv_sem(roots, report, owners);

  const auto mqs = list_files(roots.dev_mqueue, "posix_mq", report,
                              " (mount it: mount -t mqueue none /dev/mqueue)");
  if (mqs) {
    read.posix_mq = true;
    for (const DirEntry& e : *mqs) {
      PosixMq q;
      q.name = ipctop::sanitize("/" + e.raw_name);
      q.uid = e.st.st_uid;
      q.owner = owners.name(e.st.st_uid);
      q.perms = e.st.st_mode & 0777;
      FileText f = read_small_file(roots.dev_mqueue + "/" + e.raw_name, 4096);
      if (f.text) {
        q.qsize = mq_field<uint64_t>(*f.text, "QSIZE");
        q.notify_pid = mq_field<int64_t>(*f.text, "NOTIFY_PID");
      }
      if (!q.qsize) {
        report.errors.push_back(fmt::format("posix_mq: no QSIZE in {}/{}",
                                            ipctop::sanitize(roots.dev_mqueue),
                                            ipctop::sanitize(e.raw_name)));
      }
      report.objects.posix_mq.push_back(std::move(q));
    }
  }
  const auto shms = list_files(roots.dev_shm, "posix_shm", report, "");
  if (shms) {
    read.posix_shm = true;
    for (const DirEntry& e : *shms) {
      PosixShm s;
      s.name = ipctop::sanitize("/" + e.raw_name);
      s.uid = e.st.st_uid;
      s.owner = owners.name(e.st.st_uid);
      s.perms = e.st.st_mode & 0777;
      s.size = static_cast<uint64_t>(e.st.st_size);
      s.semaphore = e.raw_name.starts_with("sem.");
      report.objects.posix_shm.push_back(std::move(s));
    }
  }
  const std::vector<DirEntry> none;
  if (host.process_users && ((mqs && !mqs->empty()) || (shms && !shms->empty())))
    scan_processes(roots, mqs ? *mqs : none, shms ? *shms : none, report, comms);
  return read;
}

}  // namespace ipctop::limits::detail
