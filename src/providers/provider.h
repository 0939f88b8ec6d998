// The provider interface: how one upstream API family speaks. A provider turns the client's
// OpenAI-shaped request into an UpstreamRequest for one deployment (encode), checks a 2xx answer
// and reads its token usage (decode), and relays a streamed answer event by event to the client
// in the OpenAI stream format (StreamDecoder). The attempt loop never looks inside bodies
// itself, so a provider that speaks another wire format (Anthropic, next) translates here.
//
// Providers are stateless and immutable after construction: one instance per configured
// provider, shared by every io thread. StreamDecoders are per attempt and not thread-safe.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error_kind.h"
#include "core/token_usage.h"
#include "upstream/http_message.h"

namespace sheepdog::providers {

// The client-facing operations the gateway serves.
enum class Operation : unsigned char { kChatCompletions, kEmbeddings };
std::string_view to_string(Operation operation);  // "chat.completions", "embeddings"

// Token counts as the upstream reported them (core/token_usage.h).
using TokenUsage = sheepdog::TokenUsage;

// Whether the client's chat request asked for a usage chunk in its stream
// (stream_options.include_usage true). Null or anything else: no.
bool client_wants_stream_usage(const boost::json::object* body);

// Where and as whom one deployment is called. Built once per deployment at start-up.
struct ProviderTarget {
  upstream::Origin origin;
  std::string base_path;  // the base URL's path without a trailing slash, e.g. "/v1"; may be ""
  std::string api_key;    // empty: no credential of our own
  // Send the client's own Authorization header upstream (quick start without --api-key, where
  // the client's key is the upstream's key). Ignored when api_key is set.
  bool forward_client_key = false;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers, in order
};

// One attempt's input. Views must outlive the encode() call only.
struct EncodeInput {
  Operation operation = Operation::kChatCompletions;
  const boost::json::object* body = nullptr;  // the client's validated request; non-null
  std::string_view upstream_model;            // replaces the client's `model`
  bool stream = false;
  std::string_view client_authorization;  // the client's Authorization header, or ""
  // The key for this attempt, taken from the provider's key pool; "" = target.api_key.
  std::string_view api_key;
};

// What encode() made: the request, or why the client's request cannot go to this provider
// (a parameter it cannot express). `error_body` is then the OpenAI-shaped 400 body to answer
// with; the attempt counts as the client's bad request, so it is neither retried nor held
// against the deployment.
struct EncodeResult {
  upstream::UpstreamRequest request;
  std::optional<std::string> error_body;
  std::string detail;  // why, for logs (names the parameter; never content)
};

// What decode() found in a complete 2xx response.
struct DecodeResult {
  std::optional<ErrorKind> error;  // nullopt iff the body is what the operation returns
  std::string detail;              // why not, for logs (never body content)
  TokenUsage usage;
  // The body to send the client instead of the upstream's: a provider that speaks another
  // format returns its translation here; nullopt = relay the upstream's body as is.
  std::optional<std::string> body;
};

// Relays one streamed answer. feed() takes body bytes as they arrive and appends to `out` the
// bytes to send to the client (complete SSE events only, so a partial event is held until its
// end arrives; nothing else is buffered).
class StreamDecoder {
 public:
  virtual ~StreamDecoder() = default;

  struct Step {
    bool failed = false;  // the stream is unusable (oversized event, not SSE): stop relaying
    bool done = false;    // the end-of-stream event arrived; later bytes are ignored
    // The upstream sent an error event of its own (relayed like any event): the stream ends
    // with it, and no error event of ours should be added.
    bool upstream_error = false;
    size_t events = 0;  // events appended to `out` by this call
  };
  virtual Step feed(std::string_view bytes, std::string& out) = 0;

  // Usage seen so far (from the upstream's usage chunk or events, whether or not the client
  // asked for one).
  virtual const TokenUsage& usage() const = 0;
};

class Provider {
 public:
  virtual ~Provider() = default;

  // "openai", "anthropic".
  virtual std::string_view kind() const = 0;

  // The request for one attempt on `target`, or the 400 the client gets instead.
  virtual EncodeResult encode(const EncodeInput& input, const ProviderTarget& target) const = 0;

  // Checks a complete 2xx response: a body that is not what `operation` returns is
  // kMalformedResponse. Extracts usage.
  virtual DecodeResult decode(Operation operation,
                              const upstream::UpstreamResponse& response) const = 0;

  // The relay for a streamed answer to `input` (which says, e.g., whether the client asked for
  // a usage chunk).
  virtual std::unique_ptr<StreamDecoder> stream_decoder(const EncodeInput& input) const = 0;

  // The client-facing error body for an upstream error response that is relayed as is (a
  // client's bad request): OpenAI-shaped JSON, translated if the provider speaks another shape.
  virtual std::string relay_error_body(const upstream::UpstreamResponse& response) const = 0;
};

}  // namespace sheepdog::providers
