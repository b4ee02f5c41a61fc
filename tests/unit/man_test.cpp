// man/ipctop.8: formats without a single groff warning, and stays in step
// with --help and with the ipctop/1 JSON renderer.
#include <gtest/gtest.h>

#include "long_options.h"

#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "cli/Options.h"
#include "render/json/Json.h"

namespace {

std::string ManPath() { return std::string(IPCTOP_FIXTURES) + "/../../man/ipctop.8"; }

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct ShellResult {
  int status = -1;
  std::string output;  // stdout and stderr together
};

ShellResult Shell(const std::string& cmd) {
  ShellResult r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.output.append(buf, n);
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

bool HaveGroff() { return Shell("command -v groff").status == 0; }

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The roff source with "\-" turned into "-", so "\-\-max\-flows" reads as
// the option it prints.
std::string SourceAsText() {
  std::string src = ReadAll(ManPath());
  std::string out;
  for (size_t i = 0; i < src.size(); ++i) {
    if (src[i] == '\\' && i + 1 < src.size() && src[i + 1] == '-') {
      out += '-';
      ++i;
    } else {
      out += src[i];
    }
  }
  return out;
}


// "-" at a line end followed by indentation: a word hyphenated by groff.
std::string JoinHyphenated(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    out += text[i];
    if (text[i] == '-' && i + 1 < text.size() && text[i + 1] == '\n') {
      ++i;
      while (i + 1 < text.size() && (text[i + 1] == ' ' || text[i + 1] == '\t')) ++i;
    }
  }
  return out;
}

bool AllDigits(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

// More than one sentence: an end mark after a lowercase letter, digit or
// closing bracket, maybe a closing parenthesis, spaces, then a capital.
bool TwoSentences(const std::string& line) {
  auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
  auto ends_word = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == ')' || c == ']';
  };
  for (size_t i = 1; i < line.size(); ++i) {
    if ((line[i] != '.' && line[i] != '!' && line[i] != '?') || !ends_word(line[i - 1])) continue;
    size_t j = i + 1;
    if (j < line.size() && line[j] == ')') ++j;
    size_t spaces = j;
    while (j < line.size() && line[j] == ' ') ++j;
    if (j > spaces && j < line.size() && upper(line[j])) return true;
  }
  return false;
}

std::string ReplaceAll(std::string s, const std::string& from, const std::string& to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size()))
    s.replace(pos, from.size(), to);
  return s;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

class ManPage : public testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(ManPath())) << ManPath() << " is missing";
  }
};

TEST_F(ManPage, FormatsWithoutWarnings) {
  ASSERT_TRUE(HaveGroff()) << "groff is not installed: packaging/install-deps.sh installs groff-base";
  ShellResult r = Shell("groff -ww -man -Tutf8 -z " + Quote(ManPath()));
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "") << "groff warnings:\n" << r.output;
}

TEST_F(ManPage, FormatsWithoutWarningsInAsciiAndAtNarrowWidth) {
  ASSERT_TRUE(HaveGroff()) << "groff is not installed: packaging/install-deps.sh installs groff-base";
  // A terminal 60 columns wide is where long tokens cannot be broken.
  ShellResult r = Shell("groff -ww -man -Tascii -rLL=60n -z " + Quote(ManPath()));
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(r.output, "") << "groff warnings:\n" << r.output;
}

TEST_F(ManPage, RendersEveryOption) {
  ASSERT_TRUE(HaveGroff()) << "groff is not installed: packaging/install-deps.sh installs groff-base";
  // Rendered text, not the source: escapes must not swallow an option.
  ShellResult r = Shell("groff -man -Tascii -P-c -P-b -P-u " + Quote(ManPath()));
  ASSERT_EQ(r.status, 0) << r.output;
  // Hyphenation may split a word at a line end; join those first.
  std::string text = JoinHyphenated(r.output);
  for (const auto& opt : long_options_in(ipctop::cli::help_text()))
    EXPECT_NE(text.find(opt), std::string::npos) << opt << " is not in the rendered page";
  // The short forms, spelled as --help spells them.
  for (const char* both : {"-d, --interval", "-n, --count", "-p, --pid", "-h, --help",
                           "-V, --version"}) {
    EXPECT_NE(ipctop::cli::help_text().find(both), std::string::npos) << both;
    EXPECT_NE(text.find(both), std::string::npos) << both << " is not in the rendered page";
  }
}

TEST_F(ManPage, DocumentsEveryOptionOfTheHelpText) {
  const auto in_man = long_options_in(SourceAsText());
  for (const auto& opt : long_options_in(ipctop::cli::help_text()))
    EXPECT_TRUE(in_man.contains(opt)) << opt << " is in --help but not in ipctop(8)";
}

