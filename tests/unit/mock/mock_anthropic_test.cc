// The mock's Anthropic Messages API wire format without sockets: request decoding and its
// errors, the answer rules, exact message bodies and event sequences, error responses; and the
// gateway's own Anthropic translation (providers/anthropic_*.h) reading what the mock writes.
#include "mock/mock_anthropic.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "../../support/loopback_http_client.h"
#include "providers/anthropic_messages.h"
#include "providers/anthropic_stream.h"
#include "resilience/outcome.h"

namespace sheepdog::mock {
namespace {

namespace json = boost::json;

ChatCall decode(const std::string& body) {
  ChatCall call;
  const std::optional<std::string> problem = decode_anthropic_messages(body, &call);
  EXPECT_FALSE(problem.has_value()) << *problem;
  return call;
}

TEST(MockAnthropicDecodeTest, DecodesRequest) {
  const ChatCall call = decode(R"({
    "model": "claude-3-5-haiku", "max_tokens": 7, "stream": true,
    "system": [{"type": "text", "text": "Be brief."}],
    "messages": [
      {"role": "user", "content": [{"type": "text", "text": "Hi"},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}}]},
      {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "b",
        "input": {"q": 1}}]},
      {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1",
        "content": "42"}]}],
    "tools": [{"name": "a", "input_schema": {"type": "object"}},
              {"name": "b", "description": "B", "input_schema": {"type": "object",
                "properties": {"q": {"type": "integer"}}}},
              {"type": "web_search_20250305", "name": "web_search"}],
    "tool_choice": {"type": "tool", "name": "b"},
    "stop_sequences": ["END"], "temperature": 0.5
  })");
  EXPECT_EQ(call.model, "claude-3-5-haiku");
  EXPECT_EQ(call.max_tokens, 7u);
  EXPECT_TRUE(call.stream);
  EXPECT_EQ(call.prompt_text, R"(Be brief.Hi{"q":1}42)");
  EXPECT_EQ(call.message_count, 3u);
  ASSERT_EQ(call.tools.size(), 2u);  // the server tool is Anthropic's to run, not ours
  EXPECT_EQ(call.tools[1].name, "b");
  EXPECT_EQ(json::serialize(call.tools[1].parameters),
            R"({"type":"object","properties":{"q":{"type":"integer"}}})");
  EXPECT_EQ(call.forced_tool, "b");
  // 20 characters -> 5 tokens, 3 per message, 3 for the reply.
  EXPECT_EQ(approx_prompt_tokens(call), 5u + 9u + 3u);
}

TEST(MockAnthropicDecodeTest, StringSystemAndToolChoiceNone) {
  const ChatCall call = decode(R"({"model": "m", "max_tokens": 1, "system": "S",
    "messages": [{"role": "user", "content": "x"}], "tool_choice": {"type": "none"},
    "tools": [{"name": "a", "input_schema": {"type": "object"}}]})");
  EXPECT_EQ(call.prompt_text, "Sx");
  EXPECT_TRUE(call.tools.empty());
  EXPECT_FALSE(call.stream);
}

