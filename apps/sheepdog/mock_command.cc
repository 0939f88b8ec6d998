// `sheepdog mock`: the fault-injecting OpenAI- and Anthropic-compatible upstream (src/mock) as a
// process, for trying the gateway against failures by hand, in scripts and in load tests. Prints
// one line with its URL when ready; SIGINT/SIGTERM stop it gracefully (exit 0).
//
// Every option is taken as a string and checked here, so any bad value ends the same way: one
// line on stderr naming the problem and the fix, exit code 2.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>

#include "cli_input.h"
#include "commands.h"
#include "mock/mock_config_decode.h"
#include "mock/mock_server.h"

namespace sheepdog::app {
namespace {

struct MockArgs {
  std::string host = "127.0.0.1";
  std::string port = "8090";
  std::string threads = "1";
  std::string seed = "1";
  std::string latency_ms;
  std::string fault_rate;
  std::string retry_after;
  std::string tokens_per_second;
  std::string faults_file;
};

[[noreturn]] void bad_input(const std::string& message) { app::bad_input("mock", message); }

template <typename T>
T parse_integer(const std::string& text, std::string_view flag, T min, T max) {
  return app::parse_integer("mock", text, flag, min, max);
}

double parse_number(const std::string& text, std::string_view flag, double min, double max,
                    std::string_view example) {
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !(value >= min) ||
      !(value <= max)) {
    bad_input(fmt::format("{} must be a number from {} to {}, got '{}' (e.g. {} {})", flag, min,
                          max, text, flag, example));
  }
  return value;
}

mock::MockOptions build_options(const MockArgs& args) {
  mock::MockOptions options;
  options.host = args.host;
  options.port = parse_integer<uint16_t>(args.port, "--port", 0, 65535);
  options.threads = parse_integer<unsigned>(args.threads, "--threads", 0, 1024);
  options.seed =
      parse_integer<uint64_t>(args.seed, "--seed", 0, std::numeric_limits<uint64_t>::max());
  if (!args.faults_file.empty()) {
    const Status status =
        mock::load_mock_config_file(args.faults_file, options.config, &options.config);
    if (!status) {
      // One line: the first problem, and how many more there are.
      const std::string& message = status.message();
      const size_t newline = message.find('\n');
      if (newline == std::string::npos) {
        bad_input(message);
      }
      const auto more = std::count(message.begin(), message.end(), '\n');
      bad_input(fmt::format("{} (and {} more; fix them in {})", message.substr(0, newline), more,
                            args.faults_file));
    }
  }
  // Flags override the file's default profile.
  mock::FaultProfile& profile = options.config.defaults;
  if (!args.latency_ms.empty()) {
    const double ms = parse_number(args.latency_ms, "--latency-ms", 0, 3.6e6, "50");
    profile.latency.median = profile.latency.p99 = from_ms(ms);
  }
  if (!args.fault_rate.empty()) {
    mock::set_default_fault_mix(profile,
                                parse_number(args.fault_rate, "--fault-rate", 0, 1, "0.1"));
  }
  if (!args.retry_after.empty()) {
    profile.retry_after =
        from_seconds(parse_number(args.retry_after, "--retry-after", 0, 86400, "2"));
  }
  if (!args.tokens_per_second.empty()) {
    profile.tokens_per_second =
        parse_number(args.tokens_per_second, "--tokens-per-second", 0, 1e6, "50");
  }
  if (const Status status =
          [&] {
            server::HttpServerOptions http = options.http;
            http.host = options.host;
            return http.validate();
          }();
      !status) {
    bad_input("--host: " + status.message());
  }
  return options;
}

void run_mock(const MockArgs& args) {
  const mock::MockOptions options = build_options(args);
  mock::MockServer server(options);
  const Status status = server.run(
      [&](const std::string& url) {
        fmt::print("sheepdog mock: listening on {} (threads={}, seed={})\n", url,
                   options.threads == 0 ? std::string("auto") : std::to_string(options.threads),
                   options.seed);
        std::fflush(stdout);
      },
      /*handle_signals=*/true);
  if (!status) {
    fmt::print(stderr, "sheepdog mock: {}; choose another --port or --host\n", status.message());
    throw CLI::RuntimeError(1);
  }
}

}  // namespace

void add_mock_command(CLI::App& app) {
  auto args = std::make_shared<MockArgs>();
  CLI::App* command = app.add_subcommand(
      "mock",
      "Run a fault-injecting upstream speaking OpenAI (/v1/chat/completions, /v1/embeddings, "
      "/v1/models) and Anthropic (/v1/messages), with optional per-API-key rate limits");
  command->add_option("--host", args->host, "Address to bind (default 127.0.0.1)");
  command->add_option("--port", args->port, "Port to listen on; 0 = any free port (default 8090)");
  command->add_option("--threads", args->threads,
                      "IO threads; 0 = one per core; 1 = fully deterministic (default 1)");
  command->add_option("--seed", args->seed, "Seed of the fault and latency draws (default 1)");
  command->add_option("--latency-ms", args->latency_ms, "Fixed latency to the response head");
  command->add_option("--fault-rate", args->fault_rate,
                      "Share of requests that fail, spread over the transient faults (0-1)");
  command->add_option("--retry-after", args->retry_after,
                      "Seconds sent in Retry-After on 429 and 503/529 (default 1)");
  command->add_option("--tokens-per-second", args->tokens_per_second,
                      "Streaming speed; 0 = as fast as possible (default 0)");
  command->add_option(
      "--faults", args->faults_file,
      "YAML file with latency and fault profiles per model, and rate limits per API key "
      "(keys: {KEY: {rpm: N, tpm: N}}; see src/mock/mock_config_decode.h)");
  command->callback([args] { run_mock(*args); });
}

}  // namespace sheepdog::app
