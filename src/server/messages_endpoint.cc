#include "server/messages_endpoint.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "llm/request_tools_check.h"
#include "providers/anthropic_inbound.h"
#include "server/gateway_validation.h"
#include "server/json_body.h"

namespace sheepdog::server {
namespace {

namespace json = boost::json;

MessagesError invalid(std::string message) {
  return MessagesError{400, providers::anthropic_error_body("invalid_request_error", message)};
}

// Anthropic names the request id `request-id`; the SDK reports it as `_request_id`.
void add_request_id(gateway::ResponseHead& head) {
  for (const auto& [name, value] : head.headers) {
    if (name == "x-request-id") {
      head.add("request-id", value);
      return;
    }
  }
}

void set_content_type(gateway::ResponseHead& head) {
  for (auto& [name, value] : head.headers) {
    if (name == "content-type") {
      value = "application/json";
      return;
    }
  }
  head.add("content-type", "application/json");
}

// A problem with the translated tools, in the Anthropic request's own terms (tools.N.input_schema,
// tool_choice), the dotted paths Anthropic's errors use.
std::string tools_message(const llm::ToolsCheckError& e) {
  using Where = llm::ToolsCheckError::Where;
  const std::string at = e.pointer.empty() ? "" : e.pointer + ": ";
  switch (e.where) {
    case Where::kToolParameters:
      return "tools." + std::to_string(e.tool) + ".input_schema: invalid schema for tool '" +
             e.tool_name + "': " + at + e.message;
    case Where::kTools:
      return (e.tool < 0 ? std::string("tools") : "tools." + std::to_string(e.tool)) + ": " +
             e.message;
    case Where::kToolChoice:
    case Where::kParallelToolCalls:
      return "tool_choice: " + e.message;
    case Where::kResponseFormat:
      return "output_format: " + at + e.message;
  }
  return e.message;
}

}  // namespace

std::variant<gateway::GatewayRequest, MessagesError> validate_messages_request(
    std::string_view body) {
  json::value parsed;
  if (std::string problem = parse_json_body(body, parsed); !problem.empty()) {
    return invalid("The request body is not valid JSON: " + problem);
  }
  if (!parsed.is_object()) {
    return invalid("The request body must be a JSON object.");
  }
  std::variant<json::object, providers::InboundError> translated =
      providers::to_openai_request(parsed.as_object());
  if (const auto* error = std::get_if<providers::InboundError>(&translated)) {
    return MessagesError{error->status, providers::anthropic_error_body(*error)};
  }
  json::object& chat = std::get<json::object>(translated);
  if (std::optional<llm::ToolsCheckError> error = llm::check_request_tools(chat)) {
    return invalid(tools_message(*error));
  }
  // The engine's own checks, on the translation: what they reject, the client sent.
  ValidationResult checked = validate_chat_body(std::move(chat), false);
  if (const ApiError* error = std::get_if<ApiError>(&checked)) {
    return invalid(error->message);
  }
  return std::move(std::get<gateway::GatewayRequest>(checked));
}

AnthropicMessagesSink::AnthropicMessagesSink(gateway::ClientSink& client, std::string model)
    : client_(client), model_(model), encoder_(std::move(model)) {}

boost::asio::awaitable<bool> AnthropicMessagesSink::send(gateway::ResponseHead head,
                                                         std::string body) {
  add_request_id(head);
  set_content_type(head);
  std::string translated;
  if (head.status >= 200 && head.status < 300) {
    boost::system::error_code ec;
    const json::value parsed = json::parse(body, ec);
    std::optional<json::object> message;
    if (!ec && parsed.is_object()) {
      message = providers::to_anthropic_message(parsed.as_object(), model_);
    }
    if (message) {
      translated = json::serialize(*message);
    } else {
      // An upstream's 2xx the engine accepted but that is no completion: say so, as a 502.
      head.status = 502;
      translated = providers::anthropic_error_body(
          "api_error", "The upstream's answer could not be translated to a message.");
    }
  } else {
    translated = providers::to_anthropic_error_body(head.status, body);
  }
  co_return co_await client_.send(std::move(head), std::move(translated));
}

boost::asio::awaitable<bool> AnthropicMessagesSink::start_stream(gateway::ResponseHead head) {
  add_request_id(head);
  co_return co_await client_.start_stream(std::move(head));
}

boost::asio::awaitable<bool> AnthropicMessagesSink::write(std::string_view chunk) {
  out_.clear();
  encoder_.feed(chunk, out_);
  if (out_.empty()) {
    co_return !client_.client_gone();
  }
  co_return co_await client_.write(out_);
}

boost::asio::awaitable<bool> AnthropicMessagesSink::finish() {
  if (!encoder_.finished()) {
    out_.clear();
    encoder_.finish(out_);
    if (!out_.empty()) {
      const bool written = co_await client_.write(out_);
      if (!written) {
        co_return false;
      }
    }
  }
  co_return co_await client_.finish();
}

}  // namespace sheepdog::server
