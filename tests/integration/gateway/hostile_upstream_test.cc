// The gateway end to end against a hostile upstream (support/raw_upstream.h writes exactly the
// bytes each test chooses): the repros of issue 10's upstream items. A trailer that aborted the
// process, an oversized answer pulled three times, a memory budget, a stream with a chunk that
// is not JSON relayed as a success, a provider key echoed back to the client, and an upstream
// address in the client's error message.
#include <gtest/gtest.h>

#include "support/raw_upstream.h"
#include "integration/gateway/gateway_harness.h"

namespace sheepdog::gateway::testing {
namespace {

using sheepdog::testing::RawUpstream;

constexpr std::string_view kKey = "sk-test-configured-key-000111";

// `A` and `B` are upstream URLs; A authenticates with kKey.
std::string yaml(std::string_view server = "") {
  return std::string("server:\n  threads: 1\n") + std::string(server) + R"(
providers:
  a: {kind: openai, base_url: "${A}/v1", api_keys: [")" +
         std::string(kKey) + R"("]}
  b: {kind: openai, base_url: "${B}/v1"}
policies:
  default:
    max_attempts: 3
    timeouts: {attempt: 5s, total: 10s, first_token: 2s}
    backoff: {kind: constant, base_delay: 1ms, max_delay: 1ms, jitter: none}
models:
  m: {deployments: [{provider: a, model: gpt-4o}]}
  two: {deployments: [{provider: a, model: gpt-4o}, {provider: b, model: gpt-4o}]}
)";
}

RuntimeOptions ordered() {
  RuntimeOptions options;
  options.ordered_aliases = {"two"};
  return options;
}

constexpr std::string_view kCompletion =
    R"({"id":"c1","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,)"
    R"("message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],)"
    R"("usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}})";

std::string content_chunk(std::string_view text) {
  return R"(data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":)"
         R"({"content":")" +
         std::string(text) + R"("},"finish_reason":null}]})" + "\n\n";
}

// An upstream that answers every call with a valid completion.
RawUpstream::Handler good() {
  return [](RawUpstream::Exchange& x) { x.write(RawUpstream::json_response(200, kCompletion)); };
}

// An SSE answer: a chunked head, then `events` as one chunk each, then the last chunk.
std::string sse_answer(const std::vector<std::string>& events, std::string_view trailer = "") {
  std::string raw = RawUpstream::chunked_head("text/event-stream");
  for (const std::string& e : events) {
    raw += RawUpstream::chunk(e);
  }
  return raw + "0\r\n" + std::string(trailer) + "\r\n";
}

LoopbackClient stream(GatewayHarness& gw, std::string target, std::string body) {
  LoopbackClient c = gw.client();
  LoopbackClient::Request request = c.make_request(http::verb::post, target, std::move(body));
  if (target == "/v1/messages") {
    request.set("anthropic-version", "2023-06-01");
  }
  EXPECT_FALSE(c.write(std::move(request)));
  EXPECT_FALSE(c.begin_stream());
  EXPECT_FALSE(c.read_to_end());
  return c;
}

bool logged(GatewayHarness& gw, std::string_view needle) {
  for (const std::string& line : gw.log_lines()) {
    if (line.find(needle) != std::string::npos) {
      return true;
    }
  }
  return false;
}

std::string big_trailer() { return "X: " + std::string(65534, 'a') + "\r\n"; }

// Issue 10: "An upstream answer (plain or SSE) with a chunked trailer of 64 KiB or more:
// SIGABRT". The gateway answers and keeps serving.
TEST(HostileUpstreamTest, TrailerOf64KiBIsAMalformedAnswerNotAnAbort) {
  RawUpstream a([](RawUpstream::Exchange& x) {
    std::string raw = RawUpstream::chunked_head("application/json") +
                      RawUpstream::chunk(kCompletion) + "0\r\n" + big_trailer() + "\r\n";
    x.write(raw);
  });
  GatewayHarness gw(yaml(), {{"A", a.url()}, {"B", a.url()}});
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post("/v1/chat/completions", chat("m"));
  // The trailer passes the bound on what a response may hold: response_too_large, which is
  // not retried on the same deployment (it would answer the same again).
  EXPECT_EQ(reply.status(), 502) << reply.body();
  EXPECT_EQ(error_of(reply.body()).at("code").as_string(), "upstream_response_too_large");
  EXPECT_EQ(a.calls(), 1);
  EXPECT_EQ(gw.get("/health").status(), 200);
}

