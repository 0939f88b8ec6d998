// Loading sheepdog.yaml: YAML text -> a validated Config, or every problem found, each naming
// its line. Never throws; yaml-cpp's parse errors become diagnostics like any other.
//
//   LoadResult result = load_config_file("sheepdog.yaml");
//   if (!result.ok()) { for (const Diagnostic& e : result.errors) print(e.to_string()); }
//
// The format is documented in docs/configuration.md; examples/sheepdog.yaml is a complete file.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/diagnostic.h"
#include "config/env.h"

namespace sheepdog::config {

struct LoadOptions {
  // Where ${VAR} values come from. Empty = the process environment.
  EnvLookup env;
  // Relative file paths in the config (ca_file) are resolved against this directory. Empty = the
  // config file's directory for load_config_file, the current directory for load_config_string.
  std::filesystem::path base_dir;
};

struct LoadResult {
  std::optional<Config> config;    // set iff errors is empty
  std::vector<Diagnostic> errors;  // in document order of discovery; all of them, not the first
  // Every warning, in file order, whether or not loading succeeded (when it did, the same list
  // as config->warnings), so a file with errors can still be shown with its warnings.
  std::vector<Diagnostic> warnings;

  bool ok() const { return config.has_value(); }
};

// Reads and loads a file. An unreadable file is one error without a line number.
LoadResult load_config_file(const std::filesystem::path& path, const LoadOptions& options = {});

// Loads config text; `name` stands for the file in diagnostics.
LoadResult load_config_string(std::string_view text, std::string_view name = "<config>",
                              const LoadOptions& options = {});

}  // namespace sheepdog::config
