// Each fault of the mock as a client sees it over loopback. Scripts pick the fault, so every
// test is deterministic; waits are bounded by the client's timeout.
#include <gtest/gtest.h>

#include <boost/beast/core/error.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "../../support/loopback_http_client.h"
#include "mock/mock_server.h"

namespace sheepdog::mock {
namespace {

namespace json = boost::json;
using testing::LoopbackClient;

constexpr const char* kToolChat = R"({"model": "m", "messages": [{"content": "weather?"}],
  "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "required": ["city"], "properties": {"city": {"type": "string"}}}}}]})";

std::string chat(bool stream, int max_tokens = 8) {
  return R"({"model": "m", "max_tokens": )" + std::to_string(max_tokens) + R"(, "stream": )" +
         (stream ? "true" : "false") + R"(, "messages": [{"role": "user", "content": "hi"}]})";
}

class MockFaultsTest : public ::testing::Test {
 protected:
  void SetUp() override { start(MockOptions{}); }
  void start(MockOptions options) {
    mock_.reset();
    mock_ = std::make_unique<MockServer>(std::move(options));
    const Status status = mock_->start();
    ASSERT_TRUE(status.is_ok()) << status.message();
  }
  void script(std::initializer_list<Outcome> outcomes) {
    mock_->planner().set_script(std::nullopt, outcomes);
  }
  LoopbackClient::Reply send(LoopbackClient& client, std::string body,
                             std::string_view target = "/v1/chat/completions") {
    return client.request(client.make_request(http::verb::post, target, std::move(body)));
  }
  uint64_t outcome_count(Outcome outcome) {
    const auto snapshot = mock_->stats().snapshot();
    const auto it = snapshot.by_outcome.find(std::string(to_string(outcome)));
    return it == snapshot.by_outcome.end() ? 0 : it->second;
  }

