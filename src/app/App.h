#pragma once

namespace ipctop::app {

inline constexpr int kExitCannotTrace = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitLoss = 3;

// The whole program: parse, dispatch, run. main() only calls this.
int run(int argc, char** argv);

}  // namespace ipctop::app
