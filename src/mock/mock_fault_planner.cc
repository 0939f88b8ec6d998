#include "mock/mock_fault_planner.h"

namespace sheepdog::mock {

Outcome pick_outcome(const FaultProfile& profile, double u) {
  double cumulative = 0;
  for (size_t i = 1; i < kOutcomeCount; ++i) {
    cumulative += profile.rates[i];
    if (u < cumulative) {
      return static_cast<Outcome>(i);
    }
  }
  return Outcome::kOk;
}

FaultPlanner::FaultPlanner(MockConfig config)
    : config_(std::make_shared<const MockConfig>(std::move(config))) {}

FaultPlanner::Decision FaultPlanner::next(std::string_view model, RandomSource& random) {
  Decision decision;
  decision.model = std::string(model);
  {
    std::lock_guard lock(mutex_);
    decision.config = config_;
    const auto it = model_scripts_.find(model);
    std::deque<Outcome>* script = nullptr;
    if (it != model_scripts_.end() && !it->second.empty()) {
      script = &it->second;
    } else if (!global_script_.empty()) {
      script = &global_script_;
    }
    if (script != nullptr) {
      decision.outcome = script->front();
      decision.scripted = true;
      script->pop_front();
      return decision;
    }
  }
  decision.outcome = pick_outcome(decision.profile(), random.uniform01());
  return decision;
}

std::shared_ptr<const MockConfig> FaultPlanner::config() const {
  std::lock_guard lock(mutex_);
  return config_;
}

void FaultPlanner::set_config(MockConfig config) {
  auto replacement = std::make_shared<const MockConfig>(std::move(config));
  std::lock_guard lock(mutex_);
  config_ = std::move(replacement);
}

void FaultPlanner::set_script(const std::optional<std::string>& model,
                              std::vector<Outcome> outcomes) {
  std::deque<Outcome> queue(outcomes.begin(), outcomes.end());
  std::lock_guard lock(mutex_);
  if (model) {
    model_scripts_[*model] = std::move(queue);
  } else {
    global_script_ = std::move(queue);
  }
}

size_t FaultPlanner::script_length(const std::optional<std::string>& model) const {
  std::lock_guard lock(mutex_);
  if (!model) {
    return global_script_.size();
  }
  const auto it = model_scripts_.find(*model);
  return it == model_scripts_.end() ? 0 : it->second.size();
}

void FaultPlanner::clear_scripts() {
  std::lock_guard lock(mutex_);
  global_script_.clear();
  model_scripts_.clear();
}

}  // namespace sheepdog::mock
