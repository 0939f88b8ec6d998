// OpenAI chat.completions <-> Anthropic Messages translation: each mapping the header lists,
// checked field by field on JSON, and the requests that must be refused with a named param.
#include "providers/anthropic_messages.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace sheepdog::providers {
namespace {

namespace json = boost::json;

json::object obj(std::string_view text) { return json::parse(text).as_object(); }

json::object translate(std::string_view openai) {
  auto result = to_anthropic_request(obj(openai), "claude-x");
  if (const auto* error = std::get_if<TranslationError>(&result)) {
    ADD_FAILURE() << error->param << ": " << error->message;
    return {};
  }
  return std::get<json::object>(result);
}

TranslationError refuse(std::string_view openai) {
  auto result = to_anthropic_request(obj(openai), "claude-x");
  if (!std::holds_alternative<TranslationError>(result)) {
    ADD_FAILURE() << "translated: " << json::serialize(std::get<json::object>(result));
    return {};
  }
  return std::get<TranslationError>(result);
}

TEST(AnthropicRequestTest, SystemMessagesMoveToTheTopAndTurnsMerge) {
  const json::object out = translate(R"({"model": "gpt", "messages": [
      {"role": "system", "content": "Be brief."},
      {"role": "developer", "content": [{"type": "text", "text": "Use French."}]},
      {"role": "user", "content": "Hi"},
      {"role": "user", "content": [{"type": "text", "text": "there"}]},
      {"role": "assistant", "content": "Salut"}]})");
  EXPECT_EQ(out.at("model"), "claude-x");
  EXPECT_EQ(out.at("system"), "Be brief.\n\nUse French.");
  EXPECT_EQ(out.at("max_tokens"), kDefaultMaxTokens);
  EXPECT_EQ(
      json::serialize(out.at("messages")),
      R"([{"role":"user","content":[{"type":"text","text":"Hi"},{"type":"text","text":"there"}]},)"
      R"({"role":"assistant","content":[{"type":"text","text":"Salut"}]}])");
}

TEST(AnthropicRequestTest, SamplingStopStreamUserAndMaxTokens) {
  const json::object out = translate(R"({"model": "gpt", "messages": [{"role": "user",
      "content": "x"}], "max_tokens": 50, "max_completion_tokens": 70, "temperature": 0.2,
      "top_p": 0.9, "stop": "END", "stream": true, "user": "u-42"})");
  EXPECT_EQ(out.at("max_tokens"), 70);  // max_completion_tokens wins, as in OpenAI
  EXPECT_EQ(out.at("temperature"), 0.2);
  EXPECT_EQ(out.at("top_p"), 0.9);
  EXPECT_EQ(json::serialize(out.at("stop_sequences")), R"(["END"])");
  EXPECT_EQ(out.at("stream"), true);
  EXPECT_EQ(json::serialize(out.at("metadata")), R"({"user_id":"u-42"})");
}

