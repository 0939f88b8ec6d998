// The OpenAI-compatible provider: OpenAI itself and every API that copies it (Azure OpenAI's
// v1 surface, vLLM, llama.cpp, Ollama, Together, Groq, the mock). The client already speaks
// this format, so encoding only swaps `model` for the deployment's upstream name and adds the
// deployment's credentials and headers; tools, tool_choice, response_format and every unknown
// field pass through untouched. One exception: a streamed chat request always asks the upstream
// for its usage chunk (stream_options.include_usage), so every stream's tokens are counted and
// charged; when the client did not ask, that chunk is not relayed (the other chunks then carry
// `"usage": null`, which the OpenAI SDKs read as absent).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "providers/provider.h"

namespace sheepdog::providers {

class OpenAIProvider final : public Provider {
 public:
  std::string_view kind() const override { return "openai"; }

  // POST {base_path}/chat/completions or {base_path}/embeddings, JSON body with `model`
  // replaced; `Authorization: Bearer <key>` (or the client's header, if the target forwards
  // it); the target's extra headers last, so a configured header may override ours.
  EncodeResult encode(const EncodeInput& input, const ProviderTarget& target) const override;

  // Chat: a JSON object with a `choices` array; embeddings: a JSON object with a `data`
  // array. Usage from `usage.prompt_tokens` / `usage.completion_tokens` when present.
  DecodeResult decode(Operation operation,
                      const upstream::UpstreamResponse& response) const override;

  std::unique_ptr<StreamDecoder> stream_decoder(const EncodeInput& input) const override;

  // The body as is when it already is {"error": {...}}; otherwise an OpenAI-shaped error
  // naming the upstream status (an HTML page from a proxy is not passed on).
  std::string relay_error_body(const upstream::UpstreamResponse& response) const override;
};

// OpenAIProvider::relay_error_body, for other providers whose error answers may already be
// OpenAI-shaped (their own 400s, or an upstream that speaks both).
std::string relay_openai_error_body(const upstream::UpstreamResponse& response);

// Reads OpenAI's `usage` object ({"prompt_tokens", "completion_tokens"}); unreported if
// `usage` is absent, null or not an object. Exposed for tests and other OpenAI-shaped decoders.
TokenUsage read_openai_usage(const boost::json::object& body);

}  // namespace sheepdog::providers
