// Configurations `sheepdog serve` makes without a file:
//
//   quick start  `--upstream URL [--api-key K] [--upstream URL [--api-key K] ...]`: every model
//                name is passed through to the OpenAI-compatible upstreams, tried in the order
//                given (the first is primary, later ones failover), under the built-in default
//                policies. An upstream with a key of its own gets that key and never the
//                client's. The client's own Authorization header (the client holding the
//                upstream's key) is forwarded to the first upstream only, if it has no key:
//                a failover upstream is usually another party (a local server behind
//                api.openai.com), which must not receive an OpenAI key. With
//                forward_client_key it goes to every upstream without a key of its own.
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
  // Keys by upstream, index-aligned with `upstreams` (shorter is fine); "" = none of its own.
  std::vector<std::string> upstream_keys;
  // The key of every upstream that has none in upstream_keys; empty: none.
  std::string api_key;
  // Forward the client's key to every upstream without a key, not only to the first.
  bool forward_client_key = false;
};

// Who authenticates to one quick-start upstream, for the start-up summary.
enum class UpstreamAuth : unsigned char {
  kOwnKey,     // a key given on the command line
  kClientKey,  // the client's own Authorization header
  kNone,       // nothing: no Authorization header is sent
};

struct QuickStart {
  config::Config config;
  RuntimeOptions runtime;          // passthrough, ordering and key forwarding set
  std::vector<UpstreamAuth> auth;  // per upstream, in order
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
