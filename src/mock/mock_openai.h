// The OpenAI wire format of the mock upstream: decoding chat and embeddings requests, encoding
// chat.completion bodies, chat.completion.chunk streams (ending in `data: [DONE]`), embeddings
// and model lists, and the error responses each fault produces, with the bodies and headers
// api.openai.com sends. Pure functions; the timing lives in mock_service.cc.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mock/mock_config.h"
#include "mock/mock_content.h"
#include "mock/mock_key_limits.h"
#include "server/http_error.h"
#include "server/http_types.h"

namespace sheepdog::mock {

namespace asio = server::asio;
namespace http = server::http;

// Decodes a POST /v1/chat/completions body, including tools, tool_choice and response_format
// (text, json_object, json_schema with its schema). Nullopt on success; otherwise the 400
// error to send, worded as OpenAI words it.
std::optional<server::ApiError> decode_openai_chat(std::string_view body, ChatCall* out);

// The non-streaming response body (object "chat.completion").
std::string openai_chat_completion(const ChatReply& reply);

// The streamed response as SSE events, in order: the role chunk, one chunk per
// ChatReply::pieces() entry, the chunk with finish_reason, the usage chunk (choices [] and
// usage, iff include_usage; every earlier chunk then carries "usage": null), and [DONE].
std::vector<std::string> openai_chat_stream(const ChatReply& reply, bool include_usage);

struct EmbeddingsCall {
  std::string model;
  std::vector<std::string> inputs;  // token-id inputs are rendered as text, for the seed
  std::optional<size_t> dimensions;
  bool base64 = false;  // encoding_format "base64" (the official SDKs ask for it by default)
  size_t prompt_tokens = 0;
};
std::optional<server::ApiError> decode_openai_embeddings(std::string_view body,
                                                         EmbeddingsCall* out);
// The embeddings list; vectors from embedding_vector(), floats in their shortest exact form,
// or little-endian float32 in base64.
std::string openai_embeddings(const EmbeddingsCall& call, size_t default_dimensions);

// GET /v1/models: config.model_list, then the names with profiles, without duplicates.
std::string openai_models(const MockConfig& config);

struct ErrorContext {
  std::string model;
  size_t prompt_tokens = 0;
  size_t context_window = 0;
  std::string request_id;  // x-request-id (Anthropic: request-id)
  WallTime now{};          // for reset times that are timestamps (Anthropic's)
  // Set when the key's own limit refused the request (mock_key_limits.h): the 429 then states
  // that limit and its exact wait instead of the profile's retry_after.
  std::optional<KeyLimitRefusal> refusal;
};
// The response for an error outcome. REQUIRES: is_error_status(outcome). A 429 carries
// Retry-After (seconds, rounded up) and retry-after-ms.
server::HttpResponse openai_error_response(Outcome outcome, const FaultProfile& profile,
                                           const ErrorContext& context);

}  // namespace sheepdog::mock
