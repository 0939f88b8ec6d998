#include "config/yaml_decoder.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <set>

#include "config/units.h"

namespace sheepdog::config {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Quotes a user's value for a message, shortened so a pasted blob does not flood the terminal.
std::string show(std::string_view value) {
  constexpr size_t kMax = 60;
  if (value.size() > kMax) {
    return "'" + std::string(value.substr(0, kMax)) + "...'";
  }
  return "'" + std::string(value) + "'";
}

// A bare number is seconds, but people coming from millisecond-based configs write
// `base_delay: 500` meaning half a second. Above these values a bare number is more likely such a
// slip than intended; with a unit ("500s") nothing is said. Keyed by the field's own name.
struct BareLimit {
  std::string_view key;
  Duration limit;
};
constexpr std::array<BareLimit, 18> kBareLimits = {{
    {"base_delay", seconds(60)},  // a backoff step over a minute
    {"max_delay", seconds(600)},
    {"max", seconds(3600)},  // pushback.max
    {"attempt", seconds(3600)},
    {"total", seconds(3600)},
    {"first_token", seconds(3600)},
    {"connect_timeout", seconds(300)},
    {"header_timeout", seconds(600)},
    {"body_timeout", seconds(3600)},
    {"idle_timeout", seconds(3600)},
    {"drain_timeout", seconds(3600)},
    {"window_duration", seconds(3600)},
    {"open_duration", seconds(3600)},
    {"max_open_duration", seconds(86400)},
    {"in_progress_timeout", seconds(86400)},
    {"ttl", seconds(7 * 86400)},
    {"median", seconds(600)},  // the mock's latency
    {"p99", seconds(600)},
}};
// Any other duration field.
constexpr Duration kDefaultBareLimit = seconds(86400);

bool has_control(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](char c) {
    const unsigned char u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7F;
  });
}

bool bare_number(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c)) || c == '.';
  });
}

// "about 8 minutes", "about 3 hours", "about 2 days": the scale of a long duration at a glance.
std::string roughly(Duration d) {
  const double s = to_seconds(d);
  const auto about = [](double n, std::string_view unit) {
    const long rounded = std::lround(n);
    return "about " + std::to_string(rounded) + " " + std::string(unit) + (rounded == 1 ? "" : "s");
  };
  if (s >= 2 * 86400) {
    return about(s / 86400, "day");
  }
  if (s >= 2 * 3600) {
    return about(s / 3600, "hour");
  }
  return about(s / 60, "minute");
}

Duration bare_limit(std::string_view path) {
  const size_t dot = path.rfind('.');
  const std::string_view key = dot == std::string_view::npos ? path : path.substr(dot + 1);
  for (const BareLimit& entry : kBareLimits) {
    if (entry.key == key) {
      return entry.limit;
    }
  }
  return kDefaultBareLimit;
}

}  // namespace

bool NumberRange::contains(double v) const {
  if (!std::isfinite(v)) {
    return false;
  }
  const bool above = min_open ? v > min : v >= min;
  const bool below = max_open ? v < max : v <= max;
  return above && below;
}

std::string NumberRange::describe() const {
  const bool has_min = std::isfinite(min);
  const bool has_max = std::isfinite(max);
  if (has_min && has_max) {
    return std::string("a number in ") + (min_open ? "(" : "[") + format_number(min) + ", " +
           format_number(max) + (max_open ? ")" : "]");
  }
  if (has_min) {
    return std::string("a number ") + (min_open ? "> " : ">= ") + format_number(min);
  }
  if (has_max) {
    return std::string("a number ") + (max_open ? "< " : "<= ") + format_number(max);
  }
  return "a number";
}

std::string join_path(std::string_view parent, std::string_view key) {
  if (parent.empty()) {
    return std::string(key);
  }
  return std::string(parent) + "." + std::string(key);
}

