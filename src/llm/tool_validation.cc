#include "llm/tool_validation.h"

// valijson reports problems by throwing only with this set; without it, it prints and aborts.
// Only this file includes valijson (its headers are heavy and the macro must agree).
#define VALIJSON_USE_EXCEPTIONS 1

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <boost/json/serialize.hpp>
#include <boost/json/stream_parser.hpp>
#include <boost/url/ipv4_address.hpp>
#include <boost/url/ipv6_address.hpp>
#include <boost/url/parse.hpp>
#include <deque>
#include <exception>
#include <map>
#include <regex>
#include <set>
#include <utility>
#include <valijson/adapters/boost_json_adapter.hpp>
#include <valijson/constraint_builder.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

namespace sheepdog::llm {

namespace json = boost::json;

namespace {

// Keywords renamed in our copy of a schema so that our constraints, not valijson's, check
// them: valijson's `pattern` recurses per character of the value (stack overflow on long
// strings) and its `format` knows only dates and times.
constexpr std::string_view kFormatKey = "x-sheepdog-format";
constexpr std::string_view kPatternKey = "x-sheepdog-pattern";
// Our constraints' error descriptions start with this; translate_error() turns them into text.
constexpr char kOwnError = '\x01';

constexpr size_t kMaxSchemaDepth = 64;
constexpr size_t kMaxSchemaNodes = 2000;
constexpr size_t kMaxSchemaRefs = 64;
constexpr size_t kMaxValueBytes = 60;
constexpr size_t kMaxListBytes = 200;

// ---- small JSON helpers -------------------------------------------------------------------

const json::value* field(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  return value != nullptr && !value->is_null() ? value : nullptr;
}

std::string_view string_field(const json::object& object, std::string_view key) {
  const json::value* value = field(object, key);
  return value != nullptr && value->is_string() ? std::string_view(value->get_string())
                                                : std::string_view();
}

const json::object* object_field(const json::object& object, std::string_view key) {
  const json::value* value = field(object, key);
  return value != nullptr && value->is_object() ? &value->get_object() : nullptr;
}

// At most `max_bytes` of `text`, cut at a UTF-8 character boundary, "..." marking a cut.
std::string shorten(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) {
    return std::string(text);
  }
  size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) {
    --end;
  }
  return std::string(text.substr(0, end)) + "...";
}

// Printable on one line: control characters (a model's tool name may hold anything) become '?'.
std::string one_line(std::string_view text, size_t max_bytes) {
  std::string out = shorten(text, max_bytes);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      c = '?';
    }
  }
  return out;
}

void append_json(std::string& out, const json::value& value, size_t budget);

void append_number(std::string& out, const json::value& value) {
  if (value.is_int64()) {
    out += std::to_string(value.get_int64());
  } else if (value.is_uint64()) {
    out += std::to_string(value.get_uint64());
  } else {
    out += fmt::format("{}", value.get_double());  // shortest form, "1.5" not "1.5E0"
  }
}

// JSON text of `value`, giving up (with "...") once `out` passes `budget` bytes.
void append_json(std::string& out, const json::value& value, size_t budget) {
  if (out.size() > budget) {
    return;
  }
  switch (value.kind()) {
    case json::kind::object: {
      out += '{';
      bool first = true;
      for (const auto& member : value.get_object()) {
        if (out.size() > budget) {
          out += "...";
          break;
        }
        out += first ? "" : ",";
        first = false;
        out += json::serialize(json::string_view(member.key()));
        out += ':';
        append_json(out, member.value(), budget);
      }
      out += '}';
      break;
    }
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const json::value& item : value.get_array()) {
        if (out.size() > budget) {
          out += "...";
          break;
        }
        out += first ? "" : ",";
        first = false;
        append_json(out, item, budget);
      }
      out += ']';
      break;
    }
    case json::kind::string:
      out += json::serialize(value.get_string());
      break;
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      append_number(out, value);
      break;
    case json::kind::bool_:
      out += value.get_bool() ? "true" : "false";
      break;
    case json::kind::null:
      out += "null";
      break;
  }
}

std::string json_text(const json::value& value, size_t max_bytes) {
  std::string out;
  append_json(out, value, max_bytes);
  return shorten(out, max_bytes);
}

// A value from the answer as it appears in messages: strings in single quotes (JSON-escaped
// inside, so never a line break), anything else as JSON, about kMaxValueBytes at most.
std::string quote(const json::value& value) {
  if (value.is_string()) {
    const std::string escaped = json::serialize(value.get_string());
    return "'" + shorten(std::string_view(escaped).substr(1, escaped.size() - 2), kMaxValueBytes) +
           "'";
  }
  return json_text(value, kMaxValueBytes);
}

std::string_view type_name(const json::value& value) {
  switch (value.kind()) {
    case json::kind::object:
      return "object";
    case json::kind::array:
      return "array";
    case json::kind::string:
      return "string";
    case json::kind::int64:
    case json::kind::uint64:
      return "integer";
    case json::kind::double_:
      return "number";
    case json::kind::bool_:
      return "boolean";
    case json::kind::null:
      return "null";
  }
  return "value";
}

