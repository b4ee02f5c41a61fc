// The Prometheus exporter: counters accumulated from interval deltas,
// bounded flow series that stay monotonic, label escaping of hostile names,
// output that a strict grammar check and the reference Python parser accept,
// and the HTTP server facing well-behaved, slow and hostile clients.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "model/Text.h"
#include "render/prom/HttpServer.h"
#include "render/prom/Metrics.h"

namespace {

using namespace ipctop;
using nlohmann::json;
using render::prom::Health;
using render::prom::label_value;
using render::prom::Metrics;

const std::string kHostile = "\x1b[2J\"}\\n\n\xff evil";

FlowRow flow(Kind kind, uint32_t src, const std::string& src_comm, uint32_t dst,
             const std::string& dst_comm, uint64_t bytes, uint64_t messages, uint32_t src_tid = 0) {
  FlowRow f;
  f.kind = kind;
  f.src = {src, src_tid ? src_tid : src, src_comm, {}};
  f.dst = {dst, dst, dst_comm, {}};
  f.bytes = bytes;
  f.messages = messages;
  return f;
}

Snapshot at(double time, std::vector<FlowRow> flows) {
  Snapshot s;
  s.time = time;
  s.interval_s = 1;
  s.flows = std::move(flows);
  return s;
}

// ---------------------------------------------------------------- a strict reading

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;  // unescaped
  double value = 0;
};

struct Exposition {
  std::map<std::string, std::string> types;
  std::vector<Sample> samples;
};

// The text format 0.0.4 grammar, strictly: HELP and TYPE once per family and
// before its samples, families contiguous, label values escaped exactly, no
// duplicate label or series, values that are numbers.
Exposition strict_parse(const std::string& text) {
  Exposition out;
  std::set<std::string> helped, closed, series;
  std::string current;
  auto name_ok = [](const std::string& n) {
    if (n.empty() || !(isalpha(static_cast<unsigned char>(n[0])) || n[0] == '_')) return false;
    for (char c : n)
      if (!(isalnum(static_cast<unsigned char>(c)) || c == '_' || c == ':')) return false;
    return true;
  };
  std::istringstream in(text);
  std::string line;
  int n = 0;
  EXPECT_TRUE(!text.empty() && text.back() == '\n') << "ends in a newline";
  while (std::getline(in, line)) {
    ++n;
    SCOPED_TRACE(testing::Message() << "line " << n << ": " << line);
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
      std::string rest = line.substr(7);
      std::string name = rest.substr(0, rest.find(' '));
      EXPECT_TRUE(name_ok(name));
      if (name != current) {
        if (!current.empty()) closed.insert(current);
        EXPECT_FALSE(closed.contains(name)) << "family " << name << " appears twice";
        current = name;
      }
      if (line[2] == 'H') {
        EXPECT_TRUE(helped.insert(name).second) << "HELP twice";
        EXPECT_FALSE(out.types.contains(name)) << "HELP after TYPE";
        std::string help = rest.substr(name.size());
        for (size_t i = 0; i < help.size(); ++i)
          if (help[i] == '\\') {
            EXPECT_TRUE(help[i + 1] == '\\' || help[i + 1] == 'n');
            ++i;
          }
      } else {
        std::string type = rest.substr(name.size() + 1);
        EXPECT_TRUE(type == "counter" || type == "gauge") << type;
        EXPECT_TRUE(out.types.emplace(name, type).second) << "TYPE twice";
      }
      continue;
    }
    EXPECT_NE(line[0], '#') << "a comment that is neither HELP nor TYPE";
    Sample s;
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    s.name = line.substr(0, i);
    EXPECT_TRUE(name_ok(s.name));
    EXPECT_EQ(s.name, current) << "a sample outside its family";
    EXPECT_TRUE(out.types.contains(s.name)) << "no TYPE before the samples";
    std::string key = s.name;
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        size_t eq = line.find("=\"", i);
        EXPECT_NE(eq, std::string::npos);
        if (eq == std::string::npos) return out;
        std::string label = line.substr(i, eq - i);
        EXPECT_TRUE(name_ok(label)) << label;
        std::string value;
        for (i = eq + 2; i < line.size() && line[i] != '"'; ++i) {
          unsigned char c = static_cast<unsigned char>(line[i]);
          EXPECT_GE(c, 0x20) << "raw control character in a label value";
          if (line[i] == '\\') {
            ++i;
            bool escape_ok =
                i < line.size() && (line[i] == '\\' || line[i] == '"' || line[i] == 'n');
            EXPECT_TRUE(escape_ok) << "bad escape";
            if (!escape_ok) return out;
            value += line[i] == 'n' ? '\n' : line[i];
          } else {
            value += line[i];
          }
        }
        EXPECT_LT(i, line.size()) << "unterminated label value";
        ++i;  // the closing quote
        EXPECT_TRUE(s.labels.emplace(label, value).second) << "label " << label << " twice";
        key += "\x01" + label + "=" + value;
        if (i < line.size() && line[i] == ',') ++i;
      }
      EXPECT_LT(i, line.size());
      ++i;
    }
    EXPECT_TRUE(i < line.size() && line[i] == ' ') << "one space before the value";
    std::string value = line.substr(i + 1);
    char* end = nullptr;
    s.value = std::strtod(value.c_str(), &end);
    EXPECT_TRUE(!value.empty() && *end == '\0') << "value '" << value << "'";
    EXPECT_TRUE(series.insert(key).second) << "a series twice";
    out.samples.push_back(s);
  }
  return out;
}

