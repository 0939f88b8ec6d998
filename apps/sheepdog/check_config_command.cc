// `sheepdog check-config FILE`: loads a configuration the way `sheepdog serve` will and reports
// every problem, so a broken file is caught before a deploy rather than at start-up. It runs the
// very steps serve runs before it binds (load, then gateway::Runtime::build), so it fails
// exactly when serve would refuse to start, and warns about whatever serve would start without.
//
// Output, on stderr: every error and warning of the file, in file order (line, then column; at
// one place the error first), each on one line with control characters escaped; then the
// runtime build's warnings and errors (no line: they follow from the whole file); then a
// summary with both counts,
// "FILE: 2 errors, 1 warning", or on stdout "FILE: ok (1 provider, 2 models), 1 warning".
// Exit status: 0 valid (warnings allowed), 1 invalid, 2 usage problem (no file, extra
// arguments, no such file, a directory, unreadable): one line saying what to do.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <system_error>
#include <tuple>
#include <vector>

#include "commands.h"
#include "config/loader.h"
#include "core/clock.h"
#include "gateway/runtime.h"

namespace sheepdog::app {
namespace {

std::string count(size_t n, std::string_view noun) {
  return std::to_string(n) + " " + std::string(noun) + (n == 1 ? "" : "s");
}

// Errors and warnings interleaved by position, so each reads next to its neighbours in the file;
// at the same place the error comes first.
void print_in_file_order(const std::vector<config::Diagnostic>& errors,
                         const std::vector<config::Diagnostic>& warnings) {
  struct Line {
    const config::Diagnostic* diagnostic;
    bool error;
  };
  std::vector<Line> lines;
  for (const config::Diagnostic& e : errors) {
    lines.push_back({&e, true});
  }
  for (const config::Diagnostic& w : warnings) {
    lines.push_back({&w, false});
  }
  std::stable_sort(lines.begin(), lines.end(), [](const Line& a, const Line& b) {
    return std::tie(a.diagnostic->line, a.diagnostic->column, b.error) <
           std::tie(b.diagnostic->line, b.diagnostic->column, a.error);
  });
  for (const Line& line : lines) {
    std::cerr << (line.error ? line.diagnostic->to_string() : line.diagnostic->to_warning_string())
              << "\n";
  }
}

int run_check_config(const std::string& file) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (file.empty()) {
    std::cerr << "sheepdog check-config: no file given; usage: sheepdog check-config FILE\n";
    return 2;
  }
  if (!fs::exists(file, ec)) {
    std::cerr << "sheepdog check-config: " << config::printable(file)
              << ": no such file; pass the path of your sheepdog.yaml (see "
                 "examples/sheepdog.yaml)\n";
    return 2;
  }
  if (fs::is_directory(file, ec)) {
    std::cerr << "sheepdog check-config: " << config::printable(file)
              << ": is a directory; pass the path of the YAML file itself\n";
    return 2;
  }
  config::LoadResult result = config::load_config_file(file);
  // An unreadable file is the one error without a position: a usage problem, not content.
  if (result.errors.size() == 1 && result.errors.front().line == 0 &&
      result.errors.front().message.starts_with("cannot ")) {
    std::cerr << "sheepdog check-config: " << result.errors.front().to_string()
              << "; check the path and its permissions\n";
    return 2;
  }
  const std::vector<config::Diagnostic> errors = std::move(result.errors);
  const std::vector<config::Diagnostic> warnings = std::move(result.warnings);
  print_in_file_order(errors, warnings);
  size_t error_count = errors.size();
  size_t warning_count = warnings.size();
  if (result.ok()) {
    // What serve does next, short of binding: the runtime drops what it cannot serve and
    // refuses to start with nothing left. Its verdicts follow from the whole file (they have
    // no line), so they come after the file's own diagnostics, as they do in serve.
    SteadyClock clock;
    const gateway::BuildResult built = gateway::Runtime::build(*result.config, {}, clock);
    for (const std::string& message : built.warnings) {
      std::cerr << config::Diagnostic{file, 0, 0, "", message}.to_warning_string() << "\n";
    }
    for (const std::string& message : built.errors) {
      std::cerr << config::Diagnostic{file, 0, 0, "", message}.to_string() << "\n";
    }
    error_count += built.errors.size();
    warning_count += built.warnings.size();
  }
  const std::string counts = count(error_count, "error") + ", " + count(warning_count, "warning");
  if (error_count > 0) {
    std::cerr << config::printable(file) << ": " << counts << "\n";
    return 1;
  }
  const config::Config& config = *result.config;
  std::cout << config::printable(file) << ": ok (" << count(config.providers.size(), "provider")
            << ", " << count(config.models.size(), "model") << ")";
  if (warning_count > 0) {
    std::cout << ", " << count(warning_count, "warning");
  }
  std::cout << "\n";
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
      std::cerr << "sheepdog check-config: unexpected argument '"
                << config::printable(command->remaining().front())
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
