#include "resilience/retry_budget.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "core/random.h"

namespace sheepdog {
namespace {

RetryBudgetPolicy tokens_only(double max_tokens, double token_ratio) {
  RetryBudgetPolicy policy;
  policy.max_tokens = max_tokens;
  policy.token_ratio = token_ratio;
  return policy;
}

RetryBudgetPolicy cap_only(double budget_percent, int min_retry_concurrency) {
  RetryBudgetPolicy policy;
  policy.token_bucket_enabled = false;
  policy.concurrency_cap_enabled = true;
  policy.budget_percent = budget_percent;
  policy.min_retry_concurrency = min_retry_concurrency;
  return policy;
}

TEST(RetryBudgetPolicyTest, DefaultsAreGrpcsAndValid) {
  const RetryBudgetPolicy policy;
  EXPECT_TRUE(policy.validate().is_ok());
  EXPECT_EQ(policy.max_tokens, 100);
  EXPECT_EQ(policy.token_ratio, 0.1);
}

TEST(RetryBudgetPolicyTest, ValidateNamesTheOffendingField) {
  struct Case {
    void (*mutate)(RetryBudgetPolicy&);
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](RetryBudgetPolicy& p) { p.max_tokens = 0; }, "max_tokens"},
      {[](RetryBudgetPolicy& p) { p.max_tokens = std::nan(""); }, "max_tokens"},
      {[](RetryBudgetPolicy& p) { p.token_ratio = 0; }, "token_ratio"},
      {[](RetryBudgetPolicy& p) { p.token_ratio = 101; }, "token_ratio"},
      {[](RetryBudgetPolicy& p) { p.budget_percent = 0; }, "budget_percent"},
      {[](RetryBudgetPolicy& p) { p.budget_percent = 100.5; }, "budget_percent"},
      {[](RetryBudgetPolicy& p) { p.min_retry_concurrency = -1; }, "min_retry_concurrency"},
  };
  for (const Case& c : cases) {
    RetryBudgetPolicy policy;
    c.mutate(policy);
    const Status status = policy.validate();
    EXPECT_FALSE(status.is_ok()) << c.field;
    EXPECT_NE(status.message().find(c.field), std::string::npos) << status.message();
  }
  RetryBudgetPolicy edge;
  edge.token_ratio = edge.max_tokens;
  edge.budget_percent = 100;
  edge.min_retry_concurrency = 0;
  EXPECT_TRUE(edge.validate().is_ok());
}

TEST(RetryBudgetTest, TokensStartFullFallByOneRiseByRatioAndStayInRange) {
  RetryBudget budget(tokens_only(3, 0.5));
  EXPECT_EQ(budget.tokens(), 3);
  budget.record_success();
  EXPECT_EQ(budget.tokens(), 3);  // capped
  budget.record_failure();
  EXPECT_EQ(budget.tokens(), 2);
  budget.record_success();
  EXPECT_EQ(budget.tokens(), 2.5);
  for (int i = 0; i < 5; ++i) {
    budget.record_failure();
  }
  EXPECT_EQ(budget.tokens(), 0);  // floored
  budget.record_success();
  EXPECT_EQ(budget.tokens(), 0.5);
}

TEST(RetryBudgetTest, RetriesAllowedOnlyAboveHalfTheTokens) {
  RetryBudget budget(tokens_only(10, 1));
  for (int i = 0; i < 4; ++i) {
    budget.record_failure();
  }
  ASSERT_EQ(budget.tokens(), 6);
  EXPECT_TRUE(budget.try_acquire_retry());
  budget.retry_finished();
  budget.record_failure();  // 5 == max_tokens / 2: throttled
  EXPECT_FALSE(budget.try_acquire_retry());
  EXPECT_FALSE(budget.try_acquire_retry());
  EXPECT_EQ(budget.retries_refused(), 2);
  budget.record_success();  // 6
  EXPECT_TRUE(budget.try_acquire_retry());
  EXPECT_EQ(budget.active_retries(), 1);
  EXPECT_EQ(budget.retries_refused(), 2);
}

