// Configurations `sheepdog serve` makes without a file:
//
//   quick start  `--upstream URL [--upstream URL ...] [--api-key K]`: every model name is passed
//                through to the OpenAI-compatible upstreams, tried in the order given (the
//                first is primary, later ones failover), under the built-in default policies.
//                With --api-key, K is sent upstream; without it the client's own Authorization
//                header is forwarded (the client holds the upstream's key).
//   demo         `--demo`: the embedded demo configuration (kDemoConfigYaml), with its
//                ${SHEEPDOG_DEMO_*} placeholders bound to two local mock upstreams, or to
//                api.openai.com when an OpenAI key is given.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config/config.h"
#include "config/loader.h"
#include "gateway/runtime.h"

namespace sheepdog::gateway {

// The alias that serves every model name in the quick start.
inline constexpr std::string_view kPassthroughAlias = "*";

struct QuickStartOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;
  std::vector<std::string> upstreams;  // base URLs, in order of preference
  std::string api_key;                 // empty: forward the client's key
};

struct QuickStart {
  config::Config config;
  RuntimeOptions runtime;  // passthrough, ordering and key forwarding set
};

// The quick-start setup, or an error message naming the unusable URL. A URL without a path
// gets "/v1" appended (what OpenAI-compatible servers serve under); a trailing "/" is dropped.
std::variant<QuickStart, std::string> quick_start_config(const QuickStartOptions& options);

// The demo configuration: the YAML text below loaded through the normal loader. `mock_urls`
// are two base URLs ("http://127.0.0.1:PORT") used when `openai_key` is empty.
config::LoadResult demo_config(const std::vector<std::string>& mock_urls,
                               const std::string& openai_key, uint16_t port);

// The embedded demo configuration, also shipped as examples/demo.yaml.
extern const std::string_view kDemoConfigYaml;

}  // namespace sheepdog::gateway
