#include "server/gateway_routes.h"

#include <fmt/format.h>

#include <boost/beast/http/field.hpp>

#include "gateway/idempotency_stage.h"
#include "providers/anthropic_inbound.h"
#include "server/gateway_validation.h"
#include "server/gateway_views.h"
#include "server/messages_endpoint.h"
#include "server/protocol_error_shape.h"
#include "telemetry/prometheus.h"

namespace sheepdog::server {
namespace {

// Adapts the server's Responder to the executor's ClientSink.
class ResponderSink final : public gateway::ClientSink {
 public:
  explicit ResponderSink(Responder& responder) : responder_(responder) {}

  asio::awaitable<bool> send(gateway::ResponseHead head, std::string body) override {
    HttpResponse response{static_cast<http::status>(head.status), 11};
    for (auto& [name, value] : head.headers) {
      response.insert(name, value);
    }
    response.body() = std::move(body);
    co_return co_await responder_.send(std::move(response));
  }

  asio::awaitable<bool> start_stream(gateway::ResponseHead head) override {
    http::fields fields;
    for (auto& [name, value] : head.headers) {
      fields.insert(name, value);
    }
    co_return co_await responder_.start_stream(static_cast<http::status>(head.status), fields);
  }

  asio::awaitable<bool> write(std::string_view chunk) override { return responder_.write(chunk); }
  asio::awaitable<bool> finish() override { return responder_.finish(); }
  bool client_gone() const override { return responder_.client_gone(); }
  asio::cancellation_slot cancellation_slot() override { return responder_.cancellation_slot(); }

 private:
  Responder& responder_;
};

enum class Route {
  kChat,
  kEmbeddings,
  kMessages,
  kModels,
  kModel,
  kHealth,
  kLiveness,
  kReadiness,
  kDeployments,
  kMetrics,
  kNone
};

Route route_of(std::string_view path) {
  if (path == "/v1/chat/completions" || path == "/chat/completions") {
    return Route::kChat;
  }
  if (path == "/v1/embeddings" || path == "/embeddings") {
    return Route::kEmbeddings;
  }
  if (path == "/v1/messages") {
    return Route::kMessages;
  }
  if (path == "/v1/models" || path == "/models") {
    return Route::kModels;
  }
  if (path.starts_with("/v1/models/") && path.size() > 11) {
    return Route::kModel;
  }
  if (path == "/health") {
    return Route::kHealth;
  }
  if (path == "/health/liveness") {
    return Route::kLiveness;
  }
  if (path == "/health/readiness") {
    return Route::kReadiness;
  }
  if (path == "/health/deployments") {
    return Route::kDeployments;
  }
  if (path == "/metrics") {
    return Route::kMetrics;
  }
  return Route::kNone;
}

HttpResponse text_response(http::status status, std::string body, std::string_view type,
                           const std::string& request_id = {}) {
  HttpResponse response{status, 11};
  response.set(http::field::content_type, type);
  if (!request_id.empty()) {
    response.set("x-request-id", request_id);
  }
  response.body() = std::move(body);
  return response;
}

HttpResponse api_error(http::status status, const ApiError& error, const std::string& request_id) {
  HttpResponse response = error_response(status, error);
  response.set("x-request-id", request_id);
  return response;
}

// An error for an Anthropic client (POST /v1/messages): Anthropic's envelope and header names.
HttpResponse messages_error(int status, std::string body, const std::string& request_id) {
  HttpResponse response = text_response(static_cast<http::status>(status), std::move(body),
                                        "application/json", request_id);
  response.set("request-id", request_id);
  return response;
}

// Responses are built by plain functions and sent from a named local: GCC 12 mishandles
// temporaries that live across a co_await in the same full-expression.
class GatewayRoutes {
 public:
  explicit GatewayRoutes(gateway::Gateway& gateway) : gateway_(gateway) {}

  asio::awaitable<void> handle(const HttpRequest& request, Responder& responder) const {
    std::string_view path = request.target();
    path = path.substr(0, path.find('?'));
    const Route route = route_of(path);
    std::optional<HttpResponse> response = plain_response(request, route, path);
    if (response) {
      co_await responder.send(std::move(*response));
      co_return;
    }
    // The request runs on this runtime to its end, whatever a reload (SIGHUP) does meanwhile.
    const std::shared_ptr<gateway::Runtime> runtime = gateway_.current();
    gateway::Executor* executor = co_await gateway_.this_thread_executor(runtime);
    std::string request_id;
    if (std::optional<std::string> id = usable_request_id(request["x-request-id"])) {
      request_id = std::move(*id);
    } else {
      request_id = executor->make_request_id();
    }
    gateway::GatewayRequest call;
    response = prepare_call(*runtime, request, route, path, std::move(request_id), call);
    if (response) {
      co_await responder.send(std::move(*response));
      co_return;
    }
    ResponderSink sink(responder);
    if (route == Route::kMessages) {
      AnthropicMessagesSink anthropic(sink, call.model);
      co_await executor->execute(std::move(call), anthropic);
      co_return;
    }
    co_await executor->execute(std::move(call), sink);
  }

