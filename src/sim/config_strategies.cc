#include "sim/config_strategies.h"

namespace sheepdog::sim {

std::vector<Strategy> strategies_from_config(const config::Config& config) {
  std::vector<Strategy> strategies;
  for (const config::ModelConfig& model : config.models) {
    const config::ResiliencePolicy& policy = model.policy;
    Strategy s;
    s.name = model.alias;
    s.summary = "model '" + model.alias + "' of the config (policy '" + model.policy_name +
                "', " + std::to_string(model.deployments.size()) + " deployment(s))";
    s.retry = policy.retry;
    if (policy.circuit_breaker.enabled) {
      s.breaker = policy.circuit_breaker;
    }
    // The gateway keeps a budget per alias whatever its settings; one with both limits off
    // never refuses, which is no budget.
    if (policy.retry_budget.token_bucket_enabled || policy.retry_budget.concurrency_cap_enabled) {
      s.budget = policy.retry_budget;
    }
    s.fallback = model.deployments.size() > 1 || !model.fallbacks.empty();
    if (policy.tool_calls.enabled) {
      s.tool_calls = policy.tool_calls;
    }
    strategies.push_back(std::move(s));
  }
  return strategies;
}

}  // namespace sheepdog::sim
