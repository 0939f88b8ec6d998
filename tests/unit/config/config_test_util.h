// Helpers for the configuration error tests: load text that must fail and look at its errors.
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "config/loader.h"

namespace sheepdog::config::testing {

// A valid head for configs whose errors are further down; 4 lines.
inline constexpr char kProviders[] = R"(providers:
  openai: {kind: openai, base_url: "https://api.openai.com/v1"}
  backup: {kind: openai, base_url: "https://backup.example/v1"}
models:
)";

inline std::vector<Diagnostic> errors_of(const std::string& text) {
  LoadOptions options;
  options.env = [](const std::string& name) -> std::optional<std::string> {
    if (name == "SET_VAR") {
      return "value";
    }
    return std::nullopt;
  };
  LoadResult result = load_config_string(text, "t.yaml", options);
  EXPECT_FALSE(result.ok()) << "expected errors in:\n" << text;
  return result.errors;
}

// The diagnostics as printed, one string each, for readable failure messages.
inline std::vector<std::string> printed(const std::vector<Diagnostic>& errors) {
  std::vector<std::string> out;
  for (const Diagnostic& e : errors) {
    out.push_back(e.to_string());
  }
  return out;
}

// Asserts that exactly one error was reported, at `line`, for `path`, containing `fragment`.
inline void expect_single(const std::string& text, int line, const std::string& path,
                          const std::string& fragment) {
  const std::vector<Diagnostic> errors = errors_of(text);
  ASSERT_EQ(errors.size(), 1u) << ::testing::PrintToString(printed(errors));
  EXPECT_EQ(errors[0].line, line) << errors[0].to_string();
  EXPECT_EQ(errors[0].path, path) << errors[0].to_string();
  EXPECT_NE(errors[0].message.find(fragment), std::string::npos)
      << errors[0].to_string() << "\n  lacks: " << fragment;
}

}  // namespace sheepdog::config::testing
