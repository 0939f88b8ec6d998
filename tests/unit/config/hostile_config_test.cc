// Broken and hostile configuration files (issue 10): each gets one clear, line-numbered error
// (or a warning where the value is legal but likely a slip), never a crash, a hang or a quietly
// accepted nonsense value; and no value can forge a diagnostic line.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/loader.h"
#include "config/yaml_text.h"
#include "config_test_util.h"

namespace sheepdog::config {
namespace {

using testing::errors_of;
using testing::expect_single;
using testing::kProviders;
using testing::printed;

constexpr char kValidTail[] = "  m: {deployments: [{provider: openai, model: gpt-4o}]}\n";

LoadResult load_with(const std::string& text, std::map<std::string, std::string> env = {}) {
  LoadOptions options;
  options.env = [env](const std::string& name) -> std::optional<std::string> {
    const auto it = env.find(name);
    return it == env.end() ? std::nullopt : std::optional(it->second);
  };
  return load_config_string(text, "t.yaml", options);
}

std::vector<std::string> warnings_of(const LoadResult& result) {
  std::vector<std::string> out;
  for (const Diagnostic& w : result.warnings) {
    out.push_back(w.to_warning_string());
  }
  return out;
}

// --- item 5: control characters in values cannot forge a diagnostic line ---

TEST(HostileConfigTest, AValueCannotForgeADiagnosticLine) {
  // The exact repro: a YAML string with "\n" followed by a fake "ok" line.
  const std::vector<Diagnostic> errors =
      errors_of(std::string(kProviders) +
                "  m:\n"
                "    deployments: [{provider: openai, model: x}]\n"
                "    fallbacks: [\"x\\nsheepdog.yaml:1:1: ok\"]\n");
  ASSERT_EQ(errors.size(), 1u) << ::testing::PrintToString(printed(errors));
  const std::string line = errors[0].to_string();
  EXPECT_EQ(line.find('\n'), std::string::npos) << line;
  EXPECT_NE(line.find("'x\\nsheepdog.yaml:1:1: ok'"), std::string::npos) << line;
}

TEST(HostileConfigTest, ControlCharactersInNamesAreErrors) {
  expect_single(std::string(kProviders) +
                    "  \"m\\ex\":\n    deployments: [{provider: openai, "
                    "model: x}]\n",
                5, "models", "contains a line break or control character");
  // And the path of the message itself shows the name escaped.
  const std::vector<Diagnostic> errors =
      errors_of(std::string(kProviders) +
                "  \"m\\ex\":\n    deployments: [{provider: openai, "
                "model: x}]\n");
  EXPECT_NE(errors[0].to_string().find("'m\\x1bx'"), std::string::npos) << errors[0].to_string();
}

TEST(HostileConfigTest, PrintableEscapesEverythingThatIsNotVisibleText) {
  EXPECT_EQ(printable("plain 'text' ok"), "plain 'text' ok");
  EXPECT_EQ(printable("a\nb\rc\td"), "a\\nb\\rc\\td");
  EXPECT_EQ(printable(std::string("\x1b[31m\x7f\0z", 8)), "\\x1b[31m\\x7f\\x00z");
  EXPECT_EQ(printable("\xff\xc3"), "\\xff\\xc3");                                // not UTF-8
  EXPECT_EQ(printable("\xc0\xaf"), "\\xc0\\xaf");                                // overlong '/'
  EXPECT_EQ(printable("\xed\xa0\x80"), "\\xed\\xa0\\x80");                       // a surrogate
  EXPECT_EQ(printable("caf\xc3\xa9 \xe6\x97\xa5"), "caf\xc3\xa9 \xe6\x97\xa5");  // kept
  EXPECT_EQ(printable("a\xe2\x80\xae"
                      "b"),
            "a\\u202eb");                           // right-to-left override
  EXPECT_EQ(printable("\xc2\x85"), "\\u0085");      // C1 next line
  EXPECT_EQ(printable("\xe2\x80\xa8"), "\\u2028");  // line separator
}

TEST(HostileConfigTest, MultiByteTextIsValidUtf8) {
  EXPECT_EQ(invalid_utf8_offset("ascii"), std::string_view::npos);
  EXPECT_EQ(invalid_utf8_offset("caf\xc3\xa9 \xf0\x9f\x90\x91"), std::string_view::npos);
  EXPECT_EQ(invalid_utf8_offset("ab\xff"), 2u);
  EXPECT_EQ(invalid_utf8_offset("ab\xe6\x97"), 2u);        // truncated
  EXPECT_EQ(invalid_utf8_offset("\xf4\x90\x80\x80"), 0u);  // past U+10FFFF
}

// --- item 7: hostile files ---

TEST(HostileConfigTest, InvalidUtf8IsAnErrorAtItsPosition) {
  expect_single(
      std::string(kProviders) + "  m\xff: {deployments: [{provider: openai, model: x}]}\n", 5, "",
      "invalid UTF-8 (byte 0xff)");
  const std::vector<Diagnostic> errors =
      errors_of(std::string(kProviders) + "  m\xff: {deployments: []}\n");
  EXPECT_EQ(errors[0].column, 4);
}

TEST(HostileConfigTest, RawControlBytesAndUtf16AreErrors) {
  expect_single(
      std::string(kProviders) + "  m: {deployments: [{provider: openai, model: \"a\x01\"}]}\n", 5,
      "", "control character 0x01");
  expect_single(std::string("providers:\0\n", 12) + kValidTail, 1, "", "control character 0x00");
  expect_single("\xff\xfep\0r\0", 1, "", "UTF-16 or UTF-32");
  // A UTF-8 byte order mark is fine.
  EXPECT_TRUE(load_with(std::string("\xef\xbb\xbf") + kProviders + kValidTail).ok());
}

TEST(HostileConfigTest, DeepNestingIsOneErrorNotAStackOverflow) {
  std::string deep = std::string(kProviders) + kValidTail + "policies:\n  default: ";
  deep += std::string(100000, '[') + std::string(100000, ']') + "\n";
  const std::vector<Diagnostic> errors = errors_of(deep);
  ASSERT_EQ(errors.size(), 1u) << ::testing::PrintToString(printed(errors));
  EXPECT_EQ(errors[0].line, 7);
  EXPECT_NE(errors[0].message.find("nested too deeply"), std::string::npos) << errors[0].message;
}

TEST(HostileConfigTest, AliasBombsAreNotExpanded) {
  // "Billion laughs": nine levels of nine aliases each would be 387 million nodes if expanded.
  std::string text = std::string(kProviders) + "  m:\n    deployments: *a8\n";
  std::string anchors = "x0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int i = 1; i <= 8; ++i) {
    const std::string prev = "*a" + std::to_string(i - 1);
    anchors += "x" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int k = 0; k < 9; ++k) {
      anchors += (k == 0 ? "" : ", ") + prev;
    }
    anchors += "]\n";
  }
  const std::vector<Diagnostic> errors = errors_of(anchors + text);
  // Nine unknown top-level keys and one error per deployment entry (each a list, not a
  // mapping): linear in the file, not in the expansion.
  EXPECT_LT(errors.size(), 30u) << ::testing::PrintToString(printed(errors));
  EXPECT_GT(errors.size(), 9u);
}

