// sheepdog: a resilient, OpenAI-compatible LLM gateway. One binary, one subcommand per job.
#include <CLI/CLI.hpp>

#include "commands.h"

int main(int argc, char** argv) {
  CLI::App app{"sheepdog: a resilient, OpenAI-compatible LLM gateway", "sheepdog"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "sheepdog 0.1.0");
  sheepdog::app::add_simulate_command(app);
  sheepdog::app::add_check_config_command(app);
  sheepdog::app::add_mock_command(app);
  sheepdog::app::add_serve_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return 0;
}
