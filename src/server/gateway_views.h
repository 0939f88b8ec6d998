// The gateway's read-only JSON views: GET /v1/models (the served aliases, in OpenAI's list
// shape so SDKs' models.list() works) and GET /health/deployments (each deployment's breaker
// state and live stats, for operators). Pure functions of the runtime's state at `now`.
#pragma once

#include <string>
#include <string_view>

#include "core/clock.h"
#include "gateway/runtime.h"

namespace sheepdog::server {

// {"object":"list","data":[{"id":ALIAS,"object":"model","created":0,"owned_by":"sheepdog"}]},
// in configuration order; the quick start's passthrough alias is not listed.
std::string models_json(const gateway::Runtime& runtime);

// {"id":ALIAS,"object":"model",...} for one served alias, or "" if it is not one.
std::string model_json(const gateway::Runtime& runtime, std::string_view alias);

// {"deployments":[{"name","aliases":[...],"breaker":"closed|open|half_open","breaker_trips",
//   "open_for_ms" (only while open),"requests","errors","error_rate","mean_latency_ms",
//   "p95_latency_ms","ewma_latency_ms","in_flight"}]}. Latencies are over the recent window of
// successful attempts (0 before the first).
std::string deployments_json(const gateway::Runtime& runtime, TimePoint now);

}  // namespace sheepdog::server