TEST(HostileUpstreamTest, StreamTrailerOf64KiBEndsTheStreamWithAnError) {
  RawUpstream a(
      [](RawUpstream::Exchange& x) { x.write(sse_answer({content_chunk("hi")}, big_trailer())); });
  GatewayHarness gw(yaml(), {{"A", a.url()}, {"B", a.url()}});
  ASSERT_TRUE(gw.ok());
  LoopbackClient c = stream(gw, "/v1/chat/completions", chat("m", true));
  const std::vector<std::string> events = sse_data(c.streamed_body());
  ASSERT_EQ(events.size(), 2u) << c.streamed_body();
  EXPECT_NE(events[0].find("hi"), std::string::npos);
  const json::object error = error_of(events[1]);
  EXPECT_EQ(error.at("code").as_string(), "upstream_stream_interrupted");
  EXPECT_NE(error.at("message").as_string().find("response_too_large"), json::string::npos)
      << error.at("message").as_string();
  EXPECT_EQ(gw.get("/health").status(), 200);
}

// Issue 10: "an upstream body over the size limit is classified connection_reset and retried
// max_attempts times (77 MB pulled three times)". Now: one call, the head only, a 502 of its
// own; with a second deployment, that one answers.
TEST(HostileUpstreamTest, OversizedAnswerIsNotPulledNorRetriedOnTheSameDeployment) {
  RawUpstream a([](RawUpstream::Exchange& x) {
    x.write(RawUpstream::head(200, "Content-Type: application/json\r\nContent-Length: 77000000\r\n"));
    x.wait_for_close();
  });
  RawUpstream b(good());
  GatewayHarness gw(yaml(), {{"A", a.url()}, {"B", b.url()}}, ordered());
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post("/v1/chat/completions", chat("m"));
  EXPECT_EQ(reply.status(), 502) << reply.body();
  EXPECT_EQ(error_of(reply.body()).at("code").as_string(), "upstream_response_too_large");
  EXPECT_EQ(a.calls(), 1);
  EXPECT_LT(a.bytes_sent(), 1000u);
  EXPECT_TRUE(logged(gw, "response_too_large"));

  const auto fell_back = gw.post("/v1/chat/completions", chat("two"));
  EXPECT_EQ(fell_back.status(), 200) << fell_back.body();
  EXPECT_EQ(a.calls(), 2);
  EXPECT_EQ(b.calls(), 1);
}

TEST(HostileUpstreamTest, ChunkedAnswerOverTheConfiguredCapIsTooLarge) {
  RawUpstream a([](RawUpstream::Exchange& x) {
    std::string raw = RawUpstream::chunked_head("application/json");
    for (int i = 0; i < 200 && x.write(raw); ++i) {
      raw = RawUpstream::chunk(std::string(1024, ' '));
    }
  });
  GatewayHarness gw(yaml("  upstream_max_response_bytes: 64KiB\n"), {{"A", a.url()}, {"B", a.url()}});
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post("/v1/chat/completions", chat("m"));
  EXPECT_EQ(reply.status(), 502) << reply.body();
  EXPECT_EQ(error_of(reply.body()).at("code").as_string(), "upstream_response_too_large");
  EXPECT_EQ(a.calls(), 1);
}

