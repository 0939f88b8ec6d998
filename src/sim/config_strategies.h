// The gateway's own configuration as simulator strategies: `sheepdog simulate --config
// sheepdog.yaml` compares the user's real policies on a scenario's world. One strategy per
// model alias, named after it, with exactly the policy objects `serve` would give that alias
// (config/ decodes the file, the same decoder serve uses): its retry policy, circuit breaker,
// retry budget and tool-call validation. The scenario's upstreams stand for the alias's
// deployments in order: the primary, then (when the alias has more than one deployment or a
// fallback alias) the fallback.
#pragma once

#include <vector>

#include "config/config.h"
#include "sim/strategy.h"

namespace sheepdog::sim {

// In the config's model order.
std::vector<Strategy> strategies_from_config(const config::Config& config);

}  // namespace sheepdog::sim
