// The gateway's shared state, built once from a validated Config and read by every io thread:
// model aliases with their routers, retry budgets and resolved policies; deployments with their
// provider, credentials, circuit breaker and live stats; the TLS context and the metrics.
//
// A deployment is one (provider, upstream model) pair. Aliases naming the same pair share it,
// and so share its breaker and stats: they call the same upstream, whose health does not depend
// on which alias asked. Its breaker policy is that of the first alias (in file order) naming it.
//
// Immutable after build() except for the thread-safe objects inside (breakers, stats, budgets,
// metrics), so io threads read it without locks. REQUIRES: outlives every request using it.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/key_redactor.h"
#include "gateway/gateway_metrics.h"
#include "gateway/model_labels.h"
#include "gateway/provider_keys.h"
#include "gateway/seen_models.h"
#include "llm/validator_cache.h"
#include "providers/provider.h"
#include "resilience/circuit_breaker.h"
#include "resilience/retry_budget.h"
#include "routing/deployment_stats.h"
#include "routing/loop_alias.h"
#include "routing/router.h"
#include "state/idempotency_store.h"
#include "telemetry/log.h"
#include "telemetry/metrics.h"
#include "upstream/memory_budget.h"

namespace sheepdog::gateway {

struct Deployment {
  Deployment(std::string deployment_name, const CircuitBreakerPolicy& breaker_policy,
             const DeploymentStatsOptions& stats_options)
      : name(std::move(deployment_name)), breaker(breaker_policy), stats(stats_options) {}

  const std::string name;  // "provider/model" (passthrough: "provider/*")
  const providers::Provider* provider = nullptr;
  // Its credentials' limits and rests: the provider's key pool, shared with the provider's
  // other deployments; null when the provider has no api_keys (no key, or the client's own).
  ProviderKeys* keys = nullptr;
  providers::ProviderTarget target;  // target.api_key is unused when `keys` is set
  std::string upstream_model;        // empty: the client's model name is passed through
  Duration connect_timeout = seconds(5);
  // Every configured provider key, for scrubbing relayed error bodies; the runtime's, or null.
  const KeyRedactor* redactor = nullptr;
  CircuitBreaker breaker;
  DeploymentStats stats;
};

struct Alias {
  explicit Alias(const config::ModelConfig& model, RoutePolicy route_policy)
      : name(model.alias),
        policy(model.policy),
        router(std::move(route_policy)),
        budget(model.policy.retry_budget),
        sticky_by(model.routing.strategy == config::RoutingStrategy::kCanary
                      ? model.routing.canary.sticky_by
                      : config::StickyBy::kNone),
        sticky_header(model.routing.canary.sticky_header) {}

  const std::string name;
  const config::ResiliencePolicy policy;
  // Indexed like router.policy().targets (RouteTarget::deployment is the index here too).
  std::vector<Deployment*> deployments;
  const Router router;
  // Thread-safe; mutable because requests see aliases as const.
  mutable RetryBudget budget;
  const config::StickyBy sticky_by;
  const std::string sticky_header;
  std::vector<const Alias*> fallbacks;  // resolved, in order
  const Alias* context_window_fallback = nullptr;
  // The same alias as the attempt loop walks it (routing/loop_alias.h): loop.id is this alias's
  // index in Runtime::aliases(), loop.targets[i] is deployments[i]'s breaker, stats and keys.
  LoopAlias loop;
};

struct RuntimeOptions {
  // Requests for a model that is not a configured alias go to this alias, with the client's
  // model name passed to its deployments (the quick start). Empty: such requests get 404.
  std::string passthrough_alias;
  // Aliases whose deployments are tried strictly in configuration order (the first is primary,
  // later ones are failover), whatever their routing strategy says. The quick start's
  // `--upstream A --upstream B` means exactly this.
  std::vector<std::string> ordered_aliases;
  // Providers whose deployments send the client's Authorization header upstream.
  std::vector<std::string> forward_client_key_providers;
  // TLS verification of upstreams; off only for local experiments.
  bool verify_tls = true;
  // Structured log lines go here; null = none. Must outlive the runtime.
  StructuredLogger* logger = nullptr;
  // Use this idempotency store instead of making one (a reload hands the running one over).
  std::shared_ptr<IdempotencyStore> idempotency;
};

// A configured alias that has no deployment to serve because every one of its providers lost
// all its keys to unset environment variables. It is not served, but it is not unknown either:
// requests for it are answered 503 naming what to set (gateway/executor), not 404.
struct UnavailableAlias {
  std::string name;
  std::vector<std::string> variables;  // the unset variables, in file order; may be empty
  std::vector<std::string> providers;  // the providers without keys, in file order
};

struct BuildResult;

class Runtime {
 public:
  // Builds the runtime. Deployments that cannot be served (a provider kind not implemented yet,
  // a provider whose keys are all unset) are dropped, aliases left without deployments
  // likewise, each with a warning, except where the config loader already warned (unset keys:
  // such aliases are kept as unavailable() instead); no alias left at all is an error, naming
  // the variables to set, as is a TLS setup failure. `sheepdog check-config` runs this too, so
  // it reports exactly what `serve` would refuse or start without.
  static BuildResult build(const config::Config& config, RuntimeOptions options,
                           const Clock& clock);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // The alias named `model`, else the passthrough alias, else nullptr. `passthrough` is set
  // iff the passthrough alias was used.
  const Alias* resolve(std::string_view model, bool* passthrough = nullptr) const;
  const Alias* find(std::string_view alias) const;
  // The `model` label metrics use for a request for `model`: a configured alias as is, a
  // passthrough name only while fewer than 100 have been seen, else "other" (model_labels.h).
  std::string metric_model(std::string_view model);
  // The configured alias named `model` if it is unavailable for want of keys, else nullptr.
  const UnavailableAlias* unavailable(std::string_view model) const;
  const std::vector<UnavailableAlias>& unavailable_aliases() const { return unavailable_; }

