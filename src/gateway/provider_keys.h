// One provider's API keys as the attempt loop uses them: the KeyPool (resilience/key_pool.h)
// that decides which key has room, plus the metric cells of each key, looked up once at
// start-up so an attempt only increments them. Shared by every deployment of the provider and
// by every io thread (the pool and the cells are thread-safe).
//
// Which refusals rest a key: a 429 (rate_limited) for its Retry-After, or kDefaultCoolDown
// when the provider gave none; an exhausted quota (quota_exhausted, a 429 saying the account
// is out of credit) for kQuotaCoolDown, since it will not come back within a request's
// lifetime. An auth failure (401/403: a revoked or mistyped key) rests the key for
// kQuotaCoolDown too, so requests rotate to the provider's other keys meanwhile and the rest
// shows in /health/deployments; with no key or deployment left the client gets a 502 naming it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/error_kind.h"
#include "gateway/gateway_metrics.h"
#include "resilience/key_pool.h"

namespace sheepdog::gateway {

class ProviderKeys {
 public:
  static constexpr Duration kDefaultCoolDown = seconds(1);
  static constexpr Duration kQuotaCoolDown = seconds(60);

  // REQUIRES: !keys.empty().
  ProviderKeys(std::string provider, const std::vector<config::ApiKeyConfig>& keys,
               GatewayMetrics& metrics);

  const std::string& provider() const { return provider_; }
  KeyPool& pool() { return pool_; }
  const KeyPool& pool() const { return pool_; }

  // A key with room for `estimated_tokens`, charged and counted; nullopt if none has.
  std::optional<size_t> acquire(int64_t estimated_tokens, TimePoint now);

  // Whether an attempt that failed with `kind` rests its key (see the file comment).
  static bool rests_key(ErrorKind kind);
  // Rests key `index` after a refusal of `kind` (REQUIRES: rests_key(kind)); `pushback` is the
  // provider's requested wait, if any.
  void rest(size_t index, ErrorKind kind, std::optional<Duration> pushback, TimePoint now);

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
