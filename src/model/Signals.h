// Signal names as `kill -l` prints them on Linux.
#pragma once

#include <string>

namespace ipctop {

// "SIGUSR1", "SIGRTMIN+3", "SIGRTMAX-2"; "SIG32" for the real-time signals
// the C library reserves, "SIG<N>" for anything unknown.
std::string signal_name(int signo);

}  // namespace ipctop
