#include "resilience/tool_call_policy.h"

#include <gtest/gtest.h>

namespace sheepdog {
namespace {

using Action = ToolCallState::Action;

TEST(ToolCallPolicyTest, RepairUsesItsAllowanceThenFails) {
  ToolCallPolicy policy;
  policy.mode = ToolRepairMode::kRepair;
  policy.max_retries = 2;
  ToolCallState state(policy);
  EXPECT_EQ(state.on_invalid(), Action::kRepair);
  EXPECT_EQ(state.on_invalid(), Action::kRepair);
  EXPECT_EQ(state.on_invalid(), Action::kFail);
  EXPECT_EQ(state.retries_used(), 2);
}

TEST(ToolCallPolicyTest, ResampleLikewise) {
  ToolCallPolicy policy;
  policy.mode = ToolRepairMode::kResample;
  policy.max_retries = 1;
  ToolCallState state(policy);
  EXPECT_EQ(state.on_invalid(), Action::kResample);
  EXPECT_EQ(state.on_invalid(), Action::kFail);
}

TEST(ToolCallPolicyTest, PassNeverRetries) {
  ToolCallPolicy policy;
  policy.mode = ToolRepairMode::kPass;
  ToolCallState state(policy);
  EXPECT_EQ(state.on_invalid(), Action::kPass);
  EXPECT_EQ(state.retries_used(), 0);
}

TEST(ToolCallPolicyTest, ZeroRetriesFailsAtOnce) {
  ToolCallPolicy policy;
  policy.max_retries = 0;
  ToolCallState state(policy);
  EXPECT_EQ(state.on_invalid(), Action::kFail);
}

TEST(ToolCallPolicyTest, Validation) {
  ToolCallPolicy policy;
  EXPECT_TRUE(policy.validate().is_ok());
  policy.max_retries = 11;
  EXPECT_FALSE(policy.validate().is_ok());
  policy.max_retries = -1;
  EXPECT_FALSE(policy.validate().is_ok());
  EXPECT_EQ(to_string(ToolRepairMode::kResample), "resample");
}

}  // namespace
}  // namespace sheepdog
