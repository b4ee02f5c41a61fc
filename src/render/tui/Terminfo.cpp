#include "render/tui/Terminfo.h"

#include <unistd.h>

#include "model/Text.h"

// Last: see Terminfo.h.
#include <curses.h>
#include <term.h>

namespace ipctop::tui {

std::string terminal_cannot_address(const char* term) {
  int err = 0;
  if (setupterm(term, STDOUT_FILENO, &err) != OK)
    return std::string("the terminal type TERM=") + sanitize(term) +
           " is unknown to terminfo: set TERM to your terminal's type, or use --json";
  char* cup = tigetstr(const_cast<char*>("cup"));
  // tigetstr() answers (char*)-1 for a name that is not a string capability.
  bool addressable = cup && cup != reinterpret_cast<char*>(-1);  // NOLINT(performance-no-int-to-ptr)
  del_curterm(cur_term);
  if (!addressable)
    return std::string("the terminal TERM=") + sanitize(term) +
           " cannot move the cursor, which the live view needs: use --json";
  return "";
}

}  // namespace ipctop::tui