TEST(RetryBudgetTest, GrpcDefaultsThrottleAfterFiftyNetFailures) {
  RetryBudget budget{RetryBudgetPolicy{}};
  for (int i = 0; i < 49; ++i) {
    budget.record_failure();
  }
  EXPECT_TRUE(budget.try_acquire_retry());
  budget.retry_finished();
  budget.record_failure();  // 50 tokens
  EXPECT_FALSE(budget.try_acquire_retry());
  // Ten successes earn back one token: 51 > 50.
  for (int i = 0; i < 10; ++i) {
    budget.record_success();
  }
  EXPECT_TRUE(budget.try_acquire_retry());
}

TEST(RetryBudgetTest, ConcurrencyCapHasAFloorOfMinRetryConcurrency) {
  RetryBudget budget(cap_only(20, 3));
  EXPECT_TRUE(budget.try_acquire_retry());
  EXPECT_TRUE(budget.try_acquire_retry());
  EXPECT_TRUE(budget.try_acquire_retry());
  EXPECT_FALSE(budget.try_acquire_retry());
  EXPECT_EQ(budget.active_retries(), 3);
  EXPECT_EQ(budget.retries_refused(), 1);
  budget.retry_finished();
  EXPECT_EQ(budget.active_retries(), 2);
  EXPECT_TRUE(budget.try_acquire_retry());
}

TEST(RetryBudgetTest, ConcurrencyCapIsTheTruncatedPercentOfActiveRequests) {
  RetryBudget budget(cap_only(20, 3));
  for (int i = 0; i < 24; ++i) {
    budget.request_started();  // 20% of 24 = 4.8 -> 4
  }
  int admitted = 0;
  while (budget.try_acquire_retry()) {
    ++admitted;
  }
  EXPECT_EQ(admitted, 4);
  budget.request_started();  // 20% of 25 = 5
  EXPECT_TRUE(budget.try_acquire_retry());
  EXPECT_FALSE(budget.try_acquire_retry());
  EXPECT_EQ(budget.active_requests(), 25);

  RetryBudget exact(cap_only(29, 0));
  for (int i = 0; i < 100; ++i) {
    exact.request_started();
  }
  admitted = 0;
  while (exact.try_acquire_retry()) {
    ++admitted;
  }
  EXPECT_EQ(admitted, 29);  // not 28, from 0.29 * 100 = 28.999...
}

TEST(RetryBudgetTest, BothLimitsMustAgree) {
  RetryBudgetPolicy policy = cap_only(50, 1);
  policy.token_bucket_enabled = true;
  policy.max_tokens = 4;
  policy.token_ratio = 1;
  RetryBudget budget(policy);
  EXPECT_TRUE(budget.try_acquire_retry());
  EXPECT_FALSE(budget.try_acquire_retry());  // tokens fine, concurrency 1 of 1
  budget.retry_finished();
  budget.record_failure();
  budget.record_failure();                   // 2 tokens == max / 2
  EXPECT_FALSE(budget.try_acquire_retry());  // concurrency fine, tokens not
  EXPECT_EQ(budget.retries_refused(), 2);
  EXPECT_EQ(budget.active_retries(), 0);
}

TEST(RetryBudgetTest, UnmatchedFinishesNeverGoNegative) {
  RetryBudget budget(cap_only(20, 1));
  budget.retry_finished();
  budget.request_finished();
  EXPECT_EQ(budget.active_retries(), 0);
  EXPECT_EQ(budget.active_requests(), 0);
  EXPECT_TRUE(budget.try_acquire_retry());
  EXPECT_FALSE(budget.try_acquire_retry());
}

