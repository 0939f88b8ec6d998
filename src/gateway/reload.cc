#include "gateway/reload.h"

#include <utility>

namespace sheepdog::gateway {

std::vector<std::string> restart_only_changes(const config::ServerConfig& running,
                                              const config::ServerConfig& next) {
  std::vector<std::string> changed;
  auto check = [&](bool differs, const char* name) {
    if (differs) {
      changed.emplace_back(name);
    }
  };
  check(running.host != next.host, "server.host");
  check(running.port != next.port, "server.port");
  check(running.threads != next.threads, "server.threads");
  check(running.max_body_bytes != next.max_body_bytes, "server.max_body_bytes");
  check(running.max_header_bytes != next.max_header_bytes, "server.max_header_bytes");
  check(running.header_timeout != next.header_timeout, "server.header_timeout");
  check(running.body_timeout != next.body_timeout, "server.body_timeout");
  check(running.idle_timeout != next.idle_timeout, "server.idle_timeout");
  check(running.max_connections != next.max_connections, "server.max_connections");
  check(running.drain_timeout != next.drain_timeout, "server.drain_timeout");
  return changed;
}

ReloadOutcome reload_runtime(Gateway& gateway, const config::ServerConfig& running,
                             const config::Config& next, RuntimeOptions options,
                             const Clock& clock) {
  ReloadOutcome outcome;
  const std::shared_ptr<Runtime> current = gateway.current();
  const config::IdempotencyConfig& was = current->server().idempotency;
  const config::IdempotencyConfig& will = next.server.idempotency;
  if (was.ttl == will.ttl && was.in_progress_timeout == will.in_progress_timeout) {
    options.idempotency = current->shared_idempotency();
  }
  // The HTTP server keeps its limits: the runtime is built with the running ones, so that what
  // it reports (and checks) matches what the server enforces.
  config::Config effective = next;
  outcome.needs_restart = restart_only_changes(running, next.server);
  effective.server.host = running.host;
  effective.server.port = running.port;
  effective.server.threads = running.threads;
  effective.server.max_body_bytes = running.max_body_bytes;
  effective.server.max_header_bytes = running.max_header_bytes;
  effective.server.header_timeout = running.header_timeout;
  effective.server.body_timeout = running.body_timeout;
  effective.server.idle_timeout = running.idle_timeout;
  effective.server.max_connections = running.max_connections;
  effective.server.drain_timeout = running.drain_timeout;

  BuildResult built = Runtime::build(effective, std::move(options), clock);
  outcome.warnings = std::move(built.warnings);
  if (!built.runtime) {
    outcome.errors = std::move(built.errors);
    return outcome;
  }
  outcome.models = built.runtime->aliases().size();
  gateway.replace(std::move(built.runtime));
  outcome.applied = true;
  return outcome;
}

}  // namespace sheepdog::gateway
