#include "mock/mock_service.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>

#include "mock/mock_anthropic.h"
#include "mock/mock_config_decode.h"
#include "mock/mock_openai.h"
#include "mock/mock_tool_faults.h"

namespace sheepdog::mock {
namespace {

using server::ApiError;
using server::HttpRequest;
using server::HttpResponse;
using server::Responder;
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
// Style note: results of co_await are bound to named locals before being tested. GCC 12.2
// miscompiles some `if (co_await ...)` / `!co_await` conditions (the coroutine traps on resume).

// Waits `delay` on an asio timer; false (at once) if the client is or goes away meanwhile.
asio::awaitable<bool> pause(Responder& responder, Duration delay) {
  if (responder.client_gone()) {
    co_return false;
  }
  if (delay <= Duration::zero()) {
    co_return true;
  }
  asio::steady_timer timer(co_await asio::this_coro::executor, delay);
  co_await timer.async_wait(asio::bind_cancellation_slot(responder.cancellation_slot(), kUseTuple));
  responder.cancellation_slot().clear();  // before `timer` goes (see Responder)
  co_return !responder.client_gone();
}

// The "hang" fault: no answer until the client leaves (or the server's drain cancels us).
asio::awaitable<void> wait_until_gone(Responder& responder) {
  while (!responder.client_gone()) {
    asio::steady_timer timer(co_await asio::this_coro::executor,
                             asio::steady_timer::time_point::max());
    co_await timer.async_wait(
        asio::bind_cancellation_slot(responder.cancellation_slot(), kUseTuple));
    responder.cancellation_slot().clear();  // before `timer` goes (see Responder)
  }
}

HttpResponse json_response(http::status status, std::string body) {
  HttpResponse response{status, 11};
  response.set(http::field::content_type, "application/json");
  response.body() = std::move(body);
  return response;
}

std::string_view api_key_header(const HttpRequest& request) {
  const std::string_view bearer = request[http::field::authorization];
  return bearer.empty() ? std::string_view(request["x-api-key"]) : bearer;
}

std::string request_id(RandomSource& random) {
  static constexpr std::string_view kHex = "0123456789abcdef";
  std::string id = "req_";
  for (int i = 0; i < 32; ++i) {
    id += kHex[random.next_u64() & 15];
  }
  return id;
}

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

// Sends `body` as the start of a chunked 200 response, then closes: a truncated answer.
asio::awaitable<void> send_truncated(Responder& responder, const http::fields& headers,
                                     std::string_view body) {
  const bool started = co_await responder.start_stream(http::status::ok, headers);
  if (started) {
    co_await responder.write(body.substr(0, body.size() / 2));
  }
  responder.abort(Responder::AbortMode::kClose);
}

}  // namespace

MockService::MockService(MockConfig config, uint64_t seed, size_t threads, const Clock& clock)
    : seed_(seed), clock_(clock), planner_(std::move(config)) {
  randoms_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) {
    randoms_.push_back(ThreadRandom{SeededRandom(seed + i), 0});
  }
}

void MockService::reset() {
  stats_.reset();
  planner_.clear_scripts();
  key_limits_.reset();
  generation_.fetch_add(1, std::memory_order_release);
}

RandomSource& MockService::random_for(size_t thread) {
  ThreadRandom& slot = randoms_.at(thread);
  const uint64_t generation = generation_.load(std::memory_order_acquire);
  if (slot.generation != generation) {
    slot.random = SeededRandom(seed_ + thread);
    slot.generation = generation;
  }
  return slot.random;
}

asio::awaitable<void> MockService::handle(const HttpRequest& request, Responder& responder) {
  const std::string_view path = path_of(request.target());
  const http::verb method = request.method();
  if (method == http::verb::post && path == "/v1/chat/completions") {
    co_await chat(request, responder);
  } else if (method == http::verb::post && path == "/v1/messages") {
    co_await messages(request, responder);
  } else if (method == http::verb::post && path == "/v1/embeddings") {
    co_await embeddings(request, responder);
  } else if (method == http::verb::get && path == "/v1/models") {
    HttpResponse response = json_response(http::status::ok, openai_models(*planner_.config()));
    co_await responder.send(std::move(response));
  } else if (path.starts_with("/_mock/")) {
    co_await control(request, responder, path);
  } else if (path == "/v1/messages" || path.starts_with("/v1/messages/")) {
    // Anthropic's SDK reads Anthropic's envelope: its own paths answer in it, as Anthropic
    // does (404 not_found_error; a wrong method on /v1/messages is 405).
    const bool wrong_method = path == "/v1/messages";
    co_await responder.send(anthropic_error(
        wrong_method ? 405 : 404, wrong_method ? "invalid_request_error" : "not_found_error",
        (wrong_method ? "Method not allowed: " : "Not found: ") +
            std::string(request.method_string()) + " " + std::string(path),
        ""));
  } else {
    const ApiError error{
        "Invalid URL (" + std::string(request.method_string()) + " " + std::string(path) + ")",
        "invalid_request_error", std::nullopt, std::nullopt};
    co_await responder.send_error(http::status::not_found, error);
  }
}

