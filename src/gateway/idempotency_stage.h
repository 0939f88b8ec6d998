// Idempotency keys at the gateway: a request with an `Idempotency-Key` header runs upstream at
// most once per key within the store's TTL (state/idempotency_store.h decides):
//
//   first          runs as usual; its answer is recorded on the way to the client and stored
//   repeat         gets the stored answer: status, headers and body (a streamed answer is
//                  replayed as the same events), plus `x-sheepdog-idempotent-replay: true`
//   concurrent     a repeat that arrives while the first still runs waits for it (polling the
//                  store every kPollInterval), then replays its answer, or runs itself if the
//                  first gave up without one
//   different body the same key with another request body: 422, nothing runs
//
// Keys are scoped by the client's Authorization header, so two tenants using the same key
// never see each other's answers. What is stored: answers the client should see again
// (2xx, and 4xx other than 408, 409 and 429: the same request would get the same verdict).
// What is not, so that the client's retry runs again: a 429 or 5xx (the client retries those
// because they may succeed next time), a stream that did not end with [DONE], an answer the
// client did not receive, and answers larger than max_response_bytes.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <string_view>
#include <string>

#include "core/clock.h"
#include "gateway/client_sink.h"
#include "gateway/gateway_metrics.h"
#include "gateway/request_stage.h"
#include "gateway/wait_timer.h"
#include "gateway/runtime.h"
#include "state/idempotency_store.h"

namespace sheepdog::gateway {

inline constexpr Duration kIdempotencyPollInterval = milliseconds(20);

// The header value is usable: 1 to 255 visible ASCII characters (Stripe's limit).
bool valid_idempotency_key(std::string_view key);

// The first stage (request_stage.h): applies to requests with an Idempotency-Key. A store that
// cannot begin (a shared store down) gets 503 `idempotency_store_unavailable` with retry-after
// 1 and nothing runs; a store that cannot complete or abandon is logged as a warning and the
// client keeps its answer. Thread-safe to share? No: one per executor (io thread), like the
// executor itself; the store behind it is shared.
class IdempotencyStage final : public RequestStage {
 public:
  // `runtime` and `io` must outlive the stage.
  // `timer` paces the polls for a running duplicate; both must outlive the stage.
  IdempotencyStage(Runtime& runtime, WaitTimer& timer) : runtime_(runtime), timer_(timer) {}

  std::string_view name() const override { return "idempotency"; }
  bool applies(const GatewayRequest& request) const override {
    return !request.idempotency_key.empty();
  }
  boost::asio::awaitable<void> run(GatewayRequest& request, ClientSink& sink,
                                   const Next& next) override;

 private:
  Runtime& runtime_;
  WaitTimer& timer_;
};

}  // namespace sheepdog::gateway
