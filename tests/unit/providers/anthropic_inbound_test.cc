// Inbound Anthropic Messages API -> chat.completions and back: each request mapping the header
// lists (exact JSON, and accepted by the gateway's own request validation), every refusal with
// Anthropic's wording, answers and their usage (incl. the Anthropic -> OpenAI -> Anthropic round
// trip), and error bodies.
#include "providers/anthropic_inbound.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <string>
#include <utility>
#include <vector>

#include "providers/anthropic_messages.h"
#include "server/gateway_validation.h"

namespace sheepdog::providers {
namespace {

namespace json = boost::json;

json::object obj(std::string_view text) { return json::parse(text).as_object(); }

std::string translate(std::string_view anthropic) {
  auto result = to_openai_request(obj(anthropic));
  if (const auto* error = std::get_if<InboundError>(&result)) {
    ADD_FAILURE() << error->message;
    return {};
  }
  const std::string text = json::serialize(std::get<json::object>(result));
  // Whatever we make must pass the gateway's chat.completions validation.
  EXPECT_TRUE(std::holds_alternative<gateway::GatewayRequest>(server::validate_chat_request(text)))
      << text;
  return text;
}

InboundError refuse(std::string_view anthropic) {
  auto result = to_openai_request(obj(anthropic));
  if (!std::holds_alternative<InboundError>(result)) {
    ADD_FAILURE() << "translated: " << json::serialize(std::get<json::object>(result));
    return {};
  }
  return std::get<InboundError>(result);
}

TEST(AnthropicInboundRequestTest, MinimalRequest) {
  EXPECT_EQ(translate(R"({"model": "claude-x", "max_tokens": 16, "system": "Be brief.",
      "messages": [{"role": "user", "content": "Hi"}]})"),
            R"({"model":"claude-x","messages":[{"role":"system","content":"Be brief."},)"
            R"({"role":"user","content":"Hi"}],"max_tokens":16})");
}

TEST(AnthropicInboundRequestTest, EveryMappedField) {
  EXPECT_EQ(
      translate(R"({"model": "fast", "max_tokens": 512, "temperature": 0.5, "top_p": 0.9,
      "top_k": 40, "stop_sequences": ["END", "STOP"], "stream": true, "service_tier": "auto",
      "metadata": {"user_id": "u-7"}, "thinking": {"type": "disabled"},
      "system": [{"type": "text", "text": "Rules.", "cache_control": {"type": "ephemeral"}},
                 {"type": "text", "text": "More rules."}],
      "messages": [
        {"role": "user", "content": [
          {"type": "text", "text": "Look:", "cache_control": {"type": "ephemeral"}},
          {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "QUJD"}},
          {"type": "image", "source": {"type": "url", "url": "https://x.test/a.png"}}]},
        {"role": "assistant", "content": [
          {"type": "thinking", "thinking": "hmm", "signature": "s"},
          {"type": "text", "text": "Checking both."},
          {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Paris"}},
          {"type": "tool_use", "id": "toolu_2", "name": "weather", "input": {}}]},
        {"role": "user", "content": [
          {"type": "text", "text": "Here you go."},
          {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18C"},
          {"type": "tool_result", "tool_use_id": "toolu_2", "is_error": true,
           "content": [{"type": "text", "text": "timeout"}, {"type": "text", "text": "retry later"}]}]},
        {"role": "assistant", "content": "Paris is 18C."}],
      "tools": [{"name": "weather", "description": "Weather now", "cache_control": {"type": "ephemeral"},
                 "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}},
                {"type": "custom", "name": "noop", "input_schema": {"type": "object"}}],
      "tool_choice": {"type": "any", "disable_parallel_tool_use": true}})"),
      R"({"model":"fast","messages":[)"
      R"({"role":"system","content":[{"type":"text","text":"Rules."},{"type":"text","text":"More rules."}]},)"
      R"({"role":"user","content":[{"type":"text","text":"Look:"},)"
      R"({"type":"image_url","image_url":{"url":"data:image/png;base64,QUJD"}},)"
      R"({"type":"image_url","image_url":{"url":"https://x.test/a.png"}}]},)"
      R"({"role":"assistant","content":"Checking both.","tool_calls":[)"
      R"({"id":"toolu_1","type":"function","function":{"name":"weather","arguments":"{\"city\":\"Paris\"}"}},)"
      R"({"id":"toolu_2","type":"function","function":{"name":"weather","arguments":"{}"}}]},)"
      R"({"role":"tool","tool_call_id":"toolu_1","content":"18C"},)"
      R"({"role":"tool","tool_call_id":"toolu_2","content":"Error: timeout\nretry later"},)"
      R"({"role":"user","content":"Here you go."},)"
      R"({"role":"assistant","content":"Paris is 18C."}],)"
      R"("max_tokens":512,"temperature":5E-1,"top_p":9E-1,"stop":["END","STOP"],"stream":true,)"
      R"("stream_options":{"include_usage":true},"user":"u-7","tools":[)"
      R"({"type":"function","function":{"name":"weather","description":"Weather now",)"
      R"("parameters":{"type":"object","properties":{"city":{"type":"string"}}}}},)"
      R"({"type":"function","function":{"name":"noop","parameters":{"type":"object"}}}],)"
      R"("tool_choice":"required","parallel_tool_calls":false})");
}

