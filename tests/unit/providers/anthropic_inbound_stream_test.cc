// AnthropicStreamEncoder: OpenAI chunk streams of the shapes the gateway writes (text; text then
// two tool calls with split arguments; the usage chunk after finish_reason; an error mid-way)
// become the exact Anthropic event sequence, whatever the byte boundaries; and an Anthropic
// stream decoded to OpenAI chunks by AnthropicStreamDecoder and encoded back keeps its text,
// tool inputs, stop_reason and usage.
#include "providers/anthropic_inbound_stream.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <string>
#include <vector>

#include "providers/anthropic_stream.h"
#include "upstream/sse_parser.h"

namespace sheepdog::providers {
namespace {

namespace json = boost::json;

std::string sse_data(std::string_view payload) { return "data: " + std::string(payload) + "\n\n"; }

std::string event(std::string_view type, std::string_view payload) {
  return "event: " + std::string(type) + "\ndata: " + std::string(payload) + "\n\n";
}

std::string chunk(std::string_view choices_or_usage) {
  return sse_data(R"({"id":"chatcmpl-Ab1","object":"chat.completion.chunk","created":1,)"
                  R"("model":"gpt-x",)" +
                  std::string(choices_or_usage) + "}");
}

std::string delta(std::string_view delta, std::string_view finish = "null") {
  return chunk(R"("choices":[{"index":0,"delta":)" + std::string(delta) +
               R"(,"logprobs":null,"finish_reason":)" + std::string(finish) + "}]");
}

const std::string kUsage =
    chunk(R"("choices":[],"usage":{"prompt_tokens":30,"completion_tokens":12,"total_tokens":42,)"
          R"("prompt_tokens_details":{"cached_tokens":10}})");
const std::string kDone = sse_data("[DONE]");

const std::string kMessageStart = event(
    "message_start",
    R"({"type":"message_start","message":{"id":"msg_Ab1","type":"message","role":"assistant",)"
    R"("model":"claude-x","content":[],"stop_reason":null,"stop_sequence":null,"usage":{)"
    R"("input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,)"
    R"("output_tokens":0}}})");

std::string start_text(int index) {
  return event("content_block_start", R"({"type":"content_block_start","index":)" +
                                          std::to_string(index) +
                                          R"(,"content_block":{"type":"text","text":""}})");
}

std::string text_delta(int index, std::string_view text) {
  return event("content_block_delta",
               R"({"type":"content_block_delta","index":)" + std::to_string(index) +
                   R"(,"delta":{"type":"text_delta","text":")" + std::string(text) + R"("}})");
}

std::string json_delta(int index, std::string_view partial) {
  return event("content_block_delta", R"({"type":"content_block_delta","index":)" +
                                          std::to_string(index) +
                                          R"(,"delta":{"type":"input_json_delta","partial_json":)" +
                                          json::serialize(json::string(partial)) + "}}");
}

std::string stop(int index) {
  return event("content_block_stop",
               R"({"type":"content_block_stop","index":)" + std::to_string(index) + "}");
}

std::string message_end(std::string_view stop_reason, std::string_view usage) {
  return event("message_delta",
               R"({"type":"message_delta","delta":{"stop_reason":")" + std::string(stop_reason) +
                   R"(","stop_sequence":null},"usage":)" + std::string(usage) + "}") +
         event("message_stop", R"({"type":"message_stop"})");
}

constexpr std::string_view kZeroUsage =
    R"({"input_tokens":0,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,)"
    R"("output_tokens":0})";

constexpr std::string_view kAnthropicUsage =
    R"({"input_tokens":20,"cache_creation_input_tokens":0,"cache_read_input_tokens":10,)"
    R"("output_tokens":12})";

std::string encode(std::string_view openai) {
  AnthropicStreamEncoder encoder("claude-x");
  std::string out;
  encoder.feed(openai, out);
  return out;
}

TEST(AnthropicInboundStreamTest, TextStream) {
  const std::string openai = delta(R"({"role":"assistant","content":""})") +
                             delta(R"({"content":"Hel"})") + delta(R"({"content":"lo"})") +
                             delta("{}", R"("stop")") + kUsage + kDone;
  AnthropicStreamEncoder encoder("claude-x");
  std::string out;
  encoder.feed(openai, out);
  EXPECT_EQ(out, kMessageStart + start_text(0) + text_delta(0, "Hel") + text_delta(0, "lo") +
                     stop(0) + message_end("end_turn", kAnthropicUsage));
  EXPECT_TRUE(encoder.finished());
  EXPECT_FALSE(encoder.failed());
  EXPECT_TRUE(encoder.usage().reported);
  EXPECT_EQ(encoder.usage().prompt_tokens, 30);
  EXPECT_EQ(encoder.usage().completion_tokens, 12);
  EXPECT_EQ(encoder.cached_tokens(), 10);
}

