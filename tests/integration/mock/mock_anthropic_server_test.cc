// POST /v1/messages on a MockServer over loopback (127.0.0.1, port 0), read by the gateway's
// own Anthropic translation (providers/anthropic_*.h): answers, streams, tool calls, the
// version header, faults in Anthropic's shapes, stats. Scripts pick the faults.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "../../support/loopback_http_client.h"
#include "mock/mock_server.h"
#include "providers/anthropic_messages.h"
#include "providers/anthropic_stream.h"
#include "resilience/outcome.h"

namespace sheepdog::mock {
namespace {

namespace json = boost::json;
using testing::LoopbackClient;

std::string message_body(bool stream, bool tools = false, int max_tokens = 6) {
  std::string body = R"({"model": "claude-test", "max_tokens": )" + std::to_string(max_tokens) +
                     R"(, "stream": )" + (stream ? "true" : "false") +
                     R"(, "messages": [{"role": "user", "content": "Hello"}])";
  if (tools) {
    body += R"(, "tools": [{"name": "get_weather", "input_schema": {"type": "object",
      "required": ["city", "days"], "properties": {"city": {"type": "string"},
      "days": {"type": "integer", "minimum": 1}}}}])";
  }
  return body + "}";
}

class MockAnthropicServerTest : public ::testing::Test {
 protected:
  void SetUp() override { start(MockOptions{}); }
  void start(MockOptions options) {
    mock_.reset();
    mock_ = std::make_unique<MockServer>(std::move(options));
    const Status status = mock_->start();
    ASSERT_TRUE(status.is_ok()) << status.message();
  }
  // A fresh connection per request: error responses may close theirs.
  LoopbackClient::Reply send(std::string body, std::string_view version = "2023-06-01") {
    LoopbackClient client(mock_->port());
    auto request = client.make_request(http::verb::post, "/v1/messages", std::move(body));
    request.set("x-api-key", "sk-ant-test-0000000042");
    if (!version.empty()) {
      request.set("anthropic-version", version);
    }
    return client.request(std::move(request));
  }
  // The OpenAI chunks the gateway would relay for a streamed answer.
  static std::vector<std::string> translated(const std::string& anthropic_stream,
                                             providers::StreamDecoder::Step* step) {
    providers::AnthropicStreamDecoder decoder(/*include_usage=*/true, 1);
    std::string out;
    *step = decoder.feed(anthropic_stream, out);
    return testing::sse_data(out);
  }

  std::unique_ptr<MockServer> mock_;
};

// Anthropic's own paths answer in Anthropic's envelope, as the SDK expects (issue 10: the
// mock's 404 there was OpenAI-shaped).
TEST_F(MockAnthropicServerTest, UnknownMessagesPathsAnswerInAnthropicsShape) {
  LoopbackClient client(mock_->port());
  const LoopbackClient::Reply missing =
      client.request(client.make_request(http::verb::post, "/v1/messages/batches", "{}"));
  ASSERT_TRUE(missing.ok()) << missing.ec.message();
  EXPECT_EQ(missing.status(), 404);
  json::object body = json::parse(missing.body()).as_object();
  EXPECT_EQ(body.at("type"), "error");
  EXPECT_EQ(body.at("error").at("type"), "not_found_error");
  EXPECT_NE(body.at("error").at("message").as_string().find("/v1/messages/batches"),
            json::string::npos);

  LoopbackClient other(mock_->port());
  const LoopbackClient::Reply wrong =
      other.request(other.make_request(http::verb::get, "/v1/messages", ""));
  ASSERT_TRUE(wrong.ok()) << wrong.ec.message();
  EXPECT_EQ(wrong.status(), 405);
  body = json::parse(wrong.body()).as_object();
  EXPECT_EQ(body.at("type"), "error");
  EXPECT_EQ(body.at("error").at("type"), "invalid_request_error");
}

TEST_F(MockAnthropicServerTest, MessageIsReadByTheGateway) {
  const LoopbackClient::Reply reply = send(message_body(false));
  ASSERT_TRUE(reply.ok()) << reply.ec.message();
  ASSERT_EQ(reply.status(), 200) << reply.body();
  EXPECT_EQ(reply.response[http::field::content_type], "application/json");
  EXPECT_TRUE(reply.response["request-id"].starts_with("req_011C"));
  EXPECT_EQ(reply.response["request-id"].size(), 28u);
  const json::object body = json::parse(reply.body()).as_object();
  EXPECT_EQ(body.at("type"), "message");
  EXPECT_EQ(body.at("stop_reason"), "max_tokens");  // max_tokens 6 < the natural 16
  const std::optional<json::object> completion = providers::to_openai_completion(body, 1);
  ASSERT_TRUE(completion);
  const json::value& choice = completion->at("choices").at(0);
  EXPECT_EQ(choice.at("finish_reason"), "length");
  EXPECT_EQ(choice.at("message").at("content").as_string().size(), 4u * 6u);
  EXPECT_EQ(json::serialize(completion->at("usage")),
            R"({"prompt_tokens":8,"completion_tokens":6,"total_tokens":14,)"
            R"("prompt_tokens_details":{"cached_tokens":0}})");
}

