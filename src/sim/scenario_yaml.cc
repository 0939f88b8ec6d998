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
    // One decoder for policies: the gateway's (config/). A second dialect here would let a
    // simulated policy differ from the one serve runs.
    r.fail(st,
           "a scenario file describes only the world (client, upstreams, faults); policies come "
           "from the gateway's own config: put them under models/policies in a sheepdog.yaml "
           "and pass --config FILE");
    return;
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
