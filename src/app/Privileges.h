// Least privilege: once the probes are attached, ipctop keeps only the
// capabilities it still uses and gives up the rest for good.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ipctop::app {

// What is kept after attaching, and why: everything else is dropped from the
// effective, permitted, inheritable, ambient and bounding sets, and
// no_new_privs is set, so neither this process nor anything it could exec
// regains CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN or any other capability.
struct KeptCapability {
  int cap;
  const char* name;
  const char* why;
};
std::vector<KeptCapability> capabilities_kept_after_attach(const std::string& kernel_release);

// Drops every capability not in capabilities_kept_after_attach(). Returns a
// one-line description of what could not be done (nullopt: all done).
// Everything that needs privilege (BPF objects, ring buffer, output files,
// listening sockets) must be opened before this is called.
std::optional<std::string> drop_capabilities_after_attach();

}  // namespace ipctop::app
