#include "gateway/answer_check.h"

#include <algorithm>
#include <vector>

#include "llm/repair_prompt.h"

namespace sheepdog::gateway {

bool AnswerCheck::applies(const ToolCallPolicy& policy) {
  if (!policy.enabled) {
    return false;
  }
  if (!looked_up_) {
    looked_up_ = true;
    validator_ = validators_.get(request_);
  }
  return validator_ != nullptr;
}

bool AnswerCheck::holds_everything() const { return validator_->checks_content(); }

AnswerCheck::Verdict AnswerCheck::check(const boost::json::object& completion,
                                        const ToolCallPolicy& policy, bool can_retry,
                                        providers::EncodeInput& input) {
  llm::ValidationReport report = validator_->validate(completion);
  if (report.ok) {
    header_ = state_ && state_->retries_used() > 0 ? "repaired" : "valid";
    metrics_.validation_results.with({model_, header_}).inc();
    return Verdict::kAccept;
  }
  // One count per reason per answer: a call with five schema errors is one bad answer.
  const std::string_view kind = llm::to_string(report.kind);
  std::vector<llm::ValidationReason> counted;
  for (const llm::ValidationIssue& issue : report.issues) {
    if (std::find(counted.begin(), counted.end(), issue.reason) == counted.end()) {
      counted.push_back(issue.reason);
      metrics_.validation_failures.with({model_, kind, llm::to_string(issue.reason)}).inc();
    }
  }
  if (!state_) {
    state_ = std::make_unique<ToolCallState>(policy);
  }
  ToolCallState::Action action = ToolCallState::Action::kFail;
  if (can_retry) {
    action = state_->on_invalid();
  } else if (policy.mode == ToolRepairMode::kPass) {
    action = ToolCallState::Action::kPass;
  }
  header_ = "failed";
  switch (action) {
    case ToolCallState::Action::kPass:
      metrics_.validation_results.with({model_, "passed_invalid"}).inc();
      invalid_ = std::move(report);
      return Verdict::kAccept;
    case ToolCallState::Action::kFail:
      metrics_.validation_results.with({model_, "failed"}).inc();
      invalid_ = std::move(report);
      return Verdict::kFail;
    case ToolCallState::Action::kResample:
      metrics_.validation_retries.with({model_, "resample"}).inc();
      input.body = &request_;
      break;
    case ToolCallState::Action::kRepair: {
      metrics_.validation_retries.with({model_, "repair"}).inc();
      const boost::json::object* message =
          llm::choice_message(completion, report.first_failing_choice());
      if (message != nullptr) {
        // From the original request each time, so only the latest round is in the context.
        repair_body_ = llm::repair_request(request_, *message, report);
        input.body = &repair_body_;
      } else {
        input.body = &request_;
      }
      break;
    }
  }
  header_.clear();
  invalid_ = std::move(report);
  return Verdict::kRetry;
}

std::string AnswerCheck::log_detail() const {
  // The reasons only: the issues' messages quote the model's output, which logs never hold.
  std::string detail = "answer failed validation:";
  for (const llm::ValidationIssue& issue : invalid_.issues) {
    detail += ' ';
    detail += llm::to_string(issue.reason);
  }
  return detail;
}

std::string AnswerCheck::error_message(std::string_view deployment) const {
  const int answers = state_ ? state_->retries_used() + 1 : 1;
  std::string message = invalid_.kind == llm::ValidationKind::kToolCall
                            ? "The model's tool call"
                            : "The model's structured output";
  message += " failed validation ";
  message += answers == 1 ? "once" : "on all " + std::to_string(answers) + " answers";
  message += " (deployment '";
  message += deployment;
  message += "'). Last errors:\n";
  message += invalid_.summary();
  return message;
}

}  // namespace sheepdog::gateway
