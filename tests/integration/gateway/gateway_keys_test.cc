// Provider key pools through the whole gateway on loopback: a 429 rests the refused key and the
// request moves to the next key at once; per-key RPM and TPM limits spread requests before the
// provider has to refuse any; when every key is resting the request waits for one within its
// deadline, walks to a fallback alias, or gets 429 with the time a key frees up. Which key
// carried each call is proved by the mock's per-key counters (fingerprints).
#include <gtest/gtest.h>

#include "gateway_harness.h"

namespace sheepdog::gateway::testing {
namespace {

using mock::Outcome;

constexpr std::string_view kKeyA = "sk-t...1111";  // key_fingerprint("sk-test-aaaa-1111")
constexpr std::string_view kKeyB = "sk-t...2222";  // key_fingerprint("sk-test-bbbb-2222")

std::string two_keys(std::string_view a_limits = "", std::string_view b_limits = "",
                     std::string_view total = "10s", int max_attempts = 3) {
  return std::string(R"(
providers:
  a:
    kind: openai
    base_url: "${A}/v1"
    api_keys:
      - {key: sk-test-aaaa-1111)") +
         std::string(a_limits) + R"(}
      - {key: sk-test-bbbb-2222)" +
         std::string(b_limits) + R"(}
policies:
  default:
    max_attempts: )" +
         std::to_string(max_attempts) + R"(
    timeouts: {attempt: 5s, total: )" +
         std::string(total) + R"(}
    backoff: {kind: constant, base_delay: 10ms, max_delay: 10ms, jitter: none}
    pushback: {max: 60s}
models:
  m:
    deployments: [{provider: a, model: gpt-4o-mini}]
)";
}

constexpr std::string_view kOneKey = R"(
providers:
  a: {kind: openai, base_url: "${A}/v1", api_keys: ["sk-test-aaaa-1111"]}
  b: {kind: openai, base_url: "${B}/v1", api_keys: ["sk-test-bbbb-2222"]}
policies:
  default:
    max_attempts: 1
    timeouts: {attempt: 2s, total: 2s}
    backoff: {kind: constant, base_delay: 10ms, max_delay: 10ms, jitter: none}
    pushback: {max: 60s}
models:
  m:
    deployments: [{provider: a, model: gpt-4o-mini}]
  with-fallback:
    deployments: [{provider: a, model: gpt-4o-mini}]
    fallbacks: [n]
  n:
    deployments: [{provider: b, model: gpt-4o-mini}]
)";

uint64_t calls_with(mock::MockServer& mock, std::string_view fingerprint) {
  mock::MockStats::Snapshot stats = mock.stats().snapshot();
  const auto it = stats.by_key.find(std::string(fingerprint));
  return it == stats.by_key.end() ? 0 : it->second;
}

// The key entries of /health/deployments for deployment `name`, by fingerprint.
std::map<std::string, json::object> health_keys(GatewayHarness& gw, std::string_view name) {
  std::map<std::string, json::object> keys;
  const auto health = json::parse(gw.get("/health/deployments").body()).as_object();
  for (const json::value& d : health.at("deployments").as_array()) {
    if (d.at("name").as_string() == name && d.as_object().contains("keys")) {
      for (const json::value& k : d.at("keys").as_array()) {
        keys[std::string(k.at("key").as_string())] = k.as_object();
      }
    }
  }
  return keys;
}

