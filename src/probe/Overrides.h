// Forced feature overrides, for testing the fallbacks and error messages on
// a kernel that has everything: each one only takes a feature away, so none
// can widen what ipctop does. Read from the environment:
//   IPCTOP_FORCE_NO_BTF=1              as if /sys/kernel/btf/vmlinux were missing
//   IPCTOP_FORCE_NO_TP_BTF=1           as if the kernel refused tp_btf programs
//   IPCTOP_FORCE_NO_TRACEPOINT=TP,...  as if these tracepoints did not exist
//   IPCTOP_FORCE_REFUSE=PROGRAM,...    as if the verifier refused these programs
//   IPCTOP_FORCE_NO_FEXIT=1            as if the kernel refused fexit programs
//                                      (pipes are then counted at sys_exit)
#pragma once

#include <set>
#include <string>

namespace ipctop::probe {

struct Overrides {
  bool no_btf = false;
  bool no_tp_btf = false;
  std::set<std::string> no_tracepoint;
  std::set<std::string> refuse;
  bool no_fexit = false;

  static Overrides from_environment();
  bool any() const {
    return no_btf || no_tp_btf || !no_tracepoint.empty() || !refuse.empty() || no_fexit;
  }
};

}  // namespace ipctop::probe
