// YAML -> ScenarioFile with line-precise messages. yaml-cpp throws; everything is caught here
// and turned into a Status, so callers only ever see values.
#include "sim/scenario_yaml.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

#include "sim/yaml_reader.h"

namespace sheepdog::sim {
namespace {

using Reader = YamlReader;
using Keys = YamlReader::Keys;

void read_client(Reader& r, const YAML::Node& n, ClientModel* c) {
  if (!r.map(n, "client",
             {"mode", "rate_per_second", "concurrency", "think_time_ms", "deadline_ms",
              "attempt_timeout_ms"})) {
    return;
  }
  std::string mode;
  r.text(n, "mode", &mode);
  if (mode == "open" || mode.empty()) {
    c->mode = ClientMode::kOpenLoop;
  } else if (mode == "closed") {
    c->mode = ClientMode::kClosedLoop;
  } else {
    r.fail(n["mode"], fmt::format("client mode must be 'open' or 'closed', got '{}'", mode));
  }
  r.number(n, "rate_per_second", &c->rate_per_second, 1e-9);
  r.integer(n, "concurrency", &c->concurrency, 1);
  r.millis(n, "think_time_ms", &c->think_time);
  r.millis(n, "deadline_ms", &c->deadline, 1e-3);
  Duration attempt{};
  if (n["attempt_timeout_ms"]) {
    r.millis(n, "attempt_timeout_ms", &attempt, 1e-3);
    c->attempt_timeout = attempt;
  }
}

void read_upstream(Reader& r, const YAML::Node& n, UpstreamModel* u) {
  if (!r.map(n, "upstream",
             {"name", "capacity", "queue_limit", "latency_ms", "error_latency_ms", "retry_after_ms",
              "fault_rate", "fault_mix", "brownouts", "outages", "cost_per_attempt_usd", "cost",
              "serve_abandoned"})) {
    return;
  }
  r.text(n, "name", &u->name);
  r.integer(n, "capacity", &u->capacity, 1);
  r.integer(n, "queue_limit", &u->queue_limit, 0);
  if (const YAML::Node l = n["latency_ms"]; l && r.map(l, "latency_ms", {"median", "p99"})) {
    r.millis(l, "median", &u->latency_median, 1e-3);
    r.millis(l, "p99", &u->latency_p99, 1e-3);
    if (u->latency_p99 < u->latency_median) {
      r.fail(l, "latency_ms: p99 must be >= median");
    }
  }
  r.millis(n, "error_latency_ms", &u->error_latency);
  r.millis(n, "retry_after_ms", &u->retry_after);
  r.number(n, "fault_rate", &u->fault_rate, 0, 1);
  if (const YAML::Node m = n["fault_mix"];
      m && r.map(m, "fault_mix", {"server_error", "overloaded", "rate_limited", "hang"})) {
    FaultMix mix{0, 0, 0, 0};
    r.number(m, "server_error", &mix.server_error, 0);
    r.number(m, "overloaded", &mix.overloaded, 0);
    r.number(m, "rate_limited", &mix.rate_limited, 0);
    r.number(m, "hang", &mix.hang, 0);
    u->fault_mix = mix;
  }
  r.sequence(n, "brownouts", [&](const YAML::Node& b) {
    BrownoutWindow w;
    if (r.map(b, "brownout", {"start_s", "end_s", "fault_rate"})) {
      r.secs(b, "start_s", &w.start);
      r.secs(b, "end_s", &w.end);
      r.number(b, "fault_rate", &w.fault_rate, 0, 1);
      if (w.end <= w.start) {
        r.fail(b, "brownout needs start_s < end_s");
      }
      u->brownouts.push_back(w);
    }
  });
  r.sequence(n, "outages", [&](const YAML::Node& o) {
    OutageWindow w;
    if (r.map(o, "outage", {"start_s", "end_s", "mode", "fail_after_ms"})) {
      r.secs(o, "start_s", &w.start);
      r.secs(o, "end_s", &w.end);
      if (o["fail_after_ms"]) {
        Duration d{};
        r.millis(o, "fail_after_ms", &d);
        w.fail_after = d;
      }
      std::string mode = "connect_failed";
      r.text(o, "mode", &mode);
      if (mode == "503") {
        w.mode = HardDownMode::kServiceUnavailable;
      } else if (mode != "connect_failed") {
        r.fail(o["mode"], fmt::format("outage mode must be connect_failed or 503, got '{}'", mode));
      }
      if (w.end <= w.start) {
        r.fail(o, "outage needs start_s < end_s");
      }
      u->outages.push_back(w);
    }
  });
  r.number(n, "cost_per_attempt_usd", &u->cost_per_attempt_usd, 0);
  if (const YAML::Node c = n["cost"];
      c && r.map(c, "cost",
                 {"input_tokens", "output_tokens", "usd_per_mtok_input", "usd_per_mtok_output"})) {
    double in = 0, out = 0, price_in = 0, price_out = 0;
    r.number(c, "input_tokens", &in, 0);
    r.number(c, "output_tokens", &out, 0);
    r.number(c, "usd_per_mtok_input", &price_in, 0);
    r.number(c, "usd_per_mtok_output", &price_out, 0);
    u->cost_per_attempt_usd = token_cost_usd(in, out, price_in, price_out);
  }
  r.boolean(n, "serve_abandoned", &u->serve_abandoned);
}

void read_backoff(Reader& r, const YAML::Node& n, BackoffPolicy* b) {
  if (!r.map(
          n, "backoff",
          {"kind", "base_delay_ms", "max_delay_ms", "multiplier", "jitter", "jitter_fraction"})) {
    return;
  }
  std::string name;
  r.text(n, "kind", &name);
  if (!name.empty()) {
    if (std::optional<BackoffKind> k = parse_backoff_kind(name)) {
      b->kind = *k;
    } else {
      r.fail(n["kind"], fmt::format("unknown backoff kind '{}'; expected constant, linear, "
                                    "exponential, fibonacci or decorrelated_jitter",
                                    name));
    }
  }
  name.clear();
  r.text(n, "jitter", &name);
  if (!name.empty()) {
    if (std::optional<JitterMode> j = parse_jitter_mode(name)) {
      b->jitter = *j;
    } else {
      r.fail(n["jitter"], fmt::format("unknown jitter '{}'; expected none, full, equal or "
                                      "proportional",
                                      name));
    }
  }
  r.millis(n, "base_delay_ms", &b->base_delay, 1e-3);
  r.millis(n, "max_delay_ms", &b->max_delay, 1e-3);
  r.number(n, "multiplier", &b->multiplier, 1);
  r.number(n, "jitter_fraction", &b->jitter_fraction, 0, 1);
}

void read_breaker(Reader& r, const YAML::Node& n, std::optional<CircuitBreakerPolicy>* out) {
  if (n.IsScalar() && (n.Scalar() == "false" || n.Scalar() == "off")) {
    out->reset();
    return;
  }
  if (!r.map(n, "breaker",
             {"consecutive_failures", "failure_rate_threshold", "window_size", "minimum_calls",
              "open_duration_ms", "open_duration_multiplier", "max_open_duration_ms",
              "half_open_max_probes", "half_open_successes"})) {
    return;
  }
  CircuitBreakerPolicy p = out->value_or(CircuitBreakerPolicy{});
  r.integer(n, "consecutive_failures", &p.consecutive_failures);
  r.number(n, "failure_rate_threshold", &p.failure_rate_threshold, 0, 1);
  r.integer(n, "window_size", &p.window_size, 1);
  r.integer(n, "minimum_calls", &p.minimum_calls, 1);
  r.millis(n, "open_duration_ms", &p.open_duration, 1e-3);
  r.number(n, "open_duration_multiplier", &p.open_duration_multiplier, 1);
  r.millis(n, "max_open_duration_ms", &p.max_open_duration, 1e-3);
  r.integer(n, "half_open_max_probes", &p.half_open_max_probes, 1);
  r.integer(n, "half_open_successes", &p.half_open_successes, 1);
  *out = p;
}

void read_budget(Reader& r, const YAML::Node& n, std::optional<RetryBudgetPolicy>* out) {
  if (n.IsScalar() && (n.Scalar() == "false" || n.Scalar() == "off")) {
    out->reset();
    return;
  }
  if (!r.map(n, "budget",
             {"max_tokens", "token_ratio", "concurrency_cap", "budget_percent",
              "min_retry_concurrency"})) {
    return;
  }
  RetryBudgetPolicy p = out->value_or(RetryBudgetPolicy{});
  r.number(n, "max_tokens", &p.max_tokens, 1e-9);
  r.number(n, "token_ratio", &p.token_ratio, 1e-9);
  r.boolean(n, "concurrency_cap", &p.concurrency_cap_enabled);
  r.number(n, "budget_percent", &p.budget_percent, 1e-9, 100);
  r.integer(n, "min_retry_concurrency", &p.min_retry_concurrency, 0);
  *out = p;
}

void read_tool_model(Reader& r, const YAML::Node& n, std::optional<ToolCallModel>* out) {
  if (!r.map(n, "tool_calls",
             {"fault_rate", "repair_success_rate", "repair_prompt_multiplier",
              "prompt_cost_fraction"})) {
    return;
  }
  ToolCallModel t;
  r.number(n, "fault_rate", &t.fault_rate, 0, 1);
  r.number(n, "repair_success_rate", &t.repair_success_rate, 0, 1);
  r.number(n, "repair_prompt_multiplier", &t.repair_prompt_multiplier, 1);
  r.number(n, "prompt_cost_fraction", &t.prompt_cost_fraction, 0, 1);
  *out = t;
}

void read_tool_policy(Reader& r, const YAML::Node& n, std::optional<ToolCallPolicy>* out) {
  if (n.IsScalar() && (n.Scalar() == "false" || n.Scalar() == "off")) {
    out->reset();
    return;
  }
  if (!r.map(n, "tool_calls", {"mode", "max_retries"})) {
    return;
  }
  ToolCallPolicy p = out->value_or(ToolCallPolicy{});
  std::string mode;
  r.text(n, "mode", &mode);
  if (mode == "resample") {
    p.mode = ToolRepairMode::kResample;
  } else if (mode == "repair") {
    p.mode = ToolRepairMode::kRepair;
  } else if (mode == "pass") {
    p.mode = ToolRepairMode::kPass;
  } else if (!mode.empty()) {
    r.fail(n["mode"],
           fmt::format("tool_calls mode must be resample, repair or pass, got '{}'", mode));
  }
  r.integer(n, "max_retries", &p.max_retries, 0, 10);
  *out = p;
}

void read_strategy(Reader& r, const std::string& name, const YAML::Node& n, Strategy* s) {
  if (!r.map(n, "strategy",
             {"like", "summary", "max_attempts", "attempt_timeout_ms", "honor_pushback",
              "max_pushback_ms", "prefer_other_deployment", "fallback", "backoff", "breaker",
              "budget", "tool_calls"})) {
    return;
  }
  std::string like = "exponential-jitter";
  r.text(n, "like", &like);
  std::optional<Strategy> base = builtin_strategy(like);
  if (!base) {
    r.fail(n["like"], fmt::format("unknown built-in strategy '{}' in 'like'", like));
    return;
  }
  *s = *base;
  s->name = name;
  s->summary = "custom, like " + like;
  r.text(n, "summary", &s->summary);
  r.integer(n, "max_attempts", &s->retry.max_attempts, 1);
  r.millis(n, "attempt_timeout_ms", &s->retry.attempt_timeout, 1e-3);
  r.boolean(n, "honor_pushback", &s->retry.honor_pushback);
  r.millis(n, "max_pushback_ms", &s->retry.max_pushback);
  r.boolean(n, "prefer_other_deployment", &s->retry.prefer_other_deployment);
  r.boolean(n, "fallback", &s->fallback);
  if (const YAML::Node b = n["backoff"]) {
    read_backoff(r, b, &s->retry.backoff);
  }
  if (const YAML::Node b = n["breaker"]) {
    read_breaker(r, b, &s->breaker);
  }
  if (const YAML::Node b = n["budget"]) {
    read_budget(r, b, &s->budget);
  }
  if (const YAML::Node t = n["tool_calls"]) {
    read_tool_policy(r, t, &s->tool_calls);
  }
}

void read_file(Reader& r, const YAML::Node& root, ScenarioFile* out) {
  if (!r.map(root, "the scenario file",
             {"name", "description", "assumptions", "requests", "client", "upstreams", "tool_calls",
              "strategies"})) {
    return;
  }
  Scenario& s = out->scenario;
  s.name = "custom";
  r.text(root, "name", &s.name);
  r.text(root, "description", &s.summary);
  r.sequence(root, "assumptions", [&](const YAML::Node& a) {
    if (!a.IsScalar()) {
      r.fail(a, "each assumption must be a line of text");
      return;
    }
    s.assumptions.push_back(a.Scalar());
  });
  r.integer(root, "requests", &s.requests, 1);
  if (const YAML::Node c = root["client"]) {
    read_client(r, c, &s.client);
  }
  if (const YAML::Node t = root["tool_calls"]) {
    read_tool_model(r, t, &s.tool_calls);
  }
  if (!root["upstreams"]) {
    r.fail(root, "missing 'upstreams'; add a list with at least the primary provider");
    return;
  }
  r.sequence(root, "upstreams", [&](const YAML::Node& u) {
    UpstreamModel model;
    model.name = s.upstreams.empty() ? "primary" : fmt::format("upstream{}", s.upstreams.size());
    read_upstream(r, u, &model);
    s.upstreams.push_back(model);
  });
  if (const YAML::Node st = root["strategies"]) {
    if (!st.IsMap()) {
      r.fail(st, "'strategies' must map names to strategy settings");
      return;
    }
    for (auto it = st.begin(); it != st.end() && !r.failed(); ++it) {
      Strategy strategy;
      read_strategy(r, it->first.Scalar(), it->second, &strategy);
      if (Status v = strategy.validate(); !r.failed() && !v.is_ok()) {
        r.fail(it->first, v.message());
      }
      out->strategies.push_back(std::move(strategy));
    }
  }
  if (!r.failed()) {
    if (Status v = s.validate(); !v.is_ok()) {
      r.fail(root, v.message());
    }
  }
}

}  // namespace

Status parse_scenario_yaml(std::string_view text, std::string_view source, ScenarioFile* out) {
  Reader reader(source);
  try {
    const YAML::Node root = YAML::Load(std::string(text));
    if (!root || root.IsNull()) {
      return Status::error(fmt::format("{}:1: the scenario file is empty", source));
    }
    read_file(reader, root, out);
  } catch (const YAML::Exception& e) {
    reader.fail_line(e.mark.line >= 0 ? e.mark.line + 1 : 1, e.msg);
  }
  return reader.status();
}

Status load_scenario_file(const std::string& path, ScenarioFile* out) {
  std::ifstream in(path);
  if (!in) {
    return Status::error(fmt::format("cannot read scenario file '{}'", path));
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_scenario_yaml(buffer.str(), path, out);
}

}  // namespace sheepdog::sim