// An answer that would take the process past server.upstream_memory_budget fails at once, as
// response_too_large (another deployment may still answer), and holds nothing afterwards.
TEST(HostileUpstreamTest, AnswerBeyondTheMemoryBudgetIsTooLargeAndNotRetried) {
  const std::string padded = std::string(kCompletion).insert(1, R"("pad":")" +
                                                                    std::string(8000, 'p') + "\",");
  RawUpstream a([&](RawUpstream::Exchange& x) { x.write(RawUpstream::json_response(200, padded)); });
  GatewayHarness gw(yaml("  upstream_memory_budget: 4KiB\n"), {{"A", a.url()}, {"B", a.url()}});
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post("/v1/chat/completions", chat("m"));
  EXPECT_EQ(reply.status(), 502) << reply.body();
  EXPECT_EQ(error_of(reply.body()).at("code").as_string(), "upstream_response_too_large");
  EXPECT_EQ(a.calls(), 1);
  EXPECT_EQ(gw.runtime().memory_budget().used(), 0u);
}

TEST(HostileUpstreamTest, BufferedAnswersReleaseTheirBudget) {
  RawUpstream a(good());
  GatewayHarness gw(yaml(), {{"A", a.url()}, {"B", a.url()}});
  ASSERT_TRUE(gw.ok());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(gw.post("/v1/chat/completions", chat("m")).status(), 200);
  }
  EXPECT_TRUE(eventually([&] { return gw.runtime().memory_budget().used() == 0; }));
}

// A validated stream holds a tool-call answer back until it ends: past
// upstream_max_response_bytes of held events it is response_too_large, like a buffered answer,
// instead of growing without bound. Nothing had reached the client, so it is a plain 502.
TEST(HostileUpstreamTest, HeldStreamPastTheResponseCapIsTooLarge) {
  RawUpstream a([](RawUpstream::Exchange& x) {
    std::string raw = RawUpstream::chunked_head("text/event-stream");
    raw += RawUpstream::chunk(
        R"(data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":)"
        R"({"tool_calls":[{"index":0,"id":"call_1","type":"function","function":)"
        R"({"name":"f","arguments":"{\"a\":\""}}]},"finish_reason":null}]})"
        "\n\n");
    for (int i = 0; i < 400 && x.write(raw); ++i) {
      raw = RawUpstream::chunk(
          R"(data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":)"
          R"({"tool_calls":[{"index":0,"function":{"arguments":")" +
          std::string(1024, 'x') + R"("}}]},"finish_reason":null}]})" + "\n\n");
    }
  });
  std::string config = yaml("  upstream_max_response_bytes: 64KiB\n");
  const std::string backoff = "jitter: none}\n";
  config.insert(config.find(backoff) + backoff.size(),
                "    tool_validation: {mode: resample, streams: true}\n");
  GatewayHarness gw(config, {{"A", a.url()}, {"B", a.url()}});
  ASSERT_TRUE(gw.ok());
  LoopbackClient c = gw.client();
  const auto reply = c.request(c.make_request(
      http::verb::post, "/v1/chat/completions",
      R"({"model":"m","stream":true,"messages":[{"role":"user","content":"x"}],)"
      R"("tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object",)"
      R"("properties":{"a":{"type":"string"}}}}}]})"));
  EXPECT_EQ(reply.status(), 502) << reply.body();
  EXPECT_EQ(error_of(reply.body()).at("code").as_string(), "upstream_response_too_large");
  EXPECT_EQ(a.calls(), 1);
  EXPECT_TRUE(eventually([&] { return logged(gw, R"("outcome":"response_too_large")"); }));
}

