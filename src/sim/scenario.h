// The simulator's world: who sends requests, and how the upstream providers behave. A Scenario
// is plain data, built in code (the named built-ins) or loaded from YAML (scenario_yaml.h), and
// validated before a run. All times are virtual, measured from the start of the run.
//
// Upstream model, per attempt reaching a provider at time t:
//   1. inside an outage window [start, end): hard down, the attempt fails with connect_failed or
//      503 (the window says which) after the window's fail_after (default error_latency); no
//      capacity is used.
//   2. else with probability fault_rate (the highest brownout rate covering t, if any) a
//      transient fault, drawn from fault_mix: 500, 503 or 429 after error_latency, or a hang
//      that never answers (the attempt ends at its timeout). Faults are independent of load and
//      use no capacity (think of a failing replica or load balancer answering).
//   3. else it is served: at once if fewer than `capacity` are in service, else queued (FIFO) if
//      fewer than `queue_limit` wait, else refused at once with 429 and Retry-After.
//      Service time is lognormal (median, p99) and starts when the attempt leaves the queue, so
//      queueing delay counts against the attempt timeout. A client that timed out does not free
//      the slot: the upstream serves abandoned work unless serve_abandoned is false (then
//      abandoned attempts are dropped when they reach the head of the queue). That is what lets
//      retry storms and metastable overload appear.
//   Cost: every served attempt (one that started service) costs cost_per_attempt_usd, whether
//   or not the client still waited for it; fast failures cost nothing.
// Tool calls (only when Scenario::tool_calls is set): every answer an attempt gets back is then
// an answer to a tool-calling request, and may fail validation (ToolCallModel below); what
// happens next is the strategy's ToolCallPolicy.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"

namespace sheepdog::sim {

enum class ClientMode : unsigned char {
  kOpenLoop,    // Poisson arrivals at rate_per_second, whatever happens to earlier requests
  kClosedLoop,  // `concurrency` clients, each sending its next request when the previous ends
};

struct ClientModel {
  ClientMode mode = ClientMode::kOpenLoop;
  double rate_per_second = 50;  // open loop
  int concurrency = 50;         // closed loop
  // Closed loop: mean of an exponential pause between a client's requests (0 = none). Clients
  // start at uniform offsets within the first second so they do not move in lockstep.
  Duration think_time{};
  // The request's total deadline: becomes every strategy's RetryPolicy::total_timeout.
  Duration deadline = seconds(30);
  // If set, replaces every strategy's RetryPolicy::attempt_timeout (capped at the deadline).
  std::optional<Duration> attempt_timeout;
};

enum class HardDownMode : unsigned char { kConnectFailed, kServiceUnavailable };
std::string_view to_string(HardDownMode mode);  // "connect_failed", "503"

struct OutageWindow {
  Duration start{};
  Duration end{};
  HardDownMode mode = HardDownMode::kConnectFailed;
  // How long each failing attempt takes: a refused connection or a front door answering 503 is
  // quick, an address that black-holes connections fails only at the connect timeout. Unset:
  // the upstream's error_latency.
  std::optional<Duration> fail_after;
};

struct BrownoutWindow {
  Duration start{};
  Duration end{};
  double fault_rate = 0.5;  // replaces the base fault_rate inside [start, end)
};

// Relative weights of the transient fault kinds; normalised when drawn. All zero is invalid
// only when fault_rate or a brownout rate is > 0.
struct FaultMix {
  double server_error = 0.4;  // HTTP 500
  double overloaded = 0.4;    // HTTP 503
  double rate_limited = 0.0;  // HTTP 429 with Retry-After (injected, independent of load)
  double hang = 0.2;          // no answer until the attempt timeout
  double total() const { return server_error + overloaded + rate_limited + hang; }
};

struct UpstreamModel {
  std::string name = "primary";
  int capacity = 100;     // requests served concurrently
  int queue_limit = 100;  // waiting beyond capacity; 0 = refuse at once when full
  Duration latency_median = milliseconds(800);
  Duration latency_p99 = seconds(4);
  Duration error_latency = milliseconds(50);  // how long fast failures (429/500/503/connect) take
  Duration retry_after = seconds(1);          // sent with every 429; 0 = no header
  double fault_rate = 0.0;
  FaultMix fault_mix;
  std::vector<OutageWindow> outages;
  std::vector<BrownoutWindow> brownouts;
  double cost_per_attempt_usd = 0.0;
  bool serve_abandoned = true;
};

// USD for one served attempt from assumed token counts and per-million-token prices.
double token_cost_usd(double input_tokens, double output_tokens, double usd_per_mtok_input,
                      double usd_per_mtok_output);

// How often the model's answer to a tool-calling request fails validation (bad JSON arguments,
// an unknown tool, a schema violation: all one event here), and what a repair costs. Draws are
// independent per answer. Validation happens in the gateway after a transport success and takes
// no time; an invalid answer does not count against the upstream's breaker or the retry budget.
struct ToolCallModel {
  // P(invalid) for an answer to the original request, and to every resample of it.
  double fault_rate = 0.2;
  // P(valid) for an answer to a repair request (the faulty call and the exact validation errors
  // sent back to the model).
  double repair_success_rate = 0.9;
  // Prompt tokens of a repair request relative to the original (it carries the faulty call and
  // the errors); >= 1.
  double repair_prompt_multiplier = 1.15;
  // Share of cost_per_attempt_usd paid for prompt tokens, so that a repair attempt costs
  // cost * (1 + (repair_prompt_multiplier - 1) * prompt_cost_fraction).
  double prompt_cost_fraction = 0.5;

  double repair_cost_factor() const {
    return 1 + (repair_prompt_multiplier - 1) * prompt_cost_fraction;
  }
};

struct Scenario {
  std::string name;
  std::string summary;                   // one line, for --list
  std::vector<std::string> assumptions;  // every modelling choice, printed by --describe
  int requests = 10000;
  ClientModel client;
  // [0] is the primary; [1], if present, the fallback provider (used only by strategies with
  // fallback enabled). More entries are allowed and are tried in order.
  std::vector<UpstreamModel> upstreams;
  // Set: every request offers tools and its answers are validated (see ToolCallModel). Unset:
  // answers are never invalid, and no random draw is spent on them.
  std::optional<ToolCallModel> tool_calls;

  // The outage whose recovery time is reported: the first outage of the primary, if any.
  std::optional<OutageWindow> measured_outage() const;
  // Ok iff the numbers make sense (positive rates and capacities, windows with start < end,
  // probabilities in [0, 1], p99 >= median, ...). The message names the field.
  Status validate() const;
  // Multi-line, human-readable: every parameter and every assumption (for --describe).
  std::string describe() const;
};

// The named built-in scenarios (simulated traffic against modelled providers):
// mixed-faults-10k, outage, rate-limit-storm, flaky, no-faults, tool-calls. `aws-contention` is
// not a Scenario (see aws_contention.h) but is listed by the CLI next to these.
const std::vector<std::string>& builtin_scenario_names();
std::optional<Scenario> builtin_scenario(std::string_view name);

}  // namespace sheepdog::sim