  const std::vector<std::unique_ptr<Alias>>& aliases() const { return aliases_; }
  const std::vector<std::unique_ptr<Deployment>>& deployments() const { return deployments_; }
  const config::ServerConfig& server() const { return server_; }
  const Clock& clock() const { return clock_; }
  boost::asio::ssl::context& tls() { return tls_; }
  // Answers of requests with an Idempotency-Key (server.idempotency).
  IdempotencyStore& idempotency() { return *idempotency_; }
  std::shared_ptr<IdempotencyStore> shared_idempotency() const { return idempotency_; }
  // Compiled tool/response_format schemas, shared between requests (llm/validator_cache.h).
  llm::ValidatorCache& validators() { return validators_; }
  // Bytes of buffered upstream answers held at once (server.upstream_memory_budget), shared by
  // every io thread's client.
  upstream::MemoryBudget& memory_budget() { return memory_budget_; }
  // Every configured provider key (api_keys, and credential headers), for scrubbing.
  const KeyRedactor& redactor() const { return redactor_; }
  MetricsRegistry& registry() { return registry_; }
  GatewayMetrics& metrics() { return metrics_; }
  // Passthrough mode: the model names upstreams have answered for (GET /v1/models lists them).
  SeenModels& seen_models() { return seen_models_; }
  const SeenModels& seen_models() const { return seen_models_; }
  StructuredLogger* logger() const { return options_.logger; }
  const RuntimeOptions& options() const { return options_; }

  // Sets each deployment's breaker gauge and each key's cooling gauge to its state now (open
  // breakers turn half-open and keys end their rest lazily, so a scrape refreshes them first).
  void refresh_gauges();

 private:
  Runtime(RuntimeOptions options, const Clock& clock, size_t memory_budget_bytes);
  // The key pool of `provider`, made on first use; null if it has no api_keys.
  ProviderKeys* keys_for(const config::ProviderConfig& provider);

  RuntimeOptions options_;
  const Clock& clock_;
  config::ServerConfig server_;
  boost::asio::ssl::context tls_;
  MetricsRegistry registry_;
  GatewayMetrics metrics_;
  std::vector<std::unique_ptr<providers::Provider>> providers_;
  std::vector<std::unique_ptr<ProviderKeys>> keys_;            // one per provider with api_keys
  std::unordered_map<std::string, ProviderKeys*> keys_index_;  // by provider name
  std::shared_ptr<IdempotencyStore> idempotency_;
  llm::ValidatorCache validators_;
  KeyRedactor redactor_;
  upstream::MemoryBudget memory_budget_;
  ModelLabels model_labels_;
  std::vector<std::unique_ptr<Deployment>> deployments_;
  std::vector<std::unique_ptr<Alias>> aliases_;
  std::unordered_map<std::string_view, const Alias*> alias_index_;  // keys view Alias::name
  std::vector<UnavailableAlias> unavailable_;
  SeenModels seen_models_;
  const Alias* passthrough_ = nullptr;
};

struct BuildResult {
  std::unique_ptr<Runtime> runtime;   // non-null iff errors is empty
  std::vector<std::string> errors;    // what stops the gateway from starting
  std::vector<std::string> warnings;  // what it starts without
};

}  // namespace sheepdog::gateway
