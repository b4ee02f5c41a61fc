#include "probe/QueueExpiry.h"

#include <algorithm>
#include <cmath>

namespace ipctop::probe {

std::vector<size_t> plan_queue_expiry(const std::vector<QueueState>& queues, size_t capacity,
                                      const QueueExpiryPolicy& policy) {
  std::vector<size_t> expire;
  std::vector<size_t> candidates;  // kept by age, but may go under pressure
  for (size_t i = 0; i < queues.size(); ++i) {
    const QueueState& q = queues[i];
    const bool old = q.empty     ? q.idle_ns > policy.idle_empty_ns
                     : q.reads   ? q.idle_ns > policy.orphan_read_ns
                                 : q.idle_ns > policy.unread_ns;
    if (old)
      expire.push_back(i);
    else if (q.idle_ns >= policy.pressure_idle_ns)
      candidates.push_back(i);
  }
  const double cap = static_cast<double>(capacity);
  const size_t left = queues.size() - expire.size();
  if (static_cast<double>(left) <= policy.high_water * cap) return expire;

  // Under pressure: the longest idle go first, down to the low-water mark.
  const auto target = static_cast<size_t>(std::floor(policy.low_water * cap));
  const size_t surplus = left > target ? left - target : 0;
  const size_t take = std::min(surplus, candidates.size());
  std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(take), candidates.end(),
                    [&](size_t a, size_t b) { return queues[a].idle_ns > queues[b].idle_ns; });
  expire.insert(expire.end(), candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(take));
  return expire;
}

}  // namespace ipctop::probe
