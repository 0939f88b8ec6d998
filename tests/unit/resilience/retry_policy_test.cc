#include "resilience/retry_policy.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace sheepdog {
namespace {

using Action = RetryDecision::Action;

const TimePoint kStart = TimePoint{} + seconds(100);

// Exponential 100ms x2 up to 1s without jitter, so every delay is exact.
RetryPolicy exact_policy() {
  RetryPolicy policy;
  policy.max_attempts = 5;
  policy.attempt_timeout = seconds(10);
  policy.total_timeout = seconds(60);
  policy.max_pushback = seconds(30);
  policy.backoff.kind = BackoffKind::kExponential;
  policy.backoff.base_delay = milliseconds(100);
  policy.backoff.max_delay = seconds(1);
  policy.backoff.multiplier = 2;
  policy.backoff.jitter = JitterMode::kNone;
  return policy;
}

AttemptOutcome fail(ErrorKind kind, std::optional<bool> should_retry = std::nullopt) {
  AttemptOutcome outcome = AttemptOutcome::failure(kind);
  outcome.should_retry = should_retry;
  return outcome;
}

class RetryStateTest : public ::testing::Test {
 protected:
  RetryPolicy policy_ = exact_policy();
  FixedRandom random_{0.5};
};

TEST_F(RetryStateTest, SuccessIsDone) {
  RetryState state(policy_, random_, kStart);
  const RetryDecision d = state.on_attempt(AttemptOutcome::success(), seconds(5), kStart, true);
  EXPECT_EQ(d.action, Action::kDone);
  EXPECT_FALSE(d.is_retry());
  EXPECT_EQ(d.reason, GiveUpReason::kNone);
  EXPECT_EQ(state.attempts(), 1);
  EXPECT_EQ(state.total_backoff(), Duration::zero());
}

TEST_F(RetryStateTest, RetriesSameWithBackoffUntilMaxAttempts) {
  policy_.max_attempts = 4;
  RetryState state(policy_, random_, kStart);
  TimePoint now = kStart;
  for (Duration expected : {milliseconds(100), milliseconds(200), milliseconds(400)}) {
    const RetryDecision d = state.on_attempt(fail(ErrorKind::kServerError), {}, now, false);
    ASSERT_EQ(d.action, Action::kRetrySame);
    EXPECT_TRUE(d.is_retry());
    EXPECT_EQ(d.delay, expected);
    now += d.delay;
  }
  const RetryDecision last = state.on_attempt(fail(ErrorKind::kServerError), {}, now, false);
  EXPECT_EQ(last.action, Action::kGiveUp);
  EXPECT_EQ(last.reason, GiveUpReason::kMaxAttempts);
  EXPECT_EQ(last.retry_after, std::nullopt);
  EXPECT_EQ(state.attempts(), 4);
  EXPECT_EQ(state.total_backoff(), milliseconds(700));
}

TEST_F(RetryStateTest, MaxAttemptsOfOneNeverRetries) {
  policy_.max_attempts = 1;
  RetryState state(policy_, random_, kStart);
  const RetryDecision d = state.on_attempt(fail(ErrorKind::kRateLimited), {}, kStart, true);
  EXPECT_EQ(d.reason, GiveUpReason::kMaxAttempts);
}

TEST_F(RetryStateTest, MaxAttemptsCarriesPushback) {
  policy_.max_attempts = 1;
  RetryState state(policy_, random_, kStart);
  const RetryDecision d =
      state.on_attempt(fail(ErrorKind::kRateLimited), seconds(7), kStart, false);
  EXPECT_EQ(d.reason, GiveUpReason::kMaxAttempts);
  EXPECT_EQ(d.retry_after, seconds(7));
}

TEST_F(RetryStateTest, PrefersTheNextDeploymentWhenThereIsOne) {
  RetryState state(policy_, random_, kStart);
  const RetryDecision d = state.on_attempt(fail(ErrorKind::kOverloaded), {}, kStart, true);
  EXPECT_EQ(d.action, Action::kRetryNext);
  EXPECT_EQ(d.delay, milliseconds(100));
}

TEST_F(RetryStateTest, StaysWhenNotPreferringOtherDeployments) {
  policy_.prefer_other_deployment = false;
  RetryState state(policy_, random_, kStart);
  const RetryDecision d = state.on_attempt(fail(ErrorKind::kOverloaded), {}, kStart, true);
  EXPECT_EQ(d.action, Action::kRetrySame);
  EXPECT_EQ(d.delay, milliseconds(100));
}

TEST_F(RetryStateTest, NotRetryableKindFailsAtOnce) {
  RetryState state(policy_, random_, kStart);
  const RetryDecision d = state.on_attempt(fail(ErrorKind::kBadRequest), seconds(3), kStart, true);
  EXPECT_EQ(d.action, Action::kGiveUp);
  EXPECT_EQ(d.reason, GiveUpReason::kNotRetryable);
  EXPECT_EQ(d.retry_after, std::nullopt);
  EXPECT_EQ(state.attempts(), 1);
}

TEST_F(RetryStateTest, NotRetryableIsCheckedBeforeMaxAttemptsAndDeadline) {
  policy_.max_attempts = 1;
  RetryState state(policy_, random_, kStart);
  const RetryDecision d =
      state.on_attempt(fail(ErrorKind::kBadRequest), {}, kStart + seconds(600), false);
  EXPECT_EQ(d.reason, GiveUpReason::kNotRetryable);
}

TEST_F(RetryStateTest, ShouldRetryHeaderOverridesBothWays) {
  {
    RetryState state(policy_, random_, kStart);
    const RetryDecision d = state.on_attempt(fail(ErrorKind::kBadRequest, true), {}, kStart, false);
    EXPECT_EQ(d.action, Action::kRetrySame);
    EXPECT_EQ(d.delay, milliseconds(100));
  }
  {
    RetryState state(policy_, random_, kStart);
    const RetryDecision d =
        state.on_attempt(fail(ErrorKind::kRateLimited, false), {}, kStart, true);
    EXPECT_EQ(d.reason, GiveUpReason::kNotRetryable);
  }
  {
    // should_retry: true turns a fall-back kind into a plain retry (with backoff).
    RetryState state(policy_, random_, kStart);
    const RetryDecision d =
        state.on_attempt(fail(ErrorKind::kQuotaExhausted, true), {}, kStart, false);
    EXPECT_EQ(d.action, Action::kRetrySame);
    EXPECT_EQ(d.delay, milliseconds(100));
  }
}

TEST_F(RetryStateTest, ShouldRetryHeaderIgnoredWhenNotHonored) {
  policy_.honor_should_retry_header = false;
  RetryState state(policy_, random_, kStart);
  EXPECT_EQ(state.on_attempt(fail(ErrorKind::kBadRequest, true), {}, kStart, false).reason,
            GiveUpReason::kNotRetryable);
  const RetryDecision d = state.on_attempt(fail(ErrorKind::kRateLimited, false), {}, kStart, false);
  EXPECT_EQ(d.action, Action::kRetrySame);
}

TEST_F(RetryStateTest, PolicyOverridesDisposition) {
  policy_.dispositions[static_cast<size_t>(ErrorKind::kBadRequest)] = Disposition::kRetry;
  policy_.dispositions[static_cast<size_t>(ErrorKind::kRateLimited)] = Disposition::kFail;
  policy_.dispositions[static_cast<size_t>(ErrorKind::kServerError)] = Disposition::kFallBack;
  RetryState state(policy_, random_, kStart);
  EXPECT_EQ(state.on_attempt(fail(ErrorKind::kBadRequest), {}, kStart, false).action,
            Action::kRetrySame);
  EXPECT_EQ(state.on_attempt(fail(ErrorKind::kRateLimited), {}, kStart, false).reason,
            GiveUpReason::kNotRetryable);
  const RetryDecision d = state.on_attempt(fail(ErrorKind::kServerError), {}, kStart, true);
  EXPECT_EQ(d.action, Action::kRetryNext);
  EXPECT_EQ(d.delay, Duration::zero());
}

TEST_F(RetryStateTest, FallBackGoesNextWithoutDelay) {
  RetryState state(policy_, random_, kStart);
  const RetryDecision d =
      state.on_attempt(fail(ErrorKind::kQuotaExhausted), seconds(3600), kStart, true);
  EXPECT_EQ(d.action, Action::kRetryNext);
  EXPECT_EQ(d.delay, Duration::zero());
  EXPECT_EQ(state.total_backoff(), Duration::zero());
  // The backoff was not consumed: the next plain retry still starts at the base delay.
  EXPECT_EQ(state.on_attempt(fail(ErrorKind::kTimeout), {}, kStart, true).delay, milliseconds(100));
}

TEST_F(RetryStateTest, FallBackWithoutAlternativeGivesUp) {
  RetryState state(policy_, random_, kStart);
  const RetryDecision d =
      state.on_attempt(fail(ErrorKind::kContextLengthExceeded), {}, kStart, false);
  EXPECT_EQ(d.action, Action::kGiveUp);
  EXPECT_EQ(d.reason, GiveUpReason::kNoAlternative);
  EXPECT_EQ(d.retry_after, std::nullopt);
}

TEST_F(RetryStateTest, DeadlinePassed) {
  RetryState state(policy_, random_, kStart);
  const RetryDecision d =
      state.on_attempt(fail(ErrorKind::kTimeout), {}, kStart + seconds(60), true);
  EXPECT_EQ(d.reason, GiveUpReason::kDeadline);
  EXPECT_EQ(d.retry_after, std::nullopt);
}

TEST_F(RetryStateTest, MaxAttemptsIsCheckedBeforeDeadline) {
  policy_.max_attempts = 1;
  RetryState state(policy_, random_, kStart);
  EXPECT_EQ(state.on_attempt(fail(ErrorKind::kTimeout), {}, kStart + seconds(61), true).reason,
            GiveUpReason::kMaxAttempts);
}

TEST_F(RetryStateTest, PushbackLongerThanBackoffSetsTheDelay) {
  RetryState state(policy_, random_, kStart);
  const RetryDecision d =
      state.on_attempt(fail(ErrorKind::kRateLimited), seconds(2), kStart, false);
  EXPECT_EQ(d.action, Action::kRetrySame);
  EXPECT_EQ(d.delay, seconds(2));
  EXPECT_EQ(state.total_backoff(), seconds(2));
}

TEST_F(RetryStateTest, PushbackShorterThanBackoffKeepsTheBackoff) {
  RetryState state(policy_, random_, kStart);
  const RetryDecision d =
      state.on_attempt(fail(ErrorKind::kRateLimited), milliseconds(20), kStart, false);
  EXPECT_EQ(d.delay, milliseconds(100));
}

TEST_F(RetryStateTest, PushbackExactlyMaxPushbackIsWaited) {
  RetryState state(policy_, random_, kStart);
  const RetryDecision d =
      state.on_attempt(fail(ErrorKind::kRateLimited), seconds(30), kStart, false);
  EXPECT_EQ(d.action, Action::kRetrySame);
  EXPECT_EQ(d.delay, seconds(30));
}

TEST_F(RetryStateTest, PushbackBeyondMaxWithoutAlternativeGivesUpWithRetryAfter) {
  RetryState state(policy_, random_, kStart);
  const RetryDecision d =
      state.on_attempt(fail(ErrorKind::kRateLimited), seconds(31), kStart, false);
  EXPECT_EQ(d.action, Action::kGiveUp);
  EXPECT_EQ(d.reason, GiveUpReason::kPushbackTooLong);
  EXPECT_EQ(d.retry_after, seconds(31));
}

TEST_F(RetryStateTest, PushbackBeyondDeadlineGivesUpWithRetryAfter) {
  policy_.max_pushback = seconds(120);
  RetryState state(policy_, random_, kStart);
  // 20 s left, the upstream asks for 25 s: within max_pushback but past the deadline.
  const RetryDecision d =
      state.on_attempt(fail(ErrorKind::kRateLimited), seconds(25), kStart + seconds(40), false);
  EXPECT_EQ(d.reason, GiveUpReason::kPushbackTooLong);
  EXPECT_EQ(d.retry_after, seconds(25));
  // Ending exactly at the deadline is too long as well.
  RetryState exact(policy_, random_, kStart);
  EXPECT_EQ(
      exact.on_attempt(fail(ErrorKind::kRateLimited), seconds(20), kStart + seconds(40), false)
          .reason,
      GiveUpReason::kPushbackTooLong);
}

TEST_F(RetryStateTest, PushbackTooLongSwitchesToAlternativeKeepingBackoff) {
  policy_.prefer_other_deployment = false;
  RetryState state(policy_, random_, kStart);
  const RetryDecision d =
      state.on_attempt(fail(ErrorKind::kRateLimited), seconds(45), kStart, true);
  EXPECT_EQ(d.action, Action::kRetryNext);
  EXPECT_EQ(d.delay, milliseconds(100));
  EXPECT_EQ(state.total_backoff(), milliseconds(100));
}

TEST_F(RetryStateTest, PushbackIgnoredWhenGoingToTheNextDeployment) {
  RetryState state(policy_, random_, kStart);
  const RetryDecision d =
      state.on_attempt(fail(ErrorKind::kRateLimited), seconds(20), kStart, true);
  EXPECT_EQ(d.action, Action::kRetryNext);
  EXPECT_EQ(d.delay, milliseconds(100));
}

TEST_F(RetryStateTest, PushbackIgnoredWhenNotHonored) {
  policy_.honor_pushback = false;
  RetryState state(policy_, random_, kStart);
  RetryDecision d = state.on_attempt(fail(ErrorKind::kRateLimited), seconds(2), kStart, false);
  EXPECT_EQ(d.action, Action::kRetrySame);
  EXPECT_EQ(d.delay, milliseconds(100));
  d = state.on_attempt(fail(ErrorKind::kRateLimited), hours(5), kStart, false);
  EXPECT_EQ(d.action, Action::kRetrySame);
  EXPECT_EQ(d.delay, milliseconds(200));
}

TEST_F(RetryStateTest, NegativePushbackCountsAsZero) {
  RetryState state(policy_, random_, kStart);
  const RetryDecision d =
      state.on_attempt(fail(ErrorKind::kRateLimited), seconds(-5), kStart, false);
  EXPECT_EQ(d.action, Action::kRetrySame);
  EXPECT_EQ(d.delay, milliseconds(100));
}

TEST_F(RetryStateTest, BackoffPastDeadlineGivesUp) {
  RetryState state(policy_, random_, kStart);
  // 150 ms left, first backoff 100 ms: fits.
  const TimePoint near_end = kStart + seconds(60) - milliseconds(150);
  EXPECT_EQ(state.on_attempt(fail(ErrorKind::kServerError), {}, near_end, false).delay,
            milliseconds(100));
  // Second backoff 200 ms no longer fits.
  const RetryDecision d = state.on_attempt(fail(ErrorKind::kServerError), {}, near_end, false);
  EXPECT_EQ(d.action, Action::kGiveUp);
  EXPECT_EQ(d.reason, GiveUpReason::kDeadline);
  EXPECT_EQ(d.retry_after, std::nullopt);
  EXPECT_EQ(state.total_backoff(), milliseconds(100));
}

TEST_F(RetryStateTest, BackoffPastDeadlineCarriesPushback) {
  RetryState state(policy_, random_, kStart);
  const TimePoint near_end = kStart + seconds(60) - milliseconds(80);
  // Pushback 50 ms fits; backoff 100 ms does not.
  const RetryDecision d =
      state.on_attempt(fail(ErrorKind::kRateLimited), milliseconds(50), near_end, false);
  EXPECT_EQ(d.reason, GiveUpReason::kDeadline);
  EXPECT_EQ(d.retry_after, milliseconds(50));
}

TEST_F(RetryStateTest, DelayEndingExactlyAtDeadlineGivesUp) {
  RetryState state(policy_, random_, kStart);
  const TimePoint now = kStart + seconds(60) - milliseconds(100);
  EXPECT_EQ(state.on_attempt(fail(ErrorKind::kServerError), {}, now, true).reason,
            GiveUpReason::kDeadline);
}

TEST_F(RetryStateTest, AttemptTimeoutCappedByTimeLeft) {
  RetryState state(policy_, random_, kStart);
  EXPECT_EQ(state.deadline(), kStart + seconds(60));
  EXPECT_EQ(state.attempt_timeout(kStart), seconds(10));
  EXPECT_EQ(state.attempt_timeout(kStart + seconds(50)), seconds(10));
  EXPECT_EQ(state.attempt_timeout(kStart + seconds(55)), seconds(5));
  EXPECT_EQ(state.attempt_timeout(kStart + seconds(60) - milliseconds(1)), milliseconds(1));
  EXPECT_EQ(state.attempt_timeout(kStart + seconds(60)), Duration::zero());
  EXPECT_EQ(state.attempt_timeout(kStart + seconds(90)), Duration::zero());
}

TEST_F(RetryStateTest, HugeTotalTimeoutSaturatesTheDeadline) {
  policy_.total_timeout = Duration::max();
  RetryState state(policy_, random_, kStart);
  EXPECT_EQ(state.deadline(), TimePoint::max());
  EXPECT_EQ(state.attempt_timeout(kStart), seconds(10));
  const RetryDecision d =
      state.on_attempt(fail(ErrorKind::kRateLimited), seconds(20), kStart, false);
  EXPECT_EQ(d.delay, seconds(20));
}

TEST_F(RetryStateTest, JitteredDelaysComeFromTheInjectedRandom) {
  policy_.backoff.jitter = JitterMode::kFull;
  RetryState state(policy_, random_, kStart);  // FixedRandom(0.5): half of each delay
  EXPECT_EQ(state.on_attempt(fail(ErrorKind::kTimeout), {}, kStart, false).delay, milliseconds(50));
  EXPECT_EQ(state.on_attempt(fail(ErrorKind::kTimeout), {}, kStart, false).delay,
            milliseconds(100));
}

TEST(RetryPolicyTest, DispositionForFollowsDefaultsAndOverrides) {
  RetryPolicy policy;
  for (ErrorKind kind : all_error_kinds()) {
    EXPECT_EQ(policy.disposition_for(kind), default_disposition(kind)) << to_string(kind);
  }
  policy.dispositions[static_cast<size_t>(ErrorKind::kAuth)] = Disposition::kFail;
  EXPECT_EQ(policy.disposition_for(ErrorKind::kAuth), Disposition::kFail);
  EXPECT_EQ(policy.disposition_for(ErrorKind::kBadRequest), Disposition::kFail);
}

TEST(RetryPolicyTest, DefaultIsValid) { EXPECT_TRUE(RetryPolicy{}.validate().is_ok()); }

TEST(RetryPolicyTest, ValidationNamesTheField) {
  const auto message = [](auto mutate) {
    RetryPolicy policy;
    mutate(policy);
    const Status status = policy.validate();
    EXPECT_FALSE(status.is_ok());
    return status.message();
  };
  EXPECT_EQ(message([](RetryPolicy& p) { p.max_attempts = 0; }),
            "max_attempts must be >= 1 (got 0)");
  EXPECT_EQ(message([](RetryPolicy& p) { p.attempt_timeout = Duration::zero(); }),
            "attempt_timeout must be > 0 (got 0ms)");
  EXPECT_EQ(message([](RetryPolicy& p) { p.total_timeout = -seconds(1); }),
            "total_timeout must be > 0 (got -1000ms)");
  EXPECT_EQ(message([](RetryPolicy& p) { p.attempt_timeout = seconds(61); }),
            "attempt_timeout must be <= total_timeout (got 61000ms > 60000ms)");
  EXPECT_EQ(message([](RetryPolicy& p) { p.max_pushback = -milliseconds(1); }),
            "max_pushback must be >= 0 (got -1ms)");
  EXPECT_EQ(message([](RetryPolicy& p) { p.backoff.base_delay = Duration::zero(); }),
            "backoff.base_delay must be > 0 (got 0ms)");
  EXPECT_EQ(message([](RetryPolicy& p) {
              p.backoff.jitter_fraction = 2;
            }).rfind("backoff.jitter_fraction", 0),
            0u);
}

TEST(RetryPolicyTest, BoundaryValuesAreValid) {
  RetryPolicy policy;
  policy.max_attempts = 1;
  policy.attempt_timeout = policy.total_timeout;
  policy.max_pushback = Duration::zero();
  EXPECT_TRUE(policy.validate().is_ok());
}

TEST(GiveUpReasonTest, Names) {
  const GiveUpReason reasons[] = {GiveUpReason::kNone,
                                  GiveUpReason::kNotRetryable,
                                  GiveUpReason::kMaxAttempts,
                                  GiveUpReason::kDeadline,
                                  GiveUpReason::kPushbackTooLong,
                                  GiveUpReason::kNoAlternative,
                                  GiveUpReason::kBudgetExhausted,
                                  GiveUpReason::kAllCircuitsOpen};
  std::set<std::string_view> names;
  for (GiveUpReason reason : reasons) {
    names.insert(to_string(reason));
  }
  EXPECT_EQ(names.size(), std::size(reasons));
  EXPECT_EQ(to_string(GiveUpReason::kNotRetryable), "not_retryable");
  EXPECT_EQ(to_string(GiveUpReason::kPushbackTooLong), "pushback_too_long");
  EXPECT_EQ(to_string(GiveUpReason::kBudgetExhausted), "budget_exhausted");
  EXPECT_EQ(to_string(GiveUpReason::kAllCircuitsOpen), "all_circuits_open");
}

}  // namespace
}  // namespace sheepdog
