// When the attribution queues (bpf/ipc.bpf.h, the `queues` table) expire:
// a pure function of each queue's state and idle time, so the policy is
// unit tested without a kernel (Probes::collect_garbage applies it).
//
// Expiring a queue never loses a byte from the totals: bytes are counted
// when they are read. Pending reads (a reader whose writer was never seen)
// are credited to `unattributed` when they expire; pending writes (data not
// read yet) simply leave the table, and if that data is read later, the
// read finds no writer and becomes `unattributed` in turn.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ipctop::probe {

// One entry of the queues table as the expiry sees it.
struct QueueState {
  bool empty = false;        // no pending segment
  bool reads = false;        // the pending segments are reads (else writes)
  double idle_ns = 0;        // since it was last touched, at least
};

struct QueueExpiryPolicy {
  // By age, whatever the table's fill: a pending read whose writer was not
  // seen within this long had a writer ipctop never saw.
  double orphan_read_ns = 2e9;
  double idle_empty_ns = 10e9;  // an idle empty queue
  // Data written and not read (its reader is slow, or gone: `producer |
  // head -1`) keeps its writer this long while the table has room...
  double unread_ns = 300e9;
  // ...but once the table holds more than `high_water` of its capacity,
  // unread and empty queues idle for at least `pressure_idle_ns` expire,
  // longest idle first, until `low_water` is left: channels in use keep
  // their entries and new channels find room (no `queue_map_full`).
  double pressure_idle_ns = 2e9;
  double high_water = 0.5;
  double low_water = 0.25;
};

// The indexes into `queues` of the entries to expire, given the table's
// capacity (--max-channels).
std::vector<size_t> plan_queue_expiry(const std::vector<QueueState>& queues, size_t capacity,
                                      const QueueExpiryPolicy& policy = {});

}  // namespace ipctop::probe
