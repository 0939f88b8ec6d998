// Per-API-key rate limits of the mock upstream, so that tests can watch a gateway rotate keys:
// a key over its requests- or tokens-per-minute limit gets the provider's 429 with the exact
// time until the request would be admitted (Retry-After, retry-after-ms).
//
// Each limit is a token bucket (resilience/rate_limiter.h) holding one minute's allowance,
// refilled continuously: rpm 3 admits a burst of 3, then one request every 20 s. That is how
// Anthropic describes its limits, and OpenAI's reset headers behave the same way. A request's
// token cost is its prompt tokens plus the answer tokens it asks for (see chat_token_cost()),
// charged in full when it is admitted and never corrected: what the provider estimates up
// front. A refused request takes nothing from either bucket.
//
// Thread-safe: one mutex over all keys, held for a map look-up and two bucket updates.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "mock/mock_config.h"
#include "mock/mock_content.h"
#include "resilience/rate_limiter.h"

namespace sheepdog::mock {

// Why a key's request was refused.
struct KeyLimitRefusal {
  bool tokens = false;    // the tokens-per-minute limit refused it (else requests per minute)
  int64_t limit = 0;      // that limit, per minute
  int64_t used = 0;       // how much of it is taken now: limit minus what is left, rounded up
  int64_t requested = 0;  // 1 request, or the request's token cost
  // Exact: with no other request for the key, it is admitted at now + retry_after and not a
  // nanosecond earlier. A token cost above the limit can never be admitted: a minute then.
  Duration retry_after{};
};

// The key a client sent: an Authorization value without its "Bearer " (any case), or an
// x-api-key value as is.
std::string_view raw_api_key(std::string_view header_value);

// The tokens a chat request is charged: its prompt (approx_prompt_tokens) plus max_tokens
// capped at config.max_completion_tokens, or config.completion_tokens without max_tokens.
int64_t chat_token_cost(const ChatCall& call, const MockConfig& config);

class KeyLimiter {
 public:
  // Admits one request costing `tokens` for `key` (a raw key) under `limits`, taking from its
  // buckets, or says why not. Keys not in `limits` are always admitted. A key's buckets start
  // full when first seen, and again when its limits change.
  std::optional<KeyLimitRefusal> admit(std::string_view key,
                                       const std::map<std::string, KeyLimit, std::less<>>& limits,
                                       int64_t tokens, TimePoint now);
  // Forgets every key's usage (all buckets full again).
  void reset();

 private:
  struct KeyState {
    KeyLimit limit;
    std::optional<TokenBucket> requests;  // set iff limit.rpm > 0
    std::optional<TokenBucket> tokens;    // set iff limit.tpm > 0
  };

  std::mutex mutex_;
  std::map<std::string, KeyState, std::less<>> keys_;  // guarded by mutex_
};

}  // namespace sheepdog::mock
