// Replacing a running gateway's configuration (gateway/reload.h, what `serve` does on SIGHUP):
// a new model is served at once and a removed one is gone; a configuration whose runtime does
// not build changes nothing; a request that started before the reload finishes on the old
// runtime, which is freed afterwards; the idempotency store carries over; settings the HTTP
// server fixed at start are reported, not applied.
#include <gtest/gtest.h>

#include <future>

#include "gateway/reload.h"
#include "support/raw_upstream.h"
#include "integration/gateway/gateway_harness.h"

namespace sheepdog::gateway::testing {
namespace {

using sheepdog::testing::RawUpstream;

constexpr std::string_view kCompletion =
    R"({"id":"c1","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,)"
    R"("message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],)"
    R"("usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}})";

RawUpstream::Handler good() {
  return [](RawUpstream::Exchange& x) { x.write(RawUpstream::json_response(200, kCompletion)); };
}

// Providers a and b; `models` is the models: section's body.
std::string yaml(std::string_view models) {
  return std::string(R"(
providers:
  a: {kind: openai, base_url: "${A}/v1"}
  b: {kind: openai, base_url: "${B}/v1"}
policies:
  default:
    max_attempts: 1
    timeouts: {attempt: 5s, total: 10s}
models:
)") + std::string(models);
}

config::Config load(std::string_view text, const std::map<std::string, std::string>& env) {
  config::LoadResult loaded = load_test_config(text, env);
  return loaded.ok() ? *loaded.config : config::Config{};
}

class ReloadTest : public ::testing::Test {
 protected:
  ReloadOutcome reload(std::string_view models, config::ServerConfig running = {}) {
    const config::Config next = load(yaml(models), env_);
    return reload_runtime(gw_->gateway(), running, next, RuntimeOptions{}, clock_);
  }
  void start(std::string_view models) {
    gw_ = std::make_unique<GatewayHarness>(yaml(models), env_);
    ASSERT_TRUE(gw_->ok());
  }

  RawUpstream a_{good()};
  RawUpstream b_{good()};
  std::map<std::string, std::string> env_{{"A", a_.url()}, {"B", b_.url()}};
  SteadyClock clock_;
  std::unique_ptr<GatewayHarness> gw_;
};

TEST_F(ReloadTest, ANewModelIsServedAndARemovedOneIsGone) {
  start("  old: {deployments: [{provider: a, model: gpt-4o}]}\n");
  EXPECT_EQ(gw_->post("/v1/chat/completions", chat("old")).status(), 200);
  EXPECT_EQ(gw_->post("/v1/chat/completions", chat("new")).status(), 404);

  const ReloadOutcome outcome = reload("  new: {deployments: [{provider: b, model: gpt-4o}]}\n");
  ASSERT_TRUE(outcome.applied);
  EXPECT_TRUE(outcome.errors.empty());
  EXPECT_EQ(outcome.models, 1u);

  const auto served = gw_->post("/v1/chat/completions", chat("new"));
  EXPECT_EQ(served.status(), 200) << served.body();
  EXPECT_EQ(header(served.response, "x-sheepdog-deployment"), "b/gpt-4o");
  EXPECT_EQ(gw_->post("/v1/chat/completions", chat("old")).status(), 404);
  EXPECT_EQ(b_.calls(), 1);
  EXPECT_EQ(a_.calls(), 1);
}

TEST_F(ReloadTest, AConfigurationThatDoesNotBuildChangesNothing) {
  start("  m: {deployments: [{provider: a, model: gpt-4o}]}\n");
  const std::shared_ptr<Runtime> before = gw_->gateway().current();
  // It loads (the keys are dropped with warnings) but does not build: the operator switched
  // provider c to a variable this process does not have, and c serves the only model.
  const config::Config next = load(R"(
providers:
  c: {kind: openai, base_url: "${A}/v1", api_keys: ["${RELOAD_TEST_UNSET_KEY}"]}
models:
  m2: {deployments: [{provider: c, model: gpt-4o}]}
)",
                                   env_);
  const ReloadOutcome outcome =
      reload_runtime(gw_->gateway(), config::ServerConfig{}, next, RuntimeOptions{}, clock_);
  EXPECT_FALSE(outcome.applied);
  ASSERT_FALSE(outcome.errors.empty());
  EXPECT_NE(outcome.errors[0].find("RELOAD_TEST_UNSET_KEY"), std::string::npos)
      << outcome.errors[0];
  EXPECT_EQ(gw_->gateway().current(), before);
  EXPECT_EQ(gw_->post("/v1/chat/completions", chat("m")).status(), 200);
  EXPECT_EQ(gw_->post("/v1/chat/completions", chat("m2")).status(), 404);
}

