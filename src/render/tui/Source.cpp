#include "render/tui/Source.h"

#include <time.h>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace ipctop::tui {

double monotonic_now() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

ReplaySource::ReplaySource(std::vector<Snapshot> snaps) : snaps_(std::move(snaps)) {
  if (!snaps_.empty() && snaps_.front().interval_s > 0) interval_ = snaps_.front().interval_s;
  due_ = monotonic_now();
}

int ReplaySource::ms_until_next() {
  if (paused_ || pos_ >= snaps_.size()) return -1;
  double left = due_ - monotonic_now();
  return left <= 0 ? 0 : static_cast<int>(std::ceil(left * 1000));
}

std::optional<Snapshot> ReplaySource::next() {
  if (pos_ >= snaps_.size()) return std::nullopt;
  const Snapshot& s = snaps_[pos_++];
  double base = snaps_.front().interval_s > 0 ? snaps_.front().interval_s : 1;
  double pace = s.interval_s > 0 ? s.interval_s / base : 1;
  due_ = monotonic_now() + std::clamp(pace * interval_, 0.01, 3600.0);
  return s;
}

void ReplaySource::set_interval(double seconds) { interval_ = seconds; }

void ReplaySource::set_paused(bool paused) {
  if (paused_ && !paused) due_ = monotonic_now();
  paused_ = paused;
}

std::optional<Snapshot> ReplaySource::seek(int delta) {
  if (snaps_.empty()) return std::nullopt;
  // pos_ is one past the one shown.
  long shown = static_cast<long>(pos_) - 1;
  long target = std::clamp<long>(shown + delta, 0, static_cast<long>(snaps_.size()) - 1);
  pos_ = static_cast<size_t>(target) + 1;
  due_ = monotonic_now() + interval_;
  return snaps_[static_cast<size_t>(target)];
}

std::string ReplaySource::label() const {
  return fmt::format("replay {}/{}{}", std::min(pos_, snaps_.size()), snaps_.size(),
                     pos_ >= snaps_.size() ? " (end)" : "");
}

}  // namespace ipctop::tui
