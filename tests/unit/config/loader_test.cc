// A complete valid configuration decodes into exactly the typed values it spells, policies merge
// field by field in the documented order, and ${ENV} values come from the process environment.
#include "config/loader.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace sheepdog::config {
namespace {

constexpr char kComplete[] = R"(server:
  host: ${CFGTEST_HOST}
  port: 9090
  threads: 4
  max_body_bytes: 2MiB
  header_timeout: 5s
  idle_timeout: 2m
  max_connections: 500
  upstream_max_connections: 96
  drain_timeout: 0
  api_keys: ["${CFGTEST_MASTER}", "${CFGTEST_UNSET}"]
  idempotency: {ttl: 10m, in_progress_timeout: 2m, max_response_bytes: 256KiB}
providers:
  openai:
    kind: openai
    base_url: https://api.openai.com/v1/
    api_keys:
      - ${CFGTEST_OPENAI_KEY}
      - {key: sk-second, rpm: 500, tpm: 90000}
      - ${CFGTEST_UNSET}
    connect_timeout: 1500ms
    headers: {OpenAI-Organization: org-123, X-Origin: "${CFGTEST_HOST:-none}-${CFGTEST_UNSET:-x}"}
  claude:
    kind: anthropic
    base_url: http://127.0.0.1:9000
    ca_file: ca.pem
policies:
  default:
    max_attempts: 4
    timeouts: {attempt: 20s, total: 2m, first_token: 3s}
    backoff: {kind: linear, base_delay: 100ms, max_delay: 2s, multiplier: 3, jitter: proportional, jitter_fraction: 0.5}
    pushback: {honor: false, max: 10s}
    honor_should_retry_header: false
    prefer_other_deployment: false
    on: {rate_limited: fallback, content_filtered: fail}
    circuit_breaker:
      enabled: true
      consecutive_failures: 7
      failure_rate: 0.25
      window: time
      window_size: 50
      window_duration: 45s
      minimum_calls: 12
      open_duration: 2s
      open_duration_multiplier: 1.5
      max_open_duration: 90s
      half_open_probes: 2
      half_open_successes: 3
      failure_kinds: [server_error, timeout]
    retry_budget: {enabled: false, max_tokens: 50, token_ratio: 0.5, concurrency_cap: true, budget_percent: 25, min_retry_concurrency: 5}
    tool_validation: {enabled: false, mode: resample, max_retries: 4, streams: false}
  strict:
    max_attempts: 1
    timeouts: {attempt: 10s}
    on: {server_error: fail}
models:
  gpt-4o:
    deployments:
      - {provider: openai, model: gpt-4o, weight: 3}
      - {provider: claude, model: claude-x, weight: 0.5}
    routing: {strategy: canary, canary: {deployment: 1, percent: 5, sticky_by: "header:X-User-Id"}, ewma_alpha: 0.5}
    fallbacks: [mini]
    context_window_fallback: big
    policy: strict
    overrides: {max_attempts: 2, backoff: {max_delay: 4s}, on: {timeout: fail}}
  mini:
    deployments: [{provider: openai, model: gpt-4o-mini}]
    routing: {strategy: least_latency}
  big:
    deployments: [{provider: openai, model: gpt-4.1}]
    policy: strict
)";

class ConfigLoaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("CFGTEST_HOST", "0.0.0.0", 1);
    ::setenv("CFGTEST_MASTER", "sk-master", 1);
    ::setenv("CFGTEST_OPENAI_KEY", "sk-first", 1);
    ::unsetenv("CFGTEST_UNSET");
    dir_ = std::filesystem::temp_directory_path() /
           ("sheepdog_config_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "ca.pem") << "-----BEGIN CERTIFICATE-----\n";
  }
  void TearDown() override {
    ::unsetenv("CFGTEST_HOST");
    ::unsetenv("CFGTEST_MASTER");
    ::unsetenv("CFGTEST_OPENAI_KEY");
    std::filesystem::remove_all(dir_);
  }

  Config load_complete() {
    LoadResult result = load_config_string(kComplete, "complete.yaml", {.base_dir = dir_});
    for (const Diagnostic& e : result.errors) {
      ADD_FAILURE() << e.to_string();
    }
    EXPECT_TRUE(result.ok());
    return result.ok() ? *result.config : Config{};
  }

  std::filesystem::path dir_;
};