std::string escape_pointer_token(std::string_view token) {
  std::string out;
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

std::string display_path(const std::string& pointer) {
  return pointer.empty() ? "(root)" : one_line(pointer, 120);
}

// JSON Schema says a number with a zero fractional part is an integer; valijson's strict type
// check does not, so 5.0 becomes 5 before validation (models do write 5.0).
void normalize_numbers(json::value& value) {
  if (value.is_double()) {
    const double d = value.get_double();
    if (d == static_cast<double>(static_cast<int64_t>(d)) && d >= -9.0e15 && d <= 9.0e15) {
      value = static_cast<int64_t>(d);
    }
  } else if (value.is_array()) {
    for (json::value& item : value.get_array()) {
      normalize_numbers(item);
    }
  } else if (value.is_object()) {
    for (auto& member : value.get_object()) {
      normalize_numbers(member.value());
    }
  }
}

// ---- JSON text ----------------------------------------------------------------------------

struct TextProblem {
  ValidationReason reason;
  std::string message;
};

// `subject` is "arguments" (plural) or "content" (singular), for the messages.
std::optional<TextProblem> parse_text(std::string_view text, bool plural_subject,
                                      std::string_view subject, json::value& out) {
  const std::string is = std::string(subject) + (plural_subject ? " are" : " is");
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) {
    return TextProblem{ValidationReason::kInvalidJson, is + " empty, expected JSON"};
  }
  json::parse_options options;
  options.max_depth = 64;
  json::stream_parser parser({}, options);
  boost::system::error_code ec;
  const size_t used = parser.write_some(text.data(), text.size(), ec);
  if (ec) {
    if (text.substr(first).starts_with("```")) {
      return TextProblem{ValidationReason::kInvalidJson,
                         is + " wrapped in a Markdown code fence; send the bare JSON"};
    }
    return TextProblem{ValidationReason::kInvalidJson,
                       fmt::format("{} not valid JSON: {} at byte {}, near '{}'", is, ec.message(),
                                   used, one_line(text.substr(used, 20), 20))};
  }
  if (!parser.done()) {
    parser.finish(ec);
    if (ec || !parser.done()) {
      return TextProblem{ValidationReason::kTruncatedJson,
                         fmt::format("{} {} before the JSON value is complete ({} bytes)", subject,
                                     plural_subject ? "end" : "ends", text.size())};
    }
  } else if (used < text.size()) {
    return TextProblem{ValidationReason::kTrailingText,
                       fmt::format("{} {} after the JSON value, at byte {}: '{}'", subject,
                                   plural_subject ? "continue" : "continues", used,
                                   one_line(text.substr(used), 40))};
  }
  out = parser.release();
  normalize_numbers(out);
  return std::nullopt;
}

// ---- formats ------------------------------------------------------------------------------

bool digits(std::string_view s, size_t pos, size_t count) {
  if (pos + count > s.size()) {
    return false;
  }
  return std::all_of(s.begin() + pos, s.begin() + pos + count,
                     [](char c) { return c >= '0' && c <= '9'; });
}

int number_at(std::string_view s, size_t pos, size_t count) {
  int n = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    n = n * 10 + (s[i] - '0');
  }
  return n;
}

// RFC 3339 full-date: YYYY-MM-DD with a day that exists in that month.
bool is_date(std::string_view s) {
  if (s.size() != 10 || !digits(s, 0, 4) || s[4] != '-' || !digits(s, 5, 2) || s[7] != '-' ||
      !digits(s, 8, 2)) {
    return false;
  }
  const int year = number_at(s, 0, 4);
  const int month = number_at(s, 5, 2);
  const int day = number_at(s, 8, 2);
  static constexpr std::array<int, 12> kDays = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1 || day > kDays[month - 1]) {
    return false;
  }
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month != 2 || day != 29 || leap;
}

// RFC 3339 full-time: HH:MM:SS[.frac](Z|+HH:MM|-HH:MM).
bool is_time(std::string_view s) {
  if (s.size() < 9 || !digits(s, 0, 2) || s[2] != ':' || !digits(s, 3, 2) || s[5] != ':' ||
      !digits(s, 6, 2) || number_at(s, 0, 2) > 23 || number_at(s, 3, 2) > 59 ||
      number_at(s, 6, 2) > 60) {
    return false;
  }
  size_t pos = 8;
  if (s[pos] == '.') {
    const size_t start = ++pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      ++pos;
    }
    if (pos == start) {
      return false;
    }
  }
  const std::string_view offset = s.substr(pos);
  if (offset == "Z" || offset == "z") {
    return true;
  }
  return offset.size() == 6 && (offset[0] == '+' || offset[0] == '-') && digits(offset, 1, 2) &&
         offset[3] == ':' && digits(offset, 4, 2) && number_at(offset, 1, 2) <= 23 &&
         number_at(offset, 4, 2) <= 59;
}

bool is_date_time(std::string_view s) {
  return s.size() > 11 && (s[10] == 'T' || s[10] == 't') && is_date(s.substr(0, 10)) &&
         is_time(s.substr(11));
}

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// RFC 1123 host name: dot-separated labels of letters, digits and inner hyphens.
bool is_hostname(std::string_view s) {
  if (s.empty() || s.size() > 253) {
    return false;
  }
  size_t start = 0;
  while (true) {
    const size_t dot = s.find('.', start);
    const std::string_view label =
        s.substr(start, dot == std::string_view::npos ? s.npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-' ||
        !std::all_of(label.begin(), label.end(), [](char c) { return is_alnum(c) || c == '-'; })) {
      return false;
    }
    if (dot == std::string_view::npos) {
      return true;
    }
    start = dot + 1;
  }
}

// The common (RFC 5321 dot-atom) form: local@domain; quoted local parts are not accepted.
bool is_email(std::string_view s) {
  const size_t at = s.rfind('@');
  if (at == std::string_view::npos || at == 0 || at > 64) {
    return false;
  }
  const std::string_view local = s.substr(0, at);
  static constexpr std::string_view kAtext = "!#$%&'*+-/=?^_`{|}~.";
  const bool local_ok =
      local.front() != '.' && local.back() != '.' && local.find("..") == local.npos &&
      std::all_of(local.begin(), local.end(),
                  [](char c) { return is_alnum(c) || kAtext.find(c) != kAtext.npos; });
  const std::string_view domain = s.substr(at + 1);
  if (domain.size() > 2 && domain.front() == '[' && domain.back() == ']') {
    return local_ok && boost::urls::parse_ipv4_address(domain.substr(1, domain.size() - 2));
  }
  return local_ok && is_hostname(domain);
}

bool is_uuid(std::string_view s) {
  if (s.size() != 36) {
    return false;
  }
  for (size_t i = 0; i < s.size(); ++i) {
    const bool hyphen = i == 8 || i == 13 || i == 18 || i == 23;
    const char c = s[i];
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (hyphen ? c != '-' : !hex) {
      return false;
    }
  }
  return true;
}