std::string index_path(std::string_view parent, size_t index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

std::string_view node_type_name(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "a single value";
    case YAML::NodeType::Null:
      return "nothing";
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

Position position_of(const YAML::Node& node) {
  const YAML::Mark mark = node.IsDefined() ? node.Mark() : YAML::Mark::null_mark();
  return Position{mark.line, mark.column};
}

void Decoder::error(const YAML::Node& node, std::string path, std::string message) {
  error(position_of(node), std::move(path), std::move(message));
}

void Decoder::error(Position at, std::string path, std::string message) {
  diags_.error(at.line, at.column, std::move(path), std::move(message));
}

void Decoder::warning(const YAML::Node& node, std::string path, std::string message) {
  warning(position_of(node), std::move(path), std::move(message));
}

void Decoder::warning(Position at, std::string path, std::string message) {
  diags_.warning(at.line, at.column, std::move(path), std::move(message));
}

bool Decoder::present(const YAML::Node& node) { return node.IsDefined() && !node.IsNull(); }

YAML::Node Decoder::get(const YAML::Node& map, std::string_view key) {
  if (map.IsMap()) {
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (it->first.IsScalar() && it->first.Scalar() == key) {
        return it->second;
      }
    }
  }
  return YAML::Node();
}

YAML::Node Decoder::key_node(const YAML::Node& map, std::string_view key) {
  if (map.IsMap()) {
    for (auto it = map.begin(); it != map.end(); ++it) {
      if (it->first.IsScalar() && it->first.Scalar() == key) {
        return it->first;
      }
    }
  }
  return YAML::Node();
}

bool Decoder::expect_map(const YAML::Node& node, const std::string& path, std::string_view what) {
  if (!present(node)) {
    return false;
  }
  if (node.IsMap()) {
    return true;
  }
  std::string expected = what.empty() ? std::string("a mapping of keys to values")
                                      : "a mapping (" + std::string(what) + ")";
  error(node, path, "expected " + expected + ", got " + std::string(node_type_name(node)));
  return false;
}

bool Decoder::expect_sequence(const YAML::Node& node, const std::string& path,
                              std::string_view what) {
  if (!present(node)) {
    return false;
  }
  if (node.IsSequence()) {
    return true;
  }
  std::string expected =
      what.empty() ? std::string("a list") : "a list (" + std::string(what) + ")";
  error(node, path, "expected " + expected + ", got " + std::string(node_type_name(node)));
  return false;
}

void Decoder::check_keys(const YAML::Node& map, const std::string& path,
                         std::span<const std::string_view> allowed) {
  std::set<std::string> seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar()) {
      error(key, path, "keys must be plain names, got " + std::string(node_type_name(key)));
      continue;
    }
    const std::string& name = key.Scalar();
    if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      error(key, join_path(path, name),
            "unknown key" + did_you_mean(name, allowed) + "; expected one of " +
                quoted_list(allowed));
    } else if (!seen.insert(name).second) {
      error(key, join_path(path, name), "duplicate key; each key may appear once");
    }
  }
}

void Decoder::check_unique_keys(const YAML::Node& map, const std::string& path,
                                std::string_view what) {
  std::set<std::string> seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar() || key.Scalar().empty()) {
      error(key, path,
            "expected a " + std::string(what) + " name as the key, got " +
                std::string(key.IsScalar() ? "an empty string" : node_type_name(key)));
      continue;
    }
    if (has_control(key.Scalar())) {
      error(key, path,
            std::string(what) + " name " + show(key.Scalar()) +
                " contains a line break or control character; expected a single-line name");
      continue;
    }
    if (!seen.insert(key.Scalar()).second) {
      error(key, join_path(path, key.Scalar()),
            "duplicate " + std::string(what) + " name; each " + std::string(what) +
                " must be defined once");
    }
  }
}

bool Decoder::require(const YAML::Node& map, std::string_view key, const std::string& map_path) {
  if (present(get(map, key))) {
    return true;
  }
  const YAML::Node key_at = key_node(map, key);
  if (key_at.IsDefined() && !key_at.IsNull()) {
    error(key_at, join_path(map_path, key), "is empty; a value is required");
  } else {
    error(map, map_path, "missing required key '" + std::string(key) + "'");
  }
  return false;
}

std::optional<std::string> Decoder::scalar(const YAML::Node& node, const std::string& path,
                                           std::string_view expected,
                                           std::vector<std::string>* unset) {
  if (!present(node)) {
    return std::nullopt;
  }
  if (!node.IsScalar()) {
    error(node, path,
          "expected " + std::string(expected) + ", got " + std::string(node_type_name(node)));
    return std::nullopt;
  }
  InterpolationResult result = interpolate_env(node.Scalar(), env_);
  if (!result.error.empty()) {
    error(node, path, result.error);
    return std::nullopt;
  }
  if (!result.litellm_name.empty()) {
    const std::string& name = result.litellm_name;
    warning(node, path,
            "'os.environ/" + name + "' (LiteLLM's syntax) is read as ${" + name +
                "}, the environment variable " + name + "; write ${" + name +
                "} to silence this note");
  }
  if (!result.unset.empty()) {
    if (unset != nullptr) {
      unset->insert(unset->end(), result.unset.begin(), result.unset.end());
      return std::nullopt;
    }
    const std::string& name = result.unset.front();
    error(node, path,
          "environment variable '" + name + "' is not set; expected it to be set, or a default " +
              "in the form ${" + name + ":-value}");
    return std::nullopt;
  }
  return std::move(result.value);
}

std::optional<std::string> Decoder::string(const YAML::Node& node, const std::string& path,
                                           std::vector<std::string>* unset) {
  return scalar(node, path, "a string", unset);
}

std::optional<std::string> Decoder::name(const YAML::Node& node, const std::string& path) {
  std::optional<std::string> text = scalar(node, path, "a name");
  if (text && text->empty()) {
    error(node, path, "is empty; expected a non-empty name");
    return std::nullopt;
  }
  if (text && has_control(*text)) {
    error(node, path,
          "name " + show(*text) +
              " contains a line break or control character; expected a "
              "single-line name");
    return std::nullopt;
  }
  return text;
}