TEST(HostileConfigTest, HugeNumbersNaNInfAndNegativeDurationsAreErrors) {
  const std::string head = std::string(kProviders) + kValidTail + "policies:\n  default:\n";
  expect_single(head + "    max_attempts: 99999999999999999999999\n", 8,
                "policies.default.max_attempts", "expected an integer in [1, 100]");
  expect_single(head + "    backoff: {base_delay: -1s}\n", 8, "policies.default.backoff.base_delay",
                "expected a duration > 0");
  expect_single(head + "    backoff: {base_delay: .nan}\n", 8,
                "policies.default.backoff.base_delay", "expected a duration > 0");
  expect_single(head + "    timeouts: {total: 1e400}\n", 8, "policies.default.timeouts.total",
                "expected a duration > 0");
  expect_single(head + "    timeouts: {total: inf}\n", 8, "policies.default.timeouts.total",
                "expected a duration > 0");
  expect_single(std::string(kProviders) +
                    "  m: {deployments: [{provider: openai, model: x, weight: .nan}]}\n",
                5, "models.m.deployments[0].weight", "a number in [0, 1000000]");
  expect_single(std::string(kProviders) +
                    "  m: {deployments: [{provider: openai, model: x, weight: 1e308}]}\n",
                5, "models.m.deployments[0].weight", "out of range");
}

