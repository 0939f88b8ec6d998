// OpenAIProvider: request encoding, response checking and the stream relay's event handling.
#include "providers/openai_provider.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace sheepdog::providers {
namespace {

namespace json = boost::json;

ProviderTarget target() {
  ProviderTarget t;
  t.origin = upstream::Origin{false, "127.0.0.1", 9000};
  t.base_path = "/v1";
  t.api_key = "sk-test-key";
  return t;
}

json::object chat_body() {
  return json::parse(R"({"model":"alias","messages":[{"role":"user","content":"hi"}],)"
                     R"("tools":[{"type":"function","function":{"name":"f"}}],"temperature":0.5})")
      .as_object();
}

TEST(OpenAIProviderTest, EncodesChatWithUpstreamModelAndCredentials) {
  const OpenAIProvider provider;
  const json::object body = chat_body();
  EncodeInput input;
  input.body = &body;
  input.upstream_model = "gpt-4o-mini-2024";
  const upstream::UpstreamRequest r = provider.encode(input, target()).request;
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.target, "/v1/chat/completions");
  EXPECT_EQ(r.origin.port, 9000);
  EXPECT_EQ(r.headers.value("authorization"), "Bearer sk-test-key");
  EXPECT_EQ(r.headers.value("content-type"), "application/json");
  EXPECT_FALSE(r.headers.contains("accept"));
  json::object sent = json::parse(r.body).as_object();
  EXPECT_EQ(sent["model"].as_string(), "gpt-4o-mini-2024");
  // Everything else passes through untouched, and the client's object is not modified.
  EXPECT_EQ(sent["tools"], body.at("tools"));
  EXPECT_EQ(sent["temperature"].as_double(), 0.5);
  EXPECT_EQ(sent.size(), body.size());
  EXPECT_EQ(body.at("model").as_string(), "alias");
}

TEST(OpenAIProviderTest, EncodesEmbeddingsAndStreams) {
  const OpenAIProvider provider;
  const json::object body = json::parse(R"({"model":"e","input":"x"})").as_object();
  EncodeInput input;
  input.operation = Operation::kEmbeddings;
  input.body = &body;
  input.upstream_model = "text-embedding-3-small";
  ProviderTarget t = target();
  t.base_path = "";
  EXPECT_EQ(provider.encode(input, t).request.target, "/embeddings");

  const json::object chat = chat_body();
  input.operation = Operation::kChatCompletions;
  input.body = &chat;
  input.stream = true;
  const upstream::UpstreamRequest r = provider.encode(input, target()).request;
  EXPECT_EQ(r.headers.value("accept"), "text/event-stream");
  // A stream always asks the upstream for usage, so its tokens are counted; the decoder hides
  // the usage chunk from a client that did not ask (StreamDecoderHidesUsageNotAskedFor).
  EXPECT_EQ(json::parse(r.body).at("stream_options"), json::parse(R"({"include_usage":true})"));

  // The client's other stream options stay.
  const json::object own =
      json::parse(R"({"model":"m","messages":[],"stream_options":{"x":1}})").as_object();
  input.body = &own;
  EXPECT_EQ(json::parse(provider.encode(input, target()).request.body).at("stream_options"),
            json::parse(R"({"x":1,"include_usage":true})"));

  // Not a stream: nothing added.
  input.body = &chat;
  input.stream = false;
  EXPECT_FALSE(
      json::parse(provider.encode(input, target()).request.body).as_object().contains(
          "stream_options"));
}

TEST(OpenAIProviderTest, ForwardsClientKeyOnlyWithoutOwnKey) {
  const OpenAIProvider provider;
  const json::object body = chat_body();
  EncodeInput input;
  input.body = &body;
  input.upstream_model = "m";
  input.client_authorization = "Bearer sk-client";
  ProviderTarget t = target();
  t.forward_client_key = true;
  EXPECT_EQ(provider.encode(input, t).request.headers.value("authorization"), "Bearer sk-test-key");
  t.api_key.clear();
  EXPECT_EQ(provider.encode(input, t).request.headers.value("authorization"), "Bearer sk-client");
  t.forward_client_key = false;
  EXPECT_FALSE(provider.encode(input, t).request.headers.contains("authorization"));
}

TEST(OpenAIProviderTest, ConfiguredHeadersOverrideOurs) {
  const OpenAIProvider provider;
  const json::object body = chat_body();
  EncodeInput input;
  input.body = &body;
  input.upstream_model = "m";
  ProviderTarget t = target();
  t.headers = {{"OpenAI-Organization", "org-1"}, {"Authorization", "Bearer other"}};
  const upstream::UpstreamRequest r = provider.encode(input, t).request;
  EXPECT_EQ(r.headers.value("openai-organization"), "org-1");
  EXPECT_EQ(r.headers.value("authorization"), "Bearer other");
}

