#include "config/diagnostic.h"

#include <gtest/gtest.h>

#include <array>

namespace sheepdog::config {
namespace {

TEST(ConfigDiagnosticTest, EditDistance) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("max_atempts", "max_attempts"), 1u);
  EXPECT_EQ(edit_distance("providers", "provider"), 1u);
  EXPECT_EQ(edit_distance("baseurl", "base_url"), 1u);
}

TEST(ConfigDiagnosticTest, ClosestMatchWithinTwoEdits) {
  constexpr std::array<std::string_view, 4> kKeys = {"host", "port", "threads", "api_keys"};
  EXPECT_EQ(closest_match("prot", kKeys), "port");  // two substitutions
  EXPECT_EQ(closest_match("api_key", kKeys), "api_keys");
  EXPECT_EQ(closest_match("threadz", kKeys), "threads");
  EXPECT_EQ(closest_match("listen", kKeys), "");
  // A one-letter name is one edit from every other one-letter name: no suggestion.
  constexpr std::array<std::string_view, 2> kShort = {"a", "b"};
  EXPECT_EQ(closest_match("c", kShort), "");
  EXPECT_EQ(closest_match("ab", kShort), "a");
  EXPECT_EQ(did_you_mean("hots", kKeys), "; did you mean 'host'?");
  EXPECT_EQ(did_you_mean("zzzzzz", kKeys), "");
}

TEST(ConfigDiagnosticTest, FormatsLikeACompiler) {
  Diagnostics diags("sheepdog.yaml");
  diags.error(11, 4, "models.gpt-4o.weight", "out of range: -1; expected a number >= 0");
  diags.warning(2, 0, "providers.a.api_keys[0]", "key dropped");
  diags.error(-1, -1, "", "cannot open the file");
  std::vector<Diagnostic> errors = diags.take_errors();
  ASSERT_EQ(errors.size(), 2u);
  // File order: the unpositioned error first.
  EXPECT_EQ(errors[0].line, 0);
  EXPECT_EQ(errors[0].to_string(), "sheepdog.yaml: cannot open the file");
  EXPECT_EQ(errors[1].line, 12);
  EXPECT_EQ(errors[1].column, 5);
  EXPECT_EQ(errors[1].to_string(),
            "sheepdog.yaml:12:5: models.gpt-4o.weight: out of range: -1; expected a number >= 0");
  std::vector<Diagnostic> warnings = diags.take_warnings();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0].to_warning_string(),
            "sheepdog.yaml:3:1: warning: providers.a.api_keys[0]: key dropped");
}

TEST(ConfigDiagnosticTest, ErrorsComeOutInFileOrder) {
  Diagnostics diags("f");
  diags.error(9, 0, "late", "m");
  diags.error(2, 7, "b", "m");
  diags.error(2, 3, "a", "m");
  diags.error(2, 3, "a2", "m");  // same position: kept in reporting order
  std::vector<std::string> paths;
  for (const Diagnostic& d : diags.take_errors()) {
    paths.push_back(d.path);
  }
  EXPECT_EQ(paths, (std::vector<std::string>{"a", "a2", "b", "late"}));
}

TEST(ConfigDiagnosticTest, IdenticalErrorsAreKeptOnce) {
  Diagnostics diags("f");
  diags.error(1, 1, "p", "m");
  diags.error(1, 1, "p", "m");
  diags.error(2, 1, "p", "m");
  EXPECT_EQ(diags.take_errors().size(), 2u);
}

TEST(ConfigDiagnosticTest, QuotedList) {
  constexpr std::array<std::string_view, 3> kThree = {"a", "b", "c"};
  EXPECT_EQ(quoted_list(kThree), "'a', 'b' or 'c'");
  EXPECT_EQ(quoted_list(std::span(kThree).first(1)), "'a'");
}

}  // namespace
}  // namespace sheepdog::config
