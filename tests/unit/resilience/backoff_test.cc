#include "resilience/backoff.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace sheepdog {
namespace {

BackoffPolicy policy_of(BackoffKind kind, JitterMode jitter, Duration base = milliseconds(100),
                        Duration max = seconds(1)) {
  BackoffPolicy policy;
  policy.kind = kind;
  policy.jitter = jitter;
  policy.base_delay = base;
  policy.max_delay = max;
  return policy;
}

std::vector<Duration> delays(const BackoffPolicy& policy, RandomSource& random, int n) {
  Backoff backoff(policy, random);
  std::vector<Duration> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(backoff.next_delay());
  }
  return out;
}

std::vector<Duration> ms(std::initializer_list<double> values) {
  std::vector<Duration> out;
  for (double v : values) {
    out.push_back(
        std::chrono::duration_cast<Duration>(std::chrono::duration<double, std::milli>(v)));
  }
  return out;
}

TEST(BackoffTest, ExponentialNoJitter) {
  FixedRandom random(0.5);
  EXPECT_EQ(delays(policy_of(BackoffKind::kExponential, JitterMode::kNone), random, 6),
            ms({100, 200, 400, 800, 1000, 1000}));
}

TEST(BackoffTest, ExponentialFractionalMultiplier) {
  FixedRandom random(0.5);
  BackoffPolicy policy = policy_of(BackoffKind::kExponential, JitterMode::kNone);
  policy.multiplier = 1.5;
  EXPECT_EQ(delays(policy, random, 7), ms({100, 150, 225, 337.5, 506.25, 759.375, 1000}));
}

TEST(BackoffTest, ConstantNoJitter) {
  FixedRandom random(0.5);
  EXPECT_EQ(delays(policy_of(BackoffKind::kConstant, JitterMode::kNone), random, 4),
            ms({100, 100, 100, 100}));
}

TEST(BackoffTest, LinearNoJitter) {
  FixedRandom random(0.5);
  EXPECT_EQ(delays(policy_of(BackoffKind::kLinear, JitterMode::kNone, milliseconds(100),
                             milliseconds(350)),
                   random, 5),
            ms({100, 200, 300, 350, 350}));
}

TEST(BackoffTest, FibonacciNoJitter) {
  FixedRandom random(0.5);
  EXPECT_EQ(delays(policy_of(BackoffKind::kFibonacci, JitterMode::kNone), random, 8),
            ms({100, 100, 200, 300, 500, 800, 1000, 1000}));
}

TEST(BackoffTest, FullJitterWithHalfGivesHalf) {
  FixedRandom random(0.5);
  EXPECT_EQ(delays(policy_of(BackoffKind::kExponential, JitterMode::kFull), random, 6),
            ms({50, 100, 200, 400, 500, 500}));
  FixedRandom zero(0.0);
  EXPECT_EQ(delays(policy_of(BackoffKind::kExponential, JitterMode::kFull), zero, 3),
            ms({0, 0, 0}));
}

TEST(BackoffTest, EqualJitter) {
  FixedRandom half(0.5);  // d/2 + d/4
  EXPECT_EQ(delays(policy_of(BackoffKind::kExponential, JitterMode::kEqual), half, 6),
            ms({75, 150, 300, 600, 750, 750}));
  FixedRandom zero(0.0);  // d/2
  EXPECT_EQ(delays(policy_of(BackoffKind::kLinear, JitterMode::kEqual), zero, 3),
            ms({50, 100, 150}));
}

TEST(BackoffTest, ProportionalJitter) {
  BackoffPolicy policy = policy_of(BackoffKind::kExponential, JitterMode::kProportional);
  policy.jitter_fraction = 0.2;
  FixedRandom low(0.0);  // x0.8
  EXPECT_EQ(delays(policy, low, 5), ms({80, 160, 320, 640, 800}));
  FixedRandom mid(0.5);  // x1.0
  EXPECT_EQ(delays(policy, mid, 5), ms({100, 200, 400, 800, 1000}));
  FixedRandom high(0.75);  // x1.1, and capped again after the jitter
  EXPECT_EQ(delays(policy, high, 5), ms({110, 220, 440, 880, 1000}));
}

TEST(BackoffTest, DecorrelatedJitterSequence) {
  // d = min(1s, uniform(100ms, 3 * previous)), previous starts at 100ms and is the capped d.
  FixedRandom half(0.5);
  EXPECT_EQ(delays(policy_of(BackoffKind::kDecorrelatedJitter, JitterMode::kNone), half, 7),
            ms({200, 350, 575, 912.5, 1000, 1000, 1000}));
  FixedRandom zero(0.0);
  EXPECT_EQ(delays(policy_of(BackoffKind::kDecorrelatedJitter, JitterMode::kNone), zero, 3),
            ms({100, 100, 100}));
}

