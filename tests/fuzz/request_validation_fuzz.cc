// Fuzz target: what the gateway does with a client's request body before any upstream sees it.
// The body is checked as each API's request (server/gateway_validation.h for chat completions
// and embeddings, server/messages_endpoint.h for /v1/messages, which also translates it), and a
// body that passes is taken through what follows: the token estimate for key limits, the
// answer validator's schema compilation, and encoding for both providers (the Anthropic one
// translates the whole request). Header values the routes check (x-request-id,
// Idempotency-Key) are tried on the body's first bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

#include "fuzz/fuzz_support.h"
#include "gateway/idempotency_stage.h"
#include "gateway/token_estimate.h"
#include "llm/tool_validation.h"
#include "providers/anthropic_provider.h"
#include "providers/openai_provider.h"
#include "server/gateway_validation.h"
#include "server/messages_endpoint.h"

namespace {

using sheepdog::gateway::GatewayRequest;

void follow(const GatewayRequest& request) {
  static const sheepdog::providers::OpenAIProvider openai;
  static const sheepdog::providers::AnthropicProvider anthropic;
  static const sheepdog::providers::ProviderTarget target = [] {
    sheepdog::providers::ProviderTarget t;
    t.origin = {false, "127.0.0.1", 8000};
    t.base_path = "/v1";
    t.api_key = "sk-fuzz";
    t.headers = {{"x-extra", "1"}};
    return t;
  }();

  sheepdog::gateway::estimate_request_tokens(request.operation, request.body);
  if (request.operation == sheepdog::providers::Operation::kChatCompletions) {
    sheepdog::llm::AnswerValidator::for_request(request.body);
  }
  sheepdog::providers::EncodeInput input;
  input.operation = request.operation;
  input.body = &request.body;
  input.upstream_model = "upstream-model";
  input.stream = request.stream;
  input.client_authorization = "Bearer sk-client";
  openai.encode(input, target);
  anthropic.encode(input, target);
  openai.stream_decoder(input);
  anthropic.stream_decoder(input);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body = sheepdog::fuzz::as_text(data, size);

  auto chat = sheepdog::server::validate_chat_request(body);
  if (const GatewayRequest* request = std::get_if<GatewayRequest>(&chat)) {
    follow(*request);
  }
  auto embeddings = sheepdog::server::validate_embeddings_request(body);
  if (const GatewayRequest* request = std::get_if<GatewayRequest>(&embeddings)) {
    follow(*request);
  }
  auto messages = sheepdog::server::validate_messages_request(body);
  if (const GatewayRequest* request = std::get_if<GatewayRequest>(&messages)) {
    follow(*request);
  }

  sheepdog::server::usable_request_id(body.substr(0, 300));
  sheepdog::gateway::valid_idempotency_key(body.substr(0, 300));
  return 0;
}
