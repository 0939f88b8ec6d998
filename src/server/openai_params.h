// Types and ranges of the OpenAI request parameters the API documents, checked before a request
// goes upstream: `temperature: "hot"`, `temperature: 5`, `max_tokens: -5`, `n: 1000` or
// `max_tokens: 1e9` are the client's mistakes, and each used to cost a full attempt loop (the
// last one three attempts and a 504). The errors are worded and coded as OpenAI's own:
//   Invalid type for 'temperature': expected a number, but got a string instead.  (invalid_type)
//   Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 5
//   instead.                                                          (decimal_above_max_value)
//
// chat.completions: temperature [0, 2]; top_p [0, 1]; n integer [1, 128]; max_tokens and
// max_completion_tokens integers [1, kMaxOutputTokens]; presence_penalty and frequency_penalty
// [-2, 2]; logprobs boolean; top_logprobs integer [0, 20] (with logprobs true); seed an integer;
// stop a string or at most 4 strings; logit_bias token ids (as strings of digits) to [-100, 100];
// stream_options.include_usage boolean; store and parallel_tool_calls booleans.
// embeddings: dimensions integer [1, 65536]; encoding_format "float" or "base64"; input a
// non-empty string, or an array of at most 2048 non-empty strings, tokens (integers >= 0) or
// token arrays.
// A number with a zero fraction (5.0) counts as an integer, as JSON Schema says. Every other
// field passes through: providers add parameters faster than a gateway can list them.
#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>

#include "core/request_limits.h"
#include "server/http_error.h"

namespace sheepdog::server {

std::optional<ApiError> check_chat_parameters(const boost::json::object& body);
std::optional<ApiError> check_embeddings_parameters(const boost::json::object& body);

}  // namespace sheepdog::server