TEST(AnthropicInboundRequestTest, ToolOnlyTurnsAndEmptyErrors) {
  // A user turn of tool results only gives no user message; an assistant turn of tool calls
  // only has null content; an is_error result without content says just "Error".
  EXPECT_EQ(translate(R"({"model": "m", "max_tokens": 1, "messages": [
        {"role": "user", "content": "go"},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "f", "input": {"a": 1}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "is_error": true}]}]})"),
            R"({"model":"m","messages":[{"role":"user","content":"go"},)"
            R"({"role":"assistant","content":null,"tool_calls":[{"id":"t","type":"function",)"
            R"("function":{"name":"f","arguments":"{\"a\":1}"}}]},)"
            R"({"role":"tool","tool_call_id":"t","content":"Error"}],"max_tokens":1})");
}

TEST(AnthropicInboundRequestTest, ToolChoiceVariants) {
  const std::string base =
      R"({"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": "x"}], )"
      R"("tools": [{"name": "f", "input_schema": {"type": "object"}}], "tool_choice": )";
  const std::string kTools =
      R"("tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}])";
  const std::string prefix = R"({"model":"m","messages":[{"role":"user","content":"x"}],)"
                             R"("max_tokens":1,)" +
                             kTools;
  EXPECT_EQ(translate(base + R"({"type": "auto"}})"), prefix + R"(,"tool_choice":"auto"})");
  EXPECT_EQ(translate(base + R"({"type": "none", "disable_parallel_tool_use": true}})"),
            prefix + R"(,"tool_choice":"none"})");
  EXPECT_EQ(translate(base + R"({"type": "any"}})"), prefix + R"(,"tool_choice":"required"})");
  EXPECT_EQ(
      translate(base + R"({"type": "tool", "name": "f", "disable_parallel_tool_use": false}})"),
      prefix + R"(,"tool_choice":{"type":"function","function":{"name":"f"}}})");
  EXPECT_EQ(translate(base + R"({"type": "auto", "disable_parallel_tool_use": true}})"),
            prefix + R"(,"tool_choice":"auto","parallel_tool_calls":false})");
  // Without tools OpenAI rejects tool_choice, so it is left out.
  EXPECT_EQ(translate(R"({"model": "m", "max_tokens": 1, "messages": [{"role": "user",
      "content": "x"}], "tools": [], "tool_choice": {"type": "auto"}, "stream": false})"),
            R"({"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":1})");
}

