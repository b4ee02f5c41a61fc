// Fuzz target: the command line. The input split at NUL bytes is argv;
// every argument list must give options or a one-line usage error.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "cli/Options.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> args;
  std::string cur;
  for (size_t i = 0; i < size && args.size() < 64; ++i) {
    if (data[i] == 0) {
      args.push_back(cur);
      cur.clear();
    } else {
      cur += static_cast<char>(data[i]);
    }
  }
  if (!cur.empty()) args.push_back(cur);
  auto parsed = ipctop::cli::parse(args);
  if (auto* err = std::get_if<ipctop::cli::UsageError>(&parsed)) {
    if (err->message.empty()) std::abort();  // an error always says what is wrong
  } else {
    const auto& o = std::get<ipctop::cli::Options>(parsed);
    if (o.interval_s < 0.01 || o.interval_s > 86400) std::abort();
    if (o.ringbuf_bytes & (o.ringbuf_bytes - 1)) std::abort();
  }
  return 0;
}
