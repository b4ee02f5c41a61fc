// Helpers of the reliability tests: the BPF objects a process holds (from
// its own fdinfo, so other ipctop instances running at the same time are
// never confused with ours), map sizes through bpftool, the memory and CPU
// of a running process, and the ground truth of tests/tools/loadgen.
#pragma once

#include <dirent.h>

#include <array>
#include <cstdio>
#include <set>

#include "harness.h"

namespace e2e {

// Runs a command (no shell) and returns its stdout; bounded like every child.
inline std::string capture(const std::vector<std::string>& argv,
                           std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  TempDir dir;
  pid_t pid = spawn(argv, dir.file("o"), dir.file("e"));
  Exit e = wait_bounded(pid, timeout);
  EXPECT_TRUE(e.exited && e.code == 0) << argv.front() << ": " << read_file(dir.file("e"));
  return read_file(dir.file("o"));
}

// The ids of the BPF programs, links and maps a process holds file
// descriptors to, read from /proc/PID/fdinfo ("prog_id:", "link_id:",
// "map_id:").
struct BpfObjects {
  std::set<uint32_t> progs, links, maps;
  bool empty() const { return progs.empty() && links.empty() && maps.empty(); }
};

inline BpfObjects bpf_objects_of(pid_t pid) {
  BpfObjects out;
  std::string dir = "/proc/" + std::to_string(pid) + "/fdinfo";
  DIR* d = opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::istringstream in(read_file(dir + "/" + e->d_name));
    std::string line;
    while (std::getline(in, line)) {
      auto take = [&](const char* key, std::set<uint32_t>& into) {
        if (line.rfind(key, 0) == 0) into.insert(static_cast<uint32_t>(std::stoul(line.substr(strlen(key)))));
      };
      take("prog_id:", out.progs);
      take("link_id:", out.links);
      take("map_id:", out.maps);
    }
  }
  closedir(d);
  return out;
}

// Ids that still exist system-wide, among `ids`, of a bpftool object type.
inline std::set<uint32_t> still_loaded(const char* type, const std::set<uint32_t>& ids) {
  std::set<uint32_t> out;
  json all = json::parse(capture({"/usr/sbin/bpftool", "-j", type, "show"}));
  for (const auto& o : all)
    if (o.contains("id") && ids.count(o.at("id").get<uint32_t>())) out.insert(o.at("id").get<uint32_t>());
  return out;
}

