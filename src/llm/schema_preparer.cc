#include "llm/schema_preparer.h"

#include <fmt/format.h>

#include <boost/json/object.hpp>
#include <cstddef>
#include <cstdlib>
#include <deque>
#include <map>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

#include "core/json_fields.h"
#include "llm/json_text.h"
#include "llm/schema_regex.h"

namespace sheepdog::llm::detail {

namespace json = boost::json;

namespace {

constexpr size_t kMaxSchemaDepth = 64;
constexpr size_t kMaxSchemaNodes = 2000;
constexpr size_t kMaxSchemaRefs = 64;

// The breadth-first walk behind prepare_schema(): visits every subschema once, recording the
// edges that validate the same value in place (the ones a cycle must not consist of).
class SchemaPreparer {
 public:
  explicit SchemaPreparer(json::value schema) : doc_(std::move(schema)) {}

  // Empty on success; then take() is the prepared schema.
  std::string run() {
    work_.push_back({"", 0});
    seen_.insert("");
    while (!work_.empty() && problem_.empty()) {
      const auto [pointer, depth] = work_.front();
      work_.pop_front();
      visit(pointer, depth);
    }
    if (problem_.empty()) {
      find_cycle();
    }
    return problem_;
  }
  json::value take() { return std::move(doc_); }

 private:
  void fail(std::string problem) {
    if (problem_.empty()) {
      problem_ = std::move(problem);
    }
  }

  void enqueue(const std::string& from, const std::string& to, size_t depth, bool in_place) {
    if (in_place) {
      edges_[from].push_back(to);
    }
    if (depth > kMaxSchemaDepth) {
      fail(fmt::format("schema nested deeper than {} levels", kMaxSchemaDepth));
    } else if (seen_.insert(to).second) {
      if (seen_.size() > kMaxSchemaNodes) {
        fail(fmt::format("schema has more than {} subschemas", kMaxSchemaNodes));
      }
      work_.push_back({to, depth});
    }
  }

  void visit(const std::string& pointer, size_t depth) {
    boost::system::error_code ec;
    json::value* node = doc_.find_pointer(pointer, ec);
    if (node == nullptr || node->is_bool()) {
      return;
    }
    if (!node->is_object()) {
      fail(fmt::format("subschema at {} is not an object", display_path(pointer)));
      return;
    }
    json::object& object = node->get_object();
    object.erase("$id");
    if (const json::value* id = object.if_contains("id"); id != nullptr && id->is_string()) {
      object.erase("id");
    }
    for (const auto& [from, to] : {std::pair{std::string_view("format"), kFormatKey},
                                   std::pair{std::string_view("pattern"), kPatternKey}}) {
      if (json::value* value = object.if_contains(from); value != nullptr && value->is_string()) {
        json::value moved = std::move(*value);
        object.erase(from);
        object[to] = std::move(moved);
      }
    }
    // valijson checks an integer multipleOf with integer arithmetic, converting a fractional
    // value to int64 first: undefined for 1e300. The floating-point check has no such case.
    if (json::value* divisor = object.if_contains("multipleOf");
        divisor != nullptr && divisor->is_int64()) {
      *divisor = static_cast<double>(divisor->get_int64());
    }
    if (const json::value* pattern = object.if_contains(kPatternKey);
        pattern != nullptr && pattern->is_string()) {
      try_regex(pattern->get_string());
    }
    if (const json::object* patterns = object_field(object, "patternProperties")) {
      for (const auto& member : *patterns) {
        try_regex(member.key());
      }
    }
    if (const json::value* ref = object.if_contains("$ref")) {
      follow_ref(pointer, *ref, depth);
    }
    for (std::string_view key : {"not", "if", "then", "else"}) {
      if (object.contains(key)) {
        enqueue(pointer, child_pointer(pointer, key), depth + 1, true);
      }
    }
    for (std::string_view key : {"allOf", "anyOf", "oneOf"}) {
      if (const json::value* list = object.if_contains(key); list != nullptr && list->is_array()) {
        for (size_t i = 0; i < list->get_array().size(); ++i) {
          enqueue(pointer, child_pointer(child_pointer(pointer, key), std::to_string(i)), depth + 1,
                  true);
        }
      }
    }
    for (std::string_view key :
         {"additionalItems", "additionalProperties", "contains", "propertyNames"}) {
      if (object.contains(key)) {
        enqueue(pointer, child_pointer(pointer, key), depth + 1, false);
      }
    }
    if (const json::value* items = object.if_contains("items")) {
      if (items->is_array()) {
        for (size_t i = 0; i < items->get_array().size(); ++i) {
          enqueue(pointer, child_pointer(child_pointer(pointer, "items"), std::to_string(i)),
                  depth + 1, false);
        }
      } else {
        enqueue(pointer, child_pointer(pointer, "items"), depth + 1, false);
      }
    }
    for (std::string_view key :
         {"properties", "patternProperties", "definitions", "$defs", "dependencies"}) {
      if (const json::object* map = object_field(object, key)) {
        for (const auto& member : *map) {
          if (member.value().is_object() || member.value().is_bool()) {
            enqueue(pointer, child_pointer(child_pointer(pointer, key), member.key()), depth + 1,
                    key == "dependencies");
          }
        }
      }
    }
  }

