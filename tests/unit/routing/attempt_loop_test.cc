// AttemptLoop, the way Envoy tests its retry state: a scripted sequence of attempt ends on a
// manual clock, and the exact commands the loop answers with; no sockets, no sleeps. Breakers,
// budgets and key pools are the real objects, checked after each step.
#include "routing/attempt_loop.h"

#include <gtest/gtest.h>

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/random.h"

namespace sheepdog {
namespace {

using Kind = LoopCommand::Kind;

// Records what the loop reports, for assertions on metrics-relevant events.
struct Recorder : LoopObserver {
  void on_retry(ErrorKind cause) override { retries.push_back(cause); }
  void on_key_used(const LoopAlias&, size_t, size_t key) override { keys_used.push_back(key); }
  void on_key_rested(const LoopAlias&, size_t, size_t key) override {
    keys_rested.push_back(key);
  }
  void on_keys_short(const LoopAlias&, size_t, bool waited, bool never) override {
    shortages.push_back(waited ? "waited" : never ? "never" : "refused");
  }
  void on_settled(const OpenAttempt& open, const Settlement& s, Duration backoff) override {
    settled.push_back(open.alias->name + "/" + std::to_string(open.target) + ":" +
                      (s.error ? std::string(to_string(*s.error)) : "ok") + "@" +
                      std::to_string(std::chrono::duration_cast<milliseconds>(backoff).count()));
  }
  std::vector<ErrorKind> retries;
  std::vector<size_t> keys_used;
  std::vector<size_t> keys_rested;
  std::vector<std::string> shortages;
  std::vector<std::string> settled;
};

// An alias of `n` deployments tried in order, with its own breakers, budget and router.
struct TestAlias {
  TestAlias(std::string name, size_t n, CircuitBreakerPolicy breaker_policy = {}) {
    RoutePolicy route;
    route.strategy = RoutingStrategy::kOrdered;
    for (size_t i = 0; i < n; ++i) {
      route.targets.push_back(RouteTarget{i, 1.0, false});
      breakers.emplace_back(breaker_policy);
      stats.emplace_back();
    }
    router = std::make_unique<Router>(route);
    alias.name = std::move(name);
    alias.retry.max_attempts = 3;
    alias.retry.attempt_timeout = seconds(10);
    alias.retry.total_timeout = seconds(30);
    alias.retry.backoff.kind = BackoffKind::kConstant;
    alias.retry.backoff.base_delay = milliseconds(100);
    alias.retry.backoff.jitter = JitterMode::kNone;
    alias.budget = &budget;
    alias.router = router.get();
    for (size_t i = 0; i < n; ++i) {
      alias.targets.push_back(LoopTarget{&breakers[i], &stats[i], nullptr});
    }
  }
  std::deque<CircuitBreaker> breakers;
  std::deque<DeploymentStats> stats;
  RetryBudget budget{RetryBudgetPolicy{}};
  std::unique_ptr<Router> router;
  LoopAlias alias;
};

AttemptEnd success() { return AttemptEnd{}; }
AttemptEnd failure(ErrorKind kind, std::optional<Duration> pushback = std::nullopt) {
  AttemptEnd end;
  end.verdict = Verdict::kFailure;
  end.outcome = AttemptOutcome::failure(kind);
  end.pushback = pushback;
  return end;
}

class AttemptLoopTest : public ::testing::Test {
 protected:
  AttemptLoop make(const LoopAlias& alias) {
    LoopRequest request;
    request.observer = &recorder_;
    request.estimate_tokens = [] { return 100; };
    return AttemptLoop(alias, std::move(request), random_, clock_.now());
  }
  static void expect_attempt(const LoopCommand& c, const LoopAlias& alias, size_t target) {
    ASSERT_EQ(c.kind, Kind::kAttempt);
    EXPECT_EQ(c.alias, &alias);
    EXPECT_EQ(c.target, target);
  }