TEST(MockAnthropicDecodeTest, RejectsRequestsAsAnthropicDoes) {
  const std::string user = R"([{"role": "user", "content": "hi"}])";
  const auto with = [&](const std::string& fields) {
    return R"({"model": "m", "max_tokens": 5, "messages": )" + user + fields + "}";
  };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[]", "Input should be a valid dictionary or object to extract fields from"},
      {R"({"max_tokens": 5, "messages": )" + user + "}", "model: Field required"},
      {R"({"model": "m", "messages": )" + user + "}", "max_tokens: Field required"},
      {R"({"model": "m", "max_tokens": "5", "messages": )" + user + "}",
       "max_tokens: Input should be a valid integer"},
      {R"({"model": "m", "max_tokens": 0, "messages": )" + user + "}",
       "max_tokens: Input should be greater than or equal to 1"},
      {R"({"model": "m", "max_tokens": 5})", "messages: Field required"},
      {R"({"model": "m", "max_tokens": 5, "messages": []})",
       "messages: at least one message is required"},
      {R"({"model": "m", "max_tokens": 5, "messages": [{"role": "system", "content": "x"}]})",
       "messages.0.role: Input should be 'user' or 'assistant'"},
      {R"({"model": "m", "max_tokens": 5, "messages": [{"role": "user",
         "content": [{"type": "audio"}]}]})",
       "messages.0.content.0: Input tag 'audio' found using 'type' does not match any of the "
       "expected tags: 'text', 'image', 'document', 'tool_use', 'tool_result', 'thinking', "
       "'redacted_thinking'"},
      {R"({"model": "m", "max_tokens": 5, "messages": [{"role": "user",
         "content": [{"type": "text"}]}]})",
       "messages.0.content.0.text.text: Field required"},
      {with(R"(, "tools": [{"name": "a"}])"), "tools.0.input_schema: Field required"},
      {with(R"(, "tool_choice": {"type": "tool"})"), "tool_choice.tool.name: Field required"},
      {with(R"(, "tool_choice": {"type": "required"})"),
       "tool_choice: Input tag 'required' found using 'type' does not match any of the expected "
       "tags: 'auto', 'any', 'tool', 'none'"},
      {with(R"(, "temperature": 1.5)"), "temperature: Input should be less than or equal to 1"},
      {with(R"(, "stream": "yes")"), "stream: Input should be a valid boolean"},
      {with(R"(, "system": 3)"), "system: Input should be a valid string"},
  };
  for (const auto& [body, message] : cases) {
    ChatCall call;
    EXPECT_EQ(decode_anthropic_messages(body, &call), message) << body;
  }
  ChatCall call;
  EXPECT_TRUE(decode_anthropic_messages("{", &call)
                  .value_or("")
                  .starts_with("The request body is not valid JSON: "));
}

TEST(MockAnthropicDecodeTest, VersionHeaderIsRequired) {
  EXPECT_EQ(check_anthropic_version(""), "anthropic-version: header is required");
  EXPECT_EQ(check_anthropic_version("2023-06-01"), std::nullopt);
}

ChatReply reply_for(const std::string& body, Outcome outcome = Outcome::kOk) {
  MockConfig config;  // completion_tokens 16
  SeededRandom random(3);
  return anthropic_reply(decode(body), outcome, config, random);
}

TEST(MockAnthropicReplyTest, MaxTokensCapsTheNaturalLength) {
  const ChatReply capped =
      reply_for(R"({"model": "c", "max_tokens": 6, "messages": [{"role": "user", "content":
        "Hello"}]})");
  EXPECT_EQ(capped.completion_tokens, 6u);
  EXPECT_EQ(capped.text.size(), 24u);
  EXPECT_EQ(capped.finish_reason, "max_tokens");
  EXPECT_EQ(capped.prompt_tokens, 8u);  // "Hello" 2 + 3 + 3
  EXPECT_TRUE(capped.id.starts_with("msg_01"));
  EXPECT_EQ(capped.id.size(), 28u);

  const ChatReply natural =
      reply_for(R"({"model": "c", "max_tokens": 4096, "messages": [{"role": "user", "content":
        "Hello"}]})");
  EXPECT_EQ(natural.completion_tokens, 16u);
  EXPECT_EQ(natural.finish_reason, "end_turn");
  EXPECT_TRUE(natural.text.starts_with(capped.text));  // same request content, same words
}

constexpr const char* kWeather = R"({"model": "c", "max_tokens": 100, "stream": STREAM,
  "messages": [{"role": "user", "content": "weather?"}],
  "tools": [{"name": "get_weather", "input_schema": {"type": "object", "required": ["city"],
    "properties": {"city": {"type": "string"}}}}]})";

std::string weather(bool stream) {
  std::string body = kWeather;
  body.replace(body.find("STREAM"), 6, stream ? "true" : "false");
  return body;
}

