// The gateway's HTTP surface: request validation and limits, routing errors, authentication,
// the models/health/metrics views, embeddings, log lines, and a graceful shutdown that lets an
// in-flight request finish.
#include <gtest/gtest.h>

#include "gateway_harness.h"

namespace sheepdog::gateway::testing {
namespace {

constexpr std::string_view kYaml = R"(
server:
  max_body_bytes: 2KiB
providers:
  a: {kind: openai, base_url: "${A}/v1", api_keys: ["sk-upstream-secret-9999"]}
models:
  m:
    deployments: [{provider: a, model: gpt-4o-mini}]
  emb:
    deployments: [{provider: a, model: text-embedding-3-small}]
)";

class GatewayApiTest : public ::testing::Test {
 protected:
  GatewayApiTest() : mock_(start_mock(1)), gw_(kYaml, {{"A", mock_->url()}}) {}
  std::unique_ptr<mock::MockServer> mock_;
  GatewayHarness gw_;
};

TEST_F(GatewayApiTest, BadRequestsGetClear400sAndNeverReachTheUpstream) {
  struct Case {
    std::string body;
    std::string code;
    std::optional<std::string> param;
  };
  const std::vector<Case> cases = {
      {"{not json", "invalid_json", std::nullopt},
      {R"({"messages":[{"role":"user","content":"x"}]})", "missing_required_parameter", "model"},
      {R"({"model":["m"],"messages":[{"role":"user","content":"x"}]})", "invalid_type", "model"},
      {R"({"model":"m","messages":[]})", "empty_array", "messages"},
      {R"({"model":"m","messages":[{"role":"user"}],"stream":"true"})", "invalid_type", "stream"},
  };
  for (const Case& c : cases) {
    const auto reply = gw_.post("/v1/chat/completions", c.body);
    EXPECT_EQ(reply.status(), 400) << c.body;
    const json::object error = error_of(reply.body());
    EXPECT_EQ(error.at("code").as_string(), c.code) << c.body;
    EXPECT_EQ(error.at("type").as_string(), "invalid_request_error");
    if (c.param) {
      EXPECT_EQ(error.at("param").as_string(), *c.param);
    } else {
      EXPECT_TRUE(error.at("param").is_null());
    }
    EXPECT_TRUE(header(reply.response, "x-request-id").starts_with("req_"));
  }
  EXPECT_EQ(upstream_calls(*mock_), 0u);
}

TEST_F(GatewayApiTest, OversizedBodyIs413) {
  std::string big =
      R"({"model":"m","messages":[{"role":"user","content":")" + std::string(4096, 'x') + "\"}]}";
  const auto reply = gw_.post("/v1/chat/completions", big);
  EXPECT_EQ(reply.status(), 413);
  EXPECT_EQ(error_of(reply.body()).at("code").as_string(), "request_too_large");
  EXPECT_EQ(upstream_calls(*mock_), 0u);
}

TEST_F(GatewayApiTest, UnknownRoutesMethodsAndModels) {
  const auto route = gw_.get("/v1/nothing");
  EXPECT_EQ(route.status(), 404);
  EXPECT_EQ(error_of(route.body()).at("code").as_string(), "unknown_url");
  const auto method = gw_.get("/v1/chat/completions");
  EXPECT_EQ(method.status(), 405);
  EXPECT_EQ(header(method.response, "allow"), "POST");
  const auto model = gw_.post("/v1/chat/completions", chat("no-such-model"));
  EXPECT_EQ(model.status(), 404);
  EXPECT_EQ(error_of(model.body()).at("code").as_string(), "model_not_found");
  EXPECT_EQ(error_of(model.body()).at("param").as_string(), "model");
  EXPECT_EQ(upstream_calls(*mock_), 0u);
}

TEST_F(GatewayApiTest, ModelsLists) {
  const auto list = json::parse(gw_.get("/v1/models").body()).as_object();
  EXPECT_EQ(list.at("object").as_string(), "list");
  ASSERT_EQ(list.at("data").as_array().size(), 2u);
  EXPECT_EQ(list.at("data").at(0).at("id").as_string(), "m");
  EXPECT_EQ(list.at("data").at(1).at("id").as_string(), "emb");
  const auto one = json::parse(gw_.get("/v1/models/emb").body()).as_object();
  EXPECT_EQ(one.at("id").as_string(), "emb");
  EXPECT_EQ(gw_.get("/v1/models/zzz").status(), 404);
  EXPECT_EQ(gw_.get("/health").body(), R"({"status":"ok"})");
}

TEST_F(GatewayApiTest, EmbeddingsPassThrough) {
  const auto reply =
      gw_.post("/v1/embeddings", R"({"model":"emb","input":["hello","world"],"dimensions":8})");
  ASSERT_EQ(reply.status(), 200) << reply.body();
  const json::object body = json::parse(reply.body()).as_object();
  EXPECT_EQ(body.at("data").as_array().size(), 2u);
  EXPECT_EQ(body.at("data").at(0).at("embedding").as_array().size(), 8u);
  EXPECT_EQ(mock_->stats().snapshot().by_endpoint["embeddings"], 1u);
  EXPECT_EQ(mock_->stats().snapshot().by_model["text-embedding-3-small"], 1u);
}

