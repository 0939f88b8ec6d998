// The mock's provider-independent content and its OpenAI encoding, without sockets.
#include "mock/mock_openai.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <cmath>

#include "../../support/loopback_http_client.h"
#include "mock/mock_content.h"

namespace sheepdog::mock {
namespace {

namespace json = boost::json;

ChatCall decode_chat(const std::string& body) {
  ChatCall call;
  const auto error = decode_openai_chat(body, &call);
  EXPECT_FALSE(error.has_value()) << (error ? error->message : "");
  return call;
}

TEST(MockContentTest, TextIsFourCharactersPerTokenAndDeterministic) {
  const std::string text = generate_text(10, 42);
  EXPECT_EQ(text.size(), 40u);
  EXPECT_EQ(approx_tokens(text), 10u);
  EXPECT_EQ(generate_text(10, 42), text);
  EXPECT_NE(generate_text(10, 43), text);
  EXPECT_EQ(approx_tokens("abcde"), 2u);
  EXPECT_EQ(approx_tokens(""), 0u);
}

TEST(MockContentTest, EmbeddingsAreUnitLengthAndDependOnInputOnly) {
  const std::vector<float> a = embedding_vector("hello", 64);
  ASSERT_EQ(a.size(), 64u);
  double norm = 0;
  for (float x : a) {
    norm += static_cast<double>(x) * x;
  }
  EXPECT_NEAR(norm, 1.0, 1e-5);
  EXPECT_EQ(embedding_vector("hello", 64), a);
  EXPECT_NE(embedding_vector("hello!", 64), a);
}

TEST(MockOpenAiTest, DecodesChatRequest) {
  const ChatCall call = decode_chat(R"({
    "model": "gpt-4o", "stream": true, "stream_options": {"include_usage": true},
    "max_tokens": 7,
    "messages": [{"role": "system", "content": "Be brief."},
                 {"role": "user", "content": [{"type": "text", "text": "Hi there"}]}],
    "tools": [{"type": "function", "function": {"name": "a"}},
              {"type": "function", "function": {"name": "b", "parameters": {"type": "object"}}}],
    "tool_choice": {"type": "function", "function": {"name": "b"}}
  })");
  EXPECT_EQ(call.model, "gpt-4o");
  EXPECT_TRUE(call.stream);
  EXPECT_TRUE(call.include_usage);
  EXPECT_EQ(call.max_tokens, 7u);
  EXPECT_EQ(call.prompt_text, "Be brief.Hi there");
  EXPECT_EQ(call.message_count, 2u);
  ASSERT_EQ(call.tools.size(), 2u);
  EXPECT_TRUE(call.tools[0].parameters.is_null());
  EXPECT_EQ(call.forced_tool, "b");
  // 17 characters -> 5 tokens, plus 3 per message and 3 for the reply.
  EXPECT_EQ(approx_prompt_tokens(call), 5u + 6u + 3u);
}

TEST(MockOpenAiTest, ToolChoiceNoneDropsTools) {
  const ChatCall call = decode_chat(R"({"model": "m", "messages": [], "tool_choice": "none",
    "tools": [{"type": "function", "function": {"name": "a"}}]})");
  EXPECT_TRUE(call.tools.empty());
}

TEST(MockOpenAiTest, RejectsRequestsAsOpenAiDoes) {
  ChatCall call;
  auto error = decode_openai_chat("{not json", &call);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->type, "invalid_request_error");
  error = decode_openai_chat(R"({"messages": []})", &call);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->message, "you must provide a model parameter");
  error = decode_openai_chat(R"({"model": "m"})", &call);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->param, "messages");
  EXPECT_EQ(error->code, "missing_required_parameter");
}

ChatReply sample_reply() {
  MockConfig config;
  config.completion_tokens = 3;
  FixedRandom random(0.25);
  return make_chat_reply(decode_chat(R"({"model": "m", "messages": [{"content": "hey"}]})"),
                         Outcome::kOk, config, random, 1700000123);
}

TEST(MockOpenAiTest, CompletionBodyHasOpenAiShape) {
  const ChatReply reply = sample_reply();
  const json::value body = json::parse(openai_chat_completion(reply));
  EXPECT_EQ(body.at("object"), "chat.completion");
  EXPECT_EQ(body.at("id").as_string().size(), std::string("chatcmpl-").size() + 29);
  EXPECT_EQ(body.at("created"), 1700000123);
  const json::value& choice = body.at("choices").at(0);
  EXPECT_EQ(choice.at("finish_reason"), "stop");
  EXPECT_EQ(choice.at("message").at("role"), "assistant");
  EXPECT_EQ(choice.at("message").at("content").as_string().size(), 12u);
  // "hey": 1 token + 3 (one message) + 3.
  EXPECT_EQ(body.at("usage"),
            json::parse(R"({"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10})"));
}

TEST(MockOpenAiTest, StreamIsRoleThenPiecesThenFinishUsageAndDone) {
  const ChatReply reply = sample_reply();
  const std::vector<std::string> events = openai_chat_stream(reply, /*include_usage=*/true);
  ASSERT_EQ(events.size(), 1 + 3 + 1 + 1 + 1u);
  EXPECT_EQ(events.back(), "data: [DONE]\n\n");
  std::string content;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    const auto data = testing::sse_data(events[i]);
    ASSERT_EQ(data.size(), 1u);
    const json::value chunk = json::parse(data[0]);
    EXPECT_EQ(chunk.at("object"), "chat.completion.chunk");
    EXPECT_EQ(chunk.at("id"), json::value(reply.id));
    if (i == 0) {
      EXPECT_EQ(chunk.at("choices").at(0).at("delta").at("role"), "assistant");
    }
    if (i >= 1 && i <= 3) {
      content += chunk.at("choices").at(0).at("delta").at("content").as_string();
      EXPECT_TRUE(chunk.at("usage").is_null());
    }
    if (i == 4) {
      EXPECT_EQ(chunk.at("choices").at(0).at("finish_reason"), "stop");
    }
    if (i == 5) {
      EXPECT_TRUE(chunk.at("choices").as_array().empty());
      EXPECT_EQ(chunk.at("usage").at("total_tokens"), 10);
    }
  }
  EXPECT_EQ(content, reply.text);
}

