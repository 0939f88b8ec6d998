#include "providers/anthropic_provider.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <chrono>

#include "providers/anthropic_messages.h"
#include "providers/anthropic_stream.h"
#include "providers/openai_provider.h"

namespace sheepdog::providers {
namespace {

namespace json = boost::json;

// OpenAI stamps answers with Unix seconds; so do we, when we make them.
int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The OpenAI-shaped 400 body for a request this provider cannot express.
std::string unsupported(std::string message, std::string_view param) {
  json::object error;
  error["message"] = std::move(message);
  error["type"] = "invalid_request_error";
  error["param"] = param;
  error["code"] = "unsupported_parameter";
  return json::serialize(json::object{{"error", std::move(error)}});
}

}  // namespace

EncodeResult AnthropicProvider::encode(const EncodeInput& input,
                                       const ProviderTarget& target) const {
  EncodeResult result;
  if (input.operation != Operation::kChatCompletions) {
    result.error_body = unsupported("Embeddings are not served by Anthropic deployments.", "model");
    result.detail = "embeddings requested from an anthropic deployment";
    return result;
  }
  auto translated = to_anthropic_request(*input.body, input.upstream_model);
  if (const auto* error = std::get_if<TranslationError>(&translated)) {
    result.error_body = unsupported(error->message, error->param);
    result.detail = "not expressible for anthropic: " + error->param;
    return result;
  }
  json::object& body = std::get<json::object>(translated);
  if (input.stream) {
    body["stream"] = true;
  }
  upstream::UpstreamRequest& request = result.request;
  request.method = "POST";
  request.origin = target.origin;
  request.target = target.base_path + "/messages";
  request.headers.add("Content-Type", "application/json");
  if (input.stream) {
    request.headers.add("Accept", "text/event-stream");
  }
  const std::string_view api_key = input.api_key.empty() ? target.api_key : input.api_key;
  if (!api_key.empty()) {
    request.headers.add("x-api-key", std::string(api_key));
  }
  request.headers.add("anthropic-version", std::string(kApiVersion));
  for (const auto& [name, value] : target.headers) {
    request.headers.set(name, value);
  }
  request.body = json::serialize(body);
  return result;
}

DecodeResult AnthropicProvider::decode(Operation /*operation*/,
                                       const upstream::UpstreamResponse& response) const {
  DecodeResult result;
  boost::system::error_code ec;
  const json::value parsed = json::parse(response.body, ec);
  if (ec || !parsed.is_object()) {
    result.error = ErrorKind::kMalformedResponse;
    result.detail = ec ? "2xx body is not JSON: " + ec.message() : "2xx body is not an object";
    return result;
  }
  std::optional<json::object> completion = to_openai_completion(parsed.get_object(), unix_now());
  if (!completion) {
    result.error = ErrorKind::kMalformedResponse;
    result.detail = "2xx body has no `content` array";
    return result;
  }
  if (const json::value* usage = parsed.get_object().if_contains("usage");
      usage != nullptr && usage->is_object()) {
    result.usage = anthropic_usage(usage->get_object());
  }
  result.body = json::serialize(*completion);
  return result;
}

std::unique_ptr<StreamDecoder> AnthropicProvider::stream_decoder(const EncodeInput& input) const {
  return std::make_unique<AnthropicStreamDecoder>(client_wants_stream_usage(input.body), unix_now());
}

std::string AnthropicProvider::relay_error_body(const upstream::UpstreamResponse& response) const {
  if (std::optional<std::string> translated = to_openai_error_body(response.body)) {
    return *translated;
  }
  // Our own 400 from encode() is OpenAI-shaped already; anything else gets a generic error.
  return relay_openai_error_body(response);
}

}  // namespace sheepdog::providers
