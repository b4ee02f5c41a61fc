#include "cli/Options.h"

#include <arpa/inet.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <functional>

#include <fmt/format.h>

namespace ipctop::cli {

namespace {

constexpr double kMinInterval = 0.01;
constexpr double kMaxInterval = 86400;
constexpr uint32_t kPidMax = 4194304;  // PID_MAX_LIMIT on 64-bit

template <typename T>
std::optional<T> parse_uint(const std::string& s, T lo, T hi) {
  T v{};
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || v < lo || v > hi)
    return std::nullopt;
  return v;
}

std::optional<double> parse_seconds(const std::string& s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s.c_str(), &end);
  if (errno || end != s.c_str() + s.size() || !std::isfinite(v) || v < kMinInterval ||
      v > kMaxInterval)
    return std::nullopt;
  return v;
}

std::optional<std::set<uint32_t>> parse_pids(const std::string& s) {
  std::set<uint32_t> pids;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t comma = s.find(',', pos);
    std::string item = s.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    auto pid = parse_uint<uint32_t>(item, 1, kPidMax);
    if (!pid) return std::nullopt;
    pids.insert(*pid);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return pids;
}

// A power of two, as the ring buffer requires, of at least one page.
std::optional<uint32_t> parse_ring_size(const std::string& s) {
  auto v = parse_uint<uint32_t>(s, 4096, 1u << 30);
  if (!v || (*v & (*v - 1))) return std::nullopt;
  return v;
}

std::optional<std::string> a_file(const char* flag, const std::string& v) {
  if (v.empty()) return fmt::format("option {} needs a file name", flag);
  return std::nullopt;
}

}  // namespace

std::optional<ListenAddress> parse_listen_address(const std::string& spec) {
  ListenAddress out;
  std::string port = spec;
  if (!spec.empty() && spec[0] == '[') {
    size_t close = spec.find("]:");
    if (close == std::string::npos) return std::nullopt;
    out.host = spec.substr(1, close - 1);
    port = spec.substr(close + 2);
    in6_addr a6{};
    if (inet_pton(AF_INET6, out.host.c_str(), &a6) != 1) return std::nullopt;
  } else if (auto colon = spec.rfind(':'); colon != std::string::npos) {
    if (colon > 0) out.host = spec.substr(0, colon);
    port = spec.substr(colon + 1);
    in_addr a4{};
    if (inet_pton(AF_INET, out.host.c_str(), &a4) != 1) return std::nullopt;
  }
  auto p = parse_uint<uint16_t>(port, 0, 65535);
  if (!p) return std::nullopt;
  out.port = *p;
  return out;
}

