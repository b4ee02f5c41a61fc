#include "model/Sched.h"

#include <algorithm>
#include <set>
#include <string_view>

namespace ipctop {

namespace {

constexpr size_t kLastBucket = IPCTOP_LAT_BUCKETS - 1;

uint64_t ns_to_us(uint64_t ns) { return (ns + 500) / 1000; }

std::string_view basename(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// Programs that name their processes' roles in their process title
// (setproctitle): the first rule whose prefix starts the title and whose
// marker it contains gives the role.
struct TitleRule {
  std::string_view prefix;
  std::string_view marker;  // "" matches any title with the prefix
  std::string_view role;
};
constexpr TitleRule kTitleRules[] = {
    {"postgres: ", "checkpointer", "checkpointer"},
    {"postgres: ", "background writer", "background writer"},
    {"postgres: ", "walwriter", "walwriter"},
    {"postgres: ", "autovacuum launcher", "autovacuum launcher"},
    {"postgres: ", "autovacuum worker", "autovacuum worker"},
    {"postgres: ", "logical replication", "logical replication"},
    {"postgres: ", "stats collector", "stats collector"},
    {"postgres: ", "archiver", "archiver"},
    {"postgres: ", "walsender", "walsender"},
    {"postgres: ", "walreceiver", "walreceiver"},
    {"postgres: ", "", "backend"},
    {"nginx: ", "master process", "master"},
    {"nginx: ", "worker process", "worker"},
    {"nginx: ", "cache manager", "cache manager"},
    {"nginx: ", "cache loader", "cache loader"},
    {"sshd: ", "[listener]", "listener"},
    {"sshd: ", "[priv]", "monitor"},
    {"sshd: ", "[net]", "network"},
    {"sshd: ", "@", "session"},
    {"sshd-session: ", "", "session"},
};

// Programs recognized by their executable's name (argv[0]) and an argument.
struct ProgramRule {
  std::string_view program;
  std::string_view argument;  // "" matches any command line
  std::string_view role;
};
constexpr ProgramRule kProgramRules[] = {
    {"postgres", "", "postmaster"},
    {"postmaster", "", "postmaster"},
    {"sshd", "", "listener"},
    {"sshd-session", "", "session"},
    {"systemd", "--user", "user-manager"},
};

// Role arguments: Chromium and Electron children carry --type=ROLE,
// Firefox children -contentproc with their kind as the last argument.
constexpr std::string_view kChromiumType = "--type=";
constexpr std::string_view kFirefoxChild = "-contentproc";

bool has_role_argument(const std::vector<std::string>& cmdline) {
  return std::any_of(cmdline.begin(), cmdline.end(), [](const std::string& a) {
    return a.starts_with(kChromiumType) || a == kFirefoxChild;
  });
}

}  // namespace

void LatAcc::add(const LatAcc& o) {
  count += o.count;
  max_ns = std::max(max_ns, o.max_ns);
  for (size_t i = 0; i < hist.size(); ++i) hist[i] += o.hist[i];
}

LatAcc lat_delta(const LatCounters& now, const LatCounters& before, uint64_t epoch) {
  LatAcc d;
  // A count below its previous value is a kernel entry deleted and
  // re-created: the new value is the delta.
  const bool reset = now.count < before.count;
  d.count = reset ? now.count : now.count - before.count;
  for (size_t i = 0; i < d.hist.size(); ++i)
    d.hist[i] = reset ? now.hist[i] : static_cast<uint32_t>(now.hist[i] - before.hist[i]);
  if (d.count && now.max_epoch >= epoch) d.max_ns = now.max_ns;
  return d;
}

uint64_t lat_bucket_bound_us(size_t i) { return uint64_t{1} << std::min(i, kLastBucket); }

LatencyRow latency_row(const LatAcc& acc) {
  LatencyRow row;
  uint64_t in_hist = 0;
  for (uint64_t n : acc.hist) in_hist += n;
  row.count = in_hist;
  row.max_us = ns_to_us(acc.max_ns);
  if (!in_hist) return row;
  // The max is lost only if its slot was rewritten in the microseconds
  // between the epoch change and the read: then the highest bucket's lower
  // bound is the best known value.
  size_t top = 0;
  for (size_t i = 0; i < acc.hist.size(); ++i)
    if (acc.hist[i]) top = i;
  if (top > 0) row.max_us = std::max(row.max_us, lat_bucket_bound_us(top - 1));
  auto rank = [&](uint64_t permille) {
    uint64_t need = (in_hist * permille + 999) / 1000;
    uint64_t seen = 0;
    for (size_t i = 0; i < acc.hist.size(); ++i) {
      seen += acc.hist[i];
      if (seen >= need)
        return i == kLastBucket ? row.max_us : std::min(lat_bucket_bound_us(i), row.max_us);
    }
    return row.max_us;
  };
  row.p50_us = rank(500);
  row.p99_us = rank(990);
  for (size_t i = 0; i < acc.hist.size(); ++i) {
    if (!acc.hist[i]) continue;
    uint64_t bound =
        i == kLastBucket ? std::max(row.max_us, lat_bucket_bound_us(i)) : lat_bucket_bound_us(i);
    row.hist[bound] += acc.hist[i];
  }
  return row;
}

std::vector<MatrixCell> cross_cpu_matrix(const std::vector<FlowSample>& deltas) {
  std::map<std::pair<uint32_t, uint32_t>, MatrixCell> cells;
  for (const auto& f : deltas) {
    if (!f.bytes && !f.messages) continue;
    MatrixCell& c = cells[{f.key.src_cpu, f.key.dst_cpu}];
    c.src_cpu = f.key.src_cpu;
    c.dst_cpu = f.key.dst_cpu;
    c.bytes += f.bytes;
    c.messages += f.messages;
  }
  std::vector<MatrixCell> out;
  for (auto& [k, c] : cells) out.push_back(c);
  return out;
}

std::string process_role(const std::vector<std::string>& cmdline, uint32_t pid) {
  if (cmdline.empty()) return pid == 1 ? "init" : "";
  bool firefox_child = false;
  for (const auto& arg : cmdline) {
    if (arg.starts_with(kChromiumType)) return arg.substr(kChromiumType.size());
    firefox_child |= arg == kFirefoxChild;
  }
  if (firefox_child) {
    const std::string& kind = cmdline.back();
    bool word = !kind.empty() && std::all_of(kind.begin(), kind.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || c == '-' || c == '_';
    });
    return word ? kind : "content";
  }
  std::string title;
  for (const auto& arg : cmdline) title += (title.empty() ? "" : " ") + arg;
  for (const auto& r : kTitleRules)
    if (title.starts_with(r.prefix) && title.find(r.marker) != std::string::npos)
      return std::string(r.role);
  const std::string_view program = basename(cmdline.front());
  for (const auto& r : kProgramRules) {
    if (program != r.program) continue;
    if (r.argument.empty() ||
        std::find(cmdline.begin() + 1, cmdline.end(), r.argument) != cmdline.end())
      return std::string(r.role);
  }
  if (pid == 1) return program == "systemd" ? "manager" : "init";
  return "";
}

std::vector<AppRow> group_apps(const std::vector<uint32_t>& active,
                               const std::function<std::optional<AppProcess>(uint32_t)>& lookup,
                               const std::vector<FlowRow>& flows) {
  std::map<uint32_t, std::optional<AppProcess>> known;
  auto get = [&](uint32_t pid) -> const std::optional<AppProcess>& {
    auto it = known.find(pid);
    if (it == known.end()) it = known.emplace(pid, pid ? lookup(pid) : std::nullopt).first;
    return it->second;
  };
  auto joins = [](const AppProcess& child, const AppProcess& parent) {
    if (!child.exe.empty() && child.exe == parent.exe) return true;
    return has_role_argument(child.cmdline) && child.session && child.session == parent.session;
  };
  // The root of a process's application: the highest ancestor reached
  // through parents it joins (bounded: a corrupt tree cannot loop).
  std::map<uint32_t, uint32_t> roots;
  auto root_of = [&](uint32_t pid) -> uint32_t {
    if (auto it = roots.find(pid); it != roots.end()) return it->second;
    uint32_t cur = pid;
    for (int depth = 0; depth < 64; ++depth) {
      const auto& p = get(cur);
      if (!p || p->ppid == 0 || p->ppid == cur) break;
      const auto& parent = get(p->ppid);
      if (!parent || !joins(*p, *parent)) break;
      cur = p->ppid;
    }
    roots[pid] = cur;
    return cur;
  };

  std::map<uint32_t, std::set<uint32_t>> groups;  // root -> members
  for (uint32_t pid : active) {
    uint32_t root = root_of(pid);
    groups[root].insert(pid);
    groups[root].insert(root);
  }
  std::map<uint32_t, AppRow> apps;
  for (const auto& [root, members] : groups) {
    if (members.size() < 2) continue;
    AppRow& app = apps[root];
    app.root_pid = root;
    const auto& r = get(root);
    app.name = r ? std::string(basename(!r->exe.empty() ? r->exe : r->comm)) : "";
    bool chromium = false, firefox = false;
    for (uint32_t pid : members) {
      const auto& p = get(pid);
      AppMember m{pid, p ? process_role(p->cmdline, pid) : ""};
      if (p)
        for (const auto& arg : p->cmdline) {
          chromium |= arg.starts_with(kChromiumType);
          firefox |= arg == kFirefoxChild;
        }
      app.members.push_back(std::move(m));
    }
    // The root of a Chromium or Firefox tree is the one without a role
    // argument: the browser (Firefox calls it the parent process).
    for (auto& m : app.members)
      if (m.pid == root && m.role.empty() && (chromium || firefox))
        m.role = chromium ? "browser" : "parent";
  }
  for (const auto& f : flows) {
    auto app_of = [&](uint32_t pid) -> AppRow* {
      if (pid == 0) return nullptr;
      auto it = apps.find(root_of(pid));
      return it == apps.end() ? nullptr : &it->second;
    };
    AppRow* src = app_of(f.src.pid);
    AppRow* dst = app_of(f.dst.pid);
    if (src && src == dst) {
      src->internal_bytes += f.bytes;
      continue;
    }
    if (src) src->external_bytes += f.bytes;
    if (dst) dst->external_bytes += f.bytes;
  }
  std::vector<AppRow> out;
  for (auto& [root, app] : apps) out.push_back(std::move(app));
  return out;
}

}  // namespace ipctop
