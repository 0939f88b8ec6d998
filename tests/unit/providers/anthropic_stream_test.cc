// AnthropicStreamDecoder: a Messages API event stream (text, then a tool call whose arguments
// arrive in pieces) comes out as the OpenAI chunk sequence, whatever the byte boundaries; an
// error event ends the stream with an OpenAI-shaped error and no [DONE].
#include "providers/anthropic_stream.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <string>
#include <vector>

namespace sheepdog::providers {
namespace {

namespace json = boost::json;

constexpr std::string_view kStream =
    "event: message_start\n"
    R"(data: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[],"stop_reason":null,"usage":{"input_tokens":25,"output_tokens":1,"cache_read_input_tokens":5}}})"
    "\n\n"
    "event: content_block_start\n"
    R"(data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"
    "\n\n"
    "event: ping\n"
    R"(data: {"type":"ping"})"
    "\n\n"
    "event: content_block_delta\n"
    R"(data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Let me check."}})"
    "\n\n"
    "event: content_block_stop\n"
    R"(data: {"type":"content_block_stop","index":0})"
    "\n\n"
    "event: content_block_start\n"
    R"(data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"weather","input":{}}})"
    "\n\n"
    "event: content_block_delta\n"
    R"(data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"city\": "}})"
    "\n\n"
    "event: content_block_delta\n"
    R"(data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"\"Paris\"}"}})"
    "\n\n"
    "event: content_block_stop\n"
    R"(data: {"type":"content_block_stop","index":1})"
    "\n\n"
    "event: message_delta\n"
    R"(data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":42}})"
    "\n\n"
    "event: message_stop\n"
    R"(data: {"type":"message_stop"})"
    "\n\n";

// The `data:` payloads of an SSE text, in order.
std::vector<std::string> payloads(const std::string& sse) {
  std::vector<std::string> out;
  size_t at = 0;
  while ((at = sse.find("data: ", at)) != std::string::npos) {
    const size_t end = sse.find("\n\n", at);
    out.push_back(sse.substr(at + 6, end - at - 6));
    at = end;
  }
  return out;
}

std::string delta_of(const std::string& chunk) {
  const json::value v = json::parse(chunk);
  return json::serialize(v.at("choices").as_array()[0].at("delta"));
}

TEST(AnthropicStreamTest, TextAndToolCallBecomeOpenAIChunks) {
  AnthropicStreamDecoder decoder(/*include_usage=*/true, 1700000000);
  std::string out;
  const StreamDecoder::Step step = decoder.feed(kStream, out);
  EXPECT_FALSE(step.failed);
  EXPECT_TRUE(step.done);
  EXPECT_FALSE(step.upstream_error);
  const std::vector<std::string> events = payloads(out);
  ASSERT_EQ(events.size(), 8u);
  EXPECT_EQ(step.events, 8u);
  const json::value first = json::parse(events[0]);
  EXPECT_EQ(first.at("id"), "chatcmpl-msg_1");
  EXPECT_EQ(first.at("object"), "chat.completion.chunk");
  EXPECT_EQ(first.at("created"), 1700000000);
  EXPECT_EQ(first.at("model"), "claude-x");
  EXPECT_EQ(delta_of(events[0]), R"({"role":"assistant","content":""})");
  EXPECT_EQ(delta_of(events[1]), R"({"content":"Let me check."})");
  EXPECT_EQ(
      delta_of(events[2]),
      R"({"tool_calls":[{"index":0,"id":"toolu_1","type":"function","function":{"name":"weather","arguments":""}}]})");
  EXPECT_EQ(delta_of(events[3]),
            R"({"tool_calls":[{"index":0,"function":{"arguments":"{\"city\": "}}]})");
  EXPECT_EQ(delta_of(events[4]),
            R"({"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]})");
  EXPECT_EQ(json::parse(events[5]).at("choices").as_array()[0].at("finish_reason"), "tool_calls");
  EXPECT_EQ(
      json::serialize(json::parse(events[6]).at("usage")),
      R"({"prompt_tokens":30,"completion_tokens":42,"total_tokens":72,"prompt_tokens_details":{"cached_tokens":5}})");
  EXPECT_EQ(events[7], "[DONE]");
  EXPECT_TRUE(decoder.usage().reported);
  EXPECT_EQ(decoder.usage().prompt_tokens, 30);
  EXPECT_EQ(decoder.usage().completion_tokens, 42);
}

TEST(AnthropicStreamTest, ByteBoundariesDoNotMatter) {
  AnthropicStreamDecoder whole(false, 1);
  std::string expected;
  whole.feed(kStream, expected);
  for (size_t piece : {1u, 7u, 64u}) {
    AnthropicStreamDecoder decoder(false, 1);
    std::string out;
    for (size_t at = 0; at < kStream.size(); at += piece) {
      EXPECT_FALSE(decoder.feed(kStream.substr(at, piece), out).failed);
    }
    EXPECT_EQ(out, expected) << "pieces of " << piece;
  }
  EXPECT_EQ(payloads(expected).size(), 7u);  // no usage chunk unless asked
}

TEST(AnthropicStreamTest, ErrorEventEndsWithoutDone) {
  AnthropicStreamDecoder decoder(false, 1);
  std::string out;
  const StreamDecoder::Step step = decoder.feed(
      "event: error\n"
      R"(data: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"
      "\n\n",
      out);
  EXPECT_TRUE(step.upstream_error);
  EXPECT_TRUE(step.done);
  EXPECT_EQ(
      out,
      "data: "
      R"({"error":{"message":"Overloaded","type":"server_error","param":null,"code":"overloaded_error"}})"
      "\n\n");
}

TEST(AnthropicStreamTest, MalformedEventsFailTheStream) {
  AnthropicStreamDecoder decoder(false, 1);
  std::string out;
  EXPECT_TRUE(decoder.feed("data: not json\n\n", out).failed);
  AnthropicStreamDecoder orphan(false, 1);
  EXPECT_TRUE(
      orphan
          .feed(
              R"(data: {"type":"content_block_delta","index":3,"delta":{"type":"input_json_delta","partial_json":"{"}})"
              "\n\n",
              out)
          .failed);
}

}  // namespace
}  // namespace sheepdog::providers
