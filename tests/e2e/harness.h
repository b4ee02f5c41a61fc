// Runs the real ipctop and the real traffic generator as child processes.
// Everything is bounded in time and ends only the processes it started.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace e2e {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

inline std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A scratch directory removed with everything in it.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/ipctop-e2e-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct Exit {
  bool exited = false;
  int code = -1;
};

// How much slower than this machine the tests run: IPCTOP_TEST_TIME_SCALE
// (1 to 20, default 1), set by tests/kernel-matrix/guest.sh under QEMU's TCG
// emulation. It stretches timeouts only, never what a test expects to count.
inline int time_scale() {
  const char* v = std::getenv("IPCTOP_TEST_TIME_SCALE");
  long scale = v ? std::strtol(v, nullptr, 10) : 1;
  return static_cast<int>(scale < 1 ? 1 : scale > 20 ? 20 : scale);
}

// Space-separated arguments, for test traces.
inline std::string fmt_args(const std::vector<std::string>& args) {
  std::string out;
  for (const auto& a : args) out += (out.empty() ? "" : " ") + a;
  return out;
}

// Wait for `pid` at most `timeout`; on timeout SIGKILL it (it is ours) and
// report it as not exited.
inline Exit wait_bounded(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  int status = 0;
  while (Clock::now() < deadline) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return {WIFEXITED(status), WIFEXITED(status) ? WEXITSTATUS(status) : -1};
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return {};
}

// fork + exec with stdout and stderr to files; `before_exec` runs in the child.
template <typename F>
pid_t spawn(const std::vector<std::string>& argv, const std::string& out, const std::string& err,
            F before_exec) {
  pid_t pid = fork();
  if (pid != 0) return pid;
  int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (o < 0 || e < 0 || devnull < 0) _exit(126);
  dup2(devnull, 0);
  dup2(o, 1);
  dup2(e, 2);
  if (!before_exec()) _exit(125);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  execv(args[0], args.data());
  _exit(127);
}

inline pid_t spawn(const std::vector<std::string>& argv, const std::string& out,
                   const std::string& err) {
  return spawn(argv, out, err, [] { return true; });
}

inline std::vector<json> parse_ndjson(const std::string& text) {
  std::vector<json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

// The real ipctop, writing NDJSON to a file (not a pipe: a pipe would be
// traffic ipctop itself reports).
class Tracer {
 public:
  explicit Tracer(std::vector<std::string> args = {"--json", "-d", "0.5"}) {
    std::vector<std::string> argv{IPCTOP_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    pid_ = spawn(argv, dir_.file("out.ndjson"), dir_.file("err.txt"));
  }
  ~Tracer() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      wait_bounded(pid_, std::chrono::seconds(5));
    }
  }

  // ipctop says on stderr when its probes are attached.
  bool wait_attached(std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
    auto deadline = Clock::now() + timeout;
    while (Clock::now() < deadline) {
      if (err().find("ipctop: tracing") != std::string::npos) return true;
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  // SIGINT, then the final partial interval; returns the exit.
  Exit stop(int sig = SIGINT) {
    if (pid_ <= 0) return {};
    kill(pid_, sig);
    Exit e = wait_bounded(pid_, std::chrono::seconds(10));
    pid_ = -1;
    return e;
  }

  std::vector<json> snapshots() const { return parse_ndjson(read_file(dir_.file("out.ndjson"))); }
  std::string err() const { return read_file(dir_.file("err.txt")); }
  std::string output() const { return read_file(dir_.file("out.ndjson")); }  // raw bytes
  pid_t pid() const { return pid_; }

 private:
  TempDir dir_;
  pid_t pid_ = -1;
};

// Runs ipcgen to completion and returns its ground-truth line.
inline json run_ipcgen(const std::vector<std::string>& args) {
  TempDir dir;
  std::vector<std::string> argv{IPCGEN_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  pid_t pid = spawn(argv, dir.file("out"), dir.file("err"));
  Exit e = wait_bounded(pid, std::chrono::seconds(60 * time_scale()));
  EXPECT_TRUE(e.exited && e.code == 0) << "ipcgen failed: " << read_file(dir.file("err"));
  auto lines = parse_ndjson(read_file(dir.file("out")));
  return lines.empty() ? json::object() : lines.front();
}

struct FlowTotal {
  uint64_t bytes = 0;
  uint64_t messages = 0;
  std::map<std::string, uint64_t> cpus, rx_cpus;
  std::string channel;
};

using FlowId = std::tuple<std::string, uint64_t, uint64_t, uint64_t,
                          uint64_t>;  // kind, src pid/tid, dst pid/tid

// Sums every flow over all snapshots: values are deltas, so the sum is the run.
inline std::map<FlowId, FlowTotal> flow_totals(const std::vector<json>& snaps) {
  std::map<FlowId, FlowTotal> out;
  for (const auto& s : snaps)
    for (const auto& f : s.at("flows")) {
      // A remote end (another test's traffic) has an address, no pid.
      if (!f.at("src").contains("pid") || !f.at("dst").contains("pid")) continue;
      FlowId id{f.at("kind"), f.at("src").at("pid"), f.at("src").at("tid"), f.at("dst").at("pid"),
                f.at("dst").at("tid")};
      FlowTotal& t = out[id];
      t.bytes += f.at("bytes").get<uint64_t>();
      t.messages += f.at("messages").get<uint64_t>();
      t.channel = f.at("channel");
      for (const auto& [cpu, b] : f.at("cpus").items()) t.cpus[cpu] += b.get<uint64_t>();
      for (const auto& [cpu, b] : f.at("rx_cpus").items()) t.rx_cpus[cpu] += b.get<uint64_t>();
    }
  return out;
}

// The drop points that lost something, for a failure message.
inline std::string lost_points(const std::vector<json>& snaps) {
  std::string out;
  for (const auto& s : snaps)
    for (const auto& [point, n] : s.at("lost").items())
      if (n.is_number() && n.get<uint64_t>() && point != "events") out += point + "=" + n.dump() + " ";
  return out;
}

inline uint64_t total_lost(const std::vector<json>& snaps) {
  uint64_t n = 0;
  for (const auto& s : snaps) n += s.at("lost").at("events").get<uint64_t>();
  return n;
}

}  // namespace e2e
