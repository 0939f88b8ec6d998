#include "server/gateway_views.h"

#include <fmt/format.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace sheepdog::server {
namespace {

namespace json = boost::json;

json::object model_object(std::string_view alias) {
  json::object model;
  model["id"] = alias;
  model["object"] = "model";
  model["created"] = 0;
  model["owned_by"] = "sheepdog";
  return model;
}

bool listed(const gateway::Runtime& runtime, const gateway::Alias& alias) {
  return alias.name != runtime.options().passthrough_alias;
}

// The provider's keys by fingerprint, with their limits, the sliding minute's use and rests.
std::string keys_json(const gateway::ProviderKeys& keys, TimePoint now) {
  std::string out = "[";
  bool first = true;
  for (const KeyPool::KeyState& key : keys.pool().snapshot(now)) {
    out += first ? "{" : ",{";
    first = false;
    out +=
        fmt::format(R"("key":{},"provider":{},"cooling":{},"cooling_ms":{:.1f},"rpm_limit":{},)"
                    R"("tpm_limit":{},"requests_last_minute":{:.1f},"tokens_last_minute":{:.1f},)"
                    R"("cool_downs":{}}})",
                    json::serialize(json::string(key.fingerprint)),
                    json::serialize(json::string(keys.provider())),
                    key.cooling_for > Duration::zero() ? "true" : "false", to_ms(key.cooling_for),
                    key.rpm, key.tpm, key.requests_in_window, key.tokens_in_window, key.cool_downs);
  }
  out += "]";
  return out;
}

}  // namespace

std::string models_json(const gateway::Runtime& runtime) {
  json::array data;
  for (const auto& alias : runtime.aliases()) {
    if (listed(runtime, *alias)) {
      data.push_back(model_object(alias->name));
    }
  }
  // Passthrough mode: the names the upstreams have answered for (gateway/seen_models.h).
  if (!runtime.options().passthrough_alias.empty()) {
    for (const std::string& name : runtime.seen_models().names()) {
      if (runtime.find(name) == nullptr) {
        data.push_back(model_object(name));
      }
    }
  }
  json::object list;
  list["object"] = "list";
  list["data"] = std::move(data);
  return json::serialize(list);
}

std::string model_json(const gateway::Runtime& runtime, std::string_view alias) {
  const gateway::Alias* found = runtime.find(alias);
  if (found == nullptr && !runtime.options().passthrough_alias.empty() &&
      runtime.seen_models().contains(alias)) {
    return json::serialize(model_object(alias));
  }
  if (found == nullptr || !listed(runtime, *found)) {
    return {};
  }
  return json::serialize(model_object(found->name));
}

std::string deployments_json(const gateway::Runtime& runtime, TimePoint now) {
  // Written by hand rather than through json::serialize, which prints every double in
  // exponent form ("3.4E2"); people read this view.
  std::string out = R"({"deployments":[)";
  bool first = true;
  for (const auto& deployment : runtime.deployments()) {
    const DeploymentSnapshot stats = deployment->stats.snapshot();
    const BreakerState state = deployment->breaker.state(now);
    json::array aliases;
    for (const auto& alias : runtime.aliases()) {
      for (const gateway::Deployment* member : alias->deployments) {
        if (member == deployment.get()) {
          aliases.push_back(json::string(alias->name));
          break;
        }
      }
    }
    out += first ? "{" : ",{";
    first = false;
    out += fmt::format(R"("name":{},"aliases":{},"breaker":"{}","breaker_trips":{},)",
                       json::serialize(json::string(deployment->name)), json::serialize(aliases),
                       to_string(state), deployment->breaker.trips());
    if (state == BreakerState::kOpen) {
      out += fmt::format(R"("open_for_ms":{:.1f},)", to_ms(deployment->breaker.open_until() - now));
    }
    out += fmt::format(R"("requests":{},"errors":{},"error_rate":{:.4f},"mean_latency_ms":{:.3f},)"
                       R"("p95_latency_ms":{:.3f},"ewma_latency_ms":{:.3f},"in_flight":{})",
                       stats.requests, stats.errors, stats.error_rate(), stats.window_mean_ms,
                       stats.window_p95_ms, stats.measured() ? stats.ewma_latency_ms : 0.0,
                       stats.in_flight);
    if (deployment->keys != nullptr) {
      out += R"(,"keys":)" + keys_json(*deployment->keys, now);
    }
    out += "}";
  }
  out += "]}";
  return out;
}

}  // namespace sheepdog::server
