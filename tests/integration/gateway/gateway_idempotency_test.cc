// Idempotency keys through the whole gateway on loopback: a repeat is answered from the store
// and never reaches the upstream (the mock's counters prove it), a concurrent duplicate waits
// for the first and gets its answer, a different body under the same key is a 422, streams are
// replayed event for event, failures the client would retry are not stored, keys are scoped by
// client credential and expire after the configured TTL.
#include <gtest/gtest.h>

#include <atomic>

#include <future>

#include "gateway_harness.h"

namespace sheepdog::gateway::testing {
namespace {

using mock::Outcome;

constexpr std::string_view kConfig = R"(
server:
  api_keys: ["client-one-key-0001", "client-two-key-0002"]
  idempotency: {ttl: 300ms}
providers:
  a: {kind: openai, base_url: "${A}/v1", api_keys: ["sk-test-aaaa-1111"]}
policies:
  default:
    max_attempts: 1
    timeouts: {attempt: 5s, total: 5s}
models:
  m:
    deployments: [{provider: a, model: gpt-4o-mini}]
)";

LoopbackClient::Reply post_with_key(GatewayHarness& gw, std::string_view key, std::string body,
                                    std::string_view client = "client-one-key-0001") {
  LoopbackClient c = gw.client();
  LoopbackClient::Request request =
      c.make_request(http::verb::post, "/v1/chat/completions", std::move(body));
  request.set(http::field::authorization, "Bearer " + std::string(client));
  request.set("Idempotency-Key", key);
  return c.request(std::move(request));
}

class GatewayIdempotencyTest : public ::testing::Test {
 protected:
  void start(const std::function<void(mock::MockConfig&)>& configure = {}) {
    mock_ = start_mock(1, configure);
    gw_ = std::make_unique<GatewayHarness>(kConfig,
                                           std::map<std::string, std::string>{{"A", mock_->url()}});
    ASSERT_TRUE(gw_->ok());
  }
  std::string metric(std::string_view outcome) {
    const std::string text = gw_->get("/metrics").body();
    const std::string name =
        R"(sheepdog_idempotent_requests_total{outcome=")" + std::string(outcome) + R"("} )";
    const size_t at = text.find(name);
    return at == std::string::npos
               ? "absent"
               : text.substr(at + name.size(), text.find('\n', at) - at - name.size());
  }