TEST(AnthropicInboundRequestTest, RefusalsUseAnthropicWording) {
  const std::string ok_messages = R"("messages": [{"role": "user", "content": "x"}])";
  const std::string m = R"({"model": "m", "max_tokens": 8, )";
  auto with_content = [&](std::string_view role, std::string_view content) {
    return m + R"("messages": [{"role": ")" + std::string(role) + R"(", "content": )" +
           std::string(content) + "}]}";
  };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"max_tokens": 8, )" + ok_messages + "}", "model: Field required"},
      {R"({"model": 3, "max_tokens": 8, )" + ok_messages + "}",
       "model: Input should be a valid string"},
      {R"({"model": "m", "max_tokens": 8})", "messages: Field required"},
      {m + R"("messages": {"role": "user"}})", "messages: Input should be a valid list"},
      {m + R"("messages": []})", "messages: at least one message is required"},
      {m + R"("messages": ["hi"]})", "messages.0: Input should be a valid dictionary"},
      {m + R"("messages": [{"content": "x"}]})", "messages.0.role: Field required"},
      {m + R"("messages": [{"role": "system", "content": "x"}]})",
       "messages.0.role: Input should be 'user' or 'assistant'"},
      {m + R"("messages": [{"role": "user"}]})", "messages.0.content: Field required"},
      {with_content("user", "5"),
       "messages.0.content: Input should be a valid string or a valid list"},
      {with_content("user", "[1]"), "messages.0.content.0: Input should be a valid dictionary"},
      {with_content("user", R"([{"text": "x"}])"), "messages.0.content.0.type: Field required"},
      {with_content("user", R"([{"type": "text"}])"), "messages.0.content.0.text: Field required"},
      {with_content("user", R"([{"type": "text", "text": 1}])"),
       "messages.0.content.0.text: Input should be a valid string"},
      {with_content("user", R"([{"type": "document", "source": {}}])"),
       "messages.0.content.0: document blocks are not supported by this gateway"},
      {with_content("user", R"([{"type": "search_result"}])"),
       "messages.0.content.0: Input tag 'search_result' found using 'type' does not match any of "
       "the expected tags: 'text', 'image', 'tool_result'"},
      {with_content("user", R"([{"type": "tool_use", "id": "t", "name": "f", "input": {}}])"),
       "messages.0.content.0: Input tag 'tool_use' found using 'type' does not match any of the "
       "expected tags: 'text', 'image', 'tool_result'"},
      {with_content("assistant", R"([{"type": "image", "source": {}}])"),
       "messages.0.content.0: Input tag 'image' found using 'type' does not match any of the "
       "expected tags: 'text', 'tool_use', 'thinking', 'redacted_thinking'"},
      {with_content("user", R"([{"type": "image"}])"),
       "messages.0.content.0.source: Field required"},
      {with_content("user", R"([{"type": "image", "source": "x"}])"),
       "messages.0.content.0.source: Input should be a valid dictionary"},
      {with_content("user", R"([{"type": "image", "source": {"type": "file", "file_id": "f"}}])"),
       "messages.0.content.0.source: image sources of type 'file' are not supported by this "
       "gateway; use base64 or url"},
      {with_content(
           "user",
           R"([{"type": "image", "source": {"type": "base64", "media_type": "image/png"}}])"),
       "messages.0.content.0.source.data: Field required"},
      {with_content("user", R"([{"type": "image", "source": {"type": "url", "url": 1}}])"),
       "messages.0.content.0.source.url: Input should be a valid string"},
      {with_content("assistant", R"([{"type": "tool_use", "name": "f", "input": {}}])"),
       "messages.0.content.0.id: Field required"},
      {with_content("assistant", R"([{"type": "tool_use", "id": "t", "name": "f"}])"),
       "messages.0.content.0.input: Field required"},
      {with_content("assistant",
                    R"([{"type": "tool_use", "id": "t", "name": "f", "input": "{}"}])"),
       "messages.0.content.0.input: Input should be a valid dictionary"},
      {with_content("user", R"([{"type": "tool_result", "content": "x"}])"),
       "messages.0.content.0.tool_use_id: Field required"},
      {with_content("user", R"([{"type": "tool_result", "tool_use_id": "t", "content": 3}])"),
       "messages.0.content.0.content: Input should be a valid string or a valid list"},
      {with_content(
           "user",
           R"([{"type": "tool_result", "tool_use_id": "t", "content": [{"type": "image"}]}])"),
       "messages.0.content.0.content.0: image blocks in tool_result are not supported by this "
       "gateway"},
      {with_content("user", R"([{"type": "tool_result", "tool_use_id": "t", "content": ["x"]}])"),
       "messages.0.content.0.content.0: Input should be a valid dictionary"},
      {with_content("user", R"([{"type": "tool_result", "tool_use_id": "t", "is_error": "yes"}])"),
       "messages.0.content.0.is_error: Input should be a valid boolean"},
      {R"({"model": "m", )" + ok_messages + "}", "max_tokens: Field required"},
      {R"({"model": "m", "max_tokens": "8", )" + ok_messages + "}",
       "max_tokens: Input should be a valid integer"},
      {R"({"model": "m", "max_tokens": 0, )" + ok_messages + "}",
       "max_tokens: Input should be greater than or equal to 1"},
      {m + ok_messages + R"(, "temperature": "hot"})",
       "temperature: Input should be a valid number"},
      {m + ok_messages + R"(, "stop_sequences": "END"})",
       "stop_sequences: Input should be a valid list"},
      {m + ok_messages + R"(, "stop_sequences": ["a", 1]})",
       "stop_sequences.1: Input should be a valid string"},
      {m + ok_messages + R"(, "stream": "yes"})", "stream: Input should be a valid boolean"},
      {m + ok_messages + R"(, "metadata": "u"})", "metadata: Input should be a valid dictionary"},
      {m + ok_messages + R"(, "metadata": {"user_id": 7}})",
       "metadata.user_id: Input should be a valid string"},
      {m + ok_messages + R"(, "system": 1})",
       "system: Input should be a valid string or a valid list"},
      {m + ok_messages + R"(, "system": [{"type": "image"}])" + "}",
       "system.0: Input tag 'image' found using 'type' does not match any of the expected tags: "
       "'text'"},
      {m + ok_messages + R"(, "tools": {}})", "tools: Input should be a valid list"},
      {m + ok_messages + R"(, "tools": [3]})", "tools.0: Input should be a valid dictionary"},
      {m + ok_messages + R"(, "tools": [{"type": "web_search_20250305", "name": "web_search"}]})",
       "tools.0: server tools such as 'web_search_20250305' are not supported by this gateway; "
       "define a custom tool with name, description and input_schema"},
      {m + ok_messages + R"(, "tools": [{"input_schema": {}}]})", "tools.0.name: Field required"},
      {m + ok_messages + R"(, "tools": [{"name": "f"}]})", "tools.0.input_schema: Field required"},
      {m + ok_messages + R"(, "tools": [{"name": "f", "description": 1, "input_schema": {}}]})",
       "tools.0.description: Input should be a valid string"},
      {m + ok_messages + R"(, "tool_choice": "auto"})",
       "tool_choice: Input should be a valid dictionary"},
      {m + ok_messages + R"(, "tool_choice": {"type": "sometimes"}})",
       "tool_choice: Input tag 'sometimes' found using 'type' does not match any of the expected "
       "tags: 'auto', 'any', 'tool', 'none'"},
      {m + ok_messages + R"(, "tool_choice": {"type": "tool"}})",
       "tool_choice.name: Field required"},
      {m + ok_messages + R"(, "tool_choice": {"type": "auto", "disable_parallel_tool_use": 1}})",
       "tool_choice.disable_parallel_tool_use: Input should be a valid boolean"},
      {m + ok_messages + R"(, "thinking": {"type": "enabled", "budget_tokens": 1024}})",
       "thinking: extended thinking is not supported by this gateway; omit `thinking` or set it "
       "to {\"type\": \"disabled\"}"},
      {m + ok_messages + R"(, "thinking": true})", "thinking: Input should be a valid dictionary"},
      {m + ok_messages + R"(, "mcp_servers": []})", "mcp_servers: not supported by this gateway"},
      {m + ok_messages + R"(, "n": 2})", "n: Extra inputs are not permitted"},
  };
  for (const auto& [request, message] : cases) {
    const InboundError error = refuse(request);
    EXPECT_EQ(error.message, message) << request;
    EXPECT_EQ(error.status, 400);
    EXPECT_EQ(error.type, "invalid_request_error");
  }
  EXPECT_EQ(anthropic_error_body(refuse(R"({"model": "m", "messages": []})")),
            R"({"type":"error","error":{"type":"invalid_request_error",)"
            R"("message":"messages: at least one message is required"}})");
}

