// Embeddings in OpenAI's format (see mock_openai.h).
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <cstring>

#include "mock/mock_openai.h"
#include "mock/mock_openai_json.h"

namespace sheepdog::mock {
namespace {

namespace json = boost::json;
using openai_detail::invalid_request;
using openai_detail::parse_model_request;
using openai_detail::positive_integer;
using server::ApiError;

std::string base64(const unsigned char* data, size_t size) {
  static constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((size + 2) / 3 * 4);
  for (size_t i = 0; i < size; i += 3) {
    const uint32_t b0 = data[i];
    const uint32_t b1 = i + 1 < size ? data[i + 1] : 0;
    const uint32_t b2 = i + 2 < size ? data[i + 2] : 0;
    const uint32_t triple = (b0 << 16) | (b1 << 8) | b2;
    out += kAlphabet[(triple >> 18) & 63];
    out += kAlphabet[(triple >> 12) & 63];
    out += i + 1 < size ? kAlphabet[(triple >> 6) & 63] : '=';
    out += i + 2 < size ? kAlphabet[triple & 63] : '=';
  }
  return out;
}

}  // namespace

std::optional<ApiError> decode_openai_embeddings(std::string_view text, EmbeddingsCall* out) {
  json::object body;
  EmbeddingsCall call;
  if (auto error = parse_model_request(text, body, call.model)) {
    return error;
  }
  const json::value* input = body.if_contains("input");
  const auto bad_input = [] {
    return invalid_request(
        "'input' must be a string, an array of strings, or an array of "
        "token arrays, and must not be empty.",
        "input", "invalid_type");
  };
  if (input == nullptr) {
    return invalid_request("Missing required parameter: 'input'.", "input",
                           "missing_required_parameter");
  }
  const auto add_tokens = [&call](const json::array& tokens) {
    std::string rendered;
    for (const json::value& token : tokens) {
      rendered += json::serialize(token) + " ";
    }
    call.prompt_tokens += tokens.size();
    call.inputs.push_back(std::move(rendered));
  };
  if (input->is_string()) {
    call.inputs.emplace_back(input->get_string());
    call.prompt_tokens = approx_tokens(input->get_string());
  } else if (input->is_array() && !input->get_array().empty()) {
    const json::array& items = input->get_array();
    if (items.front().is_number()) {
      add_tokens(items);
    } else {
      for (const json::value& item : items) {
        if (item.is_string()) {
          call.inputs.emplace_back(item.get_string());
          call.prompt_tokens += approx_tokens(item.get_string());
        } else if (item.is_array()) {
          add_tokens(item.get_array());
        } else {
          return bad_input();
        }
      }
    }
  } else {
    return bad_input();
  }
  if (const json::value* dimensions = body.if_contains("dimensions")) {
    call.dimensions = positive_integer(dimensions);
    if (!call.dimensions || *call.dimensions > 65536) {
      return invalid_request("'dimensions' must be an integer between 1 and 65536.", "dimensions",
                             "invalid_value");
    }
  }
  if (const json::value* format = body.if_contains("encoding_format");
      format != nullptr && format->is_string()) {
    if (format->get_string() != "float" && format->get_string() != "base64") {
      return invalid_request("'encoding_format' must be 'float' or 'base64'.", "encoding_format",
                             "invalid_value");
    }
    call.base64 = format->get_string() == "base64";
  }
  *out = std::move(call);
  return std::nullopt;
}

std::string openai_embeddings(const EmbeddingsCall& call, size_t default_dimensions) {
  const size_t dimensions = call.dimensions.value_or(default_dimensions);
  std::string out = R"({"object":"list","data":[)";
  for (size_t i = 0; i < call.inputs.size(); ++i) {
    const std::vector<float> vector = embedding_vector(call.inputs[i], dimensions);
    out += i == 0 ? "" : ",";
    out += R"({"object":"embedding","index":)" + std::to_string(i) + R"(,"embedding":)";
    if (call.base64) {
      std::vector<unsigned char> bytes(vector.size() * sizeof(float));
      std::memcpy(bytes.data(), vector.data(), bytes.size());  // x86/ARM: little-endian
      out += "\"" + base64(bytes.data(), bytes.size()) + "\"";
    } else {
      out += '[';
      char buffer[32];
      for (size_t j = 0; j < vector.size(); ++j) {
        const auto result = std::to_chars(buffer, buffer + sizeof(buffer), vector[j]);
        out += j == 0 ? "" : ",";
        out.append(buffer, result.ptr);
      }
      out += ']';
    }
    out += '}';
  }
  json::object usage;
  usage["prompt_tokens"] = call.prompt_tokens;
  usage["total_tokens"] = call.prompt_tokens;
  out += R"(],"model":)" + json::serialize(json::string(call.model)) + R"(,"usage":)" +
         json::serialize(usage) + "}";
  return out;
}

}  // namespace sheepdog::mock
