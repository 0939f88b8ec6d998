// The Anthropic provider: chat.completions requests sent to the Messages API and the answers
// translated back (anthropic_messages.h, anthropic_stream.h), so a client speaking OpenAI can be
// served, or fall back to, a Claude deployment and see one consistent OpenAI-shaped answer.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "providers/provider.h"

namespace sheepdog::providers {

class AnthropicProvider final : public Provider {
 public:
  // Sent as anthropic-version unless the provider's configured headers set one.
  static constexpr std::string_view kApiVersion = "2023-06-01";

  std::string_view kind() const override { return "anthropic"; }

  // POST {base_path}/messages with the translated body; `x-api-key: <key>` and
  // anthropic-version; the target's extra headers last. Embeddings, and chat requests with
  // parameters Anthropic cannot express, are a 400 naming the parameter.
  EncodeResult encode(const EncodeInput& input, const ProviderTarget& target) const override;

  // A Messages API answer (an object with a `content` array) translated to a chat.completion;
  // usage includes cache tokens.
  DecodeResult decode(Operation operation,
                      const upstream::UpstreamResponse& response) const override;

  // Translates Anthropic stream events to OpenAI chunks; a usage chunk at the end iff the
  // client asked with stream_options.include_usage.
  std::unique_ptr<StreamDecoder> stream_decoder(const EncodeInput& input) const override;

  // Anthropic's {"type":"error","error":{...}} as an OpenAI error; otherwise as
  // relay_openai_error_body (our own 400 from encode() as is, anything else a generic error
  // naming the status).
  std::string relay_error_body(const upstream::UpstreamResponse& response) const override;
};

}  // namespace sheepdog::providers
