// Fuzz target: the /proc readers (status, stat, comm, cmdline, net/unix,
// task lists) on a file tree built from the input. They must never crash,
// hang or throw, whatever the files hold.
#include <cstdint>

#include "FuzzTree.h"
#include "procfs/ProcFs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static fuzz::Tree tree;
  static const std::vector<std::string> paths = {
      "42/status", "42/stat", "42/comm", "42/cmdline", "net/unix", "42/task/43/status", "42/task/43/comm",
  };
  tree.fill(paths, fuzz::chunks(data, size, paths.size()));
  ipctop::procfs::ProcFs fs(tree.root());
  (void)fs.status(42);
  (void)fs.status(42, 43);
  (void)fs.comm(42);
  (void)fs.comm(42, 43);
  (void)fs.cmdline(42);
  (void)fs.ppid(42);
  (void)fs.start_time_ticks(42);
  (void)fs.unix_socket_paths();
  (void)fs.pids();
  (void)fs.tids(42);
  return 0;
}
