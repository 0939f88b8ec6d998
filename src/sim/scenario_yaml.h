// Scenario files: the world a strategy is run against (a Scenario) in YAML. Errors name the file
// and line and say what would be accepted, e.g.
//   my.yaml:12: unknown key 'capcity' in upstream; expected one of: name, capacity, ...
// See scenarios/example.yaml for every key with its meaning. Schema, briefly:
//   name, description, assumptions: [text], requests
//   client: {mode: open|closed, rate_per_second, concurrency, think_time_ms, deadline_ms,
//            attempt_timeout_ms}
//   upstreams: [{name, capacity, queue_limit, latency_ms: {median, p99}, error_latency_ms,
//                retry_after_ms, fault_rate, fault_mix: {server_error, overloaded,
//                rate_limited, hang}, brownouts: [{start_s, end_s, fault_rate}],
//                outages: [{start_s, end_s, mode: connect_failed|503, fail_after_ms}],
//                cost_per_attempt_usd | cost: {input_tokens, output_tokens,
//                usd_per_mtok_input, usd_per_mtok_output}, serve_abandoned}]
//   tool_calls: {fault_rate, repair_success_rate, repair_prompt_multiplier,
//                prompt_cost_fraction}   (every request offers tools; see ToolCallModel)
// A `strategies` key is refused: policies come from the gateway's config (`simulate --config`,
// sim/config_strategies.h), decoded once, by config/.
// Unset keys keep the defaults of the structs in scenario.h / strategy.h.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "sim/scenario.h"
#include "sim/strategy.h"

namespace sheepdog::sim {

struct ScenarioFile {
  Scenario scenario;
  // Filled by the caller from the gateway config (simulate --config), never by the parser.
  std::vector<Strategy> strategies;
};

// Parses and validates. `source` names the text in messages (usually the file path).
// On error `out` is unspecified.
Status parse_scenario_yaml(std::string_view text, std::string_view source, ScenarioFile* out);

// Reads `path` and parses it.
Status load_scenario_file(const std::string& path, ScenarioFile* out);

}  // namespace sheepdog::sim