double value_of(const Exposition& e, const std::string& name,
                const std::map<std::string, std::string>& labels) {
  double found = -1;
  int matches = 0;
  for (const auto& s : e.samples) {
    if (s.name != name) continue;
    bool all = true;
    for (const auto& [k, v] : labels) all = all && s.labels.contains(k) && s.labels.at(k) == v;
    if (all) {
      found = s.value;
      ++matches;
    }
  }
  EXPECT_LE(matches, 1) << name;
  return found;
}

// ---------------------------------------------------------------- escaping

TEST(PromLabels, EscapedPerTheFormat) {
  EXPECT_EQ(label_value("plain"), "plain");
  EXPECT_EQ(label_value("a\"b"), "a\\\"b");
  EXPECT_EQ(label_value("a\\b"), "a\\\\b");
  // Control characters and invalid UTF-8 are sanitized first (to the text
  // \xNN, whose backslash is then escaped): no raw newline ever.
  EXPECT_EQ(label_value("a\nb"), "a\\\\x0ab");
  EXPECT_EQ(label_value("\x1b[31m"), "\\\\x1b[31m");
  EXPECT_EQ(label_value("\xff"), "\\\\xff");
  EXPECT_EQ(label_value("caf\xc3\xa9"), "caf\xc3\xa9") << "valid UTF-8 is kept";
  EXPECT_EQ(label_value(""), "");
}

// ---------------------------------------------------------------- accumulation