TEST_F(MockAnthropicServerTest, StreamTranslatesToTheSameText) {
  const LoopbackClient::Reply whole = send(message_body(false));
  const LoopbackClient::Reply reply = send(message_body(true));
  ASSERT_TRUE(reply.ok()) << reply.ec.message();
  EXPECT_EQ(reply.response[http::field::content_type], "text/event-stream; charset=utf-8");
  EXPECT_TRUE(reply.response.chunked());
  EXPECT_TRUE(reply.body().starts_with("event: message_start\n"));
  providers::StreamDecoder::Step step;
  const std::vector<std::string> chunks = translated(reply.body(), &step);
  EXPECT_TRUE(step.done);
  EXPECT_FALSE(step.failed);
  ASSERT_EQ(chunks.size(), 1u + 6u + 1u + 1u + 1u);  // role, 6 tokens, finish, usage, [DONE]
  std::string text;
  for (size_t i = 1; i <= 6; ++i) {
    text += json::parse(chunks[i]).at("choices").at(0).at("delta").at("content").as_string();
  }
  EXPECT_EQ(json::value(text), json::parse(whole.body()).at("content").at(0).at("text"));
  EXPECT_EQ(json::parse(chunks[7]).at("choices").at(0).at("finish_reason"), "length");
  EXPECT_EQ(json::parse(chunks[8]).at("usage").at("completion_tokens"), 6);
}

TEST_F(MockAnthropicServerTest, StreamedToolCallArgumentsFitTheSchema) {
  const LoopbackClient::Reply reply = send(message_body(true, /*tools=*/true));
  ASSERT_EQ(reply.status(), 200);
  providers::StreamDecoder::Step step;
  const std::vector<std::string> chunks = translated(reply.body(), &step);
  ASSERT_TRUE(step.done);
  ASSERT_GE(chunks.size(), 6u);
  const json::value opened = json::parse(chunks[1]).at("choices").at(0).at("delta");
  EXPECT_EQ(opened.at("tool_calls").at(0).at("function").at("name"), "get_weather");
  EXPECT_TRUE(opened.at("tool_calls").at(0).at("id").as_string().starts_with("toolu_01"));
  std::string arguments;
  for (size_t i = 2; i + 3 < chunks.size(); ++i) {
    arguments += json::parse(chunks[i])
                     .at("choices")
                     .at(0)
                     .at("delta")
                     .at("tool_calls")
                     .at(0)
                     .at("function")
                     .at("arguments")
                     .as_string();
  }
  const json::value args = json::parse(arguments);
  EXPECT_TRUE(args.at("city").is_string());
  EXPECT_GE(args.at("days").as_int64(), 1);
  EXPECT_EQ(json::parse(chunks[chunks.size() - 3]).at("choices").at(0).at("finish_reason"),
            "tool_calls");
}

TEST_F(MockAnthropicServerTest, MissingVersionHeaderIs400) {
  const LoopbackClient::Reply reply = send(message_body(false), /*version=*/"");
  ASSERT_EQ(reply.status(), 400);
  const std::string id(reply.response["request-id"]);
  EXPECT_TRUE(id.starts_with("req_011C"));
  EXPECT_EQ(reply.body(), R"({"type":"error","error":{"type":"invalid_request_error",)"
                          R"("message":"anthropic-version: header is required"},"request_id":")" +
                              id + R"("})");
  const LoopbackClient::Reply no_max = send(R"({"model": "m", "messages": []})");
  EXPECT_EQ(no_max.status(), 400);
  EXPECT_EQ(json::parse(no_max.body()).at("error").at("message"), "max_tokens: Field required");
  EXPECT_EQ(mock_->stats().snapshot().total, 0u);  // rejected before any outcome
}

