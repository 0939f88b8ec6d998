// The whole request path (stages, the attempt loop's interpreter, attempts, streaming relay) on
// one thread with a scripted upstream and virtual time: what the gateway waits, whom it calls
// and when, asserted exactly. The same paths run over loopback in tests/integration/gateway.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <memory>
#include <string>

#include "gateway/executor.h"
#include "gateway/idempotency_stage.h"
#include "telemetry/prometheus.h"
#include "support/recording_sink.h"
#include "support/scripted_upstream.h"
#include "support/virtual_timer.h"
#include "unit/gateway/runtime_fixture.h"

namespace sheepdog::gateway::testing {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using sheepdog::testing::RecordingSink;
using sheepdog::testing::ScriptedReply;
using sheepdog::testing::ScriptedUpstream;
using sheepdog::testing::VirtualTimer;
using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::string_view kAnswer =
    R"({"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-mini",)"
    R"("choices":[{"index":0,"message":{"role":"assistant","content":"hi"},)"
    R"("finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":2,)"
    R"("total_tokens":7}})";

constexpr std::string_view kTwoDeployments = R"(
providers:
  a: {kind: openai, base_url: "http://a.test/v1", api_keys: ["sk-test-aaaa-1111"]}
  b: {kind: openai, base_url: "http://b.test/v1", api_keys: ["sk-test-bbbb-2222"]}
policies:
  default:
    max_attempts: 4
    timeouts: {attempt: 5s, total: 60s}
    backoff: {kind: exponential, base_delay: 100ms, max_delay: 10s, jitter: none}
    pushback: {max: 30s}
    circuit_breaker: {enabled: false}
models:
  m:
    deployments: [{provider: a, model: gpt-4o-mini}, {provider: b, model: gpt-4o-mini}]
  solo:
    deployments: [{provider: a, model: gpt-4o-mini}]
)";

class RequestPathTest : public ::testing::Test {
 protected:
  void start(std::string_view yaml, std::vector<std::string> ordered = {"m"}) {
    RuntimeOptions options;
    options.ordered_aliases = std::move(ordered);
    runtime_ = build_runtime(yaml, clock_, std::move(options));
    ASSERT_NE(runtime_, nullptr);
    executor_ = std::make_unique<Executor>(*runtime_, io_.get_executor(), 7,
                                           ExecutorSeams{&upstream_, &timer_});
  }

  static GatewayRequest chat(std::string model = "m", bool stream = false,
                             std::string idempotency_key = {}) {
    GatewayRequest request;
    request.model = std::move(model);
    request.api = "openai";
    request.stream = stream;
    request.idempotency_key = std::move(idempotency_key);
    request.body = json::parse(stream ? R"({"model":"m","stream":true,"messages":[{"role":"user","content":"hello"}]})"
                                      : R"({"model":"m","messages":[{"role":"user","content":"hello"}]})")
                       .as_object();
    return request;
  }

  // Starts a request; the answer lands in `sink` once run() has run.
  void spawn(GatewayRequest request, RecordingSink& sink) {
    asio::co_spawn(io_, executor_->execute(std::move(request), sink), asio::detached);
  }
  // Runs everything spawned to its end on virtual time.
  void run() { timer_.run(); }
  void run_one(GatewayRequest request, RecordingSink& sink) {
    spawn(std::move(request), sink);
    run();
  }

  Duration since_start(TimePoint t) const { return t - TimePoint{}; }

  ManualClock clock_;
  asio::io_context io_;
  VirtualTimer timer_{io_, clock_};
  ScriptedUpstream upstream_{timer_, clock_};
  std::unique_ptr<Runtime> runtime_;
  std::unique_ptr<Executor> executor_;
};

TEST_F(RequestPathTest, ServerErrorsBackOffExactlyAsThePolicySays) {
  start(kTwoDeployments, {"m"});
  for (int i = 0; i < 3; ++i) {
    upstream_.push("a.test", ScriptedReply::json(500, R"({"error":{"message":"boom"}})"));
  }
  upstream_.push("a.test", ScriptedReply::json(200, std::string(kAnswer)));
  RecordingSink sink;
  run_one(chat("solo"), sink);
  ASSERT_TRUE(sink.answered);
  EXPECT_EQ(sink.head.status, 200) << sink.body;
  EXPECT_EQ(sink.header("x-sheepdog-attempts"), "4");
  // Exponential from 100 ms, no jitter: 100, 200, 400 ms between 100 ms attempts.
  EXPECT_EQ(timer_.waits, (std::vector<Duration>{milliseconds(100), milliseconds(100),
                                                 milliseconds(100), milliseconds(200),
                                                 milliseconds(100), milliseconds(400),
                                                 milliseconds(100)}));
  ASSERT_EQ(upstream_.calls.size(), 4u);
  EXPECT_EQ(since_start(upstream_.calls[3].at), milliseconds(1000));
  EXPECT_EQ(since_start(clock_.now()), milliseconds(1100));
}

TEST_F(RequestPathTest, ARateLimitsRetryAfterIsWaitedToTheMillisecond) {
  start(kTwoDeployments);
  ScriptedReply limited = ScriptedReply::json(429, R"({"error":{"message":"slow down"}})");
  limited.headers.emplace_back("retry-after-ms", "2500");
  upstream_.push("a.test", limited);
  upstream_.push("a.test", ScriptedReply::json(200, std::string(kAnswer)));
  RecordingSink sink;
  run_one(chat("solo"), sink);
  EXPECT_EQ(sink.head.status, 200) << sink.body;
  ASSERT_EQ(upstream_.calls.size(), 2u);
  // The first answer came at 100 ms; the retry goes exactly 2.5 s later, not a backoff step.
  EXPECT_EQ(since_start(upstream_.calls[1].at), milliseconds(2600));
}

