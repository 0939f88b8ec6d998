#include "resilience/tool_call_policy.h"

namespace sheepdog {

std::string_view to_string(ToolRepairMode mode) {
  switch (mode) {
    case ToolRepairMode::kResample:
      return "resample";
    case ToolRepairMode::kRepair:
      return "repair";
    case ToolRepairMode::kPass:
      return "pass";
  }
  return "repair";
}

Status ToolCallPolicy::validate() const {
  if (max_retries < 0 || max_retries > 10) {
    return Status::error("tool_validation.max_retries must be in [0, 10]");
  }
  return Status::ok();
}

ToolCallState::Action ToolCallState::on_invalid() {
  if (policy_.mode == ToolRepairMode::kPass) {
    return Action::kPass;
  }
  if (retries_used_ >= policy_.max_retries) {
    return Action::kFail;
  }
  ++retries_used_;
  return policy_.mode == ToolRepairMode::kRepair ? Action::kRepair : Action::kResample;
}

}  // namespace sheepdog
