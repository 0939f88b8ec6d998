// AnthropicProvider: the request it sends (path, credentials, version, translated body), the
// 400 it answers instead for what Anthropic cannot express, the translated answer and usage,
// the stream decoder honouring include_usage, and error bodies relayed in OpenAI's shape.
#include "providers/anthropic_provider.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace sheepdog::providers {
namespace {

namespace json = boost::json;

ProviderTarget target() {
  ProviderTarget t;
  t.origin = upstream::Origin{true, "api.anthropic.com", 443};
  t.base_path = "/v1";
  t.api_key = "sk-ant-test-key-0000";
  return t;
}

EncodeInput chat_input(const json::object& body, bool stream = false) {
  EncodeInput input;
  input.operation = Operation::kChatCompletions;
  input.body = &body;
  input.upstream_model = "claude-sonnet";
  input.stream = stream;
  return input;
}

TEST(AnthropicProviderTest, EncodesTheMessagesRequest) {
  const AnthropicProvider provider;
  const json::object body =
      json::parse(R"({"model":"alias","messages":[{"role":"system","content":"Be brief."},)"
                  R"({"role":"user","content":"hi"}],"max_tokens":20})")
          .as_object();
  const EncodeResult encoded = provider.encode(chat_input(body, /*stream=*/true), target());
  ASSERT_FALSE(encoded.error_body);
  const upstream::UpstreamRequest& r = encoded.request;
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/v1/messages");
  EXPECT_EQ(r.headers.value("x-api-key"), "sk-ant-test-key-0000");
  EXPECT_FALSE(r.headers.contains("authorization"));
  EXPECT_EQ(r.headers.value("anthropic-version"), "2023-06-01");
  EXPECT_EQ(r.headers.value("accept"), "text/event-stream");
  EXPECT_EQ(r.body, R"({"model":"claude-sonnet","system":"Be brief.","messages":[{"role":"user",)"
                    R"("content":[{"type":"text","text":"hi"}]}],"max_tokens":20,"stream":true})");
}

TEST(AnthropicProviderTest, ConfiguredHeadersWinOverTheDefaultVersion) {
  const AnthropicProvider provider;
  ProviderTarget t = target();
  t.headers = {{"anthropic-version", "2024-01-01"}, {"anthropic-beta", "x"}};
  const json::object body =
      json::parse(R"({"messages":[{"role":"user","content":"hi"}]})").as_object();
  const upstream::UpstreamRequest r = provider.encode(chat_input(body), t).request;
  EXPECT_EQ(r.headers.value("anthropic-version"), "2024-01-01");
  EXPECT_EQ(r.headers.value("anthropic-beta"), "x");
}

TEST(AnthropicProviderTest, WhatCannotBeExpressedIsA400NamingTheParam) {
  const AnthropicProvider provider;
  const json::object body =
      json::parse(R"({"messages":[{"role":"user","content":"hi"}],"n":3})").as_object();
  const EncodeResult encoded = provider.encode(chat_input(body), target());
  ASSERT_TRUE(encoded.error_body);
  const json::value error = json::parse(*encoded.error_body).at("error");
  EXPECT_EQ(error.at("type"), "invalid_request_error");
  EXPECT_EQ(error.at("param"), "n");
  EXPECT_EQ(error.at("code"), "unsupported_parameter");
  EXPECT_NE(encoded.detail.find("n"), std::string::npos);

  EncodeInput embeddings = chat_input(body);
  embeddings.operation = Operation::kEmbeddings;
  EXPECT_TRUE(provider.encode(embeddings, target()).error_body);
}

TEST(AnthropicProviderTest, DecodesIntoAChatCompletionWithUsage) {
  const AnthropicProvider provider;
  upstream::UpstreamResponse response;
  response.status = 200;
  response.body = R"({"id":"msg_9","type":"message","model":"claude-sonnet","stop_reason":)"
                  R"("end_turn","content":[{"type":"text","text":"Hello!"}],"usage":)"
                  R"({"input_tokens":12,"output_tokens":3}})";
  const DecodeResult decoded = provider.decode(Operation::kChatCompletions, response);
  ASSERT_FALSE(decoded.error);
  ASSERT_TRUE(decoded.body);
  const json::value completion = json::parse(*decoded.body);
  EXPECT_EQ(completion.at("object"), "chat.completion");
  EXPECT_EQ(completion.at("choices").as_array()[0].at("message").at("content"), "Hello!");
  EXPECT_EQ(completion.at("choices").as_array()[0].at("finish_reason"), "stop");
  EXPECT_GT(completion.at("created").as_int64(), 1'700'000'000);
  EXPECT_TRUE(decoded.usage.reported);
  EXPECT_EQ(decoded.usage.prompt_tokens, 12);
  EXPECT_EQ(decoded.usage.completion_tokens, 3);

  response.body = R"({"type":"message"})";
  EXPECT_EQ(provider.decode(Operation::kChatCompletions, response).error,
            ErrorKind::kMalformedResponse);
  response.body = "not json";
  EXPECT_EQ(provider.decode(Operation::kChatCompletions, response).error,
            ErrorKind::kMalformedResponse);
}

TEST(AnthropicProviderTest, StreamDecoderAddsUsageOnlyWhenAsked) {
  const AnthropicProvider provider;
  constexpr std::string_view kStream =
      R"(data: {"type":"message_start","message":{"id":"m","model":"c","usage":{"input_tokens":4,"output_tokens":0}}})"
      "\n\n"
      R"(data: {"type":"message_stop"})"
      "\n\n";
  for (bool asked : {false, true}) {
    const json::object body =
        json::parse(asked
                        ? R"({"messages":[],"stream":true,"stream_options":{"include_usage":true}})"
                        : R"({"messages":[],"stream":true})")
            .as_object();
    auto decoder = provider.stream_decoder(chat_input(body, true));
    std::string out;
    EXPECT_TRUE(decoder->feed(kStream, out).done);
    EXPECT_EQ(out.find("\"usage\"") != std::string::npos, asked) << out;
    EXPECT_NE(out.find("data: [DONE]"), std::string::npos);
  }
}

TEST(AnthropicProviderTest, ErrorBodiesAreRelayedInOpenAIShape) {
  const AnthropicProvider provider;
  upstream::UpstreamResponse response;
  response.status = 400;
  response.body =
      R"({"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: too big"}})";
  EXPECT_EQ(json::parse(provider.relay_error_body(response)).at("error").at("message"),
            "max_tokens: too big");
  // Our own 400 from encode() passes through untouched.
  const json::object body =
      json::parse(R"({"messages":[{"role":"user","content":"hi"}],"n":3})").as_object();
  response.body = *provider.encode(chat_input(body), target()).error_body;
  EXPECT_EQ(provider.relay_error_body(response), response.body);
  response.status = 502;
  response.body = "<html>bad gateway</html>";
  EXPECT_EQ(json::parse(provider.relay_error_body(response)).at("error").at("type"),
            "server_error");
}

}  // namespace
}  // namespace sheepdog::providers
