#include "providers/openai_provider.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <vector>

#include "core/json_check.h"
#include "providers/sse_stream_decoder.h"
#include "upstream/sse_parser.h"

namespace sheepdog::providers {
namespace {

namespace json = boost::json;

std::string_view path_for(Operation operation) {
  return operation == Operation::kEmbeddings ? "/embeddings" : "/chat/completions";
}

int64_t count_field(const json::object& usage, std::string_view name) {
  const json::value* v = usage.if_contains(name);
  if (v == nullptr) {
    return 0;
  }
  if (v->is_int64()) {
    return v->get_int64();
  }
  if (v->is_uint64()) {
    return static_cast<int64_t>(v->get_uint64());
  }
  return 0;
}

std::string_view trim_left(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  return s;
}

size_t skip_space(std::string_view s, size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) {
    ++i;
  }
  return i;
}

// Erases the one `"usage": null` member from a chunk's JSON text, with the comma that joins it
// to its neighbour; false (and `data` untouched) unless "usage" occurs exactly once, as that
// member. Hand-written because a JSON parse and re-serialization of every chunk would cost more
// than relaying it. Text inside strings cannot match: a quote in a JSON string is escaped, so
// `"usage"` with bare quotes is always a key.
bool erase_null_usage(std::string& data) {
  const std::string_view key = "\"usage\"";
  const size_t start = data.find(key);
  if (start == std::string::npos || data.find(key, start + 1) != std::string::npos) {
    return false;
  }
  size_t i = skip_space(data, start + key.size());
  if (i >= data.size() || data[i] != ':') {
    return false;
  }
  i = skip_space(data, i + 1);
  if (data.compare(i, 4, "null") != 0) {
    return false;
  }
  size_t end = i + 4;
  size_t after = skip_space(data, end);
  if (after < data.size() && data[after] == ',') {
    data.erase(start, after + 1 - start);
    return true;
  }
  size_t before = start;
  while (before > 0 && (data[before - 1] == ' ' || data[before - 1] == '\t' ||
                        data[before - 1] == '\n' || data[before - 1] == '\r')) {
    --before;
  }
  if (before > 0 && data[before - 1] == ',') {
    data.erase(before - 1, end - (before - 1));
    return true;
  }
  if (before > 0 && data[before - 1] == '{' && after < data.size() && data[after] == '}') {
    data.erase(start, end - start);  // {"usage":null} becomes {}
    return true;
  }
  return false;
}

class OpenAIStreamDecoder final : public SseStreamDecoder {
 public:
  explicit OpenAIStreamDecoder(bool client_wants_usage) : client_wants_usage_(client_wants_usage) {}
  const TokenUsage& usage() const override { return usage_; }

 private:
  // Relays every event as is; the stream ends at [DONE] or at an error event of the upstream's.
  // A chunk (an unnamed event) whose data is not one JSON object fails the stream before it is
  // relayed: the SDKs would fail on it, and a stream that ends in [DONE] after it would look
  // like a success. Named events (a proxy's `event: ping`) are not chunks and pass as they are.
  bool on_event(const upstream::SseEvent& event, std::string& out, Step& step) override {
    const bool chunk = event.event.empty() || event.event == "message";
    if (chunk && !event.is_done() && !event.data.empty() && !is_json_text(event.data, true)) {
      return false;
    }
    if (event.is_done()) {
      upstream::append_sse_event(event, out);
      ++step.events;
      finish();
      return true;
    }
    switch (inspect(event.data, step)) {
      case Relay::kAsIs:
        upstream::append_sse_event(event, out);
        ++step.events;
        break;
      case Relay::kWithoutUsage: {
        upstream::SseEvent trimmed = event;
        trimmed.data = without_usage_;
        upstream::append_sse_event(trimmed, out);
        ++step.events;
        break;
      }
      case Relay::kNot:
        break;
    }
    if (step.upstream_error) {
      finish();
    }
    return true;
  }

  enum class Relay { kAsIs, kWithoutUsage, kNot };

  // Reads usage from the chunk that carries it, and notices an error event. Chunks are parsed
  // only when they mention either, so ordinary content chunks cost a substring search. A usage
  // chunk the client did not ask for is not relayed (OpenAI's has `choices: []`); one that also
  // carries choices (some compatible servers put usage on the last content chunk) is relayed
  // without its usage.
  Relay inspect(std::string_view data, Step& step) {
    const bool maybe_usage = data.find("\"usage\"") != std::string_view::npos;
    const bool maybe_error = trim_left(data).starts_with("{\"error\"");
    if (!maybe_usage && !maybe_error) {
      return Relay::kAsIs;
    }
    if (maybe_usage && !maybe_error) {
      // Every chunk but the last says "usage":null once the upstream was asked for usage;
      // these are trimmed as text, not parsed and re-serialized, as they are most of a stream.
      without_usage_ = data;
      if (erase_null_usage(without_usage_)) {
        return client_wants_usage_ ? Relay::kAsIs : Relay::kWithoutUsage;
      }
    }
    boost::system::error_code ec;
    json::value parsed = json::parse(data, ec);
    if (ec || !parsed.is_object()) {
      return Relay::kAsIs;
    }
    json::object& object = parsed.get_object();
    if (maybe_error && object.contains("error")) {
      step.upstream_error = true;
      return Relay::kAsIs;
    }
    TokenUsage usage = read_openai_usage(object);
    if (!usage.reported) {
      return Relay::kAsIs;
    }
    usage_ = usage;
    if (client_wants_usage_) {
      return Relay::kAsIs;
    }
    const json::value* choices = object.if_contains("choices");
    if (choices == nullptr || (choices->is_array() && choices->get_array().empty())) {
      return Relay::kNot;
    }
    object.erase("usage");
    without_usage_ = json::serialize(object);
    return Relay::kWithoutUsage;
  }

