#include "cli/Options.h"

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

}  // namespace

std::variant<Options, UsageError> parse(const std::vector<std::string>& args) {
  Options o;
  Command asked = Command::run;
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
  return o;
}

std::string help_text() {
  return R"(Usage: ipctop [OPTIONS]
       ipctop --json [OPTIONS]
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
  -h, --help               show this help
  -V, --version            show the version

Commands:
  limits                   IPC limits, their usage and the IPC objects (no root needed)
      --json               as JSON
      --raw                exact numbers instead of KiB/MiB/GiB

Exit status: 0 success, 1 cannot trace (kernel features; privileges for
--features), 2 usage error (also: the live view without a terminal), 3 events
were lost and --fail-on-loss was given.
See ipctop(8).
)";
}

}  // namespace ipctop::cli
