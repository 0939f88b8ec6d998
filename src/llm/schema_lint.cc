#include "llm/schema_lint.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <boost/json/object.hpp>
#include <cmath>
#include <string_view>
#include <utility>
#include <vector>

#include "core/json_values.h"
#include "core/json_fields.h"
#include "llm/json_text.h"
#include "llm/schema_regex.h"

namespace sheepdog::llm {
namespace {

namespace json = boost::json;
using detail::child_pointer;
using detail::json_text;

constexpr size_t kMaxDepth = 64;
constexpr size_t kMaxNodes = 2000;
// Integers beyond 2^53 cannot be told apart as doubles, and valijson converts counts to int64.
constexpr double kMaxCount = 9007199254740992.0;

constexpr std::array<std::string_view, 7> kTypeNames = {"null",   "boolean", "object", "array",
                                                        "number", "integer", "string"};


std::string shown(const json::value& v) { return json_text(v, 60); }

// Every item a string, none twice: quadratic, and faster than a set for the handful of names a
// `required` or `type` list holds; long lists go through a sorted copy.
bool distinct_strings(const json::array& list) {
  for (const json::value& item : list) {
    if (!item.is_string()) {
      return false;
    }
  }
  if (list.size() > 32) {
    std::vector<std::string_view> names;
    names.reserve(list.size());
    for (const json::value& item : list) {
      names.emplace_back(item.get_string());
    }
    std::sort(names.begin(), names.end());
    return std::adjacent_find(names.begin(), names.end()) == names.end();
  }
  for (size_t i = 0; i < list.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (list[i].get_string() == list[j].get_string()) {
        return false;
      }
    }
  }
  return true;
}

// The keywords this file reads, gathered from a subschema in one pass over its members: looking
// each up in the object cost three quarters of the lint's time (perf, bench/micro/
// request_checks_bench.cc). Indexed by position in kKeywords.
constexpr std::array<std::string_view, 35> kKeywords = {"type",
                                                        "enum",
                                                        "required",
                                                        "uniqueItems",
                                                        "multipleOf",
                                                        "pattern",
                                                        "format",
                                                        "$ref",
                                                        "allOf",
                                                        "anyOf",
                                                        "oneOf",
                                                        "minimum",
                                                        "maximum",
                                                        "exclusiveMinimum",
                                                        "exclusiveMaximum",
                                                        "minLength",
                                                        "maxLength",
                                                        "minItems",
                                                        "maxItems",
                                                        "minProperties",
                                                        "maxProperties",
                                                        "not",
                                                        "if",
                                                        "then",
                                                        "else",
                                                        "additionalItems",
                                                        "additionalProperties",
                                                        "contains",
                                                        "propertyNames",
                                                        "items",
                                                        "properties",
                                                        "patternProperties",
                                                        "definitions",
                                                        "$defs",
                                                        "dependencies"};

constexpr size_t keyword_index(std::string_view key) {
  for (size_t i = 0; i < kKeywords.size(); ++i) {
    if (kKeywords[i] == key) {
      return i;
    }
  }
  return kKeywords.size();
}

// The index of a keyword named by a literal, resolved at compile time.
consteval size_t kw(std::string_view key) {
  const size_t i = keyword_index(key);
  if (i == kKeywords.size()) {
    throw "not a keyword of kKeywords";  // a compile error where kw() is used
  }
  return i;
}

// Keywords by length, so that a member name is compared with the few of its length only.
struct ByLength {
  std::array<std::array<uint8_t, 8>, 24> index{};
  std::array<uint8_t, 24> count{};
};
constexpr ByLength kByLength = [] {
  ByLength table;
  for (size_t i = 0; i < kKeywords.size(); ++i) {
    const size_t n = kKeywords[i].size();
    table.index[n][table.count[n]++] = static_cast<uint8_t>(i);
  }
  return table;
}();

size_t lookup(std::string_view key) {
  if (key.size() >= kByLength.count.size()) {
    return kKeywords.size();
  }
  for (size_t j = 0; j < kByLength.count[key.size()]; ++j) {
    const size_t i = kByLength.index[key.size()][j];
    if (kKeywords[i] == key) {
      return i;
    }
  }
  return kKeywords.size();
}

class Keywords {
 public:
  explicit Keywords(const json::object& o) {
    for (const auto& member : o) {
      values_[lookup(member.key())] = &member.value();
    }
  }
  const json::value* operator[](size_t index) const { return values_[index]; }

