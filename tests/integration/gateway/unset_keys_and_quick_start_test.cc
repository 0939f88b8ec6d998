// Issue 10 on loopback: a configured model whose keys are all unset answers 503 naming the
// variable to set (OpenAI-shaped on /v1/chat/completions, Anthropic-shaped on /v1/messages),
// not 404; the quick start forwards the client's key to the first upstream only, never to one
// with its own --api-key; and its GET /v1/models lists the models the upstreams answered for.
#include <gtest/gtest.h>

#include "gateway/quick_config.h"
#include "integration/gateway/gateway_harness.h"

namespace sheepdog::gateway::testing {
namespace {

constexpr std::string_view kYaml = R"(
providers:
  local: {kind: openai, base_url: "${A}/v1", api_keys: ["sk-local-0000"]}
  openai: {kind: openai, base_url: "${A}/v1", api_keys: ["${OPENAI_API_KEY}"]}
models:
  served:
    deployments: [{provider: local, model: gpt-4o-mini}]
  gpt-4o:
    deployments: [{provider: openai, model: gpt-4o}]
)";

class UnsetKeysTest : public ::testing::Test {
 protected:
  UnsetKeysTest() : mock_(start_mock(1)), gw_(kYaml, {{"A", mock_->url()}}) {}
  std::unique_ptr<mock::MockServer> mock_;
  GatewayHarness gw_;
};

TEST_F(UnsetKeysTest, AModelWithEveryKeyUnsetAnswers503NamingTheVariable) {
  ASSERT_TRUE(gw_.ok());
  const LoopbackClient::Reply reply = gw_.post("/v1/chat/completions", chat("gpt-4o"));
  ASSERT_EQ(reply.status(), 503) << reply.body();
  const json::object error = error_of(reply.body());
  EXPECT_EQ(error.at("code"), "provider_key_missing");
  EXPECT_EQ(error.at("type"), "server_error");
  const std::string message(error.at("message").as_string());
  EXPECT_NE(message.find("OPENAI_API_KEY"), std::string::npos) << message;
  EXPECT_NE(message.find("'gpt-4o'"), std::string::npos) << message;
  EXPECT_EQ(header(reply.response, "x-sheepdog-attempts"), "0");
  EXPECT_EQ(header(reply.response, "x-should-retry"), "false");  // the SDKs would retry a 503
  // A model that is not configured at all is still a 404; the served one is served.
  EXPECT_EQ(gw_.post("/v1/chat/completions", chat("gpt-5")).status(), 404);
  EXPECT_EQ(gw_.post("/v1/chat/completions", chat("served")).status(), 200);
  EXPECT_EQ(upstream_calls(*mock_), 1u);  // the 503 sent nothing upstream
}

TEST_F(UnsetKeysTest, AnthropicClientsGetTheSame503InTheirShape) {
  ASSERT_TRUE(gw_.ok());
  LoopbackClient c = gw_.client();
  LoopbackClient::Request request = c.make_request(
      http::verb::post, "/v1/messages",
      R"({"model":"gpt-4o","max_tokens":16,"messages":[{"role":"user","content":"Hi"}]})");
  request.set("anthropic-version", "2023-06-01");
  const LoopbackClient::Reply reply = c.request(std::move(request));
  ASSERT_EQ(reply.status(), 503) << reply.body();
  const json::object body = json::parse(reply.body()).as_object();
  EXPECT_EQ(body.at("type"), "error");
  const json::object& error = body.at("error").as_object();
  EXPECT_TRUE(error.contains("type"));
  EXPECT_EQ(header(reply.response, "x-should-retry"), "false");
  EXPECT_NE(std::string(error.at("message").as_string()).find("OPENAI_API_KEY"), std::string::npos)
      << reply.body();
}

// Two stubs stand in for api.openai.com and a local server behind it.
TEST(QuickStartKeysTest, TheClientKeyGoesToTheFirstUpstreamOnly) {
  StubUpstream primary(500, R"({"error":{"message":"down","type":"server_error"}})");
  StubUpstream failover(
      200, R"({"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,)"
           R"("message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]})");
  QuickStartOptions options;
  options.upstreams = {primary.url(), failover.url()};
  auto made = quick_start_config(options);
  ASSERT_TRUE(std::holds_alternative<QuickStart>(made));
  QuickStart quick = std::get<QuickStart>(std::move(made));
  GatewayHarness gw(quick.config, quick.runtime);
  ASSERT_TRUE(gw.ok());
  LoopbackClient c = gw.client();
  LoopbackClient::Request request =
      c.make_request(http::verb::post, "/v1/chat/completions", chat("gpt-4o"));
  request.set("Authorization", "Bearer sk-client-openai-key");
  const LoopbackClient::Reply reply = c.request(std::move(request));
  ASSERT_EQ(reply.status(), 200) << reply.body();
  EXPECT_GE(primary.calls(), 1);
  EXPECT_EQ(primary.last_authorization(), "Bearer sk-client-openai-key");
  EXPECT_EQ(failover.calls(), 1);
  EXPECT_EQ(failover.last_authorization(), "");  // the OpenAI key never reached it
}

