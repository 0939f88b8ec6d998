// Per-key rate limits of the mock: the limiter's exact waits on a manual clock, the `keys`
// config (file and control endpoint), and over loopback the 429 a key gets once over its limit
// while another key goes on, in both APIs' shapes, with the stats showing it.
#include "mock/mock_key_limits.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

#include "../../support/loopback_http_client.h"
#include "mock/mock_config_decode.h"
#include "mock/mock_server.h"

namespace sheepdog::mock {
namespace {

namespace json = boost::json;
using testing::LoopbackClient;
using Limits = std::map<std::string, KeyLimit, std::less<>>;

const TimePoint kStart = TimePoint{} + hours(1);

TEST(MockKeyLimiterTest, RequestsPerMinuteRefillContinuously) {
  KeyLimiter limiter;
  const Limits limits = {{"sk-a", KeyLimit{3, 0}}};
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(limiter.admit("sk-a", limits, 100, kStart), std::nullopt) << i;
  }
  // A burst of 3, then one per 20 s.
  const std::optional<KeyLimitRefusal> refusal = limiter.admit("sk-a", limits, 100, kStart);
  ASSERT_TRUE(refusal);
  EXPECT_FALSE(refusal->tokens);
  EXPECT_EQ(refusal->limit, 3);
  EXPECT_EQ(refusal->used, 3);
  EXPECT_EQ(refusal->requested, 1);
  EXPECT_EQ(refusal->retry_after, seconds(20));
  // Five seconds on, the wait is 15 s; refusals took nothing.
  EXPECT_EQ(limiter.admit("sk-a", limits, 100, kStart + seconds(5))->retry_after, seconds(15));
  EXPECT_TRUE(limiter.admit("sk-a", limits, 100, kStart + seconds(20) - nanoseconds(1)));
  EXPECT_EQ(limiter.admit("sk-a", limits, 100, kStart + seconds(20)), std::nullopt);
  EXPECT_TRUE(limiter.admit("sk-a", limits, 100, kStart + seconds(20)));
  // Keys without limits are never refused.
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(limiter.admit("sk-b", limits, 100, kStart), std::nullopt);
  }
}

TEST(MockKeyLimiterTest, TokensPerMinuteAndTheLongerWait) {
  KeyLimiter limiter;
  const Limits limits = {{"k", KeyLimit{60, 600}}};  // 1 request and 10 tokens per second
  EXPECT_EQ(limiter.admit("k", limits, 580, kStart), std::nullopt);
  const std::optional<KeyLimitRefusal> refusal = limiter.admit("k", limits, 30, kStart);
  ASSERT_TRUE(refusal);
  EXPECT_TRUE(refusal->tokens);
  EXPECT_EQ(refusal->limit, 600);
  EXPECT_EQ(refusal->used, 580);
  EXPECT_EQ(refusal->requested, 30);
  EXPECT_EQ(refusal->retry_after, seconds(1));  // 10 more tokens at 10 per second
  EXPECT_EQ(limiter.admit("k", limits, 30, kStart + seconds(1)), std::nullopt);
  // A cost above the limit is never admitted: the answer says a minute.
  EXPECT_EQ(limiter.admit("k", limits, 601, kStart + hours(1))->retry_after, minutes(1));
}

TEST(MockKeyLimiterTest, NewLimitsAndResetStartFull) {
  KeyLimiter limiter;
  Limits limits = {{"k", KeyLimit{1, 0}}};
  EXPECT_EQ(limiter.admit("k", limits, 1, kStart), std::nullopt);
  EXPECT_TRUE(limiter.admit("k", limits, 1, kStart));
  limits["k"].rpm = 2;
  EXPECT_EQ(limiter.admit("k", limits, 1, kStart), std::nullopt);
  EXPECT_EQ(limiter.admit("k", limits, 1, kStart), std::nullopt);
  EXPECT_TRUE(limiter.admit("k", limits, 1, kStart));
  limiter.reset();
  EXPECT_EQ(limiter.admit("k", limits, 1, kStart), std::nullopt);
}

