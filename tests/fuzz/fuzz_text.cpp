// Fuzz target: the sanitizer every name and path goes through. Its output
// must be clean, valid UTF-8 (strict JSON parsing accepts it), idempotent,
// and truncation must stay within the width asked.
#include <cstdint>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "model/Text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view raw(reinterpret_cast<const char*>(data), size);
  std::string clean = ipctop::sanitize(raw);
  if (!ipctop::is_clean(clean)) std::abort();
  if (ipctop::sanitize(clean) != clean) std::abort();
  for (unsigned char c : clean)
    if (c < 0x20 || c == 0x7f) std::abort();
  // Throws (and so fails the run) on invalid UTF-8.
  std::string round = nlohmann::json::parse(nlohmann::json(clean).dump()).get<std::string>();
  if (round != clean) std::abort();
  int width = size ? data[0] % 40 : 0;
  std::string cut = ipctop::truncate_to_width(clean, width);
  if (ipctop::display_width(cut) > width) std::abort();
  if (clean.compare(0, cut.size(), cut) != 0) std::abort();
  (void)ipctop::display_width(raw);
  return 0;
}
