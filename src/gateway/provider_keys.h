// One provider's API keys as the gateway counts them: the KeyPool (resilience/key_pool.h) that
// decides which key has room, which the attempt loop uses directly, plus the metric cells of
// each key, looked up once at start-up so an attempt only increments them. Which refusals rest
// a key, and for how long, is the loop's key rotation policy (resilience/key_rotation.h).
// Shared by every deployment of the provider and by every io thread (the pool and the cells
// are thread-safe).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "gateway/gateway_metrics.h"
#include "resilience/key_pool.h"

namespace sheepdog::gateway {

class ProviderKeys {
 public:
  // REQUIRES: !keys.empty().
  ProviderKeys(std::string provider, const std::vector<config::ApiKeyConfig>& keys,
               GatewayMetrics& metrics);

  const std::string& provider() const { return provider_; }
  KeyPool& pool() { return pool_; }
  const KeyPool& pool() const { return pool_; }

  // Counts an attempt made with key `index` / a rest of key `index` (the loop rested it).
  void count_use(size_t index);
  void count_rest(size_t index);

  // Counts a request that found every key at its limit: it `waited`, or was refused.
  void count_wait(bool waited);

  // Sets each key's cooling gauge to its state at `now` (called on scrape).
  void refresh_gauges(TimePoint now);

 private:
  struct Cells {
    Counter* requests;
    Counter* cool_downs;
    Gauge* cooling;
  };

  const std::string provider_;
  KeyPool pool_;
  std::vector<Cells> cells_;  // [key index]
  Counter* waited_;
  Counter* refused_;
};

}  // namespace sheepdog::gateway