 private:
  std::array<const json::value*, kKeywords.size() + 1> values_{};  // the last one: others
};

// A keyword's name and index, for loops over several.
struct Named {
  std::string_view name;
  size_t index;
};
#define SHEEPDOG_KW(name) \
  Named { name, kw(name) }

// The path to the node being checked, as segments; rendered as a JSON Pointer only for the
// flaw (building a pointer string for every node cost more than all the checks together).
class Path {
 public:
  void push(std::string_view key) { segments_.emplace_back(key, -1); }
  void push(size_t index) { segments_.emplace_back(std::string_view{}, static_cast<long>(index)); }
  void pop() { segments_.pop_back(); }
  std::string render(std::string_view last = {}) const {
    std::string out;
    for (const auto& [key, index] : segments_) {
      out = child_pointer(out, index >= 0 ? std::to_string(index) : std::string(key));
    }
    return last.empty() ? out : child_pointer(out, last);
  }

 private:
  std::vector<std::pair<std::string_view, long>> segments_;
};

// Pushes a segment for the scope of a visit.
class Step {
 public:
  template <typename Segment>
  Step(Path& path, Segment segment) : path_(path) {
    path_.push(segment);
  }
  ~Step() { path_.pop(); }
  Step(const Step&) = delete;
  Step& operator=(const Step&) = delete;

 private:
  Path& path_;
};

class Linter {
 public:
  std::optional<SchemaFlaw> run(const json::value& schema, bool* needs_preparer) {
    visit(schema, 0);
    if (needs_preparer != nullptr) {
      *needs_preparer = needs_preparer_;
    }
    return flaw_;
  }

 private:
  bool failed() const { return flaw_.has_value(); }

  void fail(std::string_view keyword, std::string message) {
    if (!flaw_) {
      flaw_ = SchemaFlaw{path_.render(keyword), std::string(keyword), std::move(message)};
    }
  }

  void visit(const json::value& node, size_t depth) {
    if (failed()) {
      return;
    }
    if (++nodes_ > kMaxNodes) {
      fail("", fmt::format("the schema has more than {} subschemas", kMaxNodes));
      return;
    }
    if (depth > kMaxDepth) {
      fail("", fmt::format("the schema is nested deeper than {} levels", kMaxDepth));
      return;
    }
    if (node.is_bool()) {
      return;
    }
    if (!node.is_object()) {
      fail("",
           fmt::format("a schema must be an object or a boolean, got {}", json_type_name(node)));
      return;
    }
    const Keywords keywords(node.get_object());
    check_keywords(keywords);
    if (failed()) {
      return;
    }
    descend(keywords, depth);
  }

  void check_keywords(const Keywords& o) {
    needs_preparer_ = needs_preparer_ || o[kw("$ref")] != nullptr;
    check_type(o);
    if (const json::value* v = o[kw("enum")]) {
      if (!v->is_array() || v->get_array().empty()) {
        fail("enum", fmt::format("enum must be a non-empty array (nothing can match an "
                                 "empty one), got {}",
                                 shown(*v)));
      }
    }
    if (const json::value* v = o[kw("required")]) {
      const bool ok = v->is_array() && distinct_strings(v->get_array());
      if (!ok) {
        fail("required",
             fmt::format("required must be an array of distinct strings, got {}", shown(*v)));
      }
    }
    if (const json::value* v = o[kw("uniqueItems")]; v != nullptr && !v->is_bool()) {
      fail("uniqueItems", fmt::format("uniqueItems must be a boolean, got {}", shown(*v)));
    }
    if (const json::value* v = o[kw("multipleOf")]) {
      const std::optional<double> d = json_number(*v);
      if (!d || !(*d > 0) || !std::isfinite(*d)) {
        fail("multipleOf",
             fmt::format("multipleOf must be a number greater than 0, got {}", shown(*v)));
      }
    }
    for (const Named& k : {SHEEPDOG_KW("pattern"), SHEEPDOG_KW("format"), SHEEPDOG_KW("$ref")}) {
      const std::string_view key = k.name;
      if (const json::value* v = o[k.index]; v != nullptr && !v->is_string()) {
        fail(key, fmt::format("{} must be a string, got {}", key, shown(*v)));
      }
    }
    if (const json::value* v = o[kw("pattern")]; v != nullptr && v->is_string()) {
      check_regex("pattern", v->get_string());
    }
    if (const json::value* v = o[kw("patternProperties")]; v != nullptr && v->is_object()) {
      for (const auto& member : v->get_object()) {
        check_regex("patternProperties", member.key());
      }
    }
    for (const Named& k : {SHEEPDOG_KW("allOf"), SHEEPDOG_KW("anyOf"), SHEEPDOG_KW("oneOf")}) {
      const std::string_view key = k.name;
      if (const json::value* v = o[k.index];
          v != nullptr && (!v->is_array() || v->get_array().empty())) {
        fail(key, fmt::format("{} must be a non-empty array of schemas, got {}", key, shown(*v)));
      }
    }
    check_bounds(o);
    check_counts(o, SHEEPDOG_KW("minLength"), SHEEPDOG_KW("maxLength"), "characters");
    check_counts(o, SHEEPDOG_KW("minItems"), SHEEPDOG_KW("maxItems"), "items");
    check_counts(o, SHEEPDOG_KW("minProperties"), SHEEPDOG_KW("maxProperties"), "properties");
  }

