// Runtime::build and unset keys (issue 10): a model whose every provider lost its keys to unset
// variables is kept as unavailable (answered 503, not 404), and when no model at all is left
// the build error names the variables to set: the one decision check-config and serve share.
#include <gtest/gtest.h>

#include "config/loader.h"
#include "gateway/quick_config.h"
#include "gateway/runtime.h"

namespace sheepdog::gateway {
namespace {

config::Config load(std::string_view yaml) {
  config::LoadOptions options;
  options.env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "SET_KEY") {
      return "sk-set";
    }
    return std::nullopt;
  };
  config::LoadResult loaded = config::load_config_string(yaml, "t.yaml", options);
  EXPECT_TRUE(loaded.ok()) << loaded.errors.front().to_string();
  return loaded.ok() ? *loaded.config : config::Config{};
}

TEST(RuntimeUnavailableTest, AModelWithoutKeysIsUnavailableNotUnknown) {
  const config::Config config = load(R"(
providers:
  local: {kind: openai, base_url: "http://127.0.0.1:1/v1", api_keys: ["${SET_KEY}"]}
  openai: {kind: openai, base_url: "https://api.openai.com/v1", api_keys: ["${OPENAI_API_KEY}"]}
  claude: {kind: anthropic, base_url: "https://api.anthropic.com/v1",
           api_keys: ["${ANTHROPIC_API_KEY}", "${ANTHROPIC_API_KEY}"]}
models:
  served: {deployments: [{provider: local, model: x}]}
  gpt-4o: {deployments: [{provider: openai, model: gpt-4o}, {provider: claude, model: c}]}
  mixed: {deployments: [{provider: openai, model: gpt-4o}, {provider: local, model: x}]}
)");
  ManualClock clock;
  BuildResult built = Runtime::build(config, {}, clock);
  ASSERT_TRUE(built.runtime) << built.errors.front();
  EXPECT_TRUE(built.warnings.empty()) << built.warnings.front();  // the loader warned already
  const Runtime& rt = *built.runtime;
  EXPECT_EQ(rt.resolve("gpt-4o"), nullptr);
  const UnavailableAlias* missing = rt.unavailable("gpt-4o");
  ASSERT_NE(missing, nullptr);
  EXPECT_EQ(missing->variables, (std::vector<std::string>{"OPENAI_API_KEY", "ANTHROPIC_API_KEY"}));
  EXPECT_EQ(missing->providers, (std::vector<std::string>{"openai", "claude"}));
  // Served models, and a model that still has a deployment with a key, are not unavailable.
  EXPECT_EQ(rt.unavailable("served"), nullptr);
  EXPECT_EQ(rt.unavailable("mixed"), nullptr);
  ASSERT_NE(rt.find("mixed"), nullptr);
  EXPECT_EQ(rt.find("mixed")->deployments.size(), 1u);
  EXPECT_EQ(rt.unavailable("unknown"), nullptr);
}

TEST(RuntimeUnavailableTest, NoModelLeftIsAnErrorNamingTheVariable) {
  // The exact repro: a provider whose only key is an unset variable. check-config runs this same
  // build, so it now fails where serve refuses to start.
  const config::Config config = load(R"(
providers:
  openai: {kind: openai, base_url: "https://api.openai.com/v1", api_keys: ["${OPENAI_API_KEY}"]}
models:
  gpt-4o: {deployments: [{provider: openai, model: gpt-4o}]}
)");
  ManualClock clock;
  BuildResult built = Runtime::build(config, {}, clock);
  EXPECT_FALSE(built.runtime);
  ASSERT_EQ(built.errors.size(), 1u);
  EXPECT_EQ(built.errors[0],
            "no model alias can be served: no provider has an API key; set OPENAI_API_KEY (see "
            "the warnings above)");
}

TEST(RuntimeUnavailableTest, QuickStartForwardsTheClientKeyToTheFirstUpstreamOnly) {
  QuickStartOptions options;
  options.upstreams = {"https://api.openai.com/v1", "http://127.0.0.1:8000/v1",
                       "http://127.0.0.1:8001/v1"};
  options.upstream_keys = {"", "", "sk-local"};
  auto made = quick_start_config(options);
  ASSERT_TRUE(std::holds_alternative<QuickStart>(made)) << std::get<std::string>(made);
  const QuickStart& quick = std::get<QuickStart>(made);
  EXPECT_EQ(quick.runtime.forward_client_key_providers, std::vector<std::string>{"upstream1"});
  EXPECT_EQ(quick.auth, (std::vector<UpstreamAuth>{UpstreamAuth::kClientKey, UpstreamAuth::kNone,
                                                   UpstreamAuth::kOwnKey}));
  ASSERT_EQ(quick.config.providers[2].api_keys.size(), 1u);
  EXPECT_EQ(quick.config.providers[2].api_keys[0].key, "sk-local");
  EXPECT_TRUE(quick.config.providers[1].api_keys.empty());

  // --forward-client-key: every upstream without a key of its own, never one with a key.
  options.forward_client_key = true;
  made = quick_start_config(options);
  const QuickStart& all = std::get<QuickStart>(made);
  EXPECT_EQ(all.runtime.forward_client_key_providers,
            (std::vector<std::string>{"upstream1", "upstream2"}));
  // A key for every upstream (given before the first --upstream): nothing is forwarded.
  options.upstream_keys = {};
  options.api_key = "sk-all";
  made = quick_start_config(options);
  EXPECT_TRUE(std::get<QuickStart>(made).runtime.forward_client_key_providers.empty());
  // A key with a line break would split the request's headers.
  options.api_key = "sk-all\n";
  EXPECT_TRUE(std::holds_alternative<std::string>(quick_start_config(options)));
}

TEST(RuntimeUnavailableTest, SeenModelsAreBoundedAndPlausible) {
  SeenModels seen(2);
  seen.record("b");
  seen.record("a");
  seen.record("a");
  seen.record("c");  // over capacity: dropped
  seen.record("");
  seen.record("x\ny");
  seen.record(std::string(SeenModels::kMaxNameBytes + 1, 'z'));
  EXPECT_EQ(seen.names(), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(seen.contains("a"));
  EXPECT_FALSE(seen.contains("c"));
}

}  // namespace
}  // namespace sheepdog::gateway
