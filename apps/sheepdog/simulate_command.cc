// `sheepdog simulate`: compare retry strategies on a simulated scenario (src/sim), on virtual
// time, with the gateway's own resilience objects. Prints a Markdown table (or JSON / CSV) and
// optionally writes an SVG plot.
//
// Every option is taken as a string and checked here, so that any bad value ends the same way:
// one line on stderr naming the problem and the fix, exit code 2 (CLI11's own conversion errors
// would print a different shape and exit code).
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "cli_input.h"
#include "commands.h"
#include "config/loader.h"
#include "sim/config_strategies.h"
#include "sim/runner.h"
#include "sim/scenario_yaml.h"

namespace sheepdog::app {
namespace {

constexpr std::string_view kAwsContention = "aws-contention";
constexpr std::string_view kDefaultScenario = "mixed-faults-10k";

struct SimulateArgs {
  std::string scenario;
  std::string scenario_file;
  std::string strategies;
  std::string requests;
  std::string seed = "1";
  std::string runs = "1";
  std::string format = "markdown";
  std::string plot;
  std::string config;
  bool list = false;
  bool describe = false;
};

[[noreturn]] void bad_input(const std::string& message) { app::bad_input("simulate", message); }

template <typename T>
T parse_integer(const std::string& text, std::string_view flag, T min, T max) {
  return app::parse_integer("simulate", text, flag, min, max);
}

sim::ReportFormat parse_format(const std::string& text) {
  if (text == "markdown" || text == "md") {
    return sim::ReportFormat::kMarkdown;
  }
  if (text == "json") {
    return sim::ReportFormat::kJson;
  }
  if (text == "csv") {
    return sim::ReportFormat::kCsv;
  }
  bad_input(fmt::format("unknown --format '{}'; use markdown, json or csv", text));
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    if (comma > start) {
      out.push_back(text.substr(start, comma - start));
    }
    start = comma + 1;
  }
  return out;
}

void print_list() {
  fmt::print("Scenarios (--scenario NAME):\n");
  for (const std::string& name : sim::builtin_scenario_names()) {
    fmt::print("  {:<20} {}\n", name, sim::builtin_scenario(name)->summary);
  }
  fmt::print("  {:<20} {}\n", kAwsContention,
             "AWS's 2015 contention model: 100 clients, one OCC write each (own table)");
  fmt::print("\nStrategies (--strategies a,b,c; add \"+budget\" to any for a retry budget):\n");
  for (const std::string& name : sim::builtin_strategy_names()) {
    fmt::print("  {:<28} {}\n", name, sim::builtin_strategy(name)->summary);
  }
  std::string defaults;
  for (const std::string& name : sim::default_strategy_names()) {
    defaults += (defaults.empty() ? "" : ",") + name;
  }
  fmt::print("\nDefault strategies: {}\n", defaults);
  defaults.clear();
  for (const std::string& name : sim::tool_call_strategy_names()) {
    defaults += (defaults.empty() ? "" : ",") + name;
  }
  fmt::print("Default strategies for scenarios with tool calls (tool-calls): {}\n", defaults);
}

// A progress bar on stderr, only for a terminal and only when the run is long enough to wait on.
class ProgressBar {
 public:
  explicit ProgressBar(bool enabled) : enabled_(enabled) {}
  ~ProgressBar() {
    if (enabled_ && drawn_) {
      fmt::print(stderr, "\r\033[K");
    }
  }
  sim::Progress callback() {
    if (!enabled_) {
      return {};
    }
    return [this](int done, int total) {
      const int width = 30;
      const int filled = total > 0 ? done * width / total : width;
      fmt::print(stderr, "\rsimulating [{}{}] {}/{}", std::string(size_t(filled), '#'),
                 std::string(size_t(width - filled), '.'), done, total);
      std::fflush(stderr);
      drawn_ = true;
    };
  }

 private:
  bool enabled_;
  bool drawn_ = false;
};

void write_file(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) {
    bad_input(fmt::format("cannot write --plot file '{}'; check the directory exists", path));
  }
}

void run_aws_contention(const SimulateArgs& args, uint64_t seed, int runs,
                        sim::ReportFormat format) {
  if (!args.strategies.empty()) {
    bad_input("--strategies does not apply to aws-contention (it compares its four backoffs)");
  }
  sim::ContentionConfig config;
  if (!args.requests.empty()) {
    config.clients = parse_integer<int>(args.requests, "--requests (clients)", 1, 10000);
  }
  if (args.describe) {
    fmt::print("{}", sim::describe_contention(config));
    return;
  }
  ProgressBar bar(isatty(STDERR_FILENO) && runs > 1);
  const sim::ContentionReport report =
      sim::run_contention_comparison(config, seed, runs, bar.callback());
  fmt::print("{}", sim::format_contention(report, format));
  if (!args.plot.empty()) {
    bad_input("--plot is not available for aws-contention; use --format csv and plot that");
  }
}