TEST(AnthropicRequestTest, ImagesByUrlAndBase64) {
  const json::object out = translate(R"({"model": "gpt", "messages": [{"role": "user",
      "content": [{"type": "image_url", "image_url": {"url": "https://x.test/a.png"}},
                  {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,QUJD"}}]}]})");
  const json::array& content = out.at("messages").as_array()[0].at("content").as_array();
  ASSERT_EQ(content.size(), 2u);
  EXPECT_EQ(json::serialize(content[0]),
            R"({"type":"image","source":{"type":"url","url":"https://x.test/a.png"}})");
  EXPECT_EQ(
      json::serialize(content[1]),
      R"({"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"QUJD"}})");
}

TEST(AnthropicRequestTest, ToolsToolChoiceCallsAndResults) {
  const json::object out = translate(R"({"model": "gpt", "messages": [
      {"role": "user", "content": "Weather in Paris and Rome?"},
      {"role": "assistant", "content": null, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": "{\"city\":\"Paris\"}"}},
        {"id": "call_2", "type": "function", "function": {"name": "weather", "arguments": "{\"city\":\"Rome\"}"}}]},
      {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
      {"role": "tool", "tool_call_id": "call_2", "content": "24C"}],
    "tools": [{"type": "function", "function": {"name": "weather", "description": "Weather now",
      "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}],
    "tool_choice": "required", "parallel_tool_calls": false})");
  EXPECT_EQ(json::serialize(out.at("tools")),
            R"([{"name":"weather","description":"Weather now","input_schema":{"type":"object",)"
            R"("properties":{"city":{"type":"string"}}}}])");
  EXPECT_EQ(json::serialize(out.at("tool_choice")),
            R"({"type":"any","disable_parallel_tool_use":true})");
  const json::array& messages = out.at("messages").as_array();
  ASSERT_EQ(messages.size(), 3u);  // user, assistant, one user turn holding both results
  EXPECT_EQ(json::serialize(messages[1].at("content")),
            R"([{"type":"tool_use","id":"call_1","name":"weather","input":{"city":"Paris"}},)"
            R"({"type":"tool_use","id":"call_2","name":"weather","input":{"city":"Rome"}}])");
  EXPECT_EQ(
      json::serialize(messages[2]),
      R"({"role":"user","content":[{"type":"tool_result","tool_use_id":"call_1","content":"18C"},)"
      R"({"type":"tool_result","tool_use_id":"call_2","content":"24C"}]})");
}

TEST(AnthropicRequestTest, NamedAndNoneToolChoice) {
  const char* kTools =
      R"("tools": [{"type": "function", "function": {"name": "f"}}], "messages": [{"role": "user", "content": "x"}])";
  EXPECT_EQ(json::serialize(
                translate(std::string("{") + kTools +
                          R"(, "tool_choice": {"type": "function", "function": {"name": "f"}}})")
                    .at("tool_choice")),
            R"({"type":"tool","name":"f"})");
  const json::object none = translate(std::string("{") + kTools + R"(, "tool_choice": "none"})");
  EXPECT_EQ(json::serialize(none.at("tool_choice")), R"({"type":"none"})");
  EXPECT_EQ(json::serialize(none.at("tools").as_array()[0].at("input_schema")),
            R"({"type":"object"})");
}

TEST(AnthropicRequestTest, UntranslatableRequestsNameTheParam) {
  EXPECT_EQ(refuse(R"({"messages": [{"role": "user", "content": "x"}], "n": 2})").param, "n");
  EXPECT_EQ(refuse(R"({"messages": [{"role": "user", "content": "x"}],
      "response_format": {"type": "json_schema", "json_schema": {}}})")
                .param,
            "response_format");
  EXPECT_EQ(
      refuse(R"({"messages": [{"role": "user", "content": [{"type": "input_audio"}]}]})").param,
      "messages[0].content[0]");
  EXPECT_EQ(refuse(R"({"messages": [{"role": "assistant", "tool_calls": [{"id": "c",
      "type": "function"}]}]})")
                .param,
            "messages[0].tool_calls[0]");
}

// A repair request (llm/repair_prompt.h) carries the model's faulty call verbatim. Anthropic's
// tool_use input must be an object, so arguments that are not one send {} (the tool message
// after the call says what was wrong); an object is kept as it was.
std::string tool_use_input(std::string_view arguments) {
  json::object call{{"id", "call_1"},
                    {"type", "function"},
                    {"function", json::object{{"name", "get_weather"}, {"arguments", arguments}}}};
  json::object request{
      {"messages",
       json::array{json::object{{"role", "user"}, {"content", "Weather in Paris?"}},
                   json::object{{"role", "assistant"},
                                {"content", nullptr},
                                {"tool_calls", json::array{std::move(call)}}},
                   json::object{{"role", "tool"},
                                {"tool_call_id", "call_1"},
                                {"content", "Error: this tool call was not executed."}}}}};
  auto result = to_anthropic_request(request, "claude-x");
  if (const auto* error = std::get_if<TranslationError>(&result)) {
    ADD_FAILURE() << error->param << ": " << error->message;
    return "";
  }
  const json::array& messages = std::get<json::object>(result).at("messages").as_array();
  EXPECT_EQ(messages.size(), 3u);
  if (messages.size() != 3u) {
    return "";
  }
  EXPECT_EQ(json::serialize(messages[2]),
            R"({"role":"user","content":[{"type":"tool_result","tool_use_id":"call_1",)"
            R"("content":"Error: this tool call was not executed."}]})");
  const json::array& blocks = messages[1].at("content").as_array();
  EXPECT_EQ(blocks.size(), 1u);
  if (blocks.size() != 1u) {
    return "";
  }
  EXPECT_EQ(blocks[0].at("type"), "tool_use");
  EXPECT_EQ(blocks[0].at("id"), "call_1");
  EXPECT_EQ(blocks[0].at("name"), "get_weather");
  return json::serialize(blocks[0].at("input"));
}

