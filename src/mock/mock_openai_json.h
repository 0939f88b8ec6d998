// Internal to the mock's OpenAI encoding (mock_openai*.cc): request-parsing helpers that return
// the 400 error OpenAI would send.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "server/http_error.h"

namespace sheepdog::mock::openai_detail {

using server::ApiError;
namespace json = boost::json;

inline ApiError invalid_request(std::string message,
                                std::optional<std::string> param = std::nullopt,
                                std::optional<std::string> code = std::nullopt) {
  return ApiError{std::move(message), "invalid_request_error", std::move(param), std::move(code)};
}

inline std::optional<ApiError> parse_object(std::string_view body, json::object& out) {
  boost::system::error_code ec;
  json::value value = json::parse(body, ec);
  if (ec || !value.is_object()) {
    return invalid_request(
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't "
        "using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was "
        "sent was not valid JSON.)");
  }
  out = std::move(value.get_object());
  return std::nullopt;
}

// Parses `body` as a JSON object with a non-empty string "model", as every OpenAI endpoint
// requires; the 400 OpenAI would send otherwise.
inline std::optional<ApiError> parse_model_request(std::string_view body, json::object& out,
                                                   std::string& model) {
  if (auto error = parse_object(body, out)) {
    return error;
  }
  const json::value* v = out.if_contains("model");
  if (v == nullptr || !v->is_string() || v->get_string().empty()) {
    return invalid_request("you must provide a model parameter");
  }
  model = std::string(v->get_string());
  return std::nullopt;
}

inline std::optional<size_t> positive_integer(const json::value* v) {
  if (v != nullptr && v->is_int64() && v->get_int64() > 0) {
    return static_cast<size_t>(v->get_int64());
  }
  if (v != nullptr && v->is_uint64() && v->get_uint64() > 0) {
    return static_cast<size_t>(v->get_uint64());
  }
  return std::nullopt;
}

// Appends every string in a message's content (a string or a list of parts) and in its tool

}  // namespace sheepdog::mock::openai_detail