TEST_F(ConfigLoaderTest, ServerFields) {
  const Config config = load_complete();
  const ServerConfig& s = config.server;
  EXPECT_EQ(s.host, "0.0.0.0");  // from ${CFGTEST_HOST}
  EXPECT_EQ(s.port, 9090);
  EXPECT_EQ(s.threads, 4);
  EXPECT_EQ(s.max_body_bytes, 2u * 1024 * 1024);
  EXPECT_EQ(s.header_timeout, seconds(5));
  EXPECT_EQ(s.idle_timeout, minutes(2));
  EXPECT_EQ(s.max_connections, 500);
  EXPECT_EQ(s.upstream_max_connections, 96);
  EXPECT_EQ(s.drain_timeout, Duration::zero());
  EXPECT_EQ(s.api_keys, std::vector<std::string>{"sk-master"});  // the unset one was dropped
  EXPECT_EQ(s.idempotency.ttl, minutes(10));
  EXPECT_EQ(s.idempotency.in_progress_timeout, minutes(2));
  EXPECT_EQ(s.idempotency.max_response_bytes, 256u * 1024);
}

TEST_F(ConfigLoaderTest, ProviderFields) {
  const Config config = load_complete();
  ASSERT_EQ(config.providers.size(), 2u);
  const ProviderConfig& openai = config.providers[0];
  EXPECT_EQ(openai.name, "openai");
  EXPECT_EQ(openai.kind, ProviderKind::kOpenAI);
  EXPECT_EQ(openai.base_url, "https://api.openai.com/v1");  // trailing slash removed
  ASSERT_EQ(openai.api_keys.size(), 2u);
  EXPECT_EQ(openai.api_keys[0].key, "sk-first");
  EXPECT_EQ(openai.api_keys[0].rpm, 0);
  EXPECT_EQ(openai.api_keys[1].key, "sk-second");
  EXPECT_EQ(openai.api_keys[1].rpm, 500);
  EXPECT_EQ(openai.api_keys[1].tpm, 90000);
  EXPECT_FALSE(openai.keys_unavailable);
  EXPECT_EQ(openai.connect_timeout, milliseconds(1500));
  using Header = std::pair<std::string, std::string>;
  EXPECT_EQ(openai.headers,
            (std::vector<Header>{{"OpenAI-Organization", "org-123"}, {"X-Origin", "0.0.0.0-x"}}));
  EXPECT_EQ(openai.ca_file, "");

  const ProviderConfig* claude = config.find_provider("claude");
  ASSERT_NE(claude, nullptr);
  EXPECT_EQ(claude->kind, ProviderKind::kAnthropic);
  EXPECT_EQ(claude->base_url, "http://127.0.0.1:9000");
  EXPECT_TRUE(claude->api_keys.empty());
  EXPECT_FALSE(claude->keys_unavailable);  // none listed is not none left
  EXPECT_EQ(claude->connect_timeout, seconds(5));
  EXPECT_EQ(claude->ca_file, (dir_ / "ca.pem").string());
  EXPECT_EQ(config.find_provider("nope"), nullptr);
}

TEST_F(ConfigLoaderTest, DroppedKeysAreWarnings) {
  const Config config = load_complete();
  ASSERT_EQ(config.warnings.size(), 2u);
  EXPECT_EQ(config.warnings[0].to_warning_string(),
            "complete.yaml:11:35: warning: server.api_keys[1]: environment variable "
            "'CFGTEST_UNSET' is not set; key dropped");
  EXPECT_EQ(config.warnings[1].line, 20);
  EXPECT_EQ(config.warnings[1].path, "providers.openai.api_keys[2]");
}

TEST_F(ConfigLoaderTest, ModelFields) {
  const Config config = load_complete();
  ASSERT_EQ(config.models.size(), 3u);
  const ModelConfig& m = config.models[0];
  EXPECT_EQ(m.alias, "gpt-4o");
  ASSERT_EQ(m.deployments.size(), 2u);
  EXPECT_EQ(m.deployments[0].provider, "openai");
  EXPECT_EQ(m.deployments[0].model, "gpt-4o");
  EXPECT_EQ(m.deployments[0].weight, 3.0);
  EXPECT_EQ(m.deployments[1].provider, "claude");
  EXPECT_EQ(m.deployments[1].weight, 0.5);
  EXPECT_EQ(m.routing.strategy, RoutingStrategy::kCanary);
  EXPECT_EQ(m.routing.canary.deployment, 1u);
  EXPECT_EQ(m.routing.canary.percent, 5.0);
  EXPECT_EQ(m.routing.canary.sticky_by, StickyBy::kHeader);
  EXPECT_EQ(m.routing.canary.sticky_header, "x-user-id");
  EXPECT_EQ(m.routing.ewma_alpha, 0.5);
  EXPECT_EQ(m.fallbacks, std::vector<std::string>{"mini"});
  EXPECT_EQ(m.context_window_fallback, "big");
  EXPECT_EQ(m.policy_name, "strict");

  const ModelConfig* mini = config.find_model("mini");
  ASSERT_NE(mini, nullptr);
  EXPECT_EQ(mini->deployments[0].weight, 1.0);
  EXPECT_EQ(mini->routing.strategy, RoutingStrategy::kLeastLatency);
  EXPECT_EQ(mini->routing.ewma_alpha, 0.3);
  EXPECT_TRUE(mini->fallbacks.empty());
  EXPECT_EQ(mini->context_window_fallback, "");
  EXPECT_EQ(mini->policy_name, "default");
}

