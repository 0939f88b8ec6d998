#include "routing/router.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

namespace sheepdog {
namespace {

// Counts draws, to check which decisions consume randomness.
class CountingRandom final : public RandomSource {
 public:
  explicit CountingRandom(uint64_t seed) : inner_(seed) {}
  uint64_t next_u64() override {
    ++draws;
    return inner_.next_u64();
  }
  int draws = 0;

 private:
  SeededRandom inner_;
};

RoutePolicy weighted(std::vector<double> weights) {
  RoutePolicy policy;
  for (size_t i = 0; i < weights.size(); ++i) {
    policy.targets.push_back(RouteTarget{100 + i, weights[i], false});
  }
  return policy;
}

DeploymentSnapshot measured(double ewma_ms) {
  DeploymentSnapshot s;
  s.successes = 1;
  s.ewma_latency_ms = ewma_ms;
  return s;
}

TEST(RoutePolicyTest, Validation) {
  EXPECT_TRUE(weighted({1, 0}).validate().is_ok());
  EXPECT_FALSE(RoutePolicy{}.validate().is_ok());  // no targets
  EXPECT_FALSE(weighted({0, 0}).validate().is_ok());
  EXPECT_FALSE(weighted({1, -1}).validate().is_ok());
  EXPECT_NE(weighted({1, -1}).validate().message().find("targets[1].weight"), std::string::npos);
  EXPECT_FALSE(weighted(std::vector<double>(kMaxRouteTargets + 1, 1.0)).validate().is_ok());
  EXPECT_TRUE(weighted(std::vector<double>(kMaxRouteTargets, 1.0)).validate().is_ok());

  RoutePolicy canary = weighted({1, 1});
  canary.canary_percent = 10;
  EXPECT_FALSE(canary.validate().is_ok());  // no canary target
  canary.targets[1].canary = true;
  EXPECT_TRUE(canary.validate().is_ok());
  canary.canary_percent = 101;
  EXPECT_FALSE(canary.validate().is_ok());
  canary.canary_percent = 10;
  canary.targets[1].weight = 0;
  EXPECT_FALSE(canary.validate().is_ok());  // the only canary is drained

  RoutePolicy latency = weighted({1});
  latency.latency_tolerance = -0.1;
  EXPECT_FALSE(latency.validate().is_ok());
}

TEST(RoutingStrategyTest, NamesRoundTrip) {
  for (RoutingStrategy s : {RoutingStrategy::kWeightedRandom, RoutingStrategy::kLeastLatency,
                            RoutingStrategy::kOrdered}) {
    EXPECT_EQ(parse_routing_strategy(to_string(s)), s);
  }
  EXPECT_EQ(to_string(RoutingStrategy::kLeastLatency), "least_latency");
  EXPECT_EQ(parse_routing_strategy("random"), std::nullopt);
}

TEST(WeightedRandomTest, FixedDrawsGiveExactOrders) {
  const Router router(weighted({1, 2, 7}));  // cumulative 1, 3, 10
  FixedRandom low(0.05);                     // r = 0.5
  EXPECT_EQ(router.next({}, low), 0u);
  FixedRandom mid(0.25);  // r = 2.5
  EXPECT_EQ(router.next({}, mid), 1u);
  FixedRandom half(0.5);  // r = 5 -> 2; then among {0, 1}: r = 1.5 -> 1; then 0
  EXPECT_EQ(router.plan({}, half), (std::vector<size_t>{2, 1, 0}));
}

TEST(WeightedRandomTest, DistributionFollowsWeightsAndZeroWeightIsNeverChosenFirst) {
  const Router router(weighted({1, 2, 7, 0}));
  SeededRandom random(42);
  std::array<int, 4> first{};
  std::array<int, 4> second{};
  constexpr int kDraws = 100000;
  for (int i = 0; i < kDraws; ++i) {
    const std::vector<size_t> plan = router.plan({}, random);
    // Weight 0 is kept for retries and fallbacks (issue 11; docs/configuration.md): last.
    ASSERT_EQ(plan.size(), 4u);
    ASSERT_EQ(plan[3], 3u);
    ++first[plan[0]];
    ++second[plan[1]];
  }
  EXPECT_NEAR(first[0] / double(kDraws), 0.1, 0.01);
  EXPECT_NEAR(first[1] / double(kDraws), 0.2, 0.01);
  EXPECT_NEAR(first[2] / double(kDraws), 0.7, 0.01);
  EXPECT_EQ(first[3], 0);
  EXPECT_EQ(second[3], 0);
  // Second place, drawn among the rest: P(0) = 0.2*1/8 + 0.7*1/3, P(1) = 0.1*2/9 + 0.7*2/3.
  EXPECT_NEAR(second[0] / double(kDraws), 0.2 / 8 + 0.7 / 3, 0.01);
  EXPECT_NEAR(second[1] / double(kDraws), 0.1 * 2 / 9 + 0.7 * 2 / 3, 0.01);
}

TEST(WeightedRandomTest, ExclusionsAreRespected) {
  const Router router(weighted({1, 2, 7}));
  SeededRandom random(7);
  RouteRequest request;
  request.excluded.set(2);
  std::array<int, 3> chosen{};
  constexpr int kDraws = 30000;
  for (int i = 0; i < kDraws; ++i) {
    const std::optional<size_t> next = router.next(request, random);
    ASSERT_TRUE(next.has_value());
    ++chosen[*next];
  }
  EXPECT_EQ(chosen[2], 0);
  EXPECT_NEAR(chosen[0] / double(kDraws), 1.0 / 3, 0.015);  // 1 : 2 among the rest

  request.excluded.set(0);
  request.excluded.set(1);
  EXPECT_EQ(router.next(request, random), std::nullopt);
  EXPECT_TRUE(router.plan(request, random).empty());
}

TEST(WeightedRandomTest, AttemptLoopWalksEveryTargetOnce) {
  const Router router(weighted({1, 1, 1, 0, 1}));
  SeededRandom random(3);
  RouteRequest request;
  std::vector<size_t> tried;
  while (std::optional<size_t> next = router.next(request, random)) {
    tried.push_back(*next);
    request.excluded.set(*next);
  }
  EXPECT_EQ(tried.back(), 3u);  // the weight-0 target, once every weighted one was tried
  std::sort(tried.begin(), tried.end());
  EXPECT_EQ(tried, (std::vector<size_t>{0, 1, 2, 3, 4}));
}

TEST(OrderedTest, FollowsListedOrderWithWeightZeroLastSkippingExcluded) {
  RoutePolicy policy = weighted({5, 1, 0, 1});
  policy.strategy = RoutingStrategy::kOrdered;
  const Router router(policy);
  CountingRandom random(1);
  EXPECT_EQ(router.plan({}, random), (std::vector<size_t>{0, 1, 3, 2}));
  RouteRequest request;
  request.excluded.set(0);
  EXPECT_EQ(router.next(request, random), 1u);
  EXPECT_EQ(random.draws, 0);
}

RoutePolicy canary_policy(double percent) {
  RoutePolicy policy = weighted({1, 1});
  policy.targets[1].canary = true;
  policy.canary_percent = percent;
  return policy;
}

TEST(CanaryTest, StickyKeysSplitAtThePercentAndNeverMove) {
  const Router router(canary_policy(10));
  SeededRandom random(1);
  constexpr int kUsers = 100000;
  int canary = 0;
  for (int i = 0; i < kUsers; ++i) {
    const std::string user = "user-" + std::to_string(i);
    RouteRequest request;
    request.sticky_key = user;
    const size_t first = *router.next(request, random);
    canary += first == 1;
    if (i < 1000) {
      // The same user, asked again with other random states, stays on the same side.
      for (int again = 0; again < 20; ++again) {
        SeededRandom other(1000 + again);
        ASSERT_EQ(*router.next(request, other), first) << user;
      }
    }
  }
  EXPECT_NEAR(canary / double(kUsers), 0.10, 0.01);
}

TEST(CanaryTest, StickySideDoesNotDrawRandomness) {
  const Router router(canary_policy(25));
  CountingRandom random(5);
  RouteRequest request;
  request.sticky_key = "alice";
  router.prefers_canary(request, random);
  EXPECT_EQ(random.draws, 0);
  request.sticky_key = {};
  router.prefers_canary(request, random);
  EXPECT_EQ(random.draws, 1);
}

TEST(CanaryTest, WithoutAKeyTheSideIsRandomAtThePercent) {
  const Router router(canary_policy(30));
  SeededRandom random(11);
  constexpr int kDraws = 100000;
  int canary = 0;
  for (int i = 0; i < kDraws; ++i) {
    canary += *router.next({}, random) == 1;
  }
  EXPECT_NEAR(canary / double(kDraws), 0.30, 0.01);
}

TEST(CanaryTest, SeedsMakeAliasesSplitIndependently) {
  RoutePolicy a = canary_policy(10);
  RoutePolicy b = canary_policy(10);
  a.sticky_seed = 1;
  b.sticky_seed = 2;
  const Router router_a(a);
  const Router router_b(b);
  FixedRandom unused(0.5);
  constexpr int kUsers = 100000;
  int both = 0;
  for (int i = 0; i < kUsers; ++i) {
    RouteRequest request;
    const std::string user = "user-" + std::to_string(i);
    request.sticky_key = user;
    both += router_a.prefers_canary(request, unused) && router_b.prefers_canary(request, unused);
  }
  // Independent 10% splits overlap on about 1% of users, not 10%.
  EXPECT_NEAR(both / double(kUsers), 0.01, 0.003);
}

TEST(CanaryTest, OtherSideIsTheFailover) {
  RoutePolicy policy = weighted({1, 1, 1});
  policy.targets[2].canary = true;
  policy.canary_percent = 50;
  policy.strategy = RoutingStrategy::kOrdered;
  const Router router(policy);
  FixedRandom to_canary(0.1);  // 10 < 50: canary side
  FixedRandom to_stable(0.9);
  EXPECT_EQ(router.plan({}, to_canary), (std::vector<size_t>{2, 0, 1}));
  EXPECT_EQ(router.plan({}, to_stable), (std::vector<size_t>{0, 1, 2}));
  RouteRequest request;
  request.excluded.set(2);
  EXPECT_EQ(router.next(request, to_canary), 0u);
}

TEST(CanaryTest, ZeroAndHundredPercentNeedNoDraw) {
  CountingRandom random(9);
  const Router none(canary_policy(0));
  const Router all(canary_policy(100));
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(none.plan({}, random), (std::vector<size_t>{0, 1}));  // canary as failover only
    EXPECT_EQ(all.plan({}, random), (std::vector<size_t>{1, 0}));
  }
  EXPECT_EQ(random.draws, 0);
}

TEST(LeastLatencyTest, LowestEwmaFirstThenAscending) {
  RoutePolicy policy = weighted({1, 1, 1});
  policy.strategy = RoutingStrategy::kLeastLatency;
  const Router router(policy);
  const std::vector<DeploymentSnapshot> stats = {measured(300), measured(100), measured(200)};
  RouteRequest request;
  request.stats = stats;
  CountingRandom random(1);
  EXPECT_EQ(router.plan(request, random), (std::vector<size_t>{1, 2, 0}));
  EXPECT_EQ(router.next(request, random), 1u);
  EXPECT_EQ(random.draws, 0);  // no ties, no draws
  request.excluded.set(1);
  EXPECT_EQ(router.next(request, random), 2u);
}

TEST(LeastLatencyTest, UnmeasuredDeploymentsGoFirst) {
  RoutePolicy policy = weighted({1, 1, 1, 1});
  policy.strategy = RoutingStrategy::kLeastLatency;
  const Router router(policy);
  std::vector<DeploymentSnapshot> stats = {measured(10), DeploymentSnapshot{}, measured(5),
                                           DeploymentSnapshot{}};
  RouteRequest request;
  request.stats = stats;
  SeededRandom random(4);
  std::array<int, 4> first{};
  for (int i = 0; i < 1000; ++i) {
    const std::vector<size_t> plan = router.plan(request, random);
    ASSERT_EQ(plan.size(), 4u);
    EXPECT_TRUE((plan[0] == 1 && plan[1] == 3) || (plan[0] == 3 && plan[1] == 1));
    EXPECT_EQ(plan[2], 2u);
    EXPECT_EQ(plan[3], 0u);
    ++first[plan[0]];
  }
  EXPECT_GT(first[1], 400);  // both unmeasured get their turn
  EXPECT_GT(first[3], 400);

  // Once measured, the fastest wins.
  stats[1] = measured(50);
  stats[3] = measured(1);
  EXPECT_EQ(router.plan(request, random), (std::vector<size_t>{3, 2, 0, 1}));
}

TEST(LeastLatencyTest, TiesGoByWeight) {
  RoutePolicy policy = weighted({1, 3, 1});
  policy.strategy = RoutingStrategy::kLeastLatency;
  const Router router(policy);
  const std::vector<DeploymentSnapshot> stats = {measured(100), measured(100), measured(400)};
  RouteRequest request;
  request.stats = stats;
  SeededRandom random(8);
  int first_is_heavy = 0;
  constexpr int kDraws = 20000;
  for (int i = 0; i < kDraws; ++i) {
    const std::vector<size_t> plan = router.plan(request, random);
    first_is_heavy += plan[0] == 1;
    ASSERT_EQ(plan[2], 2u);
  }
  EXPECT_NEAR(first_is_heavy / double(kDraws), 0.75, 0.015);
}

TEST(LeastLatencyTest, ToleranceBandMixesNearEquals) {
  RoutePolicy policy = weighted({1, 1, 1});
  policy.strategy = RoutingStrategy::kLeastLatency;
  policy.latency_tolerance = 0.1;
  const Router router(policy);
  const std::vector<DeploymentSnapshot> stats = {measured(105), measured(100), measured(111)};
  RouteRequest request;
  request.stats = stats;
  SeededRandom random(2);
  std::array<int, 3> first{};
  for (int i = 0; i < 10000; ++i) {
    const std::vector<size_t> plan = router.plan(request, random);
    ++first[plan[0]];
    ASSERT_EQ(plan[2], 2u);  // 111 > 100 * 1.1: outside the band
  }
  EXPECT_EQ(first[2], 0);
  EXPECT_NEAR(first[0] / 10000.0, 0.5, 0.02);
}

TEST(LeastLatencyTest, WithoutStatsEveryoneIsUnmeasured) {
  RoutePolicy policy = weighted({1, 0, 3});
  policy.strategy = RoutingStrategy::kLeastLatency;
  const Router router(policy);
  SeededRandom random(6);
  int heavy_first = 0;
  const std::vector<DeploymentSnapshot> wrong_length = {measured(1)};
  for (int i = 0; i < 10000; ++i) {
    RouteRequest request;
    if (i % 2 == 1) {
      request.stats = wrong_length;  // ignored, not read out of bounds
    }
    const std::vector<size_t> plan = router.plan(request, random);
    ASSERT_EQ(plan.size(), 3u);
    EXPECT_EQ(plan[2], 1u);  // weight 0: kept for retries and fallbacks, always last
    heavy_first += plan[0] == 2;
  }
  EXPECT_NEAR(heavy_first / 10000.0, 0.75, 0.02);
}

}  // namespace
}  // namespace sheepdog
