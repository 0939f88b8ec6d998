#include "mock/mock_config.h"

#include <gtest/gtest.h>

#include <cmath>

#include "mock/mock_config_decode.h"

namespace sheepdog::mock {
namespace {

TEST(MockOutcomeTest, NamesRoundTripAndStatusAliases) {
  for (size_t i = 0; i < kOutcomeCount; ++i) {
    const auto outcome = static_cast<Outcome>(i);
    EXPECT_EQ(parse_outcome(to_string(outcome)), outcome);
  }
  EXPECT_EQ(parse_outcome("429"), Outcome::kRateLimited);
  EXPECT_EQ(parse_outcome("500"), Outcome::kServerError);
  EXPECT_EQ(parse_outcome("502"), Outcome::kBadGateway);
  EXPECT_EQ(parse_outcome("503"), Outcome::kServiceUnavailable);
  EXPECT_EQ(parse_outcome("504"), Outcome::kGatewayTimeout);
  EXPECT_EQ(parse_outcome("418"), std::nullopt);
  EXPECT_TRUE(is_error_status(Outcome::kContextLengthExceeded));
  EXPECT_FALSE(is_error_status(Outcome::kHang));
}

TEST(MockLatencyTest, LognormalHitsMedianAndP99) {
  const LatencySpec latency{milliseconds(200), milliseconds(2000)};
  EXPECT_EQ(latency.at_z(0), milliseconds(200));
  EXPECT_NEAR(to_ms(latency.at_z(LatencySpec::kZ99)), 2000.0, 1e-6);
  // FixedRandom(0.5): u1 = 1 - 0.5, u2 = 0.5, so z = sqrt(-2 ln 0.5) * cos(pi).
  FixedRandom random(0.5);
  EXPECT_EQ(latency.sample(random), latency.at_z(-std::sqrt(2.0 * std::log(2.0))));
}

TEST(MockLatencyTest, FixedLatencyDrawsNothing) {
  const LatencySpec latency{milliseconds(50), milliseconds(50)};
  FixedRandom random(0.9);
  EXPECT_EQ(latency.sample(random), milliseconds(50));
}

TEST(MockProfileTest, TokenDelayFollowsSpeedAndSlowFactor) {
  FaultProfile profile;
  profile.tokens_per_second = 50;
  EXPECT_EQ(profile.token_delay(false), milliseconds(20));
  EXPECT_EQ(profile.token_delay(true), milliseconds(200));
  profile.tokens_per_second = 0;
  EXPECT_EQ(profile.token_delay(false), Duration::zero());
  EXPECT_EQ(profile.token_delay(true), milliseconds(100));  // 10ms base x factor 10
}

TEST(MockProfileTest, DefaultMixSpreadsTheRate) {
  FaultProfile profile;
  set_default_fault_mix(profile, 0.2);
  double sum = 0;
  for (double rate : profile.rates) {
    sum += rate;
  }
  EXPECT_NEAR(sum, 0.2, 1e-12);
  EXPECT_NEAR(profile.rate(Outcome::kRateLimited), 0.08, 1e-12);
  EXPECT_EQ(profile.rate(Outcome::kHang), 0.0);
}

TEST(MockConfigDecodeTest, DecodesDocumentAndInheritsIntoModels) {
  const char* yaml = R"(
default:
  latency: {median: 200ms, p99: 2s}
  tokens_per_second: 40
  retry_after: 3s
  x_should_retry: false
  faults: {rate_limited: 0.1, "503": 0.05}
models:
  gpt-4o:
    faults: {hang: 0.5}
embedding_dimensions: 8
completion_tokens: 5
model_list: [a, b]
)";
  MockConfig config;
  const Status status = decode_mock_config(yaml, "faults.yaml", MockConfig{}, &config);
  ASSERT_TRUE(status.is_ok()) << status.message();
  EXPECT_EQ(config.defaults.latency.median, milliseconds(200));
  EXPECT_EQ(config.defaults.latency.p99, seconds(2));
  EXPECT_EQ(config.defaults.tokens_per_second, 40);
  EXPECT_EQ(config.defaults.retry_after, seconds(3));
  EXPECT_EQ(config.defaults.should_retry, false);
  EXPECT_EQ(config.defaults.rate(Outcome::kRateLimited), 0.1);
  EXPECT_EQ(config.defaults.rate(Outcome::kServiceUnavailable), 0.05);
  const FaultProfile& model = config.profile_for("gpt-4o");
  EXPECT_EQ(model.rate(Outcome::kHang), 0.5);
  EXPECT_EQ(model.rate(Outcome::kRateLimited), 0.0);  // faults replace, not merge
  EXPECT_EQ(model.retry_after, seconds(3));           // the rest is inherited
  EXPECT_EQ(&config.profile_for("other"), &config.defaults);
  EXPECT_EQ(config.embedding_dimensions, 8u);
  EXPECT_EQ(config.completion_tokens, 5u);
  EXPECT_EQ(config.model_list, (std::vector<std::string>{"a", "b"}));
}

TEST(MockConfigDecodeTest, UnknownFaultNamesTheLineAndSuggests) {
  const char* yaml = "default:\n  faults:\n    rate_limted: 0.1\n";
  MockConfig config;
  const Status status = decode_mock_config(yaml, "faults.yaml", MockConfig{}, &config);
  ASSERT_FALSE(status.is_ok());
  EXPECT_NE(status.message().find("faults.yaml:3:5: default.faults.rate_limted: unknown fault; "
                                  "did you mean 'rate_limited'?"),
            std::string::npos)
      << status.message();
}

TEST(MockConfigDecodeTest, RejectsRatesAboveOneAndBadLatency) {
  MockConfig config;
  Status status = decode_mock_config("default: {faults: {'500': 0.7, '503': 0.6}}", "f.yaml",
                                     MockConfig{}, &config);
  ASSERT_FALSE(status.is_ok());
  EXPECT_NE(status.message().find("add up to 1.3"), std::string::npos) << status.message();
  status = decode_mock_config("default: {latency: {median: 2s, p99: 1s}}", "f.yaml", MockConfig{},
                              &config);
  ASSERT_FALSE(status.is_ok());
  EXPECT_NE(status.message().find("default.latency.p99: must be >= median"), std::string::npos)
      << status.message();
}

TEST(MockConfigDecodeTest, FaultUpdateForOneModelStartsFromDefaults) {
  MockConfig current;
  current.defaults.retry_after = seconds(9);
  current.embedding_dimensions = 4;
  MockConfig updated;
  const Status status =
      decode_fault_update(R"({"model": "m", "faults": {"429": 1.0}})", current, &updated);
  ASSERT_TRUE(status.is_ok()) << status.message();
  EXPECT_EQ(updated.profile_for("m").rate(Outcome::kRateLimited), 1.0);
  EXPECT_EQ(updated.profile_for("m").retry_after, seconds(9));
  EXPECT_EQ(updated.defaults.rate(Outcome::kRateLimited), 0.0);
  EXPECT_EQ(updated.embedding_dimensions, 4u);
}

TEST(MockConfigDecodeTest, FaultUpdateDocumentReplacesEveryProfile) {
  MockConfig current;
  current.defaults.retry_after = seconds(9);
  current.models["old"] = FaultProfile{};
  MockConfig updated;
  const Status status = decode_fault_update(
      R"({"default": {"faults": {"reset": 0.25}}, "models": {"new": {"latency": "5ms"}}})", current,
      &updated);
  ASSERT_TRUE(status.is_ok()) << status.message();
  EXPECT_EQ(updated.defaults.rate(Outcome::kConnectionReset), 0.25);
  EXPECT_EQ(updated.defaults.retry_after, seconds(1));  // built-in default again
  EXPECT_EQ(updated.models.count("old"), 0u);
  EXPECT_EQ(updated.profile_for("new").latency.median, milliseconds(5));
  EXPECT_EQ(updated.profile_for("new").rate(Outcome::kConnectionReset), 0.25);
}

TEST(MockConfigDecodeTest, FaultUpdateRejectsStartupSettingsAndBadJson) {
  MockConfig updated;
  Status status = decode_fault_update(R"({"embedding_dimensions": 3})", MockConfig{}, &updated);
  EXPECT_FALSE(status.is_ok());
  status = decode_fault_update(R"({"default": )", MockConfig{}, &updated);
  ASSERT_FALSE(status.is_ok());
  EXPECT_NE(status.message().find("request body:"), std::string::npos) << status.message();
}

TEST(MockConfigDecodeTest, ScriptAsListOrObject) {
  ScriptUpdate update;
  ASSERT_TRUE(decode_script(R"(["429", "ok", "hang"])", &update).is_ok());
  EXPECT_EQ(update.model, std::nullopt);
  EXPECT_EQ(update.outcomes,
            (std::vector<Outcome>{Outcome::kRateLimited, Outcome::kOk, Outcome::kHang}));
  ASSERT_TRUE(decode_script(R"({"model": "m", "outcomes": ["reset"]})", &update).is_ok());
  EXPECT_EQ(update.model, "m");
  EXPECT_EQ(update.outcomes, std::vector<Outcome>{Outcome::kConnectionReset});
  const Status status = decode_script(R"(["429", "hnag"])", &update);
  ASSERT_FALSE(status.is_ok());
  EXPECT_NE(status.message().find("[1]: unknown outcome 'hnag'; did you mean 'hang'?"),
            std::string::npos)
      << status.message();
  EXPECT_FALSE(decode_script(R"({"model": "m"})", &update).is_ok());
}

}  // namespace
}  // namespace sheepdog::mock