TEST_F(MockAnthropicServerTest, FaultsAnswerInAnthropicShapes) {
  MockOptions options;
  options.config.defaults.retry_after = seconds(3);
  start(options);
  mock_->planner().set_script(
      std::nullopt,
      {Outcome::kServiceUnavailable, Outcome::kRateLimited, Outcome::kServerError,
       Outcome::kInsufficientQuota, Outcome::kContextLengthExceeded, Outcome::kGatewayTimeout});
  const LoopbackClient::Reply overloaded = send(message_body(false));
  EXPECT_EQ(overloaded.status(), 529);
  EXPECT_EQ(overloaded.response[http::field::retry_after], "3");
  EXPECT_EQ(json::parse(overloaded.body()).at("error").at("type"), "overloaded_error");
  EXPECT_EQ(classify(AttemptResponse{TransportResult::kOk, overloaded.status(), overloaded.body(),
                                     std::nullopt})
                .error,
            ErrorKind::kOverloaded);
  const LoopbackClient::Reply limited = send(message_body(false));
  EXPECT_EQ(limited.status(), 429);
  EXPECT_EQ(limited.response["anthropic-ratelimit-requests-remaining"], "0");
  EXPECT_EQ(json::parse(limited.body()).at("error").at("type"), "rate_limit_error");
  EXPECT_EQ(send(message_body(false)).status(), 500);
  const LoopbackClient::Reply credit = send(message_body(false));
  EXPECT_EQ(credit.status(), 400);
  EXPECT_NE(credit.body().find("credit balance is too low"), std::string::npos);
  const LoopbackClient::Reply too_long = send(message_body(false));
  EXPECT_EQ(too_long.status(), 400);
  EXPECT_EQ(json::parse(too_long.body()).at("error").at("message"),
            "prompt is too long: 128001 tokens > 128000 maximum");
  EXPECT_EQ(send(message_body(false)).status(), 504);

  const MockStats::Snapshot stats = mock_->stats().snapshot();
  EXPECT_EQ(stats.by_endpoint, (std::map<std::string, uint64_t>{{"messages", 6}}));
  EXPECT_EQ(stats.by_key, (std::map<std::string, uint64_t>{{"sk-a...0042", 6}}));
}

TEST_F(MockAnthropicServerTest, TruncatedStreamHasNoMessageStop) {
  mock_->planner().set_script(std::nullopt, {Outcome::kTruncatedStream});
  LoopbackClient c(mock_->port());
  auto request = c.make_request(http::verb::post, "/v1/messages", message_body(true));
  request.set("anthropic-version", "2023-06-01");
  ASSERT_FALSE(c.write(std::move(request)));
  ASSERT_FALSE(c.begin_stream());
  EXPECT_EQ(c.stream_parser().get().result_int(), 200u);
  EXPECT_TRUE(c.read_to_end()) << "the body should end early";
  // 6 tokens: 3 + 6 + 3 = 12 events, of which the first 6 are sent.
  const std::vector<std::string> events = testing::sse_data(c.streamed_body());
  ASSERT_EQ(events.size(), 6u) << c.streamed_body();
  EXPECT_EQ(c.streamed_body().find("message_stop"), std::string::npos);
  providers::StreamDecoder::Step step;
  translated(c.streamed_body(), &step);
  EXPECT_FALSE(step.done);
}

TEST_F(MockAnthropicServerTest, MalformedToolCallIsAnObjectUnlessStreamed) {
  mock_->planner().set_script(std::nullopt,
                              {Outcome::kMalformedToolCall, Outcome::kMalformedToolCall});
  const LoopbackClient::Reply whole = send(message_body(false, /*tools=*/true));
  ASSERT_EQ(whole.status(), 200);
  const json::value input = json::parse(whole.body()).at("content").at(0).at("input");
  ASSERT_TRUE(input.is_object());
  EXPECT_FALSE(input.as_object().contains("city") && input.as_object().contains("days") &&
               input.at("city").is_string() && input.at("days").is_int64())
      << json::serialize(input);

  const LoopbackClient::Reply streamed = send(message_body(true, /*tools=*/true));
  providers::StreamDecoder::Step step;
  const std::vector<std::string> chunks = translated(streamed.body(), &step);
  std::string arguments;
  for (size_t i = 2; i + 3 < chunks.size(); ++i) {
    arguments += json::parse(chunks[i])
                     .at("choices")
                     .at(0)
                     .at("delta")
                     .at("tool_calls")
                     .at(0)
                     .at("function")
                     .at("arguments")
                     .as_string();
  }
  boost::system::error_code ec;
  json::parse(arguments, ec);
  EXPECT_TRUE(ec) << arguments;
}

}  // namespace
}  // namespace sheepdog::mock
