// The configurations `sheepdog serve` makes without a file: the quick start and the demo.
#include "gateway/quick_config.h"

#include <gtest/gtest.h>

#include "runtime_fixture.h"

namespace sheepdog::gateway {
namespace {

TEST(QuickConfigTest, QuickStartPassesEveryModelThroughInOrder) {
  QuickStartOptions options;
  options.port = 9999;
  options.upstreams = {"http://127.0.0.1:8000/v1/", "https://api.example.com"};
  auto made = quick_start_config(options);
  ASSERT_TRUE(std::holds_alternative<QuickStart>(made)) << std::get<std::string>(made);
  const QuickStart& quick = std::get<QuickStart>(made);
  ASSERT_EQ(quick.config.providers.size(), 2u);
  EXPECT_EQ(quick.config.providers[0].base_url, "http://127.0.0.1:8000/v1");
  EXPECT_EQ(quick.config.providers[1].base_url, "https://api.example.com/v1");
  EXPECT_EQ(quick.config.server.port, 9999);
  EXPECT_EQ(quick.runtime.passthrough_alias, "*");
  // Issue 10: the client's key goes to the first upstream only, not to the failover one.
  EXPECT_EQ(quick.runtime.forward_client_key_providers, std::vector<std::string>{"upstream1"});

  ManualClock clock;
  BuildResult built = Runtime::build(quick.config, quick.runtime, clock);
  ASSERT_TRUE(built.runtime) << built.errors.front();
  bool passthrough = false;
  const Alias* alias = built.runtime->resolve("any-model-name", &passthrough);
  ASSERT_NE(alias, nullptr);
  EXPECT_TRUE(passthrough);
  EXPECT_EQ(alias->router.policy().strategy, RoutingStrategy::kOrdered);
  ASSERT_EQ(alias->deployments.size(), 2u);
  EXPECT_EQ(alias->deployments[0]->name, "upstream1/*");
  EXPECT_TRUE(alias->deployments[0]->upstream_model.empty());
  EXPECT_TRUE(alias->deployments[1]->target.origin.tls);
  EXPECT_EQ(alias->deployments[1]->target.base_path, "/v1");
}

TEST(QuickConfigTest, QuickStartWithAKeySendsIt) {
  QuickStartOptions options;
  options.upstreams = {"http://127.0.0.1:8000/v1"};
  options.api_key = "sk-quick";
  auto made = quick_start_config(options);
  ASSERT_TRUE(std::holds_alternative<QuickStart>(made));
  const QuickStart& quick = std::get<QuickStart>(made);
  ASSERT_EQ(quick.config.providers[0].api_keys.size(), 1u);
  EXPECT_EQ(quick.config.providers[0].api_keys[0].key, "sk-quick");
  EXPECT_TRUE(quick.runtime.forward_client_key_providers.empty());
}

TEST(QuickConfigTest, QuickStartRejectsUnusableUrls) {
  for (const char* url : {"ftp://x/v1", "not a url", "http://127.0.0.1:8000/v1?x=1"}) {
    QuickStartOptions options;
    options.upstreams = {url};
    auto made = quick_start_config(options);
    ASSERT_TRUE(std::holds_alternative<std::string>(made)) << url;
    EXPECT_NE(std::get<std::string>(made).find(url), std::string::npos);
  }
  EXPECT_TRUE(std::holds_alternative<std::string>(quick_start_config({})));
}

TEST(QuickConfigTest, DemoConfigLoadsAndBuilds) {
  config::LoadResult loaded =
      demo_config({"http://127.0.0.1:1001", "http://127.0.0.1:1002"}, "", 8123);
  ASSERT_TRUE(loaded.ok()) << loaded.errors.front().to_string();
  EXPECT_EQ(loaded.config->server.port, 8123);
  ManualClock clock;
  BuildResult built = Runtime::build(*loaded.config, {}, clock);
  ASSERT_TRUE(built.runtime);
  const Alias* mini = built.runtime->find("gpt-4o-mini");
  ASSERT_NE(mini, nullptr);
  EXPECT_EQ(mini->deployments[0]->target.origin.port, 1001);
  EXPECT_EQ(mini->deployments[1]->target.origin.port, 1002);
  ASSERT_EQ(built.runtime->find("gpt-4o")->fallbacks.size(), 1u);
  EXPECT_EQ(built.runtime->find("gpt-4o")->fallbacks[0], mini);
  EXPECT_NE(built.runtime->find("text-embedding-3-small"), nullptr);
}

TEST(QuickConfigTest, DemoWithAnOpenAIKeyRoutesToOpenAI) {
  config::LoadResult loaded = demo_config({}, "sk-real", 8080);
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded.config->providers.size(), 1u);
  EXPECT_EQ(loaded.config->providers[0].base_url, "https://api.openai.com/v1");
  EXPECT_EQ(loaded.config->providers[0].api_keys[0].key, "sk-real");
}

TEST(RuntimeBuildTest, SharesDeploymentsAcrossAliasesAndServesEveryKind) {
  ManualClock clock;
  auto runtime = testing::build_runtime(R"(
providers:
  a: {kind: openai, base_url: "http://127.0.0.1:1/v1"}
  c: {kind: anthropic, base_url: "https://api.anthropic.com/v1"}
models:
  x:
    deployments: [{provider: a, model: m1}, {provider: c, model: claude}]
  y:
    deployments: [{provider: a, model: m1}]
    fallbacks: [z]
  z:
    deployments: [{provider: c, model: claude}]
)",
                                        clock);
  ASSERT_TRUE(runtime);
  ASSERT_EQ(runtime->deployments().size(), 2u);  // a/m1 shared by x and y; c/claude by x and z
  EXPECT_EQ(runtime->find("x")->deployments[0], runtime->find("y")->deployments[0]);
  EXPECT_EQ(runtime->find("x")->deployments[1], runtime->find("z")->deployments[0]);
  EXPECT_EQ(runtime->find("x")->deployments[0]->provider->kind(), "openai");
  EXPECT_EQ(runtime->find("z")->deployments[0]->provider->kind(), "anthropic");
  ASSERT_EQ(runtime->find("y")->fallbacks.size(), 1u);
  EXPECT_EQ(runtime->find("y")->fallbacks[0], runtime->find("z"));
  EXPECT_EQ(runtime->resolve("nope"), nullptr);
}

}  // namespace
}  // namespace sheepdog::gateway
