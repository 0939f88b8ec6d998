#include "resilience/key_pool.h"

#include <algorithm>

#include "core/key_fingerprint.h"

namespace sheepdog {
namespace {

constexpr Duration kMinute = std::chrono::minutes(1);

}  // namespace

KeyPool::Key::Key(KeySpec s) : spec(std::move(s)), fingerprint(key_fingerprint(spec.key)) {
  if (spec.rpm > 0) {
    requests.emplace(spec.rpm, kMinute);
  }
  if (spec.tpm > 0) {
    tokens.emplace(spec.tpm, kMinute);
  }
}

KeyPool::KeyPool(std::vector<KeySpec> keys) {
  keys_.reserve(keys.size());
  for (KeySpec& spec : keys) {
    keys_.emplace_back(std::move(spec));
  }
}

std::optional<Duration> KeyPool::wait_for(const Key& key, int64_t estimated_tokens, TimePoint now) {
  Duration wait = key.cooling_until > now ? key.cooling_until - now : Duration::zero();
  if (key.requests) {
    wait = std::max(wait, key.requests->time_until(1, now));
  }
  if (key.tokens) {
    const Duration tokens = key.tokens->time_until(std::max<int64_t>(estimated_tokens, 0), now);
    if (tokens == Duration::max()) {
      return std::nullopt;
    }
    wait = std::max(wait, tokens);
  }
  return wait;
}

std::optional<size_t> KeyPool::acquire(int64_t estimated_tokens, TimePoint now) {
  std::lock_guard lock(mutex_);
  const int64_t charge = std::max<int64_t>(estimated_tokens, 0);
  for (size_t i = 0; i < keys_.size(); ++i) {
    const size_t index = (next_ + i) % keys_.size();
    Key& key = keys_[index];
    const std::optional<Duration> wait = wait_for(key, charge, now);
    if (!wait || *wait > Duration::zero()) {
      continue;
    }
    // Both limits have room (checked above), so both adds succeed.
    if (key.requests) {
      key.requests->try_add(1, now);
    }
    if (key.tokens) {
      key.tokens->try_add(charge, now);
    }
    next_ = (index + 1) % keys_.size();
    return index;
  }
  return std::nullopt;
}

std::optional<TimePoint> KeyPool::next_available(int64_t estimated_tokens, TimePoint now) const {
  std::lock_guard lock(mutex_);
  std::optional<Duration> best;
  for (const Key& key : keys_) {
    if (const std::optional<Duration> wait =
            wait_for(key, std::max<int64_t>(estimated_tokens, 0), now)) {
      best = best ? std::min(*best, *wait) : *wait;
    }
  }
  if (!best) {
    return std::nullopt;
  }
  return now + *best;
}

void KeyPool::record_usage(size_t index, int64_t estimated, int64_t actual, TimePoint now) {
  std::lock_guard lock(mutex_);
  Key& key = keys_[index];
  if (key.tokens && actual != estimated) {
    key.tokens->adjust(actual - std::max<int64_t>(estimated, 0), now);
  }
}

void KeyPool::cool_down(size_t index, Duration wait, TimePoint now) {
  std::lock_guard lock(mutex_);
  Key& key = keys_[index];
  key.cooling_until = std::max(key.cooling_until, now + std::max(wait, Duration::zero()));
  ++key.cool_downs;
}

std::vector<KeyPool::KeyState> KeyPool::snapshot(TimePoint now) const {
  std::lock_guard lock(mutex_);
  std::vector<KeyState> out;
  out.reserve(keys_.size());
  for (const Key& key : keys_) {
    KeyState s;
    s.fingerprint = key.fingerprint;
    s.cooling_for = key.cooling_until > now ? key.cooling_until - now : Duration::zero();
    s.rpm = key.spec.rpm;
    s.tpm = key.spec.tpm;
    s.requests_in_window = key.requests ? key.requests->current(now) : 0;
    s.tokens_in_window = key.tokens ? key.tokens->current(now) : 0;
    s.cool_downs = key.cool_downs;
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace sheepdog
