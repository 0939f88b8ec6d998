// Decoding of `models:`: aliases, their deployments, routing, fallbacks and policy overrides.
#include <algorithm>
#include <array>
#include <cctype>
#include <set>

#include "config/sections.h"

namespace sheepdog::config::internal {
namespace {

constexpr std::array<std::string_view, 6> kModelKeys = {
    "deployments", "routing", "fallbacks", "context_window_fallback", "policy", "overrides"};
constexpr std::array<std::string_view, 3> kDeploymentKeys = {"provider", "model", "weight"};
constexpr std::array<std::string_view, 3> kRoutingKeys = {"strategy", "canary", "ewma_alpha"};
constexpr std::array<std::string_view, 3> kCanaryKeys = {"deployment", "percent", "sticky_by"};
constexpr std::array<std::string_view, 3> kStrategies = {"weighted", "least_latency", "canary"};
constexpr std::string_view kHeaderPrefix = "header:";

std::optional<CanaryConfig> decode_sticky_by(Decoder& d, const YAML::Node& node,
                                             const std::string& path, CanaryConfig canary) {
  const std::optional<std::string> text = d.string(node, path);
  if (!text) {
    return canary;
  }
  if (*text == "none") {
    canary.sticky_by = StickyBy::kNone;
  } else if (*text == "user") {
    canary.sticky_by = StickyBy::kUser;
  } else if (text->starts_with(kHeaderPrefix) && text->size() > kHeaderPrefix.size()) {
    canary.sticky_by = StickyBy::kHeader;
    canary.sticky_header = text->substr(kHeaderPrefix.size());
    for (char& c : canary.sticky_header) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  } else {
    d.error(node, path,
            "unknown value '" + *text + "'; expected 'none', 'user' or 'header:<name>' such as " +
                "'header:x-user-id'");
    return std::nullopt;
  }
  return canary;
}

void decode_routing(Decoder& d, const YAML::Node& node, const std::string& path,
                    size_t deployment_count, ModelConfig& model) {
  if (!d.expect_map(node, path, "of routing settings")) {
    return;
  }
  d.check_keys(node, path, kRoutingKeys);
  RoutingConfig& routing = model.routing;
  const YAML::Node strategy = Decoder::get(node, "strategy");
  if (auto v = d.choice(strategy, join_path(path, "strategy"), kStrategies)) {
    routing.strategy = static_cast<RoutingStrategy>(*v);
  }
  if (auto v = d.number(Decoder::get(node, "ewma_alpha"), join_path(path, "ewma_alpha"),
                        {.min = 0, .max = 1, .min_open = true})) {
    routing.ewma_alpha = *v;
  }

  const YAML::Node canary = Decoder::get(node, "canary");
  const std::string canary_path = join_path(path, "canary");
  const bool is_canary = routing.strategy == RoutingStrategy::kCanary;
  if (!Decoder::present(canary)) {
    if (is_canary) {
      d.error(strategy, join_path(path, "strategy"),
              "strategy 'canary' needs settings; expected routing.canary: {deployment: <index>, "
              "percent: <0-100>}");
    }
    return;
  }
  if (!d.expect_map(canary, canary_path, "{deployment, percent, sticky_by}")) {
    return;
  }
  d.check_keys(canary, canary_path, kCanaryKeys);
  if (!is_canary) {
    d.error(canary, canary_path,
            "canary settings are only used with strategy: canary; expected routing.strategy: "
            "canary, or no canary block");
  }
  const bool has_index = d.require(canary, "deployment", canary_path);
  const bool has_percent = d.require(canary, "percent", canary_path);
  const YAML::Node index = Decoder::get(canary, "deployment");
  const std::string index_field = join_path(canary_path, "deployment");
  if (auto v = has_index ? d.integer(index, index_field, 0) : std::nullopt) {
    if (static_cast<size_t>(*v) >= deployment_count) {
      d.error(index, index_field,
              "index " + std::to_string(*v) + " is out of range; expected 0 to " +
                  std::to_string(deployment_count == 0 ? 0 : deployment_count - 1) +
                  " (the model has " + std::to_string(deployment_count) +
                  " deployments, counted from 0)");
    } else {
      routing.canary.deployment = static_cast<size_t>(*v);
    }
  }
  if (auto v = has_percent ? d.number(Decoder::get(canary, "percent"),
                                      join_path(canary_path, "percent"), {.min = 0, .max = 100})
                           : std::nullopt) {
    routing.canary.percent = *v;
  }
  if (auto v = decode_sticky_by(d, Decoder::get(canary, "sticky_by"),
                                join_path(canary_path, "sticky_by"), routing.canary)) {
    routing.canary = *v;
  }
  if (is_canary && deployment_count < 2) {
    d.error(canary, canary_path,
            "a canary needs another deployment to compare with; expected at least 2 deployments");
  }
}

// Under weighted and canary routing the weights must leave somewhere to send traffic.
void check_weights(Decoder& d, const YAML::Node& list, const std::string& path,
                   const ModelConfig& model) {
  const bool lone_canary =
      model.routing.strategy == RoutingStrategy::kCanary && model.deployments.size() < 2;
  if (model.routing.strategy == RoutingStrategy::kLeastLatency || model.deployments.empty() ||
      lone_canary) {
    return;  // nothing to weigh, or already reported as a canary error
  }
  double total = 0;
  for (size_t i = 0; i < model.deployments.size(); ++i) {
    const bool is_canary_target =
        model.routing.strategy == RoutingStrategy::kCanary && i == model.routing.canary.deployment;
    if (!is_canary_target) {
      total += model.deployments[i].weight;
    }
  }
  if (total <= 0) {
    d.error(list, path,
            "every deployment that takes regular traffic has weight 0; expected at least one "
            "weight > 0");
  }
}

std::optional<DecodedModel> decode_model(Decoder& d, const std::string& alias,
                                         const YAML::Node& key, const YAML::Node& node,
                                         const std::string& path) {
  DecodedModel out;
  out.model.alias = alias;
  out.alias_position = position_of(key);
  if (!Decoder::present(node)) {
    d.error(key, path, "empty model; expected a mapping with deployments: [...]");
    return std::nullopt;
  }
  if (!d.expect_map(node, path, "of model settings")) {
    return std::nullopt;
  }
  d.check_keys(node, path, kModelKeys);
  ModelConfig& model = out.model;

  const YAML::Node list = Decoder::get(node, "deployments");
  const std::string list_path = join_path(path, "deployments");
  size_t deployment_count = 0;
  if (d.require(node, "deployments", path) &&
      d.expect_sequence(list, list_path, "of {provider, model, weight}")) {
    deployment_count = list.size();
    if (deployment_count == 0) {
      d.error(list, list_path,
              "no deployments; expected at least one {provider: <name>, model: <upstream model>}");
    }
    for (size_t i = 0; i < list.size(); ++i) {
      const YAML::Node item = list[i];
      const std::string item_path = index_path(list_path, i);
      if (!Decoder::present(item) || !item.IsMap()) {
        d.error(item, item_path,
                "expected a mapping {provider, model, weight}, got " +
                    std::string(node_type_name(item)));
        continue;
      }
      d.check_keys(item, item_path, kDeploymentKeys);
      DeploymentConfig deployment;
      const bool has_provider = d.require(item, "provider", item_path);
      const bool has_model = d.require(item, "model", item_path);
      const YAML::Node provider = Decoder::get(item, "provider");
      auto provider_name =
          has_provider ? d.name(provider, join_path(item_path, "provider")) : std::nullopt;
      auto model_name = has_model
                            ? d.name(Decoder::get(item, "model"), join_path(item_path, "model"))
                            : std::nullopt;
      if (auto v = d.number(Decoder::get(item, "weight"), join_path(item_path, "weight"),
                            {.min = 0, .max = 1e6})) {
        deployment.weight = *v;
      }
      if (provider_name && model_name) {
        deployment.provider = *provider_name;
        deployment.model = *model_name;
        model.deployments.push_back(std::move(deployment));
        out.provider_positions.push_back(position_of(provider));
      }
    }
  }

  decode_routing(d, Decoder::get(node, "routing"), join_path(path, "routing"), deployment_count,
                 model);
  if (model.deployments.size() == deployment_count) {
    check_weights(d, list, list_path, model);
  }

  const YAML::Node fallbacks = Decoder::get(node, "fallbacks");
  const std::string fallbacks_path = join_path(path, "fallbacks");
  if (d.expect_sequence(fallbacks, fallbacks_path, "of model aliases")) {
    std::set<std::string> seen;
    for (size_t i = 0; i < fallbacks.size(); ++i) {
      const std::string item_path = index_path(fallbacks_path, i);
      if (auto v = d.name(fallbacks[i], item_path)) {
        if (!seen.insert(*v).second) {
          d.error(fallbacks[i], item_path,
                  "duplicate fallback '" + *v + "'; expected each alias once");
          continue;
        }
        model.fallbacks.push_back(*v);
        out.fallback_positions.push_back(position_of(fallbacks[i]));
        out.fallback_paths.push_back(item_path);
      }
    }
  }
  const YAML::Node context_window_fallback = Decoder::get(node, "context_window_fallback");
  if (auto v = d.name(context_window_fallback, join_path(path, "context_window_fallback"))) {
    model.context_window_fallback = *v;
    out.context_window_fallback_position = position_of(context_window_fallback);
  }
  const YAML::Node policy = Decoder::get(node, "policy");
  if (auto v = d.name(policy, join_path(path, "policy"))) {
    model.policy_name = *v;
    out.policy_position = position_of(policy);
  }
  out.overrides =
      decode_policy_overlay(d, Decoder::get(node, "overrides"), join_path(path, "overrides"));
  return out;
}

}  // namespace

std::vector<DecodedModel> decode_models(Decoder& d, const YAML::Node& node) {
  std::vector<DecodedModel> models;
  const std::string path = "models";
  if (!d.expect_map(node, path, "of model aliases to settings")) {
    return models;
  }
  d.check_unique_keys(node, path, "model");
  std::set<std::string> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!it->first.IsScalar() || it->first.Scalar().empty() ||
        !seen.insert(it->first.Scalar()).second) {
      continue;  // reported by check_unique_keys
    }
    const std::string alias = it->first.Scalar();
    if (auto model = decode_model(d, alias, it->first, it->second, join_path(path, alias))) {
      models.push_back(std::move(*model));
    }
  }
  return models;
}

}  // namespace sheepdog::config::internal