// Whether all of `ids` are gone within `timeout`: the kernel frees programs,
// links and maps asynchronously (RCU, work queues) after the last fd closes.
inline bool all_gone(const char* type, const std::set<uint32_t>& ids,
                     std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  auto deadline = Clock::now() + timeout;
  for (;;) {
    auto left = still_loaded(type, ids);
    if (left.empty()) return true;
    if (Clock::now() > deadline) {
      ADD_FAILURE() << left.size() << " " << type << " objects still loaded, e.g. id " << *left.begin();
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

// Entries in each of a process's BPF maps, by map name (flows, threads,
// queues, ...), through bpftool.
inline std::map<std::string, size_t> map_entries(pid_t pid) {
  std::map<std::string, size_t> out;
  for (uint32_t id : bpf_objects_of(pid).maps) {
    json info = json::parse(capture({"/usr/sbin/bpftool", "-j", "map", "show", "id", std::to_string(id)}));
    std::string type = info.value("type", "");
    if (type != "hash" && type != "percpu_hash" && type != "lru_hash") continue;
    json dump = json::parse(
        capture({"/usr/sbin/bpftool", "-j", "map", "dump", "id", std::to_string(id)}, std::chrono::seconds(60)));
    out[info.value("name", std::to_string(id))] = dump.size();
  }
  return out;
}

// The keys of a process's BPF map called `name`, as bpftool formats them
// from the map's BTF (e.g. {"src_tgid":..,"dst_tgid":..} for flows).
inline std::vector<json> map_keys(pid_t pid, const std::string& name) {
  std::vector<json> out;
  for (uint32_t id : bpf_objects_of(pid).maps) {
    json info = json::parse(capture({"/usr/sbin/bpftool", "-j", "map", "show", "id", std::to_string(id)}));
    if (info.value("name", "") != name) continue;
    json dump = json::parse(
        capture({"/usr/sbin/bpftool", "-j", "map", "dump", "id", std::to_string(id)}, std::chrono::seconds(60)));
    for (const auto& e : dump)
      if (e.contains("formatted")) out.push_back(e.at("formatted").at("key"));
  }
  return out;
}

// Resident memory (VmRSS, KiB) and CPU time (user + system, seconds) of a process.
struct Usage {
  uint64_t rss_kib = 0;
  double cpu_s = 0;
};

inline Usage usage_of(pid_t pid) {
  Usage u;
  std::string status = read_file("/proc/" + std::to_string(pid) + "/status");
  if (auto at = status.find("\nVmRSS:"); at != std::string::npos) u.rss_kib = std::stoull(status.substr(at + 7));
  std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  auto close = stat.rfind(')');
  if (close != std::string::npos) {
    std::istringstream in(stat.substr(close + 2));
    std::vector<std::string> f;
    std::string tok;
    while (in >> tok) f.push_back(tok);
    // After "(comm)": state is field 3, utime 14, stime 15 (1-based).
    if (f.size() > 12) u.cpu_s = static_cast<double>(std::stoull(f[11]) + std::stoull(f[12])) / static_cast<double>(sysconf(_SC_CLK_TCK));
  }
  return u;
}

// A line of a process's /proc status, e.g. "CapEff".
inline std::string status_field(pid_t pid, const std::string& key) {
  std::istringstream in(read_file("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key + ":", 0) == 0) {
      std::string v = line.substr(key.size() + 1);
      return v.substr(v.find_first_not_of(" \t"));
    }
  return "";
}

// loadgen running in the background; result() waits for its truth line.
class Loadgen {
 public:
  explicit Loadgen(const std::vector<std::string>& args) {
    std::vector<std::string> argv{LOADGEN_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    pid_ = spawn(argv, dir_.file("out"), dir_.file("err"));
  }
  ~Loadgen() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) != pid_) return true;
    done_ = Exit{WIFEXITED(status), WIFEXITED(status) ? WEXITSTATUS(status) : -1};
    pid_ = -1;
    return false;
  }
  json result(std::chrono::seconds timeout = std::chrono::seconds(300)) {
    if (pid_ > 0) {
      done_ = wait_bounded(pid_, timeout);
      pid_ = -1;
    }
    EXPECT_TRUE(done_.exited && done_.code == 0) << "loadgen failed: " << read_file(dir_.file("err"));
    auto lines = parse_ndjson(read_file(dir_.file("out")));
    return lines.empty() ? json::object() : lines.front();
  }
  pid_t pid() const { return pid_; }

 private:
  TempDir dir_;
  pid_t pid_ = -1;
  Exit done_;
};

// A ground-truth flow's key; ipcgen gives the kind once for all its flows.
inline FlowId truth_id(const json& f, const json& truth) {
  std::string kind = f.contains("kind") ? f.at("kind") : truth.at("kind");
  return {kind, f.at("src_pid"), f.at("src_tid"), f.at("dst_pid"), f.at("dst_tid")};
}

// Every ground-truth flow must be in ipctop's output with exactly its bytes
// and messages; returns how many were not.
inline size_t count_mismatches(const json& truth, const std::vector<json>& snaps, size_t report = 5) {
  auto totals = flow_totals(snaps);
  size_t bad = 0;
  for (const auto& f : truth.at("flows")) {
    auto it = totals.find(truth_id(f, truth));
    uint64_t bytes = it == totals.end() ? 0 : it->second.bytes;
    uint64_t messages = it == totals.end() ? 0 : it->second.messages;
    if (bytes == f.at("bytes").get<uint64_t>() && messages == f.at("messages").get<uint64_t>()) continue;
    if (bad++ < report)
      ADD_FAILURE() << "flow " << f.dump() << ": ipctop has " << bytes << " bytes, " << messages << " messages";
  }
  return bad;
}

// Sum of one `lost` field (or "events") over the snapshots.
inline uint64_t lost_sum(const std::vector<json>& snaps, const std::string& point) {
  uint64_t n = 0;
  for (const auto& s : snaps) n += s.at("lost").value(point, uint64_t{0});
  return n;
}

inline uint64_t unattributed_bytes(const std::vector<json>& snaps) {
  uint64_t n = 0;
  for (const auto& s : snaps) n += s.at("unattributed").at("bytes").get<uint64_t>();
  return n;
}

}  // namespace e2e
