// Tests for scenario files: a full file loads into the expected structs, and every kind of
// mistake is reported with the right line number. (scenarios/example.yaml itself is loaded by
// tests/cli/simulate.sh, which knows where the source tree is.)
#include "sim/scenario_yaml.h"

#include <gtest/gtest.h>

namespace sheepdog::sim {
namespace {

constexpr std::string_view kGood = R"(name: tiny
description: two providers
assumptions: [made up]
requests: 300
client:
  mode: closed
  concurrency: 7
  think_time_ms: 250
  deadline_ms: 20000
  attempt_timeout_ms: 5000
upstreams:
  - name: a
    capacity: 3
    queue_limit: 0
    latency_ms: {median: 100, p99: 900}
    fault_rate: 0.25
    fault_mix: {server_error: 1, hang: 3}
    outages:
      - {start_s: 5, end_s: 7.5, mode: "503", fail_after_ms: 2000}
    brownouts:
      - {start_s: 1, end_s: 2, fault_rate: 0.9}
    cost: {input_tokens: 1000, output_tokens: 100, usd_per_mtok_input: 1, usd_per_mtok_output: 10}
  - name: b
    cost_per_attempt_usd: 0.5
)";

Status parse(std::string_view text, ScenarioFile* out) {
  return parse_scenario_yaml(text, "test.yaml", out);
}

std::string error_of(std::string_view text) {
  ScenarioFile file;
  Status s = parse(text, &file);
  EXPECT_FALSE(s.is_ok()) << text;
  return s.message();
}

TEST(ScenarioYamlTest, LoadsEveryField) {
  ScenarioFile f;
  ASSERT_TRUE(parse(kGood, &f).is_ok()) << parse(kGood, &f).message();
  const Scenario& s = f.scenario;
  EXPECT_EQ(s.name, "tiny");
  EXPECT_EQ(s.summary, "two providers");
  EXPECT_EQ(s.assumptions, std::vector<std::string>{"made up"});
  EXPECT_EQ(s.requests, 300);
  EXPECT_EQ(s.client.mode, ClientMode::kClosedLoop);
  EXPECT_EQ(s.client.concurrency, 7);
  EXPECT_EQ(s.client.think_time, milliseconds(250));
  EXPECT_EQ(s.client.deadline, seconds(20));
  EXPECT_EQ(s.client.attempt_timeout, seconds(5));
  ASSERT_EQ(s.upstreams.size(), 2u);
  const UpstreamModel& a = s.upstreams[0];
  EXPECT_EQ(a.name, "a");
  EXPECT_EQ(a.capacity, 3);
  EXPECT_EQ(a.queue_limit, 0);
  EXPECT_EQ(a.latency_median, milliseconds(100));
  EXPECT_EQ(a.latency_p99, milliseconds(900));
  EXPECT_EQ(a.fault_rate, 0.25);
  EXPECT_EQ(a.fault_mix.server_error, 1);
  EXPECT_EQ(a.fault_mix.overloaded, 0);  // a given mix replaces the default entirely
  EXPECT_EQ(a.fault_mix.hang, 3);
  ASSERT_EQ(a.outages.size(), 1u);
  EXPECT_EQ(a.outages[0].start, seconds(5));
  EXPECT_EQ(a.outages[0].end, milliseconds(7500));
  EXPECT_EQ(a.outages[0].mode, HardDownMode::kServiceUnavailable);
  EXPECT_EQ(a.outages[0].fail_after, seconds(2));
  ASSERT_EQ(a.brownouts.size(), 1u);
  EXPECT_EQ(a.brownouts[0].fault_rate, 0.9);
  EXPECT_DOUBLE_EQ(a.cost_per_attempt_usd, 0.002);
  EXPECT_EQ(s.upstreams[1].cost_per_attempt_usd, 0.5);
  EXPECT_EQ(s.upstreams[1].capacity, UpstreamModel{}.capacity);

  EXPECT_TRUE(f.strategies.empty());  // policies come from --config, never from here
}

// One decoder for policies (config/): a scenario that brings its own is refused, with the way
// to the gateway's file.
TEST(ScenarioYamlTest, PoliciesAreRefusedWithTheWayToTheGatewaysConfig) {
  EXPECT_EQ(error_of("upstreams: [{name: a}]\nstrategies:\n  s: {max_attempts: 2}\n"),
            "test.yaml:3: a scenario file describes only the world (client, upstreams, faults); "
            "policies come from the gateway's own config: put them under models/policies in a "
            "sheepdog.yaml and pass --config FILE");
}

TEST(ScenarioYamlTest, UnknownKeyNamesItsLineAndTheAlternatives) {
  const std::string e = error_of("requests: 5\nupstreams:\n  - name: a\n    capcity: 3\n");
  EXPECT_EQ(e.rfind("test.yaml:4: unknown key 'capcity' in upstream; expected one of: name, "
                    "capacity",
                    0),
            0u)
      << e;
}

TEST(ScenarioYamlTest, BadNumberNamesItsLine) {
  EXPECT_EQ(error_of("requests: many\nupstreams: [{name: a}]\n"),
            "test.yaml:1: 'requests' must be a number, got 'many'");
  EXPECT_EQ(error_of("upstreams:\n  - name: a\n    fault_rate: 1.5\n"),
            "test.yaml:3: 'fault_rate' must be in [0, 1], got 1.5");
  EXPECT_EQ(error_of("requests: 2.5\nupstreams: [{name: a}]\n"),
            "test.yaml:1: 'requests' must be a whole number");
}

TEST(ScenarioYamlTest, BadEnumNamesItsLine) {
  EXPECT_EQ(error_of("client:\n  mode: sideways\nupstreams: [{name: a}]\n"),
            "test.yaml:2: client mode must be 'open' or 'closed', got 'sideways'");
}

TEST(ScenarioYamlTest, SyntaxErrorNamesItsLine) {
  const std::string e = error_of("requests: 5\nclient: {mode: open\nupstreams: []\n");
  EXPECT_EQ(e.rfind("test.yaml:", 0), 0u) << e;
  EXPECT_NE(e.find(':', 10), std::string::npos);
  EXPECT_TRUE(e.starts_with("test.yaml:2:") || e.starts_with("test.yaml:3:")) << e;
}

TEST(ScenarioYamlTest, MissingUpstreamsAndCrossFieldErrors) {
  EXPECT_EQ(error_of("requests: 5\n"),
            "test.yaml:1: missing 'upstreams'; add a list with at least the primary provider");
  EXPECT_EQ(error_of("upstreams:\n  - latency_ms: {median: 500, p99: 100}\n"),
            "test.yaml:2: latency_ms: p99 must be >= median");
}

TEST(ScenarioYamlTest, EmptyFileAndMissingFile) {
  EXPECT_EQ(error_of(""), "test.yaml:1: the scenario file is empty");
  ScenarioFile f;
  EXPECT_EQ(load_scenario_file("/nonexistent/x.yaml", &f).message(),
            "cannot read scenario file '/nonexistent/x.yaml'");
}

}  // namespace
}  // namespace sheepdog::sim