TEST(AnthropicRequestTest, BrokenToolCallArgumentsSendAnEmptyInput) {
  EXPECT_EQ(tool_use_input(R"({"location": "Par)"), "{}");  // truncated
  EXPECT_EQ(tool_use_input(R"(["Paris", "celsius"])"), "{}");
  EXPECT_EQ(tool_use_input(R"({"city": "Paris"} Let me know if you need more.)"), "{}");
  EXPECT_EQ(tool_use_input(R"("Paris")"), "{}");
  EXPECT_EQ(tool_use_input("null"), "{}");
  EXPECT_EQ(tool_use_input(""), "{}");
}

TEST(AnthropicRequestTest, ToolCallArgumentsThatAreAnObjectAreKept) {
  EXPECT_EQ(tool_use_input(R"({"city": "Paris", "unit": "kelvin", "days": [1, 2]})"),
            R"({"city":"Paris","unit":"kelvin","days":[1,2]})");
  EXPECT_EQ(tool_use_input("{}"), "{}");
}

TEST(AnthropicResponseTest, TextAndToolUseBecomeOneChoice) {
  const auto out = to_openai_completion(obj(R"({"id": "msg_1", "type": "message", "role":
      "assistant", "model": "claude-x", "stop_reason": "tool_use", "content": [
        {"type": "text", "text": "Checking."},
        {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Paris"}}],
      "usage": {"input_tokens": 10, "output_tokens": 5, "cache_read_input_tokens": 100,
                "cache_creation_input_tokens": 20}})"),
                                        1700000000);
  ASSERT_TRUE(out);
  EXPECT_EQ(
      json::serialize(*out),
      R"({"id":"chatcmpl-msg_1","object":"chat.completion","created":1700000000,)"
      R"("model":"claude-x","choices":[{"index":0,"message":{"role":"assistant",)"
      R"("content":"Checking.","tool_calls":[{"id":"toolu_1","type":"function",)"
      R"("function":{"name":"weather","arguments":"{\"city\":\"Paris\"}"}}]},)"
      R"("logprobs":null,"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":130,)"
      R"("completion_tokens":5,"total_tokens":135,"prompt_tokens_details":{"cached_tokens":100}}})");
}

// Counts that are missing or not integers read as 0; a negative one is taken as given.
TEST(AnthropicResponseTest, UsageCountsThatAreMissingOrNotIntegers) {
  const TokenUsage usage = anthropic_usage(obj(R"({"input_tokens": 12, "output_tokens": "7",
      "cache_creation_input_tokens": 2.5, "cache_read_input_tokens": -3})"));
  EXPECT_TRUE(usage.reported);
  EXPECT_EQ(usage.prompt_tokens, 9);
  EXPECT_EQ(usage.completion_tokens, 0);
  EXPECT_EQ(json::serialize(openai_usage_object(obj(R"({"output_tokens": 4})"))),
            R"({"prompt_tokens":0,"completion_tokens":4,"total_tokens":4,)"
            R"("prompt_tokens_details":{"cached_tokens":0}})");
}

TEST(AnthropicResponseTest, FinishReasonsAndNonAnswers) {
  EXPECT_EQ(to_openai_finish_reason("end_turn"), "stop");
  EXPECT_EQ(to_openai_finish_reason("stop_sequence"), "stop");
  EXPECT_EQ(to_openai_finish_reason("max_tokens"), "length");
  EXPECT_EQ(to_openai_finish_reason("tool_use"), "tool_calls");
  EXPECT_EQ(to_openai_finish_reason("refusal"), "content_filter");
  EXPECT_FALSE(to_openai_completion(obj(R"({"type": "message"})"), 0));
  const auto only_tool = to_openai_completion(
      obj(R"({"content": [{"type": "tool_use", "id": "t", "name": "f", "input": {}}]})"), 0);
  ASSERT_TRUE(only_tool);
  EXPECT_TRUE(only_tool->at("choices").as_array()[0].at("message").at("content").is_null());
}

TEST(AnthropicErrorTest, ErrorBodiesBecomeOpenAIShaped) {
  EXPECT_EQ(
      *to_openai_error_body(
          R"({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})"),
      R"({"error":{"message":"Overloaded","type":"server_error","param":null,"code":"overloaded_error"}})");
  EXPECT_EQ(
      *to_openai_error_body(
          R"({"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}})"),
      R"({"error":{"message":"slow down","type":"rate_limit_error","param":null,"code":"rate_limit_error"}})");
  EXPECT_EQ(
      json::parse(*to_openai_error_body(
                      R"({"type": "error", "error": {"type": "not_found_error", "message": "m"}})"))
          .at("error")
          .at("type"),
      "invalid_request_error");
  EXPECT_FALSE(to_openai_error_body("<html>"));
  EXPECT_FALSE(to_openai_error_body(R"({"message": "no error object"})"));
}

}  // namespace
}  // namespace sheepdog::providers
