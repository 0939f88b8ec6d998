// MemoryIdempotencyStore: the first request executes, repeats wait while it runs and replay its
// answer after, a different body under the key conflicts, and keys free up after the TTL, after
// abandon(), and after a stuck execution's in-progress TTL.
#include "state/memory/memory_idempotency_store.h"

#include <gtest/gtest.h>

namespace sheepdog {
namespace {

using std::chrono::seconds;
using Verdict = IdempotencyStore::Verdict;

const TimePoint kT0 = TimePoint{} + std::chrono::hours(1);

StoredResponse answer(std::string body) {
  StoredResponse r;
  r.status = 200;
  r.headers = {{"content-type", "application/json"}, {"x-sheepdog-attempts", "2"}};
  r.body = std::move(body);
  return r;
}

TEST(IdempotencyStoreTest, FirstExecutesRepeatsWaitThenReplay) {
  MemoryIdempotencyStore store(seconds(3600), seconds(600));
  EXPECT_EQ(store.begin_now("tenant-a/k1", 42, kT0).verdict, Verdict::kExecute);
  EXPECT_EQ(store.begin_now("tenant-a/k1", 42, kT0 + seconds(1)).verdict, Verdict::kInProgress);
  EXPECT_EQ(store.begin_now("tenant-b/k1", 42, kT0).verdict, Verdict::kExecute);  // another scope
  store.complete_now("tenant-a/k1", answer(R"({"id":"chatcmpl-1"})"), kT0 + seconds(2));
  const IdempotencyStore::Begin again = store.begin_now("tenant-a/k1", 42, kT0 + seconds(3));
  ASSERT_EQ(again.verdict, Verdict::kReplay);
  ASSERT_TRUE(again.response);
  EXPECT_EQ(again.response->status, 200);
  EXPECT_EQ(again.response->body, R"({"id":"chatcmpl-1"})");
  EXPECT_EQ(again.response->headers[1].second, "2");
}

TEST(IdempotencyStoreTest, ADifferentBodyUnderTheKeyConflicts) {
  MemoryIdempotencyStore store(seconds(3600), seconds(600));
  store.begin_now("k", 1, kT0);
  EXPECT_EQ(store.begin_now("k", 2, kT0).verdict, Verdict::kConflict);
  store.complete_now("k", answer("{}"), kT0);
  const IdempotencyStore::Begin conflict = store.begin_now("k", 2, kT0);
  EXPECT_EQ(conflict.verdict, Verdict::kConflict);
  EXPECT_FALSE(conflict.response);  // never hand one body's answer to another body
}

TEST(IdempotencyStoreTest, AnswersExpireAfterTheTtl) {
  MemoryIdempotencyStore store(seconds(60), seconds(10));
  store.begin_now("k", 1, kT0);
  store.complete_now("k", answer("{}"), kT0 + seconds(5));
  EXPECT_EQ(store.begin_now("k", 1, kT0 + seconds(64)).verdict, Verdict::kReplay);
  EXPECT_EQ(store.begin_now("k", 1, kT0 + seconds(65)).verdict, Verdict::kExecute);
}

TEST(IdempotencyStoreTest, AbandonFreesTheKeyButNotAStoredAnswer) {
  MemoryIdempotencyStore store(seconds(60), seconds(10));
  store.begin_now("k", 1, kT0);
  store.abandon_now("k");
  EXPECT_EQ(store.begin_now("k", 1, kT0).verdict, Verdict::kExecute);
  store.complete_now("k", answer("{}"), kT0);
  store.abandon_now("k");
  EXPECT_EQ(store.begin_now("k", 1, kT0).verdict, Verdict::kReplay);
}

TEST(IdempotencyStoreTest, AStuckExecutionReleasesItsKey) {
  MemoryIdempotencyStore store(seconds(60), seconds(10));
  store.begin_now("k", 1, kT0);
  EXPECT_EQ(store.begin_now("k", 1, kT0 + seconds(9)).verdict, Verdict::kInProgress);
  EXPECT_EQ(store.begin_now("k", 1, kT0 + seconds(10)).verdict, Verdict::kExecute);
}

TEST(IdempotencyStoreTest, ExpiredEntriesAreSweptAway) {
  MemoryIdempotencyStore store(seconds(60), seconds(10));
  for (int i = 0; i < 100; ++i) {
    store.begin_now("k" + std::to_string(i), 1, kT0);
    store.complete_now("k" + std::to_string(i), answer("{}"), kT0);
  }
  EXPECT_EQ(store.size(), 100u);
  store.begin_now("other", 1, kT0 + seconds(61));
  EXPECT_EQ(store.size(), 1u);
}

}  // namespace
}  // namespace sheepdog
