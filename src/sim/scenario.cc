// Scenario validation and the human-readable description printed by `simulate --describe`.
#include "sim/scenario.h"

#include <fmt/format.h>

#include <cmath>

namespace sheepdog::sim {
namespace {

std::string fmt_duration(Duration d) {
  const double ms = to_ms(d);
  if (ms >= 1000 && std::fmod(ms, 100) == 0) {
    return fmt::format("{:g} s", ms / 1000);
  }
  return fmt::format("{:g} ms", ms);
}

std::string fmt_window(Duration start, Duration end) {
  return fmt::format("[{:g} s, {:g} s)", to_seconds(start), to_seconds(end));
}

bool is_probability(double p) { return p >= 0 && p <= 1; }

Status check_upstream(const UpstreamModel& u, size_t index) {
  const std::string where = fmt::format("upstreams[{}] ('{}')", index, u.name);
  auto fail = [&](std::string_view what) {
    return Status::error(fmt::format("{}: {}", where, what));
  };
  if (u.name.empty()) {
    return fail("name must not be empty");
  }
  if (u.capacity < 1) {
    return fail("capacity must be >= 1");
  }
  if (u.queue_limit < 0) {
    return fail("queue_limit must be >= 0");
  }
  if (u.latency_median <= Duration::zero() || u.latency_p99 < u.latency_median) {
    return fail("latency needs 0 < median <= p99");
  }
  if (u.error_latency < Duration::zero() || u.retry_after < Duration::zero()) {
    return fail("error_latency and retry_after must be >= 0");
  }
  if (!is_probability(u.fault_rate)) {
    return fail("fault_rate must be in [0, 1]");
  }
  const FaultMix& m = u.fault_mix;
  if (m.server_error < 0 || m.overloaded < 0 || m.rate_limited < 0 || m.hang < 0) {
    return fail("fault_mix weights must be >= 0");
  }
  bool any_faults = u.fault_rate > 0;
  for (const BrownoutWindow& b : u.brownouts) {
    if (b.start < Duration::zero() || b.end <= b.start) {
      return fail("every brownout needs 0 <= start < end");
    }
    if (!is_probability(b.fault_rate)) {
      return fail("brownout fault_rate must be in [0, 1]");
    }
    any_faults = any_faults || b.fault_rate > 0;
  }
  if (any_faults && m.total() <= 0) {
    return fail("fault_mix needs a positive weight when faults are injected");
  }
  for (const OutageWindow& o : u.outages) {
    if (o.start < Duration::zero() || o.end <= o.start) {
      return fail("every outage needs 0 <= start < end");
    }
    if (o.fail_after && *o.fail_after < Duration::zero()) {
      return fail("outage fail_after must be >= 0");
    }
  }
  if (u.cost_per_attempt_usd < 0) {
    return fail("cost must be >= 0");
  }
  return Status::ok();
}

}  // namespace

std::string_view to_string(HardDownMode mode) {
  return mode == HardDownMode::kConnectFailed ? "connect_failed" : "503";
}

double token_cost_usd(double input_tokens, double output_tokens, double usd_per_mtok_input,
                      double usd_per_mtok_output) {
  return (input_tokens * usd_per_mtok_input + output_tokens * usd_per_mtok_output) / 1e6;
}

std::optional<OutageWindow> Scenario::measured_outage() const {
  if (upstreams.empty() || upstreams[0].outages.empty()) {
    return std::nullopt;
  }
  return upstreams[0].outages[0];
}

Status Scenario::validate() const {
  if (requests < 1) {
    return Status::error("requests must be >= 1");
  }
  if (client.mode == ClientMode::kOpenLoop &&
      !(client.rate_per_second > 0 && std::isfinite(client.rate_per_second))) {
    return Status::error("client.rate_per_second must be > 0 for an open-loop client");
  }
  if (client.mode == ClientMode::kClosedLoop && client.concurrency < 1) {
    return Status::error("client.concurrency must be >= 1 for a closed-loop client");
  }
  if (client.think_time < Duration::zero()) {
    return Status::error("client.think_time must be >= 0");
  }
  if (client.deadline <= Duration::zero()) {
    return Status::error("client.deadline must be > 0");
  }
  if (client.attempt_timeout && *client.attempt_timeout <= Duration::zero()) {
    return Status::error("client.attempt_timeout must be > 0");
  }
  if (upstreams.empty()) {
    return Status::error("at least one upstream is needed");
  }
  if (upstreams.size() > 64) {
    return Status::error("at most 64 upstreams are supported");
  }
  for (size_t i = 0; i < upstreams.size(); ++i) {
    if (Status s = check_upstream(upstreams[i], i); !s.is_ok()) {
      return s;
    }
  }
  if (tool_calls) {
    const ToolCallModel& t = *tool_calls;
    if (!is_probability(t.fault_rate) || !is_probability(t.repair_success_rate)) {
      return Status::error("tool_calls: fault_rate and repair_success_rate must be in [0, 1]");
    }
    if (!(t.repair_prompt_multiplier >= 1 && std::isfinite(t.repair_prompt_multiplier))) {
      return Status::error("tool_calls: repair_prompt_multiplier must be >= 1");
    }
    if (!is_probability(t.prompt_cost_fraction)) {
      return Status::error("tool_calls: prompt_cost_fraction must be in [0, 1]");
    }
  }
  return Status::ok();
}

std::string Scenario::describe() const {
  std::string out = fmt::format("Scenario: {}\n  {}\n\nRequests: {}\n", name, summary, requests);
  if (client.mode == ClientMode::kOpenLoop) {
    out += fmt::format("Clients: open loop, Poisson arrivals at {:g} requests/s\n",
                       client.rate_per_second);
  } else {
    out += fmt::format("Clients: closed loop, {} clients, mean think time {}\n", client.concurrency,
                       fmt_duration(client.think_time));
  }
  out += fmt::format("Request deadline (total timeout): {}; attempt timeout: {}\n",
                     fmt_duration(client.deadline),
                     client.attempt_timeout ? fmt_duration(*client.attempt_timeout)
                                            : std::string("the strategy's own"));
  for (size_t i = 0; i < upstreams.size(); ++i) {
    const UpstreamModel& u = upstreams[i];
    const char* role = i == 0 ? "primary" : (i == 1 ? "fallback" : "extra fallback");
    out += fmt::format("\nUpstream {} '{}' ({}):\n", i, u.name, role);
    out += fmt::format("  capacity {} concurrent, queue limit {}, beyond that 429", u.capacity,
                       u.queue_limit);
    out += u.retry_after > Duration::zero()
               ? fmt::format(" with Retry-After {}\n", fmt_duration(u.retry_after))
               : std::string(" without Retry-After\n");
    out += fmt::format("  service time lognormal, median {}, p99 {}; fast failures take {}\n",
                       fmt_duration(u.latency_median), fmt_duration(u.latency_p99),
                       fmt_duration(u.error_latency));
    const FaultMix& m = u.fault_mix;
    const double t = m.total() > 0 ? m.total() : 1;
    out += fmt::format(
        "  transient faults {:g}% of attempts: 500 {:.0f}%, 503 {:.0f}%, 429 {:.0f}%, hang "
        "{:.0f}%\n",
        u.fault_rate * 100, 100 * m.server_error / t, 100 * m.overloaded / t,
        100 * m.rate_limited / t, 100 * m.hang / t);
    for (const BrownoutWindow& b : u.brownouts) {
      out += fmt::format("  brownout {}: fault rate {:g}%\n", fmt_window(b.start, b.end),
                         b.fault_rate * 100);
    }
    for (const OutageWindow& o : u.outages) {
      out += fmt::format("  outage {}: hard down, every attempt fails with {} after {}\n",
                         fmt_window(o.start, o.end), to_string(o.mode),
                         fmt_duration(o.fail_after.value_or(u.error_latency)));
    }
    out += fmt::format("  cost ${:.6g} per served attempt; abandoned work is {}\n",
                       u.cost_per_attempt_usd, u.serve_abandoned ? "still served" : "dropped");
  }
  if (tool_calls) {
    const ToolCallModel& t = *tool_calls;
    out += fmt::format(
        "\nTool calls: every request offers tools; {:g}% of answers to a request or a resample "
        "fail validation, {:g}% of answers to a repair pass it; a repair attempt has {:g}x the "
        "prompt tokens and costs {:g}x an attempt (prompt tokens {:g}% of the cost)\n",
        t.fault_rate * 100, t.repair_success_rate * 100, t.repair_prompt_multiplier,
        t.repair_cost_factor(), t.prompt_cost_fraction * 100);
  }
  if (!assumptions.empty()) {
    out += "\nAssumptions:\n";
    for (const std::string& a : assumptions) {
      out += fmt::format("  - {}\n", a);
    }
  }
  if (std::optional<OutageWindow> o = measured_outage()) {
    out += fmt::format(
        "\nRecovery time is measured from the end of the primary's first outage ({:g} s).\n",
        to_seconds(o->end));
  }
  return out;
}

}  // namespace sheepdog::sim