TEST(MockAnthropicReplyTest, ToolCallsUseToolIdsAndObjects) {
  const ChatReply ok = reply_for(weather(false));
  ASSERT_TRUE(ok.tool_call);
  EXPECT_EQ(ok.finish_reason, "tool_use");
  EXPECT_TRUE(ok.tool_call->id.starts_with("toolu_01"));
  EXPECT_EQ(ok.tool_call->id.size(), 30u);
  EXPECT_EQ(ok.tool_call->arguments, R"({"city":"example city"})");

  // Not streamed, a malformed call must still carry an object: one that breaks the schema.
  const ChatReply broken = reply_for(weather(false), Outcome::kMalformedToolCall);
  const json::value input = json::parse(broken.tool_call->arguments);
  ASSERT_TRUE(input.is_object());
  const json::value* city = input.as_object().if_contains("city");
  EXPECT_TRUE(city == nullptr || !city->is_string()) << broken.tool_call->arguments;

  // Streamed, the pieces join to text that does not parse.
  const ChatReply cut = reply_for(weather(true), Outcome::kMalformedToolCall);
  boost::system::error_code ec;
  json::parse(cut.tool_call->arguments, ec);
  EXPECT_TRUE(ec) << cut.tool_call->arguments;
}

TEST(MockAnthropicReplyTest, InvalidArgsForASchemaWithoutPropertiesAreStillAnObject) {
  const std::string body = R"({"model": "c", "max_tokens": 9, "messages": [{"role": "user",
    "content": "x"}], "tools": [{"name": "t", "input_schema": {"type": "object"}}]})";
  EXPECT_EQ(reply_for(body, Outcome::kInvalidToolArgs).tool_call->arguments,
            R"({"unexpected_argument":"not in the schema"})");
  EXPECT_EQ(reply_for(body).tool_call->arguments, "{}");
}

ChatReply text_reply() {
  ChatReply reply;
  reply.id = "msg_01abc";
  reply.model = "claude-test";
  reply.text = "Hello, w";
  reply.finish_reason = "end_turn";
  reply.prompt_tokens = 9;
  reply.completion_tokens = 2;
  return reply;
}

ChatReply tool_reply() {
  ChatReply reply = text_reply();
  reply.text.clear();
  reply.tool_call = ToolCallReply{"toolu_01x", "get_weather", R"({"city":"Paris"})"};
  reply.finish_reason = "tool_use";
  reply.completion_tokens = 7;
  return reply;
}

TEST(MockAnthropicEncodeTest, MessageBodies) {
  EXPECT_EQ(anthropic_message(text_reply()),
            R"({"id":"msg_01abc","type":"message","role":"assistant","model":"claude-test",)"
            R"("content":[{"type":"text","text":"Hello, w"}],"stop_reason":"end_turn",)"
            R"("stop_sequence":null,"usage":{"input_tokens":9,"cache_creation_input_tokens":0,)"
            R"("cache_read_input_tokens":0,"output_tokens":2}})");
  EXPECT_EQ(json::serialize(json::parse(anthropic_message(tool_reply())).at("content")),
            R"([{"type":"tool_use","id":"toolu_01x","name":"get_weather",)"
            R"("input":{"city":"Paris"}}])");
}

TEST(MockAnthropicEncodeTest, StreamEventSequence) {
  const std::vector<std::string> expected = {
      "event: message_start\n"
      R"(data: {"type":"message_start","message":{"id":"msg_01abc","type":"message",)"
      R"("role":"assistant","model":"claude-test","content":[],"stop_reason":null,)"
      R"("stop_sequence":null,"usage":{"input_tokens":9,"cache_creation_input_tokens":0,)"
      R"("cache_read_input_tokens":0,"output_tokens":1}}})"
      "\n\n",
      "event: content_block_start\n"
      R"(data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"
      "\n\n",
      "event: ping\n"
      R"(data: {"type":"ping"})"
      "\n\n",
      "event: content_block_delta\n"
      R"(data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hell"}})"
      "\n\n",
      "event: content_block_delta\n"
      R"(data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"o, w"}})"
      "\n\n",
      "event: content_block_stop\n"
      R"(data: {"type":"content_block_stop","index":0})"
      "\n\n",
      "event: message_delta\n"
      R"(data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},)"
      R"("usage":{"output_tokens":2}})"
      "\n\n",
      "event: message_stop\n"
      R"(data: {"type":"message_stop"})"
      "\n\n",
  };
  EXPECT_EQ(anthropic_message_stream(text_reply()), expected);
  EXPECT_EQ(expected[kAnthropicFirstDelta].find("content_block_delta"), 7u);
}