TEST(PromMetrics, CountersAreSumsOfTheIntervalsPerProcess) {
  Metrics m;
  Snapshot s1 = at(100, {flow(Kind::pipe, 10, "w-thread", 20, "r", 100, 2, 11),
                         flow(Kind::pipe, 10, "w", 20, "r", 50, 1),
                         flow(Kind::unix_stream, 10, "w", 20, "r", 7, 1)});
  ProcessRow p10;
  p10.pid = 10;
  p10.comm = "writer";
  s1.processes = {p10};
  CpuRow c0{0, 30, 20, 10, 500000000, 150, 7};
  s1.cpus = {c0, CpuRow{1, 5, 5, 0, 1000000000, 7, 150}};
  s1.lost.by_point = {{"ringbuf_full", 2}, {"flow_map_full", 0}};
  s1.unattributed_bytes = 9;
  s1.unattributed_messages = 1;
  s1.failures.push_back(FailureRow{"pipe2", "EMFILE", 10, 10, "w", 3, {}});
  m.add(s1);
  Snapshot s2 = at(101, {flow(Kind::pipe, 10, "w", 20, "r", 1000, 10)});
  s2.processes = {p10};
  s2.cpus = {c0};
  s2.lost.by_point = {{"ringbuf_full", 1}, {"flow_map_full", 4}};
  s2.failures.push_back(FailureRow{"pipe2", "EMFILE", 10, 11, "w", 2, {}});
  s2.failures.push_back(FailureRow{"pipe2", "", 10, 11, "w", 1, {}});
  m.add(s2);

  Exposition e = strict_parse(m.render({"1.2.3", 6, 7}));
  // Threads of process 10 share its series, named after the process.
  std::map<std::string, std::string> pipe = {{"kind", "pipe"},
                                             {"src_pid", "10"},
                                             {"src_comm", "writer"},
                                             {"dst_pid", "20"},
                                             {"dst_comm", "r"}};
  EXPECT_EQ(value_of(e, "ipctop_flow_bytes_total", pipe), 1150);
  EXPECT_EQ(value_of(e, "ipctop_flow_messages_total", pipe), 13);
  EXPECT_EQ(value_of(e, "ipctop_kind_bytes_total", {{"kind", "pipe"}}), 1150);
  EXPECT_EQ(value_of(e, "ipctop_kind_bytes_total", {{"kind", "unix_stream"}}), 7);
  EXPECT_EQ(value_of(e, "ipctop_kind_messages_total", {{"kind", "signal"}}), 0)
      << "every kind from the start";
  EXPECT_EQ(value_of(e, "ipctop_cpu_context_switches_total", {{"cpu", "0"}, {"type", "voluntary"}}),
            40);
  EXPECT_EQ(
      value_of(e, "ipctop_cpu_context_switches_total", {{"cpu", "0"}, {"type", "involuntary"}}),
      20);
  EXPECT_EQ(value_of(e, "ipctop_cpu_ipc_bytes_total", {{"cpu", "0"}, {"direction", "tx"}}), 300);
  EXPECT_EQ(value_of(e, "ipctop_cpu_ipc_bytes_total", {{"cpu", "1"}, {"direction", "rx"}}), 150);
  EXPECT_DOUBLE_EQ(value_of(e, "ipctop_cpu_idle_seconds_total", {{"cpu", "0"}}), 1.0);
  EXPECT_EQ(value_of(e, "ipctop_lost_events_total", {{"point", "ringbuf_full"}}), 3);
  EXPECT_EQ(value_of(e, "ipctop_lost_events_total", {{"point", "flow_map_full"}}), 4);
  EXPECT_EQ(value_of(e, "ipctop_ipc_failures_total", {{"syscall", "pipe2"}, {"errno", "EMFILE"}}),
            5);
  EXPECT_EQ(value_of(e, "ipctop_ipc_failures_total", {{"syscall", "pipe2"}, {"errno", "none"}}), 1);
  EXPECT_EQ(value_of(e, "ipctop_unattributed_bytes_total", {}), 9);
  EXPECT_EQ(value_of(e, "ipctop_snapshots_total", {}), 2);
  EXPECT_EQ(value_of(e, "ipctop_probes_attached", {}), 6);
  EXPECT_EQ(value_of(e, "ipctop_probes", {}), 7);
  EXPECT_EQ(value_of(e, "ipctop_up", {}), 1);
  EXPECT_EQ(value_of(e, "ipctop_info", {{"version", "1.2.3"}}), 1);
  EXPECT_EQ(value_of(e, "ipctop_last_snapshot_timestamp_seconds", {}), 101);
  EXPECT_GE(value_of(e, "ipctop_scrape_duration_seconds", {}), 0);
  EXPECT_EQ(e.types.at("ipctop_flow_bytes_total"), "counter");
  EXPECT_EQ(e.types.at("ipctop_probes_attached"), "gauge");
}

TEST(PromMetrics, ExactBeyondTwoTo53) {
  Metrics m;
  m.add(at(1, {flow(Kind::pipe, 1, "a", 2, "b", 18446744073709551615ull, 9007199254740993ull)}));
  std::string text = m.render({});
  EXPECT_NE(text.find(" 18446744073709551615\n"), std::string::npos);
  EXPECT_NE(text.find(" 9007199254740993\n"), std::string::npos);
}