TEST_F(ReloadTest, ARunningRequestFinishesOnTheOldRuntimeWhichIsThenFreed) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  RawUpstream slow([released](RawUpstream::Exchange& x) {
    released.wait();
    x.write(RawUpstream::json_response(200, kCompletion));
  });
  env_["A"] = slow.url();
  start("  m: {deployments: [{provider: a, model: gpt-4o}]}\n");
  std::weak_ptr<Runtime> old = gw_->gateway().current();

  auto in_flight =
      std::async(std::launch::async, [&] { return gw_->post("/v1/chat/completions", chat("m")); });
  ASSERT_TRUE(eventually([&] { return slow.calls() == 1; }));
  ASSERT_TRUE(reload("  m: {deployments: [{provider: b, model: gpt-4o}]}\n").applied);
  EXPECT_FALSE(old.expired());  // the running request holds it

  const auto after = gw_->post("/v1/chat/completions", chat("m"));
  EXPECT_EQ(header(after.response, "x-sheepdog-deployment"), "b/gpt-4o");
  release.set_value();
  const auto first = in_flight.get();
  EXPECT_EQ(first.status(), 200) << first.body();
  EXPECT_EQ(header(first.response, "x-sheepdog-deployment"), "a/gpt-4o");

  // The next request on the io thread drops the idle executor, and with it the old runtime.
  EXPECT_EQ(gw_->post("/v1/chat/completions", chat("m")).status(), 200);
  EXPECT_TRUE(eventually([&] { return old.expired(); }));
}

TEST_F(ReloadTest, TheIdempotencyStoreCarriesOver) {
  start("  m: {deployments: [{provider: a, model: gpt-4o}]}\n");
  auto post_with_key = [&](std::string_view key) {
    LoopbackClient c = gw_->client();
    LoopbackClient::Request request =
        c.make_request(http::verb::post, "/v1/chat/completions", chat("m"));
    request.set("idempotency-key", key);
    return c.request(std::move(request));
  };
  ASSERT_EQ(post_with_key("order-1").status(), 200);
  ASSERT_TRUE(reload("  m: {deployments: [{provider: b, model: gpt-4o}]}\n").applied);
  const auto again = post_with_key("order-1");
  EXPECT_EQ(again.status(), 200);
  EXPECT_EQ(header(again.response, "x-sheepdog-idempotent-replay"), "true");
  EXPECT_EQ(b_.calls(), 0);
}

TEST_F(ReloadTest, ServerSettingsFixedAtStartAreReportedNotApplied) {
  start("  m: {deployments: [{provider: a, model: gpt-4o}]}\n");
  config::ServerConfig running = gw_->runtime().server();
  config::Config next = load(yaml("  m: {deployments: [{provider: a, model: gpt-4o}]}\n"), env_);
  next.server.port = static_cast<uint16_t>(running.port + 1);
  next.server.max_body_bytes = running.max_body_bytes * 2;
  next.server.api_keys = {"sk-gw-new"};
  const ReloadOutcome outcome =
      reload_runtime(gw_->gateway(), running, next, RuntimeOptions{}, clock_);
  ASSERT_TRUE(outcome.applied);
  EXPECT_EQ(outcome.needs_restart,
            (std::vector<std::string>{"server.port", "server.max_body_bytes"}));
  EXPECT_EQ(gw_->runtime().server().port, running.port);
  EXPECT_EQ(gw_->runtime().server().max_body_bytes, running.max_body_bytes);
  // What the runtime itself checks does change: the gateway's own keys.
  EXPECT_EQ(gw_->post("/v1/chat/completions", chat("m")).status(), 401);
}

}  // namespace
}  // namespace sheepdog::gateway::testing
