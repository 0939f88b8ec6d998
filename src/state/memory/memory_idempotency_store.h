// The in-process IdempotencyStore: a map from key to entry under one mutex, swept lazily. Its
// awaitable operations complete at once and never fail; the *_now versions are the same
// operations for synchronous callers (tests). Thread-safe.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "state/idempotency_store.h"

namespace sheepdog {

class MemoryIdempotencyStore final : public IdempotencyStore {
 public:
  // `ttl`: how long answers are kept. `in_progress_ttl`: how long a begun execution holds its
  // key without completing before a repeat may execute again (a crashed or stuck execution
  // must not block its key forever). REQUIRES: both > 0.
  MemoryIdempotencyStore(Duration ttl, Duration in_progress_ttl);

  boost::asio::awaitable<Begin> begin(std::string key, uint64_t body_hash,
                                      TimePoint now) override;
  boost::asio::awaitable<Status> complete(std::string key, StoredResponse response,
                                          TimePoint now) override;
  boost::asio::awaitable<Status> abandon(std::string key) override;

  Begin begin_now(const std::string& key, uint64_t body_hash, TimePoint now);
  void complete_now(const std::string& key, StoredResponse response, TimePoint now);
  void abandon_now(const std::string& key);

  size_t size() const;

 private:
  struct Entry {
    uint64_t body_hash = 0;
    TimePoint expires{};
    std::optional<StoredResponse> response;  // nullopt while in progress
  };

  // Drops expired entries, at most one sweep per ttl/10 so begin() stays O(1) amortised.
  void sweep(TimePoint now);

  const Duration ttl_;
  const Duration in_progress_ttl_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Entry> entries_;
  TimePoint next_sweep_{};
};

}  // namespace sheepdog