  void follow_ref(const std::string& pointer, const json::value& ref, size_t depth) {
    if (!ref.is_string()) {
      fail(fmt::format("$ref at {} is not a string", display_path(pointer)));
      return;
    }
    const std::optional<std::string> target = local_ref_pointer(ref.get_string());
    if (!target) {
      fail(fmt::format("$ref '{}' is not a local reference (#/...)",
                       one_line(ref.get_string(), 80)));
      return;
    }
    boost::system::error_code ec;
    if (doc_.find_pointer(*target, ec) == nullptr) {
      fail(fmt::format("$ref '{}' does not resolve", one_line(ref.get_string(), 80)));
      return;
    }
    if (++refs_ > kMaxSchemaRefs) {
      fail(fmt::format("schema has more than {} $ref", kMaxSchemaRefs));
      return;
    }
    enqueue(pointer, *target, depth + 1, true);
  }

  void try_regex(std::string_view pattern) {
    if (const std::string error = SchemaRegex::check(pattern); !error.empty()) {
      fail(fmt::format("invalid pattern '{}': {}", one_line(pattern, 80), error));
    }
  }

  // Iterative depth-first search over the in-place edges; a back edge is a cycle.
  void find_cycle() {
    enum Color : unsigned char { kWhite, kGray, kBlack };
    std::map<std::string, Color> color;
    for (const auto& [start, unused] : edges_) {
      if (color[start] != kWhite) {
        continue;
      }
      std::vector<std::pair<std::string, size_t>> stack = {{start, 0}};
      color[start] = kGray;
      while (!stack.empty()) {
        auto& [node, next] = stack.back();
        const auto it = edges_.find(node);
        if (it == edges_.end() || next >= it->second.size()) {
          color[node] = kBlack;
          stack.pop_back();
          continue;
        }
        const std::string target = it->second[next++];
        if (color[target] == kGray) {
          fail(fmt::format("$ref cycle through {} never descends into the value",
                           display_path(target)));
          return;
        }
        if (color[target] == kWhite) {
          color[target] = kGray;
          stack.push_back({target, 0});
        }
      }
    }
  }

  json::value doc_;
  std::deque<std::pair<std::string, size_t>> work_;
  std::set<std::string> seen_;
  std::map<std::string, std::vector<std::string>> edges_;
  size_t refs_ = 0;
  std::string problem_;
};

}  // namespace

// "#/definitions/a%20b" -> "/definitions/a b"; nullopt for anything but a local reference.
std::optional<std::string> local_ref_pointer(std::string_view ref) {
  if (ref.empty() || ref[0] != '#') {
    return std::nullopt;
  }
  std::string out;
  for (size_t i = 1; i < ref.size(); ++i) {
    if (ref[i] == '%' && i + 2 < ref.size()) {
      const std::string hex(ref.substr(i + 1, 2));
      char* end = nullptr;
      const long byte = std::strtol(hex.c_str(), &end, 16);
      if (end != hex.c_str() + 2) {
        return std::nullopt;
      }
      out += static_cast<char>(byte);
      i += 2;
    } else {
      out += ref[i];
    }
  }
  if (!out.empty() && out[0] != '/') {
    return std::nullopt;  // a plain-name fragment ("#foo")
  }
  return out;
}

std::string prepare_schema(json::value& schema) {
  SchemaPreparer preparer(std::move(schema));
  std::string problem = preparer.run();
  schema = preparer.take();
  return problem;
}

}  // namespace sheepdog::llm::detail