std::string answer(std::string_view completion, std::string_view model = "claude-x") {
  const auto message = to_anthropic_message(obj(completion), model);
  if (!message) {
    ADD_FAILURE() << "no answer for " << completion;
    return {};
  }
  return json::serialize(*message);
}

TEST(AnthropicInboundAnswerTest, TextToolCallsAndUsage) {
  EXPECT_EQ(
      answer(R"({"id": "chatcmpl-abc", "object": "chat.completion", "created": 1, "model": "gpt-x",
      "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant",
        "content": "Checking.", "tool_calls": [
          {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": "{\"city\":\"Paris\"}"}},
          {"id": "call_2", "type": "function", "function": {"name": "clock", "arguments": ""}}]}}],
      "usage": {"prompt_tokens": 130, "completion_tokens": 5, "total_tokens": 135,
                "prompt_tokens_details": {"cached_tokens": 100}}})",
             "fast"),
      R"({"id":"msg_abc","type":"message","role":"assistant","model":"fast","content":[)"
      R"({"type":"text","text":"Checking."},)"
      R"({"type":"tool_use","id":"call_1","name":"weather","input":{"city":"Paris"}},)"
      R"({"type":"tool_use","id":"call_2","name":"clock","input":{}}],)"
      R"("stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":30,)"
      R"("cache_creation_input_tokens":0,"cache_read_input_tokens":100,"output_tokens":5}})");
}