  ManualClock clock_{TimePoint{} + seconds(1000)};
  SeededRandom random_{7};
  Recorder recorder_;
};

TEST_F(AttemptLoopTest, ASuccessEndsTheRequestAndCountsForTheDeployment) {
  TestAlias a("a", 2);
  AttemptLoop loop = make(a.alias);
  const LoopCommand first = loop.start(clock_.now());
  expect_attempt(first, a.alias, 0);
  EXPECT_EQ(first.attempt_timeout, seconds(10));
  EXPECT_EQ(first.deadline, clock_.now() + seconds(30));
  EXPECT_EQ(a.budget.active_requests(), 1);
  clock_.advance(milliseconds(40));
  AttemptEnd end = success();
  end.latency = milliseconds(40);
  end.usage = TokenUsage{true, 11, 5};
  EXPECT_EQ(loop.on_attempt_ended(end, clock_.now()).kind, Kind::kDone);
  EXPECT_EQ(loop.attempts(), 1);
  EXPECT_EQ(loop.usage().total(), 16);
  EXPECT_EQ(a.stats[0].snapshot().successes, 1u);
  EXPECT_EQ(recorder_.settled, (std::vector<std::string>{"a/0:ok@0"}));
  EXPECT_TRUE(recorder_.retries.empty());
}

TEST_F(AttemptLoopTest, AServerErrorWaitsTheBackoffThenTriesTheNextDeployment) {
  TestAlias a("a", 2);
  AttemptLoop loop = make(a.alias);
  expect_attempt(loop.start(clock_.now()), a.alias, 0);
  const LoopCommand wait = loop.on_attempt_ended(failure(ErrorKind::kServerError), clock_.now());
  ASSERT_EQ(wait.kind, Kind::kWait);
  EXPECT_EQ(wait.delay, milliseconds(100));
  EXPECT_EQ(a.budget.active_retries(), 1);  // the retry holds its slot while it waits
  clock_.advance(wait.delay);
  const LoopCommand second = loop.on_wait_finished(clock_.now());
  expect_attempt(second, a.alias, 1);
  EXPECT_EQ(second.backoff, milliseconds(100));
  EXPECT_EQ(loop.on_attempt_ended(success(), clock_.now()).kind, Kind::kDone);
  EXPECT_EQ(a.budget.active_retries(), 0);
  EXPECT_EQ(recorder_.retries, (std::vector<ErrorKind>{ErrorKind::kServerError}));
  EXPECT_EQ(recorder_.settled, (std::vector<std::string>{"a/0:server_error@0", "a/1:ok@100"}));
}

TEST_F(AttemptLoopTest, MaxAttemptsWalksToTheFallbackAliasWithItsOwnAttempts) {
  TestAlias a("a", 1);
  TestAlias b("b", 1);
  a.alias.retry.max_attempts = 2;
  b.alias.retry.max_attempts = 1;
  a.alias.fallbacks = {&b.alias};
  AttemptLoop loop = make(a.alias);
  expect_attempt(loop.start(clock_.now()), a.alias, 0);
  LoopCommand c = loop.on_attempt_ended(failure(ErrorKind::kServerError), clock_.now());
  ASSERT_EQ(c.kind, Kind::kWait);
  clock_.advance(c.delay);
  expect_attempt(loop.on_wait_finished(clock_.now()), a.alias, 0);  // the same, the only one
  // a is out of attempts: b's first attempt, at once, as a retry of the request.
  c = loop.on_attempt_ended(failure(ErrorKind::kServerError), clock_.now());
  expect_attempt(c, b.alias, 0);
  EXPECT_EQ(c.backoff, Duration::zero());
  EXPECT_EQ(b.budget.active_retries(), 1);
  c = loop.on_attempt_ended(failure(ErrorKind::kOverloaded, seconds(3)), clock_.now());
  ASSERT_EQ(c.kind, Kind::kGiveUp);
  EXPECT_EQ(c.reason, GiveUpReason::kMaxAttempts);
  EXPECT_EQ(c.error, ErrorKind::kOverloaded);
  EXPECT_EQ(c.retry_after, seconds(3));
  EXPECT_EQ(b.budget.active_retries(), 0);
  EXPECT_EQ(recorder_.retries.size(), 2u);
}

TEST_F(AttemptLoopTest, AFallBackKindExcludesTheDeploymentForTheRequest) {
  TestAlias a("a", 2);
  AttemptLoop loop = make(a.alias);
  expect_attempt(loop.start(clock_.now()), a.alias, 0);
  // quota_exhausted falls back: the next deployment at once, never 0 again.
  expect_attempt(loop.on_attempt_ended(failure(ErrorKind::kQuotaExhausted), clock_.now()),
                 a.alias, 1);
  const LoopCommand c = loop.on_attempt_ended(failure(ErrorKind::kQuotaExhausted), clock_.now());
  ASSERT_EQ(c.kind, Kind::kGiveUp);
  EXPECT_EQ(c.reason, GiveUpReason::kNoAlternative);
}

TEST_F(AttemptLoopTest, ContextLengthGoesStraightToTheLargerAlias) {
  TestAlias small("small", 2);
  TestAlias large("large", 1);
  TestAlias other("other", 1);
  small.alias.fallbacks = {&other.alias};
  small.alias.context_window_fallback = &large.alias;
  AttemptLoop loop = make(small.alias);
  expect_attempt(loop.start(clock_.now()), small.alias, 0);
  const LoopCommand c =
      loop.on_attempt_ended(failure(ErrorKind::kContextLengthExceeded), clock_.now());
  expect_attempt(c, large.alias, 0);
  EXPECT_EQ(loop.alias().name, "large");
}

TEST_F(AttemptLoopTest, EveryBreakerOpenGivesUpWithRetryAfterUntilTheFirstHalfOpens) {
  CircuitBreakerPolicy trips_at_once;
  trips_at_once.consecutive_failures = 1;
  trips_at_once.open_duration = seconds(5);
  TestAlias a("a", 2, trips_at_once);
  for (CircuitBreaker& b : a.breakers) {
    ASSERT_TRUE(b.try_acquire(clock_.now()));
    b.record(AttemptOutcome::failure(ErrorKind::kServerError), clock_.now());
  }
  clock_.advance(seconds(2));
  AttemptLoop loop = make(a.alias);
  const LoopCommand c = loop.start(clock_.now());
  ASSERT_EQ(c.kind, Kind::kGiveUp);
  EXPECT_EQ(c.reason, GiveUpReason::kAllCircuitsOpen);
  EXPECT_EQ(c.error, ErrorKind::kCircuitOpen);
  EXPECT_EQ(c.retry_after, seconds(3));
}

TEST_F(AttemptLoopTest, ARefusedKeyRestsAndTheSameDeploymentIsRetriedAtOnceWithTheOther) {
  TestAlias a("a", 2);
  KeyPool pool({KeySpec{"sk-one", 0, 0}, KeySpec{"sk-two", 0, 0}});
  a.alias.targets[0].keys = &pool;
  AttemptLoop loop = make(a.alias);
  const LoopCommand first = loop.start(clock_.now());
  expect_attempt(first, a.alias, 0);
  ASSERT_TRUE(first.key);
  const LoopCommand second =
      loop.on_attempt_ended(failure(ErrorKind::kRateLimited, seconds(20)), clock_.now());
  expect_attempt(second, a.alias, 0);  // same deployment, no backoff, the other key
  EXPECT_EQ(second.backoff, Duration::zero());
  ASSERT_TRUE(second.key);
  EXPECT_NE(*second.key, *first.key);
  EXPECT_EQ(recorder_.keys_rested, (std::vector<size_t>{*first.key}));
  EXPECT_EQ(pool.snapshot(clock_.now())[*first.key].cooling_for, seconds(20));
  // Neither the breaker nor the budget held the key's limit against the deployment.
  EXPECT_EQ(a.budget.tokens(), 100);
  EXPECT_EQ(loop.on_attempt_ended(success(), clock_.now()).kind, Kind::kDone);
}

TEST_F(AttemptLoopTest, WithoutRotationARefusedKeyIsAnOrdinaryFailure) {
  TestAlias a("a", 2);
  KeyPool pool({KeySpec{"sk-one", 0, 0}, KeySpec{"sk-two", 0, 0}});
  a.alias.targets[0].keys = &pool;
  LoopRequest request;
  request.rotation.rotate = false;
  AttemptLoop loop(a.alias, std::move(request), random_, clock_.now());
  expect_attempt(loop.start(clock_.now()), a.alias, 0);
  const LoopCommand c = loop.on_attempt_ended(failure(ErrorKind::kRateLimited), clock_.now());
  ASSERT_EQ(c.kind, Kind::kWait);  // the backoff, then the next deployment
  clock_.advance(c.delay);
  expect_attempt(loop.on_wait_finished(clock_.now()), a.alias, 1);
  loop.cancel(clock_.now());
}

TEST_F(AttemptLoopTest, ARevokedKeyRestsAMinuteAndTheRequestMovesOn) {
  TestAlias a("a", 2);
  KeyPool pool({KeySpec{"sk-revoked", 0, 0}});
  a.alias.targets[0].keys = &pool;
  AttemptLoop loop = make(a.alias);
  expect_attempt(loop.start(clock_.now()), a.alias, 0);
  expect_attempt(loop.on_attempt_ended(failure(ErrorKind::kAuth), clock_.now()), a.alias, 1);
  EXPECT_EQ(pool.snapshot(clock_.now())[0].cooling_for, seconds(60));
  loop.cancel(clock_.now());
}

TEST_F(AttemptLoopTest, NoKeyWithRoomWaitsForTheFirstWithinTheDeadline) {
  TestAlias a("a", 1);
  KeyPool pool({KeySpec{"sk-one", 1, 0}});  // 1 request per minute
  a.alias.targets[0].keys = &pool;
  a.alias.retry.total_timeout = seconds(150);
  ASSERT_TRUE(pool.acquire(100, clock_.now()));  // someone else's request used it
  const std::optional<TimePoint> free_at = pool.next_available(100, clock_.now());
  ASSERT_TRUE(free_at);
  AttemptLoop loop = make(a.alias);
  const LoopCommand wait = loop.start(clock_.now());
  ASSERT_EQ(wait.kind, Kind::kWait);
  EXPECT_GT(wait.delay, Duration::zero());
  EXPECT_EQ(wait.delay, *free_at - clock_.now());
  EXPECT_EQ(recorder_.shortages, (std::vector<std::string>{"waited"}));
  clock_.advance(wait.delay);
  const LoopCommand c = loop.on_wait_finished(clock_.now());
  expect_attempt(c, a.alias, 0);
  EXPECT_EQ(c.backoff, wait.delay);
  loop.cancel(clock_.now());
}

TEST_F(AttemptLoopTest, NoKeyBeforeTheDeadlineGivesUpWithRetryAfter) {
  TestAlias a("a", 1);
  KeyPool pool({KeySpec{"sk-one", 1, 0}});
  a.alias.targets[0].keys = &pool;
  a.alias.retry.total_timeout = seconds(5);
  a.alias.retry.attempt_timeout = seconds(5);
  ASSERT_TRUE(pool.acquire(100, clock_.now()));
  AttemptLoop loop = make(a.alias);
  const LoopCommand c = loop.start(clock_.now());
  ASSERT_EQ(c.kind, Kind::kGiveUp);
  EXPECT_EQ(c.reason, GiveUpReason::kKeysExhausted);
  EXPECT_EQ(c.error, ErrorKind::kRateLimited);
  ASSERT_TRUE(c.retry_after);
  EXPECT_GT(*c.retry_after, seconds(5));
  EXPECT_EQ(recorder_.shortages, (std::vector<std::string>{"refused"}));
  // The breaker's admission was released: a half-open probe slot would be free again.
  EXPECT_EQ(a.breakers[0].state(clock_.now()), BreakerState::kClosed);
}

TEST_F(AttemptLoopTest, AnInvalidAnswerIsResentToTheSameDeploymentOutsideMaxAttempts) {
  TestAlias a("a", 2);
  a.alias.retry.max_attempts = 1;
  AttemptLoop loop = make(a.alias);
  expect_attempt(loop.start(clock_.now()), a.alias, 0);
  AttemptEnd invalid;
  invalid.verdict = Verdict::kInvalid;
  invalid.resend = true;
  invalid.usage = TokenUsage{true, 10, 3};
  const LoopCommand again = loop.on_attempt_ended(invalid, clock_.now());
  expect_attempt(again, a.alias, 0);
  EXPECT_TRUE(again.resend);
  invalid.resend = false;
  EXPECT_EQ(loop.on_attempt_ended(invalid, clock_.now()).kind, Kind::kDone);
  EXPECT_EQ(loop.usage().total(), 26);  // both answers were paid for
  EXPECT_EQ(recorder_.retries, (std::vector<ErrorKind>{ErrorKind::kInvalidToolCall}));
  EXPECT_EQ(a.stats[0].snapshot().successes, 2u);  // the deployment did its job both times
  EXPECT_EQ(recorder_.settled,
            (std::vector<std::string>{"a/0:invalid_tool_call@0", "a/0:invalid_tool_call@0"}));
}

TEST_F(AttemptLoopTest, AFinalFailureEndsTheRequestWithoutARetry) {
  TestAlias a("a", 2);
  AttemptLoop loop = make(a.alias);
  expect_attempt(loop.start(clock_.now()), a.alias, 0);
  AttemptEnd broke = failure(ErrorKind::kConnectionReset);
  broke.final = true;  // a stream broke after its head went out
  EXPECT_EQ(loop.on_attempt_ended(broke, clock_.now()).kind, Kind::kDone);
  EXPECT_TRUE(recorder_.retries.empty());
}

TEST_F(AttemptLoopTest, CancelReleasesTheBreakerSlotAndTheRetrySlot) {
  CircuitBreakerPolicy trips_at_once;
  trips_at_once.consecutive_failures = 1;
  trips_at_once.open_duration = seconds(1);
  TestAlias a("a", 1, trips_at_once);
  ASSERT_TRUE(a.breakers[0].try_acquire(clock_.now()));
  a.breakers[0].record(AttemptOutcome::failure(ErrorKind::kServerError), clock_.now());
  clock_.advance(seconds(1));  // half-open: one probe
  {
    AttemptLoop loop = make(a.alias);
    expect_attempt(loop.start(clock_.now()), a.alias, 0);  // takes the probe slot
    loop.cancel(clock_.now());                               // the client left
  }
  EXPECT_EQ(a.budget.active_requests(), 0);
  // The probe slot is free for the next request, and nothing counted against the deployment.
  AttemptLoop next = make(a.alias);
  expect_attempt(next.start(clock_.now()), a.alias, 0);
  EXPECT_EQ(next.on_attempt_ended(success(), clock_.now()).kind, Kind::kDone);
  EXPECT_EQ(a.breakers[0].state(clock_.now()), BreakerState::kClosed);
}

TEST_F(AttemptLoopTest, TheDeadlineStopsRetries) {
  TestAlias a("a", 1);
  a.alias.retry.total_timeout = seconds(1);
  a.alias.retry.attempt_timeout = seconds(1);
  AttemptLoop loop = make(a.alias);
  expect_attempt(loop.start(clock_.now()), a.alias, 0);
  clock_.advance(milliseconds(950));
  const LoopCommand c = loop.on_attempt_ended(failure(ErrorKind::kTimeout), clock_.now());
  ASSERT_EQ(c.kind, Kind::kGiveUp);  // the 100 ms backoff would end past the deadline
  EXPECT_EQ(c.reason, GiveUpReason::kDeadline);
  EXPECT_EQ(c.error, ErrorKind::kDeadlineExceeded);
}

}  // namespace
}  // namespace sheepdog