TEST_F(ConfigLoaderTest, DefaultPolicyOverridesEveryBuiltIn) {
  const Config config = load_complete();
  const ResiliencePolicy* p = config.find_policy("default");
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->retry.max_attempts, 4);
  EXPECT_EQ(p->retry.attempt_timeout, seconds(20));
  EXPECT_EQ(p->retry.total_timeout, minutes(2));
  EXPECT_EQ(p->first_token_timeout, seconds(3));
  EXPECT_EQ(p->retry.backoff.kind, BackoffKind::kLinear);
  EXPECT_EQ(p->retry.backoff.base_delay, milliseconds(100));
  EXPECT_EQ(p->retry.backoff.max_delay, seconds(2));
  EXPECT_EQ(p->retry.backoff.multiplier, 3.0);
  EXPECT_EQ(p->retry.backoff.jitter, JitterMode::kProportional);
  EXPECT_EQ(p->retry.backoff.jitter_fraction, 0.5);
  EXPECT_FALSE(p->retry.honor_pushback);
  EXPECT_EQ(p->retry.max_pushback, seconds(10));
  EXPECT_FALSE(p->retry.honor_should_retry_header);
  EXPECT_FALSE(p->retry.prefer_other_deployment);
  EXPECT_EQ(p->retry.disposition_for(ErrorKind::kRateLimited), Disposition::kFallBack);
  EXPECT_EQ(p->retry.disposition_for(ErrorKind::kContentFiltered), Disposition::kFail);
  EXPECT_EQ(p->retry.dispositions[static_cast<size_t>(ErrorKind::kServerError)], std::nullopt);

  const CircuitBreakerPolicy& cb = p->circuit_breaker;
  EXPECT_TRUE(cb.enabled);
  EXPECT_EQ(cb.consecutive_failures, 7);
  EXPECT_EQ(cb.failure_rate_threshold, 0.25);
  EXPECT_EQ(cb.window, BreakerWindow::kTime);
  EXPECT_EQ(cb.window_size, 50);
  EXPECT_EQ(cb.window_duration, seconds(45));
  EXPECT_EQ(cb.minimum_calls, 12);
  EXPECT_EQ(cb.open_duration, seconds(2));
  EXPECT_EQ(cb.open_duration_multiplier, 1.5);
  EXPECT_EQ(cb.max_open_duration, seconds(90));
  EXPECT_EQ(cb.half_open_max_probes, 2);
  EXPECT_EQ(cb.half_open_successes, 3);
  std::array<bool, kErrorKindCount> kinds{};
  kinds[static_cast<size_t>(ErrorKind::kServerError)] = true;
  kinds[static_cast<size_t>(ErrorKind::kTimeout)] = true;
  EXPECT_EQ(cb.failure_kinds, kinds);  // a list replaces the default set, never adds to it

  const RetryBudgetPolicy& budget = p->retry_budget;
  EXPECT_FALSE(budget.token_bucket_enabled);
  EXPECT_EQ(budget.max_tokens, 50.0);
  EXPECT_EQ(budget.token_ratio, 0.5);
  EXPECT_TRUE(budget.concurrency_cap_enabled);
  EXPECT_EQ(budget.budget_percent, 25.0);
  EXPECT_EQ(budget.min_retry_concurrency, 5);

  const ToolCallPolicy& tools = p->tool_calls;
  EXPECT_FALSE(tools.enabled);
  EXPECT_EQ(tools.mode, ToolRepairMode::kResample);
  EXPECT_EQ(tools.max_retries, 4);
  EXPECT_FALSE(tools.validate_streams);
}