namespace {

struct Flag {
  const char* long_name;
  char short_name;  // 0: none
  const char* arg;  // nullptr: takes no argument
  std::function<std::optional<std::string>(Options&, const std::string&)> apply;
};

// An argument echoed in an error: control bytes and bytes outside ASCII as
// \xNN (argv can hold escape sequences too), and at most 64 bytes of it.
std::string printable(const std::string& arg) {
  std::string out;
  for (size_t i = 0; i < arg.size(); ++i) {
    if (i == 64) return out + "...";
    auto c = static_cast<unsigned char>(arg[i]);
    out += c < 0x20 || c >= 0x7f ? fmt::format("\\x{:02x}", c) : std::string(1, arg[i]);
  }
  return out;
}

std::optional<std::string> bad(const char* flag, const std::string& v, const char* want) {
  return fmt::format("invalid value '{}' for {}: expected {}", printable(v), flag, want);
}

const std::vector<Flag>& flags() {
  static const std::vector<Flag> table = {
      {"--json", 0, nullptr,
       [](Options& o, const std::string&) {
         o.json = true;
         return std::optional<std::string>{};
       }},
      {"--interval", 'd', "SECONDS",
       [](Options& o, const std::string& v) -> std::optional<std::string> {
         auto s = parse_seconds(v);
         if (!s) return bad("--interval", v, "seconds between 0.01 and 86400, e.g. 0.5");
         o.interval_s = *s;
         return {};
       }},
      {"--count", 'n', "N",
       [](Options& o, const std::string& v) -> std::optional<std::string> {
         auto n = parse_uint<uint64_t>(v, 1, UINT64_MAX);
         if (!n) return bad("--count", v, "a whole number of snapshots >= 1");
         o.count = n;
         return {};
       }},
      {"--pid", 'p', "PID[,PID...]",
       [](Options& o, const std::string& v) -> std::optional<std::string> {
         auto p = parse_pids(v);
         if (!p) return bad("--pid", v, "comma-separated process ids between 1 and 4194304");
         o.pids.insert(p->begin(), p->end());
         return {};
       }},
      {"--max-flows", 0, "N",
       [](Options& o, const std::string& v) -> std::optional<std::string> {
         auto n = parse_uint<uint32_t>(v, 16, 1u << 24);
         if (!n) return bad("--max-flows", v, "a number between 16 and 16777216");
         o.max_flows = *n;
         return {};
       }},
      {"--max-threads", 0, "N",
       [](Options& o, const std::string& v) -> std::optional<std::string> {
         auto n = parse_uint<uint32_t>(v, 16, 1u << 24);
         if (!n) return bad("--max-threads", v, "a number between 16 and 16777216");
         o.max_threads = *n;
         return {};
       }},
      {"--max-channels", 0, "N",
       [](Options& o, const std::string& v) -> std::optional<std::string> {
         auto n = parse_uint<uint32_t>(v, 16, 1u << 22);
         if (!n) return bad("--max-channels", v, "a number between 16 and 4194304");
         o.max_channels = *n;
         return {};
       }},
      {"--ringbuf-size", 0, "BYTES",
       [](Options& o, const std::string& v) -> std::optional<std::string> {
         auto n = parse_ring_size(v);
         if (!n) return bad("--ringbuf-size", v, "a power of two between 4096 and 1073741824");
         o.ringbuf_bytes = *n;
         return {};
       }},
      {"--fail-on-loss", 0, nullptr,
       [](Options& o, const std::string&) {
         o.fail_on_loss = true;
         return std::optional<std::string>{};
       }},
      {"--files", 0, nullptr,
       [](Options& o, const std::string&) {
         o.files = true;
         return std::optional<std::string>{};
       }},
      {"--no-bpf", 0, nullptr,
       [](Options& o, const std::string&) {
         o.no_bpf = true;
         return std::optional<std::string>{};
       }},
      {"--raw", 0, nullptr,
       [](Options& o, const std::string&) {
         o.raw = true;
         return std::optional<std::string>{};
       }},
      {"--no-color", 0, nullptr,
       [](Options& o, const std::string&) {
         o.no_color = true;
         return std::optional<std::string>{};
       }},
      {"--prometheus", 0, "[ADDR:]PORT",
       [](Options& o, const std::string& v) -> std::optional<std::string> {
         auto a = parse_listen_address(v);
         if (!a)
           return bad("--prometheus", v,
                      "PORT, ADDR:PORT or [IPV6]:PORT with a numeric address, e.g. 9464 or "
                      "0.0.0.0:9464");
         o.prometheus = a;
         return {};
       }},
      {"--prom-top", 0, "N",
       [](Options& o, const std::string& v) -> std::optional<std::string> {
         auto n = parse_uint<uint32_t>(v, 1, 100000);
         if (!n) return bad("--prom-top", v, "a number of flow series between 1 and 100000");
         o.prom_top = *n;
         return {};
       }},
      {"--no-tui", 0, nullptr,
       [](Options& o, const std::string&) {
         o.no_tui = true;
         return std::optional<std::string>{};
       }},
      {"--record", 0, "FILE",
       [](Options& o, const std::string& v) -> std::optional<std::string> {
         if (auto err = a_file("--record", v)) return err;
         o.record = v;
         return {};
       }},
      {"--compress", 0, nullptr,
       [](Options& o, const std::string&) {
         o.compress = true;
         return std::optional<std::string>{};
       }},
      {"--force", 0, nullptr,
       [](Options& o, const std::string&) {
         o.force = true;
         return std::optional<std::string>{};
       }},
      {"--replay", 0, "FILE",
       [](Options& o, const std::string& v) -> std::optional<std::string> {
         if (auto err = a_file("--replay", v)) return err;
         o.replay = v;
         return {};
       }},
      {"--dot", 0, "FILE",
       [](Options& o, const std::string& v) -> std::optional<std::string> {
         if (auto err = a_file("--dot", v)) return err;
         o.dot = v;
         return {};
       }},
      {"--features", 0, nullptr,
       [](Options& o, const std::string&) {
         o.command = Command::features;
         return std::optional<std::string>{};
       }},
      {"--help", 'h', nullptr,
       [](Options& o, const std::string&) {
         o.command = Command::help;
         return std::optional<std::string>{};
       }},
      {"--version", 'V', nullptr,
       [](Options& o, const std::string&) {
         o.command = Command::version;
         return std::optional<std::string>{};
       }},
  };
  return table;
}

const Flag* find_flag(const std::string& name) {
  for (const auto& f : flags()) {
    if (name == f.long_name) return &f;
    if (f.short_name && name.size() == 2 && name[0] == '-' && name[1] == f.short_name) return &f;
  }
  return nullptr;
}

// Combinations of the output options that cannot mean anything.
std::optional<std::string> check_outputs(const Options& o, const std::set<std::string>& seen) {
  struct Needs {
    const char* flag;
    std::vector<const char*> any_of;
  };
  static const Needs kNeeds[] = {
      {"--prom-top", {"--prometheus"}},
      {"--compress", {"--record"}},
      {"--force", {"--record", "--dot"}},
      // Headless and silent would trace for nothing.
      {"--no-tui", {"--json", "--prometheus", "--record", "--dot"}},
  };
  for (const auto& n : kNeeds) {
    if (!seen.contains(n.flag)) continue;
    bool ok = false;
    for (const char* other : n.any_of) ok = ok || seen.contains(other);
    if (!ok) {
      std::string want = n.any_of.front();
      for (size_t i = 1; i < n.any_of.size(); ++i)
        want += (i + 1 == n.any_of.size() ? " or " : ", ") + std::string(n.any_of[i]);
      return fmt::format("{} goes with {}", n.flag, want);
    }
  }
  // A recording is replayed as it was: no new filter, interval or kernel table.
  static const char* const kNotWithReplay[] = {
      "--pid",          "--interval",   "--prometheus",   "--prom-top",     "--max-flows",
      "--max-threads",  "--max-channels", "--ringbuf-size", "--fail-on-loss",
  };
  if (o.replay)
    for (const char* flag : kNotWithReplay)
      if (seen.contains(flag)) return fmt::format("{} does not go with --replay", flag);
  if (o.dot && *o.dot == "-" && o.json)
    return std::string("--dot - would mix the graph into the JSON on standard output: give "
                       "--dot a file name");
  if (o.dot && o.record && *o.dot == *o.record)
    return std::string("--dot and --record name the same file");
  return std::nullopt;
}

}  // namespace

