// Chooses among one alias's deployments: the preference order for a request, and the next
// candidate for the attempt loop.
//
// Two steps. First the canary split: when some targets are flagged canary, `canary_percent`% of
// requests prefer the canary side and the rest the stable side. A request with a sticky key
// (the request's `user` field, or a header the config names) is placed by a stable hash of the
// key, so the same user always lands on the same side; without a key the side is drawn at
// random. Then the strategy orders each side's targets; the preferred side comes first and the
// other side follows as failover, because a canary answer beats an error. Targets with weight 0
// come last, in configuration order: they take no first attempts but serve retries and
// fallbacks once every weighted target is tried or excluded. Excluded targets (breaker open,
// already tried, no quota) never appear.
//
// Pure: the only inputs are the policy, the request (key, exclusions, stats snapshot) and the
// RandomSource; nothing is remembered between calls. Thread-safe (const), but each thread needs
// its own RandomSource.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/random.h"
#include "core/status.h"
#include "routing/deployment_stats.h"
#include "routing/strategies.h"

namespace sheepdog {

struct RoutePolicy {
  RoutingStrategy strategy = RoutingStrategy::kWeightedRandom;
  std::vector<RouteTarget> targets;
  // Share of requests (0 to 100) that prefer the canary targets. 0 keeps canaries as
  // failover only; 100 sends everything to them first.
  double canary_percent = 0;
  // Seeds the sticky hash; give each alias its own (e.g. a hash of its name) so its split is
  // independent of other aliases'.
  uint64_t sticky_seed = 0;
  // kLeastLatency: relative band around the fastest EWMA treated as a tie (0.1 = within 10%),
  // spreading load over near-equals instead of piling onto the one fastest deployment.
  double latency_tolerance = 0;

  // Ok iff 1 <= targets.size() <= kMaxRouteTargets, every weight finite and >= 0 with at least
  // one > 0, canary_percent in [0, 100] and, if > 0, some canary target has weight > 0, and
  // latency_tolerance finite and >= 0. The message names the field.
  Status validate() const;
};

// What one routing decision looks at.
struct RouteRequest {
  std::string_view sticky_key;  // empty: no key, the canary side is drawn at random
  TargetMask excluded;          // bit i set: targets[i] may not be chosen now
  // Indexed like the policy's targets, or empty. Only kLeastLatency reads it; a span of any
  // other length is ignored (everything counts as unmeasured).
  std::span<const DeploymentSnapshot> stats;
};

class Router {
 public:
  // REQUIRES: policy.validate() is ok.
  explicit Router(RoutePolicy policy);

  const RoutePolicy& policy() const { return policy_; }

  // The full preference order: positions in policy().targets, first = primary choice, the rest
  // the failover order. Every target that is not excluded appears exactly once, weight 0 last.
  std::vector<size_t> plan(const RouteRequest& request, RandomSource& random) const;

  // The first of plan(), computed without ordering the rest; nullopt iff every target is
  // excluded. The attempt loop calls it before each attempt, with the targets
  // tried so far added to `excluded`.
  std::optional<size_t> next(const RouteRequest& request, RandomSource& random) const;

  // Whether the request prefers the canary side. False when no target is a canary.
  // Consumes one random draw iff there is no sticky key and 0 < canary_percent < 100.
  bool prefers_canary(const RouteRequest& request, RandomSource& random) const;

 private:
  std::vector<size_t> order(const RouteRequest& request, RandomSource& random, size_t limit) const;
  void append_side(bool canary, const RouteRequest& request, RandomSource& random, size_t limit,
                   std::vector<size_t>& out) const;

  const RoutePolicy policy_;
  bool has_canary_ = false;
};

}  // namespace sheepdog