const std::string kToolStream =
    delta(R"({"role":"assistant","content":""})") + delta(R"({"content":"Checking."})") +
    delta(R"({"tool_calls":[{"index":0,"id":"call_1","type":"function",)"
          R"("function":{"name":"weather","arguments":""}}]})") +
    delta(R"({"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]})") +
    delta(R"({"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]})") +
    delta(R"({"tool_calls":[{"index":1,"id":"call_2","type":"function",)"
          R"("function":{"name":"clock","arguments":"{\"tz\""}}]})") +
    delta(R"({"tool_calls":[{"index":1,"function":{"arguments":":\"CET\"}"}}]})") +
    delta("{}", R"("tool_calls")") + kUsage + kDone;

const std::string kToolEvents =
    kMessageStart + start_text(0) + text_delta(0, "Checking.") + stop(0) +
    event("content_block_start",
          R"({"type":"content_block_start","index":1,"content_block":{"type":"tool_use",)"
          R"("id":"call_1","name":"weather","input":{}}})") +
    json_delta(1, R"({"city":)") + json_delta(1, R"("Paris"})") + stop(1) +
    event("content_block_start",
          R"({"type":"content_block_start","index":2,"content_block":{"type":"tool_use",)"
          R"("id":"call_2","name":"clock","input":{}}})") +
    json_delta(2, R"({"tz")") + json_delta(2, R"(:"CET"})") + stop(2) +
    message_end("tool_use", kAnthropicUsage);

TEST(AnthropicInboundStreamTest, TextThenTwoToolCalls) {
  EXPECT_EQ(encode(kToolStream), kToolEvents);
}

TEST(AnthropicInboundStreamTest, EveryByteSplitGivesTheSameEvents) {
  for (size_t at = 0; at <= kToolStream.size(); ++at) {
    AnthropicStreamEncoder encoder("claude-x");
    std::string out;
    encoder.feed(std::string_view(kToolStream).substr(0, at), out);
    encoder.feed(std::string_view(kToolStream).substr(at), out);
    ASSERT_EQ(out, kToolEvents) << "split at " << at;
  }
  AnthropicStreamEncoder bytewise("claude-x");
  std::string out;
  for (char c : kToolStream) {
    bytewise.feed(std::string_view(&c, 1), out);
  }
  EXPECT_EQ(out, kToolEvents);
}

TEST(AnthropicInboundStreamTest, MessageDeltaWaitsForUsageOrDone) {
  AnthropicStreamEncoder encoder("claude-x");
  std::string out;
  encoder.feed(delta(R"({"content":"Hi"})") + delta("{}", R"("length")"), out);
  EXPECT_EQ(out, kMessageStart + start_text(0) + text_delta(0, "Hi") + stop(0));
  EXPECT_FALSE(encoder.finished());
  out.clear();
  encoder.feed(kUsage, out);  // the end comes with the usage, before [DONE]
  EXPECT_EQ(out, message_end("max_tokens", kAnthropicUsage));
  EXPECT_TRUE(encoder.finished());
  out.clear();
  encoder.feed(kDone + delta(R"({"content":"late"})"), out);
  EXPECT_EQ(out, "");

  // No usage chunk (the client did not get one): [DONE] ends it with zero counts.
  AnthropicStreamEncoder no_usage("claude-x");
  out.clear();
  no_usage.feed(delta(R"({"content":"Hi"})") + delta("{}", R"("stop")") + kDone, out);
  EXPECT_EQ(out, kMessageStart + start_text(0) + text_delta(0, "Hi") + stop(0) +
                     message_end("end_turn", kZeroUsage));
  EXPECT_FALSE(no_usage.usage().reported);

  // Usage in the finish chunk itself ends the message at once; an empty stream still gives a
  // well-formed empty message.
  EXPECT_EQ(encode(chunk(R"("choices":[{"index":0,"delta":{},"finish_reason":"stop"}],)"
                         R"("usage":{"prompt_tokens":5,"completion_tokens":0})")),
            event("message_start",
                  R"({"type":"message_start","message":{"id":"msg_Ab1","type":"message",)"
                  R"("role":"assistant","model":"claude-x","content":[],"stop_reason":null,)"
                  R"("stop_sequence":null,"usage":{"input_tokens":5,)"
                  R"("cache_creation_input_tokens":0,"cache_read_input_tokens":0,)"
                  R"("output_tokens":0}}})") +
                message_end("end_turn", R"({"input_tokens":5,"cache_creation_input_tokens":0,)"
                                        R"("cache_read_input_tokens":0,"output_tokens":0})"));
  std::string empty_start = kMessageStart;
  empty_start.replace(empty_start.find("msg_Ab1"), 7, "msg_unknown");
  EXPECT_EQ(encode(kDone), empty_start + message_end("end_turn", kZeroUsage));
}

