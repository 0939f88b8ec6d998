#include "server/openai_params.h"

#include <fmt/format.h>

#include <cmath>
#include <string>
#include <string_view>

#include "core/json_values.h"
#include "core/json_fields.h"

namespace sheepdog::server {
namespace {

namespace json = boost::json;


ApiError invalid(std::string param, std::string message, std::string code) {
  return ApiError{std::move(message), "invalid_request_error", std::move(param), std::move(code)};
}

ApiError wrong_type(std::string_view param, std::string_view expected, const json::value& v) {
  return invalid(std::string(param),
                 fmt::format("Invalid type for '{}': expected {}, but got {} instead.", param,
                             expected, json_kind_phrase(v, /*split_numbers=*/true)),
                 "invalid_type");
}


std::string shown(double d) { return fmt::format("{}", d); }

// A number in [min, max]; `integer`: with a zero fraction. nullopt when fine (or absent / null).
std::optional<ApiError> check_number(const json::object& body, std::string_view key, double min,
                                     double max, bool integer, std::string_view param = {}) {
  const json::value* v = field(body, key);
  if (v == nullptr || v->is_null()) {
    return std::nullopt;
  }
  const std::string name(param.empty() ? key : param);
  const std::optional<double> d = json_number(*v);
  if (!d) {
    return wrong_type(name, integer ? "an integer" : "a number", *v);
  }
  if (integer && *d != std::floor(*d)) {
    return wrong_type(name, "an integer", *v);
  }
  const std::string_view kind = integer ? "integer" : "decimal";
  if (*d > max) {
    return invalid(name,
                   fmt::format("Invalid '{}': {} above maximum value. Expected a value <= {}, but "
                               "got {} instead.",
                               name, kind, shown(max), shown(*d)),
                   std::string(kind) + "_above_max_value");
  }
  if (*d < min) {
    return invalid(name,
                   fmt::format("Invalid '{}': {} below minimum value. Expected a value >= {}, but "
                               "got {} instead.",
                               name, kind, shown(min), shown(*d)),
                   std::string(kind) + "_below_min_value");
  }
  return std::nullopt;
}

std::optional<ApiError> check_bool(const json::object& body, std::string_view key,
                                   std::string_view param = {}) {
  const json::value* v = field(body, key);
  if (v == nullptr || v->is_null() || v->is_bool()) {
    return std::nullopt;
  }
  return wrong_type(param.empty() ? key : param, "a boolean", *v);
}

bool digits(std::string_view s) {
  if (s.empty() || s.size() > 12) {
    return false;
  }
  for (char c : s) {
    if (c < '0' || c > '9') {
      return false;
    }
  }
  return true;
}

std::optional<ApiError> check_stop(const json::object& body) {
  const json::value* v = field(body, "stop");
  if (v == nullptr || v->is_null() || v->is_string()) {
    return std::nullopt;
  }
  if (!v->is_array()) {
    return wrong_type("stop", "a string or an array of strings", *v);
  }
  const json::array& list = v->get_array();
  if (list.size() > 4) {
    return invalid("stop",
                   fmt::format("Invalid 'stop': array too long. Expected an array with maximum "
                               "length 4, but got an array with length {} instead.",
                               list.size()),
                   "array_above_max_length");
  }
  for (size_t i = 0; i < list.size(); ++i) {
    if (!list[i].is_string()) {
      return wrong_type(fmt::format("stop[{}]", i), "a string", list[i]);
    }
  }
  return std::nullopt;
}

std::optional<ApiError> check_logit_bias(const json::object& body) {
  const json::value* v = field(body, "logit_bias");
  if (v == nullptr || v->is_null()) {
    return std::nullopt;
  }
  if (!v->is_object()) {
    return wrong_type("logit_bias", "an object", *v);
  }
  for (const auto& member : v->get_object()) {
    const std::string param = fmt::format("logit_bias.{}", std::string_view(member.key()));
    if (!digits(member.key())) {
      return invalid("logit_bias",
                     fmt::format("Invalid 'logit_bias': keys must be token ids (digits), got "
                                 "'{}'.",
                                 std::string_view(member.key()).substr(0, 40)),
                     "invalid_value");
    }
    if (auto e = check_number(v->get_object(), member.key(), -100, 100, false, param)) {
      return e;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<ApiError> check_chat_parameters(const json::object& body) {
  const double max_tokens = static_cast<double>(kMaxOutputTokens);
  for (auto check : {
           check_number(body, "temperature", 0, 2, false),
           check_number(body, "top_p", 0, 1, false),
           check_number(body, "n", 1, 128, true),
           check_number(body, "max_tokens", 1, max_tokens, true),
           check_number(body, "max_completion_tokens", 1, max_tokens, true),
           check_number(body, "presence_penalty", -2, 2, false),
           check_number(body, "frequency_penalty", -2, 2, false),
           check_number(body, "top_logprobs", 0, 20, true),
           check_number(body, "seed", -9.2e18, 9.2e18, true),
           check_bool(body, "logprobs"),
           check_bool(body, "store"),
           check_stop(body),
           check_logit_bias(body),
       }) {
    if (check) {
      return check;
    }
  }
  if (const json::value* top = field(body, "top_logprobs"); top != nullptr && !top->is_null()) {
    const json::value* logprobs = field(body, "logprobs");
    if (logprobs == nullptr || !logprobs->is_bool() || !logprobs->get_bool()) {
      return invalid("top_logprobs",
                     "Invalid 'top_logprobs': 'logprobs' must be set to true when "
                     "'top_logprobs' is used.",
                     "invalid_value");
    }
  }
  if (const json::object* options = object_field(body, "stream_options")) {
    if (auto e = check_bool(*options, "include_usage", "stream_options.include_usage")) {
      return e;
    }
  }
  return std::nullopt;
}

std::optional<ApiError> check_embeddings_parameters(const json::object& body) {
  if (auto e = check_number(body, "dimensions", 1, 65536, true)) {
    return e;
  }
  if (const json::value* v = field(body, "encoding_format"); v != nullptr && !v->is_null()) {
    if (!v->is_string()) {
      return wrong_type("encoding_format", "a string", *v);
    }
    if (v->get_string() != "float" && v->get_string() != "base64") {
      return invalid("encoding_format",
                     "Invalid 'encoding_format': expected 'float' or 'base64', got '" +
                         std::string(v->get_string()).substr(0, 40) + "'.",
                     "invalid_value");
    }
  }
  const json::value* input = field(body, "input");
  if (input == nullptr || !input->is_array()) {
    return std::nullopt;  // the string / missing cases are validate_embeddings_request's
  }
  const json::array& list = input->get_array();
  if (list.size() > 2048) {
    return invalid("input",
                   fmt::format("Invalid 'input': array too long. Expected an array with maximum "
                               "length 2048, but got an array with length {} instead.",
                               list.size()),
                   "array_above_max_length");
  }
  const auto token = [](const json::value& t) {
    return (t.is_int64() && t.get_int64() >= 0) || t.is_uint64();
  };
  for (size_t i = 0; i < list.size(); ++i) {
    const json::value& item = list[i];
    const std::string param = fmt::format("input[{}]", i);
    if (item.is_string()) {
      if (item.get_string().empty()) {
        return invalid(param, "Invalid '" + param + "': string must not be empty.",
                       "invalid_value");
      }
    } else if (item.is_array()) {
      if (item.get_array().empty()) {
        return invalid(param, "Invalid '" + param + "': token array must not be empty.",
                       "invalid_value");
      }
      for (const json::value& t : item.get_array()) {
        if (!token(t)) {
          return wrong_type(param, "an array of token ids (integers >= 0)", t);
        }
      }
    } else if (!token(item)) {
      return wrong_type(param, "a string, a token id or an array of token ids", item);
    }
  }
  return std::nullopt;
}

}  // namespace sheepdog::server
