// Test helper: a gateway Runtime built from YAML text through the real config loader, on a
// clock the test chooses. Header-only (tests/unit globs only *_test.cc).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>

#include "config/loader.h"
#include "gateway/runtime.h"

namespace sheepdog::gateway::testing {

// Loads `yaml` and builds the runtime; fails the test (and returns null) on any error.
inline std::unique_ptr<Runtime> build_runtime(std::string_view yaml, const Clock& clock,
                                              RuntimeOptions options = {}) {
  config::LoadOptions load;
  load.env = [](const std::string&) -> std::optional<std::string> { return std::nullopt; };
  config::LoadResult loaded = config::load_config_string(yaml, "test.yaml", load);
  if (!loaded.ok()) {
    for (const auto& e : loaded.errors) {
      ADD_FAILURE() << e.to_string();
    }
    return nullptr;
  }
  BuildResult built = Runtime::build(*loaded.config, std::move(options), clock);
  for (const std::string& e : built.errors) {
    ADD_FAILURE() << e;
  }
  return std::move(built.runtime);
}

}  // namespace sheepdog::gateway::testing
