// Errors about names and structure across the file: references to providers, models and
// policies, fallback cycles, duplicates, missing deployments, canary settings.
#include <gtest/gtest.h>

#include "config/loader.h"
#include "config_test_util.h"

namespace sheepdog::config {
namespace {

using testing::errors_of;
using testing::expect_single;
using testing::kProviders;
using testing::printed;

TEST(ConfigReferenceErrorsTest, UnknownProviderReference) {
  expect_single(std::string(kProviders) + R"(  m:
    deployments:
      - {provider: opena, model: gpt-4o}
)",
                7, "models.m.deployments[0].provider",
                "unknown provider 'opena'; did you mean 'openai'?; expected one of 'openai' or "
                "'backup'");
}

TEST(ConfigReferenceErrorsTest, UnknownFallbackAndContextWindowFallback) {
  const std::vector<Diagnostic> errors = errors_of(std::string(kProviders) + R"(  gpt-4o:
    deployments: [{provider: openai, model: gpt-4o}]
    fallbacks: [gpt-4o-mni]
    context_window_fallback: gpt-5
  gpt-4o-mini:
    deployments: [{provider: openai, model: gpt-4o-mini}]
)");
  EXPECT_EQ(printed(errors),
            (std::vector<std::string>{
                "t.yaml:7:17: models.gpt-4o.fallbacks[0]: unknown model 'gpt-4o-mni'; did you "
                "mean 'gpt-4o-mini'?; expected one of 'gpt-4o' or 'gpt-4o-mini'",
                // Two edits away from gpt-4o: close enough to suggest.
                "t.yaml:8:30: models.gpt-4o.context_window_fallback: unknown model 'gpt-5'; "
                "did you mean 'gpt-4o'?; expected one of 'gpt-4o' or 'gpt-4o-mini'"}));
}

TEST(ConfigReferenceErrorsTest, FallbackCycleIsReportedOnceAtTheClosingEdge) {
  const std::vector<Diagnostic> errors = errors_of(std::string(kProviders) + R"(  a:
    deployments: [{provider: openai, model: a}]
    fallbacks: [b]
  b:
    deployments: [{provider: openai, model: b}]
    context_window_fallback: c
  c:
    deployments: [{provider: openai, model: c}]
    fallbacks: [a]
)");
  EXPECT_EQ(printed(errors),
            (std::vector<std::string>{
                "t.yaml:13:17: models.c.fallbacks[0]: fallback cycle: a -> b -> c -> a; expected "
                "fallbacks and context_window_fallback never to lead back to a model already "
                "tried"}));
}

TEST(ConfigReferenceErrorsTest, SelfFallbackIsACycle) {
  expect_single(std::string(kProviders) + R"(  a:
    deployments: [{provider: openai, model: a}]
    fallbacks: [a]
)",
                7, "models.a.fallbacks[0]", "fallback cycle: a -> a");
}

TEST(ConfigReferenceErrorsTest, ModelsWithoutDeployments) {
  const std::vector<Diagnostic> errors = errors_of(std::string(kProviders) + R"(  empty_list:
    deployments: []
  missing:
    fallbacks: [empty_list]
  nothing:
)");
  EXPECT_EQ(printed(errors),
            (std::vector<std::string>{
                "t.yaml:6:18: models.empty_list.deployments: no deployments; expected at least "
                "one {provider: <name>, model: <upstream model>}",
                "t.yaml:8:5: models.missing: missing required key 'deployments'",
                "t.yaml:9:3: models.nothing: empty model; expected a mapping with deployments: "
                "[...]"}));
}

TEST(ConfigReferenceErrorsTest, DuplicateNames) {
  const std::vector<Diagnostic> errors = errors_of(R"(providers:
  openai: {kind: openai, base_url: "https://a/v1"}
  openai: {kind: openai, base_url: "https://b/v1"}
models:
  m: {deployments: [{provider: openai, model: x}]}
  m: {deployments: [{provider: openai, model: y}]}
policies:
  strict: {max_attempts: 1}
  strict: {max_attempts: 2}
)");
  EXPECT_EQ(printed(errors),
            (std::vector<std::string>{
                "t.yaml:3:3: providers.openai: duplicate provider name; each provider must be "
                "defined once",
                "t.yaml:6:3: models.m: duplicate model name; each model must be defined once",
                "t.yaml:9:3: policies.strict: duplicate policy name; each policy must be defined "
                "once"}));
}