std::variant<Options, UsageError> parse(const std::vector<std::string>& args) {
  Options o;
  Command asked = Command::run;
  std::set<std::string> seen;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string name = args[i];
    std::optional<std::string> value;
    if (i == 0 && name == "limits") {
      o.command = Command::limits;
      continue;
    }
    if (name.rfind("--", 0) == 0) {
      if (auto eq = name.find('='); eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
      }
    } else if (name.size() > 2 && name[0] == '-' && name[1] != '-') {
      value = name.substr(2);  // -d0.5
      name = name.substr(0, 2);
    }
    const Flag* flag = find_flag(name);
    if (!flag) {
      if (name.empty() || name[0] != '-')
        return UsageError{fmt::format("unexpected argument '{}'", printable(args[i]))};
      return UsageError{fmt::format("unknown option '{}'", printable(name))};
    }
    if (flag->arg && !value) {
      if (i + 1 >= args.size())
        return UsageError{fmt::format("option {} needs a value ({})", flag->long_name, flag->arg)};
      value = args[++i];
    } else if (!flag->arg && value) {
      return UsageError{fmt::format("option {} takes no value", flag->long_name)};
    }
    seen.insert(flag->long_name);
    Command before = o.command;
    if (auto err = flag->apply(o, value.value_or(""))) return UsageError{*err};
    if (o.command == Command::help || o.command == Command::version) {
      asked = asked == Command::help ? asked : o.command;
      o.command = before;
    }
    if (before == Command::limits && o.command == Command::features)
      return UsageError{"--features does not go with 'limits'"};
  }
  if (asked != Command::run) o.command = asked;  // --help wins, then --version
  if (o.command == Command::run)
    if (auto err = check_outputs(o, seen)) return UsageError{*err};
  return o;
}

