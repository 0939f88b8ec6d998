// Fuzz target: the YAML decoders of files a user writes: the gateway's configuration
// (config/loader.h: YAML -> a validated Config or line-numbered diagnostics, never a throw) and,
// on the same text, a `sheepdog simulate` scenario file (sim/scenario_yaml.h).
//
// ${VAR} values come from a fixed table, not the process environment, so an input decodes the
// same everywhere; relative file paths resolve against a directory that does not exist.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "config/loader.h"
#include "fuzz/fuzz_support.h"
#include "sim/scenario_yaml.h"

namespace {

std::optional<std::string> fixed_env(const std::string& name) {
  if (name == "OPENAI_API_KEY") {
    return "sk-fuzz-openai";
  }
  if (name == "ANTHROPIC_API_KEY") {
    return "sk-ant-fuzz";
  }
  if (name == "EMPTY") {
    return "";
  }
  if (name == "PORT") {
    return "8080";
  }
  return std::nullopt;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text = sheepdog::fuzz::as_text(data, size);

  sheepdog::config::LoadOptions options;
  options.env = fixed_env;
  options.base_dir = "/nonexistent/sheepdog-fuzz";
  const sheepdog::config::LoadResult result =
      sheepdog::config::load_config_string(text, "sheepdog.yaml", options);
  if (result.ok() == !result.errors.empty()) {
    sheepdog::fuzz::invariant_failed("a config loads iff there are no errors");
  }
  for (const sheepdog::config::Diagnostic& error : result.errors) {
    error.to_string();
  }

  sheepdog::sim::ScenarioFile scenario;
  sheepdog::sim::parse_scenario_yaml(text, "scenario.yaml", &scenario);
  return 0;
}