TEST(GatewayKeysTest, A429MovesToTheNextKeyAtOnceAndRestsTheRefusedOne) {
  auto a = start_mock(1, [](mock::MockConfig& c) { c.defaults.retry_after = seconds(30); });
  a->planner().set_script(std::nullopt, {Outcome::kRateLimited});
  GatewayHarness gw(two_keys(), {{"A", a->url()}});
  ASSERT_TRUE(gw.ok());
  const auto first = gw.post("/v1/chat/completions", chat("m"));
  ASSERT_EQ(first.status(), 200) << first.body();
  // Not the 30 s the provider asked for: that wait applies to the refused key only.
  const std::vector<json::object> attempts = attempt_lines(gw, 2);
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_EQ(attempts[1].at("backoff_ms").to_number<double>(), 0);
  EXPECT_EQ(header(first.response, "x-sheepdog-attempts"), "2");
  EXPECT_EQ(calls_with(*a, kKeyA), 1u);
  EXPECT_EQ(calls_with(*a, kKeyB), 1u);

  // Key A rests for its 30 s: every later request goes with key B.
  for (int i = 0; i < 3; ++i) {
    const auto reply = gw.post("/v1/chat/completions", chat("m"));
    ASSERT_EQ(reply.status(), 200) << reply.body();
    EXPECT_EQ(header(reply.response, "x-sheepdog-attempts"), "1");
  }
  EXPECT_EQ(calls_with(*a, kKeyA), 1u);
  EXPECT_EQ(calls_with(*a, kKeyB), 4u);

  std::map<std::string, json::object> keys = health_keys(gw, "a/gpt-4o-mini");
  ASSERT_EQ(keys.size(), 2u);
  EXPECT_TRUE(keys[std::string(kKeyA)].at("cooling").as_bool());
  EXPECT_GT(keys[std::string(kKeyA)].at("cooling_ms").to_number<double>(), 20000.0);
  EXPECT_EQ(keys[std::string(kKeyA)].at("cool_downs").to_number<int>(), 1);
  EXPECT_FALSE(keys[std::string(kKeyB)].at("cooling").as_bool());
  // The whole key never appears.
  EXPECT_EQ(gw.get("/health/deployments").body().find("sk-test-aaaa-1111"), std::string::npos);

  const std::string metrics = gw.get("/metrics").body();
  EXPECT_NE(metrics.find(R"(sheepdog_key_cool_downs_total{provider="a",key="sk-t...1111"} 1)"),
            std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find(R"(sheepdog_key_cooling{provider="a",key="sk-t...1111"} 1)"),
            std::string::npos);
  EXPECT_NE(metrics.find(R"(sheepdog_key_requests_total{provider="a",key="sk-t...2222"} 4)"),
            std::string::npos);
  EXPECT_EQ(metrics.find("sk-test-"), std::string::npos);
  // The deployment is healthy: the key's refusal did not count against its breaker.
  EXPECT_EQ(gw.breaker("a/gpt-4o-mini"), BreakerState::kClosed);
}

TEST(GatewayKeysTest, RpmLimitsSpreadRequestsBeforeTheProviderRefusesAny) {
  auto a = start_mock();
  GatewayHarness gw(two_keys(", rpm: 2", ", rpm: 100"), {{"A", a->url()}});
  ASSERT_TRUE(gw.ok());
  for (int i = 0; i < 6; ++i) {
    const auto reply = gw.post("/v1/chat/completions", chat("m"));
    ASSERT_EQ(reply.status(), 200) << reply.body();
    EXPECT_EQ(header(reply.response, "x-sheepdog-attempts"), "1");
  }
  // Round robin until key A's 2 requests per minute are used, then key B only.
  EXPECT_EQ(calls_with(*a, kKeyA), 2u);
  EXPECT_EQ(calls_with(*a, kKeyB), 4u);
  EXPECT_EQ(a->stats().snapshot().by_outcome["rate_limited"], 0u);
  std::map<std::string, json::object> keys = health_keys(gw, "a/gpt-4o-mini");
  EXPECT_EQ(keys[std::string(kKeyA)].at("rpm_limit").to_number<int>(), 2);
  EXPECT_DOUBLE_EQ(keys[std::string(kKeyA)].at("requests_last_minute").to_number<double>(), 2.0);
}

TEST(GatewayKeysTest, TpmChargeIsCorrectedToTheReportedUsage) {
  auto a = start_mock();
  GatewayHarness gw(two_keys(", tpm: 100000", ", tpm: 100000"), {{"A", a->url()}});
  ASSERT_TRUE(gw.ok());
  // max_tokens 5000 is charged up front; the answer uses far fewer.
  const auto reply = gw.post(
      "/v1/chat/completions",
      R"({"model":"m","max_tokens":5000,"messages":[{"role":"user","content":"Say hello."}]})");
  ASSERT_EQ(reply.status(), 200) << reply.body();
  const json::object usage = json::parse(reply.body()).at("usage").as_object();
  const double used = usage.at("prompt_tokens").to_number<double>() +
                      usage.at("completion_tokens").to_number<double>();
  std::map<std::string, json::object> keys = health_keys(gw, "a/gpt-4o-mini");
  EXPECT_DOUBLE_EQ(keys[std::string(kKeyA)].at("tokens_last_minute").to_number<double>(), used);
}

TEST(GatewayKeysTest, EveryKeyRestingWaitsForTheFirstToFreeUpWithinTheDeadline) {
  auto a = start_mock(1, [](mock::MockConfig& c) { c.defaults.retry_after = milliseconds(400); });
  a->planner().set_script(std::nullopt, {Outcome::kRateLimited});
  GatewayHarness gw(kOneKey, {{"A", a->url()}, {"B", a->url()}});
  ASSERT_TRUE(gw.ok());
  const auto refused = gw.post("/v1/chat/completions", chat("m"));
  EXPECT_EQ(refused.status(), 429);  // max_attempts 1: the provider's own 429 is relayed

  const auto reply = gw.post("/v1/chat/completions", chat("m"));
  ASSERT_EQ(reply.status(), 200) << reply.body();
  // It waited for the key's rest to end: the wait is the attempt's backoff.
  const std::vector<json::object> attempts = attempt_lines(gw, 2);
  ASSERT_EQ(attempts.size(), 2u);
  EXPECT_GT(attempts[1].at("backoff_ms").to_number<double>(), 0);
  EXPECT_EQ(header(reply.response, "x-sheepdog-attempts"), "1");
  EXPECT_EQ(upstream_calls(*a), 2u);
  EXPECT_NE(gw.get("/metrics")
                .body()
                .find(R"(sheepdog_key_waits_total{provider="a",outcome="waited"} 1)"),
            std::string::npos);
}