TEST(AnthropicInboundStreamTest, ErrorMidStreamEndsIt) {
  AnthropicStreamEncoder encoder("claude-x");
  std::string out;
  // What the gateway writes when the upstream stream breaks (stream_error_event).
  encoder.feed(delta(R"({"content":"Hel"})") +
                   sse_data(R"({"error":{"message":"The upstream stream was interrupted.",)"
                            R"("type":"server_error","param":null,)"
                            R"("code":"upstream_stream_interrupted"}})") +
                   delta(R"({"content":"lo"})") + kDone,
               out);
  EXPECT_EQ(out, kMessageStart + start_text(0) + text_delta(0, "Hel") +
                     event("error", R"({"type":"error","error":{"type":"api_error",)"
                                    R"("message":"The upstream stream was interrupted."}})"));
  EXPECT_TRUE(encoder.finished());
  EXPECT_TRUE(encoder.failed());
  out.clear();
  encoder.finish(out);
  EXPECT_EQ(out, "");

  // An Anthropic deployment's overload, relayed as OpenAI-shaped, keeps its type; before any
  // chunk there is no message_start.
  EXPECT_EQ(encode(sse_data(R"({"error":{"message":"Overloaded","type":"server_error",)"
                            R"("param":null,"code":"overloaded_error"}})")),
            event("error", R"({"type":"error","error":{"type":"overloaded_error",)"
                           R"("message":"Overloaded"}})"));
}

