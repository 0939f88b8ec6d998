// `sheepdog serve`: the gateway as a process. Three ways to configure it:
//
//   sheepdog serve --config sheepdog.yaml          a configuration file (see check-config)
//   sheepdog serve --upstream URL [--api-key K] [--upstream URL [--api-key K]] [--port P]
//                                                  quick start: every model name passed through
//                                                  to the upstreams, in order (later = failover);
//                                                  an --api-key belongs to the --upstream before
//                                                  it; the client's own key goes to the first
//                                                  upstream only (--forward-client-key: to all
//                                                  without a key of their own)
//   sheepdog serve --demo                          two local fault-injecting mock upstreams and a
//                                                  demo config; with OPENAI_API_KEY set, the same
//                                                  aliases on api.openai.com instead
//
// A configuration that does not load never starts a server: its errors are printed the way
// check-config prints them, exit status 1. SIGINT/SIGTERM stop accepting, let in-flight
// requests finish (up to server.drain_timeout) and exit 0. SIGHUP reloads --config's file
// (gateway/reload.h): a file that does not load, or a runtime that does not build, changes
// nothing and its errors are printed; in the quick start and the demo it is ignored. JSON log lines (one per attempt and
// per request) go to stderr; human-readable lines to stdout.
#include <fmt/format.h>
#include <malloc.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "commands.h"
#include "config/loader.h"
#include "gateway/gateway.h"
#include "gateway/quick_config.h"
#include "gateway/reload.h"
#include "mock/mock_server.h"
#include "server/gateway_routes.h"
#include "server/http_server.h"
#include "server/protocol_error_shape.h"
#include "telemetry/log.h"