TEST_F(ManPage, DocumentsNoOptionTheHelpTextLacks) {
  const auto in_help = long_options_in(ipctop::cli::help_text());
  for (const auto& opt : long_options_in(SourceAsText()))
    EXPECT_TRUE(in_help.contains(opt)) << opt << " is in ipctop(8) but not in --help";
}

TEST_F(ManPage, HasTheSections) {
  const std::string src = ReadAll(ManPath());
  const auto lines = Lines(src);
  EXPECT_TRUE(std::any_of(lines.begin(), lines.end(),
                          [](const std::string& l) { return l.rfind(".TH IPCTOP 8 ", 0) == 0; }))
      << ".TH IPCTOP 8";
  for (const char* s : {"NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "COMMANDS", "OUTPUT",
                        "CHANNELS", "REQUIREMENTS", "OVERHEAD", "BUGS", "EXAMPLES",
                        "EXIT STATUS", "SEE ALSO"}) {
    const std::string plain = std::string(".SH ") + s;
    const std::string quoted = std::string(".SH \"") + s;
    EXPECT_TRUE(std::any_of(lines.begin(), lines.end(), [&](const std::string& l) {
      return l.rfind(plain, 0) == 0 || l.rfind(quoted, 0) == 0;
    })) << "no section " << s;
  }
}

// Every key the renderer writes is explained in OUTPUT.
TEST_F(ManPage, DocumentsEveryJsonKey) {
  using namespace ipctop;
  Snapshot s;
  s.cpus.push_back(CpuRow{});
  ProcessRow p;
  p.threads.push_back(ThreadRow{});
  s.processes.push_back(p);
  ChannelRow c;
  c.path = "/x";
  c.endpoints.push_back(EndpointRow{});
  s.channels.push_back(c);
  FlowRow f;
  f.cpus[0] = 1;
  f.rx_cpus[0] = 1;
  s.flows.push_back(f);
  for (const char* point : {"flow_map_full", "thread_map_full", "queue_map_full",
                            "queue_overflow", "ringbuf_full", "mmsg_truncated",
                            "unsupported_path", "records_malformed"})
    s.lost.by_point[point] = 0;

  std::set<std::string> keys;
  std::vector<nlohmann::json> todo = {render::to_json(s)};
  while (!todo.empty()) {
    nlohmann::json v = todo.back();
    todo.pop_back();
    if (!v.is_structured()) continue;
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (v.is_object() && !AllDigits(it.key()))
        keys.insert(it.key());
      todo.push_back(it.value());
    }
  }
  ASSERT_GT(keys.size(), 30u);
  const std::string text = SourceAsText();
  for (const auto& k : keys) {
    // The key in bold, as the page writes keys: \fBkey\fR, .B key or .BR key ...
    EXPECT_TRUE(text.find("\\fB" + k + "\\f") != std::string::npos ||
                text.find(".B " + k + "\n") != std::string::npos ||
                text.find(".BR " + k + " ") != std::string::npos)
        << "JSON key \"" << k << "\" is not documented (in bold) in ipctop(8)";
  }
  EXPECT_NE(text.find("ipctop/1"), std::string::npos);
}

TEST_F(ManPage, OneSentencePerLine) {
  bool literal = false;
  int n = 0;
  for (const auto& line : Lines(ReadAll(ManPath()))) {
    ++n;
    if (line.rfind(".EX", 0) == 0 || line.rfind(".nf", 0) == 0) literal = true;
    if (line.rfind(".EE", 0) == 0 || line.rfind(".fi", 0) == 0) literal = false;
    EXPECT_TRUE(line.empty() || (line.back() != ' ' && line.back() != '\t'))
        << "line " << n << " ends in white space";
    EXPECT_FALSE(line.empty()) << "line " << n << " is empty (use .PP)";
    if (literal || line.rfind(".\\\"", 0) == 0) continue;
    // "e.g." and "i.e." are not sentence ends.
    std::string clean = line;
    for (const char* abbrev : {"e.g.", "i.e.", "etc.", "vs."}) clean = ReplaceAll(clean, abbrev, "X");
    EXPECT_FALSE(TwoSentences(clean))
        << "line " << n << " holds more than one sentence: " << line;
  }
}

TEST_F(ManPage, MentionsWhatTheBriefAsksFor) {
  const std::string text = SourceAsText();
  for (const char* s :
       {"/sys/kernel/btf/vmlinux", "CAP_BPF", "CAP_PERFMON", "tp_btf", "bpf_loop", "5.17",
        "5.8", "5.5", "tracefs", "kprobe", "x86-64", "arm64", "io_uring", "splice",
        "bench/README.md", "top (1)", "htop (1)", "ss (8)", "lsof (8)", "ipcs (1)",
        "lsipc (1)", "bpftrace (8)", "sudo ipctop --json -n 3",
        "sudo ipctop --json -d 0.5 -p 1234 | jq", "ipctop limits"}) {
    EXPECT_NE(text.find(s), std::string::npos) << s;
  }
}

}  // namespace