  // PCRE2 must compile it (llm/schema_regex.h, which remembers verdicts: patterns repeat).
  void check_regex(std::string_view keyword, std::string_view pattern) {
    if (const std::string error = SchemaRegex::check(pattern); !error.empty()) {
      fail(keyword, fmt::format("invalid pattern '{}': {}", detail::one_line(pattern, 80), error));
    }
  }

  void check_type(const Keywords& o) {
    const json::value* v = o[kw("type")];
    if (v == nullptr) {
      return;
    }
    const auto known = [](const json::value& name) {
      return name.is_string() && std::find(kTypeNames.begin(), kTypeNames.end(),
                                           std::string_view(name.get_string())) != kTypeNames.end();
    };
    if (v->is_array()) {
      const json::array& list = v->get_array();
      bool ok = !list.empty() && distinct_strings(list);
      for (const json::value& name : list) {
        ok = ok && known(name);
      }
      if (!ok) {
        fail("type",
             fmt::format("type must be a non-empty array of distinct type names ({}), got {}",
                         "null, boolean, object, array, number, integer, string", shown(*v)));
      }
    } else if (!known(*v)) {
      fail("type",
           fmt::format("type must be one of null, boolean, object, array, number, integer or "
                       "string, got {}",
                       shown(*v)));
    }
  }

  void check_bounds(const Keywords& o) {
    std::optional<double> low;
    std::optional<double> high;
    bool low_exclusive = false;
    bool high_exclusive = false;
    for (const Named& k : {SHEEPDOG_KW("minimum"), SHEEPDOG_KW("maximum"),
                           SHEEPDOG_KW("exclusiveMinimum"), SHEEPDOG_KW("exclusiveMaximum")}) {
      const std::string_view key = k.name;
      const json::value* v = o[k.index];
      if (v == nullptr) {
        continue;
      }
      const bool exclusive = key.starts_with("exclusive");
      if (exclusive && v->is_bool()) {
        continue;  // draft 4: a flag on minimum / maximum
      }
      const std::optional<double> d = json_number(*v);
      if (!d) {
        fail(key, fmt::format("{} must be a number, got {}", key, shown(*v)));
        return;
      }
      const bool lower = key == "minimum" || key == "exclusiveMinimum";
      std::optional<double>& bound = lower ? low : high;
      bool& bound_exclusive = lower ? low_exclusive : high_exclusive;
      // The tighter of the inclusive and exclusive forms applies.
      if (!bound || (lower ? *d > *bound : *d < *bound) || (*d == *bound && exclusive)) {
        bound = *d;
        bound_exclusive = exclusive;
      }
    }
    for (const Named& k : {SHEEPDOG_KW("exclusiveMinimum"), SHEEPDOG_KW("exclusiveMaximum")}) {
      const std::string_view key = k.name;
      if (const json::value* v = o[k.index]; v != nullptr && v->is_bool() && v->get_bool()) {
        (key == "exclusiveMinimum" ? low_exclusive : high_exclusive) = true;
      }
    }
    if (low && high && (*low > *high || (*low == *high && (low_exclusive || high_exclusive)))) {
      fail(low_exclusive ? "exclusiveMinimum" : "minimum",
           fmt::format("no number can satisfy the lower bound {}{} and the upper bound {}{}", *low,
                       low_exclusive ? " (exclusive)" : "", *high,
                       high_exclusive ? " (exclusive)" : ""));
    }
  }