TEST(BackoffTest, DecorrelatedJitterIgnoresJitterMode) {
  for (JitterMode mode : {JitterMode::kFull, JitterMode::kEqual, JitterMode::kProportional}) {
    FixedRandom half(0.5);
    EXPECT_EQ(delays(policy_of(BackoffKind::kDecorrelatedJitter, mode), half, 5),
              ms({200, 350, 575, 912.5, 1000}))
        << to_string(mode);
  }
}

TEST(BackoffTest, ResetStartsOver) {
  FixedRandom random(0.5);
  for (BackoffKind kind : {BackoffKind::kExponential, BackoffKind::kDecorrelatedJitter}) {
    const BackoffPolicy policy = policy_of(kind, JitterMode::kNone);
    Backoff backoff(policy, random);
    const Duration first = backoff.next_delay();
    backoff.next_delay();
    backoff.next_delay();
    EXPECT_EQ(backoff.retries(), 3);
    backoff.reset();
    EXPECT_EQ(backoff.retries(), 0);
    EXPECT_EQ(backoff.next_delay(), first) << to_string(kind);
    EXPECT_EQ(backoff.retries(), 1);
  }
}

TEST(BackoffTest, NominalDelay) {
  FixedRandom random(0.0);
  const BackoffPolicy exponential = policy_of(BackoffKind::kExponential, JitterMode::kFull);
  Backoff backoff(exponential, random);
  EXPECT_EQ(backoff.nominal_delay(1), milliseconds(100));
  EXPECT_EQ(backoff.nominal_delay(3), milliseconds(400));
  EXPECT_EQ(backoff.nominal_delay(0), milliseconds(100));  // treated as retry 1
  EXPECT_EQ(backoff.nominal_delay(10000), seconds(1));
  EXPECT_EQ(backoff.retries(), 0);  // nominal_delay has no effect on the state

  const BackoffPolicy fibonacci = policy_of(BackoffKind::kFibonacci, JitterMode::kFull);
  EXPECT_EQ(Backoff(fibonacci, random).nominal_delay(6), milliseconds(800));
  EXPECT_EQ(Backoff(fibonacci, random).nominal_delay(1000000), seconds(1));

  const BackoffPolicy decorrelated = policy_of(BackoffKind::kDecorrelatedJitter, JitterMode::kNone);
  EXPECT_EQ(Backoff(decorrelated, random).nominal_delay(1), milliseconds(300));
  const BackoffPolicy tight = policy_of(BackoffKind::kDecorrelatedJitter, JitterMode::kNone,
                                        milliseconds(100), milliseconds(250));
  EXPECT_EQ(Backoff(tight, random).nominal_delay(4), milliseconds(250));
}

TEST(BackoffTest, HugeValuesSaturateAtTheCapWithoutOverflow) {
  FixedRandom random(0.999);
  BackoffPolicy policy =
      policy_of(BackoffKind::kExponential, JitterMode::kNone, hours(1), Duration::max());
  policy.multiplier = 10;
  Backoff backoff(policy, random);
  Duration last{};
  for (int i = 0; i < 100; ++i) {
    const Duration d = backoff.next_delay();
    ASSERT_GE(d, last);
    last = d;
  }
  EXPECT_EQ(last, Duration::max());

  policy.kind = BackoffKind::kLinear;
  EXPECT_EQ(Backoff(policy, random).nominal_delay(1 << 30), Duration::max());
  policy.kind = BackoffKind::kFibonacci;
  EXPECT_EQ(Backoff(policy, random).nominal_delay(1 << 30), Duration::max());
}

