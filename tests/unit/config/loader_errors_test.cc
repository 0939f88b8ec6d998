// One test per class of error within a value or a section: each names the right line, path and
// problem, and a file with several problems reports all of them.
#include <gtest/gtest.h>

#include "config/loader.h"
#include "config_test_util.h"

namespace sheepdog::config {
namespace {

using testing::errors_of;
using testing::expect_single;
using testing::kProviders;
using testing::printed;

TEST(ConfigErrorsTest, YamlSyntaxErrorNamesTheLine) {
  const std::vector<Diagnostic> errors = errors_of("providers:\n  a: [1, 2\nmodels: {}\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].line, 3);
  EXPECT_NE(errors[0].message.find("YAML syntax error"), std::string::npos);
}

TEST(ConfigErrorsTest, UnknownKeyWithSuggestion) {
  expect_single(std::string(kProviders) + R"(  m:
    deployments: [{provider: openai, model: x}]
    overrides:
      max_atempts: 2
)",
                8, "models.m.overrides.max_atempts",
                "unknown key; did you mean 'max_attempts'?; expected one of 'max_attempts'");
}

TEST(ConfigErrorsTest, UnknownKeyFarFromAnyGivesTheList) {
  const std::vector<Diagnostic> errors = errors_of(std::string(kProviders) + R"(  m:
    deployments: [{provider: openai, model: x}]
    colour: blue
)");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].to_string(),
            "t.yaml:7:5: models.m.colour: unknown key; expected one of 'deployments', 'routing', "
            "'fallbacks', 'context_window_fallback', 'policy' or 'overrides'");
}

TEST(ConfigErrorsTest, DuplicateKey) {
  expect_single(std::string("server:\n  port: 1\n  port: 2\n") + kProviders +
                    "  m: {deployments: [{provider: openai, model: x}]}\n",
                3, "server.port", "duplicate key; each key may appear once");
}

TEST(ConfigErrorsTest, WrongType) {
  expect_single(std::string("server:\n  port: [80]\n") + kProviders +
                    "  m: {deployments: [{provider: openai, model: x}]}\n",
                2, "server.port", "expected an integer in [0, 65535], got a list");
  expect_single(std::string("server:\n  port: eighty\n") + kProviders +
                    "  m: {deployments: [{provider: openai, model: x}]}\n",
                2, "server.port", "expected an integer in [0, 65535], got 'eighty'");
  expect_single(std::string(kProviders) + "  m:\n    deployments: {provider: openai}\n", 6,
                "models.m.deployments",
                "expected a list (of {provider, model, weight}), got a mapping");
}

TEST(ConfigErrorsTest, OutOfRangeSingleValues) {
  const std::vector<Diagnostic> errors = errors_of(std::string(R"(policies:
  default:
    max_attempts: 0
    circuit_breaker: {failure_rate: 1.5}
    backoff: {jitter_fraction: -0.1}
)") + kProviders + R"(  m:
    deployments: [{provider: openai, model: x, weight: -1}]
)");
  EXPECT_EQ(printed(errors),
            (std::vector<std::string>{
                "t.yaml:3:19: policies.default.max_attempts: out of range: 0; expected an "
                "integer in [1, 100]",
                "t.yaml:4:37: policies.default.circuit_breaker.failure_rate: out of range: 1.5; "
                "expected a number in [0, 1]",
                "t.yaml:5:32: policies.default.backoff.jitter_fraction: out of range: -0.1; "
                "expected a number in [0, 1]",
                "t.yaml:11:56: models.m.deployments[0].weight: out of range: -1; expected a "
                "number in [0, 1000000]"}));
}

TEST(ConfigErrorsTest, BadDurationAndByteSize) {
  const std::vector<Diagnostic> errors = errors_of(std::string(R"(server:
  idle_timeout: 10 seconds
  max_body_bytes: 4 megabytes
  header_timeout: 0s
)") + kProviders + "  m: {deployments: [{provider: openai, model: x}]}\n");
  EXPECT_EQ(printed(errors),
            (std::vector<std::string>{
                "t.yaml:2:17: server.idle_timeout: expected a duration > 0 such as 250ms, 30s, "
                "2m or 1h (a bare number is seconds), got '10 seconds'",
                "t.yaml:3:19: server.max_body_bytes: expected a size >= 1 bytes: a whole number "
                "of bytes or a number with KiB, MiB or GiB, got '4 megabytes'",
                "t.yaml:4:19: server.header_timeout: out of range: 0s; expected a duration > 0 "
                "such as 250ms, 30s, 2m or 1h (a bare number is seconds)"}));
}

TEST(ConfigErrorsTest, HeaderLimitAndBodyTimeoutAreChecked) {
  const std::vector<Diagnostic> errors = errors_of(std::string(R"(server:
  max_header_bytes: 100
  body_timeout: 0s
)") + kProviders + "  m: {deployments: [{provider: openai, model: x}]}\n");
  EXPECT_EQ(printed(errors),
            (std::vector<std::string>{
                "t.yaml:2:21: server.max_header_bytes: out of range: 100; expected a size from "
                "1024 to 1048576 bytes: a whole number of bytes or a number with KiB, MiB or GiB",
                "t.yaml:3:17: server.body_timeout: out of range: 0s; expected a duration > 0 "
                "such as 250ms, 30s, 2m or 1h (a bare number is seconds)"}));
}

TEST(ConfigErrorsTest, UpstreamConnectionLimitMustBePositive) {
  const std::vector<Diagnostic> errors = errors_of(std::string(R"(server:
  upstream_max_connections: 0
)") + kProviders + "  m: {deployments: [{provider: openai, model: x}]}\n");
  EXPECT_EQ(printed(errors),
            (std::vector<std::string>{
                "t.yaml:2:29: server.upstream_max_connections: out of range: 0; expected an "
                "integer in [1, 1000000]"}));
}

// Counting `cancelled` would let clients that disconnect (and key rotation) trip breakers.
TEST(ConfigErrorsTest, CancelledCannotTripABreaker) {
  const std::vector<Diagnostic> errors = errors_of(std::string(R"(policies:
  default:
    circuit_breaker: {failure_kinds: [server_error, cancelled]}
)") + kProviders + "  m: {deployments: [{provider: openai, model: x}]}\n");
  ASSERT_EQ(errors.size(), 1u) << ::testing::PrintToString(printed(errors));
  EXPECT_EQ(printed(errors)[0],
            "t.yaml:3:53: policies.default.circuit_breaker.failure_kinds[1]: 'cancelled' cannot "
            "trip a breaker: it is the client going away or a call never made, not an upstream "
            "failure; remove it");
}

TEST(ConfigErrorsTest, IdempotencySettingsAreChecked) {
  const std::vector<Diagnostic> errors = errors_of(std::string(R"(server:
  idempotency: {ttl: 0, max_respons_bytes: 1MiB}
)") + kProviders + "  m: {deployments: [{provider: openai, model: x}]}\n");
  ASSERT_EQ(errors.size(), 2u) << ::testing::PrintToString(printed(errors));
  const std::vector<std::string> lines = printed(errors);
  EXPECT_NE(lines[0].find("server.idempotency"), std::string::npos) << lines[0];
  EXPECT_NE(lines[1].find("server.idempotency"), std::string::npos) << lines[1];
  const std::string all = lines[0] + lines[1];
  EXPECT_NE(all.find("max_response_bytes"), std::string::npos) << all;  // did you mean
  EXPECT_NE(all.find("ttl: out of range: 0;"), std::string::npos) << all;
}

TEST(ConfigErrorsTest, CombinationIsBlamedOnTheFieldSetLast) {
  // The default policy is fine alone; the model's override makes attempt > total.
  const std::vector<Diagnostic> errors = errors_of(std::string(R"(policies:
  default:
    timeouts: {total: 40s}
)") + kProviders + R"(  m:
    deployments: [{provider: openai, model: x}]
    overrides:
      timeouts: {attempt: 50s}
)");
  EXPECT_EQ(printed(errors),
            (std::vector<std::string>{
                "t.yaml:11:27: models.m.overrides.timeouts.attempt: 50s conflicts with "
                "timeouts.total = 40s (from policies.default.timeouts.total); expected "
                "timeouts.attempt <= timeouts.total"}));
}

TEST(ConfigErrorsTest, CombinationAgainstABuiltInDefault) {
  expect_single(std::string(R"(policies:
  default:
    backoff: {max_delay: 100ms}
)") + kProviders + "  m: {deployments: [{provider: openai, model: x}]}\n",
                3, "policies.default.backoff.max_delay",
                "100ms conflicts with backoff.base_delay = 500ms (built-in default); expected "
                "backoff.max_delay >= backoff.base_delay");
}

TEST(ConfigErrorsTest, BreakerCombinations) {
  const std::vector<Diagnostic> errors = errors_of(std::string(R"(policies:
  default:
    circuit_breaker: {window_size: 5, max_open_duration: 1s}
  never:
    circuit_breaker: {consecutive_failures: 0, failure_rate: 0}
)") + kProviders + "  m: {deployments: [{provider: openai, model: x}], policy: never}\n");
  EXPECT_EQ(printed(errors),
            (std::vector<std::string>{
                "t.yaml:3:36: policies.default.circuit_breaker.window_size: 5 conflicts with "
                "circuit_breaker.minimum_calls = 10 (built-in default); expected "
                "circuit_breaker.minimum_calls <= circuit_breaker.window_size, else the failure "
                "rate never trips",
                "t.yaml:3:58: policies.default.circuit_breaker.max_open_duration: 1s conflicts "
                "with circuit_breaker.open_duration = 5s (built-in default); expected "
                "circuit_breaker.max_open_duration >= circuit_breaker.open_duration",
                "t.yaml:5:45: policies.never.circuit_breaker.consecutive_failures: 0 conflicts "
                "with circuit_breaker.failure_rate = 0 (from "
                "policies.never.circuit_breaker.failure_rate); expected at least one trigger > 0 "
                "(to turn the breaker off, use circuit_breaker.enabled: false)"}));
}

TEST(ConfigErrorsTest, BadUrls) {
  const std::vector<Diagnostic> errors = errors_of(R"(providers:
  a: {kind: openai, base_url: "ftp://files.example/v1"}
  b: {kind: openai, base_url: "api.openai.com/v1"}
  c: {kind: openai, base_url: "https://h/v1?x=1"}
  d: {kind: openai, base_url: "https://user:pw@h/v1"}
models:
  m: {deployments: [{provider: a, model: x}, {provider: b, model: x}, {provider: c, model: x}, {provider: d, model: x}]}
)");
  EXPECT_EQ(printed(errors),
            (std::vector<std::string>{
                "t.yaml:2:31: providers.a.base_url: invalid URL 'ftp://files.example/v1': scheme "
                "'ftp' is not supported; expected an absolute http or https URL such as "
                "https://api.openai.com/v1",
                "t.yaml:3:31: providers.b.base_url: invalid URL 'api.openai.com/v1': not an "
                "absolute URL; expected an absolute http or https URL such as "
                "https://api.openai.com/v1",
                "t.yaml:4:31: providers.c.base_url: invalid URL 'https://h/v1?x=1': a query "
                "string ('?...'); expected an absolute http or https URL such as "
                "https://api.openai.com/v1",
                "t.yaml:5:31: providers.d.base_url: invalid URL 'https://user:pw@h/v1': "
                "credentials in the URL (put keys in api_keys or headers); expected an absolute "
                "http or https URL such as https://api.openai.com/v1"}));
}

TEST(ConfigErrorsTest, UnsetVariableWithoutDefaultNamesTheLine) {
  expect_single(std::string(kProviders) + R"(  m:
    deployments: [{provider: openai, model: "${MODEL_NAME}"}]
)",
                6, "models.m.deployments[0].model",
                "environment variable 'MODEL_NAME' is not set; expected it to be set, or a "
                "default in the form ${MODEL_NAME:-value}");
}

TEST(ConfigErrorsTest, EveryServerKeyDroppedFailsClosed) {
  expect_single(std::string("server:\n  api_keys: [\"${MASTER_KEY}\"]\n") + kProviders +
                    "  m: {deployments: [{provider: openai, model: x}]}\n",
                2, "server.api_keys", "every key was dropped, which would leave the gateway open");
}

TEST(ConfigErrorsTest, HeaderNamesAreUniqueIgnoringCase) {
  expect_single(R"(providers:
  a:
    kind: openai
    base_url: https://a.example/v1
    headers: {X-Team: a, x-team: b}
models:
  m: {deployments: [{provider: a, model: x}]}
)",
                5, "providers.a.headers.x-team", "duplicate header (names are case-insensitive)");
}

TEST(ConfigErrorsTest, ProviderFieldProblems) {
  const std::vector<Diagnostic> errors = errors_of(R"(providers:
  a:
    base_url: https://a.example/v1
    headers: {"Bad Header": x, X-Ok: "${SET_VAR}"}
    ca_file: /nonexistent/ca.pem
    api_keys: [[nested]]
  b: {kind: openia, base_url: "https://b/v1"}
models:
  m: {deployments: [{provider: a, model: x}, {provider: b, model: x}]}
)");
  EXPECT_EQ(printed(errors),
            (std::vector<std::string>{
                // A missing key is reported at the mapping, which starts at its first key.
                "t.yaml:3:5: providers.a: missing required key 'kind'",
                "t.yaml:4:15: providers.a.headers.Bad Header: invalid header name; expected "
                "letters, digits and !#$%&'*+-.^_`|~",
                "t.yaml:5:14: providers.a.ca_file: no such file: /nonexistent/ca.pem; expected a "
                "PEM CA bundle (relative paths are resolved against the config file's directory)",
                "t.yaml:6:16: providers.a.api_keys[0]: expected a key string or a {key, rpm, "
                "tpm} mapping, got a list",
                "t.yaml:7:13: providers.b.kind: unknown value 'openia'; did you mean 'openai'?; "
                "expected one of 'openai' or 'anthropic'"}));
}

TEST(ConfigErrorsTest, LiteLlmKeysGetAHint) {
  const std::vector<Diagnostic> errors = errors_of(R"(model_list:
  - model_name: gpt-4o
)");
  ASSERT_EQ(errors.size(), 3u) << ::testing::PrintToString(printed(errors));
  EXPECT_EQ(errors[0].path, "model_list");
  EXPECT_NE(errors[0].message.find("LiteLLM's model_list; sheepdog lists aliases under 'models'"),
            std::string::npos);
  EXPECT_EQ(errors[1].message,
            "missing or empty; expected at least one provider: providers: {<name>: {kind: "
            "openai, base_url: ...}}");
  EXPECT_EQ(errors[2].path, "models");
}

TEST(ConfigErrorsTest, EmptyAndNonMappingDocuments) {
  expect_single("", 0, "", "the configuration is empty");
  expect_single("# just a comment\n", 0, "", "the configuration is empty");
  expect_single("- a\n- b\n", 1, "", "expected a mapping with 'providers' and 'models'");
}

TEST(ConfigErrorsTest, UnreadableFileIsOneErrorWithoutALine) {
  const LoadResult result = load_config_file("/nonexistent/sheepdog.yaml");
  ASSERT_FALSE(result.ok());
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].to_string(),
            "/nonexistent/sheepdog.yaml: cannot open the file: No such file or directory");
}

// The point of collecting: one run shows every problem, across sections, in file order within
// each section.
TEST(ConfigErrorsTest, ReportsEveryErrorNotJustTheFirst) {
  const std::vector<Diagnostic> errors = errors_of(R"(server:
  prot: 8080
providers:
  openai: {kind: openai, base_url: "http//broken"}
policies:
  default: {max_attempts: many}
models:
  a:
    deployments: [{provider: nobody, model: x}]
    fallbacks: [a]
)");
  std::vector<int> lines;
  for (const Diagnostic& e : errors) {
    lines.push_back(e.line);
  }
  EXPECT_EQ(lines, (std::vector<int>{2, 4, 6, 9, 10})) << ::testing::PrintToString(printed(errors));
}

TEST(ConfigErrorsTest, ToolValidationValuesAreChecked) {
  const std::vector<Diagnostic> errors = errors_of(std::string(kProviders) + R"(  m:
    deployments: [{provider: openai, model: x}]
    overrides:
      tool_validation: {mode: fix, max_retries: 11, stream: true}
)");
  EXPECT_EQ(printed(errors),
            (std::vector<std::string>{
                "t.yaml:8:31: models.m.overrides.tool_validation.mode: unknown value 'fix'; "
                "expected one of 'resample', 'repair' or 'pass'",
                "t.yaml:8:49: models.m.overrides.tool_validation.max_retries: out of range: 11; "
                "expected an integer in [0, 10]",
                "t.yaml:8:53: models.m.overrides.tool_validation.stream: unknown key; did you "
                "mean 'streams'?; expected one of 'enabled', 'mode', 'max_retries' or "
                "'streams'"}));
}

}  // namespace
}  // namespace sheepdog::config