// Top N: at most N flow series plus one `other` per kind; every series only
// grows; flows + other = the kind's total, whatever comes and goes.
TEST(PromMetrics, TopNBoundsSeriesAndKeepsCountersMonotonic) {
  Metrics m({.top_n = 2, .idle_evict_s = 600});
  std::map<std::string, double> last;  // series key -> value
  uint64_t total = 0;
  auto check = [&](const std::string& when) {
    SCOPED_TRACE(when);
    Exposition e = strict_parse(m.render({}));
    size_t flow_series = 0;
    for (const auto& s : e.samples) {
      if (s.name != "ipctop_flow_bytes_total") continue;
      std::string key =
          s.labels.at("kind") + "/" + s.labels.at("src_pid") + ">" + s.labels.at("dst_pid");
      if (s.labels.at("src_pid") != "other") ++flow_series;
      EXPECT_GE(s.value, last[key]) << key << " went down";
      last[key] = s.value;
    }
    EXPECT_LE(flow_series, 2u);
    // What a scraper sees: the last value of every series it ever saw
    // (evicted ones included) adds up to every byte.
    double sum = 0;
    for (const auto& [key, v] : last) sum += v;
    EXPECT_EQ(sum, static_cast<double>(total));
    EXPECT_EQ(value_of(e, "ipctop_kind_bytes_total", {{"kind", "pipe"}}) +
                  std::max(0.0, value_of(e, "ipctop_kind_bytes_total", {{"kind", "unix_dgram"}})),
              static_cast<double>(total));
  };
  auto feed = [&](double t, std::vector<FlowRow> flows) {
    for (const auto& f : flows) total += f.bytes;
    m.add(at(t, std::move(flows)));
  };
  // Three new flows, room for two: the two busiest get series.
  feed(0, {flow(Kind::pipe, 1, "a", 2, "b", 10, 1), flow(Kind::pipe, 3, "c", 4, "d", 300, 1),
           flow(Kind::pipe, 5, "e", 6, "f", 200, 1)});
  check("first");
  Exposition e = strict_parse(m.render({}));
  EXPECT_EQ(value_of(e, "ipctop_flow_bytes_total", {{"src_pid", "3"}}), 300);
  EXPECT_EQ(value_of(e, "ipctop_flow_bytes_total", {{"src_pid", "5"}}), 200);
  EXPECT_EQ(value_of(e, "ipctop_flow_bytes_total", {{"src_pid", "other"}}), 10);
  EXPECT_EQ(value_of(e, "ipctop_flow_bytes_total", {{"src_pid", "1"}}), -1) << "no series";
  EXPECT_EQ(value_of(e, "ipctop_flow_series", {}), 2);
  // The small flow grows a lot: it stays in `other` (a series is never moved).
  feed(1, {flow(Kind::pipe, 1, "a", 2, "b", 100000, 1), flow(Kind::pipe, 3, "c", 4, "d", 1, 1)});
  check("second");
  // Flow 5->6 idle for longer than the eviction time: a new flow takes its place.
  feed(700, {flow(Kind::pipe, 3, "c", 4, "d", 1, 1), flow(Kind::pipe, 7, "g", 8, "h", 50, 1)});
  check("eviction");
  e = strict_parse(m.render({}));
  EXPECT_EQ(value_of(e, "ipctop_flow_bytes_total", {{"src_pid", "7"}}), 50);
  EXPECT_EQ(value_of(e, "ipctop_flow_bytes_total", {{"src_pid", "5"}}), -1) << "evicted";
  EXPECT_EQ(value_of(e, "ipctop_flow_series_evicted_total", {}), 1);
  // 5->6 comes back after 7->8 went idle: it goes on from its old value.
  feed(1400, {flow(Kind::pipe, 5, "e", 6, "f", 5, 1), flow(Kind::pipe, 3, "c", 4, "d", 1, 1)});
  check("return");
  e = strict_parse(m.render({}));
  EXPECT_EQ(value_of(e, "ipctop_flow_bytes_total", {{"src_pid", "5"}}), 205);
  // No room and nothing idle: a new flow goes to other, per kind.
  feed(1401, {flow(Kind::unix_dgram, 9, "i", 10, "j", 4, 1), flow(Kind::pipe, 5, "e", 6, "f", 1, 1),
              flow(Kind::pipe, 3, "c", 4, "d", 1, 1)});
  check("full");
  e = strict_parse(m.render({}));
  EXPECT_EQ(value_of(e, "ipctop_flow_bytes_total", {{"kind", "unix_dgram"}, {"src_pid", "other"}}),
            4);
}

TEST(PromMetrics, RetiredValuesAreBounded) {
  Metrics m({.top_n = 1, .idle_evict_s = 1, .retired_cap = 3});
  for (uint32_t i = 0; i < 50; ++i)
    m.add(at(i * 10.0, {flow(Kind::pipe, 100 + i, "x", 1, "y", 1, 1)}));
  EXPECT_EQ(m.flow_series(), 1u);
  Exposition e = strict_parse(m.render({}));
  EXPECT_EQ(value_of(e, "ipctop_flow_series_evicted_total", {}), 49);
}

