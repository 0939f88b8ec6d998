// The `sheepdog` subcommands. Each registers itself on the CLI11 app and runs when selected;
// main() wires them explicitly (no static registration).
#pragma once

#include <CLI/CLI.hpp>

namespace sheepdog::app {

// `sheepdog simulate`: the virtual-time strategy simulator (src/sim).
void add_simulate_command(CLI::App& app);

// `sheepdog check-config FILE`: validate a configuration file (src/config).
void add_check_config_command(CLI::App&);

// `sheepdog mock`: the fault-injecting OpenAI- and Anthropic-compatible upstream (src/mock).
void add_mock_command(CLI::App& app);

// `sheepdog serve`: the gateway (src/gateway, src/server/gateway_routes).
void add_serve_command(CLI::App& app);

}  // namespace sheepdog::app
