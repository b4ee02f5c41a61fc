// The outputs beside the JSON, on the live kernel with real traffic: the
// Prometheus endpoint scraped with curl and read by the reference parser,
// recordings replayed byte for byte (also by an unprivileged user), and the
// Graphviz graph of a run.
#include <grp.h>
#include <sys/stat.h>

#include "harness.h"

namespace e2e {
namespace {

std::string tools_dir() { return std::string(IPCTOP_SOURCE_DIR) + "/tests/tools"; }

struct Ran {
  Exit exit;
  std::string out, err;
};

// Runs a command to completion (bounded) and returns its output.
template <typename F>
Ran run(const std::vector<std::string>& argv, F before_exec,
        std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  TempDir dir;
  pid_t pid = spawn(argv, dir.file("out"), dir.file("err"), before_exec);
  Ran r;
  r.exit = wait_bounded(pid, timeout);
  r.out = read_file(dir.file("out"));
  r.err = read_file(dir.file("err"));
  return r;
}

Ran run(const std::vector<std::string>& argv) {
  return run(argv, [] { return true; });
}

// Waits for a line of ipctop's stderr.
std::string wait_for(Tracer& t, const std::string& prefix) {
  auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline) {
    std::string err = t.err();
    if (auto pos = err.find(prefix); pos != std::string::npos) {
      auto end = err.find('\n', pos);
      if (end != std::string::npos)
        return err.substr(pos + prefix.size(), end - pos - prefix.size());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return {};
}

// The reference parser's reading of a scrape (tests/tools/prom_parse.py).
json parse_metrics(const std::string& text) {
  TempDir dir;
  std::ofstream(dir.file("m.txt")) << text;
  Ran r = run({"/bin/sh", "-c",
               "exec /usr/bin/python3 " + tools_dir() + "/prom_parse.py < " + dir.file("m.txt")});
  EXPECT_TRUE(r.exit.exited && r.exit.code == 0)
      << "the parser refused the page: " << r.err << r.out;
  return r.out.empty() ? json::array() : json::parse(r.out);
}

// Sum of a family's samples whose labels include `want`.
double sum_of(const json& families, const std::string& family,
              const std::map<std::string, std::string>& want) {
  double sum = 0;
  for (const auto& f : families) {
    if (f.at("name") != family) continue;
    for (const auto& s : f.at("samples")) {
      bool all = true;
      for (const auto& [k, v] : want) all = all && s.at("labels").value(k, "") == v;
      if (all) sum += s.at("value").get<double>();
    }
  }
  return sum;
}

std::map<std::pair<uint64_t, uint64_t>, std::pair<uint64_t, uint64_t>> truth_by_process(
    const json& truth) {
  std::map<std::pair<uint64_t, uint64_t>, std::pair<uint64_t, uint64_t>> out;
  for (const auto& f : truth.at("flows")) {
    auto& t = out[{f.at("src_pid").get<uint64_t>(), f.at("dst_pid").get<uint64_t>()}];
    t.first += f.at("bytes").get<uint64_t>();
    t.second += f.at("messages").get<uint64_t>();
  }
  return out;
}

void expect_exact(const json& truth, const std::vector<json>& snaps) {
  auto totals = flow_totals(snaps);
  for (const auto& f : truth.at("flows")) {
    FlowId id{truth.at("kind"), f.at("src_pid"), f.at("src_tid"), f.at("dst_pid"), f.at("dst_tid")};
    auto it = totals.find(id);
    ASSERT_NE(it, totals.end()) << "no flow for " << f.dump();
    EXPECT_EQ(it->second.bytes, f.at("bytes").get<uint64_t>()) << f.dump();
    EXPECT_EQ(it->second.messages, f.at("messages").get<uint64_t>()) << f.dump();
  }
}

std::string curl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/bin/curl", "-sS", "--max-time", "10"};
  argv.insert(argv.end(), args.begin(), args.end());
  Ran r = run(argv);
  EXPECT_TRUE(r.exit.exited && r.exit.code == 0) << r.err;
  return r.out;
}

TEST(Prometheus, ScrapedCountersEqualTheGeneratedTraffic) {
  // Every flow gets a series on a busy shared machine too.
  Tracer tracer({"--no-tui", "--prometheus", "127.0.0.1:0", "--prom-top", "100000", "-d", "0.3"});
  ASSERT_TRUE(tracer.wait_attached()) << tracer.err();
  std::string url = wait_for(tracer, "ipctop: serving Prometheus metrics at ");
  ASSERT_EQ(url.rfind("http://127.0.0.1:", 0), 0u) << tracer.err();
  ASSERT_EQ(url.substr(url.size() - 8), "/metrics");

  json pipe = run_ipcgen({"--kind", "pipe", "--msgs", "2000", "--size", "100"});
  json stream = run_ipcgen({"--kind", "unix_stream", "--threads", "3", "--msgs", "1000", "--size",
                            "333", "--linger-ms", "200"});
  // Each round trip blocks both sides: at least 2 x 90% x 1000 voluntary switches.
  json pingpong = run_ipcgen(
      {"--kind", "pingpong", "--msgs", "1000", "--writer-cpu", "0", "--reader-cpu", "1"});
  std::this_thread::sleep_for(std::chrono::milliseconds(900));  // three intervals
  json first = parse_metrics(curl({url}));
  for (const json* truth : {&pipe, &stream}) {
    for (const auto& [pids, counts] : truth_by_process(*truth)) {
      std::map<std::string, std::string> labels = {{"kind", truth->at("kind")},
                                                   {"src_pid", std::to_string(pids.first)},
                                                   {"dst_pid", std::to_string(pids.second)}};
      EXPECT_EQ(sum_of(first, "ipctop_flow_bytes", labels), static_cast<double>(counts.first))
          << truth->dump();
      EXPECT_EQ(sum_of(first, "ipctop_flow_messages", labels), static_cast<double>(counts.second))
          << truth->dump();
    }
  }
  EXPECT_GE(sum_of(first, "ipctop_kind_bytes", {{"kind", "pipe"}}), 200000.0);
  EXPECT_EQ(sum_of(first, "ipctop_probes_attached", {}), sum_of(first, "ipctop_probes", {}));
  EXPECT_EQ(sum_of(first, "ipctop_up", {}), 1);
  EXPECT_GE(sum_of(first, "ipctop_snapshots", {}), 3);
  EXPECT_GE(sum_of(first, "ipctop_cpu_context_switches", {{"type", "voluntary"}}), 1800)
      << pingpong.dump();

  // Later scrapes: the same exact values (the flows ended), counters never lower.
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  json second = parse_metrics(curl({url}));
  const auto pipe_truth = truth_by_process(pipe);
  auto p = pipe_truth.begin();
  std::map<std::string, std::string> labels = {{"kind", "pipe"},
                                               {"src_pid", std::to_string(p->first.first)},
                                               {"dst_pid", std::to_string(p->first.second)}};
  EXPECT_EQ(sum_of(second, "ipctop_flow_bytes", labels), static_cast<double>(p->second.first));
  for (const char* family :
       {"ipctop_kind_bytes", "ipctop_cpu_context_switches", "ipctop_snapshots"})
    EXPECT_GE(sum_of(second, family, {}), sum_of(first, family, {})) << family;

  // HEAD, other paths, the content type.
  std::string head = curl({"-I", url});
  EXPECT_EQ(head.rfind("HTTP/1.1 200 OK", 0), 0u) << head;
  EXPECT_NE(head.find("Content-Type: text/plain; version=0.0.4; charset=utf-8"), std::string::npos);
  std::string base = url.substr(0, url.size() - 8);
  EXPECT_EQ(curl({"-o", "/dev/null", "-w", "%{http_code}", base + "/nope"}), "404");
  EXPECT_EQ(curl({"-o", "/dev/null", "-w", "%{http_code}", "-X", "DELETE", url}), "405");

  Exit e = tracer.stop();
  EXPECT_TRUE(e.exited && e.code == 0) << tracer.err();
  EXPECT_EQ(tracer.output(), "") << "--no-tui prints no JSON";
}

TEST(Prometheus, PortInUseIsAClearError) {
  Tracer first({"--no-tui", "--prometheus", "127.0.0.1:0"});
  ASSERT_TRUE(first.wait_attached()) << first.err();
  std::string url = wait_for(first, "ipctop: serving Prometheus metrics at ");
  std::string port = url.substr(17, url.find('/', 17) - 17);
  Ran second = run({IPCTOP_BIN, "--no-tui", "--prometheus", port});
  EXPECT_TRUE(second.exit.exited && second.exit.code == 1);
  EXPECT_NE(second.err.find("--prometheus: cannot listen on 127.0.0.1:" + port +
                            ": Address already in use"),
            std::string::npos)
      << second.err;
}

void as_nobody_reading(const std::string& file) {
  int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || dup2(fd, 0) < 0) _exit(124);
  if (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0) _exit(123);
}

TEST(Record, ReplayIsByteIdenticalWithoutPrivileges) {
  TempDir dir;
  const std::string file = dir.file("run.ndjson");
  json truth;
  Tracer tracer({"--json", "-d", "0.4", "--record", file});
  ASSERT_TRUE(tracer.wait_attached()) << tracer.err();
  truth =
      run_ipcgen({"--kind", "unix_dgram", "--msgs", "1500", "--size", "200", "--linger-ms", "300"});
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  Exit e = tracer.stop();
  ASSERT_TRUE(e.exited && e.code == 0) << tracer.err();
  const std::string recorded = read_file(file);
  ASSERT_FALSE(recorded.empty());
  EXPECT_EQ(recorded, tracer.output()) << "the recording is what --json printed";
  struct stat st {};
  ASSERT_EQ(stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);

  // Replayed by nobody (no capability, no BPF), from standard input.
  Ran replay = run({IPCTOP_BIN, "--replay", "-", "--json"}, [&] {
    as_nobody_reading(file);
    return true;
  });
  ASSERT_TRUE(replay.exit.exited && replay.exit.code == 0) << replay.err;
  EXPECT_EQ(replay.out, recorded);
  expect_exact(truth, parse_ndjson(replay.out));
  // -n stops early.
  Ran two = run({IPCTOP_BIN, "--replay", file, "--json", "-n", "2"});
  EXPECT_EQ(parse_ndjson(two.out).size(), std::min<size_t>(2, parse_ndjson(recorded).size()));
}

TEST(Record, GzipHeadlessRecordingReplays) {
  TempDir dir;
  const std::string file = dir.file("run.ndjson.gz");
  Tracer tracer({"--no-tui", "-d", "0.4", "--record", file});
  ASSERT_TRUE(tracer.wait_attached()) << tracer.err();
  json truth =
      run_ipcgen({"--kind", "fifo", "--msgs", "1000", "--size", "300", "--linger-ms", "300"});
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  Exit e = tracer.stop();
  ASSERT_TRUE(e.exited && e.code == 0) << tracer.err();
  const std::string raw = read_file(file);
  ASSERT_GE(raw.size(), 2u);
  EXPECT_EQ(static_cast<unsigned char>(raw[0]), 0x1f);
  EXPECT_EQ(static_cast<unsigned char>(raw[1]), 0x8b);
  Ran replay = run({IPCTOP_BIN, "--replay", file, "--json"});
  ASSERT_TRUE(replay.exit.exited && replay.exit.code == 0) << replay.err;
  expect_exact(truth, parse_ndjson(replay.out));
  // The same bytes as gunzip gives.
  Ran gunzip = run({"/bin/sh", "-c", "exec gzip -dc " + file});
  EXPECT_EQ(replay.out, gunzip.out);
}

TEST(Record, ExistingFilesAndSymlinksAreRefused) {
  TempDir dir;
  std::ofstream(dir.file("kept")) << "precious";
  std::ofstream(dir.file("target")) << "precious";
  ASSERT_EQ(symlink(dir.file("target").c_str(), dir.file("link").c_str()), 0);
  for (const char* opt : {"--record", "--dot"}) {
    SCOPED_TRACE(opt);
    Ran r = run({IPCTOP_BIN, "--json", "-n", "1", "-d", "0.1", opt, dir.file("kept")});
    EXPECT_TRUE(r.exit.exited && r.exit.code == 1);
    EXPECT_NE(r.err.find(std::string(opt) + ": cannot create '" + dir.file("kept") +
                         "': File exists; choose another name or pass --force"),
              std::string::npos)
        << r.err;
    EXPECT_EQ(r.out, "") << "nothing traced";
    r = run({IPCTOP_BIN, "--json", "-n", "1", "-d", "0.1", "--force", opt, dir.file("link")});
    EXPECT_TRUE(r.exit.exited && r.exit.code == 1);
    EXPECT_NE(r.err.find("symbolic link"), std::string::npos) << r.err;
  }
  EXPECT_EQ(read_file(dir.file("kept")), "precious");
  EXPECT_EQ(read_file(dir.file("target")), "precious");
  Ran r =
      run({IPCTOP_BIN, "--json", "-n", "1", "-d", "0.1", "--force", "--record", dir.file("kept")});
  EXPECT_TRUE(r.exit.exited && r.exit.code == 0) << r.err;
  EXPECT_EQ(read_file(dir.file("kept")), r.out);
}

TEST(Dot, GraphOfARunHasTheGeneratedEdgeAndRenders) {
  TempDir dir;
  const std::string file = dir.file("run.dot");
  Tracer tracer({"--json", "-d", "0.4", "--dot", file});
  ASSERT_TRUE(tracer.wait_attached()) << tracer.err();
  json truth = run_ipcgen({"--kind", "unix_stream", "--threads", "2", "--msgs", "700", "--size",
                           "111", "--linger-ms", "200"});
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  Exit e = tracer.stop();
  ASSERT_TRUE(e.exited && e.code == 0) << tracer.err();
  const std::string dot = read_file(file);
  auto [pids, counts] = *truth_by_process(truth).begin();
  const std::string edge =
      "\"p" + std::to_string(pids.first) + "\" -> \"p" + std::to_string(pids.second) + "\"";
  const std::string figures =
      "ipctop_kind=\"unix_stream\", ipctop_bytes=" + std::to_string(counts.first) +
      ", ipctop_messages=" + std::to_string(counts.second) + "]";
  bool found = false;
  std::istringstream lines(dot);
  std::string line;
  while (std::getline(lines, line))
    if (line.find(edge) != std::string::npos && line.find("unix_stream") != std::string::npos) {
      found = true;
      EXPECT_NE(line.find(figures), std::string::npos) << line << "\nwant " << figures;
    }
  EXPECT_TRUE(found) << edge << " not in\n" << dot;
  EXPECT_NE(dot.find("\"p" + std::to_string(pids.first) + "\" [label=\""), std::string::npos);
  struct stat st {};
  ASSERT_EQ(stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  Ran svg = run({"/usr/bin/dot", "-Tsvg", file});
  EXPECT_TRUE(svg.exit.exited && svg.exit.code == 0) << svg.err;
  EXPECT_NE(svg.out.find("<svg"), std::string::npos);
  EXPECT_EQ(svg.err, "") << "no Graphviz warning";

  // The same graph from the replay of a recording, without privileges.
  Ran replayed = run({IPCTOP_BIN, "--replay", "-", "--no-tui", "--dot", "-"}, [&] {
    int fd = open("/dev/null", O_RDONLY);
    return fd >= 0 && dup2(fd, 0) == 0;
  });
  EXPECT_TRUE(replayed.exit.exited && replayed.exit.code == 0) << replayed.err;
  EXPECT_NE(replayed.out.find("0 intervals"), std::string::npos) << replayed.out;
}

}  // namespace
}  // namespace e2e
