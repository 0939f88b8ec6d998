#include "mock/mock_key_limits.h"

#include <algorithm>
#include <cmath>

namespace sheepdog::mock {
namespace {

constexpr Duration kMinute = minutes(1);

TokenBucket minute_bucket(int64_t per_minute, TimePoint now) {
  const auto capacity = static_cast<double>(per_minute);
  return TokenBucket(capacity, capacity / to_seconds(kMinute), now);
}

// The refusal `bucket` (a limit of `limit` per minute) gives a request of `n`, or nullopt.
std::optional<KeyLimitRefusal> check(const TokenBucket& bucket, int64_t limit, int64_t n,
                                     bool tokens, TimePoint now) {
  const auto wanted = static_cast<double>(n);
  const Duration wait = bucket.time_until(wanted, now);
  if (wait == Duration::zero()) {
    return std::nullopt;
  }
  KeyLimitRefusal refusal;
  refusal.tokens = tokens;
  refusal.limit = limit;
  refusal.used = limit - static_cast<int64_t>(std::floor(bucket.available(now)));
  refusal.requested = n;
  refusal.retry_after = wait == Duration::max() ? kMinute : wait;
  return refusal;
}

}  // namespace

std::string_view raw_api_key(std::string_view header_value) {
  constexpr std::string_view kBearer = "bearer ";
  if (header_value.size() >= kBearer.size() &&
      std::equal(kBearer.begin(), kBearer.end(), header_value.begin(), [](char a, char b) {
        return a == (b >= 'A' && b <= 'Z' ? static_cast<char>(b - 'A' + 'a') : b);
      })) {
    header_value.remove_prefix(kBearer.size());
  }
  return header_value;
}

int64_t chat_token_cost(const ChatCall& call, const MockConfig& config) {
  const size_t answer = call.max_tokens ? std::min(*call.max_tokens, config.max_completion_tokens)
                                        : config.completion_tokens;
  return static_cast<int64_t>(approx_prompt_tokens(call) + answer);
}

std::optional<KeyLimitRefusal> KeyLimiter::admit(
    std::string_view key, const std::map<std::string, KeyLimit, std::less<>>& limits,
    int64_t tokens, TimePoint now) {
  const auto limit = limits.find(key);
  if (limit == limits.end() || (limit->second.rpm <= 0 && limit->second.tpm <= 0)) {
    return std::nullopt;
  }
  std::lock_guard lock(mutex_);
  auto it = keys_.find(key);
  if (it == keys_.end() || it->second.limit != limit->second) {
    KeyState state{limit->second, std::nullopt, std::nullopt};
    if (state.limit.rpm > 0) {
      state.requests = minute_bucket(state.limit.rpm, now);
    }
    if (state.limit.tpm > 0) {
      state.tokens = minute_bucket(state.limit.tpm, now);
    }
    it = keys_.insert_or_assign(std::string(key), std::move(state)).first;
  }
  KeyState& state = it->second;
  std::optional<KeyLimitRefusal> refusal;
  if (state.requests) {
    refusal = check(*state.requests, state.limit.rpm, 1, /*tokens=*/false, now);
  }
  if (state.tokens) {
    std::optional<KeyLimitRefusal> by_tokens =
        check(*state.tokens, state.limit.tpm, tokens, /*tokens=*/true, now);
    // The longer wait is the one the client must sit out.
    if (by_tokens && (!refusal || by_tokens->retry_after > refusal->retry_after)) {
      refusal = by_tokens;
    }
  }
  if (refusal) {
    return refusal;
  }
  if (state.requests) {
    state.requests->try_take(1, now);
  }
  if (state.tokens) {
    state.tokens->try_take(static_cast<double>(tokens), now);
  }
  return std::nullopt;
}

void KeyLimiter::reset() {
  std::lock_guard lock(mutex_);
  keys_.clear();
}

}  // namespace sheepdog::mock