TEST(HostileConfigTest, AnAbsurdBodyLimitIsAnError) {
  expect_single("server: {max_body_bytes: 1000GiB}\n" + std::string(kProviders) + kValidTail, 1,
                "server.max_body_bytes", "expected at most 1GiB");
  EXPECT_TRUE(
      load_with("server: {max_body_bytes: 1GiB}\n" + std::string(kProviders) + kValidTail).ok());
}

TEST(HostileConfigTest, DuplicateKeysAreErrors) {
  expect_single(
      "providers:\n  openai: {kind: openai, kind: anthropic, base_url: \"https://a.example/v1\"}\n"
      "models:\n" +
          std::string(kValidTail),
      2, "providers.openai.kind", "duplicate key");
}

TEST(HostileConfigTest, AKeyWithALineBreakIsAnError) {
  // Typically `export KEY=$(cat key.txt)` with the file's newline: it would split the
  // Authorization header.
  const LoadResult result = load_with(
      "providers:\n"
      "  openai: {kind: openai, base_url: \"https://a.example/v1\", api_keys: [\"${K}\"]}\n"
      "models:\n" +
          std::string(kValidTail),
      {{"K", "sk-abc\n"}});
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].path, "providers.openai.api_keys[0]");
  EXPECT_NE(result.errors[0].message.find("line break"), std::string::npos);
}

TEST(HostileConfigTest, OversizedTextIsRefusedBeforeParsing) {
  const std::string text(kMaxConfigFileBytes + 1, '#');
  const LoadResult result = load_with(text);
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_NE(result.errors[0].message.find("larger than 4 MiB"), std::string::npos);
}

TEST(HostileConfigTest, FilesAreReadWithABound) {
  // An endless file: read up to the bound, then refused (a FIFO or device never reports a size).
  const FileText zero = read_config_text("/dev/zero", 1024);
  EXPECT_FALSE(zero.text.has_value());
  EXPECT_NE(zero.error.find("larger than"), std::string::npos) << zero.error;
  const LoadResult devzero = load_config_file("/dev/zero");
  ASSERT_EQ(devzero.errors.size(), 1u);
  EXPECT_NE(devzero.errors[0].message.find("larger than 4 MiB"), std::string::npos);

  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / "sheepdog_hostile_config_test.yaml";
  {
    std::ofstream out(path, std::ios::binary);
    out << "0123456789";
  }
  EXPECT_EQ(read_config_text(path, 10).text, "0123456789");  // exactly the bound is fine
  EXPECT_FALSE(read_config_text(path, 9).text.has_value());
  std::filesystem::remove(path);
  EXPECT_NE(read_config_text(path).error.find("cannot open the file"), std::string::npos);
}

TEST(HostileConfigTest, ALongFallbackChainDoesNotOverflowTheStack) {
  // m0 -> m1 -> ... -> m29999, and a cycle back to m0 at the end: the cycle check walked this
  // recursively and crashed (SIGSEGV) past about 24,000 models.
  constexpr int kModels = 30000;
  std::string text =
      "providers:\n  p: {kind: openai, base_url: \"http://127.0.0.1:1/v1\"}\nmodels:\n";
  for (int i = 0; i < kModels; ++i) {
    text += "  m" + std::to_string(i) + ": {deployments: [{provider: p, model: x}], fallbacks: [m" +
            std::to_string((i + 1) % kModels) + "]}\n";
  }
  const LoadResult result = load_with(text);
  ASSERT_EQ(result.errors.size(), 1u) << ::testing::PrintToString(printed(result.errors));
  EXPECT_NE(result.errors[0].message.find("fallback cycle: m0 -> m1 -> m2"), std::string::npos);
}

// --- item 4: warnings are kept when there are errors ---

TEST(HostileConfigTest, WarningsSurviveErrors) {
  const LoadResult result = load_with(std::string(kProviders) +
                                      "  m: {deployments: [{provider: openai, model: x}]}\n"
                                      "  n: {deployments: [{provider: nope, model: x}]}\n");
  ASSERT_FALSE(result.ok());
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(warnings_of(result),
            (std::vector<std::string>{
                "t.yaml:3:3: warning: providers.backup: not used by any model deployment"}));
}