 private:
  // The answer for routing errors and the non-API routes; nullopt for the API routes.
  std::optional<HttpResponse> plain_response(const HttpRequest& request, Route route,
                                             std::string_view path) const {
    if (route == Route::kNone) {
      if (is_anthropic_target(path)) {
        return api_protocol_error(
            http::status::not_found,
            {"Unknown request URL: " + std::string(request.method_string()) + " " +
                 std::string(path) + ". The gateway serves POST /v1/messages.",
             "invalid_request_error", std::nullopt, "unknown_url"},
            path);
      }
      return error_response(http::status::not_found,
                            {"Unknown request URL: " + std::string(request.method_string()) + " " +
                                 std::string(path) +
                                 ". The gateway serves /v1/chat/completions, /v1/embeddings, "
                                 "/v1/messages and /v1/models.",
                             "invalid_request_error", std::nullopt, "unknown_url"});
    }
    const bool post_route =
        route == Route::kChat || route == Route::kEmbeddings || route == Route::kMessages;
    const http::verb wanted = post_route ? http::verb::post : http::verb::get;
    if (request.method() != wanted) {
      HttpResponse response = api_protocol_error(
          http::status::method_not_allowed,
          {"Method " + std::string(request.method_string()) + " is not allowed on " +
               std::string(path) + "; use " + std::string(http::to_string(wanted)) + ".",
           "invalid_request_error", std::nullopt, "method_not_allowed"},
          path);
      response.set(http::field::allow, http::to_string(wanted));
      return response;
    }
    if (route == Route::kDeployments || route == Route::kMetrics) {
      if (std::optional<HttpResponse> refused = admin_refusal(request)) {
        return refused;
      }
    }
    switch (route) {
      case Route::kHealth:
      case Route::kLiveness:
        return text_response(http::status::ok, R"({"status":"ok"})", "application/json");
      case Route::kReadiness:
        return readiness();
      case Route::kDeployments: {
        // Held, not referenced: a reload (SIGHUP) may replace the runtime meanwhile.
        const std::shared_ptr<gateway::Runtime> runtime = gateway_.current();
        return text_response(http::status::ok, deployments_json(*runtime, runtime->clock().now()),
                             "application/json");
      }
      case Route::kMetrics:
        return text_response(http::status::ok, gateway_.render_metrics(), kPrometheusContentType);
      default:
        return std::nullopt;
    }
  }

  // The admin endpoints show key fingerprints, limits and use: with server.admin_keys only those
  // open them; without, any client key does (and nothing is asked when there are none).
  std::optional<HttpResponse> admin_refusal(const HttpRequest& request) const {
    const std::shared_ptr<gateway::Runtime> runtime = gateway_.current();
    const config::ServerConfig& server = runtime->server();
    const std::vector<std::string>& keys =
        server.admin_keys.empty() ? server.api_keys : server.admin_keys;
    const std::string_view authorization = request[http::field::authorization];
    if (authorized(authorization, keys)) {
      return std::nullopt;
    }
    return error_response(
        http::status::unauthorized,
        {authorization.empty()
             ? std::string(server.admin_keys.empty()
                               ? "This endpoint needs one of the gateway's API keys: send "
                                 "Authorization: Bearer <key>."
                               : "This endpoint needs one of the gateway's admin keys "
                                 "(server.admin_keys): send Authorization: Bearer <key>.")
             : std::string("Incorrect API key provided for an admin endpoint."),
         "invalid_request_error", std::nullopt, "invalid_api_key"});
  }

