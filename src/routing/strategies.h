// The ordering strategies behind the router, as pure functions: given candidate targets (and,
// for least latency, their stats), append them in order of preference. Randomness comes only
// from the RandomSource passed in, so a seeded source reproduces an order exactly.
#pragma once

#include <bitset>
#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/random.h"
#include "routing/deployment_stats.h"

namespace sheepdog {

// An alias names at most this many deployments, so a set of them fits a bitset.
inline constexpr size_t kMaxRouteTargets = 64;
// Bit i stands for targets[i].
using TargetMask = std::bitset<kMaxRouteTargets>;

// One deployment as routing sees it. The config layer maps its deployments onto these.
struct RouteTarget {
  size_t deployment = 0;  // the caller's id for it; routing carries it and never reads it
  // Relative share of traffic, >= 0. 0 takes no first attempts but serves retries and
  // fallbacks, after every weighted target (router.h).
  double weight = 1.0;
  bool canary = false;  // receives the canary share of traffic (see RoutePolicy)
};

enum class RoutingStrategy : unsigned char {
  kWeightedRandom,  // draw by weight, then again among the rest for the failover order
  kLeastLatency,    // lowest latency EWMA first; unmeasured deployments before all others
  kOrdered,         // as listed: the first is primary, the rest are fallbacks in order
};
std::string_view to_string(RoutingStrategy strategy);  // "weighted_random", "least_latency", ...
std::optional<RoutingStrategy> parse_routing_strategy(std::string_view name);

// Appends up to `limit` of `candidates` (positions in `targets`) to `out`, by successive
// weighted draws without replacement: the first with probability weight / total weight, the
// next likewise among those left. One draw per position, none when one candidate is left.
// REQUIRES: every candidate has weight > 0.
void append_weighted_random(std::span<const RouteTarget> targets, std::vector<size_t> candidates,
                            RandomSource& random, size_t limit, std::vector<size_t>& out);

// Appends up to `limit` of `candidates` to `out`, fastest first:
//   1. unmeasured candidates (no stats, or no successful sample yet), in weighted-random order,
//      so a new or recovered deployment gets measured instead of starved;
//   2. measured ones by ascending EWMA latency. Candidates within `tolerance` of the fastest
//      remaining (ewma <= best * (1 + tolerance)) count as tied and go in weighted-random
//      order; then the same again among the rest. With tolerance 0 only exact ties are mixed.
// `stats` is indexed like `targets`, or empty (then every candidate is unmeasured).
// REQUIRES: every candidate has weight > 0; stats.empty() || stats.size() == targets.size().
void append_least_latency(std::span<const RouteTarget> targets, std::vector<size_t> candidates,
                          std::span<const DeploymentSnapshot> stats, double tolerance,
                          RandomSource& random, size_t limit, std::vector<size_t>& out);

}  // namespace sheepdog