std::string help_text() {
  return R"(Usage: ipctop [OPTIONS]
       ipctop --json [OPTIONS]
       ipctop --replay FILE [--json | --no-tui] [-n N] [--record FILE] [--dot FILE]
       ipctop limits [--json] [--raw]

Show which processes and threads talk to which over pipes, FIFOs, unix
sockets, TCP and UDP, message queues, shared memory and signals, how many
bytes and messages, on which CPU, and what it costs them in context switches.
Needs root, or CAP_BPF and CAP_PERFMON; without them it shows the channel
endpoints and context switches it can read from /proc.
Without --json, a full-screen live view (press h in it for the keys).

Options:
      --json               print one JSON object per interval (NDJSON, schema ipctop/1)
  -d, --interval SECONDS   interval between snapshots (default 1; fractions allowed)
  -n, --count N            exit after N snapshots
  -p, --pid PID[,PID...]   only processes in this list, and flows touching them
      --raw                exact numbers instead of KiB/MiB/GiB and k/M (live view, limits)
      --no-color           live view without colors (also when NO_COLOR is set)
      --features           show what this kernel offers and which probe variant runs
                           (with --json: as one JSON object)
      --max-flows N        kernel flow table size (default 65536)
      --max-threads N      kernel thread table size (default 32768)
      --max-channels N     kernel attribution queue table size (default 16384)
      --ringbuf-size BYTES lifecycle ring buffer size, a power of two (default 262144)
      --fail-on-loss       exit with status 3 if any event was lost
      --files              also follow regular files written by one process and read
                           by another (every file read and write is looked at: costs more)
      --no-bpf             without eBPF or root: who holds which pipe, FIFO, socket
                           and queue, and context switches, from /proc and
                           sock_diag (no traffic); automatic when BPF is not permitted
      --no-tui             run without the interactive view (with --prometheus,
                           --record or --dot; --json implies it)
      --prometheus [ADDR:]PORT  serve Prometheus metrics at /metrics (address
                           127.0.0.1 unless given; [::1]:PORT for IPv6; port 0
                           picks a free port)
      --prom-top N         flow series exported before the 'other' one (default 100)
      --record FILE        also write every snapshot to FILE as NDJSON (gzip when
                           FILE ends in .gz); created mode 0600, never over an
                           existing file or through a symlink
      --compress           gzip the recording whatever its name
      --force              replace an existing --record or --dot file
      --replay FILE        read snapshots from a recording (plain or gzip, '-' for
                           standard input) instead of tracing; no root needed
      --dot FILE           at exit, write the run's process graph as Graphviz DOT
                           ('-' for standard output)
  -h, --help               show this help
  -V, --version            show the version

Commands:
  limits                   IPC limits, their usage and the IPC objects (no root needed)
      --json               as JSON
      --raw                exact numbers instead of KiB/MiB/GiB

Exit status: 0 success, 1 cannot trace (kernel features; privileges for
--features) or an output or recording failed, 2 usage error (also: the live
view without a terminal), 3 events were lost and --fail-on-loss was given.
See ipctop(8).
)";
}

}  // namespace ipctop::cli