TEST(PromMetrics, HostileNamesStayInsideTheirLabel) {
  Metrics m;
  FlowRow f = flow(Kind::unix_dgram, 1, kHostile, 2, "b\"", 5, 1);
  Snapshot s = at(1, {f});
  s.failures.push_back(FailureRow{"write", "EAGAIN", 1, 1, kHostile, 1, {}});
  m.add(s);
  std::string text = m.render({"v\"1\n"});
  for (char c : text) EXPECT_TRUE(c == '\n' || static_cast<unsigned char>(c) >= 0x20);
  Exposition e = strict_parse(text);
  std::map<std::string, std::string> want = {{"src_comm", sanitize(kHostile)}, {"dst_comm", "b\""}};
  EXPECT_EQ(value_of(e, "ipctop_flow_bytes_total", want), 5);
  EXPECT_EQ(value_of(e, "ipctop_info", {{"version", "v\"1\\x0a"}}), 1);
}

TEST(PromMetrics, RemotePeersAreLabelledByAddress) {
  Metrics m;
  FlowRow f = flow(Kind::tcp, 0, "", 2, "server", 5, 1);
  f.src.addr = "10.1.2.3:443";
  m.add(at(1, {f}));
  Exposition e = strict_parse(m.render({}));
  EXPECT_EQ(value_of(e, "ipctop_flow_bytes_total",
                     {{"src_pid", "remote"}, {"src_comm", "10.1.2.3:443"}, {"dst_pid", "2"}}),
            5);
}

// ---------------------------------------------------------------- the reference parser

