// The pipe data path's two variants: fexit on the kernel's pipe functions
// where the kernel loads it (6.1 under tests/kernel-matrix), the sys_exit
// path where it does not (6.18 here) or where IPCTOP_FORCE_NO_FEXIT says so.
// Whichever is active is reported, and both give the same exact counts.
#include <cstdlib>

#include "harness.h"

namespace e2e {
namespace {

json features_json(bool force_tracepoint) {
  TempDir dir;
  pid_t pid = spawn({IPCTOP_BIN, "--features", "--json"}, dir.file("o"), dir.file("e"), [&] {
    return !force_tracepoint || setenv("IPCTOP_FORCE_NO_FEXIT", "1", 1) == 0;
  });
  Exit e = wait_bounded(pid, std::chrono::seconds(30 * time_scale()));
  EXPECT_TRUE(e.exited && e.code == 0) << read_file(dir.file("e"));
  return json::parse(read_file(dir.file("o")), nullptr, false);
}

json pipe_data(const json& features) {
  if (features.is_discarded() || !features.contains("probes")) return json::object();
  for (const auto& p : features.at("probes"))
    if (p.at("name") == "pipe_data") return p;
  return json::object();
}

// Every generator flow, exactly, in the tracer's snapshots; nothing lost.
void expect_exact(const json& truth, const std::vector<json>& snaps) {
  ASSERT_TRUE(truth.contains("flows")) << truth.dump();
  auto totals = flow_totals(snaps);
  for (const auto& f : truth.at("flows")) {
    FlowId id{truth.at("kind"), f.at("src_pid"), f.at("src_tid"), f.at("dst_pid"), f.at("dst_tid")};
    auto it = totals.find(id);
    ASSERT_NE(it, totals.end()) << "no flow for " << f.dump();
    EXPECT_EQ(it->second.bytes, f.at("bytes").get<uint64_t>()) << f.dump();
    EXPECT_EQ(it->second.messages, f.at("messages").get<uint64_t>()) << f.dump();
  }
  EXPECT_EQ(total_lost(snaps), 0u);
}

// One traced generator run, with the tracepoint variant forced or not.
std::vector<json> trace(const std::vector<std::string>& gen_args, json& truth,
                        bool force_tracepoint) {
  // The tracer inherits the override; the generator does not care.
  if (force_tracepoint) setenv("IPCTOP_FORCE_NO_FEXIT", "1", 1);
  Tracer tracer({"--json", "-d", "0.5"});
  if (force_tracepoint) unsetenv("IPCTOP_FORCE_NO_FEXIT");
  EXPECT_TRUE(tracer.wait_attached(std::chrono::seconds(15 * time_scale()))) << tracer.err();
  truth = run_ipcgen(gen_args);
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  Exit e = tracer.stop();
  EXPECT_TRUE(e.exited && e.code == 0) << tracer.err();
  return tracer.snapshots();
}

TEST(PipeVariants, ActiveVariantIsReportedWithItsReason) {
  const bool forced_by_env = std::getenv("IPCTOP_FORCE_NO_FEXIT") != nullptr;
  json f = features_json(false);
  json p = pipe_data(f);
  ASSERT_TRUE(p.contains("variant")) << f.dump();
  const std::string variant = p.at("variant");
  // Recorded in the e2e log: which variant ran on this kernel.
  std::printf("PIPE_DATA variant: %s (%s) on hook %s\n", variant.c_str(),
              p.at("reason").get<std::string>().c_str(), p.at("hook").get<std::string>().c_str());
  EXPECT_TRUE(p.at("attached").get<bool>()) << p.dump();
  const std::string fexit = f.at("kernel").at("fexit");
  if (variant == "fexit") {
    EXPECT_FALSE(forced_by_env);
    EXPECT_NE(p.at("hook").get<std::string>().find("pipe_write/"), std::string::npos) << p.dump();
    EXPECT_EQ(fexit.rfind("yes: pipe data counted at ", 0), 0u) << fexit;
  } else {
    // The fallback says why fexit is not used, and where pipes are counted.
    EXPECT_EQ(variant, "tp_btf") << p.dump();
    EXPECT_EQ(p.at("hook"), "sys_exit");
    EXPECT_NE(p.at("reason").get<std::string>().find("counted at sys_exit"), std::string::npos);
    EXPECT_EQ(fexit.rfind("no: ", 0), 0u) << fexit;
  }

  // The override always leaves the tracepoint variant, and says it was forced.
  json forced = features_json(true);
  json q = pipe_data(forced);
  ASSERT_TRUE(q.contains("variant")) << forced.dump();
  EXPECT_EQ(q.at("variant"), "tp_btf") << q.dump();
  EXPECT_TRUE(q.at("attached").get<bool>());
  EXPECT_NE(q.at("reason").get<std::string>().find("forced by IPCTOP_FORCE_NO_FEXIT"),
            std::string::npos)
      << q.dump();

  // And the text report has the same line.
  TempDir dir;
  pid_t pid = spawn({IPCTOP_BIN, "--features"}, dir.file("o"), dir.file("e"));
  ASSERT_TRUE(wait_bounded(pid, std::chrono::seconds(30 * time_scale())).exited);
  std::string text = read_file(dir.file("o"));
  auto at = text.find("  pipe_data ");
  ASSERT_NE(at, std::string::npos) << text;
  EXPECT_NE(text.substr(at, text.find('\n', at) - at).find(variant), std::string::npos) << text;
}

// The same pipe and FIFO workloads under the active variant and under the
// forced tracepoint variant: both exact against the generator. On a kernel
// where fexit is refused both runs use the tracepoint variant, and this is
// the plain exactness test.
TEST(PipeVariants, BothVariantsGiveTheSameExactCounts) {
  const std::vector<std::vector<std::string>> workloads = {
      {"--kind", "pipe", "--msgs", "1500", "--size", "100"},
      {"--kind", "fifo", "--msgs", "800", "--size", "300", "--linger-ms", "500"},
      {"--kind", "pipe", "--threads", "3", "--msgs", "300", "--size", "64"},
  };
  for (const auto& args : workloads)
    for (bool forced : {false, true}) {
      SCOPED_TRACE(fmt_args(args) + (forced ? " (tracepoint variant forced)" : " (active variant)"));
      json truth;
      auto snaps = trace(args, truth, forced);
      expect_exact(truth, snaps);
    }
}

}  // namespace
}  // namespace e2e
