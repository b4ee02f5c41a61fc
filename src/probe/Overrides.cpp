#include "probe/Overrides.h"

#include <cstdlib>
#include <string_view>

namespace ipctop::probe {

namespace {

bool flag(const char* name) {
  const char* v = std::getenv(name);
  return v && *v && std::string_view(v) != "0";
}

std::set<std::string> list(const char* name) {
  std::set<std::string> out;
  const char* v = std::getenv(name);
  if (!v) return out;
  std::string_view s(v);
  while (!s.empty()) {
    size_t comma = s.find(',');
    std::string_view item = s.substr(0, comma);
    if (!item.empty()) out.emplace(item);
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

}  // namespace

Overrides Overrides::from_environment() {
  return {flag("IPCTOP_FORCE_NO_BTF"), flag("IPCTOP_FORCE_NO_TP_BTF"), list("IPCTOP_FORCE_NO_TRACEPOINT"),
          list("IPCTOP_FORCE_REFUSE"), flag("IPCTOP_FORCE_NO_FEXIT")};
}

}  // namespace ipctop::probe