TEST(MockKeyLimiterTest, RawKeyAndTokenCost) {
  EXPECT_EQ(raw_api_key("Bearer sk-a"), "sk-a");
  EXPECT_EQ(raw_api_key("bearer sk-a"), "sk-a");
  EXPECT_EQ(raw_api_key("sk-ant-1"), "sk-ant-1");
  EXPECT_EQ(raw_api_key(""), "");
  MockConfig config;
  config.completion_tokens = 16;
  config.max_completion_tokens = 100;
  ChatCall call;
  call.prompt_text = "12345678";  // 2 tokens
  call.message_count = 1;         // + 3 + 3
  EXPECT_EQ(chat_token_cost(call, config), 8 + 16);
  call.max_tokens = 500;
  EXPECT_EQ(chat_token_cost(call, config), 8 + 100);
}

TEST(MockKeyLimitConfigTest, DecodesKeys) {
  MockConfig config;
  const Status status = decode_mock_config(R"(
keys:
  sk-mock-a: {rpm: 3}
  sk-mock-b: {rpm: 60, tpm: 100000}
)",
                                           "faults.yaml", MockConfig{}, &config);
  ASSERT_TRUE(status.is_ok()) << status.message();
  EXPECT_EQ(config.keys,
            (Limits{{"sk-mock-a", KeyLimit{3, 0}}, {"sk-mock-b", KeyLimit{60, 100000}}}));
}

TEST(MockKeyLimitConfigTest, ReportsBadKeysWithoutShowingThem) {
  MockConfig config;
  const Status status = decode_mock_config(R"(
keys:
  sk-mock-secret-1: {rpn: 3}
  sk-mock-secret-2: {rpm: 0}
  sk-mock-secret-3: {}
)",
                                           "faults.yaml", MockConfig{}, &config);
  ASSERT_FALSE(status.is_ok());
  const std::string& message = status.message();
  EXPECT_NE(message.find("faults.yaml:3:22: keys.sk-m...et-1.rpn: unknown key"), std::string::npos)
      << message;
  EXPECT_NE(message.find("faults.yaml:3:21: keys.sk-m...et-1: no limits"), std::string::npos)
      << message;
  EXPECT_NE(message.find("faults.yaml:4:27: keys.sk-m...et-2.rpm:"), std::string::npos) << message;
  EXPECT_NE(message.find("faults.yaml:5:21: keys.sk-m...et-3: no limits"), std::string::npos)
      << message;
  EXPECT_EQ(message.find("secret"), std::string::npos) << message;
}

TEST(MockKeyLimitConfigTest, FaultUpdateReplacesKeysOnlyWhenGiven) {
  MockConfig current;
  current.keys["a"] = KeyLimit{1, 0};
  MockConfig updated;
  ASSERT_TRUE(decode_fault_update(R"({"default": {"latency": 0}})", current, &updated).is_ok());
  EXPECT_EQ(updated.keys, current.keys);
  ASSERT_TRUE(decode_fault_update(R"({"keys": {"b": {"tpm": 5}}})", current, &updated).is_ok());
  EXPECT_EQ(updated.keys, (Limits{{"b", KeyLimit{0, 5}}}));
}

constexpr const char* kChat =
    R"({"model": "m", "max_tokens": 4, "messages": [{"role": "user", "content": "hi"}]})";
constexpr const char* kMessage =
    R"({"model": "c", "max_tokens": 4, "messages": [{"role": "user", "content": "hi"}]})";

class MockKeyLimitServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MockOptions options;
    options.clock = &clock_;
    options.config.keys["sk-key-a-000000000001"] = KeyLimit{3, 0};
    options.config.keys["sk-key-c-000000000003"] = KeyLimit{0, 30};
    mock_ = std::make_unique<MockServer>(std::move(options));
    const Status status = mock_->start();
    ASSERT_TRUE(status.is_ok()) << status.message();
  }
  LoopbackClient::Reply chat(std::string_view key) {
    LoopbackClient client(mock_->port());
    auto request = client.make_request(http::verb::post, "/v1/chat/completions", kChat);
    request.set(http::field::authorization, "Bearer " + std::string(key));
    return client.request(std::move(request));
  }
  LoopbackClient::Reply message(std::string_view key) {
    LoopbackClient client(mock_->port());
    auto request = client.make_request(http::verb::post, "/v1/messages", kMessage);
    request.set("x-api-key", key);
    request.set("anthropic-version", "2023-06-01");
    return client.request(std::move(request));
  }

  ManualClock clock_{TimePoint{} + hours(1), WallTime{} + seconds(1700000000)};
  std::unique_ptr<MockServer> mock_;
};

