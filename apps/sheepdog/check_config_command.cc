// `sheepdog check-config FILE`: loads a configuration the way `sheepdog serve` will and reports
// every problem, so a broken file is caught before a deploy rather than at start-up.
//
// Exit status: 0 valid (warnings allowed), 1 invalid (each error on its own line, on stderr),
// 2 usage problem (no file, extra arguments, no such file, a directory, unreadable): one line
// saying what to do.
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <system_error>

#include "commands.h"
#include "config/loader.h"

namespace sheepdog::app {
namespace {

int run_check_config(const std::string& file) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (file.empty()) {
    std::cerr << "sheepdog check-config: no file given; usage: sheepdog check-config FILE\n";
    return 2;
  }
  if (!fs::exists(file, ec)) {
    std::cerr << "sheepdog check-config: " << file
              << ": no such file; pass the path of your sheepdog.yaml (see "
                 "examples/sheepdog.yaml)\n";
    return 2;
  }
  if (fs::is_directory(file, ec)) {
    std::cerr << "sheepdog check-config: " << file
              << ": is a directory; pass the path of the YAML file itself\n";
    return 2;
  }
  const config::LoadResult result = config::load_config_file(file);
  if (!result.ok()) {
    // An unreadable file is the one error without a position: a usage problem, not content.
    if (result.errors.size() == 1 && result.errors.front().line == 0) {
      std::cerr << "sheepdog check-config: " << result.errors.front().to_string()
                << "; check the path and its permissions\n";
      return 2;
    }
    for (const config::Diagnostic& error : result.errors) {
      std::cerr << error.to_string() << "\n";
    }
    std::cerr << file << ": " << result.errors.size()
              << (result.errors.size() == 1 ? " error\n" : " errors\n");
    return 1;
  }
  const config::Config& config = *result.config;
  std::cout << file << ": ok (" << config.providers.size()
            << (config.providers.size() == 1 ? " provider, " : " providers, ")
            << config.models.size() << (config.models.size() == 1 ? " model)" : " models)") << "\n";
  std::cout.flush();
  for (const config::Diagnostic& warning : config.warnings) {
    std::cerr << warning.to_warning_string() << "\n";
  }
  return 0;
}

}  // namespace

void add_check_config_command(CLI::App& app) {
  CLI::App* command = app.add_subcommand(
      "check-config", "Validate a configuration file and print every problem with its line");
  // Shared with the callback, which runs after this function has returned.
  auto file = std::make_shared<std::string>();
  command->add_option("FILE", *file, "the sheepdog.yaml to check");
  // Extra arguments are a usage error like any other: exit 2, one line (not CLI11's own code).
  command->allow_extras();
  command->callback([command, file] {
    int status = 0;
    if (!command->remaining().empty()) {
      std::cerr << "sheepdog check-config: unexpected argument '" << command->remaining().front()
                << "'; usage: sheepdog check-config FILE\n";
      status = 2;
    } else {
      status = run_check_config(*file);
    }
    if (status != 0) {
      // main() returns the code a CLI::RuntimeError carries, printing nothing more.
      throw CLI::RuntimeError(status);
    }
  });
}

}  // namespace sheepdog::app
