// Applying a new configuration to a running gateway (`serve` does it on SIGHUP): the new
// runtime is built first, and only a runtime that builds replaces the running one, so a bad
// file changes nothing. Requests already running finish on the runtime they started with
// (gateway.h).
//
// What carries over: the idempotency store (answers to replay, keys in progress) when
// server.idempotency is unchanged. What starts afresh: breaker states, key rests and rate
// windows, deployment statistics and metric counters (Prometheus' rate() reads a counter reset
// as one). What cannot change without a restart: the listening socket and the HTTP server's
// limits (host, port, threads, body and header limits and timeouts, max_connections,
// drain_timeout); a change to one is reported and the running value stays.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "gateway/gateway.h"
#include "gateway/runtime.h"

namespace sheepdog::gateway {

struct ReloadOutcome {
  bool applied = false;
  std::vector<std::string> errors;    // why it was not applied (the runtime build's verdicts)
  std::vector<std::string> warnings;  // the runtime build's warnings
  // The server settings that changed in the file but keep their running value.
  std::vector<std::string> needs_restart;
  size_t models = 0;  // aliases served from now on, if applied
};

// Builds a runtime for `next` (with `options`) and, if it builds, makes `gateway` use it.
// `running` is the configuration the gateway serves now (for the needs_restart comparison).
ReloadOutcome reload_runtime(Gateway& gateway, const config::ServerConfig& running,
                             const config::Config& next, RuntimeOptions options,
                             const Clock& clock);

// The names of the settings that differ between `running` and `next` and need a restart.
std::vector<std::string> restart_only_changes(const config::ServerConfig& running,
                                              const config::ServerConfig& next);

}  // namespace sheepdog::gateway
