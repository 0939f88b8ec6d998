// Idempotency keys: a request sent again with the same `Idempotency-Key` within a TTL is not
// executed again; it gets the first execution's stored answer. The store decides, for each
// arriving request, whether it is the first (execute it), a repeat of a finished one (replay),
// a repeat of one still running (wait for it), or a misuse (the same key with a different
// body: 422). Keys are scoped by the caller (e.g. client API key + header value) so that two
// tenants never see each other's answers.
//
// IdempotencyStore is the interface; state/memory/memory_idempotency_store.h is the in-process
// implementation and a shared one (Redis) comes later. The operations are awaitable, because a
// shared store answers over the network, and fallible: a store that cannot answer says so
// (Begin::kUnavailable, a failed Status) instead of guessing. What the gateway does then
// (gateway/idempotency_stage.h): a begin it cannot get is a 503 and nothing runs, since
// running without the key's protection could execute the request twice; a complete or
// abandon that fails is logged and the client still gets its answer (the entry then expires
// with its in-progress TTL). Time is passed in. Implementations are thread-safe.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

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
    kUnavailable, // the store could not answer: `error` says why
  };
  struct Begin {
    Verdict verdict = Verdict::kExecute;
    std::optional<StoredResponse> response;  // set iff kReplay
    std::string error;                       // set iff kUnavailable
  };

  // `body_hash` identifies the request body (equal bodies, equal hashes).
  virtual boost::asio::awaitable<Begin> begin(std::string key, uint64_t body_hash,
                                              TimePoint now) = 0;
  // The execution begun under `key` answered: stored for the store's TTL from now.
  virtual boost::asio::awaitable<Status> complete(std::string key, StoredResponse response,
                                                  TimePoint now) = 0;
  // The execution ended without an answer worth keeping (the client left, or a failure the
  // client may retry): the key is free again.
  virtual boost::asio::awaitable<Status> abandon(std::string key) = 0;
};

}  // namespace sheepdog
