// A reader for YAML configuration with line-precise errors: typed getters (number with range,
// whole number, duration, boolean, text, list) that record the first problem as
// "SOURCE:LINE: message" and turn every later call into a no-op, so a loader can read a whole
// file straight through and check once at the end. Used by the scenario loader.
#pragma once

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/status.h"

namespace sheepdog::sim {

// Reads typed values out of YAML nodes, keeping the first error (with its line).
class YamlReader {
 public:
  using Keys = std::initializer_list<std::string_view>;
  static constexpr double kInf = std::numeric_limits<double>::infinity();

  explicit YamlReader(std::string_view source) : source_(source) {}

  bool failed() const { return !status_.is_ok(); }
  Status status() const { return status_; }

  void fail(const YAML::Node& at, const std::string& message) {
    const int line = at.Mark().line >= 0 ? at.Mark().line + 1 : 1;
    fail_line(line, message);
  }
  void fail_line(int line, const std::string& message) {
    if (!failed()) {
      status_ = Status::error(fmt::format("{}:{}: {}", source_, line, message));
    }
  }

  // True iff `node` is a map whose keys are all in `keys`.
  bool map(const YAML::Node& node, std::string_view what, Keys keys) {
    if (failed()) {
      return false;
    }
    if (!node.IsMap()) {
      fail(node, fmt::format("{} must be a mapping (key: value lines)", what));
      return false;
    }
    for (auto it = node.begin(); it != node.end(); ++it) {
      const std::string key = it->first.Scalar();
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
        fail(it->first, fmt::format("unknown key '{}' in {}; expected one of: {}", key, what,
                                    join_keys(keys)));
        return false;
      }
    }
    return true;
  }

  bool number(const YAML::Node& map, std::string_view key, double* out, double min = -kInf,
              double max = kInf) {
    const YAML::Node v = map[std::string(key)];
    if (!v || failed()) {
      return false;
    }
    double d = 0;
    const std::string& s = v.IsScalar() ? v.Scalar() : std::string();
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (!v.IsScalar() || ec != std::errc() || end != s.data() + s.size()) {
      fail(v, fmt::format("'{}' must be a number, got '{}'", key, s));
      return false;
    }
    if (d < min || d > max) {
      fail(v, fmt::format("'{}' must be in [{:g}, {:g}], got {:g}", key, min, max, d));
      return false;
    }
    *out = d;
    return true;
  }

  void integer(const YAML::Node& map, std::string_view key, int* out, int min = 0,
               int max = std::numeric_limits<int>::max()) {
    double d = 0;
    if (number(map, key, &d, min, max)) {
      if (d != double(int(d))) {
        fail(map[std::string(key)], fmt::format("'{}' must be a whole number", key));
        return;
      }
      *out = int(d);
    }
  }

  void millis(const YAML::Node& map, std::string_view key, Duration* out, double min = 0) {
    double d = 0;
    if (number(map, key, &d, min)) {
      *out = from_ms(d);
    }
  }

  void secs(const YAML::Node& map, std::string_view key, Duration* out) {
    double d = 0;
    if (number(map, key, &d, 0)) {
      *out = from_seconds(d);
    }
  }

  void boolean(const YAML::Node& map, std::string_view key, bool* out) {
    const YAML::Node v = map[std::string(key)];
    if (!v || failed()) {
      return;
    }
    const std::string s = v.IsScalar() ? v.Scalar() : std::string();
    if (s == "true" || s == "yes" || s == "on") {
      *out = true;
    } else if (s == "false" || s == "no" || s == "off") {
      *out = false;
    } else {
      fail(v, fmt::format("'{}' must be true or false, got '{}'", key, s));
    }
  }

  void text(const YAML::Node& map, std::string_view key, std::string* out) {
    const YAML::Node v = map[std::string(key)];
    if (!v || failed()) {
      return;
    }
    if (!v.IsScalar()) {
      fail(v, fmt::format("'{}' must be a string", key));
      return;
    }
    *out = v.Scalar();
  }

  // A sequence under `key` (absent is fine): calls `each` per element.
  template <typename F>
  void sequence(const YAML::Node& map, std::string_view key, F each) {
    const YAML::Node v = map[std::string(key)];
    if (!v || failed()) {
      return;
    }
    if (!v.IsSequence()) {
      fail(v, fmt::format("'{}' must be a list (lines starting with '- ')", key));
      return;
    }
    for (const YAML::Node& item : v) {
      if (failed()) {
        return;
      }
      each(item);
    }
  }

 private:
  static std::string join_keys(Keys keys) {
    std::string out;
    for (std::string_view k : keys) {
      out += out.empty() ? "" : ", ";
      out += k;
    }
    return out;
  }

  std::string source_;
  Status status_;
};

}  // namespace sheepdog::sim