// Issue 10: "A stream with invalid JSON in a data: event is relayed as a success ending in
// [DONE]". Now: what came before goes out, then our error event, no [DONE]; the attempt is a
// malformed_response.
TEST(HostileUpstreamTest, StreamChunkThatIsNotJsonEndsWithAnErrorEvent) {
  RawUpstream a([](RawUpstream::Exchange& x) {
    x.write(sse_answer({content_chunk("Hel"), "data: {\"choices\": [oops\n\n", content_chunk("lo"),
                        "data: [DONE]\n\n"}));
  });
  GatewayHarness gw(yaml(), {{"A", a.url()}, {"B", a.url()}});
  ASSERT_TRUE(gw.ok());
  LoopbackClient c = stream(gw, "/v1/chat/completions", chat("m", true));
  const std::vector<std::string> events = sse_data(c.streamed_body());
  ASSERT_EQ(events.size(), 2u) << c.streamed_body();
  EXPECT_NE(events[0].find("Hel"), std::string::npos);
  const json::object error = error_of(events[1]);
  EXPECT_EQ(error.at("code").as_string(), "upstream_stream_interrupted");
  EXPECT_NE(error.at("message").as_string().find("malformed_response"), json::string::npos);
  EXPECT_EQ(c.streamed_body().find("[DONE]"), std::string::npos);
  EXPECT_EQ(c.streamed_body().find("oops"), std::string::npos);
  EXPECT_EQ(a.calls(), 1);
  EXPECT_TRUE(eventually([&] { return logged(gw, R"("outcome":"malformed_response")"); }));
}

TEST(HostileUpstreamTest, FirstStreamChunkThatIsNotJsonIsRetried) {
  RawUpstream a([](RawUpstream::Exchange& x) {
    if (x.call == 1) {
      x.write(sse_answer({"data: not json at all\n\n", "data: [DONE]\n\n"}));
    } else {
      x.write(sse_answer({content_chunk("fine"), "data: [DONE]\n\n"}));
    }
  });
  GatewayHarness gw(yaml(), {{"A", a.url()}, {"B", a.url()}});
  ASSERT_TRUE(gw.ok());
  LoopbackClient c = stream(gw, "/v1/chat/completions", chat("m", true));
  EXPECT_EQ(c.stream_parser().get()["x-sheepdog-attempts"], "2");
  const std::vector<std::string> events = sse_data(c.streamed_body());
  ASSERT_EQ(events.size(), 2u) << c.streamed_body();
  EXPECT_EQ(events.back(), "[DONE]");
  EXPECT_EQ(a.calls(), 2);
}

// The Anthropic client path translates the same failure into Anthropic's error event.
TEST(HostileUpstreamTest, AnthropicClientGetsAnErrorEventForAChunkThatIsNotJson) {
  RawUpstream a([](RawUpstream::Exchange& x) {
    x.write(sse_answer({content_chunk("Hel"), "data: {oops\n\n", "data: [DONE]\n\n"}));
  });
  GatewayHarness gw(yaml(), {{"A", a.url()}, {"B", a.url()}});
  ASSERT_TRUE(gw.ok());
  LoopbackClient c = stream(
      gw, "/v1/messages",
      R"({"model":"m","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"x"}]})");
  const std::string& body = c.streamed_body();
  EXPECT_NE(body.find("event: error"), std::string::npos) << body;
  EXPECT_NE(body.find("malformed_response"), std::string::npos) << body;
  EXPECT_EQ(body.find("message_stop"), std::string::npos) << body;
  EXPECT_EQ(body.find("oops"), std::string::npos) << body;
}

// Issue 10: "Upstream error bodies are relayed verbatim, including a configured provider key
// that a misbehaving upstream echoes".
TEST(HostileUpstreamTest, EchoedProviderKeyIsRedactedFromTheRelayedErrorBody) {
  RawUpstream a([](RawUpstream::Exchange& x) {
    x.write(RawUpstream::json_response(
        400, R"({"error":{"message":"you sent Authorization: Bearer )" + std::string(kKey) +
                 R"(","type":"invalid_request_error","param":null,"code":null}})"));
  });
  GatewayHarness gw(yaml(), {{"A", a.url()}, {"B", a.url()}});
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post("/v1/chat/completions", chat("m"));
  EXPECT_EQ(reply.status(), 400) << reply.body();
  EXPECT_EQ(reply.body().find(kKey), std::string::npos) << reply.body();
  EXPECT_NE(reply.body().find("Bearer [redacted key sk-t...0111]"), std::string::npos)
      << reply.body();
  ASSERT_EQ(a.requests().size(), 1u);
  EXPECT_NE(a.requests()[0].find(kKey), std::string::npos);  // it was sent, and only there
}