  std::unique_ptr<MockServer> mock_;
};

TEST_F(MockFaultsTest, RateLimitedCarriesRetryAfterAndShouldRetry) {
  MockOptions options;
  options.config.defaults.retry_after = seconds(7);
  options.config.defaults.should_retry = false;
  start(options);
  script({Outcome::kRateLimited});
  LoopbackClient c(mock_->port());
  const LoopbackClient::Reply reply = send(c, chat(false));
  ASSERT_EQ(reply.status(), 429);
  EXPECT_EQ(reply.response[http::field::retry_after], "7");
  EXPECT_EQ(reply.response["x-ratelimit-limit-requests"], "60");
  EXPECT_EQ(reply.response["x-should-retry"], "false");
  EXPECT_EQ(json::parse(reply.body()).at("error").at("code"), "rate_limit_exceeded");
}

TEST_F(MockFaultsTest, ErrorStatusesInScriptOrder) {
  script({Outcome::kInsufficientQuota, Outcome::kServerError, Outcome::kBadGateway,
          Outcome::kServiceUnavailable, Outcome::kGatewayTimeout, Outcome::kContextLengthExceeded});
  LoopbackClient c(mock_->port());
  std::vector<int> statuses;
  for (int i = 0; i < 6; ++i) {
    statuses.push_back(send(c, chat(false)).status());
  }
  EXPECT_EQ(statuses, (std::vector<int>{429, 500, 502, 503, 504, 400}));
  EXPECT_EQ(outcome_count(Outcome::kContextLengthExceeded), 1u);
}

TEST_F(MockFaultsTest, HangNeverAnswersUntilTheClientLeaves) {
  script({Outcome::kHang});
  {
    LoopbackClient c(mock_->port(), milliseconds(300));
    const LoopbackClient::Reply reply = send(c, chat(false));
    EXPECT_EQ(reply.ec, boost::beast::error::timeout);  // nothing came back
  }
  EXPECT_EQ(outcome_count(Outcome::kHang), 1u);
  LoopbackClient next(mock_->port());
  EXPECT_EQ(send(next, chat(false)).status(), 200);  // the server is not stuck
}

TEST_F(MockFaultsTest, HungRequestDoesNotBlockStop) {
  MockOptions options;
  options.http.drain_timeout = milliseconds(100);
  start(options);
  script({Outcome::kHang});
  LoopbackClient c(mock_->port());
  ASSERT_FALSE(c.write(c.make_request(http::verb::post, "/v1/chat/completions", chat(false))));
  // Wait (bounded, by round trips on a second connection) until the request is being served.
  LoopbackClient probe(mock_->port());
  for (int i = 0; i < 1000 && outcome_count(Outcome::kHang) == 0; ++i) {
    ASSERT_EQ(probe.get("/_mock/health").status(), 200);
  }
  ASSERT_EQ(outcome_count(Outcome::kHang), 1u);
  probe.close();
  mock_->stop();  // returns: the drain timeout cancels the hung request
  EXPECT_TRUE(c.wait_for_close());
}

TEST_F(MockFaultsTest, ResetClosesTheConnectionAbruptly) {
  script({Outcome::kConnectionReset});
  LoopbackClient c(mock_->port());
  const LoopbackClient::Reply reply = send(c, chat(false));
  EXPECT_EQ(reply.ec, boost::asio::error::connection_reset) << reply.ec.message();
}

TEST_F(MockFaultsTest, TruncatedStreamStopsWithoutDone) {
  script({Outcome::kTruncatedStream});
  LoopbackClient c(mock_->port());
  ASSERT_FALSE(c.write(c.make_request(http::verb::post, "/v1/chat/completions", chat(true))));
  ASSERT_FALSE(c.begin_stream());
  EXPECT_EQ(c.stream_parser().get().result_int(), 200u);
  const testing::ErrorCode ec = c.read_to_end();
  EXPECT_TRUE(ec) << "the body should end early";
  const std::vector<std::string> events = testing::sse_data(c.streamed_body());
  // 8 tokens: role + 8 + finish + [DONE] = 11 events, of which the first 5 are sent.
  ASSERT_EQ(events.size(), 5u) << c.streamed_body();
  for (const std::string& event : events) {
    EXPECT_EQ(json::parse(event).at("object"), "chat.completion.chunk");
  }
}

TEST_F(MockFaultsTest, TruncatedNonStreamingBodyIsCutShort) {
  script({Outcome::kTruncatedStream});
  LoopbackClient c(mock_->port());
  const LoopbackClient::Reply reply = send(c, chat(false));
  EXPECT_TRUE(reply.ec);
  boost::system::error_code parse_error;
  json::parse(reply.body(), parse_error);
  EXPECT_TRUE(parse_error) << reply.body();
}

TEST_F(MockFaultsTest, SlowStreamStillCompletes) {
  MockOptions options;
  options.config.defaults.tokens_per_second = 1000;  // 1ms per token, 10ms when slow
  start(options);
  script({Outcome::kSlowStream});
  LoopbackClient c(mock_->port());
  const LoopbackClient::Reply reply = send(c, chat(true, 3));
  ASSERT_TRUE(reply.ok()) << reply.ec.message();
  EXPECT_EQ(testing::sse_data(reply.body()).back(), "[DONE]");
  EXPECT_EQ(outcome_count(Outcome::kSlowStream), 1u);
}

TEST_F(MockFaultsTest, MalformedToolCallArgumentsDoNotParse) {
  script({Outcome::kMalformedToolCall});
  LoopbackClient c(mock_->port());
  const LoopbackClient::Reply reply = send(c, kToolChat);
  ASSERT_EQ(reply.status(), 200);
  const json::value call =
      json::parse(reply.body()).at("choices").at(0).at("message").at("tool_calls").at(0);
  boost::system::error_code ec;
  json::parse(call.at("function").at("arguments").as_string(), ec);
  EXPECT_TRUE(ec) << call.at("function").at("arguments");
}

TEST_F(MockFaultsTest, InvalidToolArgsBreakTheSchema) {
  script({Outcome::kInvalidToolArgs, Outcome::kInvalidToolArgs, Outcome::kInvalidToolArgs,
          Outcome::kInvalidToolArgs});
  LoopbackClient c(mock_->port());
  for (int i = 0; i < 4; ++i) {
    const LoopbackClient::Reply reply = send(c, kToolChat);
    ASSERT_EQ(reply.status(), 200);
    const json::value args = json::parse(json::parse(reply.body())
                                             .at("choices")
                                             .at(0)
                                             .at("message")
                                             .at("tool_calls")
                                             .at(0)
                                             .at("function")
                                             .at("arguments")
                                             .as_string());
    // Parseable, but "city" is missing or not a string.
    ASSERT_TRUE(args.is_object());
    const json::value* city = args.as_object().if_contains("city");
    EXPECT_TRUE(city == nullptr || !city->is_string()) << json::serialize(args);
  }
}

TEST_F(MockFaultsTest, ToolFaultsWithoutToolsAnswerNormally) {
  script({Outcome::kMalformedToolCall});
  LoopbackClient c(mock_->port());
  EXPECT_EQ(send(c, chat(false)).status(), 200);
  EXPECT_EQ(outcome_count(Outcome::kOk), 1u);
}

TEST_F(MockFaultsTest, EmbeddingsFailToo) {
  script({Outcome::kServiceUnavailable, Outcome::kConnectionReset});
  LoopbackClient c(mock_->port());
  const std::string body = R"({"model": "e", "input": "x"})";
  EXPECT_EQ(send(c, body, "/v1/embeddings").status(), 503);
  EXPECT_EQ(send(c, body, "/v1/embeddings").ec, boost::asio::error::connection_reset);
}

TEST_F(MockFaultsTest, FaultRatesApplyPerModel) {
  MockOptions options;
  options.config.models["down"].rates[static_cast<size_t>(Outcome::kGatewayTimeout)] = 1.0;
  start(options);
  LoopbackClient c(mock_->port());
  EXPECT_EQ(send(c, chat(false)).status(), 200);
  EXPECT_EQ(send(c, R"({"model": "down", "messages": []})").status(), 504);
}

}  // namespace
}  // namespace sheepdog::mock

namespace sheepdog::mock {
namespace {

// A client that leaves while a long stream is being written, after the latency wait is over:
// the server notices, stops writing and goes on serving. (Regression: the finished latency
// wait's cancellation handler was left in the responder's slot, so the client-gone signal
// touched the destroyed timer; ASan reported heap-use-after-free in the load benchmark.)
TEST_F(MockFaultsTest, ClientLeavingAfterALatencyWaitIsSafe) {
  MockOptions options;
  options.config.defaults.latency.median = milliseconds(1);
  options.config.defaults.latency.p99 = milliseconds(1);
  options.config.max_completion_tokens = 50'000;  // megabytes of events: the writes block
  start(options);
  for (int round = 0; round < 3; ++round) {
    LoopbackClient c(mock_->port());
    ASSERT_FALSE(c.write(c.make_request(http::verb::post, "/v1/chat/completions",
                                        chat(true, 50'000))));
    ASSERT_FALSE(c.begin_stream());
    ASSERT_FALSE(c.read_more());
    c.close();
  }
  LoopbackClient next(mock_->port());
  EXPECT_EQ(send(next, chat(false)).status(), 200);
}

}  // namespace
}  // namespace sheepdog::mock
