#include "config/config.h"

#include <algorithm>

namespace sheepdog::config {

std::string_view to_string(ProviderKind kind) {
  switch (kind) {
    case ProviderKind::kOpenAI:
      return "openai";
    case ProviderKind::kAnthropic:
      return "anthropic";
  }
  return "openai";
}

std::string_view to_string(RoutingStrategy strategy) {
  switch (strategy) {
    case RoutingStrategy::kWeighted:
      return "weighted";
    case RoutingStrategy::kLeastLatency:
      return "least_latency";
    case RoutingStrategy::kCanary:
      return "canary";
  }
  return "weighted";
}

const ProviderConfig* Config::find_provider(std::string_view name) const {
  const auto it = std::find_if(providers.begin(), providers.end(),
                               [&](const ProviderConfig& p) { return p.name == name; });
  return it == providers.end() ? nullptr : &*it;
}

const ModelConfig* Config::find_model(std::string_view alias) const {
  const auto it = std::find_if(models.begin(), models.end(),
                               [&](const ModelConfig& m) { return m.alias == alias; });
  return it == models.end() ? nullptr : &*it;
}

const ResiliencePolicy* Config::find_policy(std::string_view name) const {
  const auto it = std::find_if(policies.begin(), policies.end(),
                               [&](const auto& entry) { return entry.first == name; });
  return it == policies.end() ? nullptr : &it->second;
}

}  // namespace sheepdog::config
