#include "gateway/idempotency_stage.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>

#include "gateway/error_mapping.h"
#include "routing/stable_hash.h"

namespace sheepdog::gateway {
namespace {

namespace asio = boost::asio;

constexpr std::string_view kReplayHeader = "x-sheepdog-idempotent-replay";
constexpr std::string_view kDone = "data: [DONE]\n\n";

// Passes everything through to the client's sink and keeps a copy, up to a size limit.
class RecordingSink final : public ClientSink {
 public:
  RecordingSink(ClientSink& client, uint64_t max_bytes) : client_(client), max_bytes_(max_bytes) {}

  asio::awaitable<bool> send(ResponseHead head, std::string body) override {
    record_head(head);
    keep(body);
    const bool sent = co_await client_.send(std::move(head), std::move(body));
    delivered_ = sent;
    co_return sent;
  }
  asio::awaitable<bool> start_stream(ResponseHead head) override {
    record_head(head);
    recorded_.stream = true;
    co_return co_await client_.start_stream(std::move(head));
  }
  asio::awaitable<bool> write(std::string_view chunk) override {
    keep(chunk);
    co_return co_await client_.write(chunk);
  }
  asio::awaitable<bool> finish() override {
    const bool finished = co_await client_.finish();
    delivered_ = finished;
    co_return finished;
  }
  bool client_gone() const override { return client_.client_gone(); }
  asio::cancellation_slot cancellation_slot() override { return client_.cancellation_slot(); }

  // The answer to store, or nullopt if it should not be (see the header).
  std::optional<StoredResponse> keepable() && {
    if (!delivered_ || too_large_) {
      return std::nullopt;
    }
    const int status = recorded_.status;
    if (recorded_.stream) {
      const std::string_view body = recorded_.body;
      if (status != 200 || !body.ends_with(kDone)) {
        return std::nullopt;
      }
    } else if (status < 200 || status >= 500 || status == 408 || status == 409 || status == 429 ||
               (status >= 300 && status < 400)) {
      return std::nullopt;
    }
    return std::move(recorded_);
  }

 private:
  void record_head(const ResponseHead& head) {
    recorded_.status = head.status;
    recorded_.headers = head.headers;
  }
  void keep(std::string_view bytes) {
    if (too_large_) {
      return;
    }
    if (recorded_.body.size() + bytes.size() > max_bytes_) {
      too_large_ = true;
      recorded_.body.clear();
      recorded_.body.shrink_to_fit();
      return;
    }
    recorded_.body.append(bytes);
  }