TEST(MockAnthropicEncodeTest, ToolStreamSendsInputJsonDeltas) {
  const std::vector<std::string> events = anthropic_message_stream(tool_reply());
  ASSERT_EQ(events.size(), 3u + 4u + 3u);  // 16 characters of arguments: 4 pieces
  EXPECT_EQ(testing::sse_data(events[1]).at(0),
            R"({"type":"content_block_start","index":0,"content_block":{"type":"tool_use",)"
            R"("id":"toolu_01x","name":"get_weather","input":{}}})");
  EXPECT_EQ(testing::sse_data(events[3]).at(0),
            R"({"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta",)"
            R"("partial_json":"{\"ci"}})");
}

// The gateway's translation (the mock's client) reads both forms into the same OpenAI answer.
TEST(MockAnthropicEncodeTest, GatewayTranslationReadsTheMock) {
  const std::optional<json::object> completion =
      providers::to_openai_completion(json::parse(anthropic_message(text_reply())).as_object(), 5);
  ASSERT_TRUE(completion);
  EXPECT_EQ(json::serialize(*completion),
            R"({"id":"chatcmpl-msg_01abc","object":"chat.completion","created":5,)"
            R"("model":"claude-test","choices":[{"index":0,"message":{"role":"assistant",)"
            R"("content":"Hello, w"},"logprobs":null,"finish_reason":"stop"}],"usage":)"
            R"({"prompt_tokens":9,"completion_tokens":2,"total_tokens":11,)"
            R"("prompt_tokens_details":{"cached_tokens":0}}})");

  providers::AnthropicStreamDecoder decoder(/*include_usage=*/true, 5);
  std::string out;
  std::string stream;
  for (const std::string& event : anthropic_message_stream(tool_reply())) {
    stream += event;
  }
  const providers::StreamDecoder::Step step = decoder.feed(stream, out);
  EXPECT_TRUE(step.done);
  EXPECT_FALSE(step.failed);
  const std::vector<std::string> chunks = testing::sse_data(out);
  ASSERT_EQ(chunks.size(), 1u + 1u + 4u + 1u + 1u + 1u);  // role, tool, 4 args, finish, usage, DONE
  std::string arguments;
  for (size_t i = 2; i < 6; ++i) {
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
  EXPECT_EQ(arguments, R"({"city":"Paris"})");
  EXPECT_EQ(json::parse(chunks[6]).at("choices").at(0).at("finish_reason"), "tool_calls");
  EXPECT_EQ(json::parse(chunks[7]).at("usage").at("completion_tokens"), 7);
  EXPECT_EQ(chunks.back(), "[DONE]");
}

ErrorContext error_context() {
  ErrorContext context;
  context.model = "claude-test";
  context.prompt_tokens = 10;
  context.context_window = 100;
  context.request_id = "req_011Cabc";
  context.now = WallTime{} + seconds(1700000000);  // 2023-11-14T22:13:20Z
  return context;
}

FaultProfile seven_seconds() {
  FaultProfile profile;
  profile.retry_after = seconds(7);
  return profile;
}

TEST(MockAnthropicErrorTest, RateLimitedHasAnthropicHeadersAndBody) {
  const server::HttpResponse response =
      anthropic_error_response(Outcome::kRateLimited, seven_seconds(), error_context());
  EXPECT_EQ(response.result_int(), 429u);
  EXPECT_EQ(response[http::field::retry_after], "7");
  EXPECT_EQ(response.count("retry-after-ms"), 0u);  // Anthropic sends none for its own 429s
  EXPECT_EQ(response["anthropic-ratelimit-requests-limit"], "50");
  EXPECT_EQ(response["anthropic-ratelimit-requests-remaining"], "0");
  EXPECT_EQ(response["anthropic-ratelimit-requests-reset"], "2023-11-14T22:13:27Z");
  EXPECT_EQ(response["request-id"], "req_011Cabc");
  const json::value body = json::parse(response.body());
  EXPECT_EQ(body.at("type"), "error");
  EXPECT_EQ(body.at("error").at("type"), "rate_limit_error");
  EXPECT_EQ(body.at("request_id"), "req_011Cabc");
  const std::string message(body.at("error").at("message").as_string());
  EXPECT_TRUE(
      message.starts_with("This request would exceed the rate limit for your organization"));
  EXPECT_NE(message.find(" of 50 requests per minute. "), std::string::npos) << message;
}

TEST(MockAnthropicErrorTest, KeyLimitRefusalStatesItsLimitAndExactWait) {
  ErrorContext context = error_context();
  context.refusal = KeyLimitRefusal{true, 1000000, 999990, 30, milliseconds(1500)};
  const server::HttpResponse response =
      anthropic_error_response(Outcome::kRateLimited, seven_seconds(), context);
  EXPECT_EQ(response[http::field::retry_after], "2");
  EXPECT_EQ(response["retry-after-ms"], "1500");
  EXPECT_EQ(response["anthropic-ratelimit-tokens-limit"], "1000000");
  EXPECT_EQ(response["anthropic-ratelimit-tokens-remaining"], "10");
  EXPECT_EQ(response["anthropic-ratelimit-tokens-reset"], "2023-11-14T22:13:22Z");  // rounded up
  EXPECT_NE(response.body().find(" of 1,000,000 tokens per minute. "), std::string::npos);
}

TEST(MockAnthropicErrorTest, OtherFaultsInAnthropicShapes) {
  const ErrorContext context = error_context();
  FaultProfile profile = seven_seconds();
  profile.should_retry = false;
  const auto body_of = [&](Outcome outcome) {
    return anthropic_error_response(outcome, profile, context).body();
  };
  EXPECT_EQ(body_of(Outcome::kInsufficientQuota),
            R"({"type":"error","error":{"type":"invalid_request_error","message":"Your credit )"
            R"(balance is too low to access the Anthropic API. Please go to Plans & Billing to )"
            R"(upgrade or purchase credits."},"request_id":"req_011Cabc"})");
  EXPECT_EQ(body_of(Outcome::kServiceUnavailable),
            R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},)"
            R"("request_id":"req_011Cabc"})");
  EXPECT_EQ(body_of(Outcome::kServerError),
            R"({"type":"error","error":{"type":"api_error","message":"Internal server error"},)"
            R"("request_id":"req_011Cabc"})");
  EXPECT_EQ(json::parse(body_of(Outcome::kContextLengthExceeded)).at("error").at("message"),
            "prompt is too long: 101 tokens > 100 maximum");

  const server::HttpResponse overloaded =
      anthropic_error_response(Outcome::kServiceUnavailable, profile, context);
  EXPECT_EQ(overloaded.result_int(), 529u);
  EXPECT_EQ(overloaded[http::field::retry_after], "7");
  EXPECT_EQ(overloaded["x-should-retry"], "false");
  const server::HttpResponse proxy =
      anthropic_error_response(Outcome::kBadGateway, profile, context);
  EXPECT_EQ(proxy.result_int(), 502u);
  EXPECT_EQ(proxy[http::field::content_type], "text/html");
  EXPECT_EQ(proxy.count("request-id"), 0u);
  EXPECT_EQ(anthropic_error_response(Outcome::kInsufficientQuota, profile, context).result_int(),
            400u);
}