TEST(GatewayKeysTest, EveryKeyRestingPastTheDeadlineIs429WithWhenAKeyFreesUp) {
  auto a = start_mock(1, [](mock::MockConfig& c) { c.defaults.retry_after = seconds(30); });
  a->planner().set_script(std::nullopt, {Outcome::kRateLimited});
  GatewayHarness gw(kOneKey, {{"A", a->url()}, {"B", a->url()}});
  ASSERT_TRUE(gw.ok());
  EXPECT_EQ(gw.post("/v1/chat/completions", chat("m")).status(), 429);

  const auto reply = gw.post("/v1/chat/completions", chat("m"));
  EXPECT_EQ(reply.status(), 429) << reply.body();
  EXPECT_EQ(upstream_calls(*a), 1u);  // refused by the gateway, not sent
  const int retry_after = std::stoi(header(reply.response, "retry-after"));
  EXPECT_GE(retry_after, 28);
  EXPECT_LE(retry_after, 30);
  const json::object error = json::parse(reply.body()).at("error").as_object();
  EXPECT_EQ(error.at("type").as_string(), "rate_limit_error");
  EXPECT_EQ(error.at("code").as_string(), "rate_limit_exceeded");
  EXPECT_NE(error.at("message").as_string().find("every API key of provider 'a' is at its limit"),
            std::string_view::npos)
      << error.at("message").as_string();
  EXPECT_NE(gw.get("/metrics")
                .body()
                .find(R"(sheepdog_give_ups_total{model="m",reason="keys_exhausted"} 1)"),
            std::string::npos);
}

TEST(GatewayKeysTest, EveryKeyRestingWalksToTheFallbackAlias) {
  auto a = start_mock(1, [](mock::MockConfig& c) { c.defaults.retry_after = seconds(30); });
  auto b = start_mock(2);
  a->planner().set_script(std::nullopt, {Outcome::kRateLimited});
  GatewayHarness gw(kOneKey, {{"A", a->url()}, {"B", b->url()}});
  ASSERT_TRUE(gw.ok());
  EXPECT_EQ(gw.post("/v1/chat/completions", chat("m")).status(), 429);

  const auto reply = gw.post("/v1/chat/completions", chat("with-fallback"));
  ASSERT_EQ(reply.status(), 200) << reply.body();
  EXPECT_EQ(header(reply.response, "x-sheepdog-deployment"), "b/gpt-4o-mini");
  EXPECT_EQ(header(reply.response, "x-sheepdog-attempts"), "1");
  EXPECT_EQ(upstream_calls(*a), 1u);
  EXPECT_EQ(upstream_calls(*b), 1u);
}

TEST(GatewayKeysTest, ARequestLargerThanEveryKeysTpmIs429WithoutCallingUpstream) {
  auto a = start_mock();
  GatewayHarness gw(two_keys(", tpm: 50", ", tpm: 60"), {{"A", a->url()}});
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post(
      "/v1/chat/completions",
      R"({"model":"m","max_tokens":500,"messages":[{"role":"user","content":"Say hello."}]})");
  EXPECT_EQ(reply.status(), 429) << reply.body();
  EXPECT_EQ(upstream_calls(*a), 0u);
  const json::object error = json::parse(reply.body()).at("error").as_object();
  EXPECT_NE(error.at("message").as_string().find("exceed the tokens-per-minute limit"),
            std::string_view::npos)
      << error.at("message").as_string();
}

TEST(GatewayKeysTest, StreamsRotateKeysToo) {
  auto a = start_mock(1, [](mock::MockConfig& c) { c.defaults.retry_after = seconds(30); });
  a->planner().set_script(std::nullopt, {Outcome::kRateLimited});
  GatewayHarness gw(two_keys(), {{"A", a->url()}});
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post("/v1/chat/completions", chat("m", /*stream=*/true));
  ASSERT_EQ(reply.status(), 200) << reply.body();
  EXPECT_NE(reply.body().find("data: [DONE]"), std::string::npos);
  EXPECT_EQ(calls_with(*a, kKeyA), 1u);
  EXPECT_EQ(calls_with(*a, kKeyB), 1u);
}

}  // namespace
}  // namespace sheepdog::gateway::testing
