// Internal to src/config: decoders for the top-level sections of sheepdog.yaml, and the checks
// that span sections (references between providers, models and policies). The loader (loader.cc)
// runs them in order; each reports into the shared Decoder and keeps going after errors.
#pragma once

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/policy_overlay.h"
#include "config/yaml_decoder.h"

namespace sheepdog::config::internal {

// `server:`. A null node leaves every default.
ServerConfig decode_server(Decoder& decoder, const YAML::Node& node);

// `providers:`. Relative ca_file paths are resolved against `base_dir`.
std::vector<ProviderConfig> decode_providers(Decoder& decoder, const YAML::Node& node,
                                             const std::filesystem::path& base_dir);

// A decoded model together with the nodes that cross-section checks point at.
struct DecodedModel {
  ModelConfig model;
  Position alias_position;                    // the key under models:
  std::vector<Position> provider_positions;   // per deployment, its `provider` value
  std::vector<Position> fallback_positions;   // per entry of model.fallbacks
  std::vector<std::string> fallback_paths;    // per entry of model.fallbacks
  Position context_window_fallback_position;  // nowhere iff none
  Position policy_position;                   // nowhere iff none
  PolicyOverlay overrides;                    // empty iff none
};

// `models:`. Checks everything local to each model (deployments, routing, canary index, list
// shapes); references to other sections are left to check_references().
std::vector<DecodedModel> decode_models(Decoder& decoder, const YAML::Node& node);

// A named policy's overlay and its key under policies:.
struct DecodedPolicy {
  std::string name;
  Position name_position;
  PolicyOverlay overlay;
};

// `policies:`; the entry named "default" (if any) comes first.
std::vector<DecodedPolicy> decode_policies(Decoder& decoder, const YAML::Node& node);

// Resolves every policy: built-in <- policies.default <- named, validating each merge, and each
// model's (named policy <- overrides) into DecodedModel::model.policy. A model naming an unknown
// policy starts from default (the reference error is check_references()' to report). Returns the
// resolved named policies, "default" first.
std::vector<std::pair<std::string, ResiliencePolicy>> resolve_policies(
    Decoder& decoder, const std::vector<DecodedPolicy>& policies,
    std::vector<DecodedModel>& models);

// Unknown providers, fallback and context-window-fallback aliases, policy names, and fallback
// cycles. Warns about providers no model uses (`providers_node` locates them) and models whose
// every provider lacks keys.
void check_references(Decoder& decoder, const YAML::Node& providers_node,
                      const std::vector<ProviderConfig>& providers,
                      const std::vector<DecodedModel>& models,
                      const std::vector<DecodedPolicy>& policies);

}  // namespace sheepdog::config::internal
