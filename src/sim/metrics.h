// What the simulator measures, per run and across runs.
//
// Definitions (also in docs and --describe):
//   success rate        requests that succeeded / requests. In scenarios with tool calls, a
//                       success is a VALID answer delivered.
//   invalid passed      tool-call scenarios only: requests answered with an answer that fails
//                       validation (ToolCallPolicy pass, or no validation) / requests. Not a
//                       success: the client still holds an unusable tool call.
//   latency             end-to-end, arrival to final answer, of ALL requests: successes and
//                       failures alike (a fast failure is fast; a request that gives up at its
//                       deadline counts its full wait). Mean, p50 and p99 by nearest rank.
//   backoff             total virtual time requests spent waiting between attempts (the delays
//                       actually waited, summed over requests), in seconds.
//   attempts/request    upstream attempts / requests (load amplification); an attempt refused by
//                       an open breaker is not an attempt.
//   cost                USD of every attempt an upstream served (scenario.h).
//   breaker trips       closed->open transitions, summed over the upstreams' breakers.
//   recovery            for scenarios with an outage: the time from the end of the primary's
//                       first outage E to the first instant T >= E, stepped by 100 ms, such that
//                       the requests completing in [T, T + 1 s) number at least one and are
//                       >= 95% successful. 0 means the clients never noticed the outage ending
//                       late; "never" means no such window before the run ended.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "resilience/retry_policy.h"

namespace sheepdog::sim {

// Why a request ended without a valid answer: indices 0..8 are GiveUpReason kNone..kKeysExhausted
// (the transport's reasons); the last two only arise in scenarios with tool calls.
inline constexpr size_t kTransportGiveUpCount = 9;
inline constexpr size_t kInvalidToolCall = 9;  // ToolCallState said kFail: allowance used up
inline constexpr size_t kInvalidPassed = 10;   // delivered though invalid (pass / no validation)
inline constexpr size_t kGiveUpReasonCount = 11;
// "not_retryable", ..., "invalid_tool_call", "invalid_passed". REQUIRES: index < count.
std::string_view give_up_name(size_t index);

inline constexpr Duration kRecoveryWindow = seconds(1);
inline constexpr Duration kRecoveryStep = milliseconds(100);
inline constexpr double kRecoveryThreshold = 0.95;

// One request's life, kept for recovery time and the time-series plots.
struct RequestRecord {
  TimePoint start;
  TimePoint end;
  bool success = false;
};

struct RunMetrics {
  int requests = 0;
  int finished = 0;  // requests that ended (must equal `requests`)
  int succeeded = 0;
  long attempts = 0;
  double latency_mean_ms = 0;
  double latency_p50_ms = 0;
  double latency_p99_ms = 0;
  double backoff_total_s = 0;
  double cost_usd = 0;
  int breaker_trips = 0;
  long retries_refused = 0;  // by the retry budget
  bool has_outage = false;
  std::optional<double> recovery_s;  // has_outage only; nullopt = never within the run
  double makespan_s = 0;             // virtual time at which the last request ended
  std::array<long, kGiveUpReasonCount> give_ups{};  // failed requests by reason
  bool has_tool_calls = false;                      // the scenario validates tool calls
  long invalid_answers = 0;  // answers that failed validation (several per request possible)

  double success_rate() const { return requests > 0 ? double(succeeded) / requests : 0; }
  double invalid_passed_rate() const {
    return requests > 0 ? double(give_ups[kInvalidPassed]) / requests : 0;
  }
  double attempts_per_request() const { return requests > 0 ? double(attempts) / requests : 0; }
};

// Nearest-rank percentile, q in [0, 1]; reorders `values`. 0 for an empty vector.
double percentile(std::vector<double>& values, double q);

// Recovery time as defined above. `records` in any order.
std::optional<Duration> recovery_time(const std::vector<RequestRecord>& records,
                                      TimePoint outage_end);

// Per-bucket series for the plots: error rate of the requests completing in each bucket (NaN
// when none completed) and requests in flight at each bucket's start.
struct TimeSeries {
  Duration bucket{};
  std::vector<double> error_rate;
  std::vector<double> in_flight;
};
TimeSeries time_series(const std::vector<RequestRecord>& records, Duration bucket);

// The metrics reported per strategy, in table order.
enum class Metric : unsigned char {
  kSuccessRate,
  kLatencyMean,
  kLatencyP50,
  kLatencyP99,
  kBackoff,
  kAttemptsPerRequest,
  kCost,
  kBreakerTrips,
  kRecovery,
};
inline constexpr size_t kMetricCount = 9;

struct MetricInfo {
  Metric metric;
  std::string_view key;     // JSON / CSV name
  std::string_view header;  // Markdown column
  int decimals;             // Markdown precision
};
const std::array<MetricInfo, kMetricCount>& all_metrics();
// The value of one metric for one run; nullopt for recovery when not applicable or never.
std::optional<double> metric_value(const RunMetrics& run, Metric metric);

// Mean, sample standard deviation (0 for one value), min and max.
struct Stat {
  double mean = 0;
  double stddev = 0;
  double min = 0;
  double max = 0;
  int n = 0;
};
Stat summarize(const std::vector<double>& values);

struct StrategySummary {
  std::string strategy;
  int runs = 0;
  // nullopt: no run had a value (recovery without an outage, or never recovered).
  std::array<std::optional<Stat>, kMetricCount> stats;
  bool has_outage = false;
  int never_recovered = 0;   // runs without a recovery window (has_outage only)
  long retries_refused = 0;  // summed over runs
  std::array<double, kGiveUpReasonCount> give_ups_mean{};  // failed requests per run by reason
  // Tool-call scenarios only (kept out of all_metrics() so other reports keep their shape).
  bool has_tool_calls = false;
  std::optional<Stat> invalid_passed;  // invalid passed rate, as a fraction
  double invalid_answers_mean = 0;     // answers that failed validation, per run
};
StrategySummary summarize_runs(std::string strategy, const std::vector<RunMetrics>& runs);

}  // namespace sheepdog::sim
