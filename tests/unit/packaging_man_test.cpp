// ipctop-setcap(8) formats without a warning and documents exactly the options of the
// script's usage; ipctop(8) has the section on running without root.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <set>
#include <string>
#include <vector>

#include "long_options.h"
#include "render/json/Json.h"

namespace {

std::string Source() { return std::string(IPCTOP_FIXTURES) + "/../.."; }

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Result {
  int status = -1;
  std::string output;
};

Result Shell(const std::string& cmd) {
  Result r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// "\-" as "-", as the page prints it.
std::string Unescaped(const std::string& roff) {
  std::string out;
  for (size_t i = 0; i < roff.size(); ++i) {
    if (roff[i] == '\\' && i + 1 < roff.size() && roff[i + 1] == '-') {
      out += '-';
      ++i;
    } else {
      out += roff[i];
    }
  }
  return out;
}

TEST(SetcapManPage, FormatsWithoutWarnings) {
  const std::string page = Source() + "/man/ipctop-setcap.8";
  for (const char* args : {"-Tutf8", "-Tascii -rLL=60n"}) {
    Result r = Shell(std::string("groff -ww -man ") + args + " -z '" + page + "'");
    EXPECT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(r.output, "") << args << ":\n" << r.output;
  }
}

TEST(SetcapManPage, DocumentsExactlyTheOptionsOfTheScript) {
  Result usage = Shell("sh '" + Source() + "/packaging/ipctop-setcap' --help");
  ASSERT_EQ(usage.status, 0) << usage.output;
  const auto in_script = long_options_in(usage.output);
  ASSERT_GE(in_script.size(), 4u) << usage.output;
  const auto in_page = long_options_in(Unescaped(ReadAll(Source() + "/man/ipctop-setcap.8")));
  for (const auto& opt : in_script) EXPECT_TRUE(in_page.contains(opt)) << opt;
  for (const auto& opt : in_page) {
    if (opt == "--system") continue;  // groupadd's, in an example
    EXPECT_TRUE(in_script.contains(opt) || opt == "--help") << opt << " is not the script's";
  }
}

TEST(ManPageWithoutRoot, SaysHowToRunWithoutRootAndWhatThatCosts) {
  const std::string text = Unescaped(ReadAll(Source() + "/man/ipctop.8"));
  EXPECT_NE(text.find(".SH \"RUNNING WITHOUT ROOT\""), std::string::npos);
  for (const char* s : {"--no-bpf", "ipctop-setcap (8)", "CAP_SYS_RESOURCE", "RLIMIT_MEMLOCK",
                        "setuid", "0750", "read kernel memory", "procfs", "sock_diag (7)",
                        "unreadable_processes", "voluntary", "lsfd (1)"})
    EXPECT_NE(text.find(s), std::string::npos) << s;
}

// Every key of a procfs snapshot with every optional field set is in the page, in bold.
TEST(ManPageWithoutRoot, DocumentsEveryKeyOfAProcfsSnapshot) {
  using namespace ipctop;
  Snapshot s;
  s.source = "procfs";
  ProcessRow p;
  p.threads.push_back(ThreadRow{});
  s.processes.push_back(p);
  ChannelRow c;
  c.path = "/x";
  c.size = 1;
  c.queued = 1;
  c.capacity = 1;
  EndpointRow e;
  e.fds = {3};
  c.endpoints.push_back(e);
  s.channels.push_back(c);
  std::set<std::string> keys;
  std::vector<nlohmann::json> todo = {render::to_json(s)};
  while (!todo.empty()) {
    nlohmann::json v = todo.back();
    todo.pop_back();
    if (!v.is_structured()) continue;
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (v.is_object()) keys.insert(it.key());
      todo.push_back(it.value());
    }
  }
  for (const char* k : {"source", "unreadable_processes", "fds", "size", "queued", "capacity"})
    EXPECT_TRUE(keys.contains(k)) << k << " is not written";
  const std::string text = Unescaped(ReadAll(Source() + "/man/ipctop.8"));
  for (const auto& k : keys)
    EXPECT_TRUE(text.find("\\fB" + k + "\\f") != std::string::npos ||
                text.find(".B " + k + "\n") != std::string::npos ||
                text.find(".BR " + k + " ") != std::string::npos)
        << k << " is not documented in bold";
}

}  // namespace
