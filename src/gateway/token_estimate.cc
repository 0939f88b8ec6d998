#include "gateway/token_estimate.h"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <cstdint>

namespace sheepdog::gateway {
namespace {

namespace json = boost::json;

constexpr int64_t kPerMessage = 3;
constexpr int64_t kReplyPriming = 3;

// Characters of text in a content value: a string, or an array of parts with "text".
size_t content_chars(const json::value& content) {
  if (const json::string* text = content.if_string()) {
    return text->size();
  }
  size_t chars = 0;
  if (const json::array* parts = content.if_array()) {
    for (const json::value& part : *parts) {
      if (const json::object* o = part.if_object()) {
        if (const json::value* text = o->if_contains("text"); text && text->is_string()) {
          chars += text->get_string().size();
        }
      } else if (const json::string* s = part.if_string()) {
        chars += s->size();
      } else if (part.is_number()) {
        chars += 4;  // a token id (embeddings input given as tokens)
      }
    }
  }
  return chars;
}

int64_t tokens_of(size_t chars) { return static_cast<int64_t>((chars + 3) / 4); }

int64_t max_tokens_of(const json::object& body) {
  for (const char* name : {"max_completion_tokens", "max_tokens"}) {
    if (const json::value* v = body.if_contains(name)) {
      if (v->is_int64() && v->get_int64() > 0) {
        return v->get_int64();
      }
      if (v->is_uint64()) {
        return static_cast<int64_t>(std::min<uint64_t>(v->get_uint64(), INT64_MAX));
      }
    }
  }
  return 0;
}

}  // namespace

int64_t estimate_request_tokens(providers::Operation operation, const json::object& body) {
  if (operation == providers::Operation::kEmbeddings) {
    const json::value* input = body.if_contains("input");
    return input == nullptr ? 0 : tokens_of(content_chars(*input));
  }
  size_t chars = 0;
  int64_t messages = 0;
  if (const json::value* list = body.if_contains("messages"); list && list->is_array()) {
    for (const json::value& m : list->get_array()) {
      const json::object* message = m.if_object();
      if (message == nullptr) {
        continue;
      }
      ++messages;
      if (const json::value* content = message->if_contains("content")) {
        chars += content_chars(*content);
      }
      if (const json::value* calls = message->if_contains("tool_calls")) {
        chars += json::serialize(*calls).size();
      }
    }
  }
  if (const json::value* tools = body.if_contains("tools")) {
    chars += json::serialize(*tools).size();
  }
  return tokens_of(chars) + kPerMessage * messages + kReplyPriming + max_tokens_of(body);
}

}  // namespace sheepdog::gateway