// True for formats we do not check (annotations only).
bool format_matches(std::string_view format, std::string_view s) {
  if (format == "date") {
    return is_date(s);
  }
  if (format == "time") {
    return is_time(s);
  }
  if (format == "date-time") {
    return is_date_time(s);
  }
  if (format == "email") {
    return is_email(s);
  }
  if (format == "hostname") {
    return is_hostname(s);
  }
  if (format == "ipv4") {
    return boost::urls::parse_ipv4_address(s).has_value();
  }
  if (format == "ipv6") {
    return boost::urls::parse_ipv6_address(s).has_value();
  }
  if (format == "uri") {
    return boost::urls::parse_uri(s).has_value();
  }
  if (format == "uri-reference") {
    return boost::urls::parse_uri_reference(s).has_value();
  }
  if (format == "uuid") {
    return is_uuid(s);
  }
  return true;
}

// What the model reads after "is not a valid <format>".
std::string_view format_hint(std::string_view format) {
  if (format == "date") {
    return " (YYYY-MM-DD, e.g. 2024-01-15)";
  }
  if (format == "time") {
    return " (HH:MM:SS with an offset, e.g. 09:30:00Z)";
  }
  if (format == "date-time") {
    return " (RFC 3339 with an offset, e.g. 2024-01-15T09:30:00Z)";
  }
  if (format == "uri") {
    return " (an absolute URI with a scheme, e.g. https://example.com/a)";
  }
  if (format == "uuid") {
    return " (e.g. 123e4567-e89b-12d3-a456-426614174000)";
  }
  return "";
}

// ---- our valijson constraints -------------------------------------------------------------

using valijson::adapters::Adapter;
using valijson::constraints::Constraint;

class FormatCheck final : public valijson::constraints::PolyConstraint {
 public:
  explicit FormatCheck(std::string format) : format_(std::move(format)) {}

  bool validate(const Adapter& target, const std::vector<std::string>& context,
                valijson::ValidationResults* results) const override {
    if (!target.isString() || format_matches(format_, target.getString())) {
      return true;
    }
    if (results != nullptr) {
      results->pushError(context, std::string(1, kOwnError) + "format:" + format_);
    }
    return false;
  }

 private:
  Constraint* cloneInto(void* memory) const override { return new (memory) FormatCheck(*this); }
  size_t sizeOf() const override { return sizeof(FormatCheck); }

  std::string format_;
};

class PatternCheck final : public valijson::constraints::PolyConstraint {
 public:
  // Throws std::regex_error for a pattern std::regex cannot compile.
  explicit PatternCheck(std::string pattern)
      : pattern_(std::move(pattern)), regex_(pattern_, std::regex::ECMAScript) {}

  bool validate(const Adapter& target, const std::vector<std::string>& context,
                valijson::ValidationResults* results) const override {
    if (!target.isString()) {
      return true;
    }
    const std::string subject = target.getString();
    if (subject.size() > kMaxPatternSubjectBytes) {
      return true;
    }
    try {
      if (std::regex_search(subject, regex_)) {
        return true;
      }
    } catch (const std::regex_error&) {
      return true;  // too complex to decide: not the model's fault
    }
    if (results != nullptr) {
      results->pushError(context, std::string(1, kOwnError) + "pattern:" + pattern_);
    }
    return false;
  }

 private:
  Constraint* cloneInto(void* memory) const override { return new (memory) PatternCheck(*this); }
  size_t sizeOf() const override { return sizeof(PatternCheck); }

  std::string pattern_;
  std::regex regex_;
};

template <typename Check>
class CheckBuilder final : public valijson::ConstraintBuilder {
 public:
  Constraint* make(const Adapter& value) const override {
    if (!value.isString()) {
      throw std::runtime_error("expected a string");
    }
    return new Check(value.getString());
  }
};

// ---- preparing a client's schema ----------------------------------------------------------

std::string child_pointer(const std::string& parent, std::string_view key) {
  return parent + "/" + escape_pointer_token(key);
}

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

