#include "gateway/quick_config.h"

#include "upstream/http_message.h"

namespace sheepdog::gateway {

const std::string_view kDemoConfigYaml =
    R"yaml(# The demo configuration of `sheepdog serve --demo` (embedded in the binary).
# Two local fault-injecting mock upstreams stand in for two provider accounts; sheepdog retries,
# fails over and trips breakers so the client's calls keep succeeding.
server:
  host: 127.0.0.1
  port: ${SHEEPDOG_DEMO_PORT:-8080}

providers:
  mock-a:
    kind: openai
    base_url: ${SHEEPDOG_DEMO_A_URL}/v1
    api_keys: ["sk-demo-mock-a-0000"]
    connect_timeout: 2s
  mock-b:
    kind: openai
    base_url: ${SHEEPDOG_DEMO_B_URL}/v1
    api_keys: ["sk-demo-mock-b-0000"]
    connect_timeout: 2s

policies:
  default:
    max_attempts: 3
    timeouts: {attempt: 20s, total: 45s, first_token: 10s}
    backoff: {kind: exponential, base_delay: 200ms, max_delay: 2s, jitter: full}
    pushback: {honor: true, max: 5s}
    circuit_breaker: {consecutive_failures: 5, open_duration: 5s}

models:
  gpt-4o-mini:
    deployments:
      - {provider: mock-a, model: gpt-4o-mini}
      - {provider: mock-b, model: gpt-4o-mini}
    routing: {strategy: least_latency}
  gpt-4o:
    deployments:
      - {provider: mock-a, model: gpt-4o, weight: 3}
      - {provider: mock-b, model: gpt-4o, weight: 1}
    fallbacks: [gpt-4o-mini]
  text-embedding-3-small:
    deployments:
      - {provider: mock-a, model: text-embedding-3-small}
      - {provider: mock-b, model: text-embedding-3-small}
)yaml";

namespace {

// With a real key: the same aliases on api.openai.com.
constexpr std::string_view kOpenAIDemoYaml = R"yaml(
server:
  host: 127.0.0.1
  port: ${SHEEPDOG_DEMO_PORT:-8080}
providers:
  openai:
    kind: openai
    base_url: https://api.openai.com/v1
    api_keys: ["${SHEEPDOG_DEMO_OPENAI_KEY}"]
models:
  gpt-4o-mini:
    deployments: [{provider: openai, model: gpt-4o-mini}]
  gpt-4o:
    deployments: [{provider: openai, model: gpt-4o}]
    fallbacks: [gpt-4o-mini]
  text-embedding-3-small:
    deployments: [{provider: openai, model: text-embedding-3-small}]
)yaml";

}  // namespace

std::variant<QuickStart, std::string> quick_start_config(const QuickStartOptions& options) {
  if (options.upstreams.empty()) {
    return std::string(
        "no --upstream given; pass the base URL of an OpenAI-compatible API, e.g. "
        "--upstream http://127.0.0.1:8000/v1");
  }
  QuickStart quick;
  config::Config& config = quick.config;
  config.source = "<command line>";
  config.server.host = options.host;
  config.server.port = options.port;
  config.policies.emplace_back("default", config::ResiliencePolicy{});
  config::ModelConfig model;
  model.alias = std::string(kPassthroughAlias);
  for (size_t i = 0; i < options.upstreams.size(); ++i) {
    std::string url = options.upstreams[i];
    while (url.size() > 1 && url.back() == '/') {
      url.pop_back();
    }
    const std::optional<upstream::Endpoint> endpoint = upstream::parse_endpoint(url);
    if (!endpoint || url.find_first_of("?#") != std::string::npos) {
      return "--upstream '" + options.upstreams[i] +
             "' is not a usable base URL; expected http(s)://host[:port][/path], e.g. "
             "http://127.0.0.1:8000/v1";
    }
    if (endpoint->target == "/") {
      url += "/v1";
    }
    config::ProviderConfig provider;
    provider.name = "upstream" + std::to_string(i + 1);
    provider.base_url = url;
    const std::string& own = i < options.upstream_keys.size() && !options.upstream_keys[i].empty()
                                 ? options.upstream_keys[i]
                                 : options.api_key;
    if (own.find_first_of(std::string_view("\r\n\0 \t", 5)) != std::string::npos) {
      return "the --api-key of --upstream '" + options.upstreams[i] +
             "' contains a space or line break; expected the key alone";
    }
    if (!own.empty()) {
      provider.api_keys.push_back(config::ApiKeyConfig{own});
      quick.auth.push_back(UpstreamAuth::kOwnKey);
    } else if (i == 0 || options.forward_client_key) {
      quick.runtime.forward_client_key_providers.push_back(provider.name);
      quick.auth.push_back(UpstreamAuth::kClientKey);
    } else {
      quick.auth.push_back(UpstreamAuth::kNone);
    }
    model.deployments.push_back(config::DeploymentConfig{provider.name, "*", 1.0});
    config.providers.push_back(std::move(provider));
  }
  config.models.push_back(std::move(model));
  quick.runtime.passthrough_alias = std::string(kPassthroughAlias);
  quick.runtime.ordered_aliases.push_back(std::string(kPassthroughAlias));
  return quick;
}

config::LoadResult demo_config(const std::vector<std::string>& mock_urls,
                               const std::string& openai_key, uint16_t port) {
  config::LoadOptions options;
  const std::string a = mock_urls.size() > 0 ? mock_urls[0] : std::string();
  const std::string b = mock_urls.size() > 1 ? mock_urls[1] : a;
  options.env = [a, b, openai_key, port](const std::string& name) -> std::optional<std::string> {
    if (name == "SHEEPDOG_DEMO_A_URL") {
      return a;
    }
    if (name == "SHEEPDOG_DEMO_B_URL") {
      return b;
    }
    if (name == "SHEEPDOG_DEMO_OPENAI_KEY") {
      return openai_key;
    }
    if (name == "SHEEPDOG_DEMO_PORT") {
      return std::to_string(port);
    }
    return std::nullopt;
  };
  return openai_key.empty() ? config::load_config_string(kDemoConfigYaml, "<demo>", options)
                            : config::load_config_string(kOpenAIDemoYaml, "<demo>", options);
}

}  // namespace sheepdog::gateway