std::string parse_with_python(const std::string& text, int* status) {
  char tmpl[] = "/tmp/ipctop-prom-XXXXXX";
  int fd = mkstemp(tmpl);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  std::string script = std::string(IPCTOP_FIXTURES) + "/../tools/prom_parse.py";
  std::string cmd = "/usr/bin/python3 " + script + " < " + tmpl + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while (p && (n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  int st = p ? pclose(p) : -1;
  *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  unlink(tmpl);
  return out;
}

TEST(PromMetrics, TheReferenceParserReadsItBack) {
  int status = 0;
  std::string probe = parse_with_python("a 1\n", &status);
  ASSERT_EQ(status, 0) << "the Python Prometheus client is missing (packaging/install-deps.sh "
                          "installs python3-prometheus-client): "
                       << probe;
  Metrics m({.top_n = 3});
  std::vector<FlowRow> flows;
  for (uint32_t i = 0; i < 6; ++i)
    flows.push_back(
        flow(Kind::pipe, 100 + i, i == 0 ? kHostile : "w", 200, "\\r\"", 10 * (i + 1), i));
  Snapshot s = at(5, flows);
  s.cpus = {CpuRow{0, 3, 2, 1, 7, 8, 9}};
  s.lost.by_point = {{"ringbuf_full", 1}};
  m.add(s);
  std::string out = parse_with_python(m.render({"0.1.0", 7, 7}), &status);
  ASSERT_EQ(status, 0) << out;
  json families = json::parse(out);
  std::map<std::string, json> by_name;
  for (const auto& f : families) by_name[f["name"]] = f;
  // The client strips _total from a counter family's name.
  ASSERT_TRUE(by_name.contains("ipctop_flow_bytes")) << out.substr(0, 500);
  EXPECT_EQ(by_name["ipctop_flow_bytes"]["type"], "counter");
  const json& samples = by_name["ipctop_flow_bytes"]["samples"];
  ASSERT_EQ(samples.size(), 4u) << "3 flows + other";
  double sum = 0;
  bool hostile_seen = false;
  for (const auto& smp : samples) {
    EXPECT_EQ(smp["name"], "ipctop_flow_bytes_total");
    if (smp["labels"]["src_pid"] != "other") {
      EXPECT_EQ(smp["labels"]["dst_comm"], "\\r\"") << "unescaped back to the original";
    }
    sum += smp["value"].get<double>();
    hostile_seen = hostile_seen || smp["labels"]["src_comm"] == sanitize(kHostile);
  }
  EXPECT_EQ(sum, 210);
  EXPECT_FALSE(hostile_seen) << "the smallest flow is in other";
  EXPECT_EQ(by_name["ipctop_probes_attached"]["samples"][0]["value"], 7.0);
  EXPECT_EQ(by_name["ipctop_cpu_context_switches"]["samples"].size(), 2u);
  // And a renamed hostile process that does get a series.
  Metrics m2;
  m2.add(at(1, {flow(Kind::fifo, 1, kHostile, 2, "x", 3, 1)}));
  out = parse_with_python(m2.render({}), &status);
  ASSERT_EQ(status, 0) << out;
  EXPECT_NE(out.find(json(sanitize(kHostile)).dump()), std::string::npos) << out.substr(0, 800);
}

// ---------------------------------------------------------------- HTTP

using render::prom::HttpServer;
using render::prom::respond;
using render::prom::serialize;

std::string body() { return "m 1\n"; }

TEST(PromHttp, Responses) {
  auto r = respond("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", body);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "m 1\n");
  EXPECT_EQ(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
  std::string wire = serialize(r);
  EXPECT_EQ(wire.rfind("HTTP/1.1 200 OK\r\n", 0), 0u);
  EXPECT_NE(wire.find("Content-Length: 4\r\n"), std::string::npos);
  EXPECT_EQ(wire.substr(wire.size() - 8), "\r\n\r\nm 1\n");

  r = respond("HEAD /metrics HTTP/1.0\r\n\r\n", body);
  EXPECT_EQ(r.status, 200);
  wire = serialize(r);
  EXPECT_NE(wire.find("Content-Length: 4\r\n"), std::string::npos);
  EXPECT_EQ(wire.substr(wire.size() - 4), "\r\n\r\n") << "HEAD: no body";

  EXPECT_EQ(respond("GET /metrics?name[]=x HTTP/1.1\r\n\r\n", body).status, 200);
  EXPECT_EQ(respond("GET /metrics HTTP/1.1\n\n", body).status, 200) << "bare newlines";
  EXPECT_EQ(respond("GET / HTTP/1.1\r\n\r\n", body).status, 200);
  EXPECT_EQ(respond("GET /metricsx HTTP/1.1\r\n\r\n", body).status, 404);
  EXPECT_EQ(respond("GET /../etc/passwd HTTP/1.1\r\n\r\n", body).status, 404);
  r = respond("POST /metrics HTTP/1.1\r\n\r\n", body);
  EXPECT_EQ(r.status, 405);
  EXPECT_NE(serialize(r).find("Allow: GET, HEAD\r\n"), std::string::npos);
  EXPECT_EQ(respond("GET /metrics HTTP/2.0\r\n\r\n", body).status, 505);
  for (const char* garbage : {"", "\r\n\r\n", "GET\r\n\r\n", "GET  /metrics HTTP/1.1\r\n\r\n",
                              "get /metrics HTTP/1.1\r\n\r\n", "\x16\x03\x01\x02\x00\x01\n\n",
                              "GET /metrics HTTP/1.1 extra\r\n\r\n"})
    EXPECT_EQ(respond(garbage, body).status, 400) << garbage;
}

int connect_to(uint16_t port, const char* host = "127.0.0.1") {
  bool v6 = std::string(host).find(':') != std::string::npos;
  int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_storage ss{};
  socklen_t len;
  if (v6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    inet_pton(AF_INET6, host, &a->sin6_addr);
    len = sizeof(*a);
  } else {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    inet_pton(AF_INET, host, &a->sin_addr);
    len = sizeof(*a);
  }
  EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&ss), len), 0) << strerror(errno);
  timeval tv{10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return fd;
}