TEST_F(RequestPathTest, AClientLeavingDuringBackoffEndsTheWaitAtOnce) {
  start(kTwoDeployments);
  ScriptedReply busy = ScriptedReply::json(503, R"({"error":{"message":"busy"}})");
  busy.headers.emplace_back("retry-after", "20");
  upstream_.push("a.test", busy);
  RecordingSink sink;
  spawn(chat("solo"), sink);
  asio::co_spawn(
      io_,
      [&]() -> asio::awaitable<void> {
        co_await timer_.wait(seconds(1));
        sink.leave();
      },
      asio::detached);
  run();
  EXPECT_EQ(upstream_.calls.size(), 1u);  // no retry after the client left
  EXPECT_FALSE(sink.answered);
  // The 20 s wait ended when the client left, at 1 s: nothing waited it out.
  EXPECT_EQ(since_start(clock_.now()), seconds(1));
}

TEST_F(RequestPathTest, RefusedCredentialsMoveToTheNextDeploymentAndRestTheKey) {
  start(kTwoDeployments);
  upstream_.push("a.test", ScriptedReply::json(401, R"({"error":{"message":"bad key"}})"));
  upstream_.push("b.test", ScriptedReply::json(200, std::string(kAnswer)));
  upstream_.push("b.test", ScriptedReply::json(200, std::string(kAnswer)));
  upstream_.push("a.test", ScriptedReply::json(200, std::string(kAnswer)));
  RecordingSink first;
  run_one(chat(), first);
  EXPECT_EQ(first.head.status, 200) << first.body;
  EXPECT_EQ(first.header("x-sheepdog-deployment"), "b/gpt-4o-mini");
  RecordingSink second;  // a's only key rests: straight to b
  run_one(chat(), second);
  EXPECT_EQ(second.header("x-sheepdog-deployment"), "b/gpt-4o-mini");
  clock_.advance(seconds(61));  // the rest is over: a is first again
  RecordingSink third;
  run_one(chat(), third);
  EXPECT_EQ(third.header("x-sheepdog-deployment"), "a/gpt-4o-mini");
  ASSERT_EQ(upstream_.calls.size(), 4u);
  EXPECT_EQ(upstream_.left("a.test") + upstream_.left("b.test"), 0u);
}

TEST_F(RequestPathTest, StreamsAskTheUpstreamForUsageAndHideItFromAClientThatDidNot) {
  start(kTwoDeployments);
  ScriptedReply stream;
  stream.headers = {{"content-type", "text/event-stream"}};
  stream.chunks = {
      {milliseconds(10),
       R"(data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini",)"
       R"("choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}],"usage":null})"
       "\n\n"},
      {milliseconds(10),
       R"(data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini",)"
       R"("choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null})"
       "\n\n"},
      {milliseconds(10),
       R"(data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini",)"
       R"("choices":[],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}})"
       "\n\n"},
      {milliseconds(10), "data: [DONE]\n\n"}};
  upstream_.push("a.test", stream);
  RecordingSink sink;
  run_one(chat("solo", /*stream=*/true), sink);
  ASSERT_EQ(upstream_.calls.size(), 1u);
  EXPECT_TRUE(upstream_.calls[0].stream);
  const json::object sent = json::parse(upstream_.calls[0].body).as_object();
  EXPECT_EQ(sent.at("stream_options").at("include_usage"), true);
  EXPECT_TRUE(sink.streamed);
  EXPECT_TRUE(sink.finished);
  EXPECT_NE(sink.body.find(R"("content":"hi")"), std::string::npos) << sink.body;
  EXPECT_EQ(sink.body.find("usage"), std::string::npos) << sink.body;
  EXPECT_NE(sink.body.find("data: [DONE]"), std::string::npos) << sink.body;
  // The tokens were known all the same.
  const std::string metrics = render_prometheus(runtime_->registry());
  EXPECT_NE(metrics.find(R"(sheepdog_tokens_total{model="solo",direction="prompt"} 5)"),
            std::string::npos)
      << metrics;
}

TEST_F(RequestPathTest, AnIdempotentDuplicateWaitsForTheFirstOnVirtualTimeAndReplaysIt) {
  start(kTwoDeployments);
  ScriptedReply slow = ScriptedReply::json(200, std::string(kAnswer));
  slow.latency = seconds(1);
  upstream_.push("a.test", slow);
  RecordingSink first;
  RecordingSink second;
  spawn(chat("solo", false, "key-1"), first);
  spawn(chat("solo", false, "key-1"), second);
  run();
  EXPECT_EQ(upstream_.calls.size(), 1u);
  EXPECT_EQ(first.head.status, 200);
  EXPECT_EQ(second.head.status, 200);
  EXPECT_EQ(second.body, first.body);
  EXPECT_EQ(second.header("x-sheepdog-idempotent-replay"), "true");
  // The duplicate polled every 20 ms until the first answered at 1 s.
  EXPECT_EQ(since_start(clock_.now()), seconds(1));
  size_t polls = 0;
  for (Duration d : timer_.waits) {
    polls += d == kIdempotencyPollInterval ? 1 : 0;
  }
  EXPECT_EQ(polls, 50u);
}

}  // namespace
}  // namespace sheepdog::gateway::testing
