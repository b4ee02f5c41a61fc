// Kept apart from the rest: <term.h> defines macros named like ordinary
// words (lines, columns, tab), so no other header may follow it.
#pragma once

#include <string>

namespace ipctop::tui {

// Why terminal type `term` cannot hold a full-screen view (unknown to
// terminfo, or no cursor addressing, as TERM=dumb), or "" when it can.
std::string terminal_cannot_address(const char* term);

}  // namespace ipctop::tui
