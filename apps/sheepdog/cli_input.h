// Command-line input checks shared by the subcommands: a bad flag value gets one line on stderr
// naming the flag, what it accepts and what was given, and the command exits with status 2
// (main() returns the status CLI::RuntimeError carries).
#pragma once

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <string>
#include <string_view>

namespace sheepdog::app {

// Prints "sheepdog <command>: <message>" and leaves with exit status 2.
[[noreturn]] inline void bad_input(std::string_view command, const std::string& message) {
  fmt::print(stderr, "sheepdog {}: {}\n", command, message);
  throw CLI::RuntimeError(2);
}

// `text` as a whole number in [min, max], or bad_input naming `flag`.
template <typename T>
T parse_integer(std::string_view command, const std::string& text, std::string_view flag, T min,
                T max) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < min ||
      value > max) {
    bad_input(command, fmt::format("{} must be a whole number from {} to {}, got '{}'", flag, min,
                                   max, text));
  }
  return value;
}

}  // namespace sheepdog::app