TEST(AnthropicInboundAnswerTest, StopReasonsRefusalsAndOddArguments) {
  const std::vector<std::pair<std::string_view, std::string_view>> reasons = {
      {"stop", "end_turn"},          {"length", "max_tokens"},      {"tool_calls", "tool_use"},
      {"function_call", "tool_use"}, {"content_filter", "refusal"}, {"", "end_turn"},
      {"something_new", "end_turn"}};
  for (const auto& [finish, stop] : reasons) {
    EXPECT_EQ(to_anthropic_stop_reason(finish), stop) << finish;
  }
  // No usage, null content, a refusal: the refusal text is the answer's text.
  EXPECT_EQ(answer(R"({"id": "x1", "choices": [{"finish_reason": "content_filter",
      "message": {"role": "assistant", "content": null, "refusal": "I can't help with that."}}]})"),
            R"({"id":"msg_x1","type":"message","role":"assistant","model":"claude-x","content":[)"
            R"({"type":"text","text":"I can't help with that."}],"stop_reason":"refusal",)"
            R"("stop_sequence":null,"usage":{"input_tokens":0,"cache_creation_input_tokens":0,)"
            R"("cache_read_input_tokens":0,"output_tokens":0}})");
  // Arguments that are not a JSON object are kept as text, not turned into a call without
  // arguments; a missing call id is made from the message id.
  const json::value odd = json::parse(answer(R"({"id": "chatcmpl-9", "choices": [{
      "finish_reason": "tool_calls", "message": {"content": "", "tool_calls": [
        {"type": "function", "function": {"name": "f", "arguments": "{\"a\": tru"}},
        {"id": "c2", "type": "function", "function": {"name": "g", "arguments": "[1]"}}]}}]})"));
  EXPECT_EQ(
      json::serialize(odd.at("content")),
      R"([{"type":"tool_use","id":"toolu_9_0","name":"f","input":{"_raw_arguments":"{\"a\": tru"}},)"
      R"({"type":"tool_use","id":"c2","name":"g","input":{"_raw_arguments":"[1]"}}])");
  EXPECT_EQ(answer(R"({"choices": [{"message": {"content": ""}}]})"),
            R"({"id":"msg_unknown","type":"message","role":"assistant","model":"claude-x",)"
            R"("content":[],"stop_reason":"end_turn","stop_sequence":null,"usage":{)"
            R"("input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,)"
            R"("output_tokens":0}})");
  EXPECT_FALSE(to_anthropic_message(obj(R"({"id": "x"})"), "m"));
  EXPECT_FALSE(to_anthropic_message(obj(R"({"choices": []})"), "m"));
  EXPECT_FALSE(to_anthropic_message(obj(R"({"choices": [{"delta": {}}]})"), "m"));
}

TEST(AnthropicInboundAnswerTest, MessageIds) {
  EXPECT_EQ(anthropic_message_id("chatcmpl-msg_01AB"), "msg_01AB");
  EXPECT_EQ(anthropic_message_id("msg_01AB"), "msg_01AB");
  EXPECT_EQ(anthropic_message_id("chatcmpl-Bx9"), "msg_Bx9");
  EXPECT_EQ(anthropic_message_id("gen-123"), "msg_gen-123");
  EXPECT_EQ(anthropic_message_id("chatcmpl-"), "msg_unknown");
  EXPECT_EQ(anthropic_message_id(""), "msg_unknown");
}

// Counts that are missing or not integers read as 0, a negative one as given; input_tokens
// (prompt minus cached) never goes below 0.
TEST(AnthropicInboundAnswerTest, UsageCountsThatAreMissingOrNotIntegers) {
  EXPECT_EQ(json::serialize(to_anthropic_usage(obj(R"({"prompt_tokens": 50,
      "completion_tokens": -2, "prompt_tokens_details": {"cached_tokens": "10"}})"))),
            R"({"input_tokens":50,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,)"
            R"("output_tokens":-2})");
  EXPECT_EQ(json::serialize(to_anthropic_usage(
                obj(R"({"prompt_tokens": 5, "prompt_tokens_details": {"cached_tokens": 8}})"))),
            R"({"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":8,)"
            R"("output_tokens":0})");
  EXPECT_EQ(
      json::serialize(to_anthropic_usage(
          obj(R"({"prompt_tokens": "5", "completion_tokens": 1.0, "prompt_tokens_details": 3})"))),
      R"({"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,)"
      R"("output_tokens":0})");
}