std::string exchange(int fd, const std::string& request) {
  if (!request.empty()) {
    EXPECT_EQ(send(fd, request.data(), request.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(request.size()));
  }
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

std::unique_ptr<HttpServer> serve(const std::string& host = "127.0.0.1") {
  auto r = HttpServer::start(host, 0, [] { return std::string("m 1\n"); });
  if (auto* err = std::get_if<std::string>(&r)) {
    ADD_FAILURE() << *err;
    return nullptr;
  }
  return std::move(std::get<std::unique_ptr<HttpServer>>(r));
}

TEST(PromHttp, ServesOverLoopbackAndSurvivesHostileClients) {
  auto server = serve();
  ASSERT_TRUE(server);
  ASSERT_NE(server->port(), 0);
  EXPECT_EQ(server->url(), "http://127.0.0.1:" + std::to_string(server->port()) + "/metrics");
  std::string got =
      exchange(connect_to(server->port()), "GET /metrics HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(got.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << got;
  EXPECT_EQ(got.substr(got.size() - 4), "m 1\n");

  // Garbage, a huge head, a client that resets, a client that leaves early.
  got = exchange(connect_to(server->port()), std::string("\0\xff\r\n\r\n", 6));
  EXPECT_EQ(got.rfind("HTTP/1.1 400", 0), 0u) << got;
  got = exchange(connect_to(server->port()),
                 "GET /metrics HTTP/1.1\r\nX: " + std::string(20000, 'a'));
  EXPECT_EQ(got.rfind("HTTP/1.1 431", 0), 0u) << got;
  {
    int fd = connect_to(server->port());
    linger l{1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    send(fd, "GET /met", 8, MSG_NOSIGNAL);
    close(fd);  // RST
  }
  close(connect_to(server->port()));
  // A request with a body: the answer arrives whole, not reset.
  got = exchange(connect_to(server->port()),
                 "POST /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_EQ(got.rfind("HTTP/1.1 405", 0), 0u) << got;
  got = exchange(connect_to(server->port()), "GET /metrics HTTP/1.0\r\n\r\n");
  EXPECT_EQ(got.rfind("HTTP/1.1 200", 0), 0u) << "still serving: " << got;
}

TEST(PromHttp, ASilentClientDelaysTheNextByTheReadTimeoutOnly) {
  auto server = serve();
  ASSERT_TRUE(server);
  int silent = connect_to(server->port());
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto start = std::chrono::steady_clock::now();
  std::string got = exchange(connect_to(server->port()), "GET /metrics HTTP/1.1\r\n\r\n");
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(got.rfind("HTTP/1.1 200", 0), 0u) << got;
  EXPECT_LT(waited, std::chrono::seconds(5));
  std::string timeout = exchange(silent, "");
  EXPECT_EQ(timeout.rfind("HTTP/1.1 408", 0), 0u) << timeout;
}

TEST(PromHttp, IPv6LoopbackAndBadAddresses) {
  auto server = serve("::1");
  ASSERT_TRUE(server);
  EXPECT_EQ(server->url(), "http://[::1]:" + std::to_string(server->port()) + "/metrics");
  std::string got = exchange(connect_to(server->port(), "::1"), "GET /metrics HTTP/1.1\r\n\r\n");
  EXPECT_EQ(got.rfind("HTTP/1.1 200", 0), 0u) << got;

  auto busy = HttpServer::start("::1", server->port(), body);
  ASSERT_TRUE(std::holds_alternative<std::string>(busy));
  EXPECT_NE(std::get<std::string>(busy).find("Address already in use"), std::string::npos)
      << std::get<std::string>(busy);
  auto bad = HttpServer::start("192.0.2.1", 0, body);  // TEST-NET-1: on no interface
  ASSERT_TRUE(std::holds_alternative<std::string>(bad));
  EXPECT_NE(std::get<std::string>(bad).find("no interface has this address"), std::string::npos);
}

}  // namespace

namespace {

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Every family the exporter writes is listed in ipctop(8) and in the README.
TEST(PromMetrics, EveryMetricIsDocumented) {
  Metrics m;
  Snapshot s = at(1, {flow(Kind::pipe, 1, "a", 2, "b", 1, 1)});
  s.cpus = {CpuRow{}};
  s.lost.by_point = {{"ringbuf_full", 0}};
  s.failures.push_back(FailureRow{"pipe2", "EMFILE", 1, 1, "a", 1, {}});
  m.add(s);
  const std::string text = m.render({});
  std::string man = read_all(std::string(IPCTOP_FIXTURES) + "/../../man/ipctop.8");
  for (std::string from : {"\\-", "\\fB", "\\fR"})
    for (size_t pos = man.find(from); pos != std::string::npos; pos = man.find(from, pos))
      man.replace(pos, from.size(), from == "\\-" ? "-" : "");
  const std::string readme = read_all(std::string(IPCTOP_FIXTURES) + "/../../README.md");
  ASSERT_NE(man.find(".SH \"PROMETHEUS METRICS\""), std::string::npos);
  std::istringstream lines(text);
  std::string line;
  size_t families = 0;
  while (std::getline(lines, line)) {
    if (line.rfind("# TYPE ", 0) != 0) continue;
    std::string name = line.substr(7, line.find(' ', 7) - 7);
    ++families;
    EXPECT_NE(man.find(".B " + name + "\n"), std::string::npos) << name << " not in ipctop(8)";
    EXPECT_NE(readme.find("`" + name + "`"), std::string::npos) << name << " not in README.md";
  }
  EXPECT_GE(families, 20u);
}

}  // namespace
