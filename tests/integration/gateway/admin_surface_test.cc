// The operator surface (issue 10): which key opens /metrics and /health/deployments, the open
// liveness and readiness probes, the bound on the metrics' model label in passthrough mode, and
// attempt log lines that carry the key's fingerprint while no configured key appears anywhere.
// The real gateway on loopback in front of an in-process mock.
#include <gtest/gtest.h>

#include <string>

#include "gateway/quick_config.h"
#include "integration/gateway/gateway_harness.h"

namespace sheepdog::gateway::testing {
namespace {

std::string chat(std::string_view model) {
  return R"({"model":")" + std::string(model) + R"(","messages":[{"role":"user","content":"x"}]})";
}

int get_status(GatewayHarness& gw, std::string_view target, std::string_view key = "") {
  LoopbackClient c = gw.client();
  LoopbackClient::Request request = c.make_request(http::verb::get, target);
  if (!key.empty()) {
    request.set(http::field::authorization, "Bearer " + std::string(key));
  }
  return c.request(std::move(request)).status();
}

std::string yaml(std::string_view server) {
  return std::string("server:\n") + std::string(server) + R"(
providers:
  up: {kind: openai, base_url: "${UP}/v1", api_keys: ["sk-test-aaaa-1111"]}
policies:
  default:
    max_attempts: 1
    circuit_breaker: {consecutive_failures: 1, open_duration: 60s}
models:
  m:
    deployments: [{provider: up, model: gpt-4o}]
)";
}

TEST(AdminSurfaceTest, AdminEndpointsNeedAClientKeyWhenOnlyApiKeysAreSet) {
  auto mock = start_mock();
  GatewayHarness gw(yaml("  api_keys: [\"client-key-0001\"]"), {{"UP", mock->url()}});
  ASSERT_TRUE(gw.ok());
  for (std::string_view admin : {"/metrics", "/health/deployments"}) {
    EXPECT_EQ(get_status(gw, admin), 401) << admin;
    EXPECT_EQ(get_status(gw, admin, "wrong-key"), 401) << admin;
    EXPECT_EQ(get_status(gw, admin, "client-key-0001"), 200) << admin;
  }
  for (std::string_view open : {"/health", "/health/liveness", "/health/readiness"}) {
    EXPECT_EQ(get_status(gw, open), 200) << open;
  }
}

TEST(AdminSurfaceTest, AdminKeysAreTheOnlyWayInOnceSet) {
  auto mock = start_mock();
  GatewayHarness gw(yaml("  api_keys: [\"client-key-0001\"]\n  admin_keys: [\"admin-key-0001\"]"),
                    {{"UP", mock->url()}});
  ASSERT_TRUE(gw.ok());
  for (std::string_view admin : {"/metrics", "/health/deployments"}) {
    EXPECT_EQ(get_status(gw, admin, "client-key-0001"), 401) << admin;
    EXPECT_EQ(get_status(gw, admin, "admin-key-0001"), 200) << admin;
  }
  // The admin key is not a client key.
  LoopbackClient c = gw.client();
  LoopbackClient::Request request =
      c.make_request(http::verb::post, "/v1/chat/completions", chat("m"));
  request.set(http::field::authorization, "Bearer admin-key-0001");
  EXPECT_EQ(c.request(std::move(request)).status(), 401);
}

TEST(AdminSurfaceTest, WithoutAnyKeysEverythingIsOpen) {
  auto mock = start_mock();
  GatewayHarness gw(yaml("  port: 0"), {{"UP", mock->url()}});
  ASSERT_TRUE(gw.ok());
  EXPECT_EQ(get_status(gw, "/metrics"), 200);
  EXPECT_EQ(get_status(gw, "/health/deployments"), 200);
}

TEST(AdminSurfaceTest, ReadinessTurns503WhenEveryBreakerIsOpen) {
  auto mock = start_mock(1, [](mock::MockConfig& config) {
    config.defaults.rates[static_cast<size_t>(mock::Outcome::kServerError)] = 1.0;
  });
  GatewayHarness gw(yaml("  port: 0"), {{"UP", mock->url()}});
  ASSERT_TRUE(gw.ok());
  LoopbackClient::Reply ready = gw.get("/health/readiness");
  EXPECT_EQ(ready.status(), 200);
  EXPECT_EQ(json::parse(ready.body()).at("status"), "ready");
  EXPECT_EQ(gw.post("/v1/chat/completions", chat("m")).status(), 502);  // opens the breaker
  LoopbackClient::Reply not_ready = gw.get("/health/readiness");
  EXPECT_EQ(not_ready.status(), 503) << not_ready.body();
  const json::value body = json::parse(not_ready.body());
  EXPECT_EQ(body.at("status"), "not_ready");
  EXPECT_EQ(body.at("available").to_number<int>(), 0);
  EXPECT_EQ(gw.get("/health/liveness").status(), 200);  // alive all the same
}

TEST(AdminSurfaceTest, PassthroughModelNamesCannotGrowMetricsWithoutBound) {
  auto mock = start_mock();
  QuickStartOptions quick;
  quick.upstreams = {mock->url() + "/v1"};
  auto made = quick_start_config(quick);
  ASSERT_TRUE(std::holds_alternative<QuickStart>(made));
  auto& qs = std::get<QuickStart>(made);
  GatewayHarness gw(qs.config, qs.runtime);
  ASSERT_TRUE(gw.ok());
  LoopbackClient c = gw.client();
  const size_t before = c.get("/metrics").body().size();
  constexpr int kNames = 20'000;
  for (int i = 0; i < kNames; ++i) {
    ASSERT_EQ(c.post("/v1/chat/completions", chat("model-" + std::to_string(i))).status(), 200)
        << i;
  }
  const std::string metrics = c.get("/metrics").body();
  // 100 names get series of their own; the other 19,900 share "other". Before the bound, 20,000
  // names took /metrics from 5 KB to 19.6 MB.
  EXPECT_NE(metrics.find("model=\"model-99\""), std::string::npos);
  EXPECT_EQ(metrics.find("model=\"model-100\""), std::string::npos);
  EXPECT_NE(metrics.find("model=\"other\""), std::string::npos);
  EXPECT_LT(metrics.size(), before + 400'000)
      << "before " << before << ", after " << metrics.size();
}

TEST(AdminSurfaceTest, AttemptLinesCarryTheKeyFingerprintAndNoKeyAppearsAnywhere) {
  auto mock = start_mock();
  GatewayHarness gw(yaml("  api_keys: [\"client-key-0001\"]"), {{"UP", mock->url()}});
  ASSERT_TRUE(gw.ok());
  LoopbackClient c = gw.client();
  LoopbackClient::Request request =
      c.make_request(http::verb::post, "/v1/chat/completions", chat("m"));
  request.set(http::field::authorization, "Bearer client-key-0001");
  ASSERT_EQ(c.request(std::move(request)).status(), 200);
  bool saw_fingerprint = false;
  for (const std::string& line : gw.log_lines()) {
    EXPECT_EQ(line.find("sk-test-aaaa-1111"), std::string::npos) << line;
    EXPECT_EQ(line.find("client-key-0001"), std::string::npos) << line;
    if (line.find("\"event\":\"attempt\"") != std::string::npos) {
      EXPECT_NE(line.find("\"key_id\":\"sk-t...1111\""), std::string::npos) << line;
      saw_fingerprint = true;
    }
  }
  EXPECT_TRUE(saw_fingerprint);
  LoopbackClient admin = gw.client();
  LoopbackClient::Request scrape = admin.make_request(http::verb::get, "/metrics");
  scrape.set(http::field::authorization, "Bearer client-key-0001");
  const std::string metrics = admin.request(std::move(scrape)).body();
  EXPECT_EQ(metrics.find("sk-test-aaaa-1111"), std::string::npos);
  EXPECT_EQ(metrics.find("client-key-0001"), std::string::npos);
  EXPECT_NE(metrics.find("sk-t...1111"), std::string::npos);  // the fingerprint labels its series
}

}  // namespace
}  // namespace sheepdog::gateway::testing