TEST(QuickStartKeysTest, AnUpstreamWithItsOwnKeyNeverGetsTheClientKey) {
  StubUpstream primary(500, R"({"error":{"message":"down","type":"server_error"}})");
  StubUpstream failover(
      200, R"({"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,)"
           R"("message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]})");
  QuickStartOptions options;
  options.upstreams = {primary.url(), failover.url()};
  options.upstream_keys = {"", "sk-local-own"};
  options.forward_client_key = true;  // even when asked to forward to every upstream
  auto made = quick_start_config(options);
  ASSERT_TRUE(std::holds_alternative<QuickStart>(made));
  QuickStart quick = std::get<QuickStart>(std::move(made));
  GatewayHarness gw(quick.config, quick.runtime);
  ASSERT_TRUE(gw.ok());
  LoopbackClient c = gw.client();
  LoopbackClient::Request request =
      c.make_request(http::verb::post, "/v1/chat/completions", chat("gpt-4o"));
  request.set("Authorization", "Bearer sk-client-openai-key");
  ASSERT_EQ(c.request(std::move(request)).status(), 200);
  EXPECT_EQ(primary.last_authorization(), "Bearer sk-client-openai-key");
  EXPECT_EQ(failover.last_authorization(), "Bearer sk-local-own");
}

TEST(QuickStartModelsTest, ModelsListsTheNamesTheUpstreamsAnsweredFor) {
  std::unique_ptr<mock::MockServer> mock = start_mock(1);
  QuickStartOptions options;
  options.upstreams = {mock->url()};
  auto made = quick_start_config(options);
  ASSERT_TRUE(std::holds_alternative<QuickStart>(made));
  QuickStart quick = std::get<QuickStart>(std::move(made));
  GatewayHarness gw(quick.config, quick.runtime);
  ASSERT_TRUE(gw.ok());
  EXPECT_EQ(json::parse(gw.get("/v1/models").body()).at("data").as_array().size(), 0u);
  ASSERT_EQ(gw.post("/v1/chat/completions", chat("gpt-4o-mini")).status(), 200);
  ASSERT_EQ(gw.post("/v1/chat/completions", chat("gpt-4o-mini", true)).status(), 200);
  const json::array data = json::parse(gw.get("/v1/models").body()).at("data").as_array();
  ASSERT_EQ(data.size(), 1u);
  EXPECT_EQ(data[0].at("id"), "gpt-4o-mini");
  EXPECT_EQ(gw.get("/v1/models/gpt-4o-mini").status(), 200);
  EXPECT_EQ(gw.get("/v1/models/never-asked").status(), 404);
}

}  // namespace
}  // namespace sheepdog::gateway::testing