  std::unique_ptr<mock::MockServer> mock_;
  std::unique_ptr<GatewayHarness> gw_;
};

TEST_F(GatewayIdempotencyTest, ARepeatIsReplayedAndNeverReachesTheUpstream) {
  start();
  const auto first = post_with_key(*gw_, "order-1", chat("m"));
  ASSERT_EQ(first.status(), 200) << first.body();
  EXPECT_EQ(header(first.response, "x-sheepdog-idempotent-replay"), "");
  const auto again = post_with_key(*gw_, "order-1", chat("m"));
  ASSERT_EQ(again.status(), 200) << again.body();
  EXPECT_EQ(again.body(), first.body());
  EXPECT_EQ(header(again.response, "x-sheepdog-idempotent-replay"), "true");
  EXPECT_EQ(header(again.response, "x-request-id"), header(first.response, "x-request-id"));
  EXPECT_EQ(header(again.response, "x-sheepdog-deployment"), "a/gpt-4o-mini");
  EXPECT_EQ(upstream_calls(*mock_), 1u);
  // Without the header, the same body runs again.
  LoopbackClient c = gw_->client();
  LoopbackClient::Request plain =
      c.make_request(http::verb::post, "/v1/chat/completions", chat("m"));
  plain.set(http::field::authorization, "Bearer client-one-key-0001");
  EXPECT_EQ(c.request(std::move(plain)).status(), 200);
  EXPECT_EQ(upstream_calls(*mock_), 2u);
  EXPECT_EQ(metric("executed"), "1");
  EXPECT_EQ(metric("replayed"), "1");
}

TEST_F(GatewayIdempotencyTest, TheSameKeyWithAnotherBodyIs422) {
  start();
  ASSERT_EQ(post_with_key(*gw_, "order-2", chat("m")).status(), 200);
  const auto other = post_with_key(
      *gw_, "order-2", R"({"model":"m","messages":[{"role":"user","content":"Different."}]})");
  EXPECT_EQ(other.status(), 422) << other.body();
  const json::object error = json::parse(other.body()).at("error").as_object();
  EXPECT_EQ(error.at("type").as_string(), "invalid_request_error");
  EXPECT_EQ(error.at("code").as_string(), "idempotency_key_reused");
  EXPECT_NE(error.at("message").as_string().find("order-2"), std::string_view::npos);
  EXPECT_EQ(upstream_calls(*mock_), 1u);
  EXPECT_EQ(metric("conflict"), "1");
}

TEST_F(GatewayIdempotencyTest, AConcurrentDuplicateWaitsForTheFirstAndGetsItsAnswer) {
  start([](mock::MockConfig& c) { c.defaults.latency = {milliseconds(400), milliseconds(400)}; });
  auto first =
      std::async(std::launch::async, [&] { return post_with_key(*gw_, "o-3", chat("m")); });
  // The duplicate goes once the first is running upstream.
  ASSERT_TRUE(eventually([&] { return mock_->stats().snapshot().total == 1; }));
  const auto duplicate = post_with_key(*gw_, "o-3", chat("m"));
  const auto original = first.get();
  ASSERT_EQ(original.status(), 200) << original.body();
  ASSERT_EQ(duplicate.status(), 200) << duplicate.body();
  EXPECT_EQ(duplicate.body(), original.body());
  EXPECT_EQ(header(duplicate.response, "x-sheepdog-idempotent-replay"), "true");
  EXPECT_EQ(upstream_calls(*mock_), 1u);
  EXPECT_EQ(metric("waited"), "1");
}

TEST_F(GatewayIdempotencyTest, AStreamIsReplayedEventForEvent) {
  start();
  const auto first = post_with_key(*gw_, "s-1", chat("m", /*stream=*/true));
  ASSERT_EQ(first.status(), 200) << first.body();
  ASSERT_NE(first.body().find("data: [DONE]"), std::string::npos);
  const auto again = post_with_key(*gw_, "s-1", chat("m", /*stream=*/true));
  ASSERT_EQ(again.status(), 200);
  EXPECT_EQ(again.body(), first.body());
  EXPECT_EQ(header(again.response, "content-type"), "text/event-stream");
  EXPECT_EQ(header(again.response, "x-sheepdog-idempotent-replay"), "true");
  EXPECT_EQ(upstream_calls(*mock_), 1u);
}

TEST_F(GatewayIdempotencyTest, FailuresTheClientWouldRetryAreNotStored) {
  start();
  mock_->planner().set_script(std::nullopt, {Outcome::kServerError});
  const auto failed = post_with_key(*gw_, "f-1", chat("m"));
  EXPECT_EQ(failed.status(), 502) << failed.body();
  const auto retried = post_with_key(*gw_, "f-1", chat("m"));
  EXPECT_EQ(retried.status(), 200) << retried.body();
  EXPECT_EQ(header(retried.response, "x-sheepdog-idempotent-replay"), "");
  EXPECT_EQ(upstream_calls(*mock_), 2u);
  // A broken stream is not kept either.
  mock_->planner().set_script(std::nullopt, {Outcome::kTruncatedStream});
  const auto truncated = post_with_key(*gw_, "f-2", chat("m", /*stream=*/true));
  EXPECT_EQ(truncated.body().find("data: [DONE]"), std::string::npos);
  const auto whole = post_with_key(*gw_, "f-2", chat("m", /*stream=*/true));
  EXPECT_NE(whole.body().find("data: [DONE]"), std::string::npos);
  EXPECT_EQ(header(whole.response, "x-sheepdog-idempotent-replay"), "");
  EXPECT_EQ(upstream_calls(*mock_), 4u);
}

TEST_F(GatewayIdempotencyTest, KeysAreScopedByClientCredential) {
  start();
  ASSERT_EQ(post_with_key(*gw_, "shared", chat("m"), "client-one-key-0001").status(), 200);
  const auto other = post_with_key(*gw_, "shared", chat("m"), "client-two-key-0002");
  EXPECT_EQ(other.status(), 200);
  EXPECT_EQ(header(other.response, "x-sheepdog-idempotent-replay"), "");
  EXPECT_EQ(upstream_calls(*mock_), 2u);
}

TEST_F(GatewayIdempotencyTest, AnswersExpireAfterTheConfiguredTtl) {
  start();
  ASSERT_EQ(post_with_key(*gw_, "t-1", chat("m")).status(), 200);
  EXPECT_EQ(header(post_with_key(*gw_, "t-1", chat("m")).response, "x-sheepdog-idempotent-replay"),
            "true");
  // server.idempotency.ttl is 300 ms: within a few seconds the key runs again.
  EXPECT_TRUE(eventually([&] {
    const auto reply = post_with_key(*gw_, "t-1", chat("m"));
    return reply.status() == 200 && header(reply.response, "x-sheepdog-idempotent-replay").empty();
  }));
  EXPECT_EQ(upstream_calls(*mock_), 2u);
}

TEST_F(GatewayIdempotencyTest, AMalformedKeyIs400) {
  start();
  const auto spaced = post_with_key(*gw_, "has space", chat("m"));
  EXPECT_EQ(spaced.status(), 400);
  EXPECT_EQ(json::parse(spaced.body()).at("error").at("code").as_string(),
            "invalid_idempotency_key");
  EXPECT_EQ(post_with_key(*gw_, std::string(256, 'k'), chat("m")).status(), 400);
  EXPECT_EQ(upstream_calls(*mock_), 0u);
}


// A store that fails as a shared one can (Redis down), overriding only what a test needs, as
// LevelDB's SpecialEnv does.
class FailingStore final : public IdempotencyStore {
 public:
  explicit FailingStore(bool fail_begin) : fail_begin_(fail_begin) {}
  boost::asio::awaitable<Begin> begin(std::string, uint64_t, TimePoint) override {
    ++begins;
    Begin b;
    if (fail_begin_) {
      b.verdict = Verdict::kUnavailable;
      b.error = "connection refused";
    }
    co_return b;
  }
  boost::asio::awaitable<Status> complete(std::string, StoredResponse, TimePoint) override {
    ++completes;
    co_return Status::error("connection reset");
  }
  boost::asio::awaitable<Status> abandon(std::string) override {
    co_return Status::error("connection reset");
  }
  std::atomic<int> begins{0};
  std::atomic<int> completes{0};

