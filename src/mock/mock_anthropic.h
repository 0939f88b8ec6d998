// The Anthropic Messages API wire format of the mock upstream (POST /v1/messages), as
// api.anthropic.com speaks it and providers/anthropic_{messages,stream}.h read it: decoding a
// request into a ChatCall, the answer as a Message or as its named server-sent events, and
// the error responses each fault produces. Pure functions; the timing lives in
// mock_service.cc. Shares the provider-independent content with OpenAI (mock_content.h).
//
// Answers: one content block, text or a tool_use (never both); stop_reason end_turn,
// max_tokens or tool_use; stop_sequence always null (stop_sequences are accepted, never hit);
// usage with zero cache counts. Since Anthropic requires max_tokens, it only caps: a text
// answer is config.completion_tokens long, or max_tokens if that is smaller, and then stops
// with "max_tokens" (also when the two are equal).
//
// Tool faults (mock_tool_faults.h): Anthropic's `input` is a JSON object, so unparseable text
// exists only in a stream, as input_json_delta pieces that join to a cut-off object
// (malformed_tool_call, tool_truncated_json) or to an object followed by prose
// (tool_trailing_text). Not streamed, those three answer like invalid_tool_args: an object
// that breaks the schema. Where a fault leaves no object (one that falls back to truncated
// JSON, or invalid_tool_args on a schema with neither properties nor required), the input is
// {"unexpected_argument": "not in the schema"}, which breaks only additionalProperties: false.
// tool_wrong_type, tool_missing_required, tool_extra_property and tool_unknown_tool look the
// same as on OpenAI, streamed or not. Requests have no response_format, so without tools a
// tool fault answers normally.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/random.h"
#include "mock/mock_config.h"
#include "mock/mock_content.h"
#include "mock/mock_openai.h"
#include "server/http_types.h"

namespace sheepdog::mock {

// The 400 invalid_request_error message for a request without the anthropic-version header
// (`value` is the header, "" when absent); nullopt when present. Any version is accepted.
std::optional<std::string> check_anthropic_version(std::string_view value);

// Decodes a POST /v1/messages body: model, max_tokens and messages required; system (a string
// or text blocks); content as a string or blocks (text, image, document, tool_use,
// tool_result, thinking); tools (custom tools need name and input_schema; server tools, which
// have a `type`, are accepted and never called); tool_choice auto / any / tool (name) / none;
// stream, stop_sequences, temperature (0-1). Nullopt on success; otherwise the message of the
// 400 invalid_request_error, worded as Anthropic words it ("max_tokens: Field required").
std::optional<std::string> decode_anthropic_messages(std::string_view body, ChatCall* out);

// The answer for `call` (see make_chat_reply) in Anthropic's terms: id "msg_01...", tool ids
// "toolu_01...", finish_reason holding the stop_reason, the length rule and tool faults above.
// REQUIRES: call.max_tokens is set (decode_anthropic_messages() ensures it).
ChatReply anthropic_reply(const ChatCall& call, Outcome outcome, const MockConfig& config,
                          RandomSource& random);

// The non-streamed answer: {"id", "type": "message", "role": "assistant", "model", "content",
// "stop_reason", "stop_sequence": null, "usage"}.
std::string anthropic_message(const ChatReply& reply);

// The streamed answer as SSE events with `event:` lines, in order: message_start (empty
// content, usage with output_tokens 1), content_block_start, ping, one content_block_delta
// per ChatReply::pieces() entry (text_delta or input_json_delta), content_block_stop,
// message_delta (stop_reason, output_tokens), message_stop.
std::vector<std::string> anthropic_message_stream(const ChatReply& reply);
// The index of the first content_block_delta in anthropic_message_stream().
inline constexpr size_t kAnthropicFirstDelta = 3;

// "req_011C" and 20 random alphanumerics, as Anthropic's request ids look.
std::string anthropic_request_id(RandomSource& random);

// An Anthropic error: {"type": "error", "error": {"type", "message"}, "request_id"} with a
// `request-id` header (both left out when request_id is empty).
server::HttpResponse anthropic_error(unsigned status, std::string_view type,
                                     std::string_view message, std::string_view request_id);

// The response for an error outcome, as Anthropic sends it. REQUIRES: is_error_status(outcome).
//   rate_limited            429 rate_limit_error; retry-after, anthropic-ratelimit-requests-*
//                           (or -tokens-* when the key's token limit refused it), the reset
//                           an RFC 3339 time; retry-after-ms too when the key's limit refused
//                           it (Anthropic sends no -ms; the mock states its exact wait)
//   insufficient_quota      400 invalid_request_error "Your credit balance is too low ..."
//   server_error            500 api_error
//   service_unavailable     529 overloaded_error, with the profile's retry-after
//   bad_gateway / gateway_timeout   the proxy's HTML pages, as for OpenAI
//   context_length_exceeded 400 invalid_request_error "prompt is too long: N tokens > M maximum"
// and x-should-retry when the profile sets it.
server::HttpResponse anthropic_error_response(Outcome outcome, const FaultProfile& profile,
                                              const ErrorContext& context);

}  // namespace sheepdog::mock