// --- item 3: bare numbers as durations ---

TEST(HostileConfigTest, ImplausibleBareNumberDurationsWarn) {
  const std::string head = std::string(kProviders) + kValidTail + "policies:\n  default:\n";
  const LoadResult result = load_with(head + "    backoff: {base_delay: 500, max_delay: 900s}\n");
  ASSERT_TRUE(result.ok()) << ::testing::PrintToString(printed(result.errors));
  EXPECT_EQ(warnings_of(result),
            (std::vector<std::string>{
                "t.yaml:3:3: warning: providers.backup: not used by any model deployment",
                "t.yaml:8:27: warning: policies.default.backoff.base_delay: 500 is read as 500 "
                "seconds (about 8 minutes); write 500ms if you meant milliseconds, or 500s to say "
                "seconds "
                "and silence this warning"}));
  // A timeout over an hour, a breaker window over an hour.
  const LoadResult timeouts =
      load_with(head +
                "    timeouts: {attempt: 5000, total: 7200}\n"
                "    circuit_breaker: {window: time, window_duration: 7200}\n");
  ASSERT_TRUE(timeouts.ok()) << ::testing::PrintToString(printed(timeouts.errors));
  EXPECT_EQ(timeouts.warnings.size(), 4u) << ::testing::PrintToString(warnings_of(timeouts));
  // Plausible bare numbers, and any number with a unit, say nothing.
  const LoadResult quiet = load_with(
      head + "    backoff: {base_delay: 2, max_delay: 500s}\n    timeouts: {attempt: 30}\n");
  ASSERT_TRUE(quiet.ok());
  EXPECT_EQ(quiet.warnings.size(), 1u) << ::testing::PrintToString(warnings_of(quiet));
}

// --- item 2: LiteLLM's os.environ/NAME ---

TEST(HostileConfigTest, LiteLlmEnvironSyntaxReadsTheVariableWithANote) {
  const std::string text =
      "providers:\n"
      "  openai:\n"
      "    kind: openai\n"
      "    base_url: https://api.openai.com/v1\n"
      "    api_keys: [os.environ/OPENAI_API_KEY]\n"
      "models:\n" +
      std::string(kValidTail);
  const LoadResult set = load_with(text, {{"OPENAI_API_KEY", "sk-from-env"}});
  ASSERT_TRUE(set.ok()) << ::testing::PrintToString(printed(set.errors));
  ASSERT_EQ(set.config->providers[0].api_keys.size(), 1u);
  EXPECT_EQ(set.config->providers[0].api_keys[0].key, "sk-from-env");
  EXPECT_EQ(warnings_of(set),
            (std::vector<std::string>{
                "t.yaml:5:16: warning: providers.openai.api_keys[0]: 'os.environ/OPENAI_API_KEY' "
                "(LiteLLM's syntax) is read as ${OPENAI_API_KEY}, the environment variable "
                "OPENAI_API_KEY; write ${OPENAI_API_KEY} to silence this note"}));
  // Unset: dropped like ${OPENAI_API_KEY}, and the provider knows which variable to set.
  const LoadResult unset = load_with(text);
  ASSERT_TRUE(unset.ok());
  EXPECT_TRUE(unset.config->providers[0].keys_unavailable);
  EXPECT_EQ(unset.config->providers[0].unset_key_variables,
            std::vector<std::string>{"OPENAI_API_KEY"});
  // Anywhere ${VAR} works, e.g. a URL.
  const LoadResult url =
      load_with("providers:\n  openai: {kind: openai, base_url: os.environ/BASE}\nmodels:\n" +
                    std::string(kValidTail),
                {{"BASE", "https://b.example/v1"}});
  ASSERT_TRUE(url.ok());
  EXPECT_EQ(url.config->providers[0].base_url, "https://b.example/v1");
  // A name that is not a variable name is an error, not a literal.
  expect_single("providers:\n  openai: {kind: openai, base_url: os.environ/1BAD}\nmodels:\n" +
                    std::string(kValidTail),
                2, "providers.openai.base_url", "invalid variable name '1BAD'");
}

}  // namespace
}  // namespace sheepdog::config
