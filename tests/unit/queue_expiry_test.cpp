// The attribution queues' expiry policy (src/probe/QueueExpiry.h): by age
// while the table has room, longest idle first once it fills up.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "probe/QueueExpiry.h"

namespace ipctop::probe {
namespace {

constexpr double kS = 1e9;

QueueState unread(double idle_s) { return {false, false, idle_s * kS}; }
QueueState pending_read(double idle_s) { return {false, true, idle_s * kS}; }
QueueState empty(double idle_s) { return {true, false, idle_s * kS}; }

std::set<size_t> plan(const std::vector<QueueState>& q, size_t capacity) {
  auto v = plan_queue_expiry(q, capacity);
  std::set<size_t> s(v.begin(), v.end());
  EXPECT_EQ(s.size(), v.size()) << "no entry twice";
  return s;
}

TEST(QueueExpiry, ByAgeWhileTheTableHasRoom) {
  const std::vector<QueueState> q{
      pending_read(1), pending_read(3),  // a writer not seen after 2 s: orphan
      empty(9),        empty(11),        // idle empty queues go after 10 s
      unread(299),     unread(301),      // unread data is kept 5 minutes
  };
  EXPECT_EQ(plan(q, 1000), (std::set<size_t>{1, 3, 5}));
}

TEST(QueueExpiry, UnderPressureLongestIdleFirstDownToTheLowWaterMark) {
  // 60 of 100 slots held: over the high-water mark (50), so entries go,
  // longest idle first, until 25 are left.
  std::vector<QueueState> q;
  for (int i = 0; i < 60; ++i) q.push_back(unread(2.5 + i));  // idle 2.5 s .. 61.5 s
  auto out = plan(q, 100);
  EXPECT_EQ(out.size(), 35u);
  for (size_t i = 25; i < 60; ++i) EXPECT_TRUE(out.count(i)) << i;
}

TEST(QueueExpiry, UnderPressureChannelsInUseKeepTheirEntries) {
  // 80 busy channels (touched this second) and 20 never-read pipes: only
  // the idle ones may go, even though the low-water mark is not reached.
  std::vector<QueueState> q;
  for (int i = 0; i < 80; ++i) q.push_back(i % 2 ? unread(0.5) : empty(1.9));
  for (int i = 0; i < 20; ++i) q.push_back(unread(5));
  auto out = plan(q, 100);
  EXPECT_EQ(out.size(), 20u);
  for (size_t i : out) EXPECT_GE(i, 80u);
}

TEST(QueueExpiry, AgeRulesCountTowardsTheMark) {
  // 40 orphan reads expire by age anyway: the 40 unread entries left are
  // under the high-water mark (50 of 100), so none of them goes.
  std::vector<QueueState> q;
  for (int i = 0; i < 40; ++i) q.push_back(pending_read(3));
  for (int i = 0; i < 40; ++i) q.push_back(unread(100));
  auto out = plan(q, 100);
  EXPECT_EQ(out.size(), 40u);
  for (size_t i : out) EXPECT_LT(i, 40u);
}

TEST(QueueExpiry, EmptyAndTinyTables) {
  EXPECT_TRUE(plan({}, 16384).empty());
  EXPECT_TRUE(plan({unread(5)}, 16384).empty());
  // A one-slot table: its only entry, idle 5 s, makes room.
  EXPECT_EQ(plan({unread(5)}, 1), (std::set<size_t>{0}));
  // Capacity 0 (no table): nothing kept under pressure, nothing crashes.
  EXPECT_EQ(plan({unread(5), unread(0)}, 0), (std::set<size_t>{0}));
}

}  // namespace
}  // namespace ipctop::probe
