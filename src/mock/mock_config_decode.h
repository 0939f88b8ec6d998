// Decoding of the mock's configuration: the `--faults` YAML file, and the JSON bodies of the
// control endpoints (yaml-cpp reads JSON as YAML flow style, so both share one decoder and its
// messages, e.g. "faults.yaml:7:5: default.faults.rate_limted: unknown key; did you mean ...").
//
// The document:
//   default:               PROFILE
//   models:                {NAME: PROFILE, ...}   # each starts from `default`, then overrides
//   keys:                  {KEY: {rpm: 3, tpm: 10000}, ...}   # per-key limits, either optional;
//                          # KEY is the raw key (${VAR} allowed); see mock_key_limits.h
//   embedding_dimensions:  1536
//   completion_tokens:     16        # answer length without max_tokens (Anthropic: unless
//                                    # max_tokens is smaller)
//   max_completion_tokens: 16384
//   context_window:        128000
//   model_list:            [gpt-4o-mini, ...]     # for GET /v1/models
// PROFILE:
//   latency: 50ms | {median: 200ms, p99: 2s}     # to the response head; bare numbers are seconds
//   tokens_per_second: 80                         # streaming speed; 0 = no pause
//   slow_stream_factor: 10
//   retry_after: 2s                               # Retry-After on 429 and 503/529
//   x_should_retry: true                          # x-should-retry on errors (absent: no header)
//   faults: {rate_limited: 0.05, "503": 0.01}     # replaces the inherited rates as a whole
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "mock/mock_config.h"

namespace sheepdog::mock {

// Decodes a whole document over `base` (absent fields keep base's values). Every problem is
// reported, one per line, "SOURCE:LINE:COL: PATH: what is wrong; expected ...". ${VAR}
// interpolation uses the process environment.
Status decode_mock_config(std::string_view text, std::string_view source_name,
                          const MockConfig& base, MockConfig* out);
// The same for a file; a file that cannot be read is an error naming it.
Status load_mock_config_file(const std::string& path, const MockConfig& base, MockConfig* out);

// POST /_mock/faults. Either {"model": NAME, PROFILE fields...}: sets that model's profile,
// starting from current.defaults; or {"default": PROFILE, "models": {...}, "keys": {...}}:
// replaces the default and every model profile (unset fields take the built-in defaults: no
// faults, no latency), and the key limits iff "keys" is given. Other settings are unchanged.
// No environment interpolation.
Status decode_fault_update(std::string_view json, const MockConfig& current, MockConfig* out);

// POST /_mock/script: ["429", "ok"] (all models) or {"outcomes": [...], "model": NAME}.
struct ScriptUpdate {
  std::optional<std::string> model;  // nullopt: the global script
  std::vector<Outcome> outcomes;
};
Status decode_script(std::string_view json, ScriptUpdate* out);

}  // namespace sheepdog::mock
