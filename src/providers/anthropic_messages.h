// Translation between OpenAI chat.completions and the Anthropic Messages API, as pure functions
// on JSON (no I/O): the request one way, the complete answer and errors the other. The
// streaming direction is anthropic_stream.h. The Anthropic provider (and, later, the
// /v1/messages endpoint) are built on these.
//
// What maps, request side: system and developer messages -> `system`; user and assistant
// messages with string or multi-part content (text; images by https URL or base64 data URL);
// assistant tool_calls -> tool_use blocks (arguments parsed into `input`; arguments that are
// not a JSON object give `input` {}, since a repair request (llm/repair_prompt.h) carries the
// model's broken call verbatim and the tool message after it says what was wrong); tool
// messages -> tool_result blocks in a user turn; consecutive messages of one role merged,
// since Anthropic requires alternating turns; max_completion_tokens / max_tokens -> max_tokens
// (Anthropic requires it: kDefaultMaxTokens when the client gave none); temperature, top_p, stop ->
// stop_sequences, stream, user -> metadata.user_id; tools -> {name, description, input_schema};
// tool_choice auto/none/required/named -> auto/none/any/tool, parallel_tool_calls false ->
// disable_parallel_tool_use. What cannot be expressed (n > 1, audio parts, a JSON-schema
// response_format) is a 400 naming the parameter rather than a silently different answer.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "providers/provider.h"

namespace sheepdog::providers {

inline constexpr int64_t kDefaultMaxTokens = 4096;

// Why a request cannot be translated: the OpenAI error the client should get (400).
struct TranslationError {
  std::string message;
  std::string param;  // the offending parameter, e.g. "n" or "messages[2].content[0]"
};

// The Messages API request body for `openai` (a validated chat.completions request), calling
// `model` upstream.
std::variant<boost::json::object, TranslationError> to_anthropic_request(
    const boost::json::object& openai, std::string_view model);

// The OpenAI finish_reason for an Anthropic stop_reason: end_turn, stop_sequence -> "stop";
// max_tokens -> "length"; tool_use -> "tool_calls"; refusal -> "content_filter"; anything
// else (pause_turn, null) -> "stop".
std::string_view to_openai_finish_reason(std::string_view stop_reason);

// OpenAI usage from an Anthropic `usage` object: prompt_tokens counts input_tokens plus both
// cache counts (what the model read), with cache reads also in
// prompt_tokens_details.cached_tokens.
TokenUsage anthropic_usage(const boost::json::object& usage);
boost::json::object openai_usage_object(const boost::json::object& anthropic_usage);

// The chat.completion object for a complete Messages API answer; nullopt if `anthropic` is not
// one (no `content` array). `created` is the Unix time to stamp it with.
std::optional<boost::json::object> to_openai_completion(const boost::json::object& anthropic,
                                                        int64_t created);

// An OpenAI-shaped error body ({"error": {message, type, param, code}}) for an Anthropic error
// body ({"type": "error", "error": {"type", "message"}}); nullopt if it is not one (an
// OpenAI-shaped body, which has no top-level "type", included). Types map
// to OpenAI's: invalid_request_error and not_found_error -> invalid_request_error,
// authentication_error / permission_error -> authentication_error / permission_error,
// rate_limit_error -> rate_limit_error, overloaded_error and api_error -> server_error.
std::optional<std::string> to_openai_error_body(std::string_view anthropic_body);

}  // namespace sheepdog::providers
