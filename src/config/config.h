// The gateway's configuration as typed, validated values: what load_config_file() (loader.h)
// produces from sheepdog.yaml. Every value here has passed validation, so consumers use it as is;
// docs/configuration.md documents each field, its default and its YAML spelling.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/diagnostic.h"
#include "core/clock.h"
#include "resilience/circuit_breaker.h"
#include "resilience/retry_budget.h"
#include "resilience/retry_policy.h"
#include "resilience/tool_call_policy.h"

namespace sheepdog::config {

// `server:`: the client-facing HTTP listener.
// `server.idempotency:` how requests carrying an Idempotency-Key header are remembered.
struct IdempotencyConfig {
  Duration ttl = seconds(3600);  // how long an answer is replayed for its key
  // How long an execution may hold its key before a duplicate may run again (a stuck or
  // crashed one must not block the key forever); longer than any request's total timeout.
  Duration in_progress_timeout = seconds(600);
  // Answers (or recorded streams) larger than this are not kept: a repeat executes again.
  uint64_t max_response_bytes = 1024 * 1024;
};

struct ServerConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0 = any free port
  int threads = 0;       // 0 = one per core
  uint64_t max_body_bytes = 4 * 1024 * 1024;
  // From a request's first byte to its last header byte (and, on a new connection, the wait for
  // that first byte); then the whole body must arrive within body_timeout. Past either: 408.
  Duration header_timeout = seconds(10);
  Duration body_timeout = seconds(30);
  Duration idle_timeout = seconds(60);    // between requests on a kept-alive connection
  uint64_t max_header_bytes = 16 * 1024;  // request line + header fields (and trailers): 431
  int max_connections = 10000;
  // Connections from one io thread to one upstream origin (scheme, host, port), open at once;
  // further attempts wait for a free one within their connect timeout. Envoy's cluster default
  // is 1,024 across workers; a long stream holds its connection for its whole length.
  int upstream_max_connections = 512;
  // Buffered (non-streamed) upstream answers: the largest chat completion and embeddings answer
  // accepted (a larger one fails as response_too_large and is not retried on that deployment),
  // and the bytes of such answers held at once across every request (0: no bound). Streamed
  // answers are relayed as they arrive; only the part validation holds back counts, against
  // upstream_max_response_bytes.
  uint64_t upstream_max_response_bytes = 8 * 1024 * 1024;
  uint64_t upstream_max_embeddings_bytes = 96 * 1024 * 1024;
  uint64_t upstream_memory_budget = 256 * 1024 * 1024;
  Duration drain_timeout = seconds(15);
  // Bearer keys clients must present; empty = no authentication.
  std::vector<std::string> api_keys;
  // Bearer keys for the admin endpoints (/metrics, /health/deployments). Set: only these open
  // them. Empty: they need one of api_keys (they show key fingerprints, limits and use), or
  // nothing when api_keys is empty too. /health, /health/liveness and /health/readiness stay
  // open for load balancers.
  std::vector<std::string> admin_keys;
  IdempotencyConfig idempotency;
};

enum class ProviderKind : unsigned char {
  kOpenAI,     // any OpenAI-compatible API
  kAnthropic,  // the Anthropic Messages API
};
std::string_view to_string(ProviderKind kind);  // "openai", "anthropic"

// One upstream credential, with the limits the provider enforces on it (0 = not stated).
struct ApiKeyConfig {
  std::string key;
  int64_t rpm = 0;  // requests per minute
  int64_t tpm = 0;  // tokens per minute
};

// `providers.<name>:`: an upstream API account.
struct ProviderConfig {
  std::string name;
  ProviderKind kind = ProviderKind::kOpenAI;
  // Absolute http(s) URL without a trailing slash, query or fragment; the provider appends
  // paths such as "/chat/completions".
  std::string base_url;
  std::vector<ApiKeyConfig> api_keys;
  // True iff `api_keys` was given but every entry named an unset environment variable (each was
  // dropped with a warning). Such a provider cannot authenticate: routing should skip it.
  bool keys_unavailable = false;
  // The unset environment variables whose keys were dropped, in file order, without repeats:
  // what to set to make the provider usable (named in the 503 its models answer meanwhile).
  std::vector<std::string> unset_key_variables;
  Duration connect_timeout = seconds(5);
  // Extra request headers, in file order.
  std::vector<std::pair<std::string, std::string>> headers;
  // PEM CA bundle to verify the upstream with, resolved against the config file's directory;
  // empty = the system store.
  std::string ca_file;
};

// The resilience policy of one model: the resolved merge of built-in defaults, policies.default,
// the named policy and the model's overrides (see docs/configuration.md, "Policies").
struct ResiliencePolicy {
  RetryPolicy retry;
  // Streaming only: the longest wait for the first chunk of an attempt; 0 = no separate limit.
  // The attempt timeout still applies, so the effective limit is min(this, attempt timeout).
  Duration first_token_timeout = seconds(10);
  CircuitBreakerPolicy circuit_breaker;
  RetryBudgetPolicy retry_budget;
  // Validation of tool calls and structured output, and what to do with invalid answers.
  ToolCallPolicy tool_calls;
};

// `models.<alias>.deployments[i]`: where an alias can be served.
struct DeploymentConfig {
  std::string provider;  // a key of Config::providers (checked)
  std::string model;     // the upstream's model name
  double weight = 1.0;   // >= 0; share of traffic under weighted routing
};

enum class RoutingStrategy : unsigned char { kWeighted, kLeastLatency, kCanary };
std::string_view to_string(RoutingStrategy strategy);  // "weighted", "least_latency", "canary"

// How a request is pinned to the canary (or not) across calls.
enum class StickyBy : unsigned char {
  kNone,    // every request draws anew
  kUser,    // the OpenAI `user` field of the request
  kHeader,  // a request header, named in CanaryConfig::sticky_header
};

struct CanaryConfig {
  size_t deployment = 0;  // index into ModelConfig::deployments (checked)
  double percent = 0;     // share of traffic for the canary, in [0, 100]
  StickyBy sticky_by = StickyBy::kUser;
  std::string sticky_header;  // lower-case; non-empty iff sticky_by == kHeader
};

struct RoutingConfig {
  RoutingStrategy strategy = RoutingStrategy::kWeighted;
  CanaryConfig canary;      // meaningful iff strategy == kCanary
  double ewma_alpha = 0.3;  // least_latency smoothing, in (0, 1]
};

// `models.<alias>:`: a name clients ask for.
struct ModelConfig {
  std::string alias;
  std::vector<DeploymentConfig> deployments;  // non-empty
  RoutingConfig routing;
  std::vector<std::string> fallbacks;   // aliases, in order; no cycles (checked)
  std::string context_window_fallback;  // alias or empty
  std::string policy_name = "default";  // which entry of Config::policies the model starts from
  ResiliencePolicy policy;              // fully resolved, overrides included
};

struct Config {
  std::string source;  // the file name (or the name given to load_config_string)
  ServerConfig server;
  std::vector<ProviderConfig> providers;  // file order, unique names
  std::vector<ModelConfig> models;        // file order, unique aliases
  // Resolved named policies (built-in <- policies.default <- named), "default" always present.
  std::vector<std::pair<std::string, ResiliencePolicy>> policies;
  // Problems that did not stop loading (e.g. a dropped API key). Never errors.
  std::vector<Diagnostic> warnings;

  // nullptr iff absent.
  const ProviderConfig* find_provider(std::string_view name) const;
  const ModelConfig* find_model(std::string_view alias) const;
  const ResiliencePolicy* find_policy(std::string_view name) const;
};

}  // namespace sheepdog::config
