// Where the TUI gets its snapshots: the live tracer (src/app) or a recording
// (ReplaySource). The driver waits on the keyboard and on fds() together.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "model/Snapshot.h"

namespace ipctop::tui {

class SnapshotSource {
 public:
  virtual ~SnapshotSource() = default;
  // File descriptors to wait on besides the keyboard (the live ring buffer).
  virtual std::vector<int> fds() { return {}; }
  // One of fds() is readable: consume what is there without blocking.
  virtual void service() {}
  // Milliseconds until next() is due (0: now); -1: not until something
  // changes (a paused or finished recording).
  virtual int ms_until_next() = 0;
  // The next snapshot; nullopt at the end of a recording.
  virtual std::optional<Snapshot> next() = 0;
  virtual double interval() const = 0;
  virtual void set_interval(double seconds) = 0;
  // A live source keeps producing while the display is paused; a
  // recording stops.
  virtual bool live() const = 0;
  virtual void set_paused(bool) {}
  // Recordings: move by `delta` snapshots and return that one.
  virtual std::optional<Snapshot> seek(int /*delta*/) { return std::nullopt; }
  // "live", "replay 12/340".
  virtual std::string label() const = 0;
};

// Plays recorded snapshots at their own pace (each one's interval_s scaled
// to the interval chosen with + and -, relative to the first one's).
class ReplaySource final : public SnapshotSource {
 public:
  explicit ReplaySource(std::vector<Snapshot> snaps);
  int ms_until_next() override;
  std::optional<Snapshot> next() override;
  double interval() const override { return interval_; }
  void set_interval(double seconds) override;
  bool live() const override { return false; }
  void set_paused(bool paused) override;
  std::optional<Snapshot> seek(int delta) override;
  std::string label() const override;

 private:
  std::vector<Snapshot> snaps_;
  size_t pos_ = 0;  // the next one to show
  bool paused_ = false;
  double interval_ = 1;
  double due_ = 0;  // monotonic seconds
};

double monotonic_now();

}  // namespace ipctop::tui
