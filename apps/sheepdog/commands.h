// The `sheepdog` subcommands. Each registers itself on the CLI11 app and runs when selected;
// main() wires them explicitly (no static registration).
#pragma once

#include <CLI/CLI.hpp>

namespace sheepdog::app {

// `sheepdog simulate`: the virtual-time strategy simulator (src/sim).
void add_simulate_command(CLI::App& app);

}  // namespace sheepdog::app