  // Ready when the configuration is loaded (it is, or this would not run) and at least one
  // deployment's breaker lets calls through: a load balancer then sends traffic elsewhere while
  // every upstream of this instance is open-circuited.
  HttpResponse readiness() const {
    const std::shared_ptr<gateway::Runtime> held = gateway_.current();
    gateway::Runtime& runtime = *held;
    const TimePoint now = runtime.clock().now();
    size_t available = 0;
    for (const auto& deployment : runtime.deployments()) {
      if (deployment->breaker.state(now) != BreakerState::kOpen) {
        ++available;
      }
    }
    const size_t total = runtime.deployments().size();
    const bool ready = available > 0;
    std::string body = fmt::format(
        R"({{"status":"{}","deployments":{},"available":{}{}}})", ready ? "ready" : "not_ready",
        total, available, ready ? "" : R"(,"reason":"every deployment's circuit breaker is open")");
    return text_response(ready ? http::status::ok : http::status::service_unavailable,
                         std::move(body), "application/json");
  }

  // Authenticates and validates an API request into `call`; returns the answer instead when
  // there is one already (401, 400, the models list).
  std::optional<HttpResponse> prepare_call(gateway::Runtime& runtime, const HttpRequest& request,
                                           Route route,
                                           std::string_view path, std::string request_id,
                                           gateway::GatewayRequest& call) const {
    std::string authorization(request[http::field::authorization]);
    if (route == Route::kMessages && authorization.empty() && !request["x-api-key"].empty()) {
      authorization = "Bearer " + std::string(request["x-api-key"]);  // the Anthropic SDK's way
    }
    if (!authorized(authorization, runtime.server().api_keys)) {
      if (route == Route::kMessages) {
        return messages_error(
            401,
            providers::anthropic_error_body(
                "authentication_error",
                authorization.empty() ? "x-api-key header is required" : "invalid x-api-key"),
            request_id);
      }
      return api_error(
          http::status::unauthorized,
          {authorization.empty() ? "You didn't provide an API key. Send it in the Authorization "
                                   "header as 'Bearer <key>'."
                                 : "Incorrect API key provided.",
           "invalid_request_error", std::nullopt, "invalid_api_key"},
          request_id);
    }
    if (route == Route::kModels || route == Route::kModel) {
      std::string body = route == Route::kModels ? models_json(runtime)
                                                 : model_json(runtime, path.substr(11));
      if (body.empty()) {
        return api_error(
            http::status::not_found,
            {"The model '" + std::string(path.substr(11)) + "' does not exist on this gateway.",
             "invalid_request_error", "model", "model_not_found"},
            request_id);
      }
      return text_response(http::status::ok, std::move(body), "application/json", request_id);
    }
    const std::string_view idempotency_key = request["idempotency-key"];
    const bool bad_key = request.find("idempotency-key") != request.end() &&
                         !gateway::valid_idempotency_key(idempotency_key);
    constexpr std::string_view kBadKey =
        "The Idempotency-Key header must be 1 to 255 visible ASCII characters (no spaces); a "
        "UUID is a good choice.";
    if (route == Route::kMessages) {
      auto checked = validate_messages_request(request.body());
      if (const MessagesError* error = std::get_if<MessagesError>(&checked)) {
        return messages_error(error->status, error->body, request_id);
      }
      if (bad_key) {
        return messages_error(
            400, providers::anthropic_error_body("invalid_request_error", kBadKey), request_id);
      }
      call = std::move(std::get<gateway::GatewayRequest>(checked));
    } else {
      ValidationResult checked = route == Route::kChat
                                     ? validate_chat_request(request.body())
                                     : validate_embeddings_request(request.body());
      if (const ApiError* error = std::get_if<ApiError>(&checked)) {
        return api_error(http::status::bad_request, *error, request_id);
      }
      if (bad_key) {
        return api_error(http::status::bad_request,
                         {std::string(kBadKey), "invalid_request_error", "Idempotency-Key",
                          "invalid_idempotency_key"},
                         request_id);
      }
      call = std::move(std::get<gateway::GatewayRequest>(checked));
    }
    call.idempotency_key = std::string(idempotency_key);
    call.api = route == Route::kMessages ? "messages" : "openai";
    call.request_id = std::move(request_id);
    call.client_authorization = std::move(authorization);
    call.header = [&request](std::string_view name) { return request[name]; };
    return std::nullopt;
  }

  gateway::Gateway& gateway_;
};

}  // namespace

bool authorized(std::string_view authorization, const std::vector<std::string>& keys) {
  if (keys.empty()) {
    return true;
  }
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() <= kBearer.size() ||
      !std::equal(kBearer.begin(), kBearer.end(), authorization.begin(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) ==
               std::tolower(static_cast<unsigned char>(b));
      })) {
    return false;
  }
  const std::string_view presented = authorization.substr(kBearer.size());
  bool match = false;
  for (const std::string& key : keys) {
    // Every byte of every key is compared, so timing reveals neither which key nor where.
    unsigned char diff = presented.size() == key.size() ? 0 : 1;
    for (size_t i = 0; i < key.size(); ++i) {
      diff |= static_cast<unsigned char>(key[i] ^ (i < presented.size() ? presented[i] : 0));
    }
    match = match || diff == 0;
  }
  return match;
}

HttpHandler make_gateway_handler(gateway::Gateway& gateway) {
  return [routes = GatewayRoutes(gateway)](const HttpRequest& request,
                                           Responder& responder) -> asio::awaitable<void> {
    return routes.handle(request, responder);
  };
}

}  // namespace sheepdog::server