  ClientSink& client_;
  const uint64_t max_bytes_;
  StoredResponse recorded_;
  bool delivered_ = false;
  bool too_large_ = false;
};

std::string store_key(const GatewayRequest& request) {
  // The credential is hashed, not kept: a shared store must not hold client keys.
  const uint64_t scope = stable_hash64(request.client_authorization);
  return std::to_string(scope) + ":" + request.idempotency_key;
}

uint64_t body_hash(const GatewayRequest& request) {
  return stable_hash64(request.api + "\n" + std::string(providers::to_string(request.operation)) +
                       "\n" + boost::json::serialize(request.body));
}

asio::awaitable<void> replay(const StoredResponse& stored, ClientSink& sink) {
  ResponseHead head;
  head.status = stored.status;
  head.headers = stored.headers;
  head.add(std::string(kReplayHeader), "true");
  if (!stored.stream) {
    co_await sink.send(std::move(head), stored.body);
    co_return;
  }
  const bool started = co_await sink.start_stream(std::move(head));
  if (!started) {
    co_return;
  }
  const bool written = co_await sink.write(stored.body);
  if (written) {
    co_await sink.finish();
  }
}

asio::awaitable<void> unavailable(const GatewayRequest& request, ClientSink& sink) {
  ResponseHead head;
  head.status = 503;
  head.add("x-request-id", request.request_id);
  head.add("content-type", "application/json");
  head.add("retry-after", "1");
  std::string body = openai_error_body(
      "The gateway cannot check the Idempotency-Key now (its store is unavailable), so the "
      "request was not run. Retry shortly with the same key.",
      "server_error", "idempotency_store_unavailable");
  co_await sink.send(std::move(head), std::move(body));
}

void warn(Runtime& runtime, const std::string& message) {
  if (StructuredLogger* logger = runtime.logger()) {
    LogFields fields;
    fields.str("detail", message);
    logger->log(LogLevel::kWarn, "idempotency_store_failed", fields);
  }
}

asio::awaitable<void> conflict(const GatewayRequest& request, ClientSink& sink) {
  ResponseHead head;
  head.status = 422;
  head.add("x-request-id", request.request_id);
  head.add("content-type", "application/json");
  std::string body = openai_error_body(
      "The Idempotency-Key '" + request.idempotency_key +
          "' was already used with a different request body. Send a new key for a new request, "
          "or repeat the original request unchanged to get its answer again.",
      "invalid_request_error", "idempotency_key_reused", "Idempotency-Key");
  co_await sink.send(std::move(head), std::move(body));
}

}  // namespace

bool valid_idempotency_key(std::string_view key) {
  if (key.empty() || key.size() > 255) {
    return false;
  }
  for (char c : key) {
    if (c < 0x21 || c > 0x7e) {
      return false;
    }
  }
  return true;
}

asio::awaitable<void> IdempotencyStage::run(GatewayRequest& request, ClientSink& sink,
                                            const Next& next) {
  IdempotencyStore& store = runtime_.idempotency();
  const Clock& clock = runtime_.clock();
  CounterFamily& outcomes = runtime_.metrics().idempotent_requests;
  const std::string key = store_key(request);
  const uint64_t hash = body_hash(request);
  bool waited = false;
  for (;;) {
    IdempotencyStore::Begin begun = co_await store.begin(key, hash, clock.now());
    switch (begun.verdict) {
      case IdempotencyStore::Verdict::kUnavailable:
        outcomes.with({"unavailable"}).inc();
        warn(runtime_, "idempotency store unavailable: " + begun.error);
        co_await unavailable(request, sink);
        co_return;
      case IdempotencyStore::Verdict::kConflict:
        outcomes.with({"conflict"}).inc();
        co_await conflict(request, sink);
        co_return;
      case IdempotencyStore::Verdict::kReplay:
        outcomes.with({waited ? "waited" : "replayed"}).inc();
        co_await replay(*begun.response, sink);
        co_return;
      case IdempotencyStore::Verdict::kInProgress: {
        waited = true;
        const bool waited_out = co_await timer_.wait(kIdempotencyPollInterval);
        if (!waited_out || sink.client_gone()) {
          co_return;
        }
        continue;
      }
      case IdempotencyStore::Verdict::kExecute:
        break;
    }
    break;
  }
  outcomes.with({"executed"}).inc();
  RecordingSink recorder(sink, runtime_.server().idempotency.max_response_bytes);
  std::exception_ptr failure;
  try {
    co_await next(request, recorder);
  } catch (...) {
    failure = std::current_exception();  // a bug: the key must not stay held
  }
  std::optional<StoredResponse> answer;
  if (!failure) {
    answer = std::move(recorder).keepable();
  }
  // Not a conditional expression around the co_awaits: GCC 12 miscompiles those.
  Status settled;
  if (answer) {
    settled = co_await store.complete(key, std::move(*answer), clock.now());
  } else {
    settled = co_await store.abandon(key);
  }
  if (!settled.is_ok()) {
    warn(runtime_, "idempotency store could not " +
                       std::string(answer ? "store the answer" : "release the key") + ": " +
                       settled.message());
  }
  if (failure) {
    std::rethrow_exception(failure);
  }
}

}  // namespace sheepdog::gateway
