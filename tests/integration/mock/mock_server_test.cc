// MockServer end to end over loopback (127.0.0.1, port 0): answer shapes, streaming, tool
// calls, control and stats endpoints, determinism. Fault behaviours are in mock_faults_test.cc.
#include "mock/mock_server.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "../../support/loopback_http_client.h"

namespace sheepdog::mock {
namespace {

namespace json = boost::json;
using testing::LoopbackClient;

constexpr const char* kChat =
    R"({"model": "gpt-4o-mini", "max_tokens": 6, "messages": [{"role": "user", "content": "Hello"}]})";
constexpr const char* kWeatherTool = R"({"type": "function", "function": {"name": "get_weather",
    "parameters": {"type": "object", "required": ["city", "days"],
      "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1}}}}})";

std::string chat_body(std::string_view model, bool stream, bool tools = false) {
  json::object body = json::parse(kChat).as_object();
  body["model"] = model;
  body["stream"] = stream;
  if (stream) {
    body["stream_options"] = json::parse(R"({"include_usage": true})");
  }
  if (tools) {
    body["tools"] = json::array{json::parse(kWeatherTool)};
  }
  return json::serialize(body);
}

LoopbackClient::Reply post(LoopbackClient& client, std::string_view target, std::string body,
                           std::string_view api_key = "") {
  auto request = client.make_request(http::verb::post, target, std::move(body));
  if (!api_key.empty()) {
    request.set(http::field::authorization, "Bearer " + std::string(api_key));
  }
  return client.request(std::move(request));
}

class MockServerTest : public ::testing::Test {
 protected:
  void start(MockOptions options = {}) {
    mock_ = std::make_unique<MockServer>(std::move(options));
    const Status status = mock_->start();
    ASSERT_TRUE(status.is_ok()) << status.message();
  }
  LoopbackClient client() { return LoopbackClient(mock_->port()); }

  std::unique_ptr<MockServer> mock_;
};

TEST_F(MockServerTest, CompletionHasOpenAiShape) {
  start();
  LoopbackClient c = client();
  const LoopbackClient::Reply reply = post(c, "/v1/chat/completions", chat_body("gpt-4o", false));
  ASSERT_TRUE(reply.ok()) << reply.ec.message();
  ASSERT_EQ(reply.status(), 200) << reply.body();
  EXPECT_EQ(reply.response[http::field::content_type], "application/json");
  EXPECT_EQ(reply.response["x-request-id"].size(), 4u + 32u);
  const json::value body = json::parse(reply.body());
  EXPECT_EQ(body.at("object"), "chat.completion");
  EXPECT_EQ(body.at("model"), "gpt-4o");
  const json::value& choice = body.at("choices").at(0);
  EXPECT_EQ(choice.at("finish_reason"), "stop");
  EXPECT_EQ(choice.at("message").at("content").as_string().size(), 4u * 6u);  // max_tokens 6
  // "Hello" = 2 tokens, + 3 for the message, + 3 for the reply.
  EXPECT_EQ(body.at("usage"),
            json::parse(R"({"prompt_tokens": 8, "completion_tokens": 6, "total_tokens": 14})"));
}

TEST_F(MockServerTest, StreamSendsChunksEndingWithDone) {
  start();
  LoopbackClient c = client();
  const LoopbackClient::Reply whole = post(c, "/v1/chat/completions", chat_body("m", false));
  const LoopbackClient::Reply reply = post(c, "/v1/chat/completions", chat_body("m", true));
  ASSERT_TRUE(reply.ok()) << reply.ec.message();
  EXPECT_EQ(reply.response[http::field::content_type], "text/event-stream; charset=utf-8");
  EXPECT_TRUE(reply.response.chunked());
  const std::vector<std::string> events = testing::sse_data(reply.body());
  ASSERT_EQ(events.size(), 1 + 6 + 1 + 1 + 1u);  // role, 6 tokens, finish, usage, [DONE]
  EXPECT_EQ(events.back(), "[DONE]");
  std::string content;
  for (size_t i = 1; i <= 6; ++i) {
    content += json::parse(events[i]).at("choices").at(0).at("delta").at("content").as_string();
  }
  // The same request reads the same, streamed or not.
  EXPECT_EQ(json::value(content),
            json::parse(whole.body()).at("choices").at(0).at("message").at("content"));
  EXPECT_EQ(json::parse(events[7]).at("choices").at(0).at("finish_reason"), "stop");
  EXPECT_EQ(json::parse(events[8]).at("usage").at("completion_tokens"), 6);
}

// "validate-ish": every required key is present with the declared JSON type.
void expect_args_fit_weather_schema(const std::string& arguments) {
  const json::value args = json::parse(arguments);
  ASSERT_TRUE(args.is_object()) << arguments;
  ASSERT_TRUE(args.as_object().contains("city")) << arguments;
  ASSERT_TRUE(args.as_object().contains("days")) << arguments;
  EXPECT_TRUE(args.at("city").is_string());
  EXPECT_TRUE(args.at("days").is_int64());
  EXPECT_GE(args.at("days").as_int64(), 1);
}

TEST_F(MockServerTest, ToolCallArgumentsFollowTheSchema) {
  start();
  LoopbackClient c = client();
  const LoopbackClient::Reply reply =
      post(c, "/v1/chat/completions", chat_body("m", false, /*tools=*/true));
  ASSERT_EQ(reply.status(), 200) << reply.body();
  const json::value choice = json::parse(reply.body()).at("choices").at(0);
  EXPECT_EQ(choice.at("finish_reason"), "tool_calls");
  EXPECT_TRUE(choice.at("message").at("content").is_null());
  const json::value& call = choice.at("message").at("tool_calls").at(0);
  EXPECT_EQ(call.at("type"), "function");
  EXPECT_EQ(call.at("function").at("name"), "get_weather");
  EXPECT_TRUE(call.at("id").as_string().starts_with("call_"));
  expect_args_fit_weather_schema(std::string(call.at("function").at("arguments").as_string()));

  // Streamed, the arguments arrive in pieces that join to the same kind of object.
  const LoopbackClient::Reply streamed =
      post(c, "/v1/chat/completions", chat_body("m", true, /*tools=*/true));
  const std::vector<std::string> events = testing::sse_data(streamed.body());
  ASSERT_GE(events.size(), 4u);
  EXPECT_EQ(json::parse(events[0])
                .at("choices")
                .at(0)
                .at("delta")
                .at("tool_calls")
                .at(0)
                .at("function")
                .at("name"),
            "get_weather");
  std::string arguments;
  for (size_t i = 1; i + 3 < events.size(); ++i) {
    arguments += json::parse(events[i])
                     .at("choices")
                     .at(0)
                     .at("delta")
                     .at("tool_calls")
                     .at(0)
                     .at("function")
                     .at("arguments")
                     .as_string();
  }
  expect_args_fit_weather_schema(arguments);
  EXPECT_EQ(json::parse(events[events.size() - 3]).at("choices").at(0).at("finish_reason"),
            "tool_calls");
}

TEST_F(MockServerTest, EmbeddingsAndModels) {
  MockOptions options;
  options.config.embedding_dimensions = 16;
  start(options);
  LoopbackClient c = client();
  const LoopbackClient::Reply reply =
      post(c, "/v1/embeddings", R"({"model": "text-embedding-3-small", "input": "abc"})");
  ASSERT_EQ(reply.status(), 200) << reply.body();
  const json::value body = json::parse(reply.body());
  EXPECT_EQ(body.at("data").at(0).at("embedding").as_array().size(), 16u);
  EXPECT_EQ(body.at("model"), "text-embedding-3-small");
  const LoopbackClient::Reply models = c.get("/v1/models");
  ASSERT_EQ(models.status(), 200);
  EXPECT_EQ(json::parse(models.body()).at("data").at(0).at("id"), "gpt-4o-mini");
  EXPECT_EQ(c.get("/v1/nothing").status(), 404);
  EXPECT_EQ(post(c, "/v1/chat/completions", "{}").status(), 400);
}

TEST_F(MockServerTest, ScriptEndpointQueuesOutcomesInOrder) {
  start();
  LoopbackClient c = client();
  const LoopbackClient::Reply queued = post(c, "/_mock/script", R"(["429", "500", "ok"])");
  ASSERT_EQ(queued.status(), 200) << queued.body();
  EXPECT_EQ(json::parse(queued.body()).at("queued"), 3);
  std::vector<int> statuses;
  for (int i = 0; i < 4; ++i) {
    LoopbackClient fresh = client();  // error responses may close the connection
    statuses.push_back(post(fresh, "/v1/chat/completions", chat_body("m", false)).status());
  }
  EXPECT_EQ(statuses, (std::vector<int>{429, 500, 200, 200}));
}

TEST_F(MockServerTest, ModelScriptLeavesOtherModelsAlone) {
  start();
  LoopbackClient c = client();
  ASSERT_EQ(post(c, "/_mock/script", R"({"model": "a", "outcomes": ["503"]})").status(), 200);
  EXPECT_EQ(post(c, "/v1/chat/completions", chat_body("b", false)).status(), 200);
  EXPECT_EQ(post(c, "/v1/chat/completions", chat_body("a", false)).status(), 503);
  EXPECT_EQ(post(c, "/v1/chat/completions", chat_body("a", false)).status(), 200);
}

TEST_F(MockServerTest, FaultsEndpointSetsAModelProfileAndReportsBadInput) {
  start();
  LoopbackClient c = client();
  ASSERT_EQ(post(c, "/_mock/faults", R"({"model": "flaky", "faults": {"insufficient_quota": 1.0}})")
                .status(),
            200);
  EXPECT_EQ(post(c, "/v1/chat/completions", chat_body("steady", false)).status(), 200);
  const LoopbackClient::Reply quota = post(c, "/v1/chat/completions", chat_body("flaky", false));
  EXPECT_EQ(quota.status(), 429);
  EXPECT_EQ(json::parse(quota.body()).at("error").at("code"), "insufficient_quota");

  const LoopbackClient::Reply bad =
      post(c, "/_mock/faults", R"({"default": {"faults": {"x": 1}}})");
  EXPECT_EQ(bad.status(), 400);
  EXPECT_NE(json::parse(bad.body())
                .at("error")
                .at("message")
                .as_string()
                .find("request body:1:25: default.faults.x: unknown fault"),
            std::string::npos)
      << bad.body();
}

TEST_F(MockServerTest, StatsCountPerKeyModelEndpointAndOutcome) {
  start();
  LoopbackClient c = client();
  post(c, "/_mock/script", R"(["429"])");
  post(c, "/v1/chat/completions", chat_body("a", false), "sk-alpha-0000000001");
  post(c, "/v1/chat/completions", chat_body("a", false), "sk-alpha-0000000001");
  post(c, "/v1/chat/completions", chat_body("b", true), "sk-beta-99999999992");
  post(c, "/v1/embeddings", R"({"model": "e", "input": "x"})", "short");
  const LoopbackClient::Reply stats = c.get("/_mock/stats");
  ASSERT_EQ(stats.status(), 200);
  EXPECT_EQ(json::parse(stats.body()), json::parse(R"({
    "total": 4,
    "by_key": {"sk-a...0001": 2, "sk-b...9992": 1, ")" +
                                                   key_fingerprint("Bearer short") + R"(": 1},
    "by_model": {"a": 2, "b": 1, "e": 1},
    "by_endpoint": {"chat.completions": 3, "embeddings": 1},
    "by_outcome": {"rate_limited": 1, "ok": 3}
  })"))
      << stats.body();
  EXPECT_EQ(mock_->stats().snapshot().total, 4u);

  ASSERT_EQ(post(c, "/_mock/reset", "").status(), 200);
  EXPECT_EQ(json::parse(c.get("/_mock/stats").body()).at("total"), 0);
}

TEST(MockStatsTest, FingerprintNeverShowsTheWholeKey) {
  EXPECT_EQ(key_fingerprint("Bearer sk-proj-abcdefghijkl"), "sk-p...ijkl");
  EXPECT_EQ(key_fingerprint(""), "none");
  EXPECT_EQ(key_fingerprint("Bearer "), "none");
  const std::string short_key = key_fingerprint("Bearer abc");
  EXPECT_TRUE(short_key.starts_with("key#"));
  EXPECT_EQ(short_key.size(), 12u);
  EXPECT_EQ(short_key.find("abc"), std::string::npos);
}

// The fault and latency draws, ids and content of a run, for comparing runs.
std::vector<std::string> run_sequence(uint64_t seed) {
  MockOptions options;
  options.seed = seed;
  options.config.defaults.rates[static_cast<size_t>(Outcome::kRateLimited)] = 0.3;
  options.config.defaults.rates[static_cast<size_t>(Outcome::kServerError)] = 0.2;
  MockServer mock(options);
  EXPECT_TRUE(mock.start().is_ok());
  std::vector<std::string> seen;
  for (int i = 0; i < 16; ++i) {
    LoopbackClient c(mock.port());
    const LoopbackClient::Reply reply = post(c, "/v1/chat/completions", chat_body("m", false));
    std::string entry =
        std::to_string(reply.status()) + " " + std::string(reply.response["x-request-id"]);
    if (reply.status() == 200) {
      entry += " " + std::string(json::parse(reply.body()).at("id").as_string());
    }
    seen.push_back(entry);
  }
  return seen;
}

TEST(MockDeterminismTest, SameSeedSameRunWithOneThread) {
  const std::vector<std::string> first = run_sequence(7);
  EXPECT_EQ(run_sequence(7), first);
  EXPECT_NE(run_sequence(8), first);
  // The 30%/20% mix shows both faults and successes in 16 draws for this seed.
  const auto count = [&](std::string_view prefix) {
    return std::count_if(first.begin(), first.end(),
                         [&](const std::string& s) { return s.starts_with(prefix); });
  };
  EXPECT_GT(count("429"), 0);
  EXPECT_GT(count("500"), 0);
  EXPECT_GT(count("200"), 0);
}

}  // namespace
}  // namespace sheepdog::mock
