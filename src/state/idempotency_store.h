// Idempotency keys: a request sent again with the same `Idempotency-Key` within a TTL is not
// executed again; it gets the first execution's stored answer. The store decides, for each
// arriving request, whether it is the first (execute it), a repeat of a finished one (replay),
// a repeat of one still running (wait for it), or a misuse (the same key with a different
// body: 422). Keys are scoped by the caller (e.g. client API key + header value) so that two
// tenants never see each other's answers.
//
// IdempotencyStore is the interface a shared store (Redis) implements later; MemoryIdempotency-
// Store is the in-process one. Time is passed in; no I/O; thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/clock.h"

namespace sheepdog {

// What is replayed: enough to answer exactly as the first time.
struct StoredResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // the relevant ones, in order
  std::string body;  // for a streamed answer, the SSE bytes as relayed
  bool stream = false;
};

class IdempotencyStore {
 public:
  virtual ~IdempotencyStore() = default;

  enum class Verdict : unsigned char {
    kExecute,     // the first: run it, then complete() or abandon()
    kReplay,      // finished before: `response` holds the answer
    kInProgress,  // running now: ask again when it finishes (or after a short wait)
    kConflict,    // the key was used with a different body: answer 422
  };
  struct Begin {
    Verdict verdict = Verdict::kExecute;
    std::optional<StoredResponse> response;  // set iff kReplay
  };

  // `body_hash` identifies the request body (equal bodies, equal hashes).
  virtual Begin begin(const std::string& key, uint64_t body_hash, TimePoint now) = 0;
  // The execution begun under `key` answered: stored for `ttl` from now.
  virtual void complete(const std::string& key, StoredResponse response, TimePoint now) = 0;
  // The execution ended without an answer worth keeping (the client left, or a failure the
  // client may retry): the key is free again.
  virtual void abandon(const std::string& key) = 0;
};

class MemoryIdempotencyStore final : public IdempotencyStore {
 public:
  // `ttl`: how long answers are kept. `in_progress_ttl`: how long a begun execution holds its
  // key without completing before a repeat may execute again (a crashed or stuck execution
  // must not block its key forever). REQUIRES: both > 0.
  MemoryIdempotencyStore(Duration ttl, Duration in_progress_ttl);

  Begin begin(const std::string& key, uint64_t body_hash, TimePoint now) override;
  void complete(const std::string& key, StoredResponse response, TimePoint now) override;
  void abandon(const std::string& key) override;

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