upstream::UpstreamResponse response(int status, std::string body) {
  upstream::UpstreamResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

TEST(OpenAIProviderTest, DecodeChecksShapeAndReadsUsage) {
  const OpenAIProvider provider;
  DecodeResult ok = provider.decode(
      Operation::kChatCompletions,
      response(200, R"({"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":7}})"));
  EXPECT_FALSE(ok.error);
  EXPECT_TRUE(ok.usage.reported);
  EXPECT_EQ(ok.usage.prompt_tokens, 12);
  EXPECT_EQ(ok.usage.completion_tokens, 7);

  EXPECT_EQ(provider.decode(Operation::kChatCompletions, response(200, "<html>")).error,
            ErrorKind::kMalformedResponse);
  EXPECT_EQ(provider.decode(Operation::kChatCompletions, response(200, "[1]")).error,
            ErrorKind::kMalformedResponse);
  EXPECT_EQ(provider.decode(Operation::kChatCompletions, response(200, R"({"data":[]})")).error,
            ErrorKind::kMalformedResponse);
  DecodeResult embeddings = provider.decode(
      Operation::kEmbeddings, response(200, R"({"data":[],"usage":{"prompt_tokens":3}})"));
  EXPECT_FALSE(embeddings.error);
  EXPECT_EQ(embeddings.usage.prompt_tokens, 3);
  EXPECT_EQ(embeddings.usage.completion_tokens, 0);
  EXPECT_FALSE(
      provider.decode(Operation::kEmbeddings, response(200, R"({"data":[]})")).usage.reported);
}

TEST(OpenAIProviderTest, StreamDecoderRelaysCompleteEventsOnly) {
  const OpenAIProvider provider;
  const json::object asked =
      json::parse(R"({"stream":true,"stream_options":{"include_usage":true}})").as_object();
  EncodeInput input;
  input.body = &asked;
  auto decoder = provider.stream_decoder(input);
  std::string out;
  StreamDecoder::Step step =
      decoder->feed("data: {\"choices\":[{\"delta\":{}}]}\n\ndata: {\"ch", out);
  EXPECT_EQ(step.events, 1u);
  EXPECT_FALSE(step.done);
  EXPECT_EQ(out, "data: {\"choices\":[{\"delta\":{}}]}\n\n");
  out.clear();
  step = decoder->feed("oices\":[]}\r\n\r\n", out);
  EXPECT_EQ(step.events, 1u);
  EXPECT_EQ(out, "data: {\"choices\":[]}\n\n");
  out.clear();
  step = decoder->feed(
      "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":9}}\n\n"
      "data: [DONE]\n\ndata: {\"late\":1}\n\n",
      out);
  EXPECT_TRUE(step.done);
  EXPECT_EQ(step.events, 2u);  // nothing after [DONE]
  EXPECT_TRUE(out.ends_with("data: [DONE]\n\n"));
  EXPECT_EQ(decoder->usage().prompt_tokens, 5);
  EXPECT_EQ(decoder->usage().completion_tokens, 9);
}

// The gateway asks every upstream stream for usage; a client that did not ask sees the stream
// it would have had: no usage chunk, no "usage": null members, while the tokens are still read.
TEST(OpenAIProviderTest, StreamDecoderHidesUsageNotAskedFor) {
  const OpenAIProvider provider;
  const json::object not_asked = json::parse(R"({"stream":true})").as_object();
  EncodeInput input;
  input.body = &not_asked;
  auto decoder = provider.stream_decoder(input);
  std::string out;
  StreamDecoder::Step step = decoder->feed(
      "data: {\"id\":\"c\",\"choices\":[{\"delta\":{\"content\":\"\\\"usage\\\":null\"}}],"
      "\"usage\":null}\n\n"
      "data: {\"usage\": null, \"id\":\"c\",\"choices\":[]}\n\n"
      "data: {\"usage\":null}\n\n"
      "data: {\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":9}}\n\n"
      "data: {\"choices\":[{\"delta\":{}}],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2}}"
      "\n\n"
      "data: [DONE]\n\n",
      out);
  EXPECT_TRUE(step.done);
  EXPECT_EQ(step.events, 5u);  // the usage-only chunk is not relayed
  EXPECT_EQ(out,
            "data: {\"id\":\"c\",\"choices\":[{\"delta\":{\"content\":\"\\\"usage\\\":null\"}}]}\n\n"
            "data: { \"id\":\"c\",\"choices\":[]}\n\n"
            "data: {}\n\n"
            "data: {\"choices\":[{\"delta\":{}}]}\n\n"
            "data: [DONE]\n\n");
  // The last usage seen is the stream's.
  EXPECT_TRUE(decoder->usage().reported);
  EXPECT_EQ(decoder->usage().prompt_tokens, 1);
  EXPECT_EQ(decoder->usage().completion_tokens, 2);
}

TEST(OpenAIProviderTest, StreamDecoderKeepsEventNamesAndMultilineData) {
  const OpenAIProvider provider;
  auto decoder = provider.stream_decoder(EncodeInput{});
  std::string out;
  decoder->feed("event: ping\ndata: a\ndata: b\n\n", out);
  EXPECT_EQ(out, "event: ping\ndata: a\ndata: b\n\n");
  EXPECT_FALSE(decoder->usage().reported);
}

TEST(OpenAIProviderTest, StreamDecoderNoticesUpstreamErrorEvents) {
  const OpenAIProvider provider;
  auto decoder = provider.stream_decoder(EncodeInput{});
  std::string out;
  const StreamDecoder::Step step =
      decoder->feed("data: {\"error\":{\"message\":\"overloaded\"}}\n\n", out);
  EXPECT_TRUE(step.upstream_error);
  EXPECT_TRUE(step.done);
  EXPECT_EQ(out, "data: {\"error\":{\"message\":\"overloaded\"}}\n\n");
}

TEST(OpenAIProviderTest, RelayErrorBodyKeepsOpenAIErrorsAndWrapsOthers) {
  const OpenAIProvider provider;
  const std::string openai = R"({"error":{"message":"bad","type":"invalid_request_error"}})";
  EXPECT_EQ(provider.relay_error_body(response(400, openai)), openai);
  const json::object wrapped =
      json::parse(provider.relay_error_body(response(404, "<html>nope</html>"))).as_object();
  EXPECT_EQ(wrapped.at("error").at("type").as_string(), "invalid_request_error");
  EXPECT_NE(wrapped.at("error").at("message").as_string().find("404"), json::string::npos);
}

}  // namespace
}  // namespace sheepdog::providers