TEST(MockOpenAiTest, RateLimitResponseCarriesRetryHeaders) {
  FaultProfile profile;
  profile.retry_after = milliseconds(1500);
  profile.should_retry = true;
  const server::HttpResponse response =
      openai_error_response(Outcome::kRateLimited, profile, {"gpt-4o", 10, 100, "req_1"});
  EXPECT_EQ(response.result_int(), 429u);
  EXPECT_EQ(response[http::field::retry_after], "2");
  EXPECT_EQ(response["retry-after-ms"], "1500");
  EXPECT_EQ(response["x-ratelimit-remaining-requests"], "0");
  EXPECT_EQ(response["x-ratelimit-reset-requests"], "1.5s");
  EXPECT_EQ(response["x-should-retry"], "true");
  EXPECT_EQ(response["x-request-id"], "req_1");
  const json::value body = json::parse(response.body());
  EXPECT_EQ(body.at("error").at("code"), "rate_limit_exceeded");
  EXPECT_EQ(body.at("error").at("type"), "requests");
}

TEST(MockOpenAiTest, ErrorOutcomesMapToStatusesAndBodies) {
  const FaultProfile profile;
  const ErrorContext context{"m", 10, 100, ""};
  const auto code_of = [&](Outcome outcome) {
    const server::HttpResponse response = openai_error_response(outcome, profile, context);
    return json::parse(response.body()).at("error").at("code");
  };
  EXPECT_EQ(openai_error_response(Outcome::kInsufficientQuota, profile, context).result_int(),
            429u);
  EXPECT_EQ(code_of(Outcome::kInsufficientQuota), "insufficient_quota");
  EXPECT_EQ(openai_error_response(Outcome::kServerError, profile, context).result_int(), 500u);
  EXPECT_TRUE(code_of(Outcome::kServerError).is_null());
  const server::HttpResponse unavailable =
      openai_error_response(Outcome::kServiceUnavailable, profile, context);
  EXPECT_EQ(unavailable.result_int(), 503u);
  EXPECT_EQ(unavailable[http::field::retry_after], "1");
  const server::HttpResponse bad_gateway =
      openai_error_response(Outcome::kBadGateway, profile, context);
  EXPECT_EQ(bad_gateway.result_int(), 502u);
  EXPECT_EQ(bad_gateway[http::field::content_type], "text/html");
  EXPECT_EQ(openai_error_response(Outcome::kGatewayTimeout, profile, context).result_int(), 504u);
  EXPECT_EQ(bad_gateway["x-should-retry"], "");  // not configured
  const server::HttpResponse too_long =
      openai_error_response(Outcome::kContextLengthExceeded, profile, context);
  EXPECT_EQ(too_long.result_int(), 400u);
  const json::value error = json::parse(too_long.body()).at("error");
  EXPECT_EQ(error.at("code"), "context_length_exceeded");
  EXPECT_EQ(error.at("param"), "messages");
  EXPECT_NE(error.at("message").as_string().find("maximum context length is 100 tokens. However, "
                                                 "your messages resulted in 101 tokens"),
            std::string::npos);
}

TEST(MockOpenAiTest, EmbeddingsListsFloatsOrBase64) {
  EmbeddingsCall call;
  ASSERT_FALSE(decode_openai_embeddings(
      R"({"model": "e", "input": ["ab", "cdefg"], "dimensions": 4})", &call));
  EXPECT_EQ(call.prompt_tokens, 1u + 2u);
  json::value body = json::parse(openai_embeddings(call, 1536));
  EXPECT_EQ(body.at("data").as_array().size(), 2u);
  EXPECT_EQ(body.at("data").at(1).at("index"), 1);
  const json::array& vector = body.at("data").at(0).at("embedding").as_array();
  ASSERT_EQ(vector.size(), 4u);
  EXPECT_NEAR(vector[0].to_number<double>(), embedding_vector("ab", 4)[0], 1e-7);
  EXPECT_EQ(body.at("usage").at("prompt_tokens"), 3);

  ASSERT_FALSE(decode_openai_embeddings(
      R"({"model": "e", "input": [1, 2, 3], "encoding_format": "base64"})", &call));
  EXPECT_EQ(call.prompt_tokens, 3u);
  body = json::parse(openai_embeddings(call, 6));
  // 6 floats = 24 bytes = 32 base64 characters.
  EXPECT_EQ(body.at("data").at(0).at("embedding").as_string().size(), 32u);
  EXPECT_TRUE(decode_openai_embeddings(R"({"model": "e"})", &call));
  EXPECT_TRUE(decode_openai_embeddings(R"({"model": "e", "input": "x", "dimensions": 0})", &call));
}

TEST(MockOpenAiTest, ModelsListsConfiguredAndProfiledNames) {
  MockConfig config;
  config.model_list = {"a", "b"};
  config.models["b"] = FaultProfile{};
  config.models["c"] = FaultProfile{};
  const json::value body = json::parse(openai_models(config));
  std::vector<std::string> ids;
  for (const json::value& model : body.at("data").as_array()) {
    ids.emplace_back(model.at("id").as_string());
  }
  EXPECT_EQ(ids, (std::vector<std::string>{"a", "b", "c"}));
}

}  // namespace
}  // namespace sheepdog::mock
