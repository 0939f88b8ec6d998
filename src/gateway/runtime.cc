#include "gateway/runtime.h"

#include <algorithm>
#include <array>
#include <string_view>
#include <unordered_map>

#include "providers/anthropic_provider.h"
#include "providers/openai_provider.h"
#include "routing/stable_hash.h"
#include "state/memory/memory_idempotency_store.h"
#include "upstream/tls_context.h"

namespace sheepdog::gateway {
namespace {

RoutingStrategy route_strategy(config::RoutingStrategy strategy) {
  return strategy == config::RoutingStrategy::kLeastLatency ? RoutingStrategy::kLeastLatency
                                                            : RoutingStrategy::kWeightedRandom;
}

// Least-latency routing treats deployments within 10% of the fastest as tied, so near-equal
// deployments share the load instead of the fastest taking it all and slowing down.
constexpr double kLatencyTolerance = 0.1;

// The secrets a misbehaving upstream could echo into an error body: every api_keys entry, and
// the values of headers that carry credentials (Azure's `api-key`, a configured Authorization).
std::vector<std::string> provider_secrets(const config::Config& config) {
  std::vector<std::string> secrets;
  for (const config::ProviderConfig& p : config.providers) {
    for (const config::ApiKeyConfig& key : p.api_keys) {
      secrets.push_back(key.key);
    }
    for (const auto& [name, value] : p.headers) {
      if (upstream::iequals(name, "authorization") || upstream::iequals(name, "api-key") ||
          upstream::iequals(name, "x-api-key")) {
        std::string_view secret = value;
        if (secret.size() > 7 && upstream::iequals(secret.substr(0, 7), "bearer ")) {
          secret.remove_prefix(7);
        }
        secrets.emplace_back(secret);
      }
    }
  }
  return secrets;
}

bool contains(const std::vector<std::string>& names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Sets the breaker gauge and counts transitions. The cells are looked up here, once, because
// the listener runs under the breaker's lock.
void watch_breaker(Deployment& deployment, GatewayMetrics& metrics, StructuredLogger* logger) {
  Gauge& gauge = metrics.breaker_state.with({deployment.name});
  gauge.set(0);
  constexpr std::array<BreakerState, 3> kStates = {BreakerState::kClosed, BreakerState::kOpen,
                                                   BreakerState::kHalfOpen};
  std::array<std::array<Counter*, 3>, 3> transitions{};
  for (BreakerState from : kStates) {
    for (BreakerState to : kStates) {
      transitions[static_cast<size_t>(from)][static_cast<size_t>(to)] =
          from == to ? nullptr
                     : &metrics.breaker_transitions.with(
                           {deployment.name, to_string(from), to_string(to)});
    }
  }
  const std::string* name = &deployment.name;
  deployment.breaker.set_listener(
      [&gauge, transitions, logger, name](BreakerState from, BreakerState to, TimePoint) {
        gauge.set(GatewayMetrics::state_value(to));
        if (Counter* counter = transitions[static_cast<size_t>(from)][static_cast<size_t>(to)]) {
          counter->inc();
        }
        if (logger != nullptr && logger->enabled(LogLevel::kInfo)) {
          LogFields fields;
          fields.str("deployment", *name).str("from", to_string(from)).str("to", to_string(to));
          logger->log(LogLevel::kInfo, "breaker_transition", fields);
        }
      });
}

}  // namespace

Runtime::Runtime(RuntimeOptions options, const Clock& clock, size_t memory_budget_bytes)
    : options_(std::move(options)),
      clock_(clock),
      tls_(boost::asio::ssl::context::tls_client),
      metrics_(registry_),
      memory_budget_(memory_budget_bytes) {}

Runtime::~Runtime() = default;

BuildResult Runtime::build(const config::Config& config, RuntimeOptions options,
                           const Clock& clock) {
  BuildResult result;
  std::unique_ptr<Runtime> rt(new Runtime(
      std::move(options), clock, static_cast<size_t>(config.server.upstream_memory_budget)));
  rt->server_ = config.server;
  rt->redactor_ = KeyRedactor(provider_secrets(config));
  rt->idempotency_ = rt->options_.idempotency != nullptr
                         ? rt->options_.idempotency
                         : std::make_shared<MemoryIdempotencyStore>(
                               config.server.idempotency.ttl,
                               config.server.idempotency.in_progress_timeout);

  // One TLS context for every upstream: the CA files of all providers are trusted together.
  upstream::TlsOptions tls_options;
  tls_options.verify_peer = rt->options_.verify_tls;
  std::vector<std::string> ca_files;
  for (const config::ProviderConfig& p : config.providers) {
    if (!p.ca_file.empty() && !contains(ca_files, p.ca_file)) {
      ca_files.push_back(p.ca_file);
    }
  }
  if (!ca_files.empty()) {
    tls_options.ca_file = ca_files.front();
  }
  if (Status s = upstream::configure_tls_context(tls_options, rt->tls_); !s.is_ok()) {
    result.errors.push_back("TLS setup failed: " + s.message());
    return result;
  }
  for (size_t i = 1; i < ca_files.size(); ++i) {
    boost::system::error_code ec;
    rt->tls_.load_verify_file(ca_files[i], ec);
    if (ec) {
      result.errors.push_back("cannot load CA file " + ca_files[i] + ": " + ec.message());
      return result;
    }
  }

  const providers::Provider* openai =
      rt->providers_.emplace_back(std::make_unique<providers::OpenAIProvider>()).get();
  const providers::Provider* anthropic =
      rt->providers_.emplace_back(std::make_unique<providers::AnthropicProvider>()).get();

  // Indexed lookups: a configuration may hold tens of thousands of providers and models, and
  // linear searches per deployment made the build quadratic.
  std::unordered_map<std::string_view, const config::ProviderConfig*> provider_by_name;
  for (const config::ProviderConfig& p : config.providers) {
    provider_by_name.emplace(p.name, &p);
  }
  std::unordered_map<std::string, Deployment*> deployment_by_name;
  for (const config::ModelConfig& model : config.models) {
    const bool passthrough = model.alias == rt->options_.passthrough_alias;
    RoutePolicy route;
    route.strategy = contains(rt->options_.ordered_aliases, model.alias)
                         ? RoutingStrategy::kOrdered
                         : route_strategy(model.routing.strategy);
    route.sticky_seed = stable_hash64(model.alias);
    route.latency_tolerance = kLatencyTolerance;
    std::vector<Deployment*> deployments;
    UnavailableAlias keyless{model.alias, {}, {}};
    bool canary_kept = false;
    for (size_t i = 0; i < model.deployments.size(); ++i) {
      const config::DeploymentConfig& dc = model.deployments[i];
      const auto found = provider_by_name.find(dc.provider);
      const config::ProviderConfig* pc = found == provider_by_name.end() ? nullptr : found->second;
      const std::string where = "models." + model.alias + ".deployments[" + std::to_string(i) +
                                "] (" + dc.provider + "/" + dc.model + ")";
      if (pc == nullptr) {
        result.errors.push_back(where + ": unknown provider");
        continue;
      }
      if (pc->keys_unavailable) {
        // The loader has warned, per key and per provider; say it once more only if the whole
        // alias goes (below).
        if (!contains(keyless.providers, pc->name)) {
          keyless.providers.push_back(pc->name);
        }
        for (const std::string& variable : pc->unset_key_variables) {
          if (!contains(keyless.variables, variable)) {
            keyless.variables.push_back(variable);
          }
        }
        continue;
      }
      const std::optional<upstream::Endpoint> endpoint = upstream::parse_endpoint(pc->base_url);
      if (!endpoint) {
        result.errors.push_back(where + ": base_url '" + pc->base_url + "' is not usable");
        continue;
      }
      const std::string upstream_model = passthrough ? std::string() : dc.model;
      const std::string name = pc->name + "/" + (passthrough ? "*" : dc.model);
      Deployment*& deployment = deployment_by_name[name];
      if (deployment == nullptr) {
        DeploymentStatsOptions stats_options;
        stats_options.ewma_alpha = model.routing.ewma_alpha;
        auto made = std::make_unique<Deployment>(name, model.policy.circuit_breaker, stats_options);
        made->provider = pc->kind == config::ProviderKind::kAnthropic ? anthropic : openai;
        made->target.origin = endpoint->origin;
        made->target.base_path = endpoint->target == "/" ? "" : endpoint->target;
        made->keys = rt->keys_for(*pc);
        made->target.forward_client_key =
            contains(rt->options_.forward_client_key_providers, pc->name);
        made->target.headers = pc->headers;
        made->upstream_model = upstream_model;
        made->connect_timeout = pc->connect_timeout;
        made->redactor = &rt->redactor_;
        watch_breaker(*made, rt->metrics_, rt->options_.logger);
        deployment = made.get();
        rt->deployments_.push_back(std::move(made));
      }
      const bool canary = model.routing.strategy == config::RoutingStrategy::kCanary &&
                          i == model.routing.canary.deployment;
      canary_kept = canary_kept || (canary && dc.weight > 0);
      route.targets.push_back(RouteTarget{deployments.size(), dc.weight, canary});
      deployments.push_back(deployment);
    }
    if (canary_kept) {
      route.canary_percent = model.routing.canary.percent;
    }
    if (deployments.empty() && !keyless.providers.empty()) {
      rt->unavailable_.push_back(std::move(keyless));
      continue;  // the loader warned that every deployment's provider has no key
    }
    if (deployments.empty()) {
      result.warnings.push_back("models." + model.alias +
                                ": no deployment can be served; alias skipped");
      continue;
    }
    if (Status s = route.validate(); !s.is_ok()) {
      result.warnings.push_back("models." + model.alias + ": " + s.message() + "; alias skipped");
      continue;
    }
    auto alias = std::make_unique<Alias>(model, std::move(route));
    alias->deployments = std::move(deployments);
    LoopAlias& loop = alias->loop;
    loop.id = rt->aliases_.size();
    loop.name = alias->name;
    loop.retry = alias->policy.retry;
    loop.budget = &alias->budget;
    loop.router = &alias->router;
    for (Deployment* d : alias->deployments) {
      loop.targets.push_back(
          LoopTarget{&d->breaker, &d->stats, d->keys != nullptr ? &d->keys->pool() : nullptr});
    }
    loop.sticky_by = alias->sticky_by == config::StickyBy::kUser     ? StickyBy::kUser
                     : alias->sticky_by == config::StickyBy::kHeader ? StickyBy::kHeader
                                                                     : StickyBy::kNone;
    loop.sticky_header = alias->sticky_header;
    rt->alias_index_.emplace(alias->name, alias.get());
    rt->aliases_.push_back(std::move(alias));
  }
  std::unordered_map<std::string_view, const config::ModelConfig*> model_by_alias;
  for (const config::ModelConfig& model : config.models) {
    model_by_alias.emplace(model.alias, &model);
  }

  // Fallbacks may name aliases defined later in the file, so they resolve once all exist.
  for (auto& alias : rt->aliases_) {
    const config::ModelConfig* model = model_by_alias.at(alias->name);
    for (const std::string& name : model->fallbacks) {
      if (const Alias* target = rt->find(name)) {
        alias->fallbacks.push_back(target);
        alias->loop.fallbacks.push_back(&target->loop);
      } else {
        result.warnings.push_back("models." + alias->name + ".fallbacks: '" + name +
                                  "' is not served; fallback skipped");
      }
    }
    if (!model->context_window_fallback.empty()) {
      alias->context_window_fallback = rt->find(model->context_window_fallback);
      if (alias->context_window_fallback != nullptr) {
        alias->loop.context_window_fallback = &alias->context_window_fallback->loop;
      } else {
        result.warnings.push_back("models." + alias->name + ".context_window_fallback: '" +
                                  model->context_window_fallback +
                                  "' is not served; fallback skipped");
      }
    }
  }
  if (!rt->options_.passthrough_alias.empty()) {
    rt->passthrough_ = rt->find(rt->options_.passthrough_alias);
    if (rt->passthrough_ == nullptr) {
      result.errors.push_back("passthrough alias '" + rt->options_.passthrough_alias +
                              "' has no deployment that can be served");
    }
  }
  if (rt->aliases_.empty() && result.errors.empty()) {
    std::vector<std::string> variables;
    for (const UnavailableAlias& alias : rt->unavailable_) {
      for (const std::string& variable : alias.variables) {
        if (!contains(variables, variable)) {
          variables.push_back(variable);
        }
      }
    }
    std::string error = "no model alias can be served";
    if (!variables.empty()) {
      error += ": no provider has an API key; set ";
      for (size_t i = 0; i < variables.size(); ++i) {
        error += (i == 0 ? "" : i + 1 == variables.size() ? " or " : ", ") + variables[i];
      }
      error += " (see the warnings above)";
    } else {
      error += " (see the warnings above)";
    }
    result.errors.push_back(std::move(error));
  }
  if (result.errors.empty()) {
    result.runtime = std::move(rt);
  }
  return result;
}

const Alias* Runtime::find(std::string_view alias) const {
  const auto it = alias_index_.find(alias);
  return it == alias_index_.end() ? nullptr : it->second;
}

const UnavailableAlias* Runtime::unavailable(std::string_view model) const {
  for (const UnavailableAlias& alias : unavailable_) {
    if (alias.name == model) {
      return &alias;
    }
  }
  return nullptr;
}

std::string Runtime::metric_model(std::string_view model) {
  if (find(model) != nullptr) {
    return std::string(model);
  }
  return model_labels_.label(model);
}

const Alias* Runtime::resolve(std::string_view model, bool* passthrough) const {
  const Alias* alias = find(model);
  const bool use_passthrough = alias == nullptr && passthrough_ != nullptr;
  if (passthrough != nullptr) {
    *passthrough = use_passthrough;
  }
  return use_passthrough ? passthrough_ : alias;
}

ProviderKeys* Runtime::keys_for(const config::ProviderConfig& provider) {
  if (provider.api_keys.empty()) {
    return nullptr;
  }
  ProviderKeys*& keys = keys_index_[provider.name];
  if (keys == nullptr) {
    keys = keys_
               .emplace_back(
                   std::make_unique<ProviderKeys>(provider.name, provider.api_keys, metrics_))
               .get();
  }
  return keys;
}

void Runtime::refresh_gauges() {
  const TimePoint now = clock_.now();
  for (const auto& d : deployments_) {
    metrics_.breaker_state.with({d->name}).set(GatewayMetrics::state_value(d->breaker.state(now)));
  }
  for (const auto& keys : keys_) {
    keys->refresh_gauges(now);
  }
}

}  // namespace sheepdog::gateway