  void check_counts(const Keywords& o, Named min, Named max, std::string_view what) {
    const std::string_view min_key = min.name;
    const std::string_view max_key = max.name;
    std::optional<double> values[2];
    for (int i = 0; i < 2; ++i) {
      const Named& k = i == 0 ? min : max;
      const std::string_view key = k.name;
      const json::value* v = o[k.index];
      if (v == nullptr) {
        continue;
      }
      const std::optional<double> d = json_number(*v);
      if (!d || *d < 0 || *d != std::floor(*d) || *d > kMaxCount) {
        fail(key, fmt::format("{} must be a whole number from 0 to 2^53, got {}", key, shown(*v)));
        return;
      }
      values[i] = d;
    }
    if (values[0] && values[1] && *values[0] > *values[1]) {
      fail(min_key, fmt::format("{} {} is more than {} {}: no value can have that many {}", min_key,
                                *values[0], max_key, *values[1], what));
    }
  }

  void descend(const Keywords& o, size_t depth) {
    for (const Named& k :
         {SHEEPDOG_KW("not"), SHEEPDOG_KW("if"), SHEEPDOG_KW("then"), SHEEPDOG_KW("else"),
          SHEEPDOG_KW("additionalItems"), SHEEPDOG_KW("additionalProperties"),
          SHEEPDOG_KW("contains"), SHEEPDOG_KW("propertyNames")}) {
      const std::string_view key = k.name;
      if (const json::value* v = o[k.index]) {
        Step step(path_, key);
        visit(*v, depth + 1);
      }
    }
    if (const json::value* items = o[kw("items")]) {
      Step step(path_, std::string_view("items"));
      if (items->is_array()) {
        for (size_t i = 0; i < items->get_array().size(); ++i) {
          Step index(path_, i);
          visit(items->get_array()[i], depth + 1);
        }
      } else {
        visit(*items, depth + 1);
      }
    }
    for (const Named& k : {SHEEPDOG_KW("allOf"), SHEEPDOG_KW("anyOf"), SHEEPDOG_KW("oneOf")}) {
      const std::string_view key = k.name;
      if (const json::value* list = o[k.index]; list != nullptr && list->is_array()) {
        Step step(path_, key);
        for (size_t i = 0; i < list->get_array().size(); ++i) {
          Step index(path_, i);
          visit(list->get_array()[i], depth + 1);
        }
      }
    }
    for (const Named& k :
         {SHEEPDOG_KW("properties"), SHEEPDOG_KW("patternProperties"), SHEEPDOG_KW("definitions"),
          SHEEPDOG_KW("$defs"), SHEEPDOG_KW("dependencies")}) {
      const std::string_view key = k.name;
      const json::value* map = o[k.index];
      if (map == nullptr) {
        continue;
      }
      if (!map->is_object()) {
        fail(key, fmt::format("{} must be an object, got {}", key, shown(*map)));
        return;
      }
      Step step(path_, key);
      for (const auto& member : map->get_object()) {
        if (key == "dependencies" && member.value().is_array()) {
          for (const json::value& name : member.value().get_array()) {
            if (!name.is_string()) {
              fail(member.key(), fmt::format("a property dependency must list property names, "
                                             "got {}",
                                             shown(member.value())));
              return;
            }
          }
          continue;
        }
        Step child(path_, std::string_view(member.key()));
        visit(member.value(), depth + 1);
      }
    }
  }

  Path path_;
  std::optional<SchemaFlaw> flaw_;
  size_t nodes_ = 0;
  bool needs_preparer_ = false;
};

#undef SHEEPDOG_KW

}  // namespace

std::optional<SchemaFlaw> lint_schema(const json::value& schema, bool* needs_preparer) {
  return Linter().run(schema, needs_preparer);
}

}  // namespace sheepdog::llm
