// What the executor sees of a client: the request it asked for (GatewayRequest) and where the
// answer goes (ClientSink). The HTTP server adapts its Responder to ClientSink
// (server/gateway_routes); a library user can implement it over anything, e.g. a string.
// Keeping the executor off the server's types keeps the dependency direction
// gateway <- server.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/json/object.hpp>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "providers/provider.h"

namespace sheepdog::gateway {

class AttemptPrepare;

// One client request, validated by the caller (see server/gateway_validation.h).
struct GatewayRequest {
  providers::Operation operation = providers::Operation::kChatCompletions;
  boost::json::object body;  // the client's JSON; `model` is replaced per attempt
  std::string model;         // the requested model (alias) name
  bool stream = false;
  std::string request_id;  // the client's x-request-id, or one the caller generated
  // The client's Authorization header (forwarded only to providers configured to receive it).
  std::string client_authorization;
  // The OpenAI `user` field, if any (sticky canary routing).
  std::string user;
  // Looks up a request header by lower-case name, "" if absent (sticky-by-header routing).
  // May be empty.
  std::function<std::string_view(std::string_view)> header;
  // The client's Idempotency-Key header, "" if none (see gateway/idempotency_stage.h).
  std::string idempotency_key;
  // The client-facing API the request came in on ("openai", "messages"), so that one key used
  // on two APIs is a conflict even when both translate to the same engine request.
  std::string api;
  // Hooks the request's stages registered (request_stage.h), called in order before every
  // attempt to shape the request for the deployment chosen. Not owned; each outlives the run.
  std::vector<AttemptPrepare*> prepare;
};

// Where an attempt is about to go, for AttemptPrepare.
struct PreparedAttempt {
  std::string_view alias;
  std::string_view deployment;      // "provider/model"
  std::string_view upstream_model;  // what `model` becomes
  std::string_view provider_kind;   // "openai", "anthropic"
  bool resend = false;              // a resend of an answer that failed validation
};

// A per-attempt hook: may change the body the attempt sends (`input.body` may be pointed at a
// request the hook owns, valid until the next prepare or the end of the run).
class AttemptPrepare {
 public:
  virtual ~AttemptPrepare() = default;
  virtual void prepare(const PreparedAttempt& where, providers::EncodeInput& input) = 0;
};

// The status line and headers of an answer.
struct ResponseHead {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;

  void add(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }
};

// Where one request's answer goes. Used from the request's coroutine only. Every awaitable
// returns false once the client is gone; then nothing more is sent.
class ClientSink {
 public:
  virtual ~ClientSink() = default;

  // A complete answer. REQUIRES: nothing sent yet.
  virtual boost::asio::awaitable<bool> send(ResponseHead head, std::string body) = 0;
  // The head of a streamed answer (the body follows with write()). REQUIRES: nothing sent yet.
  virtual boost::asio::awaitable<bool> start_stream(ResponseHead head) = 0;
  // One piece of a streamed body, flushed. REQUIRES: start_stream() succeeded.
  virtual boost::asio::awaitable<bool> write(std::string_view chunk) = 0;
  // Ends a streamed body. REQUIRES: start_stream() succeeded.
  virtual boost::asio::awaitable<bool> finish() = 0;
  virtual bool client_gone() const = 0;
  // Emits terminal cancellation when the client goes away; the executor binds it to the whole
  // request, so upstream I/O and backoff waits end at once. Unconnected is fine (never fires).
  // (Clear it once the bound operation is over: see server::Responder.)
  virtual boost::asio::cancellation_slot cancellation_slot() = 0;
};

}  // namespace sheepdog::gateway
