// Policies in the config are overlays: each mapping (policies.default, a named policy, a model's
// overrides) sets some fields and leaves the rest to what lies beneath. Resolution applies them
// field by field in order: built-in defaults <- policies.default <- named policy <- overrides.
//
// An overlay is decoded once (so its errors are reported once) into a list of setters; a
// PolicyMerge applies overlays and remembers which overlay set each field, so an invalid
// combination (attempt timeout above total timeout, say) is reported where it was introduced.
#pragma once

#include <yaml-cpp/yaml.h>

#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/yaml_decoder.h"

namespace sheepdog::config {

// One field set by an overlay.
struct PolicyField {
  std::string key;    // relative to the policy, config spelling: "timeouts.attempt"
  Position position;  // of the value
  std::function<void(ResiliencePolicy&)> apply;
};

struct PolicyOverlay {
  std::string path;   // "policies.strict", "models.gpt-4o.overrides"
  Position position;  // of the mapping; nowhere if the overlay is absent
  std::vector<PolicyField> fields;
};

// Decodes a policy mapping, reporting unknown keys, wrong types and out-of-range single values.
// A null node gives an empty overlay.
PolicyOverlay decode_policy_overlay(Decoder& decoder, const YAML::Node& node, std::string path);

// The top-level keys of a policy mapping, for did-you-mean hints elsewhere.
std::span<const std::string_view> policy_keys();

class PolicyMerge {
 public:
  // Where a field's current value came from.
  struct Origin {
    std::string path;  // full config path of the value
    Position position;
    int order = 0;  // later applications have larger orders
  };

  // Starts from the built-in defaults.
  PolicyMerge() = default;

  void apply(const PolicyOverlay& overlay);
  const ResiliencePolicy& policy() const { return policy_; }
  // nullptr iff the field still holds its built-in default.
  const Origin* origin(std::string_view key) const;

 private:
  ResiliencePolicy policy_;
  std::map<std::string, Origin, std::less<>> origins_;
  int order_ = 0;
};

// Checks what single fields cannot: combinations (timeouts.attempt <= timeouts.total,
// backoff.max_delay >= backoff.base_delay, circuit breaker and retry budget consistency), then
// the resilience policies' own validate() as the final word. Each problem is reported at the
// field set last among those involved; validate() failures my checks do not foresee are reported
// at `last`, the overlay applied last. True iff the merged policy is valid.
bool validate_merged_policy(Decoder& decoder, const PolicyMerge& merge, const PolicyOverlay& last);

}  // namespace sheepdog::config