  bool client_wants_usage_;
  TokenUsage usage_;
  std::string without_usage_;
};

}  // namespace

bool client_wants_stream_usage(const json::object* body) {
  if (body == nullptr) {
    return false;
  }
  const json::value* options = body->if_contains("stream_options");
  if (options == nullptr || !options->is_object()) {
    return false;
  }
  const json::value* include = options->get_object().if_contains("include_usage");
  return include != nullptr && include->is_bool() && include->get_bool();
}

std::string_view to_string(Operation operation) {
  return operation == Operation::kEmbeddings ? "embeddings" : "chat.completions";
}

TokenUsage read_openai_usage(const json::object& body) {
  TokenUsage usage;
  const json::value* v = body.if_contains("usage");
  if (v == nullptr || !v->is_object()) {
    return usage;
  }
  const json::object& u = v->get_object();
  usage.reported = true;
  usage.prompt_tokens = count_field(u, "prompt_tokens");
  usage.completion_tokens = count_field(u, "completion_tokens");
  return usage;
}

EncodeResult OpenAIProvider::encode(const EncodeInput& input, const ProviderTarget& target) const {
  EncodeResult result;
  upstream::UpstreamRequest& request = result.request;
  request.method = "POST";
  request.origin = target.origin;
  request.target = target.base_path;
  request.target += path_for(input.operation);
  request.headers.add("Content-Type", "application/json");
  if (input.stream) {
    request.headers.add("Accept", "text/event-stream");
  }
  const std::string_view api_key = input.api_key.empty() ? target.api_key : input.api_key;
  if (!api_key.empty()) {
    request.headers.add("Authorization", "Bearer " + std::string(api_key));
  } else if (target.forward_client_key && !input.client_authorization.empty()) {
    request.headers.add("Authorization", std::string(input.client_authorization));
  }
  for (const auto& [name, value] : target.headers) {
    request.headers.set(name, value);
  }
  json::object body = *input.body;
  body["model"] = input.upstream_model;
  if (input.stream && input.operation == Operation::kChatCompletions &&
      !client_wants_stream_usage(input.body)) {
    // Always ask for the usage chunk: tokens are counted and charged on every stream. Keeps the
    // client's other stream_options; the decoder drops the chunk the client did not ask for.
    json::value& options = body["stream_options"];
    if (!options.is_object()) {
      options = json::object();
    }
    options.get_object()["include_usage"] = true;
  }
  request.body = json::serialize(body);
  return result;
}

DecodeResult OpenAIProvider::decode(Operation operation,
                                    const upstream::UpstreamResponse& response) const {
  DecodeResult result;
  boost::system::error_code ec;
  json::value parsed = json::parse(response.body, ec);
  if (ec || !parsed.is_object()) {
    result.error = ErrorKind::kMalformedResponse;
    result.detail = ec ? "2xx body is not JSON: " + ec.message() : "2xx body is not an object";
    return result;
  }
  const json::object& object = parsed.get_object();
  const std::string_view field = operation == Operation::kEmbeddings ? "data" : "choices";
  const json::value* list = object.if_contains(field);
  if (list == nullptr || !list->is_array()) {
    result.error = ErrorKind::kMalformedResponse;
    result.detail = "2xx body has no `" + std::string(field) + "` array";
    return result;
  }
  result.usage = read_openai_usage(object);
  return result;
}

std::unique_ptr<StreamDecoder> OpenAIProvider::stream_decoder(const EncodeInput& input) const {
  return std::make_unique<OpenAIStreamDecoder>(client_wants_stream_usage(input.body));
}

std::string OpenAIProvider::relay_error_body(const upstream::UpstreamResponse& response) const {
  return relay_openai_error_body(response);
}

std::string relay_openai_error_body(const upstream::UpstreamResponse& response) {
  boost::system::error_code ec;
  json::value parsed = json::parse(response.body, ec);
  if (!ec && parsed.is_object()) {
    const json::value* error = parsed.get_object().if_contains("error");
    if (error != nullptr && error->is_object()) {
      return response.body;
    }
  }
  json::object error;
  error["message"] = "The upstream answered with HTTP status " + std::to_string(response.status) +
                     " and no OpenAI-shaped error body.";
  error["type"] = response.status >= 500 ? "server_error" : "invalid_request_error";
  error["param"] = nullptr;
  error["code"] = nullptr;
  json::object wrapper;
  wrapper["error"] = std::move(error);
  return json::serialize(wrapper);
}

}  // namespace sheepdog::providers