// A long run where every retry fails and first attempts mostly fail: retries admitted can only
// spend the half of the bucket above the line, plus what successes earned back.
TEST(RetryBudgetPropertyTest, AllFailingRunAdmitsNoMoreThanTheTokensAllow) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    SeededRandom random(seed);
    // Odd seeds use a binary fraction, so tokens land exactly on max_tokens / 2 now and then.
    const double ratio =
        seed % 2 == 1 ? std::ldexp(1.0, -static_cast<int>(seed % 7)) : random.uniform(0.01, 1.0);
    const RetryBudgetPolicy policy = tokens_only(std::floor(random.uniform(2, 200)), ratio);
    RetryBudget budget(policy);
    long admitted = 0;
    long successes = 0;
    for (int request = 0; request < 5000; ++request) {
      if (random.chance(0.1)) {
        budget.record_success();
        ++successes;
        continue;
      }
      budget.record_failure();
      for (int retry = 0; retry < 3; ++retry) {
        const double before = budget.tokens();
        const bool allowed = budget.try_acquire_retry();
        ASSERT_EQ(allowed, before > policy.max_tokens / 2);  // the A6 rule, exactly
        if (!allowed) {
          break;
        }
        ++admitted;
        budget.record_failure();
        budget.retry_finished();
      }
      ASSERT_GE(budget.tokens(), 0);
      ASSERT_LE(budget.tokens(), policy.max_tokens);
      ASSERT_LE(static_cast<double>(admitted),
                policy.max_tokens / 2 + policy.token_ratio * static_cast<double>(successes) + 1);
    }
    EXPECT_GT(budget.retries_refused(), 1000);
  }
}

// Random starts, finishes and retries: every admission respects the cap computed from the
// requests in flight at that moment, and every refusal happened at the cap. (Requests finishing
// can lower the cap below the retries already in flight; new retries then wait.)
TEST(RetryBudgetPropertyTest, ConcurrencyCapIsNeverExceededAtAdmission) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    SeededRandom random(seed);
    const RetryBudgetPolicy policy =
        cap_only(random.uniform(1, 100), static_cast<int>(random.next_u64() % 5));
    RetryBudget budget(policy);
    int requests = 0;
    int retries = 0;
    for (int step = 0; step < 5000; ++step) {
      const double action = random.uniform01();
      if (action < 0.3) {
        budget.request_started();
        ++requests;
      } else if (action < 0.5 && requests > 0) {
        budget.request_finished();
        --requests;
      } else if (action < 0.8) {
        const long cap =
            std::max<long>(policy.min_retry_concurrency,
                           static_cast<long>(policy.budget_percent * requests / 100.0));
        const bool allowed = budget.try_acquire_retry();
        ASSERT_EQ(allowed, retries < cap);
        if (allowed) {
          ++retries;
          ASSERT_LE(budget.active_retries(), cap);
        }
      } else if (retries > 0) {
        budget.retry_finished();
        --retries;
      }
      ASSERT_EQ(budget.active_requests(), requests);
      ASSERT_EQ(budget.active_retries(), retries);
    }
  }
}

// Threads sharing one budget: the counts balance and tokens stay in range.
TEST(RetryBudgetThreadTest, ConcurrentRequestsKeepCountsConsistent) {
  constexpr int kThreads = 4;
  constexpr int kIterations = 2000;
  RetryBudgetPolicy policy = tokens_only(10, 0.5);
  policy.concurrency_cap_enabled = true;
  policy.min_retry_concurrency = 2;
  RetryBudget budget(policy);
  std::atomic<long> admitted{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      for (int j = 0; j < kIterations; ++j) {
        budget.request_started();
        budget.record_failure();
        if (budget.try_acquire_retry()) {
          ++admitted;
          if ((i + j) % 2 == 0) {
            budget.record_success();
          } else {
            budget.record_failure();
          }
          budget.retry_finished();
        }
        budget.record_success();
        budget.request_finished();
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(budget.active_requests(), 0);
  EXPECT_EQ(budget.active_retries(), 0);
  EXPECT_EQ(admitted.load() + budget.retries_refused(), long{kThreads} * kIterations);
  EXPECT_GE(budget.tokens(), 0);
  EXPECT_LE(budget.tokens(), policy.max_tokens);
}

}  // namespace
}  // namespace sheepdog