TEST_F(GatewayApiTest, HealthDeploymentsAndMetricsReflectTraffic) {
  ASSERT_EQ(gw_.post("/v1/chat/completions", chat("m")).status(), 200);
  const auto health = json::parse(gw_.get("/health/deployments").body()).as_object();
  const json::object& d = health.at("deployments").at(0).as_object();
  EXPECT_EQ(d.at("name").as_string(), "a/gpt-4o-mini");
  EXPECT_EQ(d.at("aliases").at(0).as_string(), "m");
  EXPECT_EQ(d.at("breaker").as_string(), "closed");
  EXPECT_EQ(d.at("requests").to_number<int64_t>(), 1);
  EXPECT_EQ(d.at("errors").to_number<int64_t>(), 0);
  EXPECT_EQ(d.at("error_rate").as_double(), 0.0);
  EXPECT_GT(d.at("mean_latency_ms").as_double(), 0.0);
  EXPECT_GT(d.at("p95_latency_ms").as_double(), 0.0);
  EXPECT_EQ(d.at("in_flight").as_int64(), 0);

  const auto reply = gw_.get("/metrics");
  EXPECT_EQ(header(reply.response, "content-type"), "text/plain; version=0.0.4; charset=utf-8");
  const std::string& text = reply.body();
  for (const char* expected : {
           R"(sheepdog_requests_total{model="m",deployment="a/gpt-4o-mini",outcome="success"} 1)",
           R"(sheepdog_attempts_total{model="m",deployment="a/gpt-4o-mini",outcome="success"} 1)",
           "sheepdog_gateway_overhead_microseconds_count 1",
           "sheepdog_in_flight_requests 0",
           R"(sheepdog_breaker_state{deployment="a/gpt-4o-mini"} 0)",
           R"(sheepdog_request_duration_seconds_count{model="m"} 1)",
           R"(sheepdog_upstream_duration_seconds_count{deployment="a/gpt-4o-mini"} 1)",
           "# TYPE sheepdog_gateway_overhead_microseconds histogram",
       }) {
    EXPECT_NE(text.find(expected), std::string::npos) << expected << "\n" << text;
  }
}

TEST_F(GatewayApiTest, LogsOneLinePerAttemptAndRequestWithoutSecrets) {
  ASSERT_EQ(gw_.post("/v1/chat/completions", chat("m")).status(), 200);
  // The request's line is written just after its response went out.
  ASSERT_TRUE(eventually([&] { return gw_.log_lines().size() >= 2; }));
  const std::vector<std::string> lines = gw_.log_lines();
  int attempts = 0;
  int requests = 0;
  for (const std::string& line : lines) {
    const json::object entry = json::parse(line).as_object();
    const std::string_view event = entry.at("event").as_string();
    attempts += event == "attempt";
    requests += event == "request";
    if (event == "request") {
      EXPECT_TRUE(entry.at("request_id").as_string().starts_with("req_"));
      EXPECT_EQ(entry.at("outcome").as_string(), "success");
      EXPECT_EQ(entry.at("status").as_int64(), 200);
      EXPECT_TRUE(entry.contains("overhead_us"));
    }
    EXPECT_EQ(line.find("sk-upstream-secret"), std::string::npos) << line;
    EXPECT_EQ(line.find("Say hello"), std::string::npos) << line;
  }
  EXPECT_EQ(attempts, 1);
  EXPECT_EQ(requests, 1);
}

TEST(GatewayAuthTest, ApiKeysAreRequiredOnV1RoutesOnly) {
  auto mock = start_mock(1);
  constexpr std::string_view kAuthYaml = R"(
server:
  api_keys: ["sk-client-good"]
providers:
  a: {kind: openai, base_url: "${A}/v1"}
models:
  m:
    deployments: [{provider: a, model: gpt-4o-mini}]
)";
  GatewayHarness gw(kAuthYaml, {{"A", mock->url()}});
  ASSERT_TRUE(gw.ok());
  const auto none = gw.post("/v1/chat/completions", chat("m"));
  EXPECT_EQ(none.status(), 401);
  EXPECT_EQ(error_of(none.body()).at("code").as_string(), "invalid_api_key");
  LoopbackClient c = gw.client();
  auto bad = c.make_request(http::verb::get, "/v1/models");
  bad.set(http::field::authorization, "Bearer sk-client-bad");
  EXPECT_EQ(c.request(std::move(bad)).status(), 401);
  auto good = c.make_request(http::verb::post, "/v1/chat/completions", chat("m"));
  good.set(http::field::authorization, "Bearer sk-client-good");
  EXPECT_EQ(c.request(std::move(good)).status(), 200);
  EXPECT_EQ(gw.get("/health").status(), 200);
  EXPECT_EQ(upstream_calls(*mock), 1u);
  EXPECT_TRUE(server::authorized("bearer sk-client-good", {"sk-client-good"}));
  EXPECT_FALSE(server::authorized("Bearer sk-client-goo", {"sk-client-good"}));
  EXPECT_FALSE(server::authorized("sk-client-good", {"sk-client-good"}));
  EXPECT_TRUE(server::authorized("", {}));
}

TEST(GatewayShutdownTest, StopLetsAnInFlightRequestFinish) {
  auto mock = start_mock(1, [](mock::MockConfig& c) {
    c.defaults.latency.median = c.defaults.latency.p99 = milliseconds(300);
  });
  GatewayHarness gw(kYaml, {{"A", mock->url()}});
  ASSERT_TRUE(gw.ok());
  LoopbackClient c = gw.client();
  ASSERT_FALSE(c.write(c.make_request(http::verb::post, "/v1/chat/completions", chat("m"))));
  ASSERT_TRUE(eventually([&] { return upstream_calls(*mock) == 1; }));
  gw.server().stop();  // the request is at the upstream now
  const auto reply = c.read();
  ASSERT_TRUE(reply.ok()) << reply.ec.message();
  EXPECT_EQ(reply.status(), 200);
  EXPECT_EQ(json::parse(reply.body()).as_object().at("object").as_string(), "chat.completion");
  EXPECT_FALSE(reply.response.keep_alive());
  gw.stop();  // run() returns: nothing left in flight
}

}  // namespace
}  // namespace sheepdog::gateway::testing