// An Anthropic answer through the Anthropic provider (-> OpenAI) and back gives the original
// content, stop_reason and usage; only cache creation, which OpenAI has no count for, folds into
// input_tokens.
TEST(AnthropicInboundAnswerTest, RoundTripThroughTheOpenAIShape) {
  const std::string original =
      R"({"id":"msg_01XY","type":"message","role":"assistant","model":"claude-x","content":[)"
      R"({"type":"text","text":"Let me look."},)"
      R"({"type":"tool_use","id":"toolu_01","name":"search","input":{"q":"sheepdog","n":[1,2]}}],)"
      R"("stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":40,)"
      R"("cache_creation_input_tokens":0,"cache_read_input_tokens":1200,"output_tokens":17}})";
  const auto openai = to_openai_completion(obj(original), 1700000000);
  ASSERT_TRUE(openai);
  const auto back = to_anthropic_message(*openai, "claude-x");
  ASSERT_TRUE(back);
  EXPECT_EQ(json::serialize(*back), original);

  const auto with_creation = to_openai_completion(
      obj(R"({"id": "msg_2", "content": [], "stop_reason": "max_tokens", "usage": {
          "input_tokens": 40, "cache_creation_input_tokens": 300,
          "cache_read_input_tokens": 1200, "output_tokens": 17}})"),
      1);
  ASSERT_TRUE(with_creation);
  const auto folded = to_anthropic_message(*with_creation, "claude-x");
  ASSERT_TRUE(folded);
  EXPECT_EQ(folded->at("stop_reason"), "max_tokens");
  EXPECT_EQ(json::serialize(folded->at("usage")),
            R"({"input_tokens":340,"cache_creation_input_tokens":0,)"
            R"("cache_read_input_tokens":1200,"output_tokens":17})");
}

std::string envelope(std::string_view type, std::string_view message) {
  return R"({"type":"error","error":{"type":")" + std::string(type) + R"(","message":")" +
         std::string(message) + R"("}})";
}

TEST(AnthropicInboundErrorTest, TypeByCodeThenTypeThenStatus) {
  struct Case {
    int status;
    std::string_view type;
    std::string_view code;
    std::string_view expected;
  };
  const std::vector<Case> cases = {
      {502, "server_error", "overloaded_error", "overloaded_error"},  // from the Anthropic relay
      {400, "invalid_request_error", "request_too_large", "request_too_large"},
      {404, "invalid_request_error", "model_not_found", "not_found_error"},
      {400, "invalid_request_error", "model_not_found", "not_found_error"},
      {429, "rate_limit_error", "rate_limit_exceeded", "rate_limit_error"},
      {0, "requests", "rate_limit_exceeded", "rate_limit_error"},
      {401, "invalid_request_error", "invalid_api_key", "authentication_error"},
      {0, "authentication_error", "", "authentication_error"},
      {0, "permission_error", "", "permission_error"},
      {503, "server_error", "circuit_open", "overloaded_error"},
      {503, "server_error", "upstream_overloaded", "overloaded_error"},
      {503, "server_error", "upstream_quota_exhausted", "overloaded_error"},
      {504, "server_error", "deadline_exceeded", "timeout_error"},
      {504, "server_error", "upstream_timeout", "timeout_error"},
      {502, "server_error", "upstream_error", "api_error"},
      {0, "server_error", "upstream_stream_interrupted", "api_error"},
      {400, "", "", "invalid_request_error"},
      {401, "", "", "authentication_error"},
      {402, "", "", "billing_error"},
      {403, "", "", "permission_error"},
      {404, "", "", "not_found_error"},
      {413, "", "", "request_too_large"},
      {429, "", "", "rate_limit_error"},
      {500, "", "", "api_error"},
      {503, "", "", "overloaded_error"},
      {529, "", "", "overloaded_error"},
      {504, "", "", "timeout_error"},
      {422, "", "", "invalid_request_error"},
      {0, "invalid_request_error", "context_length_exceeded", "invalid_request_error"},
      {0, "", "", "api_error"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(anthropic_error_type(c.status, c.type, c.code), c.expected)
        << c.status << " " << c.type << " " << c.code;
  }
}

TEST(AnthropicInboundErrorTest, BodiesBecomeAnthropicEnvelopes) {
  EXPECT_EQ(
      to_anthropic_error_body(
          429, R"({"error":{"message":"Model 'fast' is rate limited upstream after 3 )"
               R"(attempts.","type":"rate_limit_error","param":null,)"
               R"("code":"rate_limit_exceeded"}})"),
      envelope("rate_limit_error", "Model 'fast' is rate limited upstream after 3 attempts."));
  EXPECT_EQ(to_anthropic_error_body(
                404, R"({"error":{"message":"The model 'x' does not exist","type":)"
                     R"("invalid_request_error","param":"model","code":"model_not_found"}})"),
            envelope("not_found_error", "The model 'x' does not exist"));
  // Already Anthropic-shaped: kept.
  EXPECT_EQ(
      to_anthropic_error_body(
          529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"),
      envelope("overloaded_error", "Overloaded"));
  // Not JSON, no error object, no message: still a valid envelope.
  EXPECT_EQ(to_anthropic_error_body(502, "<html>Bad gateway</html>"),
            envelope("api_error", "The gateway could not complete the request (HTTP 502)."));
  EXPECT_EQ(to_anthropic_error_body(503, R"({"detail": "busy"})"),
            envelope("overloaded_error", "The gateway could not complete the request (HTTP 503)."));
  EXPECT_EQ(
      to_anthropic_error_body(400, R"({"error": {"type": "invalid_request_error"}})"),
      envelope("invalid_request_error", "The gateway could not complete the request (HTTP 400)."));
  EXPECT_EQ(anthropic_error_body("api_error", "quote \" and \\ kept"),
            R"({"type":"error","error":{"type":"api_error","message":"quote \" and \\ kept"}})");
}

