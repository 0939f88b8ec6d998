// strategies_from_config: the gateway's YAML, decoded by config/, becomes one strategy per model
// alias carrying exactly that alias's resolved policy objects.
#include "sim/config_strategies.h"

#include <gtest/gtest.h>

#include "config/loader.h"

namespace sheepdog::sim {
namespace {

TEST(ConfigStrategiesTest, EachAliasBringsItsOwnResolvedPolicy) {
  const config::LoadResult loaded = config::load_config_string(R"(
providers:
  p: {kind: openai, base_url: "http://127.0.0.1:1/v1"}
policies:
  default:
    max_attempts: 5
    circuit_breaker: {open_duration: 7s, half_open_probes: 2}
  fragile:
    max_attempts: 1
    circuit_breaker: {enabled: false}
models:
  a: {deployments: [{provider: p, model: x}, {provider: p, model: y}]}
  b: {policy: fragile, deployments: [{provider: p, model: x}]}
  c: {deployments: [{provider: p, model: z}], fallbacks: [b]}
)");
  ASSERT_TRUE(loaded.ok()) << loaded.errors.front().to_string();
  const std::vector<Strategy> strategies = strategies_from_config(*loaded.config);
  ASSERT_EQ(strategies.size(), 3u);
  EXPECT_EQ(strategies[0].name, "a");
  EXPECT_EQ(strategies[0].retry.max_attempts, 5);
  ASSERT_TRUE(strategies[0].breaker);
  EXPECT_EQ(strategies[0].breaker->open_duration, seconds(7));
  EXPECT_EQ(strategies[0].breaker->half_open_max_probes, 2);
  EXPECT_TRUE(strategies[0].fallback);  // two deployments
  EXPECT_TRUE(strategies[0].budget);    // the gateway's default token bucket

  EXPECT_EQ(strategies[1].retry.max_attempts, 1);
  EXPECT_FALSE(strategies[1].breaker);
  EXPECT_FALSE(strategies[1].fallback);  // one deployment, no fallback alias
  EXPECT_TRUE(strategies[2].fallback);   // a fallback alias
  for (const Strategy& s : strategies) {
    EXPECT_TRUE(s.validate().is_ok()) << s.name << ": " << s.validate().message();
  }
}

}  // namespace
}  // namespace sheepdog::sim