void run_simulate(const SimulateArgs& args, const std::vector<std::string>& extras) {
  if (!extras.empty()) {
    bad_input(fmt::format("unknown argument '{}'; see 'sheepdog simulate --help'", extras[0]));
  }
  if (args.list) {
    print_list();
    return;
  }
  const sim::ReportFormat format = parse_format(args.format);
  const uint64_t seed =
      parse_integer<uint64_t>(args.seed, "--seed", 0, uint64_t{1'000'000'000'000'000'000});
  const int runs = parse_integer<int>(args.runs, "--runs", 1, 1000);
  if (!args.scenario.empty() && !args.scenario_file.empty()) {
    bad_input("give either --scenario or --scenario-file, not both");
  }
  if (args.scenario == kAwsContention) {
    run_aws_contention(args, seed, runs, format);
    return;
  }

  sim::ScenarioFile file;
  if (!args.scenario_file.empty()) {
    if (Status s = sim::load_scenario_file(args.scenario_file, &file); !s.is_ok()) {
      bad_input(s.message());
    }
  } else {
    const std::string name = args.scenario.empty() ? std::string(kDefaultScenario) : args.scenario;
    std::optional<sim::Scenario> scenario = sim::builtin_scenario(name);
    if (!scenario) {
      bad_input(
          fmt::format("unknown scenario '{}'; run 'sheepdog simulate --list' for the names", name));
    }
    file.scenario = *scenario;
  }
  sim::Scenario& scenario = file.scenario;
  if (!args.requests.empty()) {
    scenario.requests = parse_integer<int>(args.requests, "--requests", 1, 10'000'000);
  }

  // --config: the gateway's own file, one strategy per model alias (sim/config_strategies.h),
  // compared instead of the built-ins unless --strategies names some of those too.
  std::vector<std::string> names = split_commas(args.strategies);
  if (!args.config.empty()) {
    const config::LoadResult loaded = config::load_config_file(args.config);
    if (!loaded.ok()) {
      bad_input(fmt::format("{} ({} error(s); 'sheepdog check-config {}' lists them all)",
                            loaded.errors.front().to_string(), loaded.errors.size(),
                            args.config));
    }
    std::vector<sim::Strategy> from_config = sim::strategies_from_config(*loaded.config);
    if (names.empty()) {
      for (const sim::Strategy& s : from_config) {
        names.push_back(s.name);
      }
    }
    file.strategies.insert(file.strategies.begin(), from_config.begin(), from_config.end());
  }
  if (names.empty()) {
    names = sim::default_strategies_for(scenario);
    for (const sim::Strategy& custom : file.strategies) {
      names.push_back(custom.name);
    }
  }
  std::vector<sim::Strategy> strategies;
  for (const std::string& name : names) {
    std::optional<sim::Strategy> s = sim::find_strategy(name, file.strategies);
    if (!s) {
      bad_input(
          fmt::format("unknown strategy '{}'; run 'sheepdog simulate --list' for the names", name));
    }
    strategies.push_back(*s);
  }

  if (args.describe) {
    fmt::print("{}\nStrategies:\n", scenario.describe());
    for (const sim::Strategy& s : strategies) {
      fmt::print("  {}\n", s.describe());
    }
    return;
  }

  // About 2M simulated requests a second in a release build (bench/micro/sim_bench.cc): show
  // progress when the run should last past ~0.5 s.
  const double work = double(scenario.requests) * double(strategies.size()) * runs;
  ProgressBar bar(isatty(STDERR_FILENO) && (runs > 1 || work > 1'000'000));
  const bool timelines = !args.plot.empty() && scenario.measured_outage().has_value();
  const sim::Comparison result =
      sim::run_comparison(scenario, strategies, seed, runs, timelines, bar.callback());
  fmt::print("{}", sim::format_report(result.report, format));

  if (!args.plot.empty()) {
    sim::PlotData plot;
    plot.scenario = scenario.name;
    plot.subtitle =
        fmt::format("seed {}{}, {} requests per run", seed,
                    runs > 1 ? fmt::format(" ({} runs, means)", runs) : "", scenario.requests);
    plot.strategies = result.report.strategies;
    plot.timelines = result.timelines;
    plot.outage = scenario.measured_outage();
    write_file(args.plot, sim::render_svg(plot));
  }
}

}  // namespace

void add_simulate_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "simulate",
      "Compare retry strategies on a simulated scenario (virtual time, the gateway's own retry, "
      "backoff, breaker and budget objects). Output is SIMULATED, not measured.");
  cmd->allow_extras();
  auto args = std::make_shared<SimulateArgs>();
  cmd->add_option("--scenario", args->scenario,
                  "Built-in scenario (default mixed-faults-10k; see --list)");
  cmd->add_option("--scenario-file", args->scenario_file,
                  "YAML scenario file (see scenarios/example.yaml)");
  cmd->add_option("--config", args->config,
                  "The gateway's config file: compare its model aliases' policies (one strategy "
                  "per alias, as serve would run it)");
  cmd->add_option("--strategies", args->strategies,
                  "Comma-separated strategy names; '+budget' adds a retry budget");
  cmd->add_option("--requests", args->requests,
                  "Requests per run (default: the scenario's; clients for aws-contention)");
  cmd->add_option("--seed", args->seed, "First random seed (default 1)");
  cmd->add_option("--runs", args->runs, "Runs with seeds seed..seed+K-1; reports mean and spread");
  cmd->add_option("--format", args->format, "markdown (default), json or csv");
  cmd->add_option("--plot", args->plot, "Also write an SVG chart to this file");
  cmd->add_flag("--list", args->list, "List scenarios and strategies");
  cmd->add_flag("--describe", args->describe,
                "Print the scenario's parameters and assumptions, and the strategies'");
  // A value option given without its value reaches run_simulate as "" (and is reported there
  // like any bad value) instead of failing inside CLI11 with another message and exit code.
  for (CLI::Option* option : cmd->get_options()) {
    if (option->get_type_size() > 0 && option->get_name() != "--help") {
      option->expected(0, 1);
    }
  }
  cmd->callback([cmd, args] {
    for (const CLI::Option* option : cmd->get_options()) {
      const bool takes_value = option->get_type_size() > 0 && option->get_name() != "--help";
      if (takes_value && option->count() > 0 &&
          (option->results().empty() || option->results()[0].empty())) {
        bad_input(
            fmt::format("{} needs a value; see 'sheepdog simulate --help'", option->get_name()));
      }
    }
    run_simulate(*args, cmd->remaining());
  });
}

}  // namespace sheepdog::app
