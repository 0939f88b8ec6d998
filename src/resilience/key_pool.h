// A provider's API keys, each with the limits the provider states for it (requests and tokens
// per minute), and the cool-downs the provider imposes (a 429 with Retry-After). The attempt
// loop asks for a key with room for its request; the pool answers with one, or with the time
// the first key frees up, so the request can wait (within its deadline) or tell the client when
// to come back. Keys are tried round robin from the last one given out, so load spreads over
// keys instead of exhausting the first.
//
// Tokens per minute are charged up front with the request's estimate and corrected when the
// answer reports its usage (record_usage). Time is passed in; no I/O. Thread-safe: one pool
// per provider, shared by the io threads.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "resilience/rate_limiter.h"

namespace sheepdog {

struct KeySpec {
  std::string key;
  int64_t rpm = 0;  // requests per minute; 0 = not stated (unlimited here)
  int64_t tpm = 0;  // tokens per minute; 0 = not stated
};

class KeyPool {
 public:
  // REQUIRES: !keys.empty(), every rpm and tpm >= 0.
  explicit KeyPool(std::vector<KeySpec> keys);

  size_t size() const { return keys_.size(); }
  // The key itself, to send. Never log it: fingerprint(index) is for that.
  const std::string& key(size_t index) const { return keys_[index].spec.key; }
  const std::string& fingerprint(size_t index) const { return keys_[index].fingerprint; }

  // A key that is not cooling down and has room for one more request of `estimated_tokens`,
  // charged to it; nullopt when none has.
  std::optional<size_t> acquire(int64_t estimated_tokens, TimePoint now);

  // When acquire(estimated_tokens) will first succeed if nothing else happens: `now` if it
  // would now; nullopt if never (the estimate exceeds every key's TPM).
  std::optional<TimePoint> next_available(int64_t estimated_tokens, TimePoint now) const;

  // The answer reported `actual` tokens for a request charged `estimated`: corrects the key's
  // TPM count by the difference (either way).
  void record_usage(size_t index, int64_t estimated, int64_t actual, TimePoint now);

  // The provider refused the key (429): it takes no requests until now + wait. A later, shorter
  // cool-down does not cut an earlier, longer one short.
  void cool_down(size_t index, Duration wait, TimePoint now);

  struct KeyState {
    std::string fingerprint;
    Duration cooling_for{};  // zero when available
    int64_t rpm = 0;
    int64_t tpm = 0;
    double requests_in_window = 0;  // the sliding minute's estimate
    double tokens_in_window = 0;
    uint64_t cool_downs = 0;  // 429s recorded, ever
  };
  std::vector<KeyState> snapshot(TimePoint now) const;

 private:
  struct Key {
    explicit Key(KeySpec s);
    KeySpec spec;
    std::string fingerprint;
    std::optional<SlidingWindowLimiter> requests;  // set iff rpm > 0
    std::optional<SlidingWindowLimiter> tokens;    // set iff tpm > 0
    TimePoint cooling_until{};
    uint64_t cool_downs = 0;
  };

  // How long until `key` takes one request of `estimated_tokens`; nullopt if never.
  static std::optional<Duration> wait_for(const Key& key, int64_t estimated_tokens, TimePoint now);

  mutable std::mutex mutex_;
  std::vector<Key> keys_;
  size_t next_ = 0;  // where the round robin starts
};

}  // namespace sheepdog
