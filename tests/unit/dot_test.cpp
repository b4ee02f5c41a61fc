// Graphviz export: the run's process graph, exact figures in the edge
// attributes, hostile names kept inside their quotes, and `dot` accepts it.
#include "render/dot/Graph.h"

#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "model/Text.h"

namespace {

using namespace ipctop;
using render::dot::Graph;

const std::string kHostile = "x\"];\n\"p1\" -> \"p2\" [label=\"pwn\\N\x1b[31m\xff";

FlowRow flow(Kind kind, uint32_t src, uint32_t dst, uint64_t bytes, uint64_t messages,
             const std::string& comm = "t") {
  FlowRow f;
  f.kind = kind;
  f.src = {src, src, comm, {}};
  f.dst = {dst, dst, comm, {}};
  f.bytes = bytes;
  f.messages = messages;
  return f;
}

ProcessRow process(uint32_t pid, const std::string& comm, bool exited = false) {
  ProcessRow p;
  p.pid = pid;
  p.comm = comm;
  p.exited = exited;
  return p;
}

TEST(Dot, QuoteEscapesAndSanitizes) {
  EXPECT_EQ(render::dot::quote("plain"), "plain");
  EXPECT_EQ(render::dot::quote("a\"b"), "a\\\"b");
  EXPECT_EQ(render::dot::quote("a\\N"), "a\\\\N") << "no label escape survives";
  EXPECT_EQ(render::dot::quote("a\nb"), "a\\\\x0ab");
}

TEST(Dot, HumanBytes) {
  EXPECT_EQ(render::dot::human_bytes(0), "0 B");
  EXPECT_EQ(render::dot::human_bytes(1023), "1023 B");
  EXPECT_EQ(render::dot::human_bytes(1536), "1.5 KiB");
  EXPECT_EQ(render::dot::human_bytes(3u << 20), "3.0 MiB");
  EXPECT_EQ(render::dot::human_bytes(18446744073709551615ull), "16.0 EiB");
}

TEST(Dot, EdgesAccumulateOverTheRunPerProcessPairAndKind) {
  Graph g;
  Snapshot s1;
  s1.interval_s = 1;
  s1.processes = {process(10, "writer"), process(20, "reader")};
  s1.flows = {flow(Kind::pipe, 10, 20, 100, 2), flow(Kind::unix_stream, 10, 20, 5, 1),
              flow(Kind::pipe, 0, 20, 9, 1, "(unknown)")};
  s1.flows[0].src.tid = 11;  // another thread of the same process
  g.add(s1);
  Snapshot s2;
  s2.interval_s = 0.5;
  s2.processes = {process(10, "writer", true)};
  s2.flows = {flow(Kind::pipe, 10, 20, 1000, 3)};
  g.add(s2);
  std::string text = g.render("ipctop test");
  EXPECT_EQ(text.rfind("digraph ipctop {\n", 0), 0u);
  EXPECT_NE(text.find("label=\"ipctop test: 2 intervals over 1.5 s\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"p10\" [label=\"writer\\n10\", style=\"rounded,dashed\"]"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\"p20\" [label=\"reader\\n20\"]"), std::string::npos) << text;
  EXPECT_NE(text.find("\"unknown\" [label=\"(unknown)\"]"), std::string::npos) << text;
  EXPECT_NE(text.find("\"p10\" -> \"p20\" [label=\"pipe\\n1.1 KiB, 5 msg\""), std::string::npos)
      << text;
  EXPECT_NE(text.find("ipctop_kind=\"pipe\", ipctop_bytes=1100, ipctop_messages=5]"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("ipctop_kind=\"unix_stream\", ipctop_bytes=5, ipctop_messages=1]"),
            std::string::npos);
  EXPECT_NE(text.find("\"unknown\" -> \"p20\""), std::string::npos);
  EXPECT_EQ(text.substr(text.size() - 2), "}\n");
}

int run_dot(const std::string& text, std::string* svg) {
  char tmpl[] = "/tmp/ipctop-dot-XXXXXX";
  int fd = mkstemp(tmpl);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  FILE* p = popen((std::string("dot -Tsvg ") + tmpl + " 2>&1").c_str(), "r");
  char buf[4096];
  size_t n;
  while (p && (n = fread(buf, 1, sizeof(buf), p)) > 0) svg->append(buf, n);
  int st = p ? pclose(p) : -1;
  unlink(tmpl);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST(Dot, GraphvizAcceptsHostileNamesAsLabelsOnly) {
  Graph g;
  Snapshot s;
  s.processes = {process(1, kHostile), process(2, "b")};
  s.flows = {flow(Kind::unix_dgram, 1, 2, 5, 1, kHostile)};
  FlowRow remote = flow(Kind::tcp, 0, 2, 7, 1);
  remote.src.addr = "[::1]:443\"";
  s.flows.push_back(remote);
  g.add(s);
  std::string text = g.render(kHostile);
  for (char c : text) EXPECT_TRUE(c == '\n' || static_cast<unsigned char>(c) >= 0x20);
  std::string svg;
  int status = run_dot(text, &svg);
  ASSERT_EQ(status, 0) << "dot (graphviz, from packaging/install-deps.sh) refused it:\n"
                       << svg << "\n"
                       << text;
  EXPECT_EQ(svg.find("Warning"), std::string::npos) << svg.substr(0, 400);
  // Exactly the edges drawn: the name's fake edge is text, not an edge.
  size_t edges = 0;
  for (size_t pos = svg.find("class=\"edge\""); pos != std::string::npos;
       pos = svg.find("class=\"edge\"", pos + 1))
    ++edges;
  EXPECT_EQ(edges, 2u) << svg;
  EXPECT_EQ(svg.find(">pwn<"), std::string::npos);
}

TEST(Dot, EmptyRunIsAValidGraph) {
  std::string svg;
  EXPECT_EQ(run_dot(Graph().render("empty"), &svg), 0) << svg;
}

}  // namespace