// What differs between the APIs outside their bodies: request ids and error responses.
struct ApiWire {
  std::string_view request_id_header;
  std::string (*request_id)(RandomSource& random);
  HttpResponse (*error_response)(Outcome outcome, const FaultProfile& profile,
                                 const ErrorContext& context);
};

namespace {

const ApiWire kOpenAiWire{"x-request-id", request_id, openai_error_response};
const ApiWire kAnthropicWire{"request-id", anthropic_request_id, anthropic_error_response};

}  // namespace

struct MockService::CallInfo {
  std::string_view endpoint;  // for stats: "chat.completions", "messages", "embeddings"
  const std::string& model;
  size_t prompt_tokens = 0;
  const ChatCall* chat = nullptr;  // null for embeddings
};

struct MockService::Admitted {
  FaultPlanner::Decision decision;
  Duration latency{};
  std::string request_id;
  RandomSource* random = nullptr;  // this io thread's; non-null
};

struct MockService::Answer {
  bool stream = false;
  std::string body;                 // iff !stream
  std::vector<std::string> events;  // iff stream
  // events[first_piece, first_piece + pieces) carry the tokens: each waits a token delay.
  size_t first_piece = 0;
  size_t pieces = 0;
};

asio::awaitable<bool> MockService::play_failure(const ApiWire& wire, Outcome outcome,
                                                const FaultProfile& profile,
                                                const ErrorContext& context, Duration latency,
                                                Responder& responder) {
  if (outcome == Outcome::kHang) {
    co_await wait_until_gone(responder);
    co_return true;
  }
  if (outcome == Outcome::kConnectionReset) {
    const bool still_there = co_await pause(responder, latency);
    if (still_there) {
      responder.abort(Responder::AbortMode::kReset);
    }
    co_return true;
  }
  if (!is_error_status(outcome)) {
    co_return false;
  }
  const bool still_there = co_await pause(responder, latency);
  if (still_there) {
    HttpResponse response = wire.error_response(outcome, profile, context);
    co_await responder.send(std::move(response));
  }
  co_return true;
}

FaultPlanner::Decision MockService::decide(const HttpRequest& request, const std::string& model,
                                           const ChatCall* chat, std::string_view endpoint,
                                           RandomSource& random) {
  FaultPlanner::Decision decision = planner_.next(model, random);
  const bool breakable =
      chat != nullptr ? fault_applies(*chat, decision.outcome) : !is_tool_fault(decision.outcome);
  if (!breakable) {
    decision.outcome = Outcome::kOk;  // no tool call or JSON content to break (or a vector)
  }
  stats_.record(key_fingerprint(api_key_header(request)), model, endpoint, decision.outcome);
  return decision;
}

