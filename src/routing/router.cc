#include "routing/router.h"

#include <algorithm>
#include <cmath>

#include "routing/stable_hash.h"

namespace sheepdog {

Status RoutePolicy::validate() const {
  if (targets.empty()) {
    return Status::error("targets: an alias needs at least one deployment");
  }
  if (targets.size() > kMaxRouteTargets) {
    return Status::error("targets: at most " + std::to_string(kMaxRouteTargets) +
                         " deployments per alias");
  }
  bool any_positive = false;
  bool any_canary = false;
  for (size_t i = 0; i < targets.size(); ++i) {
    const double w = targets[i].weight;
    if (!std::isfinite(w) || w < 0) {
      return Status::error("targets[" + std::to_string(i) + "].weight must be finite and >= 0");
    }
    any_positive = any_positive || w > 0;
    any_canary = any_canary || (targets[i].canary && w > 0);
  }
  if (!any_positive) {
    return Status::error("targets: at least one weight must be > 0");
  }
  if (!(canary_percent >= 0 && canary_percent <= 100)) {
    return Status::error("canary_percent must be in [0, 100]");
  }
  if (canary_percent > 0 && !any_canary) {
    return Status::error("canary_percent > 0 needs a canary target with weight > 0");
  }
  if (!std::isfinite(latency_tolerance) || latency_tolerance < 0) {
    return Status::error("latency_tolerance must be finite and >= 0");
  }
  return Status::ok();
}

Router::Router(RoutePolicy policy) : policy_(std::move(policy)) {
  has_canary_ = std::any_of(policy_.targets.begin(), policy_.targets.end(),
                            [](const RouteTarget& t) { return t.canary; });
}

bool Router::prefers_canary(const RouteRequest& request, RandomSource& random) const {
  if (!has_canary_ || policy_.canary_percent <= 0) {
    return false;
  }
  if (policy_.canary_percent >= 100) {
    return true;
  }
  const double fraction = request.sticky_key.empty()
                              ? random.uniform01()
                              : stable_fraction(request.sticky_key, policy_.sticky_seed);
  return fraction * 100 < policy_.canary_percent;
}

void Router::append_side(bool canary, const RouteRequest& request, RandomSource& random,
                         size_t limit, std::vector<size_t>& out) const {
  std::vector<size_t> candidates;
  for (size_t i = 0; i < policy_.targets.size(); ++i) {
    const RouteTarget& t = policy_.targets[i];
    if (t.canary == canary && t.weight > 0 && !request.excluded.test(i)) {
      candidates.push_back(i);
    }
  }
  switch (policy_.strategy) {
    case RoutingStrategy::kWeightedRandom:
      append_weighted_random(policy_.targets, std::move(candidates), random, limit, out);
      break;
    case RoutingStrategy::kLeastLatency:
      // A stats span of the wrong length (a caller bug) is ignored rather than read out of
      // bounds: every candidate then counts as unmeasured.
      append_least_latency(policy_.targets, std::move(candidates),
                           request.stats.size() == policy_.targets.size()
                               ? request.stats
                               : std::span<const DeploymentSnapshot>(),
                           policy_.latency_tolerance, random, limit, out);
      break;
    case RoutingStrategy::kOrdered:
      candidates.resize(std::min(candidates.size(), limit));
      out.insert(out.end(), candidates.begin(), candidates.end());
      break;
  }
}

std::vector<size_t> Router::order(const RouteRequest& request, RandomSource& random,
                                  size_t limit) const {
  std::vector<size_t> out;
  const bool canary_first = prefers_canary(request, random);
  append_side(canary_first, request, random, limit, out);
  if (has_canary_ && out.size() < limit) {
    append_side(!canary_first, request, random, limit - out.size(), out);
  }
  // Weight 0 takes no first attempts, but is kept for retries and fallbacks: after every
  // weighted target, in configuration order (no draw, so the plan stays reproducible).
  for (size_t i = 0; i < policy_.targets.size() && out.size() < limit; ++i) {
    if (policy_.targets[i].weight <= 0 && !request.excluded.test(i)) {
      out.push_back(i);
    }
  }
  return out;
}

std::vector<size_t> Router::plan(const RouteRequest& request, RandomSource& random) const {
  return order(request, random, policy_.targets.size());
}

std::optional<size_t> Router::next(const RouteRequest& request, RandomSource& random) const {
  std::vector<size_t> first = order(request, random, 1);
  if (first.empty()) {
    return std::nullopt;
  }
  return first.front();
}

}  // namespace sheepdog