// built-in <- policies.default <- policies.strict <- models.gpt-4o.overrides, field by field.
TEST_F(ConfigLoaderTest, PolicyMergeOrderFieldByField) {
  const Config config = load_complete();
  const ResiliencePolicy* strict = config.find_policy("strict");
  ASSERT_NE(strict, nullptr);
  EXPECT_EQ(strict->retry.max_attempts, 1);                    // strict
  EXPECT_EQ(strict->retry.attempt_timeout, seconds(10));       // strict
  EXPECT_EQ(strict->retry.total_timeout, minutes(2));          // default (sibling of attempt)
  EXPECT_EQ(strict->retry.backoff.max_delay, seconds(2));      // default
  EXPECT_EQ(strict->circuit_breaker.consecutive_failures, 7);  // default

  const ResiliencePolicy& p = config.models[0].policy;
  EXPECT_EQ(p.retry.max_attempts, 2);                            // overrides beat strict's 1
  EXPECT_EQ(p.retry.attempt_timeout, seconds(10));               // strict
  EXPECT_EQ(p.retry.total_timeout, minutes(2));                  // default
  EXPECT_EQ(p.first_token_timeout, seconds(3));                  // default
  EXPECT_EQ(p.retry.backoff.kind, BackoffKind::kLinear);         // default
  EXPECT_EQ(p.retry.backoff.base_delay, milliseconds(100));      // default, beside overridden max
  EXPECT_EQ(p.retry.backoff.max_delay, seconds(4));              // overrides
  EXPECT_EQ(p.retry.backoff.jitter, JitterMode::kProportional);  // default
  // Dispositions merge per kind across all three layers.
  EXPECT_EQ(p.retry.disposition_for(ErrorKind::kRateLimited), Disposition::kFallBack);  // default
  EXPECT_EQ(p.retry.disposition_for(ErrorKind::kServerError), Disposition::kFail);      // strict
  EXPECT_EQ(p.retry.disposition_for(ErrorKind::kTimeout), Disposition::kFail);          // overrides
  EXPECT_EQ(p.retry.disposition_for(ErrorKind::kOverloaded), Disposition::kRetry);      // built-in
  EXPECT_EQ(p.circuit_breaker.window, BreakerWindow::kTime);                            // default

  // A model naming a policy without overrides gets that policy unchanged.
  EXPECT_EQ(config.find_model("big")->policy.retry.max_attempts, 1);
  EXPECT_EQ(config.find_model("big")->policy.retry.dispositions, strict->retry.dispositions);
  // A model naming nothing gets policies.default.
  EXPECT_EQ(config.find_model("mini")->policy.retry.max_attempts, 4);
}

TEST_F(ConfigLoaderTest, MinimalConfigKeepsBuiltInDefaults) {
  const LoadResult result = load_config_string(R"(providers:
  p: {kind: openai, base_url: "http://localhost:8000/v1"}
models:
  m:
    deployments: [{provider: p, model: x}]
)");
  ASSERT_TRUE(result.ok()) << result.errors.front().to_string();
  const Config& config = *result.config;
  EXPECT_EQ(config.server.host, "127.0.0.1");
  EXPECT_EQ(config.server.port, 8080);
  EXPECT_EQ(config.server.max_body_bytes, 4u * 1024 * 1024);
  EXPECT_TRUE(config.server.api_keys.empty());
  ASSERT_EQ(config.policies.size(), 1u);
  EXPECT_EQ(config.policies[0].first, "default");
  const ResiliencePolicy& p = config.models[0].policy;
  const RetryPolicy builtin;
  EXPECT_EQ(p.retry.max_attempts, builtin.max_attempts);
  EXPECT_EQ(p.retry.attempt_timeout, builtin.attempt_timeout);
  EXPECT_EQ(p.retry.total_timeout, builtin.total_timeout);
  EXPECT_EQ(p.retry.backoff.base_delay, builtin.backoff.base_delay);
  EXPECT_EQ(p.first_token_timeout, seconds(10));
  EXPECT_EQ(p.circuit_breaker.failure_kinds, CircuitBreakerPolicy::default_failure_kinds());
  EXPECT_TRUE(config.warnings.empty());
}

TEST_F(ConfigLoaderTest, HttpLimitsDefaultAndDecode) {
  const std::string models = R"(providers:
  p: {kind: openai, base_url: "http://localhost:8000/v1"}
models:
  m:
    deployments: [{provider: p, model: x}]
)";
  const LoadResult defaults = load_config_string(models);
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults.config->server.body_timeout, seconds(30));
  EXPECT_EQ(defaults.config->server.max_header_bytes, 16u * 1024);
  const LoadResult set = load_config_string(
      "server:\n  body_timeout: 45s\n  max_header_bytes: 32KiB\n" + models);
  ASSERT_TRUE(set.ok()) << set.errors.front().to_string();
  EXPECT_EQ(set.config->server.body_timeout, seconds(45));
  EXPECT_EQ(set.config->server.max_header_bytes, 32u * 1024);
}

