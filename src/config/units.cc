#include "config/units.h"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <utility>

namespace sheepdog::config {
namespace {

// A leading non-negative decimal number ("12", "1.5", ".5"); advances `text` past it. Signs and
// exponents are not accepted: "1e3s" is more likely a typo than a wish.
std::optional<double> take_number(std::string_view& text) {
  size_t end = 0;
  bool digits = false;
  bool dot = false;
  while (end < text.size()) {
    const char c = text[end];
    if (c >= '0' && c <= '9') {
      digits = true;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      break;
    }
    ++end;
  }
  if (!digits) {
    return std::nullopt;
  }
  double value = 0;
  const auto result = std::from_chars(text.data(), text.data() + end, value);
  if (result.ec != std::errc() || result.ptr != text.data() + end) {
    return std::nullopt;
  }
  text.remove_prefix(end);
  return value;
}

std::string_view take_unit(std::string_view& text) {
  size_t end = 0;
  while (end < text.size() &&
         ((text[end] >= 'a' && text[end] <= 'z') || (text[end] >= 'A' && text[end] <= 'Z'))) {
    ++end;
  }
  std::string_view unit = text.substr(0, end);
  text.remove_prefix(end);
  return unit;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

constexpr double kMaxDurationSeconds = 100.0 * 365 * 24 * 3600;

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
  text = trim(text);
  std::string_view rest = text;
  const std::optional<double> first = take_number(rest);
  if (!first) {
    return std::nullopt;
  }
  double total_seconds = 0;
  if (rest.empty()) {
    total_seconds = *first;  // a bare number is seconds
  } else {
    rest = text;
    while (!rest.empty()) {
      const std::optional<double> value = take_number(rest);
      if (!value) {
        return std::nullopt;
      }
      const std::string_view unit = take_unit(rest);
      double scale = 0;
      if (unit == "ms") {
        scale = 1e-3;
      } else if (unit == "s") {
        scale = 1;
      } else if (unit == "m") {
        scale = 60;
      } else if (unit == "h") {
        scale = 3600;
      } else {
        return std::nullopt;
      }
      total_seconds += *value * scale;
    }
  }
  if (!(total_seconds <= kMaxDurationSeconds)) {
    return std::nullopt;
  }
  // Round to whole nanoseconds: "0.1s" must be exactly 100ms, not 99999999ns.
  return Duration(static_cast<Duration::rep>(std::llround(total_seconds * 1e9)));
}

std::optional<uint64_t> parse_byte_size(std::string_view text) {
  text = trim(text);
  std::string_view rest = text;
  const std::optional<double> value = take_number(rest);
  if (!value) {
    return std::nullopt;
  }
  rest = trim(rest);
  static constexpr std::array<std::pair<std::string_view, double>, 8> kUnits = {{
      {"", 1},
      {"B", 1},
      {"KiB", 1024.0},
      {"MiB", 1024.0 * 1024},
      {"GiB", 1024.0 * 1024 * 1024},
      {"KB", 1e3},
      {"MB", 1e6},
      {"GB", 1e9},
  }};
  for (const auto& [unit, scale] : kUnits) {
    if (rest != unit) {
      continue;
    }
    const double bytes = *value * scale;
    if (bytes > 0x1.0p62 || bytes != std::floor(bytes)) {
      return std::nullopt;
    }
    return static_cast<uint64_t>(bytes);
  }
  return std::nullopt;
}

std::string format_number(double value) {
  // Whole numbers in full ("1000000", not the shortest form "1e+06"): they are read by people.
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    return std::to_string(static_cast<int64_t>(value));
  }
  char buffer[32];
  const auto result = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, result.ptr);
}

std::string format_duration(Duration d) {
  const int64_t ns = d.count();
  struct Unit {
    int64_t ns;
    const char* name;
  };
  static constexpr std::array<Unit, 5> kUnits = {{{3600'000'000'000, "h"},
                                                  {60'000'000'000, "m"},
                                                  {1'000'000'000, "s"},
                                                  {1'000'000, "ms"},
                                                  {1'000, "us"}}};
  if (ns == 0) {
    return "0s";
  }
  for (const Unit& unit : kUnits) {
    if (ns % unit.ns == 0) {
      return std::to_string(ns / unit.ns) + unit.name;
    }
  }
  return std::to_string(ns) + "ns";
}

}  // namespace sheepdog::config
