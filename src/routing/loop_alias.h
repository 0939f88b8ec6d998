// What the attempt loop (attempt_loop.h) walks: an alias with its deployments ("targets"), its
// retry policy, its retry budget, its router and the aliases to fall back to. The gateway builds
// one per configured model alias (gateway/runtime.h), the simulator one per simulated alias
// (sim/simulator.cc); the loop never knows which.
//
// The pointed-to objects are shared by every request of the alias (and, for breakers, stats and
// key pools, by every alias naming the same deployment) and are thread-safe. Everything here
// must outlive the requests using it.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "resilience/circuit_breaker.h"
#include "resilience/key_pool.h"
#include "resilience/retry_budget.h"
#include "resilience/retry_policy.h"
#include "routing/deployment_stats.h"
#include "routing/router.h"

namespace sheepdog {

struct LoopTarget {
  CircuitBreaker* breaker = nullptr;  // non-null; a disabled policy admits everything
  DeploymentStats* stats = nullptr;   // null: not measured (the simulator)
  KeyPool* keys = nullptr;            // null: no key pool (no key, or the client's own)
};

// How a request of the alias finds its canary side (RouteRequest::sticky_key).
enum class StickyBy : unsigned char { kNone, kUser, kHeader };

struct LoopAlias {
  size_t id = 0;  // the owner's index for it (the gateway's alias, the simulator's)
  std::string name;
  RetryPolicy retry;               // the alias's own; the deadline is the requested alias's
  RetryBudget* budget = nullptr;   // null: no retry budget
  const Router* router = nullptr;  // non-null; targets are indexed like its policy's targets
  std::vector<LoopTarget> targets;
  std::vector<const LoopAlias*> fallbacks;           // in order
  const LoopAlias* context_window_fallback = nullptr;  // for context_length_exceeded
  StickyBy sticky_by = StickyBy::kNone;
  std::string sticky_header;  // kHeader: which request header
};

}  // namespace sheepdog