TEST(HostileUpstreamTest, EchoedProviderKeyIsRedactedFromAStreamedErrorEvent) {
  RawUpstream a([](RawUpstream::Exchange& x) {
    x.write(sse_answer({content_chunk("Hel"),
                        R"(data: {"error":{"message":"key )" + std::string(kKey) +
                            R"( revoked mid-stream","type":"server_error"}})" + "\n\n"}));
  });
  GatewayHarness gw(yaml(), {{"A", a.url()}, {"B", a.url()}});
  ASSERT_TRUE(gw.ok());
  LoopbackClient c = stream(gw, "/v1/chat/completions", chat("m", true));
  const std::string& body = c.streamed_body();
  EXPECT_EQ(body.find(kKey), std::string::npos) << body;
  EXPECT_NE(body.find("key [redacted key sk-t...0111] revoked"), std::string::npos) << body;
}

TEST(HostileUpstreamTest, ForwardedClientKeyIsRedactedFromTheRelayedErrorBody) {
  constexpr std::string_view kClientKey = "sk-client-own-key-987654321";
  RawUpstream b([&](RawUpstream::Exchange& x) {
    x.write(RawUpstream::json_response(
        401, R"({"error":{"message":"Incorrect API key provided: )" + std::string(kClientKey) +
                 R"(","type":"invalid_request_error","code":"invalid_api_key"}})"));
  });
  RuntimeOptions options;
  options.forward_client_key_providers = {"b"};
  GatewayHarness gw(R"(
providers:
  b: {kind: openai, base_url: "${B}/v1"}
models:
  m: {deployments: [{provider: b, model: gpt-4o}]}
)",
                    {{"B", b.url()}}, options);
  ASSERT_TRUE(gw.ok());
  LoopbackClient c = gw.client();
  LoopbackClient::Request request =
      c.make_request(http::verb::post, "/v1/chat/completions", chat("m"));
  request.set(http::field::authorization, "Bearer " + std::string(kClientKey));
  const auto reply = c.request(std::move(request));
  EXPECT_EQ(reply.status(), 401) << reply.body();
  EXPECT_EQ(reply.body().find(kClientKey), std::string::npos) << reply.body();
  EXPECT_NE(reply.body().find("[redacted key sk-c...4321]"), std::string::npos) << reply.body();
}

// Issue 10: "Error messages name internal upstream addresses (connect 127.0.0.1:8000:
// Connection refused)". The client sees the deployment; the log keeps the address.
TEST(HostileUpstreamTest, ConnectFailureNamesTheDeploymentNotTheAddress) {
  uint16_t closed_port = 0;
  {
    RawUpstream probe(good());
    closed_port = probe.port();
  }
  const std::string url = "http://127.0.0.1:" + std::to_string(closed_port);
  GatewayHarness gw(yaml(), {{"A", url}, {"B", url}});
  ASSERT_TRUE(gw.ok());
  const auto reply = gw.post("/v1/chat/completions", chat("m"));
  EXPECT_EQ(reply.status(), 502) << reply.body();
  const std::string message(error_of(reply.body()).at("message").as_string());
  EXPECT_EQ(message.find("127.0.0.1"), std::string::npos) << message;
  EXPECT_EQ(message.find(std::to_string(closed_port)), std::string::npos) << message;
  EXPECT_NE(message.find("'a/gpt-4o'"), std::string::npos) << message;
  EXPECT_NE(message.find("connect_failed"), std::string::npos) << message;
  EXPECT_TRUE(logged(gw, "127.0.0.1:" + std::to_string(closed_port)));
}

}  // namespace
}  // namespace sheepdog::gateway::testing