// Property: over many seeds, every kind x jitter mode stays within [0, max_delay], and the
// jittered delay respects its mode's band around the nominal delay.
TEST(BackoffPropertyTest, EveryDelayWithinBounds) {
  const BackoffKind kinds[] = {BackoffKind::kConstant, BackoffKind::kLinear,
                               BackoffKind::kExponential, BackoffKind::kFibonacci,
                               BackoffKind::kDecorrelatedJitter};
  const JitterMode modes[] = {JitterMode::kNone, JitterMode::kFull, JitterMode::kEqual,
                              JitterMode::kProportional};
  const struct {
    Duration base;
    Duration max;
  } ranges[] = {{milliseconds(100), seconds(1)},
                {milliseconds(7), milliseconds(7)},
                {nanoseconds(1), nanoseconds(3)},
                {milliseconds(500), seconds(8)}};
  for (BackoffKind kind : kinds) {
    for (JitterMode mode : modes) {
      for (const auto& range : ranges) {
        BackoffPolicy policy = policy_of(kind, mode, range.base, range.max);
        policy.multiplier = 3;
        policy.jitter_fraction = 0.5;
        ASSERT_TRUE(policy.validate());
        for (uint64_t seed = 1; seed <= 50; ++seed) {
          SeededRandom random(seed);
          Backoff backoff(policy, random);
          for (int retry = 1; retry <= 20; ++retry) {
            const Duration nominal = backoff.nominal_delay(retry);
            const Duration d = backoff.next_delay();
            ASSERT_GE(d, Duration::zero()) << to_string(kind) << "/" << to_string(mode);
            ASSERT_LE(d, policy.max_delay) << to_string(kind) << "/" << to_string(mode);
            if (kind == BackoffKind::kDecorrelatedJitter) {
              ASSERT_GE(d, std::min(policy.base_delay, policy.max_delay));
              continue;
            }
            switch (mode) {
              case JitterMode::kNone:
                ASSERT_EQ(d, nominal);
                break;
              case JitterMode::kFull:
                ASSERT_LE(d, nominal);
                break;
              case JitterMode::kEqual:
                ASSERT_GE(d, nominal / 2);
                ASSERT_LE(d, nominal);
                break;
              case JitterMode::kProportional:
                ASSERT_GE(d, nominal / 2);  // 1 - f with f = 0.5
                break;
            }
          }
        }
      }
    }
  }
}

TEST(BackoffPolicyTest, DefaultIsValid) { EXPECT_TRUE(BackoffPolicy{}.validate().is_ok()); }

TEST(BackoffPolicyTest, ValidationNamesTheField) {
  const auto message = [](auto mutate) {
    BackoffPolicy policy;
    mutate(policy);
    const Status status = policy.validate();
    EXPECT_FALSE(status.is_ok());
    return status.message();
  };
  EXPECT_EQ(message([](BackoffPolicy& p) { p.base_delay = Duration::zero(); }),
            "base_delay must be > 0 (got 0ms)");
  EXPECT_EQ(message([](BackoffPolicy& p) { p.max_delay = milliseconds(100); }),
            "max_delay must be >= base_delay (got 100ms < 500ms)");
  EXPECT_NE(message([](BackoffPolicy& p) { p.multiplier = 0.5; }).find("multiplier"),
            std::string::npos);
  EXPECT_NE(message([](BackoffPolicy& p) { p.multiplier = std::nan(""); }).find("multiplier"),
            std::string::npos);
  EXPECT_NE(message([](BackoffPolicy& p) { p.jitter_fraction = 1.5; }).find("jitter_fraction"),
            std::string::npos);
  EXPECT_NE(message([](BackoffPolicy& p) { p.jitter_fraction = -0.1; }).find("jitter_fraction"),
            std::string::npos);
}

TEST(BackoffPolicyTest, BoundaryValuesAreValid) {
  BackoffPolicy policy;
  policy.max_delay = policy.base_delay;
  policy.multiplier = 1;
  policy.jitter_fraction = 0;
  EXPECT_TRUE(policy.validate().is_ok());
  policy.jitter_fraction = 1;
  EXPECT_TRUE(policy.validate().is_ok());
}

TEST(BackoffNamesTest, RoundTrip) {
  EXPECT_EQ(to_string(BackoffKind::kConstant), "constant");
  EXPECT_EQ(to_string(BackoffKind::kLinear), "linear");
  EXPECT_EQ(to_string(BackoffKind::kExponential), "exponential");
  EXPECT_EQ(to_string(BackoffKind::kFibonacci), "fibonacci");
  EXPECT_EQ(to_string(BackoffKind::kDecorrelatedJitter), "decorrelated_jitter");
  for (BackoffKind kind : {BackoffKind::kConstant, BackoffKind::kLinear, BackoffKind::kExponential,
                           BackoffKind::kFibonacci, BackoffKind::kDecorrelatedJitter}) {
    EXPECT_EQ(parse_backoff_kind(to_string(kind)), kind);
  }
  EXPECT_EQ(to_string(JitterMode::kNone), "none");
  EXPECT_EQ(to_string(JitterMode::kFull), "full");
  EXPECT_EQ(to_string(JitterMode::kEqual), "equal");
  EXPECT_EQ(to_string(JitterMode::kProportional), "proportional");
  for (JitterMode mode :
       {JitterMode::kNone, JitterMode::kFull, JitterMode::kEqual, JitterMode::kProportional}) {
    EXPECT_EQ(parse_jitter_mode(to_string(mode)), mode);
  }
  EXPECT_EQ(parse_backoff_kind("Exponential"), std::nullopt);
  EXPECT_EQ(parse_backoff_kind(""), std::nullopt);
  EXPECT_EQ(parse_jitter_mode("decorrelated"), std::nullopt);
}

}  // namespace
}  // namespace sheepdog
