#include "routing/strategies.h"

#include <algorithm>
#include <array>

namespace sheepdog {
namespace {

constexpr std::array<std::string_view, 3> kStrategyNames = {"weighted_random", "least_latency",
                                                            "ordered"};

}  // namespace

std::string_view to_string(RoutingStrategy strategy) {
  return kStrategyNames[static_cast<size_t>(strategy)];
}

std::optional<RoutingStrategy> parse_routing_strategy(std::string_view name) {
  for (size_t i = 0; i < kStrategyNames.size(); ++i) {
    if (kStrategyNames[i] == name) {
      return static_cast<RoutingStrategy>(i);
    }
  }
  return std::nullopt;
}

void append_weighted_random(std::span<const RouteTarget> targets, std::vector<size_t> candidates,
                            RandomSource& random, size_t limit, std::vector<size_t>& out) {
  size_t taken = 0;
  while (!candidates.empty() && taken < limit) {
    size_t chosen = 0;
    if (candidates.size() > 1) {
      double total = 0;
      for (size_t c : candidates) {
        total += targets[c].weight;
      }
      const double r = random.uniform01() * total;
      double cumulative = 0;
      // Rounding can leave r at or past the last cumulative sum: the last candidate then wins,
      // which is where that sliver of probability belongs.
      chosen = candidates.size() - 1;
      for (size_t i = 0; i < candidates.size(); ++i) {
        cumulative += targets[candidates[i]].weight;
        if (r < cumulative) {
          chosen = i;
          break;
        }
      }
    }
    out.push_back(candidates[chosen]);
    candidates.erase(candidates.begin() + static_cast<std::ptrdiff_t>(chosen));
    ++taken;
  }
}

void append_least_latency(std::span<const RouteTarget> targets, std::vector<size_t> candidates,
                          std::span<const DeploymentSnapshot> stats, double tolerance,
                          RandomSource& random, size_t limit, std::vector<size_t>& out) {
  const size_t stop = out.size() + std::min(limit, candidates.size());
  std::vector<size_t> unmeasured;
  std::vector<size_t> measured;
  for (size_t c : candidates) {
    (stats.empty() || !stats[c].measured() ? unmeasured : measured).push_back(c);
  }
  append_weighted_random(targets, std::move(unmeasured), random, stop - out.size(), out);
  while (!measured.empty() && out.size() < stop) {
    double best = stats[measured.front()].ewma_latency_ms;
    for (size_t c : measured) {
      best = std::min(best, stats[c].ewma_latency_ms);
    }
    const double ceiling = best * (1 + tolerance);
    std::vector<size_t> band;
    std::vector<size_t> rest;
    for (size_t c : measured) {
      (stats[c].ewma_latency_ms <= ceiling ? band : rest).push_back(c);
    }
    append_weighted_random(targets, std::move(band), random, stop - out.size(), out);
    measured = std::move(rest);
  }
}

}  // namespace sheepdog
