#include "config/env.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <map>

namespace sheepdog::config {
namespace {

EnvLookup fake_env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) {
      return std::nullopt;
    }
    return it->second;
  };
}

TEST(ConfigEnvTest, SubstitutesSetVariables) {
  const EnvLookup env = fake_env({{"HOST", "example.com"}, {"PORT", "8443"}});
  const InterpolationResult r = interpolate_env("https://${HOST}:${PORT}/v1", env);
  EXPECT_EQ(r.value, "https://example.com:8443/v1");
  EXPECT_TRUE(r.unset.empty());
  EXPECT_TRUE(r.error.empty());
}

TEST(ConfigEnvTest, DefaultsApplyWhenUnsetOrEmpty) {
  const EnvLookup env = fake_env({{"EMPTY", ""}, {"SET", "x"}});
  EXPECT_EQ(interpolate_env("${MISSING:-fallback}", env).value, "fallback");
  EXPECT_EQ(interpolate_env("${EMPTY:-fallback}", env).value, "fallback");
  EXPECT_EQ(interpolate_env("${SET:-fallback}", env).value, "x");
  EXPECT_EQ(interpolate_env("${MISSING:-}", env).value, "");
  // The default is literal text, colons and dashes included.
  EXPECT_EQ(interpolate_env("${MISSING:-http://a:1/b-c}", env).value, "http://a:1/b-c");
}

TEST(ConfigEnvTest, SetButEmptyWithoutDefaultIsEmpty) {
  const InterpolationResult r = interpolate_env("[${EMPTY}]", fake_env({{"EMPTY", ""}}));
  EXPECT_EQ(r.value, "[]");
  EXPECT_TRUE(r.unset.empty());
}

TEST(ConfigEnvTest, ReportsEveryUnsetVariable) {
  const InterpolationResult r = interpolate_env("${A}-${B:-b}-${C}", fake_env({}));
  EXPECT_EQ(r.unset, (std::vector<std::string>{"A", "C"}));
}

TEST(ConfigEnvTest, EscapesAndLoneDollars) {
  const EnvLookup env = fake_env({{"X", "1"}});
  EXPECT_EQ(interpolate_env("$${X}", env).value, "${X}");
  EXPECT_EQ(interpolate_env("cost $5 and $X", env).value, "cost $5 and $X");
  EXPECT_EQ(interpolate_env("$$", env).value, "$$");
}

TEST(ConfigEnvTest, SyntaxErrors) {
  const EnvLookup env = fake_env({});
  EXPECT_NE(interpolate_env("${UNTERMINATED", env).error.find("unterminated"), std::string::npos);
  EXPECT_NE(interpolate_env("${1BAD}", env).error.find("invalid variable name '1BAD'"),
            std::string::npos);
  EXPECT_NE(interpolate_env("${}", env).error.find("invalid variable name ''"), std::string::npos);
  EXPECT_NE(interpolate_env("${A B}", env).error.find("invalid variable name"), std::string::npos);
}

TEST(ConfigEnvTest, ProcessEnvReadsTheEnvironment) {
  ::setenv("SHEEPDOG_CONFIG_ENV_TEST", "from-process", 1);
  ::unsetenv("SHEEPDOG_CONFIG_ENV_TEST_UNSET");
  const EnvLookup env = process_env();
  EXPECT_EQ(env("SHEEPDOG_CONFIG_ENV_TEST"), "from-process");
  EXPECT_EQ(env("SHEEPDOG_CONFIG_ENV_TEST_UNSET"), std::nullopt);
  ::unsetenv("SHEEPDOG_CONFIG_ENV_TEST");
}

}  // namespace
}  // namespace sheepdog::config
