// The whole screen as a pure function of what is shown and how: golden
// tests call it with fixed snapshots; the driver draws what it returns.
#pragma once

#include "render/tui/Frame.h"
#include "render/tui/Screen.h"
#include "render/tui/ViewState.h"

namespace ipctop::tui {

inline constexpr int kMinWidth = 40;
inline constexpr int kMinHeight = 10;

ScreenModel render(const Frame& frame, const ViewState& state, int width, int height);

// Every key with what it does, as the help screen lists them (also checked
// against the man page).
struct KeyHelp {
  const char* keys;
  const char* what;
};
std::span<const KeyHelp> key_help();

}  // namespace ipctop::tui