// Our copy of a client's schema: keywords we check ourselves renamed, "id"/"$id" removed (so
// every reference is local to this document), and refused when valijson would crash or loop
// on it: a $ref that is not local or does not resolve, or a cycle of $ref / allOf / anyOf /
// oneOf / not / if / then / else / dependencies that never descends into the value (valijson
// recurses on those forever). Also bounds depth and size, and tries every regex.
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
    if (const json::value* pattern = object.if_contains(kPatternKey);
        pattern != nullptr && pattern->is_string()) {
      try_regex(std::string(pattern->get_string()));
    }
    if (const json::object* patterns = object_field(object, "patternProperties")) {
      for (const auto& member : *patterns) {
        try_regex(std::string(member.key()));
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

  void try_regex(const std::string& pattern) {
    try {
      std::regex regex(pattern, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      fail(fmt::format("invalid pattern '{}': {}", one_line(pattern, 80), e.what()));
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

// ---- valijson errors as messages ----------------------------------------------------------

// The schema node that governs the value at `steps` (object keys / array indexes), following
// local $refs, or null where that is not plain (combinators, patternProperties).
const json::value* resolve(const json::value* node, const json::value& root) {
  for (int hops = 0; node != nullptr && node->is_object() && hops < 16; ++hops) {
    const std::string_view ref = string_field(node->get_object(), "$ref");
    if (ref.empty()) {
      break;
    }
    const std::optional<std::string> pointer = local_ref_pointer(ref);
    boost::system::error_code ec;
    node = pointer ? root.find_pointer(*pointer, ec) : nullptr;
  }
  return node;
}

struct Step {
  std::string key;
  bool is_index = false;
  size_t index = 0;
};

const json::value* schema_at(const json::value& root, const std::vector<Step>& steps) {
  const json::value* node = resolve(&root, root);
  for (const Step& step : steps) {
    if (node == nullptr || !node->is_object()) {
      return nullptr;
    }
    const json::object& object = node->get_object();
    const json::value* next = nullptr;
    if (!step.is_index) {
      const json::object* properties = object_field(object, "properties");
      next = properties != nullptr ? properties->if_contains(step.key) : nullptr;
      if (next == nullptr) {
        next = object_field(object, "additionalProperties") != nullptr
                   ? object.if_contains("additionalProperties")
                   : nullptr;
      }
    } else if (const json::value* items = field(object, "items")) {
      if (items->is_object()) {
        next = items;
      } else if (items->is_array() && step.index < items->get_array().size()) {
        next = &items->get_array()[step.index];
      } else if (items->is_array()) {
        next = field(object, "additionalItems");
      }
    }
    node = resolve(next, root);
  }
  return node;
}

// "string", "string or null", "integer, string or null"; empty when the node does not say.
std::string expected_types(const json::value* node, const json::value& root) {
  std::vector<std::string> types;
  auto add = [&types](const json::value* type) {
    if (type == nullptr) {
      return;
    }
    if (type->is_string()) {
      types.emplace_back(type->get_string());
    } else if (type->is_array()) {
      for (const json::value& t : type->get_array()) {
        if (t.is_string()) {
          types.emplace_back(t.get_string());
        }
      }
    }
  };
  if (node == nullptr || !node->is_object()) {
    return "";
  }
  add(field(node->get_object(), "type"));
  for (std::string_view key : {"anyOf", "oneOf"}) {
    if (!types.empty()) {
      break;
    }
    if (const json::value* list = field(node->get_object(), key); list && list->is_array()) {
      for (const json::value& alternative : list->get_array()) {
        const json::value* resolved = resolve(&alternative, root);
        if (resolved != nullptr && resolved->is_object()) {
          add(field(resolved->get_object(), "type"));
        }
      }
    }
  }
  std::vector<std::string> unique;
  for (std::string& type : types) {
    if (std::find(unique.begin(), unique.end(), type) == unique.end()) {
      unique.push_back(std::move(type));
    }
  }
  std::string out;
  for (size_t i = 0; i < unique.size(); ++i) {
    if (i > 0) {
      out += i + 1 == unique.size() ? " or " : ", ";
    }
    out += unique[i];
  }
  return out;
}

std::string keyword_value(const json::value* node, std::string_view key, std::string fallback) {
  if (node != nullptr && node->is_object()) {
    if (const json::value* value = field(node->get_object(), key)) {
      return json_text(*value, kMaxListBytes);
    }
  }
  return fallback;
}

// "Expected number less than 3.000000" -> "3.000000"
std::string tail_after(std::string_view text, std::string_view prefix) {
  std::string out(text.substr(prefix.size()));
  while (!out.empty() && out.back() == '.') {
    out.pop_back();
  }
  return out;
}

// A valijson description, lower-cased first letter and no final period.
std::string plain(std::string_view description) {
  std::string out(description);
  if (!out.empty() && out[0] >= 'A' && out[0] <= 'Z') {
    out[0] = static_cast<char>(out[0] - 'A' + 'a');
  }
  while (!out.empty() && out.back() == '.') {
    out.pop_back();
  }
  return out;
}

// The property name in "<prefix>'<name>'." (valijson quotes without escaping).
std::string quoted_name(std::string_view description, std::string_view prefix) {
  std::string_view name = description.substr(prefix.size());
  if (name.starts_with('\'')) {
    name.remove_prefix(1);
  }
  if (name.ends_with("'.")) {
    name.remove_suffix(2);
  }
  return std::string(name);
}

// The properties of `object` that `node` (additionalProperties false) does not name, in the
// object's order; just `first` (what valijson named) when `node` is not that schema.
std::vector<std::string> extra_properties(const json::value& object, const json::value* node,
                                          std::string first) {
  const json::value* additional = node != nullptr && node->is_object()
                                      ? field(node->get_object(), "additionalProperties")
                                      : nullptr;
  if (!object.is_object() || additional == nullptr || !additional->is_bool() ||
      additional->get_bool()) {
    return {std::move(first)};  // the failing subschema is not this node (allOf, $ref, ...)
  }
  const json::object* properties = object_field(node->get_object(), "properties");
  const json::object* patterns = object_field(node->get_object(), "patternProperties");
  std::vector<std::string> out;
  for (const auto& member : object.get_object()) {
    if (properties != nullptr && properties->contains(member.key())) {
      continue;
    }
    bool matched = false;
    if (patterns != nullptr && member.key().size() <= kMaxPatternSubjectBytes) {
      for (const auto& pattern : *patterns) {
        try {
          matched = matched || std::regex_search(member.key().begin(), member.key().end(),
                                                 std::regex(std::string(pattern.key())));
        } catch (const std::regex_error&) {
          matched = true;  // cannot tell: do not accuse the model
        }
      }
    }
    if (!matched) {
      out.emplace_back(member.key());
    }
  }
  return out.empty() ? std::vector<std::string>{std::move(first)} : out;
}

struct Found {
  std::string path;
  std::string message;
};

// Wrappers that only say "something below failed"; the error below says what.
bool is_wrapper(std::string_view description) {
  static constexpr std::array<std::string_view, 8> kWrappers = {
      "Failed to validate against schema associated with property name",
      "Failed to validate item #",
      "Failed to validate against child schema #",
      "Failed to validate against additional properties schema",
      "Failed to validate against schema associated with pattern",
      "Failed to validate against a conditional schema",
      "Failed to validate against dependent schema",
      "Failed to validate against additional items schema",
  };
  return std::any_of(kWrappers.begin(), kWrappers.end(),
                     [&](std::string_view w) { return description.starts_with(w); });
}

// Usually one message per valijson error; more for additionalProperties (valijson names only
// the first extra property, the model should hear of all).
std::vector<Found> translate_error(const valijson::ValidationResults::Error& error,
                                   const json::value& instance, const json::value& schema) {
  const std::string_view description = error.description;
  if (is_wrapper(description)) {
    return {};
  }
  // valijson's context: "<root>", then "[key]" / "[index]" per step.
  std::string path;
  std::vector<Step> steps;
  const json::value* value = &instance;
  for (size_t i = 1; i < error.context.size(); ++i) {
    const std::string& token = error.context[i];
    const std::string key =
        token.size() >= 2 && token.front() == '[' ? token.substr(1, token.size() - 2) : token;
    Step step;
    step.key = key;
    if (value != nullptr && value->is_array()) {
      step.is_index = true;
      step.index = static_cast<size_t>(std::strtoull(key.c_str(), nullptr, 10));
      value = step.index < value->get_array().size() ? &value->get_array()[step.index] : nullptr;
    } else if (value != nullptr && value->is_object()) {
      value = value->get_object().if_contains(key);
    } else {
      value = nullptr;
    }
    path = child_pointer(path, key);
    steps.push_back(std::move(step));
  }
  const json::value* node = schema_at(schema, steps);
  const json::value null_value;
  const json::value& v = value != nullptr ? *value : null_value;
  auto found = [&path](std::string message) {
    return std::vector<Found>{Found{path, display_path(path) + ": " + std::move(message)}};
  };

  if (!description.empty() && description[0] == kOwnError) {
    const std::string_view what = description.substr(1);
    if (what.starts_with("format:")) {
      const std::string_view format = what.substr(7);
      return found(fmt::format("{} is not a valid {}{}", quote(v), one_line(format, 40),
                               format_hint(format)));
    }
    return found(
        fmt::format("{} does not match the pattern '{}'", quote(v), one_line(what.substr(8), 100)));
  }
  static constexpr std::string_view kMissing = "Missing required property ";
  if (description.starts_with(kMissing)) {
    path = child_pointer(path, quoted_name(description, kMissing));
    return found("missing required property");
  }
  static constexpr std::string_view kExtra =
      "Object contains a property that could not be validated using 'properties' or "
      "'additionalProperties' constraints: ";
  if (description.starts_with(kExtra)) {
    std::vector<Found> out;
    for (const std::string& name : extra_properties(v, node, quoted_name(description, kExtra))) {
      const std::string pointer = child_pointer(path, name);
      out.push_back({pointer, display_path(pointer) +
                                  ": property not allowed (additionalProperties is false)"});
    }
    return out;
  }
  if (description.starts_with("Value type not permitted")) {
    const std::string expected = expected_types(node, schema);
    return found(expected.empty()
                     ? fmt::format("{} {} is not an allowed type", type_name(v), quote(v))
                     : fmt::format("expected {}, got {} {}", expected, type_name(v), quote(v)));
  }
  if (description.starts_with("Failed to match against any enum values")) {
    return found(fmt::format("{} is not one of {}", quote(v),
                             keyword_value(node, "enum", "the allowed values")));
  }
  if (description.starts_with("Failed to match expected value set by 'const'")) {
    return found(
        fmt::format("{} is not the required value {}", quote(v), keyword_value(node, "const", "")));
  }
  static constexpr std::array<std::array<std::string_view, 3>, 4> kBounds = {{
      {"Expected number less than or equal to ", "maximum", "is greater than the maximum"},
      {"Expected number less than ", "exclusiveMaximum", "must be less than"},
      {"Expected number greater than or equal to ", "minimum", "is less than the minimum"},
      {"Expected number greater than ", "exclusiveMinimum", "must be greater than"},
  }};
  for (const auto& [prefix, keyword, text] : kBounds) {
    if (description.starts_with(prefix)) {
      return found(fmt::format("{} {} {}", quote(v), text,
                               keyword_value(node, keyword, tail_after(description, prefix))));
    }
  }
  if (description.starts_with("Value should be a multiple of ")) {
    return found(
        fmt::format("{} is not a multiple of {}", quote(v),
                    keyword_value(node, "multipleOf",
                                  tail_after(description, "Value should be a multiple of "))));
  }
  if (description.starts_with("Failed to validate against any schemas allowed by anyOf") ||
      description.starts_with("Failed to validate against any child schemas allowed by oneOf")) {
    return found(fmt::format("{} matches none of the {} alternatives", quote(v),
                             description.find("anyOf") != description.npos ? "anyOf" : "oneOf"));
  }
  if (description.starts_with("Failed to validate against exactly one child schema")) {
    return found(fmt::format("{} matches more than one of the oneOf alternatives", quote(v)));
  }
  if (description.starts_with("Target should not validate against schema specified in 'not'")) {
    return found(fmt::format("{} matches the schema under 'not'", quote(v)));
  }
  if (v.is_string() && description.starts_with("String should be")) {
    return found(fmt::format("{} {} (it has {})", quote(v),
                             plain(description.substr(std::string_view("String ").size())),
                             valijson::utils::u8_strlen(std::string(v.get_string()).c_str())));
  }
  if (v.is_array() && description.starts_with("Array should")) {
    return found(fmt::format("{} (it has {})", plain(description), v.get_array().size()));
  }
  if (v.is_object() && description.starts_with("Object should")) {
    return found(fmt::format("{} (it has {})", plain(description), v.get_object().size()));
  }
  return found(plain(description));
}

}  // namespace

// ---- compiled schemas ---------------------------------------------------------------------

struct CompiledSchema {
  json::value original;  // for messages (enum lists, expected types)
  valijson::Schema schema;
};

namespace {

// Null and `problem` set when the schema cannot be used.
std::unique_ptr<CompiledSchema> compile_schema(const json::value& schema, std::string& problem) {
  if (!schema.is_object() && !schema.is_bool()) {
    problem = "not a JSON Schema object";
    return nullptr;
  }
  SchemaPreparer preparer(schema);
  problem = preparer.run();
  if (!problem.empty()) {
    return nullptr;
  }
  const json::value prepared = preparer.take();
  auto compiled = std::make_unique<CompiledSchema>();
  compiled->original = schema;
  try {
    valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
    parser.addConstraintBuilder(std::string(kFormatKey), new CheckBuilder<FormatCheck>());
    parser.addConstraintBuilder(std::string(kPatternKey), new CheckBuilder<PatternCheck>());
    parser.populateSchema(valijson::adapters::BoostJsonAdapter(prepared), compiled->schema);
  } catch (const std::exception& e) {
    problem = one_line(e.what(), 200);
    return nullptr;
  }
  return compiled;
}

// Violations of `compiled` by `instance`, at most AnswerValidator::kMaxIssuesPerValue.
std::vector<Found> check_schema(const CompiledSchema& compiled, const json::value& instance) {
  std::vector<Found> out;
  valijson::Validator validator;  // strong types: "5" is not an integer
  valijson::ValidationResults results;
  bool valid = true;
  try {
    valid = validator.validate(compiled.schema, valijson::adapters::BoostJsonAdapter(instance),
                               &results);
  } catch (const std::exception&) {
    return out;  // the schema's fault, not the answer's
  }
  if (valid) {
    return out;
  }
  valijson::ValidationResults::Error error;
  while (results.popError(error) && out.size() < AnswerValidator::kMaxIssuesPerValue) {
    for (Found& found : translate_error(error, instance, compiled.original)) {
      if (out.size() < AnswerValidator::kMaxIssuesPerValue &&
          std::none_of(out.begin(), out.end(),
                       [&](const Found& f) { return f.message == found.message; })) {
        out.push_back(std::move(found));
      }
    }
  }
  if (out.empty()) {
    out.push_back({"", "(root): does not match the schema"});
  }
  return out;
}

}  // namespace

// ---- report -------------------------------------------------------------------------------

std::string_view to_string(ValidationReason reason) {
  switch (reason) {
    case ValidationReason::kUnknownTool:
      return "unknown_tool";
    case ValidationReason::kInvalidJson:
      return "invalid_json";
    case ValidationReason::kTruncatedJson:
      return "truncated_json";
    case ValidationReason::kTrailingText:
      return "trailing_text";
    case ValidationReason::kSchemaViolation:
      return "schema_violation";
    case ValidationReason::kMissingToolCall:
      return "missing_tool_call";
    case ValidationReason::kForbiddenToolCall:
      return "forbidden_tool_call";
    case ValidationReason::kTooManyToolCalls:
      return "too_many_tool_calls";
    case ValidationReason::kMalformedAnswer:
      return "malformed_answer";
  }
  return "unknown";
}

std::string_view to_string(ValidationKind kind) {
  return kind == ValidationKind::kToolCall ? "tool_call" : "structured_output";
}

std::string_view error_type(ValidationKind kind) {
  return kind == ValidationKind::kToolCall ? "invalid_tool_call" : "invalid_structured_output";
}

std::string ValidationReport::summary() const {
  constexpr size_t kMaxBytes = 2048;
  std::string out;
  for (size_t i = 0; i < issues.size(); ++i) {
    const ValidationIssue& issue = issues[i];
    std::string line = issue.choice > 0 ? fmt::format("choice {}: ", issue.choice) : "";
    if (issue.call_index >= 0) {
      line += fmt::format("tool call {} ({}): ", issue.call_index, one_line(issue.tool, 64));
    } else if (issue.kind == ValidationKind::kStructuredOutput &&
               (issue.message.starts_with('/') || issue.message.starts_with('('))) {
      line += "content at ";
    }
    line += issue.message;
    const std::string more = fmt::format("... and {} more", issues.size() - i);
    if (out.size() + line.size() + 1 + more.size() > kMaxBytes && i + 1 < issues.size()) {
      out += more;
      return out;
    }
    out += shorten(line, kMaxBytes - more.size() - 1);
    out += i + 1 < issues.size() ? "\n" : "";
  }
  return out;
}

int ValidationReport::first_failing_choice() const {
  return issues.empty() ? -1 : issues.front().choice;
}

const json::object* choice_message(const json::object& completion, int choice) {
  const json::value* choices = completion.if_contains("choices");
  if (choice < 0 || choices == nullptr || !choices->is_array() ||
      static_cast<size_t>(choice) >= choices->get_array().size()) {
    return nullptr;
  }
  const json::value& entry = choices->get_array()[static_cast<size_t>(choice)];
  return entry.is_object() ? object_field(entry.get_object(), "message") : nullptr;
}

// ---- the validator ------------------------------------------------------------------------

AnswerValidator::AnswerValidator() = default;
AnswerValidator::AnswerValidator(AnswerValidator&&) noexcept = default;
AnswerValidator& AnswerValidator::operator=(AnswerValidator&&) noexcept = default;
AnswerValidator::~AnswerValidator() = default;

namespace {

// The name a tool_choice / allowed_tools entry designates: {"type":"function","function":
// {"name"}} or {"type":"custom","custom":{"name"}}.
std::string_view named_tool(const json::object& entry) {
  for (std::string_view key : {"function", "custom"}) {
    if (const json::object* inner = object_field(entry, key)) {
      return string_field(*inner, "name");
    }
  }
  return string_field(entry, "name");
}

std::string name_list(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) {
    if (out.size() > kMaxListBytes) {
      return out + ", ...";
    }
    out += (out.empty() ? "" : ", ") + one_line(name, 64);
  }
  return out;
}

}  // namespace

std::optional<AnswerValidator> AnswerValidator::for_request(const json::object& request) {
  AnswerValidator validator;
  if (const json::value* tools = field(request, "tools"); tools != nullptr && tools->is_array()) {
    for (const json::value& entry : tools->get_array()) {
      if (!entry.is_object()) {
        continue;
      }
      const json::object& tool = entry.get_object();
      const std::string_view type = string_field(tool, "type");
      const bool is_function = type == "function" || (type.empty() && tool.contains("function"));
      const json::object* spec = object_field(tool, is_function ? "function" : "custom");
      if ((!is_function && type != "custom") || spec == nullptr ||
          string_field(*spec, "name").empty()) {
        continue;
      }
      Tool compiled{std::string(string_field(*spec, "name")), is_function, nullptr};
      if (const json::value* parameters = field(*spec, "parameters"); is_function && parameters) {
        std::string problem;
        compiled.schema = compile_schema(*parameters, problem);
        if (!problem.empty()) {
          validator.problems_.push_back({compiled.name, "parameters: " + problem});
        }
      }
      validator.tools_.push_back(std::move(compiled));
    }
  }
  if (const json::object* format = object_field(request, "response_format")) {
    const std::string_view type = string_field(*format, "type");
    if (type == "json_object") {
      validator.output_ = Output::kJsonObject;
    } else if (type == "json_schema") {
      validator.output_ = Output::kJsonSchema;
      const json::object* spec = object_field(*format, "json_schema");
      const json::value* schema = spec != nullptr ? field(*spec, "schema") : nullptr;
      std::string problem = "json_schema has no schema";
      if (schema != nullptr) {
        validator.output_schema_ = compile_schema(*schema, problem);
      }
      if (!problem.empty()) {
        validator.problems_.push_back({"", "response_format: " + problem});
      }
    }
  }
  if (validator.tools_.empty() && validator.output_ == Output::kText) {
    return std::nullopt;
  }
  if (const json::value* choice = field(request, "tool_choice")) {
    if (choice->is_string()) {
      const std::string_view mode = choice->get_string();
      validator.choice_ = mode == "none"       ? Choice::kNone
                          : mode == "required" ? Choice::kRequired
                                               : Choice::kAuto;
    } else if (choice->is_object()) {
      const json::object& object = choice->get_object();
      if (const json::object* allowed = object_field(object, "allowed_tools")) {
        validator.choice_ =
            string_field(*allowed, "mode") == "required" ? Choice::kRequired : Choice::kAuto;
        if (const json::value* list = field(*allowed, "tools"); list && list->is_array()) {
          for (const json::value& entry : list->get_array()) {
            if (entry.is_object() && !named_tool(entry.get_object()).empty()) {
              validator.allowed_.emplace_back(named_tool(entry.get_object()));
            }
          }
        }
      } else if (!named_tool(object).empty()) {
        validator.choice_ = Choice::kRequired;
        validator.named_ = true;
        validator.allowed_.emplace_back(named_tool(object));
      }
    }
  }
  if (const json::value* parallel = field(request, "parallel_tool_calls");
      parallel != nullptr && parallel->is_bool()) {
    validator.parallel_ = parallel->get_bool();
  }
  return validator;
}

std::vector<std::string> AnswerValidator::tool_names() const {
  std::vector<std::string> names;
  for (const Tool& tool : tools_) {
    names.push_back(tool.name);
  }
  return names;
}

const AnswerValidator::Tool* AnswerValidator::find_tool(std::string_view name) const {
  for (const Tool& tool : tools_) {
    if (tool.name == name) {
      return &tool;
    }
  }
  return nullptr;
}

ValidationReport AnswerValidator::validate(const json::object& completion) const {
  ValidationReport report;
  const ValidationKind kind =
      tools_.empty() ? ValidationKind::kStructuredOutput : ValidationKind::kToolCall;
  const json::value* choices = completion.if_contains("choices");
  if (choices == nullptr || !choices->is_array() || choices->get_array().empty()) {
    report.issues.push_back(
        {ValidationReason::kMalformedAnswer, kind, 0, -1, "", "", "the answer has no choices"});
  } else {
    for (size_t i = 0; i < choices->get_array().size(); ++i) {
      const json::object* message = choice_message(completion, static_cast<int>(i));
      if (message == nullptr) {
        report.issues.push_back({ValidationReason::kMalformedAnswer, kind, static_cast<int>(i), -1,
                                 "", "", "the answer's choice has no message"});
        continue;
      }
      validate_message(static_cast<int>(i), *message, report);
    }
  }
  report.ok = report.issues.empty();
  report.kind = report.ok || std::any_of(report.issues.begin(), report.issues.end(),
                                         [](const ValidationIssue& issue) {
                                           return issue.kind == ValidationKind::kToolCall;
                                         })
                    ? ValidationKind::kToolCall
                    : ValidationKind::kStructuredOutput;
  return report;
}

void AnswerValidator::validate_message(int choice, const json::object& message,
                                       ValidationReport& report) const {
  if (!string_field(message, "refusal").empty()) {
    return;
  }
  const json::value* calls = field(message, "tool_calls");
  const size_t count = calls != nullptr && calls->is_array() ? calls->get_array().size() : 0;
  for (size_t i = 0; i < count; ++i) {
    validate_call(choice, static_cast<int>(i), calls->get_array()[i], report);
  }
  if (count > 0) {
    return;
  }
  if (choice_ == Choice::kRequired) {
    report.issues.push_back(
        {ValidationReason::kMissingToolCall, ValidationKind::kToolCall, choice, -1,
         named_ ? allowed_.front() : "", "",
         named_ ? fmt::format("the answer calls no tool, but tool_choice requires calling '{}'",
                              one_line(allowed_.front(), 64))
                : std::string("the answer calls no tool, but tool_choice requires a tool call")});
  }
  validate_content(choice, message, report);
}

void AnswerValidator::validate_call(int choice, int index, const json::value& entry,
                                    ValidationReport& report) const {
  const json::object empty;
  const json::object& call = entry.is_object() ? entry.get_object() : empty;
  const bool custom = string_field(call, "type") == "custom";
  const json::object* function = object_field(call, custom ? "custom" : "function");
  const std::string name(function != nullptr ? string_field(*function, "name") : "");
  auto add = [&](ValidationReason reason, std::string path, std::string message) {
    report.issues.push_back({reason, ValidationKind::kToolCall, choice, index, name,
                             std::move(path), std::move(message)});
  };
  const Tool* tool = find_tool(name);
  if (tool == nullptr) {
    add(ValidationReason::kUnknownTool, "",
        name.empty() ? std::string("the tool call names no tool")
        : tools_.empty()
            ? fmt::format("there is no tool named '{}'; no tools are offered", one_line(name, 64))
            : fmt::format("there is no tool named '{}'; the offered tools are: {}",
                          one_line(name, 64), name_list(tool_names())));
    return;
  }
  if (choice_ == Choice::kNone) {
    add(ValidationReason::kForbiddenToolCall, "", "no tool may be called: tool_choice is \"none\"");
    return;
  }
  if (!allowed_.empty() && std::find(allowed_.begin(), allowed_.end(), name) == allowed_.end()) {
    add(ValidationReason::kForbiddenToolCall, "",
        named_ ? fmt::format("tool_choice requires calling '{}', not '{}'",
                             one_line(allowed_.front(), 64), one_line(name, 64))
               : fmt::format("'{}' is not among the allowed tools: {}", one_line(name, 64),
                             name_list(allowed_)));
    return;
  }
  if (!parallel_ && index > 0) {
    add(ValidationReason::kTooManyToolCalls, "",
        "only one tool call is allowed per answer (parallel_tool_calls is false)");
    return;
  }
  if (!tool->is_function || custom) {
    return;  // custom tools take free-form text
  }
  const json::value* arguments = field(*function, "arguments");
  json::value parsed;
  if (arguments != nullptr && !arguments->is_string()) {
    parsed = *arguments;  // already JSON (some servers send an object); check it as such
    normalize_numbers(parsed);
  } else if (std::optional<TextProblem> problem =
                 parse_text(arguments != nullptr ? std::string_view(arguments->get_string())
                                                 : std::string_view(),
                            true, "arguments", parsed)) {
    add(problem->reason, "", std::move(problem->message));
    return;
  }
  if (!parsed.is_object()) {
    add(ValidationReason::kSchemaViolation, "",
        fmt::format("(root): expected a JSON object, got {} {}", type_name(parsed), quote(parsed)));
    return;
  }
  if (tool->schema != nullptr) {
    for (Found& found : check_schema(*tool->schema, parsed)) {
      add(ValidationReason::kSchemaViolation, std::move(found.path), std::move(found.message));
    }
  }
}

void AnswerValidator::validate_content(int choice, const json::object& message,
                                       ValidationReport& report) const {
  if (output_ == Output::kText) {
    return;
  }
  auto add = [&](ValidationReason reason, std::string path, std::string text) {
    report.issues.push_back({reason, ValidationKind::kStructuredOutput, choice, -1, "",
                             std::move(path), std::move(text)});
  };
  const json::value* content = field(message, "content");
  std::string text;
  if (content != nullptr && content->is_string()) {
    text = content->get_string();
  } else if (content != nullptr && content->is_array()) {
    for (const json::value& part : content->get_array()) {  // [{"type":"text","text":...}]
      if (part.is_object()) {
        text += string_field(part.get_object(), "text");
      }
    }
  } else {
    add(ValidationReason::kInvalidJson, "", "content is missing, expected JSON");
    return;
  }
  json::value parsed;
  if (std::optional<TextProblem> problem = parse_text(text, false, "content", parsed)) {
    add(problem->reason, "", std::move(problem->message));
    return;
  }
  if (output_ == Output::kJsonObject && !parsed.is_object()) {
    add(ValidationReason::kSchemaViolation, "",
        fmt::format("(root): expected a JSON object, got {} {}", type_name(parsed), quote(parsed)));
    return;
  }
  if (output_schema_ != nullptr) {
    for (Found& found : check_schema(*output_schema_, parsed)) {
      add(ValidationReason::kSchemaViolation, std::move(found.path), std::move(found.message));
    }
  }
}

// ---- streams ------------------------------------------------------------------------------

void ToolCallAssembler::add(const json::object& chunk) {
  for (std::string_view key : {"id", "created", "model", "system_fingerprint", "service_tier"}) {
    if (const json::value* value = field(chunk, key); value != nullptr && !header_.contains(key)) {
      header_[key] = *value;
    }
  }
  if (const json::value* usage = field(chunk, "usage")) {
    usage_ = *usage;
  }
  const json::value* choices = field(chunk, "choices");
  if (choices == nullptr || !choices->is_array()) {
    return;
  }
  const json::array& list = choices->get_array();
  for (size_t position = 0; position < list.size(); ++position) {
    if (!list[position].is_object()) {
      continue;
    }
    const json::object& entry = list[position].get_object();
    const json::value* index_value = field(entry, "index");
    const size_t index =
        index_value != nullptr && index_value->is_int64() && index_value->get_int64() >= 0
            ? static_cast<size_t>(index_value->get_int64())
            : position;
    if (index >= kMaxIndex) {
      continue;
    }
    if (choices_.size() <= index) {
      choices_.resize(index + 1);
    }
    Choice& choice = choices_[index];
    choice.seen = true;
    if (const json::object* delta = object_field(entry, "delta")) {
      if (const json::value* content = field(*delta, "content"); content && content->is_string()) {
        choice.content += content->get_string();
        choice.has_content = true;
      }
      if (const json::value* refusal = field(*delta, "refusal"); refusal && refusal->is_string()) {
        choice.refusal += refusal->get_string();
        choice.has_refusal = true;
      }
      if (const json::value* calls = field(*delta, "tool_calls"); calls && calls->is_array()) {
        add_calls(choice, calls->get_array());
      }
    }
    if (const json::value* reason = field(entry, "finish_reason")) {
      choice.finish_reason = *reason;
      finished_ = true;
    }
  }
}

void ToolCallAssembler::add_calls(Choice& choice, const json::array& deltas) {
  for (size_t position = 0; position < deltas.size(); ++position) {
    if (!deltas[position].is_object()) {
      continue;
    }
    const json::object& delta = deltas[position].get_object();
    const json::value* index_value = field(delta, "index");
    const size_t index =
        index_value != nullptr && index_value->is_int64() && index_value->get_int64() >= 0
            ? static_cast<size_t>(index_value->get_int64())
            : position;
    if (index >= kMaxIndex) {
      continue;
    }
    if (choice.calls.size() <= index) {
      choice.calls.resize(index + 1);
    }
    Call& call = choice.calls[index];
    auto take_first = [](std::string& into, std::string_view value) {
      if (into.empty()) {
        into = value;
      }
    };
    take_first(call.id, string_field(delta, "id"));
    take_first(call.type, string_field(delta, "type"));
    if (const json::object* function = object_field(delta, "function")) {
      take_first(call.name, string_field(*function, "name"));
      call.arguments += string_field(*function, "arguments");
    }
  }
}

json::object ToolCallAssembler::completion() const {
  json::object out;
  out["id"] = header_.contains("id") ? header_.at("id") : json::value("");
  out["object"] = "chat.completion";
  out["created"] = header_.contains("created") ? header_.at("created") : json::value(0);
  out["model"] = header_.contains("model") ? header_.at("model") : json::value("");
  for (std::string_view key : {"system_fingerprint", "service_tier"}) {
    if (header_.contains(key)) {
      out[key] = header_.at(key);
    }
  }
  json::array choices;
  for (size_t i = 0; i < choices_.size(); ++i) {
    const Choice& choice = choices_[i];
    if (!choice.seen) {
      continue;
    }
    json::object message;
    message["role"] = "assistant";
    message["content"] = choice.has_content ? json::value(choice.content) : json::value(nullptr);
    if (choice.has_refusal) {
      message["refusal"] = choice.refusal;
    }
    if (!choice.calls.empty()) {
      json::array calls;
      for (const Call& call : choice.calls) {
        calls.push_back(json::object{
            {"id", call.id},
            {"type", call.type.empty() ? "function" : call.type},
            {"function", json::object{{"name", call.name}, {"arguments", call.arguments}}}});
      }
      message["tool_calls"] = std::move(calls);
    }
    choices.push_back(json::object{{"index", i},
                                   {"message", std::move(message)},
                                   {"finish_reason", choice.finish_reason},
                                   {"logprobs", nullptr}});
  }
  out["choices"] = std::move(choices);
  if (!usage_.is_null()) {
    out["usage"] = usage_;
  }
  return out;
}

}  // namespace sheepdog::llm