namespace sheepdog::app {
namespace {

struct ServeArgs {
  std::string config_file;
  std::vector<std::string> upstreams;
  std::vector<std::string> api_keys;       // every --api-key, in command-line order
  std::vector<std::string> upstream_keys;  // by upstream: the --api-key after it, or ""
  std::string api_key;                     // an --api-key before the first --upstream
  bool forward_client_key = false;
  bool demo = false;
  std::string host;
  int port = -1;     // -1: the configuration's
  int threads = -1;  // -1: the configuration's
  std::string log_level = "info";
};

[[noreturn]] void fail(int status, const std::string& message) {
  if (!message.empty()) {
    fmt::print(stderr, "sheepdog serve: {}\n", config::printable(message));
  }
  std::fflush(stderr);
  throw CLI::RuntimeError(status);
}

void print_config_errors(const config::LoadResult& result, const std::string& file);

// Makes glibc give memory back after a burst of large answers. Its default mmap threshold is
// dynamic: it rises to the size of the largest block freed (up to 32 MiB), so after the first
// large answer every later one is carved from the heap arenas and stays there (RSS 14 MB to 113
// MB and never back, issue 10). Fixed thresholds keep blocks over 128 KiB in mmap (returned on
// free) and trim the heap top past 128 KiB. Measured with bench/load/memory_return.sh (256
// answers of 1-4 MiB, docs/benchmarks.md): 0.91-0.97 of the rise returned at idle against
// 0.68-0.93, a lower peak (about 70 MiB against 110), for 8-25 % more CPU in the burst;
// mimalloc 2.0.9 kept 45-85 MiB with its defaults and did no better tuned. SHEEPDOG_MALLOC=
// default (or a GLIBC_TUNABLES that sets glibc.malloc.*) keeps glibc's own behaviour.
void return_memory_after_bursts() {
  const char* choice = std::getenv("SHEEPDOG_MALLOC");
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if ((choice != nullptr && std::string_view(choice) == "default") ||
      (tunables != nullptr && std::string_view(tunables).find("glibc.malloc.") !=
                                  std::string_view::npos)) {
    return;
  }
  constexpr int kThreshold = 128 * 1024;
  mallopt(M_MMAP_THRESHOLD, kThreshold);
  mallopt(M_TRIM_THRESHOLD, kThreshold);
}

// SIGHUP: loads the file again and applies it if it builds; prints what happened either way.
void reload(const ServeArgs& args, const config::ServerConfig& running,
            const gateway::RuntimeOptions& options, const Clock& clock,
            gateway::Gateway& gateway) {
  config::LoadResult loaded = config::load_config_file(args.config_file);
  if (!loaded.ok()) {
    print_config_errors(loaded, args.config_file);
    fmt::print(stderr, "sheepdog serve: reload of {} failed; still serving the previous "
                       "configuration\n",
               config::printable(args.config_file));
    std::fflush(stderr);
    return;
  }
  config::Config next = std::move(*loaded.config);
  for (const config::Diagnostic& warning : next.warnings) {
    fmt::print(stderr, "{}\n", warning.to_warning_string());
  }
  // The command line's --port/--host/--threads still win over the file.
  if (args.port >= 0) {
    next.server.port = static_cast<uint16_t>(args.port);
  }
  if (!args.host.empty()) {
    next.server.host = args.host;
  }
  if (args.threads >= 0) {
    next.server.threads = args.threads;
  }
  const gateway::ReloadOutcome outcome =
      gateway::reload_runtime(gateway, running, next, options, clock);
  for (const std::string& warning : outcome.warnings) {
    fmt::print(stderr, "sheepdog serve: warning: {}\n", config::printable(warning));
  }
  if (!outcome.applied) {
    for (const std::string& error : outcome.errors) {
      fmt::print(stderr, "sheepdog serve: {}\n", config::printable(error));
    }
    fmt::print(stderr, "sheepdog serve: reload of {} failed; still serving the previous "
                       "configuration\n",
               config::printable(args.config_file));
    std::fflush(stderr);
    return;
  }
  for (const std::string& name : outcome.needs_restart) {
    fmt::print(stderr, "sheepdog serve: warning: {} changed; it takes effect on restart\n",
               name);
  }
  fmt::print("sheepdog serve: reloaded {} ({} model{})\n", config::printable(args.config_file),
             outcome.models, outcome.models == 1 ? "" : "s");
  std::fflush(stderr);
  std::fflush(stdout);
}

// Two mock upstreams with a modest fault rate, so the demo shows retries and failover.
std::vector<std::unique_ptr<mock::MockServer>> start_demo_mocks() {
  std::vector<std::unique_ptr<mock::MockServer>> mocks;
  for (uint64_t seed : {11u, 23u}) {
    mock::MockOptions options;
    options.seed = seed;
    mock::FaultProfile& profile = options.config.defaults;
    mock::set_default_fault_mix(profile, 0.05);
    profile.latency.median = milliseconds(120);
    profile.latency.p99 = milliseconds(900);
    profile.tokens_per_second = 60;
    profile.retry_after = milliseconds(500);
    auto server = std::make_unique<mock::MockServer>(options);
    if (Status s = server->start(); !s.is_ok()) {
      fail(1, "cannot start the demo's mock upstream: " + s.message());
    }
    mocks.push_back(std::move(server));
  }
  return mocks;
}

void print_config_errors(const config::LoadResult& result, const std::string& file) {
  for (const config::Diagnostic& error : result.errors) {
    fmt::print(stderr, "{}\n", error.to_string());
  }
  fmt::print(stderr, "{}: {} error{}; the gateway was not started\n", file, result.errors.size(),
             result.errors.size() == 1 ? "" : "s");
}

void print_demo_help(const std::string& base, bool real_openai) {
  fmt::print(
      "\n{}\n\nTry it:\n\n"
      "  curl {}/v1/chat/completions -H 'Content-Type: application/json' \\\n"
      "    -d '{{\"model\": \"gpt-4o-mini\", \"messages\": [{{\"role\": \"user\", \"content\": "
      "\"Hello!\"}}]}}'\n\n"
      "  # Node (npm install openai)\n"
      "  import OpenAI from \"openai\";\n"
      "  const client = new OpenAI({{ baseURL: \"{}/v1\", apiKey: \"unused\" }});\n"
      "  const r = await client.chat.completions.create({{ model: \"gpt-4o-mini\", messages: "
      "[{{ role: \"user\", content: \"Hello!\" }}] }});\n"
      "  console.log(r.choices[0].message.content);\n\n"
      "  # Python (pip install openai)\n"
      "  from openai import OpenAI\n"
      "  client = OpenAI(base_url=\"{}/v1\", api_key=\"unused\")\n"
      "  r = client.chat.completions.create(model=\"gpt-4o-mini\", messages=[{{\"role\": "
      "\"user\", \"content\": \"Hello!\"}}])\n"
      "  print(r.choices[0].message.content)\n\n"
      "Watch it work: {}/health/deployments and {}/metrics; one JSON log line per attempt on "
      "stderr.\n\n",
      real_openai ? "Demo: routing gpt-4o-mini, gpt-4o and text-embedding-3-small to "
                    "api.openai.com with your OPENAI_API_KEY."
                  : "Demo: gpt-4o-mini, gpt-4o and text-embedding-3-small served by two local "
                    "mock upstreams that fail 5% of calls (429, 5xx, resets, truncated "
                    "streams); sheepdog retries and fails over so your calls succeed.",
      base, base, base, base, base);
}

// Which credential each quick-start upstream gets, said once at start: where a client's key
// goes should never be a surprise.
void print_upstream_auth(const gateway::QuickStart& start, const std::vector<std::string>& urls) {
  for (size_t i = 0; i < start.auth.size() && i < urls.size(); ++i) {
    const char* how = "no Authorization header (--forward-client-key sends the client's key)";
    if (start.auth[i] == gateway::UpstreamAuth::kOwnKey) {
      how = "its --api-key (never the client's key)";
    } else if (start.auth[i] == gateway::UpstreamAuth::kClientKey) {
      how = "the client's own Authorization header";
    }
    fmt::print("sheepdog serve: upstream {} {}: {}\n", i + 1, config::printable(urls[i]), how);
  }
}

// Pairs each --api-key with the --upstream given just before it (CLI11 keeps the order in which
// options were parsed); one before the first --upstream is the key of every upstream that has
// none of its own.
void assign_upstream_keys(const CLI::App& command, const CLI::Option* upstream,
                          const CLI::Option* api_key, ServeArgs& args) {
  args.upstream_keys.assign(args.upstreams.size(), "");
  size_t upstreams = 0;
  size_t keys = 0;
  for (const CLI::Option* option : command.parse_order()) {
    if (option == upstream) {
      ++upstreams;
      continue;
    }
    if (option != api_key || keys >= args.api_keys.size()) {
      continue;
    }
    const std::string& key = args.api_keys[keys++];
    std::string& slot = upstreams == 0 ? args.api_key : args.upstream_keys[upstreams - 1];
    if (!slot.empty()) {
      fail(2, upstreams == 0 ? "two --api-key before the first --upstream; give one, or one "
                               "after each --upstream it belongs to"
                             : "two --api-key after --upstream '" + args.upstreams[upstreams - 1] +
                                   "'; an --api-key belongs to the --upstream just before it");
    }
    slot = key;
  }
  if (keys > 0 && args.upstreams.empty()) {
    fail(2, "--api-key is for the quick start: put it after the --upstream it belongs to");
  }
  if (args.forward_client_key && args.upstreams.empty()) {
    fail(2, "--forward-client-key is for the quick start (--upstream URL ...)");
  }
}

int run_serve(const ServeArgs& args) {
  return_memory_after_bursts();
  const int modes =
      (args.demo ? 1 : 0) + (args.config_file.empty() ? 0 : 1) + (args.upstreams.empty() ? 0 : 1);
  if (modes != 1) {
    fail(2, modes == 0 ? "nothing to serve; use --demo, --config FILE or --upstream URL"
                       : "use only one of --demo, --config and --upstream");
  }
  const std::optional<LogLevel> level = parse_log_level(args.log_level);
  if (!level) {
    fail(2, "--log-level must be trace, debug, info, warn, error or off");
  }
  SteadyClock clock;
  std::unique_ptr<StructuredLogger> logger =
      StructuredLogger::make(LogOptions{.level = *level, .batched = true}, clock);

  std::vector<std::unique_ptr<mock::MockServer>> mocks;
  config::Config config;
  gateway::RuntimeOptions runtime_options;
  const uint16_t port = args.port >= 0 ? static_cast<uint16_t>(args.port) : 8080;
  bool real_openai = false;
  if (args.demo) {
    const char* key = std::getenv("OPENAI_API_KEY");
    real_openai = key != nullptr && *key != '\0';
    std::vector<std::string> urls;
    if (!real_openai) {
      mocks = start_demo_mocks();
      for (const auto& m : mocks) {
        urls.push_back(m->url());
      }
    }
    config::LoadResult loaded = gateway::demo_config(urls, real_openai ? key : "", port);
    if (!loaded.ok()) {
      print_config_errors(loaded, "<demo>");
      fail(1, "");
    }
    config = std::move(*loaded.config);
  } else if (!args.upstreams.empty()) {
    gateway::QuickStartOptions quick;
    quick.upstreams = args.upstreams;
    quick.upstream_keys = args.upstream_keys;
    quick.api_key = args.api_key;
    quick.forward_client_key = args.forward_client_key;
    quick.port = port;
    auto made = gateway::quick_start_config(quick);
    if (const std::string* error = std::get_if<std::string>(&made)) {
      fail(2, *error);
    }
    auto& start = std::get<gateway::QuickStart>(made);
    print_upstream_auth(start, args.upstreams);
    config = std::move(start.config);
    runtime_options = std::move(start.runtime);
  } else {
    config::LoadResult loaded = config::load_config_file(args.config_file);
    if (!loaded.ok()) {
      print_config_errors(loaded, args.config_file);
      fail(1, "");
    }
    config = std::move(*loaded.config);
    for (const config::Diagnostic& warning : config.warnings) {
      fmt::print(stderr, "{}\n", warning.to_warning_string());
    }
    if (args.port >= 0) {
      config.server.port = port;
    }
  }
  if (!args.host.empty()) {
    config.server.host = args.host;
  }
  if (args.threads >= 0) {
    config.server.threads = args.threads;
  }

  runtime_options.logger = logger.get();
  gateway::BuildResult built = gateway::Runtime::build(config, runtime_options, clock);
  for (const std::string& warning : built.warnings) {
    fmt::print(stderr, "sheepdog serve: warning: {}\n", config::printable(warning));
  }
  if (!built.runtime) {
    for (const std::string& error : built.errors) {
      fmt::print(stderr, "sheepdog serve: {}\n", config::printable(error));
    }
    fail(1, "the gateway was not started");
  }
  const size_t models = built.runtime->aliases().size();
  gateway::Gateway gateway(std::move(built.runtime), std::random_device{}());

  server::HttpServerOptions http;
  http.host = config.server.host;
  http.port = config.server.port;
  http.threads = static_cast<unsigned>(config.server.threads);
  http.max_body_bytes = config.server.max_body_bytes;
  http.max_header_bytes = config.server.max_header_bytes;
  http.header_timeout = config.server.header_timeout;
  http.body_timeout = config.server.body_timeout;
  http.idle_timeout = config.server.idle_timeout;
  http.protocol_error = server::api_protocol_error;  // Anthropic clients get Anthropic's shape
  http.max_connections = static_cast<size_t>(config.server.max_connections);
  http.drain_timeout = config.server.drain_timeout;
  if (Status s = http.validate(); !s.is_ok()) {
    fail(1, "server: " + s.message());
  }
  server::HttpServer server(http, server::make_gateway_handler(gateway));
  if (Status s = server.listen(); !s.is_ok()) {
    fail(1, s.message() + "; choose another --port or --host");
  }
  server.on_hangup([&] {
    if (args.config_file.empty()) {
      fmt::print("sheepdog serve: SIGHUP ignored (no --config file to reload)\n");
      std::fflush(stdout);
      return;
    }
    reload(args, config.server, runtime_options, clock, gateway);
  });
  server.stop_on_signals([&](int signal_number) {
    fmt::print("sheepdog serve: {} received; finishing in-flight requests (up to {:g} s)\n",
               signal_number == SIGTERM ? "SIGTERM" : "SIGINT",
               to_seconds(config.server.drain_timeout));
    std::fflush(stdout);
  });
  const std::string host = config.server.host.find(':') != std::string::npos
                               ? "[" + config.server.host + "]"
                               : config.server.host;
  const std::string base = fmt::format("http://{}:{}", host, server.port());
  fmt::print("sheepdog serve: listening on {} ({} model{}, {} io thread{})\n", base, models,
             models == 1 ? "" : "s", http.resolved_threads(),
             http.resolved_threads() == 1 ? "" : "s");
  if (args.demo) {
    print_demo_help(base, real_openai);
  }
  std::fflush(stdout);
  server.run();
  for (auto& m : mocks) {
    m->stop();
  }
  logger->flush();
  fmt::print("sheepdog serve: stopped\n");
  std::fflush(stdout);
  return 0;
}

}  // namespace

void add_serve_command(CLI::App& app) {
  auto args = std::make_shared<ServeArgs>();
  CLI::App* command = app.add_subcommand("serve",
                                         "Run the gateway (OpenAI-compatible API with retries, "
                                         "failover, circuit breakers and fallbacks)");
  command->add_option("--config", args->config_file, "The sheepdog.yaml to serve");
  CLI::Option* upstream =
      command
          ->add_option("--upstream", args->upstreams,
                       "Quick start: an OpenAI-compatible base URL; repeat for failover "
                       "upstreams, tried in order")
          ->allow_extra_args(false);
  CLI::Option* api_key =
      command
          ->add_option("--api-key", args->api_keys,
                       "Quick start: the key for the --upstream just before it (before the first "
                       "--upstream: for every upstream without its own). An upstream with a key "
                       "never receives the client's. Without one, the client's own key is "
                       "forwarded to the first upstream only")
          ->allow_extra_args(false);
  command->add_flag("--forward-client-key", args->forward_client_key,
                    "Quick start: forward the client's own key to every upstream without an "
                    "--api-key, failover ones included (default: the first upstream only)");
  command->add_flag("--demo", args->demo,
                    "Serve a demo: two local fault-injecting mock upstreams (or api.openai.com "
                    "when OPENAI_API_KEY is set)");
  command->add_option("--host", args->host, "Address to bind (default: the config's, 127.0.0.1)");
  command->add_option("--port", args->port, "Port to listen on (default: the config's, 8080)")
      ->check(CLI::Range(0, 65535));
  command->add_option("--threads", args->threads, "IO threads; 0 = one per core")
      ->check(CLI::Range(0, 1024));
  command->add_option("--log-level", args->log_level,
                      "trace, debug, info, warn, error or off (default info)");
  command->callback([args, command, upstream, api_key] {
    assign_upstream_keys(*command, upstream, api_key, *args);
    run_serve(*args);
  });
}

}  // namespace sheepdog::app
