// Decoding and resolution of `policies:`: named overlays merged over policies.default and the
// built-in defaults, then each model's overrides on top (see policy_overlay.h).
#include <algorithm>
#include <map>
#include <set>

#include "config/sections.h"

namespace sheepdog::config::internal {

std::vector<DecodedPolicy> decode_policies(Decoder& d, const YAML::Node& node) {
  std::vector<DecodedPolicy> policies;
  const std::string path = "policies";
  if (!d.expect_map(node, path, "of policy names to policy fields")) {
    return policies;
  }
  d.check_unique_keys(node, path, "policy");
  std::set<std::string> seen;
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (!it->first.IsScalar() || it->first.Scalar().empty() ||
        !seen.insert(it->first.Scalar()).second) {
      continue;
    }
    const std::string name = it->first.Scalar();
    // A policy mapping placed directly under policies: (a common slip) shows up as policy
    // names that are really policy keys.
    const std::span<const std::string_view> keys = policy_keys();
    if (std::find(keys.begin(), keys.end(), name) != keys.end()) {
      d.error(it->first, join_path(path, name),
              "'" + name +
                  "' is a policy field, not a policy name; expected it under "
                  "policies.default (or another named policy)");
      continue;
    }
    DecodedPolicy policy{name, position_of(it->first),
                         decode_policy_overlay(d, it->second, join_path(path, name))};
    if (name == "default") {
      policies.insert(policies.begin(), std::move(policy));
    } else {
      policies.push_back(std::move(policy));
    }
  }
  return policies;
}

std::vector<std::pair<std::string, ResiliencePolicy>> resolve_policies(
    Decoder& d, const std::vector<DecodedPolicy>& policies, std::vector<DecodedModel>& models) {
  std::vector<std::pair<std::string, ResiliencePolicy>> resolved;
  PolicyMerge base;
  const bool has_default = !policies.empty() && policies.front().name == "default";
  if (has_default) {
    base.apply(policies.front().overlay);
    validate_merged_policy(d, base, policies.front().overlay);
  }
  resolved.emplace_back("default", base.policy());

  std::map<std::string, PolicyMerge, std::less<>> named;
  for (const DecodedPolicy& policy : policies) {
    if (policy.name == "default") {
      continue;
    }
    PolicyMerge merge = base;
    merge.apply(policy.overlay);
    validate_merged_policy(d, merge, policy.overlay);
    resolved.emplace_back(policy.name, merge.policy());
    named.emplace(policy.name, std::move(merge));
  }

  for (DecodedModel& decoded : models) {
    const auto it = named.find(decoded.model.policy_name);
    const PolicyMerge& start = it == named.end() ? base : it->second;
    if (decoded.overrides.fields.empty()) {
      decoded.model.policy = start.policy();
      continue;
    }
    PolicyMerge merge = start;
    merge.apply(decoded.overrides);
    validate_merged_policy(d, merge, decoded.overrides);
    decoded.model.policy = merge.policy();
  }
  return resolved;
}

}  // namespace sheepdog::config::internal