std::optional<int64_t> Decoder::integer(const YAML::Node& node, const std::string& path,
                                        int64_t min, int64_t max) {
  std::string expected = "an integer";
  if (max == std::numeric_limits<int64_t>::max()) {
    expected += " >= " + std::to_string(min);
  } else {
    expected += " in [" + std::to_string(min) + ", " + std::to_string(max) + "]";
  }
  const std::optional<std::string> text = scalar(node, path, expected);
  if (!text) {
    return std::nullopt;
  }
  int64_t value = 0;
  const auto result = std::from_chars(text->data(), text->data() + text->size(), value);
  if (result.ec != std::errc() || result.ptr != text->data() + text->size()) {
    error(node, path, "expected " + expected + ", got " + show(*text));
    return std::nullopt;
  }
  if (value < min || value > max) {
    error(node, path, "out of range: " + *text + "; expected " + expected);
    return std::nullopt;
  }
  return value;
}

std::optional<double> Decoder::number(const YAML::Node& node, const std::string& path,
                                      const NumberRange& range) {
  const std::string expected = range.describe();
  const std::optional<std::string> text = scalar(node, path, expected);
  if (!text) {
    return std::nullopt;
  }
  double value = 0;
  const auto result = std::from_chars(text->data(), text->data() + text->size(), value);
  if (result.ec != std::errc() || result.ptr != text->data() + text->size()) {
    error(node, path, "expected " + expected + ", got " + show(*text));
    return std::nullopt;
  }
  if (!range.contains(value)) {
    error(node, path, "out of range: " + *text + "; expected " + expected);
    return std::nullopt;
  }
  return value;
}

std::optional<bool> Decoder::boolean(const YAML::Node& node, const std::string& path) {
  constexpr std::string_view kExpected = "true or false";
  const std::optional<std::string> text = scalar(node, path, kExpected);
  if (!text) {
    return std::nullopt;
  }
  const std::string value = lower(*text);
  if (value == "true" || value == "yes" || value == "on") {
    return true;
  }
  if (value == "false" || value == "no" || value == "off") {
    return false;
  }
  error(node, path, "expected true or false, got " + show(*text));
  return std::nullopt;
}

std::optional<Duration> Decoder::duration(const YAML::Node& node, const std::string& path,
                                          bool allow_zero) {
  const std::string expected = std::string("a duration ") + (allow_zero ? ">= 0" : "> 0") +
                               " such as 250ms, 30s, 2m or 1h (a bare number is seconds)";
  const std::optional<std::string> text = scalar(node, path, expected);
  if (!text) {
    return std::nullopt;
  }
  const std::optional<Duration> value = parse_duration(*text);
  if (!value) {
    error(node, path, "expected " + expected + ", got " + show(*text));
    return std::nullopt;
  }
  if (!allow_zero && *value <= Duration::zero()) {
    error(node, path, "out of range: " + *text + "; expected " + expected);
    return std::nullopt;
  }
  if (bare_number(*text) && *value > bare_limit(path)) {
    warning(node, path,
            *text + " is read as " + *text + " seconds (" + roughly(*value) + "); write " + *text +
                "ms if you meant milliseconds, or " + *text +
                "s to say seconds and silence this warning");
  }
  return value;
}

std::optional<uint64_t> Decoder::byte_size(const YAML::Node& node, const std::string& path,
                                           uint64_t min, uint64_t max) {
  const std::string range = max == UINT64_MAX ? "a size >= " + std::to_string(min) + " bytes"
                                              : "a size from " + std::to_string(min) + " to " +
                                                    std::to_string(max) + " bytes";
  const std::string expected = range + ": a whole number of bytes or a number with KiB, MiB or GiB";
  const std::optional<std::string> text = scalar(node, path, expected);
  if (!text) {
    return std::nullopt;
  }
  const std::optional<uint64_t> value = parse_byte_size(*text);
  if (!value) {
    error(node, path, "expected " + expected + ", got " + show(*text));
    return std::nullopt;
  }
  if (*value < min || *value > max) {
    error(node, path, "out of range: " + *text + "; expected " + expected);
    return std::nullopt;
  }
  return value;
}

std::optional<size_t> Decoder::choice(const YAML::Node& node, const std::string& path,
                                      std::span<const std::string_view> choices) {
  const std::string expected = "one of " + quoted_list(choices);
  const std::optional<std::string> text = scalar(node, path, expected);
  if (!text) {
    return std::nullopt;
  }
  for (size_t i = 0; i < choices.size(); ++i) {
    if (choices[i] == *text) {
      return i;
    }
  }
  error(node, path,
        "unknown value " + show(*text) + did_you_mean(*text, choices) + "; expected " + expected);
  return std::nullopt;
}

}  // namespace sheepdog::config