asio::awaitable<std::optional<MockService::Admitted>> MockService::admit(const HttpRequest& request,
                                                                         Responder& responder,
                                                                         const ApiWire& wire,
                                                                         const CallInfo& call) {
  RandomSource& random = random_for(responder.worker_index());
  const std::shared_ptr<const MockConfig> config = planner_.config();
  ErrorContext context;
  context.model = call.model;
  context.prompt_tokens = call.prompt_tokens;
  context.context_window = config->context_window;
  context.request_id = wire.request_id(random);
  context.now = clock_.wall_now();
  const int64_t cost = call.chat != nullptr ? chat_token_cost(*call.chat, *config)
                                            : static_cast<int64_t>(call.prompt_tokens);
  context.refusal =
      key_limits_.admit(raw_api_key(api_key_header(request)), config->keys, cost, clock_.now());
  if (context.refusal) {
    stats_.record(key_fingerprint(api_key_header(request)), call.model, call.endpoint,
                  Outcome::kRateLimited);
    HttpResponse response =
        wire.error_response(Outcome::kRateLimited, config->profile_for(call.model), context);
    co_await responder.send(std::move(response));
    co_return std::nullopt;
  }
  Admitted admitted{decide(request, call.model, call.chat, call.endpoint, random), Duration::zero(),
                    context.request_id, &random};
  const FaultProfile& profile = admitted.decision.profile();
  admitted.latency = profile.latency.sample(random);
  context.context_window = admitted.decision.config->context_window;
  const bool failed = co_await play_failure(wire, admitted.decision.outcome, profile, context,
                                            admitted.latency, responder);
  if (failed) {
    co_return std::nullopt;
  }
  co_return admitted;
}

asio::awaitable<void> MockService::deliver(Responder& responder, const Admitted& admitted,
                                           const ApiWire& wire, const Answer& answer) {
  const FaultProfile& profile = admitted.decision.profile();
  const Outcome outcome = admitted.decision.outcome;
  const Duration token_delay = profile.token_delay(outcome == Outcome::kSlowStream);
  const bool waited = co_await pause(responder, admitted.latency);
  if (!waited) {
    co_return;
  }
  http::fields headers;
  headers.set(wire.request_id_header, admitted.request_id);
  if (!answer.stream) {
    // A non-streaming answer takes as long as streaming it would have.
    const Duration generation_time = token_delay * static_cast<int64_t>(answer.pieces);
    const bool generated = co_await pause(responder, generation_time);
    if (!generated) {
      co_return;
    }
    headers.set(http::field::content_type, "application/json");
    if (outcome == Outcome::kTruncatedStream) {
      co_await send_truncated(responder, headers, answer.body);
      co_return;
    }
    HttpResponse response = json_response(http::status::ok, answer.body);
    response.set(wire.request_id_header, admitted.request_id);
    co_await responder.send(std::move(response));
    co_return;
  }

  headers.set(http::field::content_type, "text/event-stream; charset=utf-8");
  headers.set(http::field::cache_control, "no-cache");
  const bool started = co_await responder.start_stream(http::status::ok, headers);
  if (!started) {
    co_return;
  }
  // Truncation keeps the first half of the events: never the stop reason or the end marker.
  const std::vector<std::string>& events = answer.events;
  const size_t count = outcome == Outcome::kTruncatedStream ? events.size() / 2 : events.size();
  for (size_t i = 0; i < count; ++i) {
    const bool token_event = i >= answer.first_piece && i < answer.first_piece + answer.pieces;
    if (token_event) {
      const bool waited_token = co_await pause(responder, token_delay);
      if (!waited_token) {
        co_return;
      }
    }
    const bool written = co_await responder.write(events[i]);
    if (!written) {
      co_return;
    }
  }
  if (outcome == Outcome::kTruncatedStream) {
    responder.abort(Responder::AbortMode::kClose);
    co_return;
  }
  co_await responder.finish();
}

asio::awaitable<void> MockService::chat(const HttpRequest& request, Responder& responder) {
  ChatCall call;
  if (std::optional<ApiError> error = decode_openai_chat(request.body(), &call)) {
    co_await responder.send_error(http::status::bad_request, *error);
    co_return;
  }
  const CallInfo info{"chat.completions", call.model, approx_prompt_tokens(call), &call};
  const std::optional<Admitted> admitted = co_await admit(request, responder, kOpenAiWire, info);
  if (!admitted) {
    co_return;
  }
  const auto created =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.wall_now().time_since_epoch())
          .count();
  const ChatReply reply = make_chat_reply(call, admitted->decision.outcome,
                                          *admitted->decision.config, *admitted->random, created);
  Answer answer{call.stream, {}, {}, 1, reply.pieces().size()};  // events[0]: the role chunk
  if (call.stream) {
    answer.events = openai_chat_stream(reply, call.include_usage);
  } else {
    answer.body = openai_chat_completion(reply);
  }
  co_await deliver(responder, *admitted, kOpenAiWire, answer);
}

