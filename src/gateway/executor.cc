#include "gateway/executor.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cstdio>
#include <optional>

#include "gateway/error_mapping.h"
#include "gateway/idempotency_stage.h"
#include "gateway/request_run.h"

namespace sheepdog::gateway {
namespace {

namespace asio = boost::asio;

upstream::ClientOptions client_options(Runtime& runtime) {
  upstream::ClientOptions options;
  options.user_agent = "sheepdog/0.1";
  options.pool.max_connections_per_origin =
      static_cast<size_t>(runtime.server().upstream_max_connections);
  // Every connection may stay idle (the idle timeout reaps them): with a smaller cap, load that
  // swings between N and N+k in flight closes and reopens k connections on every swing, which
  // at 128 concurrent clients cost a quarter of the throughput (docs/benchmarks.md).
  options.pool.max_idle_per_origin = options.pool.max_connections_per_origin;
  options.max_response_body_bytes =
      static_cast<size_t>(runtime.server().upstream_max_response_bytes);
  options.memory_budget = &runtime.memory_budget();
  return options;
}

// Why a configured model is not served, and what the operator must do about it.
std::string unavailable_message(const UnavailableAlias& alias) {
  std::string message = "The model '" + alias.name + "' is configured on this gateway, but ";
  if (alias.variables.empty()) {
    return message + "every API key of its provider" + (alias.providers.size() == 1 ? "" : "s") +
           " is empty; set one in the configuration and restart sheepdog.";
  }
  message += "no API key is set for it: set the environment variable";
  message += alias.variables.size() == 1 ? " " : "s ";
  for (size_t i = 0; i < alias.variables.size(); ++i) {
    message += (i == 0 ? "" : i + 1 == alias.variables.size() ? " or " : ", ") + alias.variables[i];
  }
  return message + " and restart sheepdog.";
}

// The answer for a model this gateway does not serve: 404 if it is unknown, 503 if it is
// configured but has no key (retrying will not help; setting the variable will).
asio::awaitable<void> send_not_served(const Runtime& runtime, const GatewayRequest& request,
                                      ClientSink& sink) {
  ResponseHead head;
  head.add("x-request-id", request.request_id);
  head.add("x-sheepdog-attempts", "0");
  head.add("content-type", "application/json");
  std::string body;
  if (const UnavailableAlias* missing = runtime.unavailable(request.model)) {
    head.status = 503;
    // The official SDKs retry a 503 unless told not to; until the variable is set, no retry
    // can succeed.
    head.add("x-should-retry", "false");
    body = openai_error_body(unavailable_message(*missing), "server_error", "provider_key_missing");
  } else {
    head.status = 404;
    body = openai_error_body("The model '" + request.model +
                                 "' does not exist on this gateway; GET /v1/models lists the "
                                 "models it serves.",
                             "invalid_request_error", "model_not_found", "model");
  }
  co_await sink.send(std::move(head), std::move(body));
}

// Passthrough mode: the client's model name is recorded once an upstream accepts it (a 2xx
// head), for GET /v1/models. Everything else goes straight to the client's sink.
class SeenModelSink final : public ClientSink {
 public:
  SeenModelSink(ClientSink& inner, SeenModels& seen, std::string_view model)
      : inner_(inner), seen_(seen), model_(model) {}

  asio::awaitable<bool> send(ResponseHead head, std::string body) override {
    note(head);
    co_return co_await inner_.send(std::move(head), std::move(body));
  }
  asio::awaitable<bool> start_stream(ResponseHead head) override {
    note(head);
    co_return co_await inner_.start_stream(std::move(head));
  }
  asio::awaitable<bool> write(std::string_view chunk) override {
    co_return co_await inner_.write(chunk);
  }
  asio::awaitable<bool> finish() override { co_return co_await inner_.finish(); }
  bool client_gone() const override { return inner_.client_gone(); }
  asio::cancellation_slot cancellation_slot() override { return inner_.cancellation_slot(); }

 private:
  void note(const ResponseHead& head) {
    if (head.status >= 200 && head.status < 300) {
      seen_.record(model_);
    }
  }

  ClientSink& inner_;
  SeenModels& seen_;
  const std::string model_;  // a copy: the request's own may change on fallback
};

}  // namespace

Executor::Executor(Runtime& runtime, asio::any_io_executor io, uint64_t seed,
                   ExecutorSeams seams)
    : runtime_(runtime),
      io_(io),
      random_(seed),
      client_(io, client_options(runtime), runtime.tls(), runtime.clock()),
      asio_timer_(io),
      transport_(seams.transport != nullptr ? *seams.transport : client_),
      timer_(seams.timer != nullptr ? *seams.timer : asio_timer_),
      observer_(runtime.metrics(), runtime.logger()) {
  // The stages, in their order (request_stage.h). Conversation and budget stages go after
  // idempotency: a replayed answer must not load or store history, nor spend.
  stages_.push_back(std::make_unique<IdempotencyStage>(runtime, timer_));
}

std::string Executor::make_request_id() {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "req_%016llx%08llx",
                static_cast<unsigned long long>(random_.next_u64()),
                static_cast<unsigned long long>(random_.next_u64() >> 32));
  return buffer;
}

asio::awaitable<void> Executor::execute(GatewayRequest request, ClientSink& sink) {
  // Counted so that the Gateway does not destroy a replaced runtime's executor under a request.
  struct InFlight {
    size_t& count;
    explicit InFlight(size_t& c) : count(c) { ++count; }
    ~InFlight() { --count; }
  } in_flight(in_flight_);
  if (request.request_id.empty()) {
    request.request_id = make_request_id();
  }
  // A coroutine of its own so that the sink's cancellation slot reaches every operation inside
  // (the upstream client and the backoff timer follow the coroutine's cancellation state).
  // Named, not temporaries in the co_await expression: GCC 12 mishandles those.
  asio::awaitable<void> task = run(request, sink);
  auto token =
      asio::bind_cancellation_slot(sink.cancellation_slot(), asio::as_tuple(asio::use_awaitable));
  auto [error] = co_await asio::co_spawn(io_, std::move(task), std::move(token));
  // co_spawn's handler stays in the slot, pointing at the finished coroutine's state.
  sink.cancellation_slot().clear();
  if (error) {
    std::rethrow_exception(error);  // a bug: let the server log it and answer 500
  }
}

asio::awaitable<void> Executor::run(GatewayRequest& request, ClientSink& sink) {
  // Cancellation is an expected outcome here: operations report it as a value.
  co_await asio::this_coro::throw_if_cancelled(false);
  bool passthrough = false;
  const Alias* alias = runtime_.resolve(request.model, &passthrough);
  if (alias == nullptr) {
    co_await send_not_served(runtime_, request, sink);
    co_return;
  }
  std::optional<SeenModelSink> seen;
  if (passthrough) {
    seen.emplace(sink, runtime_.seen_models(), request.model);
  }
  ClientSink& out = seen ? static_cast<ClientSink&>(*seen) : sink;
  const ThreadParts parts{runtime_, transport_, timer_, random_, observer_};
  const RequestStage::Next attempt_loop =
      [&parts, alias](GatewayRequest& r, ClientSink& s) -> asio::awaitable<void> {
    RequestRun run(parts, r, s);
    co_await run.run(*alias);
  };
  co_await run_stages(stages_, 0, request, out, attempt_loop);
}

}  // namespace sheepdog::gateway