TEST(ConfigReferenceErrorsTest, CanaryIndexOutOfRange) {
  expect_single(std::string(kProviders) + R"(  m:
    deployments:
      - {provider: openai, model: a}
      - {provider: backup, model: a}
    routing:
      strategy: canary
      canary: {deployment: 2, percent: 5}
)",
                11, "models.m.routing.canary.deployment",
                "index 2 is out of range; expected 0 to 1 (the model has 2 deployments, counted "
                "from 0)");
}

TEST(ConfigReferenceErrorsTest, CanarySettingsMustMatchTheStrategy) {
  const std::vector<Diagnostic> errors = errors_of(std::string(kProviders) + R"(  needs_block:
    deployments: [{provider: openai, model: a}, {provider: backup, model: a}]
    routing: {strategy: canary}
  stray_block:
    deployments: [{provider: openai, model: a}, {provider: backup, model: a}]
    routing: {canary: {deployment: 0, percent: 1}}
  alone:
    deployments: [{provider: openai, model: a}]
    routing: {strategy: canary, canary: {deployment: 0, percent: 1, sticky_by: cookie}}
)");
  EXPECT_EQ(printed(errors),
            (std::vector<std::string>{
                "t.yaml:7:25: models.needs_block.routing.strategy: strategy 'canary' needs "
                "settings; expected routing.canary: {deployment: <index>, percent: <0-100>}",
                "t.yaml:10:23: models.stray_block.routing.canary: canary settings are only used "
                "with strategy: canary; expected routing.strategy: canary, or no canary block",
                "t.yaml:13:41: models.alone.routing.canary: a canary needs another deployment to "
                "compare with; expected at least 2 deployments",
                "t.yaml:13:80: models.alone.routing.canary.sticky_by: unknown value 'cookie'; "
                "expected 'none', 'user' or 'header:<name>' such as 'header:x-user-id'"}));
}

TEST(ConfigReferenceErrorsTest, UnknownPolicyErrorKindAndDisposition) {
  const std::vector<Diagnostic> errors =
      errors_of(std::string(R"(policies:
  default:
    on: {rate_limit: retry, timeout: retrry}
)") + kProviders +
                "  m: {deployments: [{provider: openai, model: x}], policy: stricct}\n"
                "policies_extra: 1\n");
  EXPECT_EQ(printed(errors),
            (std::vector<std::string>{
                "t.yaml:3:10: policies.default.on.rate_limit: unknown error kind; did you mean "
                "'rate_limited'?; expected one of 'rate_limited', 'quota_exhausted', "
                "'overloaded', 'server_error', 'timeout', 'connect_failed', 'connection_reset', "
                "'auth', 'bad_request', 'context_length_exceeded', 'content_filtered', "
                "'malformed_response', 'response_too_large', 'invalid_tool_call', 'budget_exceeded', "
                "'circuit_open', "
                "'deadline_exceeded' or 'cancelled'",
                "t.yaml:3:38: policies.default.on.timeout: unknown value 'retrry'; did you mean "
                "'retry'?; expected one of 'retry', 'fallback' or 'fail'",
                "t.yaml:8:60: models.m.policy: unknown policy 'stricct'; expected one of "
                "'default'",
                "t.yaml:9:1: policies_extra: unknown key; expected one of 'server', 'providers', "
                "'policies' or 'models'"}));
}

TEST(ConfigReferenceErrorsTest, PolicyFieldsPlacedDirectlyUnderPolicies) {
  expect_single(std::string("policies:\n  max_attempts: 3\n") + kProviders +
                    "  m: {deployments: [{provider: openai, model: x}]}\n",
                2, "policies.max_attempts",
                "'max_attempts' is a policy field, not a policy name; expected it under "
                "policies.default");
}

}  // namespace
}  // namespace sheepdog::config
