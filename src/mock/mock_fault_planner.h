// Decides each mock request's outcome: the next scripted outcome when a script is queued (the
// model's own script first, then the global one), otherwise one uniform draw against the fault
// rates of the model's profile. Also holds the current MockConfig, which the control endpoint
// replaces at run time.
//
// Thread-safe: one mutex guards the config pointer and the scripts, held for a few map look-ups
// per request. The random source is the caller's (one per io thread, see MockService), so
// decisions are reproducible for a seed when requests arrive in a fixed order.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/random.h"
#include "mock/mock_config.h"

namespace sheepdog::mock {

// The outcome for a uniform draw `u` in [0, 1): the fault rates laid end to end in Outcome
// order; a draw past their sum is kOk. Pure.
Outcome pick_outcome(const FaultProfile& profile, double u);

class FaultPlanner {
 public:
  explicit FaultPlanner(MockConfig config);

  struct Decision {
    Outcome outcome = Outcome::kOk;
    bool scripted = false;
    // The config in force when the decision was made; stays valid for the request even if
    // the config is replaced meanwhile. Non-null.
    std::shared_ptr<const MockConfig> config;
    const FaultProfile& profile() const { return config->profile_for(model); }
    std::string model;
  };

  // Decides the next request for `model`. Draws one uniform from `random` iff not scripted.
  Decision next(std::string_view model, RandomSource& random);

  std::shared_ptr<const MockConfig> config() const;
  void set_config(MockConfig config);

  // Replaces the queue for `model` (nullopt: the global queue) with `outcomes`.
  void set_script(const std::optional<std::string>& model, std::vector<Outcome> outcomes);
  // Outcomes still queued for `model` (nullopt: the global queue).
  size_t script_length(const std::optional<std::string>& model) const;
  void clear_scripts();

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const MockConfig> config_;                               // guarded by mutex_
  std::deque<Outcome> global_script_;                                      // guarded by mutex_
  std::map<std::string, std::deque<Outcome>, std::less<>> model_scripts_;  // guarded by mutex_
};

}  // namespace sheepdog::mock