asio::awaitable<void> MockService::messages(const HttpRequest& request, Responder& responder) {
  ChatCall call;
  std::optional<std::string> problem = check_anthropic_version(request["anthropic-version"]);
  if (!problem) {
    problem = decode_anthropic_messages(request.body(), &call);
  }
  if (problem) {
    RandomSource& random = random_for(responder.worker_index());
    HttpResponse response =
        anthropic_error(400, "invalid_request_error", *problem, anthropic_request_id(random));
    co_await responder.send(std::move(response));
    co_return;
  }
  const CallInfo info{"messages", call.model, approx_prompt_tokens(call), &call};
  const std::optional<Admitted> admitted = co_await admit(request, responder, kAnthropicWire, info);
  if (!admitted) {
    co_return;
  }
  const ChatReply reply = anthropic_reply(call, admitted->decision.outcome,
                                          *admitted->decision.config, *admitted->random);
  Answer answer{call.stream, {}, {}, kAnthropicFirstDelta, reply.pieces().size()};
  if (call.stream) {
    answer.events = anthropic_message_stream(reply);
  } else {
    answer.body = anthropic_message(reply);
  }
  co_await deliver(responder, *admitted, kAnthropicWire, answer);
}

asio::awaitable<void> MockService::embeddings(const HttpRequest& request, Responder& responder) {
  EmbeddingsCall call;
  if (std::optional<ApiError> error = decode_openai_embeddings(request.body(), &call)) {
    co_await responder.send_error(http::status::bad_request, *error);
    co_return;
  }
  const CallInfo info{"embeddings", call.model, call.prompt_tokens, nullptr};
  const std::optional<Admitted> admitted = co_await admit(request, responder, kOpenAiWire, info);
  if (!admitted) {
    co_return;
  }
  const FaultProfile& profile = admitted->decision.profile();
  const Outcome outcome = admitted->decision.outcome;
  Duration latency = admitted->latency;
  if (outcome == Outcome::kSlowStream) {
    latency = std::chrono::duration_cast<Duration>(latency * profile.slow_stream_factor) +
              profile.token_delay(true);
  }
  const bool waited = co_await pause(responder, latency);
  if (!waited) {
    co_return;
  }
  const std::string body = openai_embeddings(call, admitted->decision.config->embedding_dimensions);
  if (outcome == Outcome::kTruncatedStream) {
    http::fields headers;
    headers.set(http::field::content_type, "application/json");
    co_await send_truncated(responder, headers, body);
    co_return;
  }
  HttpResponse response = json_response(http::status::ok, body);
  response.set("x-request-id", admitted->request_id);
  co_await responder.send(std::move(response));
}

asio::awaitable<void> MockService::control(const HttpRequest& request, Responder& responder,
                                           std::string_view path) {
  const http::verb method = request.method();
  Status status;
  std::string reply = R"({"ok":true})";
  if (method == http::verb::post && path == "/_mock/faults") {
    MockConfig config;
    status = decode_fault_update(request.body(), *planner_.config(), &config);
    if (status) {
      planner_.set_config(std::move(config));
    }
  } else if (method == http::verb::post && path == "/_mock/script") {
    ScriptUpdate update;
    status = decode_script(request.body(), &update);
    if (status) {
      const size_t queued = update.outcomes.size();
      planner_.set_script(update.model, std::move(update.outcomes));
      reply = R"({"ok":true,"queued":)" + std::to_string(queued) + "}";
    }
  } else if (method == http::verb::post && path == "/_mock/reset") {
    reset();
  } else if (method == http::verb::get && path == "/_mock/stats") {
    reply = boost::json::serialize(MockStats::to_json(stats_.snapshot()));
  } else if (method == http::verb::get && path == "/_mock/health") {
    reply = R"({"status":"ok"})";
  } else {
    const ApiError error{"Unknown control endpoint " + std::string(request.method_string()) + " " +
                             std::string(path) +
                             "; use POST /_mock/faults, /_mock/script, /_mock/reset or GET "
                             "/_mock/stats, /_mock/health",
                         "invalid_request_error", std::nullopt, std::nullopt};
    co_await responder.send_error(http::status::not_found, error);
    co_return;
  }
  if (!status) {
    const ApiError error{status.message(), "invalid_request_error", std::nullopt, std::nullopt};
    co_await responder.send_error(http::status::bad_request, error);
    co_return;
  }
  HttpResponse response = json_response(http::status::ok, std::move(reply));
  co_await responder.send(std::move(response));
}

}  // namespace sheepdog::mock