TEST_F(MockKeyLimitServerTest, FourthRequestOfAKeyIsRefusedWhileAnotherKeyGoesOn) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(chat("sk-key-a-000000000001").status(), 200) << i;
  }
  clock_.advance(seconds(5));
  const LoopbackClient::Reply refused = chat("sk-key-a-000000000001");
  ASSERT_EQ(refused.status(), 429) << refused.body();
  EXPECT_EQ(refused.response[http::field::retry_after], "15");
  EXPECT_EQ(refused.response["retry-after-ms"], "15000");
  EXPECT_EQ(refused.response["x-ratelimit-limit-requests"], "3");
  EXPECT_EQ(refused.response["x-ratelimit-remaining-requests"], "0");
  const json::value error = json::parse(refused.body()).at("error");
  EXPECT_EQ(error.at("code"), "rate_limit_exceeded");
  EXPECT_EQ(error.at("message"),
            "Rate limit reached for m in organization org-sheepdog-mock on requests per min "
            "(RPM): Limit 3, Used 3, Requested 1. Please try again in 15s. Visit "
            "https://platform.openai.com/account/rate-limits to learn more.");
  EXPECT_EQ(chat("sk-key-b-000000000002").status(), 200);

  // The Anthropic endpoint shares the key's budget (x-api-key carries the same raw key).
  const LoopbackClient::Reply anthropic = message("sk-key-a-000000000001");
  ASSERT_EQ(anthropic.status(), 429);
  EXPECT_EQ(anthropic.response[http::field::retry_after], "15");
  EXPECT_EQ(anthropic.response["retry-after-ms"], "15000");
  EXPECT_EQ(anthropic.response["anthropic-ratelimit-requests-limit"], "3");
  EXPECT_EQ(anthropic.response["anthropic-ratelimit-requests-remaining"], "0");
  EXPECT_EQ(anthropic.response["anthropic-ratelimit-requests-reset"], "2023-11-14T22:13:40Z");
  EXPECT_EQ(json::parse(anthropic.body()).at("error").at("type"), "rate_limit_error");

  const MockStats::Snapshot stats = mock_->stats().snapshot();
  EXPECT_EQ(stats.by_key,
            (std::map<std::string, uint64_t>{{"sk-k...0001", 5}, {"sk-k...0002", 1}}));
  EXPECT_EQ(stats.by_outcome, (std::map<std::string, uint64_t>{{"ok", 4}, {"rate_limited", 2}}));

  clock_.advance(seconds(15));
  EXPECT_EQ(message("sk-key-a-000000000001").status(), 200);
  EXPECT_EQ(chat("sk-key-a-000000000001").status(), 429);
}

TEST_F(MockKeyLimitServerTest, TokenLimitCountsPromptAndAnswer) {
  // "hi": 1 token + 3 + 3, and max_tokens 4: 11 tokens a request against 30 per minute.
  EXPECT_EQ(chat("sk-key-c-000000000003").status(), 200);
  EXPECT_EQ(chat("sk-key-c-000000000003").status(), 200);
  const LoopbackClient::Reply refused = chat("sk-key-c-000000000003");
  ASSERT_EQ(refused.status(), 429);
  // 8 left, 3 more needed at half a token per second.
  EXPECT_EQ(refused.response[http::field::retry_after], "6");
  EXPECT_EQ(refused.response["retry-after-ms"], "6000");
  EXPECT_EQ(refused.response["x-ratelimit-limit-tokens"], "30");
  EXPECT_EQ(json::parse(refused.body()).at("error").at("type"), "tokens");
  // A reset forgets the usage.
  mock_->reset();
  EXPECT_EQ(chat("sk-key-c-000000000003").status(), 200);
}

}  // namespace
}  // namespace sheepdog::mock
