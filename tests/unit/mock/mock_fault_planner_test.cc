#include "mock/mock_fault_planner.h"

#include <gtest/gtest.h>

namespace sheepdog::mock {
namespace {

FaultProfile profile_with(std::initializer_list<std::pair<Outcome, double>> rates) {
  FaultProfile profile;
  for (const auto& [outcome, rate] : rates) {
    profile.rates[static_cast<size_t>(outcome)] = rate;
  }
  return profile;
}

TEST(MockFaultPlannerTest, PickLaysRatesOutInOutcomeOrder) {
  // Binary fractions, so the boundaries are exact.
  const FaultProfile profile =
      profile_with({{Outcome::kRateLimited, 0.25}, {Outcome::kServerError, 0.125}});
  EXPECT_EQ(pick_outcome(profile, 0.0), Outcome::kRateLimited);
  EXPECT_EQ(pick_outcome(profile, 0.2499), Outcome::kRateLimited);
  EXPECT_EQ(pick_outcome(profile, 0.25), Outcome::kServerError);
  EXPECT_EQ(pick_outcome(profile, 0.3749), Outcome::kServerError);
  EXPECT_EQ(pick_outcome(profile, 0.375), Outcome::kOk);
  EXPECT_EQ(pick_outcome(FaultProfile{}, 0.0), Outcome::kOk);
}

TEST(MockFaultPlannerTest, UsesTheModelsProfile) {
  MockConfig config;
  config.models["flaky"] = profile_with({{Outcome::kHang, 1.0}});
  FaultPlanner planner(config);
  FixedRandom random(0.5);
  EXPECT_EQ(planner.next("flaky", random).outcome, Outcome::kHang);
  const FaultPlanner::Decision other = planner.next("steady", random);
  EXPECT_EQ(other.outcome, Outcome::kOk);
  EXPECT_FALSE(other.scripted);
  EXPECT_EQ(&other.profile(), &other.config->defaults);
}

TEST(MockFaultPlannerTest, ScriptsRunInOrderThenRatesResume) {
  FaultPlanner planner(MockConfig{});
  planner.set_script(std::nullopt,
                     {Outcome::kRateLimited, Outcome::kRateLimited, Outcome::kServerError});
  FixedRandom random(0.5);
  std::vector<Outcome> seen;
  for (int i = 0; i < 4; ++i) {
    seen.push_back(planner.next("m", random).outcome);
  }
  EXPECT_EQ(seen, (std::vector<Outcome>{Outcome::kRateLimited, Outcome::kRateLimited,
                                        Outcome::kServerError, Outcome::kOk}));
  EXPECT_EQ(planner.script_length(std::nullopt), 0u);
}

TEST(MockFaultPlannerTest, ModelScriptComesBeforeTheGlobalOne) {
  FaultPlanner planner(MockConfig{});
  planner.set_script(std::nullopt, {Outcome::kServerError});
  planner.set_script(std::string("a"), {Outcome::kHang, Outcome::kConnectionReset});
  FixedRandom random(0.5);
  EXPECT_EQ(planner.next("a", random).outcome, Outcome::kHang);
  EXPECT_EQ(planner.next("b", random).outcome, Outcome::kServerError);  // global
  EXPECT_EQ(planner.next("a", random).outcome, Outcome::kConnectionReset);
  EXPECT_EQ(planner.next("a", random).outcome, Outcome::kOk);
  EXPECT_TRUE(planner.next("a", random).outcome == Outcome::kOk);
}

TEST(MockFaultPlannerTest, SetScriptReplacesAndResetClears) {
  FaultPlanner planner(MockConfig{});
  planner.set_script(std::nullopt, {Outcome::kHang, Outcome::kHang});
  planner.set_script(std::nullopt, {Outcome::kServerError});
  EXPECT_EQ(planner.script_length(std::nullopt), 1u);
  planner.set_script(std::string("m"), {Outcome::kHang});
  planner.clear_scripts();
  EXPECT_EQ(planner.script_length(std::nullopt), 0u);
  EXPECT_EQ(planner.script_length(std::string("m")), 0u);
}

TEST(MockFaultPlannerTest, DecisionKeepsItsConfigAcrossReplacement) {
  FaultPlanner planner(MockConfig{});
  FixedRandom random(0.5);
  const FaultPlanner::Decision before = planner.next("m", random);
  MockConfig replacement;
  replacement.defaults = profile_with({{Outcome::kServerError, 1.0}});
  planner.set_config(replacement);
  EXPECT_EQ(before.profile().rate(Outcome::kServerError), 0.0);
  EXPECT_EQ(planner.next("m", random).outcome, Outcome::kServerError);
}

}  // namespace
}  // namespace sheepdog::mock
