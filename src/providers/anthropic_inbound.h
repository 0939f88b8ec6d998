// The inbound Anthropic Messages API (POST /v1/messages): the reverse of anthropic_messages.h.
// A client using the Anthropic SDK sends a Messages request; it becomes the chat.completions
// request the engine runs on any deployment, and the chat.completion (or OpenAI error) that
// comes back becomes what the Anthropic API would have answered. Pure functions on JSON; the
// streaming direction is anthropic_inbound_stream.h.
//
// Request mapping: system (string or text blocks) -> a leading system message; user/assistant
// content (string or blocks): text -> text parts, image (base64 -> data URL, url -> URL) ->
// image_url parts, assistant tool_use -> tool_calls (arguments = serialized input), user
// tool_result -> one tool message each, placed before the rest of that user turn (OpenAI wants
// tool messages right after the assistant turn that called), content string or text blocks
// joined by "\n". A content with one text block becomes a plain string, else a part list.
// max_tokens (required) -> max_tokens; temperature, top_p; stop_sequences -> stop; stream ->
// stream + stream_options.include_usage (the stream encoder needs the usage chunk for its final
// message_delta); metadata.user_id -> user; tools -> function tools (input_schema ->
// parameters); tool_choice auto/any/tool/none -> auto/required/named/none and
// disable_parallel_tool_use -> parallel_tool_calls false (both only when tools are given:
// OpenAI rejects them without tools).
//
// Decisions:
// - tool_result is_error has no OpenAI field; the tool message's content is prefixed with
//   "Error: " so the model still learns the call failed (the flag itself is lost).
// - Dropped, because they have no OpenAI equivalent and change no answer's shape: cache_control
//   (a caching hint; the upstream caches or not), top_k (a sampling hint), service_tier,
//   citations on text blocks, thinking {type: disabled}, and thinking / redacted_thinking blocks
//   in assistant history (Anthropic itself drops earlier turns' thinking from the context).
// - Refused with a 400 invalid_request_error, since answering would silently differ: server
//   tools (a tool with a `type` other than "custom"), thinking enabled, document and any other
//   block type not listed above, images in tool results or assistant turns, image sources other
//   than base64 / url, mcp_servers / container / context_management, unknown top-level fields,
//   and wrong types. Messages follow Anthropic's own wording ("messages: Field required",
//   "max_tokens: Input should be a valid integer", dotted paths like "messages.0.content.1"),
//   since Anthropic SDK users read them.
// - A final assistant message is passed on as is: an Anthropic deployment treats it as a
//   prefill, an OpenAI one answers after it.
//
// Answer mapping: see to_anthropic_message. Error mapping: see to_anthropic_error_body. HTTP
// statuses are relayed unchanged (no anthropic_status()): the gateway's 503 stays 503 rather
// than becoming Anthropic's 529, because the Anthropic SDKs retry both alike (every 5xx, and
// honour retry-after on each), while 503 is the status HTTP intermediaries and the gateway's
// own metrics understand. The body still says overloaded_error.
#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace sheepdog::providers {

// Why an Anthropic request cannot be served: the Anthropic error the client gets.
struct InboundError {
  std::string message;  // e.g. "messages.0.content.2: Input should be a valid dictionary"
  int status = 400;
  std::string type = "invalid_request_error";
};

// The chat.completions request for an Anthropic Messages request, `model` kept as given.
std::variant<boost::json::object, InboundError> to_openai_request(
    const boost::json::object& anthropic);

// The Anthropic stop_reason for an OpenAI finish_reason: stop -> end_turn, length ->
// max_tokens, tool_calls / function_call -> tool_use, content_filter -> refusal; anything else
// (null, unknown) -> end_turn. OpenAI does not say which stop sequence matched, so an Anthropic
// "stop_sequence" comes back as "end_turn" after a round trip.
std::string_view to_anthropic_stop_reason(std::string_view finish_reason);

// The Anthropic message id for a chat.completion id: "chatcmpl-msg_X" (what the Anthropic
// provider makes of msg_X) -> "msg_X"; "msg_X" as is; "chatcmpl-X" -> "msg_X"; other -> "msg_"
// + id; "" -> "msg_unknown".
std::string anthropic_message_id(std::string_view completion_id);

// The Messages API answer for a chat.completion, naming `model` (the client's requested model):
// {id, type: "message", role: "assistant", model, content, stop_reason, stop_sequence: null,
// usage}. content: a text block if the message's content (or, failing that, its refusal) is a
// non-empty string, then a tool_use block per tool call {id, name, input}. `input` is the parsed
// arguments; "" gives {}; arguments that are not a JSON object give {"_raw_arguments": text},
// so the model's output is kept for the client to see instead of silently becoming a call with
// no arguments. usage: input_tokens = prompt_tokens - cached_tokens, cache_read_input_tokens =
// prompt_tokens_details.cached_tokens, cache_creation_input_tokens 0 (OpenAI has no such count;
// the Anthropic provider folds it into prompt_tokens, so it comes back inside input_tokens),
// output_tokens = completion_tokens. nullopt if the body has no choices[0].message object.
std::optional<boost::json::object> to_anthropic_message(
    const boost::json::object& openai_completion, std::string_view model);

// Anthropic usage for an OpenAI usage object, as in to_anthropic_message: {input_tokens,
// cache_creation_input_tokens, cache_read_input_tokens, output_tokens}.
boost::json::object to_anthropic_usage(const boost::json::object& openai_usage);

// The Anthropic error type for an OpenAI error's type and code and the HTTP status (0: unknown,
// e.g. mid-stream). Most specific first: a code that already is an Anthropic type (the
// Anthropic provider keeps it there) as is; codes model_not_found -> not_found_error,
// rate_limit_exceeded -> rate_limit_error, invalid_api_key -> authentication_error, the
// gateway's circuit_open / upstream_overloaded / upstream_quota_exhausted -> overloaded_error,
// deadline_exceeded / upstream_timeout -> timeout_error; types authentication_error,
// permission_error, rate_limit_error as is; then the status: 400 invalid_request_error, 401
// authentication_error, 402 billing_error, 403 permission_error, 404 not_found_error, 413
// request_too_large, 429 rate_limit_error, 503 / 529 overloaded_error, 504 timeout_error, other
// 4xx (or type invalid_request_error) invalid_request_error, anything else api_error.
std::string_view anthropic_error_type(int http_status, std::string_view openai_type,
                                      std::string_view openai_code);

// {"type":"error","error":{"type":<type>,"message":<message>}}.
std::string anthropic_error_body(std::string_view type, std::string_view message);
inline std::string anthropic_error_body(const InboundError& error) {
  return anthropic_error_body(error.type, error.message);
}

// The Anthropic error body for an OpenAI-shaped error body answered with `http_status`. A body
// that is already Anthropic-shaped keeps its type and message; one that is not JSON, or has no
// message, still gives a valid envelope with a generic message naming the status.
std::string to_anthropic_error_body(int http_status, std::string_view openai_error_body);

}  // namespace sheepdog::providers
