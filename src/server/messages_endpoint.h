// POST /v1/messages: the Anthropic Messages API in front of the same engine. A client using the
// Anthropic SDK sends a Messages request; it is translated to chat.completions
// (providers/anthropic_inbound.h), runs through the attempt loop like any request (aliases,
// retries, fallbacks, key pools, idempotency) on any deployment, OpenAI-compatible or
// Anthropic, and what comes back is translated into what the Anthropic API would have answered:
// a message, its event stream, or an Anthropic error envelope with the same HTTP status.
//
// Every answer carries `request-id` (the Anthropic SDK's name for it) alongside x-request-id.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "gateway/client_sink.h"
#include "providers/anthropic_inbound_stream.h"

namespace sheepdog::server {

// An Anthropic error answer.
struct MessagesError {
  int status = 400;
  std::string body;  // {"type":"error","error":{...}}
};

// The checked, translated request (operation, body, model, stream, user filled), or the
// Anthropic error to answer with.
std::variant<gateway::GatewayRequest, MessagesError> validate_messages_request(
    std::string_view body);

// Translates what the engine answers (OpenAI-shaped) for the Anthropic client behind `client`.
class AnthropicMessagesSink final : public gateway::ClientSink {
 public:
  // `model`: the model the client asked for, echoed in the answers.
  AnthropicMessagesSink(gateway::ClientSink& client, std::string model);

  boost::asio::awaitable<bool> send(gateway::ResponseHead head, std::string body) override;
  boost::asio::awaitable<bool> start_stream(gateway::ResponseHead head) override;
  boost::asio::awaitable<bool> write(std::string_view chunk) override;
  boost::asio::awaitable<bool> finish() override;
  bool client_gone() const override { return client_.client_gone(); }
  boost::asio::cancellation_slot cancellation_slot() override {
    return client_.cancellation_slot();
  }

 private:
  gateway::ClientSink& client_;
  const std::string model_;
  providers::AnthropicStreamEncoder encoder_;
  std::string out_;  // reused per write
};

}  // namespace sheepdog::server