TEST_F(ConfigLoaderTest, ProviderWithEveryKeyUnsetIsUnavailable) {
  const LoadResult result = load_config_string(R"(providers:
  p:
    kind: openai
    base_url: https://a.example/v1
    api_keys: ["${CFGTEST_UNSET}", {key: "${CFGTEST_UNSET}"}]
models:
  m: {deployments: [{provider: p, model: x}]}
)",
                                               "k.yaml");
  ASSERT_TRUE(result.ok());
  EXPECT_TRUE(result.config->providers[0].keys_unavailable);
  std::vector<std::string> warnings;
  for (const Diagnostic& w : result.config->warnings) {
    warnings.push_back(w.to_warning_string());
  }
  EXPECT_EQ(warnings,
            (std::vector<std::string>{
                "k.yaml:5:15: warning: providers.p.api_keys: every key was dropped; provider 'p' "
                "is unavailable until one is set",
                "k.yaml:5:16: warning: providers.p.api_keys[0]: environment variable "
                "'CFGTEST_UNSET' is not set; key dropped",
                "k.yaml:5:42: warning: providers.p.api_keys[1].key: environment variable "
                "'CFGTEST_UNSET' is not set; key dropped",
                "k.yaml:7:3: warning: models.m: every deployment's provider has no API key (their "
                "variables are unset); requests for this model will fail until a key is set"}));
}

TEST_F(ConfigLoaderTest, UnusedProviderIsAWarning) {
  const LoadResult result = load_config_string(R"(providers:
  p: {kind: openai, base_url: "http://localhost:1/v1"}
  spare: {kind: openai, base_url: "http://localhost:2/v1"}
models:
  m: {deployments: [{provider: p, model: x}]}
)",
                                               "u.yaml");
  ASSERT_TRUE(result.ok());
  ASSERT_EQ(result.config->warnings.size(), 1u);
  EXPECT_EQ(result.config->warnings[0].to_warning_string(),
            "u.yaml:3:3: warning: providers.spare: not used by any model deployment");
}

TEST_F(ConfigLoaderTest, LoadsAFileAndResolvesCaFileNextToIt) {
  const std::filesystem::path file = dir_ / "sheepdog.yaml";
  std::ofstream(file) << R"(providers:
  p: {kind: openai, base_url: "https://h/v1", ca_file: ca.pem}
models:
  m: {deployments: [{provider: p, model: x}]}
)";
  const LoadResult result = load_config_file(file);
  ASSERT_TRUE(result.ok()) << result.errors.front().to_string();
  EXPECT_EQ(result.config->source, file.string());
  EXPECT_EQ(result.config->providers[0].ca_file, (dir_ / "ca.pem").string());
}

// The repository's examples/sheepdog.yaml. __FILE__ may be relative to the build directory
// (Ninja) and tests may run from anywhere, so look upwards from the working directory, the source
// file and the test binary (which lives in the build tree, inside the repository).
std::filesystem::path find_example() {
  const std::filesystem::path relative = "examples/sheepdog.yaml";
  std::error_code ec;
  const std::filesystem::path starts[] = {
      std::filesystem::current_path(), std::filesystem::absolute(__FILE__).parent_path(),
      std::filesystem::read_symlink("/proc/self/exe", ec).parent_path()};
  for (const std::filesystem::path& start : starts) {
    for (std::filesystem::path dir = start; !dir.empty(); dir = dir.parent_path()) {
      if (std::filesystem::exists(dir / relative, ec)) {
        return dir / relative;
      }
      if (dir == dir.parent_path()) {
        break;
      }
    }
  }
  return relative;
}

TEST_F(ConfigLoaderTest, TheShippedExampleIsValid) {
  // The example needs only OPENAI_API_KEY; the other keys are dropped with warnings.
  const char* saved = std::getenv("OPENAI_API_KEY");
  const std::optional<std::string> previous =
      saved == nullptr ? std::nullopt : std::optional<std::string>(saved);
  ::setenv("OPENAI_API_KEY", "sk-test", 1);
  const LoadResult result = load_config_file(find_example());
  if (previous) {
    ::setenv("OPENAI_API_KEY", previous->c_str(), 1);
  } else {
    ::unsetenv("OPENAI_API_KEY");
  }
  for (const Diagnostic& e : result.errors) {
    ADD_FAILURE() << e.to_string();
  }
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.config->providers.size(), 4u);
  EXPECT_EQ(result.config->models.size(), 5u);
}

}  // namespace
}  // namespace sheepdog::config
