// The "ipctop/1" NDJSON contract: a golden file, exact 64-bit integers,
// sanitized strings, and every documented key.
#include "render/json/Json.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "model/Text.h"

namespace {

using ipctop::ChannelRow;
using ipctop::CpuRow;
using ipctop::FlowRow;
using ipctop::Kind;
using ipctop::ProcessRow;
using ipctop::Snapshot;
using ipctop::ThreadRow;
using nlohmann::json;

constexpr uint64_t kU64Max = 18446744073709551615ull;
constexpr uint64_t kTwoTo53Plus1 = 9007199254740993ull;  // not representable as a double

const std::string kHostileComm = "\x1b[31mevil\xff";                   // ESC sequence, bad UTF-8
const std::string kHostilePath = "/tmp/\x1b]0;pwn\x07\xc2\x9b\xe2\x80\xae.sock";  // OSC, C1, bidi

std::string GoldenPath() { return std::string(IPCTOP_FIXTURES) + "/../golden/json/snapshot.json"; }

Snapshot FixedSnapshot() {
  Snapshot s;
  s.time = 1700000000.25;
  s.interval_s = 0.5;
  s.cpus.push_back(CpuRow{0, 120, 100, 20, 400000000, 4096, 1024, 0, {}});
  s.cpus.push_back(CpuRow{1, kU64Max, kTwoTo53Plus1, 7, 0, 0, 3072, 0, {}});

  ProcessRow writer;
  writer.pid = 100;
  writer.ppid = 1;
  writer.comm = "writer";
  writer.cmdline = {"/usr/bin/writer", "--fast"};
  ThreadRow t100;
  t100.tid = 100;
  t100.comm = "writer";
  t100.ctx_switches = 10;
  t100.voluntary = 8;
  t100.involuntary = 2;
  t100.oncpu_ns = 1500000;
  t100.tx_bytes = 4096;
  t100.tx_messages = 4;
  ThreadRow t101;
  t101.tid = 101;
  t101.comm = kHostileComm;
  t101.ctx_switches = 3;
  t101.voluntary = 3;
  t101.exited = true;
  writer.threads = {t100, t101};
  writer.tx_bytes = 4096;
  s.processes.push_back(writer);

  ProcessRow reader;
  reader.pid = 200;
  reader.ppid = 100;
  reader.comm = kHostileComm;
  reader.cmdline = {"reader", kHostileComm};
  ThreadRow t201;
  t201.tid = 201;
  t201.comm = "reader-io";
  t201.ctx_switches = kU64Max;
  t201.voluntary = kTwoTo53Plus1;
  t201.involuntary = 1;
  t201.rx_bytes = 4096;
  t201.rx_messages = 2;
  reader.threads = {t201};
  reader.rx_bytes = 4096;
  reader.exited = true;
  s.processes.push_back(reader);

  ChannelRow pipe;
  pipe.id = "pipe:[4242]";
  pipe.kind = Kind::pipe;
  pipe.bytes = 4096;
  pipe.messages = 2;
  pipe.endpoints = {{100, 100, "writer"}, {200, 201, "reader"}};
  s.channels.push_back(pipe);
  ChannelRow fifo;
  fifo.id = "fifo:0:27:77";
  fifo.kind = Kind::fifo;
  fifo.path = "/run/app.fifo";
  fifo.bytes = kU64Max;
  fifo.messages = 1;
  fifo.endpoints = {{200, 201, "reader"}};
  s.channels.push_back(fifo);
  ChannelRow dgram;
  dgram.id = "unix:[9]";
  dgram.kind = Kind::unix_dgram;
  dgram.path = kHostilePath;
  dgram.bytes = 300;
  dgram.messages = 3;
  dgram.endpoints = {{100, 101, "sender"}, {200, 201, "receiver"}};
  s.channels.push_back(dgram);

  FlowRow f1;
  f1.kind = Kind::pipe;
  f1.channel = "pipe:[4242]";
  f1.src = {100, 100, "writer"};
  f1.dst = {200, 201, "reader-io"};
  f1.bytes = 4096;
  f1.messages = 2;
  f1.cpus = {{0, 4000}, {10, 96}};
  f1.rx_cpus = {{1, 4096}};
  s.flows.push_back(f1);
  FlowRow f2;
  f2.kind = Kind::fifo;
  f2.channel = "fifo:0:27:77";
  f2.src = {0, 0, "(unknown)"};
  f2.dst = {200, 201, "reader-io"};
  f2.bytes = kU64Max;
  f2.messages = 1;
  f2.cpus = {{2, kU64Max}};
  f2.rx_cpus = {{3, kU64Max}};
  s.flows.push_back(f2);
  FlowRow f3;
  f3.kind = Kind::unix_dgram;
  f3.channel = "unix:[9]";
  f3.src = {100, 101, kHostileComm};
  f3.dst = {200, 201, "reader-io"};
  f3.bytes = 300;
  f3.messages = 3;
  f3.cpus = {{0, 300}};
  f3.rx_cpus = {{1, 300}};
  s.flows.push_back(f3);

  // Scheduler detail.
  ipctop::LatencyRow runq{5, 4, 70, 70, {{4, 3}, {8, 1}, {128, 1}}};
  s.cpus[0].migrations = 3;
  s.cpus[0].migrations_out = 1;
  s.cpus[0].switches_untraced = 2;
  s.cpus[0].runq_latency = runq;
  s.processes[0].oncpu_ns = 1500000;
  s.processes[0].parallelism = 0.003;
  s.processes[0].busy_ns = 1400000;
  s.processes[0].concurrent_ns = 100000;
  s.processes[0].handoffs = 2;
  s.processes[0].cpus_used = {0, 1};
  s.processes[0].migrations = 1;
  s.processes[0].runq_latency = runq;
  s.processes[0].threads[0].cpus_used = {0, 1};
  s.processes[0].threads[0].migrations = 1;
  s.processes[0].threads[0].handoffs = 2;
  s.processes[0].threads[0].runq_latency = runq;
  s.flows[0].wakeup_latency = ipctop::LatencyRow{2, 32, 64, 40, {{32, 1}, {64, 1}}};
  s.matrix = {{0, 1, 4096, 2}, {0, 0, 300, 3}};
  s.wakeups = {{{100, 100, "writer"}, {200, 201, "reader-io"}, 2, 2},
               {{0, 0, "(interrupt)"}, {100, 101, kHostileComm}, 1, 0}};
  s.apps = {{kHostileComm, 100, {{100, "browser"}, {200, "renderer"}}, 4396, 0}};

  s.unattributed_bytes = 512;
  s.unattributed_messages = 1;
  s.lost.by_point = {{"flow_map_full", 1},  {"thread_map_full", 0}, {"queue_map_full", 0},
                     {"queue_overflow", 2}, {"ringbuf_full", 0},    {"mmsg_truncated", 0},
                     {"unsupported_path", 4}, {"records_malformed", 0}};
  s.lost.events = 7;
  return s;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(JsonGolden, SnapshotMatchesTheGoldenFile) {
  const std::string text = ipctop::render::to_json(FixedSnapshot()).dump(2) + "\n";
  const std::string path = GoldenPath();
  const char* update = std::getenv("IPCTOP_UPDATE_GOLDEN");
  if (update && std::string(update) == "1") {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << text;
  }
  ASSERT_TRUE(std::filesystem::exists(path))
      << path << " is missing; run with IPCTOP_UPDATE_GOLDEN=1 to create it";
  const std::string golden = ReadFile(path);
  if (text == golden) return;
  // Point at the first line that differs rather than dumping both documents.
  std::istringstream got(text), want(golden);
  std::string got_line, want_line;
  int line = 0;
  while (true) {
    ++line;
    bool more_got = static_cast<bool>(std::getline(got, got_line));
    bool more_want = static_cast<bool>(std::getline(want, want_line));
    if (!more_got && !more_want) break;
    if (!more_got) got_line = "(end of output)";
    if (!more_want) want_line = "(end of golden file)";
    if (got_line != want_line) break;
  }
  ADD_FAILURE() << "the ipctop/1 output differs from " << path << " at line " << line
                << ":\n  golden: " << want_line << "\n  output: " << got_line
                << "\nif the change is intended, rerun with IPCTOP_UPDATE_GOLDEN=1 and review "
                   "the diff of the golden file";
}

TEST(JsonNdjson, OneLinePerSnapshotEqualToToJson) {
  const Snapshot snap = FixedSnapshot();
  std::ostringstream out;
  ipctop::render::write_ndjson(snap, out);
  ipctop::render::write_ndjson(Snapshot{}, out);
  const std::string text = out.str();
  ASSERT_FALSE(text.empty());
  ASSERT_EQ(text.back(), '\n');
  std::istringstream lines(text);
  std::string line;
  std::vector<std::string> all;
  while (std::getline(lines, line)) all.push_back(line);
  ASSERT_EQ(all.size(), 2u) << "exactly one line per snapshot";
  EXPECT_EQ(json::parse(all[0]), ipctop::render::to_json(snap));
  EXPECT_EQ(json::parse(all[1]), ipctop::render::to_json(Snapshot{}));
  // The golden file is the same document, pretty-printed.
  if (std::filesystem::exists(GoldenPath())) {
    EXPECT_EQ(json::parse(all[0]), json::parse(ReadFile(GoldenPath())));
  }
}

TEST(JsonNumbers, IntegersAbove2To53AreExact) {
  std::ostringstream out;
  ipctop::render::write_ndjson(FixedSnapshot(), out);
  const std::string text = out.str();
  EXPECT_NE(text.find("18446744073709551615"), std::string::npos);
  EXPECT_NE(text.find("9007199254740993"), std::string::npos);
  EXPECT_EQ(text.find("e+19"), std::string::npos) << "a u64 was written as a float";
  EXPECT_EQ(text.find("1.8446744073709552"), std::string::npos);

  json j = json::parse(text);
  EXPECT_EQ(j["cpus"][1]["ctx_switches"].get<uint64_t>(), kU64Max);
  EXPECT_EQ(j["cpus"][1]["voluntary"].get<uint64_t>(), kTwoTo53Plus1);
  EXPECT_EQ(j["processes"][1]["threads"][0]["ctx_switches"].get<uint64_t>(), kU64Max);
  EXPECT_EQ(j["channels"][1]["bytes"].get<uint64_t>(), kU64Max);
  EXPECT_EQ(j["flows"][1]["bytes"].get<uint64_t>(), kU64Max);
  EXPECT_EQ(j["flows"][1]["cpus"]["2"].get<uint64_t>(), kU64Max);
  EXPECT_TRUE(j["flows"][1]["bytes"].is_number_unsigned());
}

TEST(JsonNumbers, TimeAndIntervalAreSecondsAsNumbers) {
  json j = ipctop::render::to_json(FixedSnapshot());
  ASSERT_TRUE(j["time"].is_number());
  ASSERT_TRUE(j["interval_s"].is_number());
  EXPECT_DOUBLE_EQ(j["time"].get<double>(), 1700000000.25);
  EXPECT_DOUBLE_EQ(j["interval_s"].get<double>(), 0.5);
  std::string text = j.dump();
  EXPECT_NE(text.find("\"time\":1700000000.25"), std::string::npos) << text.substr(0, 200);
}

// Every string that came from a process: in the raw bytes of the output there
// is no control character and no invalid UTF-8, and it parses.
TEST(JsonStrings, HostileNamesAreSanitized) {
  std::ostringstream out;
  ASSERT_NO_THROW(ipctop::render::write_ndjson(FixedSnapshot(), out));
  const std::string text = out.str();
  for (size_t i = 0; i + 1 < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    ASSERT_GE(c, 0x20) << "raw control byte at " << i;
    ASSERT_NE(c, 0x7f) << "raw DEL at " << i;
    ASSERT_NE(c, 0xff) << "raw 0xff at " << i;
  }
  EXPECT_EQ(text.find("\xc2\x9b"), std::string::npos) << "raw C1 CSI";
  EXPECT_EQ(text.find("\xe2\x80\xae"), std::string::npos) << "raw bidi override";

  json j;
  ASSERT_NO_THROW(j = json::parse(text));
  const std::string comm = ipctop::sanitize(kHostileComm);
  EXPECT_EQ(comm, "\\x1b[31mevil\\xff");
  EXPECT_EQ(j["processes"][1]["comm"], comm);
  EXPECT_EQ(j["processes"][1]["cmdline"][1], comm);
  EXPECT_EQ(j["processes"][0]["threads"][1]["comm"], comm);
  EXPECT_EQ(j["flows"][2]["src"]["comm"], comm);
  const std::string path = j["channels"][2]["path"].get<std::string>();
  EXPECT_EQ(path, ipctop::sanitize(kHostilePath));
  EXPECT_EQ(path, "/tmp/\\x1b]0;pwn\\x07\\xc2\\x9b\\u202e.sock");
  EXPECT_TRUE(ipctop::is_clean(path));
}

TEST(JsonStrings, EveryStringInTheOutputIsClean) {
  json j = ipctop::render::to_json(FixedSnapshot());
  std::vector<const json*> todo = {&j};
  size_t strings = 0;
  while (!todo.empty()) {
    const json* v = todo.back();
    todo.pop_back();
    if (v->is_string()) {
      ++strings;
      EXPECT_TRUE(ipctop::is_clean(v->get<std::string>())) << v->get<std::string>();
    }
    if (v->is_structured()) {
      for (auto it = v->begin(); it != v->end(); ++it) {
        if (v->is_object()) {
          EXPECT_TRUE(ipctop::is_clean(it.key())) << it.key();
        }
        todo.push_back(&*it);
      }
    }
  }
  EXPECT_GT(strings, 20u);
}

TEST(JsonSchema, IsIpctop1) {
  json j = ipctop::render::to_json(FixedSnapshot());
  EXPECT_EQ(j["schema"], "ipctop/1");
  EXPECT_EQ(j["schema"], ipctop::render::kSchema);
  EXPECT_EQ(ipctop::render::to_json(Snapshot{})["schema"], "ipctop/1");
}

// ---------------------------------------------------------------- the contract

void ExpectKeys(const json& obj, const std::vector<std::string>& keys, const std::string& where) {
  ASSERT_TRUE(obj.is_object()) << where << " is not an object";
  for (const auto& k : keys) EXPECT_TRUE(obj.contains(k)) << where << " lacks \"" << k << "\"";
}

void ExpectUnsigned(const json& obj, const std::vector<std::string>& keys,
                    const std::string& where) {
  for (const auto& k : keys)
    EXPECT_TRUE(obj.contains(k) && obj[k].is_number_unsigned())
        << where << "." << k << " is not an unsigned integer";
}

TEST(JsonContract, EveryDocumentedKeyIsPresent) {
  json j = ipctop::render::to_json(FixedSnapshot());
  ExpectKeys(j,
             {"schema", "time", "interval_s", "cpus", "processes", "channels", "flows",
              "unattributed", "lost"},
             "top level");
  EXPECT_TRUE(j["schema"].is_string());

  ASSERT_TRUE(j["cpus"].is_array());
  ASSERT_EQ(j["cpus"].size(), 2u);
  for (const auto& c : j["cpus"]) {
    ExpectUnsigned(c,
                   {"cpu", "ctx_switches", "voluntary", "involuntary", "idle_ns", "tx_bytes",
                    "rx_bytes"},
                   "cpus[]");
  }
  EXPECT_EQ(j["cpus"][0]["cpu"], 0);
  EXPECT_EQ(j["cpus"][1]["cpu"], 1);

  ASSERT_TRUE(j["processes"].is_array());
  ASSERT_EQ(j["processes"].size(), 2u);
  for (const auto& p : j["processes"]) {
    ExpectKeys(p, {"pid", "ppid", "comm", "cmdline", "threads", "tx_bytes", "rx_bytes", "exited"},
               "processes[]");
    ExpectUnsigned(p, {"pid", "ppid", "tx_bytes", "rx_bytes"}, "processes[]");
    EXPECT_TRUE(p["comm"].is_string());
    EXPECT_TRUE(p["cmdline"].is_array());
    EXPECT_TRUE(p["exited"].is_boolean());
    ASSERT_TRUE(p["threads"].is_array());
    for (const auto& t : p["threads"]) {
      ExpectKeys(t,
                 {"tid", "comm", "ctx_switches", "voluntary", "involuntary", "on_cpu_ns",
                  "tx_bytes", "rx_bytes", "tx_messages", "rx_messages", "exited"},
                 "threads[]");
      ExpectUnsigned(t,
                     {"tid", "ctx_switches", "voluntary", "involuntary", "on_cpu_ns",
                      "tx_bytes", "rx_bytes", "tx_messages", "rx_messages"},
                     "threads[]");
      EXPECT_TRUE(t["comm"].is_string());
      EXPECT_TRUE(t["exited"].is_boolean());
    }
  }
  EXPECT_EQ(j["processes"][0]["threads"][1]["exited"], true);
  EXPECT_EQ(j["processes"][1]["exited"], true);

  ASSERT_TRUE(j["channels"].is_array());
  ASSERT_EQ(j["channels"].size(), 3u);
  for (const auto& c : j["channels"]) {
    ExpectKeys(c, {"id", "kind", "bytes", "messages", "endpoints"}, "channels[]");
    ExpectUnsigned(c, {"bytes", "messages"}, "channels[]");
    ASSERT_TRUE(c["endpoints"].is_array());
    for (const auto& e : c["endpoints"]) {
      ExpectKeys(e, {"pid", "tid", "role"}, "endpoints[]");
      ExpectUnsigned(e, {"pid", "tid"}, "endpoints[]");
      const std::string role = e["role"].get<std::string>();
      EXPECT_TRUE(role == "writer" || role == "reader" || role == "sender" || role == "receiver")
          << role;
    }
  }
  // "path" only when the channel has one.
  EXPECT_FALSE(j["channels"][0].contains("path")) << "a pipe has no path";
  EXPECT_EQ(j["channels"][1]["path"], "/run/app.fifo");
  EXPECT_TRUE(j["channels"][2].contains("path"));
  EXPECT_EQ(j["channels"][0]["kind"], "pipe");
  EXPECT_EQ(j["channels"][1]["kind"], "fifo");
  EXPECT_EQ(j["channels"][2]["kind"], "unix_dgram");

  ASSERT_TRUE(j["flows"].is_array());
  ASSERT_EQ(j["flows"].size(), 3u);
  for (const auto& f : j["flows"]) {
    ExpectKeys(f, {"kind", "channel", "src", "dst", "bytes", "messages", "cpus", "rx_cpus"},
               "flows[]");
    ExpectUnsigned(f, {"bytes", "messages"}, "flows[]");
    for (const char* side : {"src", "dst"}) {
      ExpectKeys(f[side], {"pid", "tid", "comm"}, std::string("flows[].") + side);
      ExpectUnsigned(f[side], {"pid", "tid"}, std::string("flows[].") + side);
    }
    for (const char* split : {"cpus", "rx_cpus"}) {
      ASSERT_TRUE(f[split].is_object()) << split;
      for (auto it = f[split].begin(); it != f[split].end(); ++it) {
        EXPECT_EQ(it.key(), std::to_string(std::stoul(it.key()))) << "cpu keys are numbers";
        EXPECT_TRUE(it.value().is_number_unsigned());
      }
    }
  }
  EXPECT_EQ(j["flows"][0]["cpus"], (json{{"0", 4000}, {"10", 96}}));
  EXPECT_EQ(j["flows"][0]["rx_cpus"], (json{{"1", 4096}}));
  EXPECT_EQ(j["flows"][1]["src"], (json{{"pid", 0}, {"tid", 0}, {"comm", "(unknown)"}}));
  EXPECT_EQ(j["flows"][2]["kind"], "unix_dgram");

  ExpectKeys(j["unattributed"], {"bytes", "messages"}, "unattributed");
  ExpectUnsigned(j["unattributed"], {"bytes", "messages"}, "unattributed");
  EXPECT_EQ(j["unattributed"]["bytes"], 512);

  const std::vector<std::string> points = {
      "events",         "flow_map_full", "thread_map_full",  "queue_map_full",
      "queue_overflow", "ringbuf_full",  "mmsg_truncated", "unsupported_path",
      "records_malformed"};
  ExpectKeys(j["lost"], points, "lost");
  ExpectUnsigned(j["lost"], points, "lost");
  EXPECT_EQ(j["lost"].size(), points.size()) << j["lost"].dump();
  EXPECT_EQ(j["lost"]["events"], 7);
}

TEST(JsonContract, EmptySnapshotHasEmptyArraysNotNulls) {
  json j = ipctop::render::to_json(Snapshot{});
  for (const char* k : {"cpus", "processes", "channels", "flows"}) {
    ASSERT_TRUE(j[k].is_array()) << k;
    EXPECT_TRUE(j[k].empty()) << k;
  }
  EXPECT_TRUE(j["lost"].is_object());
  EXPECT_EQ(j["lost"]["events"], 0);
  EXPECT_TRUE(j["unattributed"].is_object());
}

TEST(JsonContract, KindNames) {
  const std::pair<Kind, const char*> kinds[] = {{Kind::pipe, "pipe"},
                                                {Kind::fifo, "fifo"},
                                                {Kind::unix_stream, "unix_stream"},
                                                {Kind::unix_dgram, "unix_dgram"},
                                                {Kind::unix_seqpacket, "unix_seqpacket"}};
  for (const auto& [kind, name] : kinds) {
    Snapshot s;
    FlowRow f;
    f.kind = kind;
    s.flows.push_back(f);
    ChannelRow c;
    c.kind = kind;
    s.channels.push_back(c);
    json j = ipctop::render::to_json(s);
    EXPECT_EQ(j["flows"][0]["kind"], name);
    EXPECT_EQ(j["channels"][0]["kind"], name);
  }
}

}  // namespace