// An Anthropic deployment's error, relayed by the Anthropic provider as OpenAI-shaped, comes
// back to an Anthropic client with its original type and message.
TEST(AnthropicInboundErrorTest, AnthropicErrorsSurviveTheRelay) {
  const std::vector<std::pair<int, std::string_view>> errors = {{400, "invalid_request_error"},
                                                                {401, "authentication_error"},
                                                                {403, "permission_error"},
                                                                {404, "not_found_error"},
                                                                {413, "request_too_large"},
                                                                {429, "rate_limit_error"},
                                                                {500, "api_error"},
                                                                {529, "overloaded_error"}};
  for (const auto& [status, type] : errors) {
    const std::string original = envelope(type, "upstream said no");
    const std::optional<std::string> openai = to_openai_error_body(original);
    ASSERT_TRUE(openai);
    EXPECT_EQ(to_anthropic_error_body(status, *openai), original);
  }
}

}  // namespace
}  // namespace sheepdog::providers

namespace sheepdog::providers {
namespace {

TEST(AnthropicInboundRequestTest, SamplingRangesAreAnthropics) {
  const std::string base = R"({"model": "m", "messages": [{"role": "user", "content": "x"}], )";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"("max_tokens": 8, "temperature": 1.5})",
       "temperature: Input should be less than or "
       "equal to 1"},
      {R"("max_tokens": 8, "temperature": -1})",
       "temperature: Input should be greater than or "
       "equal to 0"},
      {R"("max_tokens": 8, "top_p": "x"})", "top_p: Input should be a valid number"},
      {R"("max_tokens": 8, "top_k": -1})", "top_k: Input should be greater than or equal to 0"},
      {R"("max_tokens": 8, "top_k": 1.5})", "top_k: Input should be a valid integer"},
      {R"("max_tokens": 2000000000})", "max_tokens: Input should be less than or equal to 1048576"},
  };
  for (const auto& [extra, message] : cases) {
    const auto result = to_openai_request(boost::json::parse(base + extra).as_object());
    const InboundError* error = std::get_if<InboundError>(&result);
    ASSERT_NE(error, nullptr) << extra;
    EXPECT_EQ(error->message, message) << extra;
  }
  const auto ok = to_openai_request(
      boost::json::parse(base + R"("max_tokens": 8, "temperature": 1, "top_p": 0, "top_k": 5})")
          .as_object());
  EXPECT_TRUE(std::holds_alternative<boost::json::object>(ok));
}

}  // namespace
}  // namespace sheepdog::providers