TEST(AnthropicInboundStreamTest, BrokenInputsEndWithAnApiError) {
  const std::string not_json = encode(delta(R"({"content":"a"})") + sse_data("{nope"));
  EXPECT_TRUE(not_json.ends_with(
      event("error", R"({"type":"error","error":{"type":"api_error","message":)"
                     R"("The gateway's stream had an event that could not be translated."}})")));

  AnthropicStreamEncoder cut("claude-x");
  std::string out;
  cut.feed(delta(R"({"content":"a"})") + "data: {\"id\"", out);
  cut.finish(out);
  EXPECT_EQ(out, kMessageStart + start_text(0) + text_delta(0, "a") +
                     event("error", R"({"type":"error","error":{"type":"api_error","message":)"
                                    R"("The stream ended before the message was complete."}})"));
  EXPECT_TRUE(cut.failed());

  // More arguments for tool call 0 after tool call 1 opened cannot be expressed.
  const std::string interleaved = encode(
      delta(R"({"tool_calls":[{"index":0,"id":"a","function":{"name":"f","arguments":"{"}}]})") +
      delta(R"({"tool_calls":[{"index":1,"id":"b","function":{"name":"g","arguments":"{"}}]})") +
      delta(R"({"tool_calls":[{"index":0,"function":{"arguments":"}"}}]})"));
  EXPECT_TRUE(interleaved.ends_with(
      event("error", R"({"type":"error","error":{"type":"api_error","message":"The upstream )"
                     R"(interleaved the arguments of several tool calls, which an Anthropic )"
                     R"(stream cannot express."}})")));
}

TEST(AnthropicInboundStreamTest, TextAfterToolCallsAndOtherChoices) {
  // Text after a tool call opens a new block; choices other than 0 are ignored; a tool call
  // without an id gets one made from the message id.
  EXPECT_EQ(
      encode(delta(R"({"tool_calls":[{"index":0,"function":{"name":"f","arguments":"{}"}}]})") +
             chunk(R"("choices":[{"index":1,"delta":{"content":"other"},"finish_reason":null}])") +
             delta(R"({"content":"done"})", R"("stop")") + kDone),
      kMessageStart +
          event("content_block_start",
                R"({"type":"content_block_start","index":0,"content_block":{"type":"tool_use",)"
                R"("id":"toolu_Ab1_0","name":"f","input":{}}})") +
          json_delta(0, "{}") + stop(0) + start_text(1) + text_delta(1, "done") + stop(1) +
          message_end("end_turn", kZeroUsage));
}

// The message an Anthropic SDK would assemble from an event stream: content blocks with text
// and parsed tool inputs, stop_reason, and the usage merged from message_start and
// message_delta.
json::object assemble(const std::string& sse) {
  upstream::SseParser parser;
  std::vector<upstream::SseEvent> events;
  EXPECT_TRUE(parser.feed(sse, events));
  json::object message;
  std::vector<std::string> partial_json;
  for (const upstream::SseEvent& e : events) {
    const json::object d = json::parse(e.data).as_object();
    EXPECT_EQ(e.event, d.at("type").as_string());
    const std::string_view type = d.at("type").as_string();
    if (type == "message_start") {
      message = d.at("message").as_object();
    } else if (type == "content_block_start") {
      message["content"].as_array().push_back(d.at("content_block"));
      partial_json.emplace_back();
    } else if (type == "content_block_delta") {
      const size_t index = d.at("index").as_int64();
      json::object& block = message["content"].as_array().at(index).as_object();
      const json::object& delta = d.at("delta").as_object();
      if (delta.at("type") == "text_delta") {
        block["text"] =
            std::string(block["text"].as_string()) + std::string(delta.at("text").as_string());
      } else {
        partial_json.at(index) += delta.at("partial_json").as_string();
      }
    } else if (type == "content_block_stop") {
      const size_t index = d.at("index").as_int64();
      json::object& block = message["content"].as_array().at(index).as_object();
      if (block.at("type") == "tool_use" && !partial_json.at(index).empty()) {
        block["input"] = json::parse(partial_json.at(index));
      }
    } else if (type == "message_delta") {
      message["stop_reason"] = d.at("delta").at("stop_reason");
      for (const auto& field : d.at("usage").as_object()) {
        message["usage"].as_object()[field.key()] = field.value();
      }
    }
  }
  return message;
}

TEST(AnthropicInboundStreamTest, RoundTripThroughTheAnthropicDecoder) {
  const std::string anthropic =
      event("message_start",
            R"({"type":"message_start","message":{"id":"msg_01","type":"message",)"
            R"("role":"assistant","model":"claude-x","content":[],"stop_reason":null,)"
            R"("stop_sequence":null,"usage":{"input_tokens":25,"cache_creation_input_tokens":0,)"
            R"("cache_read_input_tokens":5,"output_tokens":1}}})") +
      start_text(0) + event("ping", R"({"type":"ping"})") + text_delta(0, "Let me ") +
      text_delta(0, "check.") + stop(0) +
      event("content_block_start",
            R"({"type":"content_block_start","index":1,"content_block":{"type":"tool_use",)"
            R"("id":"toolu_1","name":"weather","input":{}}})") +
      json_delta(1, R"({"city": )") + json_delta(1, R"("Paris"})") + stop(1) +
      event("content_block_start",
            R"({"type":"content_block_start","index":2,"content_block":{"type":"tool_use",)"
            R"("id":"toolu_2","name":"clock","input":{}}})") +
      json_delta(2, R"({"tz":"CET","fmt":[1,2]})") + stop(2) +
      event("message_delta",
            R"({"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},)"
            R"("usage":{"output_tokens":42}})") +
      event("message_stop", R"({"type":"message_stop"})");

  AnthropicStreamDecoder decoder(/*include_usage=*/true, 1700000000);
  std::string openai;
  const StreamDecoder::Step step = decoder.feed(anthropic, openai);
  ASSERT_TRUE(step.done);
  ASSERT_FALSE(step.failed);
  AnthropicStreamEncoder encoder("claude-x");
  std::string back;
  encoder.feed(openai, back);
  ASSERT_TRUE(encoder.finished());
  EXPECT_FALSE(encoder.failed());

  const json::object expected = assemble(anthropic);
  const json::object got = assemble(back);
  EXPECT_EQ(json::serialize(got), json::serialize(expected));
  EXPECT_EQ(
      json::serialize(got.at("content")),
      R"([{"type":"text","text":"Let me check."},)"
      R"({"type":"tool_use","id":"toolu_1","name":"weather","input":{"city":"Paris"}},)"
      R"({"type":"tool_use","id":"toolu_2","name":"clock","input":{"tz":"CET","fmt":[1,2]}}])");
  EXPECT_EQ(got.at("stop_reason"), "tool_use");
  EXPECT_EQ(json::serialize(got.at("usage")),
            R"({"input_tokens":25,"cache_creation_input_tokens":0,"cache_read_input_tokens":5,)"
            R"("output_tokens":42})");
}

}  // namespace
}  // namespace sheepdog::providers
