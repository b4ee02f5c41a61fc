#include "model/Signals.h"

#include <array>
#include <string_view>

#include <fmt/format.h>

namespace ipctop {

namespace {

// Linux numbering (x86, arm64 and most architectures share it).
constexpr std::array<std::string_view, 32> kNames{
    "",          "SIGHUP",  "SIGINT",    "SIGQUIT", "SIGILL",   "SIGTRAP", "SIGABRT", "SIGBUS",
    "SIGFPE",    "SIGKILL", "SIGUSR1",   "SIGSEGV", "SIGUSR2",  "SIGPIPE", "SIGALRM", "SIGTERM",
    "SIGSTKFLT", "SIGCHLD", "SIGCONT",   "SIGSTOP", "SIGTSTP",  "SIGTTIN", "SIGTTOU", "SIGURG",
    "SIGXCPU",   "SIGXFSZ", "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO",   "SIGPWR",  "SIGSYS"};

// glibc keeps 32 and 33 for itself: its SIGRTMIN is 34, and kill -l counts
// from there, the upper half down from SIGRTMAX (64).
constexpr int kRtMin = 34, kRtMax = 64;

}  // namespace

std::string signal_name(int signo) {
  if (signo > 0 && signo < static_cast<int>(kNames.size())) return std::string(kNames[signo]);
  if (signo == kRtMin) return "SIGRTMIN";
  if (signo == kRtMax) return "SIGRTMAX";
  if (signo > kRtMin && signo <= (kRtMin + kRtMax) / 2)
    return fmt::format("SIGRTMIN+{}", signo - kRtMin);
  if (signo > (kRtMin + kRtMax) / 2 && signo < kRtMax)
    return fmt::format("SIGRTMAX-{}", kRtMax - signo);
  return fmt::format("SIG{}", signo);
}

}  // namespace ipctop