 private:
  const bool fail_begin_;
};

TEST_F(GatewayIdempotencyTest, AStoreThatCannotBeginIs503AndNothingRuns) {
  mock_ = start_mock(1);
  auto store = std::make_shared<FailingStore>(true);
  RuntimeOptions options;
  options.idempotency = store;
  gw_ = std::make_unique<GatewayHarness>(
      kConfig, std::map<std::string, std::string>{{"A", mock_->url()}}, options);
  ASSERT_TRUE(gw_->ok());
  const auto reply = post_with_key(*gw_, "k-down", chat("m"));
  EXPECT_EQ(reply.status(), 503) << reply.body();
  EXPECT_EQ(error_of(reply.body()).at("code").as_string(), "idempotency_store_unavailable");
  EXPECT_EQ(header(reply.response, "retry-after"), "1");
  EXPECT_EQ(upstream_calls(*mock_), 0u);  // running unprotected could run it twice
  EXPECT_EQ(store->begins, 1);
  EXPECT_EQ(metric("unavailable"), "1");
  // Without a key the request does not touch the store.
  LoopbackClient c = gw_->client();
  LoopbackClient::Request plain = c.make_request(http::verb::post, "/v1/chat/completions", chat("m"));
  plain.set(http::field::authorization, "Bearer client-one-key-0001");
  EXPECT_EQ(c.request(std::move(plain)).status(), 200);
  EXPECT_EQ(store->begins, 1);
}

TEST_F(GatewayIdempotencyTest, AStoreThatCannotKeepTheAnswerStillAnswersTheClient) {
  mock_ = start_mock(1);
  auto store = std::make_shared<FailingStore>(false);
  RuntimeOptions options;
  options.idempotency = store;
  gw_ = std::make_unique<GatewayHarness>(
      kConfig, std::map<std::string, std::string>{{"A", mock_->url()}}, options);
  ASSERT_TRUE(gw_->ok());
  const auto reply = post_with_key(*gw_, "k-flaky", chat("m"));
  EXPECT_EQ(reply.status(), 200) << reply.body();
  // The answer reaches the client before the stage tries to keep it.
  EXPECT_TRUE(eventually([&] { return store->completes.load() == 1; }));
  EXPECT_TRUE(eventually([&] {
    for (const std::string& line : gw_->log_lines()) {
      if (line.find("idempotency_store_failed") != std::string::npos &&
          line.find("connection reset") != std::string::npos) {
        return true;
      }
    }
    return false;
  }));
}

}  // namespace
}  // namespace sheepdog::gateway::testing