// What the gateway makes of each error (resilience/outcome.h), and the OpenAI error it relays.
TEST(MockAnthropicErrorTest, GatewayClassifiesTheMocksErrors) {
  const ErrorContext context = error_context();
  const auto kind = [&](Outcome outcome) {
    const server::HttpResponse r = anthropic_error_response(outcome, FaultProfile{}, context);
    return classify(AttemptResponse{TransportResult::kOk, static_cast<int>(r.result_int()),
                                    r.body(), std::nullopt})
        .error;
  };
  EXPECT_EQ(kind(Outcome::kRateLimited), ErrorKind::kRateLimited);
  EXPECT_EQ(kind(Outcome::kServiceUnavailable), ErrorKind::kOverloaded);
  EXPECT_EQ(kind(Outcome::kServerError), ErrorKind::kServerError);
  EXPECT_EQ(kind(Outcome::kContextLengthExceeded), ErrorKind::kContextLengthExceeded);
  EXPECT_EQ(
      providers::to_openai_error_body(
          anthropic_error_response(Outcome::kServiceUnavailable, FaultProfile{}, context).body()),
      R"({"error":{"message":"Overloaded","type":"server_error","param":null,)"
      R"("code":"overloaded_error"}})");
}

}  // namespace
}  // namespace sheepdog::mock
